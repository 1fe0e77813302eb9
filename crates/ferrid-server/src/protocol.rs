//! Protocol endpoints: token, JWKS and discovery, track-level and app-scoped. Thin
//! adapters over `ferrid_core::endpoint`; the paths are `ferrid_core::routes`.

use axum::{
    extract::{FromRequestParts, Path, Request, State},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use axum::extract::ConnectInfo;

use crate::connections::Peer;
use ferrid_core::endpoint::{
    self, app_name, discovery,
    jwks::document as jwks_document,
    token::{TokenContext, TokenHttpRequest},
};
use ferrid_oauth::OAuthError;

use crate::{AppState, metrics::Grant};

/// Largest token request body accepted (a client assertion fits easily).
const TOKEN_BODY_LIMIT: usize = 256 * 1024;

/// Protocol responses a browser script may read from any origin (docs/provider.md
/// "Browsers and CORS"): none of them rests on a cookie.
const ANY_ORIGIN: (header::HeaderName, HeaderValue) =
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));

const NO_STORE: [(header::HeaderName, HeaderValue); 5] = [
    ANY_ORIGIN,
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (header::PRAGMA, HeaderValue::from_static("no-cache")),
    (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
];

/// The RFC 6749 §5.2 error response. The error's internal cause, if any, is logged here,
/// once, and never sent.
pub fn oauth_error(e: &OAuthError) -> Response {
    if let Some(cause) = e.cause() {
        if e.status >= 500 {
            tracing::error!(error = e.error.as_str(), cause, "protocol request failed");
        } else {
            tracing::warn!(error = e.error.as_str(), cause, "protocol request refused");
        }
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, NO_STORE, e.to_json()).into_response();
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6749 §5.2 / RFC 7235 §3.1: a 401 names the scheme to authenticate with.
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ferrid\""));
    }
    resp
}

/// Path segments of a protocol route. A segment that does not percent-decode to UTF-8
/// names no tenant, track or app: the same RFC 6749 §5.2 answer as an unknown one, not
/// axum's plain-text 400.
pub struct Segments<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Segments<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Segments(v)),
            Err(_) => Err(oauth_error(&endpoint::unknown_track())),
        }
    }
}

/// The CORS preflight of the token, UserInfo, JWKS and discovery endpoints (Fetch
/// standard §3.2.2): any origin, `GET` and `POST`, the headers a client sends, no cookies.
pub async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            ANY_ORIGIN,
            (header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST")),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type, DPoP")),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400")),
        ],
    )
        .into_response()
}

/// 405 for a protocol route called with a method it does not take: RFC 6749 §5.2 JSON
/// (axum adds the `Allow` header to the fallback's answer).
pub async fn method_not_allowed() -> Response {
    oauth_error(&OAuthError::invalid_request("this endpoint does not take this method").with_status(405))
}

fn json(body: String, cache: HeaderValue) -> Response {
    (
        [
            ANY_ORIGIN,
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response()
}

/// A client-authenticated POST's body, at most [`TOKEN_BODY_LIMIT`] (read first, so that
/// an early refusal leaves the connection reusable).
async fn read_body(body: axum::body::Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, TOKEN_BODY_LIMIT)
        .await
        .map_err(|_| oauth_error(&OAuthError::invalid_request("the request body is too large").with_status(413)))
}

/// What the token, introspection and revocation endpoints read of a request.
fn http_request<'a>(state: &AppState, parts: &'a Parts, body: &'a [u8], app: Option<&'a str>) -> TokenHttpRequest<'a> {
    let headers = &parts.headers;
    let header_str = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    TokenHttpRequest {
        content_type: header_str(header::CONTENT_TYPE),
        authorization: header_str(header::AUTHORIZATION),
        body,
        app: app.map(app_name),
        source: parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|c| crate::proxies::source(c.0.0.ip(), headers, &state.trusted_proxies)),
    }
}

async fn token_inner(state: AppState, tenant: String, track: String, app: Option<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let grant = Grant::of_body(&bytes);
    let rt = match endpoint::track(state.manager.registry(), &tenant, &track) {
        Ok(rt) => rt,
        Err(e) => {
            state.metrics.token_outcome(grant, Err(e.error));
            return oauth_error(&e);
        }
    };
    let req = http_request(&state, &parts, &bytes, app.as_deref());
    let now = state.clock_now();
    let answer = ferrid_core::endpoint::token::token(
        &rt,
        req,
        TokenContext {
            replay: state.stores.replay.as_ref(),
            grants: state.stores.grants.as_ref(),
            users: state.stores.users.as_ref(),
            denied: state.manager.registry().denied(),
            throttle: &state.throttle,
            now,
            rng: state.env.rng.as_ref(),
        },
    )
    .await;
    state.metrics.token_outcome(grant, answer.as_ref().map(|_| ()).map_err(|e| e.error));
    let mut resp = match answer {
        Ok(resp) => {
            let body = serde_json::to_string(&resp).expect("token response serializes");
            (NO_STORE, body).into_response()
        }
        Err(e) => {
            if e.error == ferrid_oauth::ErrorCode::InvalidClient {
                tracing::info!(tenant = %tenant, track = %track, "client authentication failed");
            }
            oauth_error(&e)
        }
    };
    log_client(&state, &parts, &bytes, &mut resp);
    resp
}

/// With the access log on, leaves the client id the request presented (never its
/// secret or assertion) in the response for the log line.
fn log_client(state: &AppState, parts: &Parts, body: &[u8], resp: &mut Response) {
    if state.metrics.access_log().is_none() {
        return;
    }
    let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Ok(form) = ferrid_oauth::form::Form::parse(body) else { return };
    if let Some(id) =
        ferrid_core::client_auth::extract(authorization, &form).ok().and_then(|c| c.client_id().map(str::to_owned))
    {
        resp.extensions_mut().insert(crate::access_log::LoggedClient(id));
    }
}

pub async fn token(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    token_inner(state, tenant, track, None, req).await
}

pub async fn token_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    token_inner(state, tenant, track, Some(app), req).await
}

/// Which of the two RFC 7662 / RFC 7009 endpoints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenQuestion {
    Introspect,
    Revoke,
}

async fn question_inner(
    state: AppState,
    tenant: String,
    track: String,
    app: Option<String>,
    which: TokenQuestion,
    req: Request,
) -> Response {
    use ferrid_core::endpoint::introspect::{IntrospectContext, introspect, revoke};
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let rt = match endpoint::track_with_app(state.manager.registry(), &tenant, &track, app.as_deref().map(app_name)) {
        Ok(rt) => rt,
        Err(e) => return oauth_error(&e),
    };
    let req = http_request(&state, &parts, &bytes, app.as_deref());
    let ctx = IntrospectContext {
        replay: state.stores.replay.as_ref(),
        throttle: &state.throttle,
        grants: state.stores.grants.as_ref(),
        users: state.stores.users.as_ref(),
        denied: state.manager.registry().denied(),
        now: state.clock_now(),
    };
    let answer = match which {
        TokenQuestion::Introspect => introspect(&rt, req, ctx).await.map(|v| v.to_string()),
        TokenQuestion::Revoke => revoke(&rt, req, ctx).await.map(|()| String::new()),
    };
    let mut resp = match answer {
        Ok(body) => (NO_STORE, body).into_response(),
        Err(e) => oauth_error(&e),
    };
    log_client(&state, &parts, &bytes, &mut resp);
    resp
}

pub async fn introspect(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    question_inner(state, tenant, track, None, TokenQuestion::Introspect, req).await
}

pub async fn introspect_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    question_inner(state, tenant, track, Some(app), TokenQuestion::Introspect, req).await
}

pub async fn revoke(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    question_inner(state, tenant, track, None, TokenQuestion::Revoke, req).await
}

pub async fn revoke_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    question_inner(state, tenant, track, Some(app), TokenQuestion::Revoke, req).await
}

/// A JWKS or discovery document, or the error of its lookup.
fn document(state: &AppState, doc: Result<String, OAuthError>) -> Response {
    match doc {
        Ok(body) => json(body, state.documents_cache_control.clone()),
        Err(e) => oauth_error(&e),
    }
}

pub async fn jwks(State(state): State<AppState>, Segments((tenant, track)): Segments<(String, String)>) -> Response {
    document(&state, jwks_document(state.manager.registry(), &tenant, &track))
}

pub async fn discovery(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
) -> Response {
    document(&state, discovery::document(state.manager.registry(), &tenant, &track, None))
}

pub async fn discovery_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
) -> Response {
    document(&state, discovery::document(state.manager.registry(), &tenant, &track, Some(&app)))
}
