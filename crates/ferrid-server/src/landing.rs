//! `/`: where to go from here (docs/operations.md "The landing page"): the master
//! track's discovery document, the console and the management API's documentation.
//! JSON, or a small page when the client prefers `text/html` (RFC 9110 §12.5.1).

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ferrid_core::manage::MASTER;
use serde::Serialize;

use crate::{AppState, pages};

/// The links the landing page gives.
#[derive(Serialize)]
struct Links {
    name: &'static str,
    version: &'static str,
    issuer: String,
    discovery: String,
    console: String,
    api_docs: String,
    openapi: String,
}

pub async fn landing(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let urls = state.manager.registry().urls();
    let base = urls.base();
    let links = Links {
        name: "ferrid",
        version: env!("CARGO_PKG_VERSION"),
        issuer: urls.issuer(MASTER, MASTER),
        discovery: urls.discovery_endpoint(MASTER, MASTER),
        console: format!("{base}/console/"),
        api_docs: format!("{base}/api/v1/docs"),
        openapi: format!("{base}/api/v1/openapi.json"),
    };
    let mut resp = if prefers_html(&headers) { html(&links) } else { axum::Json(&links).into_response() };
    resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

fn html(l: &Links) -> Response {
    let link = |href: &str, text: &str| format!("<li><a href=\"{}\">{text}</a></li>", pages::escape(href));
    let body = format!(
        "<h1>ferrid {}</h1><p>An OAuth 2.0 and OpenID Connect server. The master track's issuer is <code>{}</code>.</p><ul>{}{}{}{}</ul>",
        pages::escape(l.version),
        pages::escape(&l.issuer),
        link(&l.discovery, "OpenID Provider discovery document"),
        link(&l.console, "Console"),
        link(&l.api_docs, "Management API (Swagger UI)"),
        link(&l.openapi, "Management API (OpenAPI document)"),
    );
    pages::page(StatusCode::OK, "ferrid", &body, false, Vec::new())
}

/// Whether `Accept` ranks `text/html` (or `text/*`) above `application/json` (RFC 9110
/// §12.5.1: a missing `q` is 1; `q=0` means "not acceptable"). No `Accept`: JSON.
fn prefers_html(headers: &HeaderMap) -> bool {
    let (mut html, mut json) = (0.0f32, 0.0f32);
    for value in headers.get_all(header::ACCEPT) {
        for range in value.to_str().unwrap_or("").split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            match media.as_str() {
                "text/html" | "text/*" => html = html.max(q),
                "application/json" | "application/*" | "*/*" => json = json.max(q),
                _ => {}
            }
        }
    }
    html > 0.0 && html >= json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn browsers_get_the_page_and_programs_the_json() {
        assert!(prefers_html(&accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("text/html;q=0.5, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
    }
}
