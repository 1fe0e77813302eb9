//! The management API under `/api/v1` (DESIGN §5).

mod audit;
mod error;
mod views;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequestParts, Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{delete, get},
};
use ferrid_core::{
    manage::{Caller, ManageError, auth},
    store::PageRequest,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::AppState;
pub use error::{ApiError, ApiResult};

/// Largest management request body.
pub const BODY_LIMIT: usize = 1024 * 1024;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

pub fn routes() -> Router<AppState> {
    let t = "/api/v1/tenants";
    let router = Router::new()
        .route(t, get(list_tenants).post(create_tenant))
        .route(&format!("{t}/{{tenant}}"), get(get_tenant).delete(delete_tenant))
        .route(&format!("{t}/{{tenant}}/audit"), get(audit::list))
        .route(&format!("{t}/{{tenant}}/tracks"), get(list_tracks).post(create_track))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}"), get(get_track).patch(update_track).delete(delete_track))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/keys"), get(track_keys))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/keys/rotate"), axum::routing::post(rotate_keys))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/apps"), get(list_apps).post(create_app))
        .route(
            &format!("{t}/{{tenant}}/tracks/{{track}}/apps/{{app}}"),
            get(get_app).put(replace_app).delete(delete_app),
        )
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/apps/{{app}}/secrets"), get(list_secrets).post(add_secret))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/apps/{{app}}/secrets/{{id}}"), delete(delete_secret))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/apps/{{app}}/keys"), get(list_keys).post(add_key))
        .route(&format!("{t}/{{tenant}}/tracks/{{track}}/apps/{{app}}/keys/{{kid}}"), delete(delete_key));
    router.layer(axum::middleware::from_fn(buffer_body))
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

fn parse_json(body: &Bytes) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| ApiError(ManageError::field("body", format!("is not valid JSON ({e})"))))
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

fn created(location: String, body: Value) -> Response {
    let loc = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/api/v1"));
    (StatusCode::CREATED, [(header::LOCATION, loc)], axum::Json(body)).into_response()
}

async fn list_tenants(State(s): State<AppState>, Auth(c): Auth, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_tenants(&c, &page).await?;
    Ok(axum::Json(views::page(&items, page.limit, |t| &t.name, views::tenant)).into_response())
}

async fn create_tenant(State(s): State<AppState>, Auth(c): Auth, body: Bytes) -> ApiResult<Response> {
    let t = s.manager.create_tenant(&c, &parse_json(&body)?).await?;
    Ok(created(format!("/api/v1/tenants/{}", t.name), views::tenant(&t)))
}

async fn get_tenant(State(s): State<AppState>, Auth(c): Auth, Path(tenant): Path<String>) -> ApiResult<Response> {
    Ok(axum::Json(views::tenant(&s.manager.get_tenant(&c, &tenant).await?)).into_response())
}

async fn delete_tenant(State(s): State<AppState>, Auth(c): Auth, Path(tenant): Path<String>) -> ApiResult<StatusCode> {
    s.manager.delete_tenant(&c, &tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tracks(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_tracks(&c, &tenant, &page).await?;
    let urls = s.manager.registry().urls();
    Ok(axum::Json(views::page(&items, page.limit, |t| &t.name, |t| views::track(urls, t))).into_response())
}

async fn create_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(tenant): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let t = s.manager.create_track(&c, &tenant, &parse_json(&body)?).await?;
    Ok(created(format!("/api/v1/tenants/{tenant}/tracks/{}", t.name), views::track(s.manager.registry().urls(), &t)))
}

async fn get_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = s.manager.get_track(&c, &tenant, &track).await?;
    Ok((etag(t.version), axum::Json(views::track(s.manager.registry().urls(), &t))).into_response())
}

async fn update_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let t = s.manager.update_track(&c, &tenant, &track, &parse_json(&body)?, expected).await?;
    Ok((etag(t.version), axum::Json(views::track(s.manager.registry().urls(), &t))).into_response())
}

async fn delete_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_track(&c, &tenant, &track).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_apps(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_apps(&c, &tenant, &track, &page).await?;
    Ok(axum::Json(views::page(&items, page.limit, |a| &a.name, views::app)).into_response())
}

async fn create_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let r = s.manager.create_app(&c, &tenant, &track, &parse_json(&body)?).await?;
    let view = views::registration(s.manager.registry().urls(), &r.app, r.secret.as_ref().map(|x| x.expose_secret()));
    let mut resp = created(format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{}", r.app.name), view);
    resp.headers_mut().extend(etag(r.app.version));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn get_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let a = s.manager.get_app(&c, &tenant, &track, &app).await?;
    Ok((etag(a.version), axum::Json(views::app(&a))).into_response())
}

async fn replace_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let a = s.manager.replace_app(&c, &tenant, &track, &app, &parse_json(&body)?, expected).await?;
    Ok((etag(a.version), axum::Json(views::app(&a))).into_response())
}

async fn delete_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_app(&c, &tenant, &track, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_secrets(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let items = s.manager.list_secrets(&c, &tenant, &track, &app).await?;
    Ok(axum::Json(json!({ "items": items.iter().map(views::secret).collect::<Vec<_>>() })).into_response())
}

async fn add_secret(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let (record, shown) = s.manager.add_secret(&c, &tenant, &track, &app, &parse_json(&body)?).await?;
    let mut view = views::secret(&record);
    if let Some(secret) = &shown {
        view["secret"] = json!(secret.expose_secret());
    }
    let mut resp = created(format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{}", record.id), view);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn delete_secret(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app, id)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_secret(&c, &tenant, &track, &app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let items = s.manager.list_client_keys(&c, &tenant, &track, &app).await?;
    Ok(axum::Json(json!({ "items": items.iter().map(views::client_key).collect::<Vec<_>>() })).into_response())
}

async fn add_key(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let key = s.manager.add_client_key(&c, &tenant, &track, &app, &parse_json(&body)?).await?;
    let location = format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{}", key.key.kid);
    Ok(created(location, views::client_key(&key)))
}

async fn delete_key(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track, app, kid)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_client_key(&c, &tenant, &track, &app, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn track_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
) -> ApiResult<Response> {
    let keys = s.manager.track_keys(&c, &tenant, &track).await?;
    Ok(axum::Json(json!({ "items": keys.iter().map(views::track_key).collect::<Vec<_>>() })).into_response())
}

async fn rotate_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((tenant, track)): Path<(String, String)>,
) -> ApiResult<Response> {
    let keys = s.manager.rotate_now(&c, &tenant, &track).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({ "items": keys.iter().map(views::track_key).collect::<Vec<_>>() })))
        .into_response())
}
