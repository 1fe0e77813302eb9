//! Rendering a console page: the template, the page headers of docs/security.md
//! "Pages" with the console's own Content-Security-Policy (its stylesheet and scripts
//! from its own origin only, nothing inline), and the message pages.

use std::sync::OnceLock;

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use super::{
    Paths,
    view::{Layout, Link},
};
use crate::AppState;

/// The console's policy: no inline script or style at all, forms post to this origin.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn csp() -> HeaderValue {
    static VALUE: OnceLock<HeaderValue> = OnceLock::new();
    VALUE.get_or_init(|| HeaderValue::from_static(CSP)).clone()
}

/// A rendered page with the page headers.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = (status, html).into_response();
            crate::pages::page_headers(resp.headers_mut(), csp());
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be shown.").into_response()
        }
    }
}

/// A page that says one thing, with a link onwards.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message {
    pub l: Layout,
    pub message: String,
    pub back: Option<Link>,
}

/// A message page outside a session (no person, no logout form).
pub fn message(state: &AppState, status: StatusCode, title: &str, text: &str, back: Option<Link>) -> Response {
    let paths = Paths::new(state.manager.registry().urls().base());
    let l = Layout {
        title: title.to_owned(),
        stylesheet: paths.stylesheet(),
        crumbs: vec![Link::new("Console", paths.start())],
        ..Layout::default()
    };
    render(status, &Message { l, message: text.to_owned(), back })
}

/// The console's stylesheet.
pub async fn stylesheet() -> Response {
    let mut resp = include_str!("../../templates/console/console.css").into_response();
    let h = resp.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    h.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
