//! The management API under `/api/v1` (docs/api.md), its OpenAPI document at
//! `/api/v1/openapi.json` and a Swagger page at `/api/v1/docs`.
//!
//! # Layout
//! - `tenants`, `apps`, `users`, `audit`: the handlers, each annotated with its `#[utoipa::path]`;
//!   each extracts a [`Call`] (caller and path) and a typed [`Body`], asks the path for
//!   the caller's scope, calls the manager and returns a view.
//! - `paths`: the path parameters, which yield the caller's scope.
//! - `views`: the typed JSON views the handlers return; request bodies are
//!   `ferrid_core::manage::request`'s types.
//! - `error`: the one error shape.
//! - `openapi`: the document's frame, request schemas and error responses.
//! - `docs`: the Swagger UI page, served from vendored files.

mod apps;
mod audit;
mod docs;
mod error;
mod openapi;
mod paths;
mod tenants;
mod users;
mod views;

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use ferrid_core::{
    manage::{Caller, ManageError, ManageResult, Manager, Request, auth},
    store::PageRequest,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
pub use error::{ApiError, ApiResult, no_route};

/// Largest management request body.
pub const BODY_LIMIT: usize = 1024 * 1024;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

/// The management routes and their document, registered together: a route cannot be
/// added here without the `#[utoipa::path]` that documents it.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(tenants::list_tenants, tenants::create_tenant))
        .routes(routes!(tenants::get_tenant, tenants::delete_tenant))
        .routes(routes!(audit::list))
        .routes(routes!(tenants::list_tracks, tenants::create_track))
        .routes(routes!(tenants::get_track, tenants::update_track, tenants::delete_track))
        .routes(routes!(tenants::track_keys))
        .routes(routes!(tenants::rotate_keys))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::replace_app, apps::delete_app))
        .routes(routes!(apps::list_secrets, apps::add_secret))
        .routes(routes!(apps::delete_secret))
        .routes(routes!(apps::list_keys, apps::add_key))
        .routes(routes!(apps::delete_key))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user, users::delete_user))
        .routes(routes!(users::list_sessions, users::end_sessions))
        .routes(routes!(docs::openapi_json))
}

/// The management routes; `token_url` (the master track's token endpoint) is where the
/// document's `oauth2` scheme sends Swagger UI's Authorize.
pub fn routes(token_url: &str) -> Router<AppState> {
    let (router, mut doc) = documented().split_for_parts();
    openapi::finish(&mut doc, token_url);
    let json = Bytes::from(doc.to_json().expect("the document serializes"));
    router
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::Extension(docs::Document(json)))
        .merge(docs::routes())
        .layer(axum::middleware::from_fn(buffer_body))
}

/// Reads the whole request body before any check runs, so that a request refused
/// early (401, 404) leaves its connection clean for the next request, and an oversize
/// body is one clear 413.
async fn buffer_body(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Err(_) => ApiError(ManageError::field("body", format!("must be at most {BODY_LIMIT} bytes")))
            .into_response_with(StatusCode::PAYLOAD_TOO_LARGE),
    }
}

/// The authenticated caller, from `Authorization: Bearer <ferrid access token>`.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ManageError::Unauthenticated)?;
        let token = value
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("bearer "))
            .map(|_| value[7..].trim())
            .ok_or(ManageError::Unauthenticated)?;
        let caller = auth::authorize(state.manager.registry(), token, state.clock_now())?;
        Ok(Auth(caller))
    }
}

/// Path segments; one that does not decode (not UTF-8) names nothing that exists, so it
/// is a 404 in the API's error shape rather than axum's plain-text 400.
pub struct Segments<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Segments(v)),
            Err(_) => Err(ApiError(ManageError::NotFound("no such resource".into()))),
        }
    }
}

/// What a management handler starts from: the service, the authenticated caller
/// ([`Auth`]) and the path's segments ([`Segments`]), extracted in that order.
pub struct Call<P> {
    pub manager: Arc<Manager>,
    pub caller: Caller,
    pub path: P,
}

impl<P: DeserializeOwned + Send> FromRequestParts<AppState> for Call<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Auth(caller) = Auth::from_request_parts(parts, state).await?;
        let Segments(path) = Segments::from_request_parts(parts, state).await?;
        Ok(Call { manager: Arc::clone(&state.manager), caller, path })
    }
}

/// A request body to be read as `T`: [`Body::read`] refuses a body that is not JSON
/// (400 on `body`) and keeps `T`'s field errors for the manager, which reports them
/// once it has found the target, as the API always did (a missing track is a 404
/// whatever the body says). No body, or only whitespace, reads as `{}`.
pub struct Body<T>(Bytes, std::marker::PhantomData<T>);

impl<T> FromRequest<AppState> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(Body(bytes, std::marker::PhantomData))
    }
}

impl<T: Request> Body<T> {
    pub fn read(&self) -> ApiResult<ManageResult<T>> {
        Ok(T::from_json(&parse_json(&self.0)?))
    }
}

fn parse_json(body: &Bytes) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| ApiError(ManageError::field("body", format!("is not valid JSON ({e})"))))
}

/// `200` with the object's version as `ETag`.
fn versioned(version: i64, body: impl serde::Serialize) -> Response {
    (etag(version), axum::Json(body)).into_response()
}

fn page_request(query: &Option<String>) -> ApiResult<PageRequest> {
    let mut page = PageRequest { after: None, limit: DEFAULT_PAGE };
    for (k, v) in ferrid_oauth::form::pairs(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_str() {
            "limit" => {
                page.limit = v.parse::<u32>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
                    ApiError(ManageError::field("limit", format!("must be an integer from 1 to {MAX_PAGE}")))
                })?;
            }
            "after" => page.after = Some(v),
            _ => {}
        }
    }
    Ok(page)
}

/// `If-Match: "3"` (or `W/"3"`) → Some(3); a value that names no version can match
/// nothing, so it yields 412.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().map_err(|_| ApiError(ManageError::PreconditionFailed))?.trim();
    if s == "*" {
        return Ok(None);
    }
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .and_then(|s| s.parse().ok())
        .map(Some)
        .ok_or(ApiError(ManageError::PreconditionFailed))
}

fn etag(version: i64) -> [(header::HeaderName, HeaderValue); 1] {
    [(header::ETAG, HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header"))]
}

fn created(location: String, body: impl serde::Serialize) -> Response {
    let loc = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/api/v1"));
    (StatusCode::CREATED, [(header::LOCATION, loc)], axum::Json(body)).into_response()
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
