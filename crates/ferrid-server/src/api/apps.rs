//! App registrations, their secrets and their public keys.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use secrecy::ExposeSecret;

use super::{
    ApiResult, Auth, Segments, created, etag, if_match, no_store,
    openapi::{AppBody, AppPath, IfMatch, KeyPath, NewClientKey, PageQuery, SecretBody, SecretPath, TrackPath},
    page_request, parse_json,
    views::{App, AppPage, AppRegistration, ClientKey, ClientKeyList, NewSecret, Secret, SecretList, next_cursor},
};
use crate::AppState;

type AppSegments = Segments<(String, String, String)>;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps", tag = "apps",
    params(TrackPath, PageQuery), security(("bearer" = [])), summary = "List a track's apps",
    responses((status = 200, description = "A page of apps, by name", body = AppPage)))]
pub async fn list_apps(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let page = page_request(&q)?;
    let items = s.manager.list_apps(&c, &tenant, &track, &page).await?;
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
pub async fn create_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track)): Segments<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let r = s.manager.create_app(&c, &tenant, &track, &parse_json(&body)?).await?;
    let secret = r.secret.as_ref().map(|x| x.expose_secret());
    let view = AppRegistration::of(s.manager.registry().urls(), &r.app, secret);
    let mut resp = created(format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{}", r.app.name), view);
    resp.headers_mut().extend(etag(r.app.version));
    Ok(no_store(resp))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps", params(AppPath),
    security(("bearer" = [])), summary = "Read an app",
    responses((status = 200, description = "The app", body = App,
        headers(("ETag" = String, description = "The app's version, for `If-Match`")))))]
pub async fn get_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
) -> ApiResult<Response> {
    let a = s.manager.get_app(&c, &tenant, &track, &app).await?;
    Ok((etag(a.version), axum::Json(App::of(&a))).into_response())
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps",
    params(AppPath, IfMatch), security(("bearer" = [])),
    summary = "Replace an app's registration (its secrets and keys stay)",
    request_body = AppBody,
    responses((status = 200, description = "The replaced app", body = App,
        headers(("ETag" = String, description = "The app's new version")))))]
pub async fn replace_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let a = s.manager.replace_app(&c, &tenant, &track, &app, &parse_json(&body)?, expected).await?;
    Ok((etag(a.version), axum::Json(App::of(&a))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", tag = "apps",
    params(AppPath), security(("bearer" = [])), summary = "Delete an app with its secrets and keys",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_app(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
) -> ApiResult<StatusCode> {
    s.manager.delete_app(&c, &tenant, &track, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets", tag = "secrets",
    params(AppPath), security(("bearer" = [])), summary = "List a client's secrets (never the secrets themselves)",
    responses((status = 200, description = "The client's secrets", body = SecretList)))]
pub async fn list_secrets(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
) -> ApiResult<Response> {
    let items = s.manager.list_secrets(&c, &tenant, &track, &app).await?;
    Ok(axum::Json(SecretList { items: items.iter().map(Secret::of).collect() }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets", tag = "secrets",
    params(AppPath), security(("bearer" = [])),
    summary = "Add a secret to a client: generated (shown this once) or chosen",
    request_body(content = Option<SecretBody>, description = "No body, or `{}`, generates a secret"),
    responses((status = 201, description = "Added", body = NewSecret, headers(
        ("Location" = String, description = "The new secret's URL"),
        ("Cache-Control" = String, description = "`no-store`: the body may hold a secret")))))]
pub async fn add_secret(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
    body: Bytes,
) -> ApiResult<Response> {
    let (record, shown) = s.manager.add_secret(&c, &tenant, &track, &app, &parse_json(&body)?).await?;
    let location = format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{}", record.id);
    let view = NewSecret { record: Secret::of(&record), secret: shown.map(|x| x.expose_secret().to_owned()) };
    Ok(no_store(created(location, view)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{id}",
    tag = "secrets", params(SecretPath), security(("bearer" = [])), summary = "Remove a client's secret",
    responses((status = 204, description = "Removed")))]
pub async fn delete_secret(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app, id)): Segments<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_secret(&c, &tenant, &track, &app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys", tag = "client keys",
    params(AppPath), security(("bearer" = [])), summary = "List a client's public keys",
    responses((status = 200, description = "The client's keys", body = ClientKeyList)))]
pub async fn list_keys(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
) -> ApiResult<Response> {
    let items = s.manager.list_client_keys(&c, &tenant, &track, &app).await?;
    Ok(axum::Json(ClientKeyList { items: items.iter().map(ClientKey::of).collect() }).into_response())
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys", tag = "client keys",
    params(AppPath), security(("bearer" = [])),
    summary = "Add a public key (PEM, PFX or JWK) to a client for private_key_jwt",
    request_body = NewClientKey,
    responses((status = 201, description = "Added", body = ClientKey,
        headers(("Location" = String, description = "The new key's URL")))))]
pub async fn add_key(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app)): AppSegments,
    body: Bytes,
) -> ApiResult<Response> {
    let key = s.manager.add_client_key(&c, &tenant, &track, &app, &parse_json(&body)?).await?;
    let location = format!("/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{}", key.key.kid);
    Ok(created(location, ClientKey::of(&key)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{kid}",
    tag = "client keys", params(KeyPath), security(("bearer" = [])), summary = "Remove a client's public key",
    responses((status = 204, description = "Removed")))]
pub async fn delete_key(
    State(s): State<AppState>,
    Auth(c): Auth,
    Segments((tenant, track, app, kid)): Segments<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    s.manager.delete_client_key(&c, &tenant, &track, &app, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}
