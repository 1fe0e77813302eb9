//! The OpenID Provider's HTTP side (docs/provider.md): the authorization endpoint, the
//! login and consent forms, UserInfo. Thin over `ferrid_core::provider`: this module
//! reads requests, sets cookies and renders pages; the core decides.

// The `Err` of these helpers is the response itself, returned by the handler at once.
#![allow(clippy::result_large_err)]

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use ferrid_core::{
    endpoint::app_name,
    model::{Session, UnixTime},
    provider::{
        self, Step,
        authorize::{self, Authorization, Refusal, Reply, ResponseMode},
        device::{self, DEVICE_COOKIE},
        login::{self, LoginFailure},
        session::{self as sessions, CSRF_COOKIE, SESSION_COOKIE},
        userinfo,
    },
    runtime::TrackRuntime,
};
use ferrid_oauth::{ErrorCode, OAuthError, form::Form};

use crate::{
    AppState,
    connections::Peer,
    pages::{self, Carried},
    protocol::Segments,
};

/// Largest authorization request or page form accepted.
const FORM_LIMIT: usize = 64 * 1024;

type Extra = Vec<(HeaderName, HeaderValue)>;

/// What every provider handler reads of a request.
struct Incoming {
    method: Method,
    cookies: Option<String>,
    content_type: Option<String>,
    authorization: Option<String>,
    query: String,
    body: Vec<u8>,
    source: Option<std::net::IpAddr>,
}

async fn read(state: &AppState, req: Request) -> Result<Incoming, Response> {
    let (parts, body) = req.into_parts();
    let h = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let source = parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map(|c| crate::proxies::source(c.0.0.ip(), &parts.headers, &state.trusted_proxies));
    let body = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| pages::error(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large."))?;
    Ok(Incoming {
        method: parts.method.clone(),
        cookies: h(header::COOKIE),
        content_type: h(header::CONTENT_TYPE),
        authorization: h(header::AUTHORIZATION),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: body.to_vec(),
        source,
    })
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

impl Incoming {
    fn cookie(&self, name: &str) -> Option<&str> {
        sessions::cookie_value(self.cookies.as_deref(), name)
    }

    /// The form of a POST (`None` when the body is not a form).
    fn form_body(&self) -> Option<&[u8]> {
        is_form(self.content_type.as_deref()).then_some(self.body.as_slice())
    }
}

/// The path and `Secure` flag of a track's cookies: its issuer's path (docs/provider.md "Sessions").
fn cookie_scope(issuer: &str) -> (String, bool) {
    let secure = issuer.starts_with("https://");
    let rest = issuer.split_once("://").map_or(issuer, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]).to_owned();
    (path, secure)
}

fn cookie(issuer: &str, name: &str, value: &str, max_age: Option<i64>) -> (HeaderName, HeaderValue) {
    let (path, secure) = cookie_scope(issuer);
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    (header::SET_COOKIE, HeaderValue::from_str(&c).expect("cookie characters are base64url"))
}

/// The CSRF cookie of the request, or a new one (and the header that sets it).
fn csrf_binding(state: &AppState, rt: &TrackRuntime, inc: &Incoming, extra: &mut Extra) -> String {
    if let Some(v) = inc.cookie(CSRF_COOKIE).filter(|v| v.len() == 43) {
        return v.to_owned();
    }
    let v = ferrid_oauth::b64::encode(&state.env.rng.bytes::<32>());
    extra.push(cookie(&rt.issuer, CSRF_COOKIE, &v, None));
    v
}

fn csrf_token(state: &AppState, rt: &TrackRuntime, binding: &str) -> String {
    state.manager.registry().cipher().page_tag(format!("csrf|{}|{binding}", rt.issuer).as_bytes())
}

fn csrf_ok(state: &AppState, rt: &TrackRuntime, inc: &Incoming, token: Option<&str>) -> bool {
    match (inc.cookie(CSRF_COOKIE), token) {
        (Some(binding), Some(token)) => state
            .manager
            .registry()
            .cipher()
            .page_tag_matches(format!("csrf|{}|{binding}", rt.issuer).as_bytes(), token),
        _ => false,
    }
}

/// The response that carries a reply to the client.
fn deliver(reply: &Reply, post: bool, extra: Extra) -> Response {
    if reply.mode == ResponseMode::FormPost {
        return pages::form_post(&reply.redirect_uri, &reply.all_params(), extra);
    }
    let status = if post { StatusCode::SEE_OTHER } else { StatusCode::FOUND };
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    match HeaderValue::from_str(&reply.location()) {
        Ok(loc) => {
            h.insert(header::LOCATION, loc);
        }
        Err(_) => return pages::error(StatusCode::BAD_REQUEST, "The redirect URI cannot be used."),
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    for (k, v) in extra {
        h.append(k, v);
    }
    resp
}

fn refused(r: Refusal, post: bool, extra: Extra) -> Response {
    match r {
        Refusal::Page(message) => pages::error(StatusCode::BAD_REQUEST, &message),
        Refusal::Redirect(reply) => deliver(&reply, post, extra),
    }
}

fn track_of(state: &AppState, tenant: &str, track: &str) -> Result<std::sync::Arc<TrackRuntime>, Response> {
    state
        .manager
        .registry()
        .track(tenant, track)
        .ok_or_else(|| pages::error(StatusCode::NOT_FOUND, "There is no such tenant or track."))
}

/// Where a page's forms post, after the issuer.
fn action(rt: &TrackRuntime, suffix: &str) -> String {
    format!("{}{suffix}", rt.issuer)
}

/// What comes after a checked request with its session: the login page, the consent
/// page, or the code.
#[allow(clippy::too_many_arguments)]
async fn proceed(
    state: &AppState,
    rt: &TrackRuntime,
    a: &Authorization<'_>,
    raw: &str,
    app: Option<&str>,
    session: Option<&Session>,
    fresh: bool,
    inc: &Incoming,
    mut extra: Extra,
) -> Response {
    let now = state.clock_now();
    let grants = state.stores.grants.as_ref();
    let post = inc.method == Method::POST;
    let step = match provider::next_step(a, session, fresh, grants, rt, now).await {
        Ok(s) => s,
        Err(r) => return refused(r, post, extra),
    };
    match step {
        Step::Login => {
            let binding = csrf_binding(state, rt, inc, &mut extra);
            let csrf = csrf_token(state, rt, &binding);
            let login_action = action(rt, ferrid_core::routes::LOGIN);
            let carried = Carried { action: &login_action, csrf: &csrf, authorization: raw, app };
            pages::login(StatusCode::OK, &a.client.name, a.login_hint.as_deref(), None, &carried, extra)
        }
        Step::Consent => {
            let binding = csrf_binding(state, rt, inc, &mut extra);
            let csrf = csrf_token(state, rt, &binding);
            let consent_action = action(rt, ferrid_core::routes::CONSENT);
            let carried = Carried { action: &consent_action, csrf: &csrf, authorization: raw, app };
            pages::consent(&a.client.name, &a.scope, &carried, extra)
        }
        Step::Issue => {
            let session = session.expect("a session once no login is needed");
            let ports = provider::IssuePorts { grants, users: state.stores.users.as_ref() };
            match provider::issue(a, session, &ports, rt, now, state.env.rng.as_ref()).await {
                Ok(reply) => deliver(&reply, post, extra),
                Err(r) => refused(r, post, extra),
            }
        }
    }
}

async fn live_session(
    state: &AppState,
    rt: &TrackRuntime,
    inc: &Incoming,
    now: UnixTime,
) -> Result<Option<Session>, Response> {
    sessions::find(state.stores.sessions.as_ref(), &rt.at(), &rt.settings, inc.cookie(SESSION_COOKIE), now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "authorization request: session store unavailable");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "The service is unavailable; try again later.")
        })
}

async fn authorize_inner(
    state: AppState,
    tenant: String,
    track: String,
    app: Option<String>,
    req: Request,
) -> Response {
    let inc = match read(&state, req).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let rt = match track_of(&state, &tenant, &track) {
        Ok(rt) => rt,
        Err(r) => return r,
    };
    // OpenID Connect Core 1.0 §3.1.2.1: GET with a query, or POST with a form.
    let raw: String = if inc.method == Method::POST {
        match inc.form_body() {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => {
                return pages::error(
                    StatusCode::BAD_REQUEST,
                    "The request must be a form (application/x-www-form-urlencoded).",
                );
            }
        }
    } else {
        inc.query.clone()
    };
    let form = match Form::parse(raw.as_bytes()) {
        Ok(f) => f,
        Err(e) => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                e.description.as_deref().unwrap_or("The request is malformed."),
            );
        }
    };
    let app = app.as_deref().map(app_name);
    let a = match authorize::check(&rt, &form, app) {
        Ok(a) => a,
        Err(r) => return refused(r, inc.method == Method::POST, vec![]),
    };
    let now = state.clock_now();
    let session = match live_session(&state, &rt, &inc, now).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    proceed(&state, &rt, &a, &raw, app, session.as_ref(), false, &inc, vec![]).await
}

pub async fn authorize(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    authorize_inner(state, tenant, track, None, req).await
}

pub async fn authorize_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    authorize_inner(state, tenant, track, Some(app), req).await
}

/// A page form (login, consent): its CSRF token checked and its carried request
/// checked again from scratch.
struct PageForm {
    fields: Vec<(String, String)>,
    raw: String,
    app: Option<String>,
}

impl PageForm {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn page_form(state: &AppState, rt: &TrackRuntime, inc: &Incoming) -> Result<PageForm, Response> {
    let Some(body) = inc.form_body() else {
        return Err(pages::error(StatusCode::BAD_REQUEST, "The request must be a form."));
    };
    // Not `Form::parse`: its 4096-byte bound on a value would refuse the `authorization`
    // field, which carries the whole authorization request (every value of it up to that
    // bound, checked again by `authorize::check`); the body limit bounds the page form.
    let fields = ferrid_oauth::form::pairs(body);
    let mut seen = std::collections::HashSet::new();
    if !fields.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Err(pages::error(StatusCode::BAD_REQUEST, "The form is malformed."));
    }
    let get = |name: &str| fields.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str());
    if !csrf_ok(state, rt, inc, get("csrf")) {
        return Err(pages::error(
            StatusCode::BAD_REQUEST,
            "This form has expired or did not come from this site. Go back to the application and start again.",
        ));
    }
    let raw = get("authorization").unwrap_or_default().to_owned();
    let app = get("app").map(str::to_owned);
    Ok(PageForm { fields, raw, app })
}

/// A post of a page form (login, consent): the request read, its track, and the form
/// with its CSRF token checked.
async fn page_post(
    state: &AppState,
    tenant: &str,
    track: &str,
    req: Request,
) -> Result<(Incoming, std::sync::Arc<TrackRuntime>, PageForm), Response> {
    let inc = read(state, req).await?;
    let rt = track_of(state, tenant, track)?;
    let pf = page_form(state, &rt, &inc)?;
    Ok((inc, rt, pf))
}

/// The authorization request a page form carries, checked again from scratch.
fn recheck<'t>(rt: &'t TrackRuntime, pf: &PageForm) -> Result<Authorization<'t>, Response> {
    let inner = Form::parse(pf.raw.as_bytes())
        .map_err(|_| pages::error(StatusCode::BAD_REQUEST, "The request is malformed."))?;
    authorize::check(rt, &inner, pf.app.as_deref()).map_err(|r| refused(r, true, vec![]))
}

pub async fn login(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    let (inc, rt, pf) = match page_post(&state, &tenant, &track, req).await {
        Ok(parts) => parts,
        Err(r) => return r,
    };
    let a = match recheck(&rt, &pf) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let username = pf.get("username").unwrap_or_default();
    let password = pf.get("password").unwrap_or_default();
    let now = state.clock_now();
    let checked = login::check(
        &rt,
        login::LoginPorts {
            users: state.stores.users.as_ref(),
            guard: state.stores.login_guard.as_ref(),
            throttle: &state.throttle,
            cipher: state.manager.registry().cipher(),
        },
        login::LoginAttempt { login: username, password, source: inc.source, device: inc.cookie(DEVICE_COOKIE), now },
    )
    .await;
    let user = match checked {
        Ok(u) => u,
        Err(failure) => {
            let mut extra = Extra::new();
            let (status, message) = match failure {
                LoginFailure::Wrong => (StatusCode::BAD_REQUEST, "Wrong username or password.".to_owned()),
                LoginFailure::Throttled(secs) => {
                    extra.push((header::RETRY_AFTER, HeaderValue::from(secs)));
                    (StatusCode::TOO_MANY_REQUESTS, format!("Too many attempts. Try again in {secs} seconds."))
                }
                // Told before the password is checked: nothing about whether it was right.
                LoginFailure::Locked(secs) => {
                    extra.push((header::RETRY_AFTER, HeaderValue::from(secs)));
                    let minutes = secs.div_ceil(60);
                    let unit = if minutes == 1 { "minute" } else { "minutes" };
                    (StatusCode::TOO_MANY_REQUESTS, format!("Too many attempts. Try again in {minutes} {unit}."))
                }
                LoginFailure::Unavailable => {
                    (StatusCode::SERVICE_UNAVAILABLE, "The service is unavailable; try again later.".to_owned())
                }
            };
            let binding = csrf_binding(&state, &rt, &inc, &mut extra);
            let csrf = csrf_token(&state, &rt, &binding);
            let login_action = action(&rt, ferrid_core::routes::LOGIN);
            let carried =
                Carried { action: &login_action, csrf: &csrf, authorization: &pf.raw, app: pf.app.as_deref() };
            let shown = (username.len() <= 256).then_some(username);
            return pages::login(status, &a.client.name, shown, Some(&message), &carried, extra);
        }
    };
    // A new session on every login, whatever cookie came in (no session fixation); the
    // one the browser held before ends.
    if let Some(old) = inc.cookie(SESSION_COOKIE).filter(|v| v.len() <= 64) {
        let _ = state.stores.sessions.delete_session(&rt.at(), &sessions::digest_of(old)).await;
    }
    let (value, session) = sessions::start(&rt.at(), &rt.settings, &user, now, state.env.rng.as_ref());
    if let Err(e) = state.stores.sessions.create_session(&session).await {
        tracing::warn!(error = %e, "login: could not store the session");
        return pages::error(StatusCode::SERVICE_UNAVAILABLE, "The service is unavailable; try again later.");
    }
    tracing::info!(tenant = %rt.tenant, track = %rt.track, user = %user.id, "login");
    // A fresh device cookie on every login (docs/provider.md "Login"): this browser may
    // still try when the user is locked out of new browsers.
    let device = device::issue(state.manager.registry().cipher(), &rt.issuer, &user.id, now, state.env.rng.as_ref());
    let extra = vec![
        cookie(&rt.issuer, SESSION_COOKIE, &value, None),
        cookie(&rt.issuer, DEVICE_COOKIE, &device, Some(device::DEVICE_LIFETIME)),
    ];
    proceed(&state, &rt, &a, &pf.raw, pf.app.as_deref(), Some(&session), true, &inc, extra).await
}

pub async fn consent(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    let (inc, rt, pf) = match page_post(&state, &tenant, &track, req).await {
        Ok(parts) => parts,
        Err(r) => return r,
    };
    let a = match recheck(&rt, &pf) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let now = state.clock_now();
    let session = match live_session(&state, &rt, &inc, now).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "Your session has ended. Go back to the application and start again.",
            );
        }
        Err(r) => return r,
    };
    let grants = state.stores.grants.as_ref();
    match pf.get("decision") {
        Some("allow") => {
            if let Err(r) = provider::consent(&a, &session, grants, &rt, now).await {
                return refused(r, true, vec![]);
            }
            let ports = provider::IssuePorts { grants, users: state.stores.users.as_ref() };
            match provider::issue(&a, &session, &ports, &rt, now, state.env.rng.as_ref()).await {
                Ok(reply) => deliver(&reply, true, vec![]),
                Err(r) => refused(r, true, vec![]),
            }
        }
        Some("deny") => deliver(&provider::denied(&a, &rt), true, vec![]),
        _ => pages::error(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

async fn end_session_inner(
    state: AppState,
    tenant: String,
    track: String,
    app: Option<String>,
    req: Request,
) -> Response {
    use ferrid_core::provider::logout;
    let inc = match read(&state, req).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let rt = match track_of(&state, &tenant, &track) {
        Ok(rt) => rt,
        Err(r) => return r,
    };
    // RP-Initiated Logout 1.0 §2: GET with a query or POST with a form; the confirmation
    // page posts the original request back in `logout`, with its CSRF token.
    let (raw, confirmed) = if inc.method == Method::POST {
        let Some(body) = inc.form_body() else {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "The request must be a form (application/x-www-form-urlencoded).",
            );
        };
        let fields = ferrid_oauth::form::pairs(body);
        let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        if get("confirm") == Some("yes") {
            if !csrf_ok(&state, &rt, &inc, get("csrf")) {
                return pages::error(StatusCode::BAD_REQUEST, "This form has expired or did not come from this site.");
            }
            (get("logout").unwrap_or_default().to_owned(), true)
        } else {
            (String::from_utf8_lossy(body).into_owned(), false)
        }
    } else {
        (inc.query.clone(), false)
    };
    let form = match Form::parse(raw.as_bytes()) {
        Ok(f) => f,
        Err(_) => return pages::error(StatusCode::BAD_REQUEST, "The logout request is malformed."),
    };
    let app = app.as_deref().map(app_name);
    let end = match logout::check(&rt, &form, app) {
        Ok(e) => e,
        Err(message) => return pages::error(StatusCode::BAD_REQUEST, &message),
    };
    if end.needs_confirmation() && !confirmed {
        let mut extra = Extra::new();
        let binding = csrf_binding(&state, &rt, &inc, &mut extra);
        let csrf = csrf_token(&state, &rt, &binding);
        let here = ferrid_core::urls::PublicUrl::end_session_endpoint(
            state.manager.registry().urls(),
            &rt.tenant,
            &rt.track,
            app,
        );
        return pages::confirm_logout(&here, &csrf, &raw, extra);
    }
    // End the browser's session (if any) and tell the session's other clients.
    let mut frames = Vec::new();
    if let Some(value) = inc.cookie(SESSION_COOKIE).filter(|v| v.len() <= 64) {
        let digest = sessions::digest_of(value);
        if let Ok(session) = state.stores.sessions.get_session(&rt.at(), &digest).await {
            let _ = state.stores.sessions.delete_session(&rt.at(), &digest).await;
            let clients = state.stores.grants.session_clients(&rt.at(), &session.sid).await.unwrap_or_default();
            let asking = end.client.map(|c| c.name.as_str());
            for name in clients.iter().filter(|c| Some(c.as_str()) != asking) {
                if let Some(uri) = rt
                    .clients
                    .get(name.as_str())
                    .and_then(|c| c.oidc.as_deref())
                    .and_then(|o| o.frontchannel_logout_uri.as_deref())
                {
                    frames.push(logout::frontchannel_url(uri, &rt.issuer, &session.sid));
                }
            }
            tracing::info!(tenant = %rt.tenant, track = %rt.track, user = %session.user_id, "logout");
        }
    }
    let extra = vec![cookie(&rt.issuer, SESSION_COOKIE, "", Some(0))];
    let next = end.redirect_location();
    match (frames.is_empty(), next) {
        (true, Some(next)) => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&next) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            for (k, v) in extra {
                resp.headers_mut().append(k, v);
            }
            resp
        }
        (_, next) => pages::signed_out(&frames, next.as_deref(), extra),
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    end_session_inner(state, tenant, track, None, req).await
}

pub async fn end_session_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    end_session_inner(state, tenant, track, Some(app), req).await
}

/// RFC 6750 §3: a bearer error, with the challenge that names it.
fn bearer_error(e: &OAuthError) -> Response {
    if let Some(cause) = e.cause() {
        tracing::warn!(error = e.error.as_str(), cause, "userinfo request failed");
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let challenge = match e.error {
        ErrorCode::InvalidToken | ErrorCode::InsufficientScope | ErrorCode::InvalidRequest => {
            let desc = e.description.as_deref().unwrap_or_default().replace('"', "'");
            format!("Bearer realm=\"ferrid\", error=\"{}\", error_description=\"{desc}\"", e.error.as_str())
        }
        _ => "Bearer realm=\"ferrid\"".to_owned(),
    };
    let mut resp = crate::protocol::oauth_error(&e.clone().with_status(status.as_u16()));
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("WWW-Authenticate"));
    resp
}

async fn userinfo_inner(state: AppState, tenant: String, track: String, app: Option<String>, req: Request) -> Response {
    let inc = match read(&state, req).await {
        Ok(i) => i,
        Err(_) => return bearer_error(&OAuthError::invalid_request("the request is too large").with_status(413)),
    };
    let rt = match track_of(&state, &tenant, &track) {
        Ok(rt) => rt,
        Err(_) => return crate::protocol::oauth_error(&ferrid_core::endpoint::unknown_track()),
    };
    if let Some(app) = app.as_deref().map(app_name)
        && !rt.has_app(app)
    {
        return crate::protocol::oauth_error(&ferrid_core::endpoint::unknown_track());
    }
    // RFC 6750 §2.1 (header) and §2.2 (form body); never both (§2).
    let from_header = inc
        .authorization
        .as_deref()
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let body_form = if inc.method == Method::POST { inc.form_body() } else { None };
    let from_body = match body_form.map(Form::parse) {
        Some(Ok(f)) => f.get("access_token").map(str::to_owned),
        Some(Err(e)) => return bearer_error(&e),
        None => None,
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return bearer_error(&OAuthError::invalid_request("the token was sent in more than one way"));
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => {
            // RFC 6750 §3.1: no credentials, no error code.
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"ferrid\""));
            resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            resp.headers_mut()
                .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("WWW-Authenticate"));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
    };
    let now = state.clock_now();
    let denied = state.manager.registry().denied();
    match userinfo::userinfo(&rt, &token, denied, state.stores.users.as_ref(), now).await {
        Ok(claims) => {
            let body = serde_json::to_string(&claims).expect("claims serialize");
            (
                [
                    (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
                    (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => bearer_error(&e),
    }
}

pub async fn userinfo(
    State(state): State<AppState>,
    Segments((tenant, track)): Segments<(String, String)>,
    req: Request,
) -> Response {
    userinfo_inner(state, tenant, track, None, req).await
}

pub async fn userinfo_app(
    State(state): State<AppState>,
    Segments((tenant, track, app)): Segments<(String, String, String)>,
    req: Request,
) -> Response {
    userinfo_inner(state, tenant, track, Some(app), req).await
}
