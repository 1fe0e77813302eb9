//! Operations endpoints: `/healthz`, `/readyz`, `/metrics` (its contents are [`crate::metrics`]).

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers and the master track has a signing key.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store_ok = state.stores.health.ping().await.is_ok();
    let keys_ok = state.manager.registry().track("master", "master").is_some_and(|t| t.signing.is_some());
    if store_ok && keys_ok {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, if store_ok { "signing keys not loaded" } else { "store unreachable" })
            .into_response()
    }
}

/// `/metrics`: the Prometheus text exposition format 0.0.4 (docs/operations.md "Metrics").
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&state);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], body)
        .into_response()
}

/// `/favicon.ico`: nothing to show, said without an error (a browser asks on every page).
pub async fn favicon() -> Response {
    (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"))])
        .into_response()
}
