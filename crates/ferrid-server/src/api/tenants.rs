//! Tenants, tracks and track signing keys.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{
    ApiResult, Auth, Segments, created, etag, if_match,
    openapi::{IfMatch, NewTenant, NewTrack, PageQuery, TenantPath, TrackChanges, TrackPath},
    page_request, parse_json,
    views::{Tenant, TenantPage, Track, TrackKey, TrackKeyList, TrackPage, next_cursor},
};
use crate::AppState;

const TENANTS: &str = "/api/v1/tenants";

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(PageQuery), security(("bearer" = [])),
    summary = "List tenants (an administrator sees all, a tenant administrator its own)",
    responses((status = 200, description = "A page of tenants, by name", body = TenantPage)))]
pub async fn list_tenants(State(s): State<AppState>, Auth(c): Auth, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_tenants(&c, &page).await?;
    let next = next_cursor(&items, page.limit, |t| &t.name);
    Ok(axum::Json(TenantPage { items: items.iter().map(Tenant::of).collect(), next }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])),
    summary = "Create a tenant with its master track (administrators only)",
    request_body = NewTenant,
    responses((status = 201, description = "Created", body = Tenant,
        headers(("Location" = String, description = "The new tenant's URL")))))]
pub async fn create_tenant(State(s): State<AppState>, Auth(c): Auth, body: Bytes) -> ApiResult<Response> {
    let t = s.manager.create_tenant(&c, &parse_json(&body)?).await?;
    Ok(created(format!("{TENANTS}/{}", t.name), Tenant::of(&t)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants", params(TenantPath),
    security(("bearer" = [])), summary = "Read a tenant",
    responses((status = 200, description = "The tenant", body = Tenant)))]
pub async fn get_tenant(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments(tenant): Segments<String>,
) -> ApiResult<Response> {
    Ok(axum::Json(Tenant::of(&s.manager.get_tenant(&c, &tenant).await?)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants", params(TenantPath),
    security(("bearer" = [])), summary = "Delete a tenant and everything in it (administrators only)",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_tenant(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments(tenant): Segments<String>,
) -> ApiResult<StatusCode> {
    s.manager.delete_tenant(&c, &tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks", tag = "tracks", params(TenantPath, PageQuery),
    security(("bearer" = [])), summary = "List a tenant's tracks",
    responses((status = 200, description = "A page of tracks, by name", body = TrackPage)))]
pub async fn list_tracks(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments(tenant): Segments<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_tracks(&c, &tenant, &page).await?;
    let urls = s.manager.registry().urls();
    let next = next_cursor(&items, page.limit, |t| &t.name);
    Ok(axum::Json(TrackPage { items: items.iter().map(|t| Track::of(urls, t)).collect(), next }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks", tag = "tracks", params(TenantPath),
    security(("bearer" = [])), summary = "Create a track with a fresh signing key",
    request_body = NewTrack,
    responses((status = 201, description = "Created", body = Track,
        headers(("Location" = String, description = "The new track's URL")))))]
pub async fn create_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments(tenant): Segments<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let t = s.manager.create_track(&c, &tenant, &parse_json(&body)?).await?;
    Ok(created(format!("{TENANTS}/{tenant}/tracks/{}", t.name), Track::of(s.manager.registry().urls(), &t)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "Read a track",
    responses((status = 200, description = "The track", body = Track,
        headers(("ETag" = String, description = "The track's version, for `If-Match`")))))]
pub async fn get_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
) -> ApiResult<Response> {
    let t = s.manager.get_track(&c, &tenant, &track).await?;
    Ok((etag(t.version), axum::Json(Track::of(s.manager.registry().urls(), &t))).into_response())
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks",
    params(TrackPath, IfMatch), security(("bearer" = [])),
    summary = "Change a track's settings (not its algorithm)",
    request_body = TrackChanges,
    responses((status = 200, description = "The changed track", body = Track,
        headers(("ETag" = String, description = "The track's new version")))))]
pub async fn update_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let t = s.manager.update_track(&c, &tenant, &track, &parse_json(&body)?, expected).await?;
    Ok((etag(t.version), axum::Json(Track::of(s.manager.registry().urls(), &t))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "Delete a track and everything in it (not a master track)",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_track(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_track(&c, &tenant, &track).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/keys", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "List a track's signing keys and where each is in its life",
    responses((status = 200, description = "The track's keys", body = TrackKeyList)))]
pub async fn track_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
) -> ApiResult<Response> {
    let keys = s.manager.track_keys(&c, &tenant, &track).await?;
    Ok(axum::Json(TrackKeyList { items: keys.iter().map(TrackKey::of).collect() }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/keys/rotate", tag = "tracks",
    params(TrackPath), security(("bearer" = [])),
    summary = "Publish the next signing key now; it signs after the pre-publication window",
    responses((status = 202, description = "Rotation started; the track's keys", body = TrackKeyList)))]
pub async fn rotate_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
) -> ApiResult<Response> {
    let keys = s.manager.rotate_now(&c, &tenant, &track).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(TrackKeyList { items: keys.iter().map(TrackKey::of).collect() }))
        .into_response())
}
