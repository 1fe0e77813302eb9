//! Tenants, tracks and track signing keys.

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use ferrid_core::manage::request::{NewTenant, NewTrack, TrackChanges};

use super::{
    ApiResult, Auth, Body, Call, created, if_match,
    openapi::{IfMatch, PageQuery},
    page_request,
    paths::{TenantPath, TrackPath},
    versioned,
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
pub async fn create_tenant(State(s): State<AppState>, Auth(c): Auth, body: Body<NewTenant>) -> ApiResult<Response> {
    let body = body.read()?;
    let t = s.manager.create_tenant(&c.system()?, body).await?;
    Ok(created(format!("{TENANTS}/{}", t.name), Tenant::of(&t)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants", params(TenantPath),
    security(("bearer" = [])), summary = "Read a tenant",
    responses((status = 200, description = "The tenant", body = Tenant)))]
pub async fn get_tenant(call: Call<TenantPath>) -> ApiResult<Response> {
    Ok(axum::Json(Tenant::of(&call.manager.get_tenant(&call.path.scope(&call.caller)?).await?)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants", params(TenantPath),
    security(("bearer" = [])), summary = "Delete a tenant and everything in it (administrators only)",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_tenant(call: Call<TenantPath>) -> ApiResult<StatusCode> {
    call.manager.delete_tenant(&call.caller.system()?, &call.path.tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks", tag = "tracks", params(TenantPath, PageQuery),
    security(("bearer" = [])), summary = "List a tenant's tracks",
    responses((status = 200, description = "A page of tracks, by name", body = TrackPage)))]
pub async fn list_tracks(call: Call<TenantPath>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = call.manager.list_tracks(&call.path.scope(&call.caller)?, &page).await?;
    let urls = call.manager.registry().urls();
    let next = next_cursor(&items, page.limit, |t| &t.name);
    Ok(axum::Json(TrackPage { items: items.iter().map(|t| Track::of(urls, t)).collect(), next }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks", tag = "tracks", params(TenantPath),
    security(("bearer" = [])), summary = "Create a track with a fresh signing key",
    request_body = NewTrack,
    responses((status = 201, description = "Created", body = Track,
        headers(("Location" = String, description = "The new track's URL")))))]
pub async fn create_track(call: Call<TenantPath>, body: Body<NewTrack>) -> ApiResult<Response> {
    let body = body.read()?;
    let t = call.manager.create_track(&call.path.scope(&call.caller)?, body).await?;
    let location = format!("{TENANTS}/{}/tracks/{}", call.path.tenant, t.name);
    Ok(created(location, Track::of(call.manager.registry().urls(), &t)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "Read a track",
    responses((status = 200, description = "The track", body = Track,
        headers(("ETag" = String, description = "The track's version, for `If-Match`")))))]
pub async fn get_track(call: Call<TrackPath>) -> ApiResult<Response> {
    let t = call.manager.get_track(&call.path.scope(&call.caller)?).await?;
    Ok(versioned(t.version, Track::of(call.manager.registry().urls(), &t)))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks",
    params(TrackPath, IfMatch), security(("bearer" = [])),
    summary = "Change a track's settings (not its algorithm)",
    request_body = TrackChanges,
    responses((status = 200, description = "The changed track", body = Track,
        headers(("ETag" = String, description = "The track's new version")))))]
pub async fn update_track(call: Call<TrackPath>, headers: HeaderMap, body: Body<TrackChanges>) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let body = body.read()?;
    let t = call.manager.update_track(&call.path.scope(&call.caller)?, body, expected).await?;
    Ok(versioned(t.version, Track::of(call.manager.registry().urls(), &t)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "Delete a track and everything in it (not a master track)",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_track(call: Call<TrackPath>) -> ApiResult<StatusCode> {
    call.manager.delete_track(&call.path.scope(&call.caller)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/keys", tag = "tracks", params(TrackPath),
    security(("bearer" = [])), summary = "List a track's signing keys and where each is in its life",
    responses((status = 200, description = "The track's keys", body = TrackKeyList)))]
pub async fn track_keys(call: Call<TrackPath>) -> ApiResult<Response> {
    let keys = call.manager.track_keys(&call.path.scope(&call.caller)?).await?;
    Ok(axum::Json(key_list(&keys)).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/keys/rotate", tag = "tracks",
    params(TrackPath), security(("bearer" = [])),
    summary = "Publish the next signing key now; it signs after the pre-publication window",
    responses((status = 202, description = "Rotation started; the track's keys", body = TrackKeyList)))]
pub async fn rotate_keys(call: Call<TrackPath>) -> ApiResult<Response> {
    let keys = call.manager.rotate_now(&call.path.scope(&call.caller)?).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(key_list(&keys))).into_response())
}

fn key_list(keys: &[ferrid_core::keys::rotation::KeyLife]) -> TrackKeyList {
    TrackKeyList { items: keys.iter().map(TrackKey::of).collect() }
}
