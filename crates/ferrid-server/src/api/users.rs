//! Users of a track and their sessions (docs/api.md "Users"). Answers never hold a
//! password or its hash.

use axum::{
    extract::RawQuery,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use ferrid_core::{
    manage::users::{NewUser, UserPatch},
    store::UserFilter,
};
use utoipa::IntoParams;

use super::{
    ApiResult, Body, Call, created, etag, if_match,
    openapi::{IfMatch, PageQuery},
    page_request,
    paths::{TrackPath, UserPath},
    versioned,
    views::{Session, SessionList, User, UserPage, next_cursor},
};

/// Filters of the user listing: prefixes of the username (exact case) and the email
/// (any case).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; `filter` reads it
pub struct UserQuery {
    /// Users whose username starts with this.
    pub username: Option<String>,
    /// Users whose email starts with this, without regard to case.
    pub email: Option<String>,
}

fn filter(query: &Option<String>) -> UserFilter {
    let mut f = UserFilter::default();
    for (k, v) in ferrid_oauth::form::pairs(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_str() {
            "username" => f.username = Some(v),
            "email" => f.email = Some(v),
            _ => {}
        }
    }
    f
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/users", tag = "users",
    params(TrackPath, PageQuery, UserQuery), security(("bearer" = [])),
    summary = "List a track's users (by id; `after` is the last id of the previous page)",
    responses((status = 200, description = "A page of users, by id", body = UserPage)))]
pub async fn list_users(call: Call<TrackPath>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = call.manager.list_users(&call.path.scope(&call.caller)?, &filter(&q), &page).await?;
    let next = next_cursor(&items, page.limit, |u| &u.id);
    Ok(axum::Json(UserPage { items: items.iter().map(User::of).collect(), next }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/users", tag = "users", params(TrackPath),
    security(("bearer" = [])), summary = "Create a user; its `id` is its `sub`",
    request_body = NewUser,
    responses((status = 201, description = "Created: the user, never its password", body = User, headers(
        ("Location" = String, description = "The new user's URL"),
        ("ETag" = String, description = "The user's version")))))]
pub async fn create_user(call: Call<TrackPath>, body: Body<NewUser>) -> ApiResult<Response> {
    let body = body.read()?;
    let u = call.manager.create_user(&call.path.scope(&call.caller)?, body).await?;
    let (tenant, track) = (&call.path.tenant, &call.path.track);
    let mut resp = created(format!("/api/v1/tenants/{tenant}/tracks/{track}/users/{}", u.id), User::of(&u));
    resp.headers_mut().extend(etag(u.version));
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}", tag = "users",
    params(UserPath), security(("bearer" = [])), summary = "Read a user",
    responses((status = 200, description = "The user", body = User,
        headers(("ETag" = String, description = "The user's version, for `If-Match`")))))]
pub async fn get_user(call: Call<UserPath>) -> ApiResult<Response> {
    let u = call.manager.get_user(&call.path.scope(&call.caller)?, &call.path.id).await?;
    Ok(versioned(u.version, User::of(&u)))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}", tag = "users",
    params(UserPath, IfMatch), security(("bearer" = [])),
    summary = "Change a user: the fields present change (a new `password` too)",
    request_body = UserPatch,
    responses((status = 200, description = "The changed user", body = User,
        headers(("ETag" = String, description = "The user's new version")))))]
pub async fn update_user(call: Call<UserPath>, headers: HeaderMap, body: Body<UserPatch>) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let body = body.read()?;
    let u = call.manager.update_user(&call.path.scope(&call.caller)?, &call.path.id, body, expected).await?;
    Ok(versioned(u.version, User::of(&u)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}", tag = "users",
    params(UserPath), security(("bearer" = [])), summary = "Delete a user; its sessions end",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_user(call: Call<UserPath>) -> ApiResult<StatusCode> {
    call.manager.delete_user(&call.path.scope(&call.caller)?, &call.path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions", tag = "users",
    params(UserPath), security(("bearer" = [])), summary = "List a user's login sessions",
    responses((status = 200, description = "The user's sessions, oldest first", body = SessionList)))]
pub async fn list_sessions(call: Call<UserPath>) -> ApiResult<Response> {
    let items = call.manager.list_user_sessions(&call.path.scope(&call.caller)?, &call.path.id).await?;
    Ok(axum::Json(SessionList { items: items.iter().map(Session::of).collect() }).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions", tag = "users",
    params(UserPath), security(("bearer" = [])), summary = "End every session of a user",
    responses((status = 204, description = "Ended")))]
pub async fn end_sessions(call: Call<UserPath>) -> ApiResult<StatusCode> {
    call.manager.end_user_sessions(&call.path.scope(&call.caller)?, &call.path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
