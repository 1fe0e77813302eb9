//! The OpenAPI document (`/api/v1/openapi.json`) and a Swagger UI page
//! (`/api/v1/docs`) that works offline: Swagger UI's files are vendored under
//! `assets/swagger-ui/` and served from the binary, and the page runs no inline script.

use axum::{
    Extension, Router,
    body::Bytes,
    http::{HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

/// The serialized document, built once with the router.
#[derive(Clone)]
pub struct Document(pub Bytes);

const PAGE: &str = include_str!("../../assets/docs/index.html");
const INIT_JS: &str = include_str!("../../assets/docs/init.js");
const BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Scripts and styles from this origin only, no inline script, no framing, no
/// referrer; `data:` images are Swagger UI's icons.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json",
        body = Object)))]
pub async fn openapi_json(Extension(Document(json)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response()
}

fn asset(content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
    ];
    (headers, body.into()).into_response()
}

/// The page and its files, with headers that keep the page to itself.
pub fn routes() -> Router<AppState> {
    let headers: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    let mut router = Router::new()
        .route("/api/v1/docs", get(|| async { asset("text/html; charset=utf-8", PAGE) }))
        .route("/api/v1/docs/init.js", get(|| async { asset("text/javascript; charset=utf-8", INIT_JS) }))
        .route(
            "/api/v1/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", BUNDLE_JS) }),
        )
        .route("/api/v1/docs/swagger-ui.css", get(|| async { asset("text/css; charset=utf-8", CSS) }));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)));
    }
    router
}
