//! App registrations, their secrets and their public keys.

use axum::{
    extract::RawQuery,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use ferrid_core::manage::request::{AppBody, NewClientKey, SecretBody};
use secrecy::ExposeSecret;

use super::{
    ApiResult, Body, Call, created, etag, if_match, no_store,
    openapi::{IfMatch, PageQuery},
    page_request,
    paths::{AppPath, KeyPath, SecretPath, TrackPath},
    versioned,
    views::{App, AppPage, AppRegistration, ClientKey, ClientKeyList, NewSecret, Secret, SecretList, next_cursor},
};

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps", tag = "apps",
    params(TrackPath, PageQuery), security(("bearer" = [])), summary = "List a track's apps",
    responses((status = 200, description = "A page of apps, by name", body = AppPage)))]
pub async fn list_apps(call: Call<TrackPath>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = call.manager.list_apps(&call.path.scope(&call.caller)?, &page).await?;
    let next = next_cursor(&items, page.limit, |a| &a.name);
    Ok(axum::Json(AppPage { items: items.iter().map(App::of).collect(), next }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps", tag = "apps", params(TrackPath),
    security(("bearer" = [])),
    summary = "Register an app; a client that authenticates with a secret gets one, shown this once",
    request_body = AppBody,
    responses((status = 201, description = "Registered: the app and what a developer needs next",
        body = AppRegistration, headers(
            ("Location" = String, description = "The new app's URL"),
            ("ETag" = String, description = "The app's version"),
            ("Cache-Control" = String, description = "`no-store`: the body may hold a secret")))))]
pub async fn create_app(call: Call<TrackPath>, body: Body<AppBody>) -> ApiResult<Response> {
    let body = body.read()?;
    let r = call.manager.create_app(&call.path.scope(&call.caller)?, body).await?;
    let secret = r.secret.as_ref().map(|x| x.expose_secret());
    let view = AppRegistration::of(call.manager.registry().urls(), &r.app, secret);
    let (tenant, track) = (&call.path.tenant, &call.path.track);
    let mut resp = created(format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{}", r.app.name), view);
    resp.headers_mut().extend(etag(r.app.version));
    Ok(no_store(resp))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps", params(AppPath),
    security(("bearer" = [])), summary = "Read an app",
    responses((status = 200, description = "The app", body = App,
        headers(("ETag" = String, description = "The app's version, for `If-Match`")))))]
pub async fn get_app(call: Call<AppPath>) -> ApiResult<Response> {
    let a = call.manager.get_app(&call.path.scope(&call.caller)?, &call.path.app).await?;
    Ok(versioned(a.version, App::of(&a)))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps",
    params(AppPath, IfMatch), security(("bearer" = [])),
    summary = "Replace an app's registration (its secrets and keys stay)",
    request_body = AppBody,
    responses((status = 200, description = "The replaced app", body = App,
        headers(("ETag" = String, description = "The app's new version")))))]
pub async fn replace_app(call: Call<AppPath>, headers: HeaderMap, body: Body<AppBody>) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let body = body.read()?;
    let a = call.manager.replace_app(&call.path.scope(&call.caller)?, &call.path.app, body, expected).await?;
    Ok(versioned(a.version, App::of(&a)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps",
    params(AppPath), security(("bearer" = [])), summary = "Delete an app with its secrets and keys",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_app(call: Call<AppPath>) -> ApiResult<StatusCode> {
    call.manager.delete_app(&call.path.scope(&call.caller)?, &call.path.app).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets", tag = "secrets",
    params(AppPath), security(("bearer" = [])), summary = "List a client's secrets (never the secrets themselves)",
    responses((status = 200, description = "The client's secrets", body = SecretList)))]
pub async fn list_secrets(call: Call<AppPath>) -> ApiResult<Response> {
    let items = call.manager.list_secrets(&call.path.scope(&call.caller)?, &call.path.app).await?;
    Ok(axum::Json(SecretList { items: items.iter().map(Secret::of).collect() }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets", tag = "secrets",
    params(AppPath), security(("bearer" = [])),
    summary = "Add a secret to a client: generated (shown this once) or chosen",
    request_body(content = Option<SecretBody>, description = "No body, or `{}`, generates a secret"),
    responses((status = 201, description = "Added", body = NewSecret, headers(
        ("Location" = String, description = "The new secret's URL"),
        ("Cache-Control" = String, description = "`no-store`: the body may hold a secret")))))]
pub async fn add_secret(call: Call<AppPath>, body: Body<SecretBody>) -> ApiResult<Response> {
    let body = body.read()?;
    let (record, shown) = call.manager.add_secret(&call.path.scope(&call.caller)?, &call.path.app, body).await?;
    let location = format!("{}/secrets/{}", app_url(&call.path), record.id);
    let view = NewSecret { record: Secret::of(&record), secret: shown.map(|x| x.expose_secret().to_owned()) };
    Ok(no_store(created(location, view)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{id}",
    tag = "secrets", params(SecretPath), security(("bearer" = [])), summary = "Remove a client's secret",
    responses((status = 204, description = "Removed")))]
pub async fn delete_secret(call: Call<SecretPath>) -> ApiResult<StatusCode> {
    let p = &call.path;
    call.manager.delete_secret(&p.scope(&call.caller)?, &p.app, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys", tag = "client keys",
    params(AppPath), security(("bearer" = [])), summary = "List a client's public keys",
    responses((status = 200, description = "The client's keys", body = ClientKeyList)))]
pub async fn list_keys(call: Call<AppPath>) -> ApiResult<Response> {
    let items = call.manager.list_client_keys(&call.path.scope(&call.caller)?, &call.path.app).await?;
    Ok(axum::Json(ClientKeyList { items: items.iter().map(ClientKey::of).collect() }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys", tag = "client keys",
    params(AppPath), security(("bearer" = [])),
    summary = "Add a public key (PEM, PFX or JWK) to a client for private_key_jwt",
    request_body = NewClientKey,
    responses((status = 201, description = "Added", body = ClientKey,
        headers(("Location" = String, description = "The new key's URL")))))]
pub async fn add_key(call: Call<AppPath>, body: Body<NewClientKey>) -> ApiResult<Response> {
    let body = body.read()?;
    let key = call.manager.add_client_key(&call.path.scope(&call.caller)?, &call.path.app, body).await?;
    let location = format!("{}/keys/{}", app_url(&call.path), key.key.kid);
    Ok(created(location, ClientKey::of(&key)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{kid}",
    tag = "client keys", params(KeyPath), security(("bearer" = [])), summary = "Remove a client's public key",
    responses((status = 204, description = "Removed")))]
pub async fn delete_key(call: Call<KeyPath>) -> ApiResult<StatusCode> {
    let p = &call.path;
    call.manager.delete_client_key(&p.scope(&call.caller)?, &p.app, &p.kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}`, as the request named it.
fn app_url(p: &AppPath) -> String {
    format!("/api/v1/tenants/{}/tracks/{}/apps/{}", p.tenant, p.track, p.app)
}
