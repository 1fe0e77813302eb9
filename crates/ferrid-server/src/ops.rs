//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::AppState;

/// A monotonically increasing counter.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The counters `/metrics` exposes, in Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    pub tokens_issued: Counter,
    pub token_errors: Counter,
}

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

pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let body = format!(
        "# HELP ferrid_tokens_issued_total Access tokens issued.\n# TYPE ferrid_tokens_issued_total counter\nferrid_tokens_issued_total {}\n\
         # HELP ferrid_token_errors_total Token requests refused.\n# TYPE ferrid_token_errors_total counter\nferrid_token_errors_total {}\n\
         # HELP ferrid_store_calls_total Calls made to the store (none per client-credentials token).\n# TYPE ferrid_store_calls_total counter\nferrid_store_calls_total {}\n\
         # HELP ferrid_tracks Tracks loaded in the snapshot.\n# TYPE ferrid_tracks gauge\nferrid_tracks {}\n\
         # HELP ferrid_auth_failure_reports_dropped_total Failed authentications not counted in the store or audit log (queue full).\n# TYPE ferrid_auth_failure_reports_dropped_total counter\nferrid_auth_failure_reports_dropped_total {}\n\
         # HELP ferrid_throttle_buckets Failed-authentication buckets held (sources and clients at sources).\n# TYPE ferrid_throttle_buckets gauge\nferrid_throttle_buckets {}\n\
         # HELP ferrid_slow_secret_checks_total Slow (PBKDF2) secret hashes computed, dummy ones included.\n# TYPE ferrid_slow_secret_checks_total counter\nferrid_slow_secret_checks_total {}\n",
        m.tokens_issued.get(),
        m.token_errors.get(),
        state.stores.health.calls(),
        state.manager.registry().track_count(),
        state.throttle.dropped_reports(),
        state.throttle.buckets(),
        state.throttle.slow().checks(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `/favicon.ico`: nothing to show, said without an error (a browser asks on every page).
pub async fn favicon() -> axum::response::Response {
    use axum::{
        http::{HeaderValue, StatusCode, header},
        response::IntoResponse,
    };
    (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"))])
        .into_response()
}
