//! Signing in to the console through ferrid's own OpenID Connect flow (docs/console.md
//! "Signing in"): the authorization code flow with PKCE (RFC 7636) as the public client
//! `console` of a tenant's `master` track, the code redeemed in process by the core's
//! authorization-code grant (no HTTP call to itself), the ID token checked
//! (OpenID Connect Core 1.0 §3.1.3.7), and a console session riding on the OpenID
//! Provider session the login made.

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ferrid_core::{
    grant::authorization_code::{self, UserPorts},
    manage::{MASTER, bootstrap::CONSOLE_CLIENT},
    model::{Session, UnixTime, User},
    provider::session::{TOUCH_EVERY, cookie_value, is_live},
    runtime::TrackRuntime,
    store::{StoreError, TrackRef},
};
use ferrid_oauth::{name::Name, token::AuthorizationCode};

use super::{
    ConsolePost, Paths, page,
    session::{LOGIN_COOKIE, LOGIN_WINDOW, PendingLogin, SESSION_COOKIE, SessionCookie},
};
use crate::AppState;

/// A `Set-Cookie` for the console's path; `max_age` 0 deletes.
pub fn cookie(
    state: &AppState,
    paths: &Paths,
    name: &str,
    value: &str,
    max_age: i64,
) -> (header::HeaderName, HeaderValue) {
    let secure = if state.manager.registry().urls().base().starts_with("https://") { "; Secure" } else { "" };
    let c = format!("{name}={value}; Path={}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", paths.cookie_path());
    (header::SET_COOKIE, HeaderValue::from_str(&c).expect("cookie values are base64url, digits and dots"))
}

/// A redirect that is never cached and tells no referrer.
pub fn redirect(status: StatusCode, location: &str, cookies: Vec<(header::HeaderName, HeaderValue)>) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    for (k, v) in cookies {
        h.append(k, v);
    }
    resp
}

/// The redirect URI the `console` client of `tenant` registered (docs/provider.md
/// "The console client").
fn callback_uri(state: &AppState, tenant: &str) -> String {
    let base = state.manager.registry().urls().base().trim_end_matches('/');
    if tenant == MASTER { format!("{base}/console/callback") } else { format!("{base}/console/{tenant}/callback") }
}

/// Where a person of `tenant` starts: `/console/` for the master tenant, else
/// `/console/{tenant}/`.
pub fn entry(paths: &Paths, tenant: &str) -> String {
    if tenant == MASTER { paths.start() } else { paths.tenant(tenant) }
}

/// Starts a sign-in at `tenant`'s master track: the pre-login cookie and the redirect
/// to its authorization endpoint (client `console`, `code`, PKCE S256, `state`, `nonce`).
pub fn start(state: &AppState, paths: &Paths, tenant: &Name, next: &str) -> Response {
    let cipher = state.manager.registry().cipher();
    let pending = PendingLogin {
        tenant: tenant.clone(),
        state: ferrid_oauth::b64::encode(&state.env.rng.bytes::<32>()),
        next: safe_next(paths, next).unwrap_or_else(|| entry(paths, tenant)),
        issued: state.clock_now(),
    };
    let redirect_uri = callback_uri(state, tenant);
    let (challenge, nonce) = (pending.challenge(cipher), pending.nonce(cipher));
    let query = ferrid_oauth::form::encode([
        ("response_type", "code"),
        ("client_id", CONSOLE_CLIENT),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", pending.state.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let authorize = state.manager.registry().urls().authorization_endpoint(tenant, MASTER, None);
    let set = cookie(state, paths, LOGIN_COOKIE, &pending.seal(cipher), LOGIN_WINDOW);
    redirect(StatusCode::FOUND, &format!("{authorize}?{query}"), vec![set])
}

/// `next` if it is a console path (never another site, never a path with `..`).
fn safe_next(paths: &Paths, next: &str) -> Option<String> {
    let ok = next.starts_with(&paths.start()) && !next.contains("//") && !next.contains("..") && !next.contains('\\');
    ok.then(|| next.to_owned())
}

/// A live console session: the person, still enabled, and the OP session, still live
/// (its sliding lifetime moved by the console's use, as by the OP's own).
pub async fn live(state: &AppState, c: &SessionCookie, now: UnixTime) -> Result<Option<User>, Response> {
    if now >= c.expires {
        return Ok(None);
    }
    let Some(rt) = state.manager.registry().track(&c.tenant, MASTER) else { return Ok(None) };
    let at = TrackRef::new(c.tenant.clone(), rt.track.clone());
    let user = match state.stores.users.get_user(&at.user(&c.user)).await {
        Ok(u) if !u.disabled => u,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(unavailable(state, e)),
    };
    let Some(session) = op_session(state, &user, &c.sid).await? else { return Ok(None) };
    if !is_live(&session, &rt.settings, now) {
        return Ok(None);
    }
    if now - session.last_seen >= TOUCH_EVERY {
        match state.stores.sessions.touch_session(&at, &session.id_digest, now).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(unavailable(state, e)),
        }
    }
    Ok(Some(user))
}

/// The OP session `sid` of `user`, if it still exists.
async fn op_session(state: &AppState, user: &User, sid: &str) -> Result<Option<Session>, Response> {
    let sessions = state.stores.sessions.list_sessions(&user.user_ref()).await.map_err(|e| unavailable(state, e))?;
    Ok(sessions.into_iter().find(|s| s.sid == sid))
}

fn unavailable(state: &AppState, e: StoreError) -> Response {
    tracing::warn!(error = %e, "console: the store is unavailable");
    page::message(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The service is unavailable; try again later.",
        None,
    )
}

/// A sign-in that cannot finish, with a way to start again.
fn failed(state: &AppState, paths: &Paths, tenant: &str, why: &str) -> Response {
    let again = super::view::Link::new("Sign in again", entry(paths, tenant));
    let clear = cookie(state, paths, LOGIN_COOKIE, "", 0);
    let mut resp = page::message(state, StatusCode::BAD_REQUEST, "Sign-in failed", why, Some(again));
    resp.headers_mut().append(clear.0, clear.1);
    resp
}

/// `GET /console/callback`: the master tenant's sign-in comes back.
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    finish(&state, MASTER, &headers, q.as_deref().unwrap_or_default()).await
}

/// `GET /console/{tenant}/callback`: a tenant's sign-in comes back.
pub async fn callback_tenant(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(&state, &tenant, &headers, q.as_deref().unwrap_or_default()).await
}

/// The authorization response checked against the pre-login cookie (RFC 6749 §10.12),
/// the code redeemed, the ID token checked, the console session made.
async fn finish(state: &AppState, tenant: &str, headers: &HeaderMap, query: &str) -> Response {
    let paths = Paths::new(state.manager.registry().urls().base());
    let cipher = state.manager.registry().cipher();
    let now = state.clock_now();
    let params = ferrid_oauth::form::pairs(query.as_bytes());
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let pending = cookie_value(cookies, LOGIN_COOKIE).and_then(|v| PendingLogin::open(cipher, v, now));
    let Some(pending) = pending.filter(|p| p.tenant.as_str() == tenant && Some(p.state.as_str()) == get("state"))
    else {
        return failed(state, &paths, tenant, "This sign-in has expired or did not start here.");
    };
    if let Some(error) = get("error") {
        let why = format!("The sign-in did not complete ({}).", error.chars().take(64).collect::<String>());
        return failed(state, &paths, tenant, &why);
    }
    let Some(rt) = state.manager.registry().track(tenant, MASTER) else {
        return failed(state, &paths, tenant, "There is no such tenant.");
    };
    let redeemed = match get("code") {
        Some(code) => redeem(state, &rt, &pending, code, now).await,
        None => Err("The sign-in answer carries no code.".into()),
    };
    let (sub, sid) = match redeemed {
        Ok(who) => who,
        Err(why) => return failed(state, &paths, tenant, &why),
    };
    let at = rt.at();
    let user = match state.stores.users.get_user(&at.user(&sub)).await {
        Ok(u) => u,
        Err(e) => return unavailable(state, e),
    };
    let session = match op_session(state, &user, &sid).await {
        Ok(Some(s)) => s,
        Ok(None) => return failed(state, &paths, tenant, "The session of this sign-in has ended."),
        Err(resp) => return resp,
    };
    let value = SessionCookie { tenant: rt.tenant.clone(), user: sub, sid, expires: session.expires }.seal(cipher);
    tracing::info!(tenant = %rt.tenant, user = %user.id, "console sign-in");
    let cookies = vec![
        cookie(state, &paths, SESSION_COOKIE, &value, (session.expires - now).max(0)),
        cookie(state, &paths, LOGIN_COOKIE, "", 0),
    ];
    redirect(StatusCode::SEE_OTHER, &pending.next, cookies)
}

/// Redeems `code` through the core's authorization-code grant and reads `sub` and
/// `sid` from the ID token, whose issuer, audience and nonce must be this sign-in's.
async fn redeem(
    state: &AppState,
    rt: &TrackRuntime,
    pending: &PendingLogin,
    code: &str,
    now: UnixTime,
) -> Result<(String, String), String> {
    let cipher = state.manager.registry().cipher();
    let client = rt.clients.get(CONSOLE_CLIENT).ok_or("This tenant has no console client.")?;
    let (redirect_uri, verifier) = (callback_uri(state, &rt.tenant), pending.verifier(cipher));
    let request =
        AuthorizationCode { code, redirect_uri: Some(redirect_uri.as_str()), code_verifier: Some(verifier.as_str()) };
    let ports = UserPorts {
        grants: state.stores.grants.as_ref(),
        users: state.stores.users.as_ref(),
        denied: state.manager.registry().denied(),
    };
    let tokens =
        authorization_code::redeem(rt, client, &request, &ports, now, state.env.rng.as_ref()).await.map_err(|e| {
            tracing::warn!(error = e.error.as_str(), "console sign-in: the code was refused");
            "The sign-in could not be completed; start again.".to_owned()
        })?;
    let id_token = tokens.id_token.ok_or("The sign-in gave no ID token.")?;
    let (_, claims) = ferrid_oauth::jwt::verify_compact(&id_token, |h| {
        rt.verifying.iter().find(|k| k.kid.is_some() && k.kid.as_deref() == h.kid.as_deref())
    })
    .map_err(|_| "The ID token does not verify.".to_owned())?;
    signed_in(&claims, &rt.issuer, &pending.nonce(cipher))
}

/// `sub` and `sid` of an ID token issued by `issuer` to the console for the sign-in
/// whose nonce is `nonce` (OpenID Connect Core 1.0 §3.1.3.7, items 2, 3 and 11).
fn signed_in(claims: &serde_json::Value, issuer: &str, nonce: &str) -> Result<(String, String), String> {
    let text = |k: &str| claims.get(k).and_then(|v| v.as_str());
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == CONSOLE_CLIENT,
        Some(serde_json::Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(CONSOLE_CLIENT)),
        _ => false,
    };
    if text("iss") != Some(issuer) || !aud_ok || text("nonce") != Some(nonce) {
        return Err("The ID token was not issued for this sign-in.".into());
    }
    match (text("sub"), text("sid")) {
        (Some(sub), Some(sid)) => Ok((sub.to_owned(), sid.to_owned())),
        _ => Err("The ID token names no user or session.".into()),
    }
}

/// `POST /console/logout`: ends the OpenID Provider session the console rides on and the
/// console session, then goes to where the person signs in again.
pub async fn logout(State(state): State<AppState>, post: ConsolePost) -> Response {
    let c = &post.console;
    let paths = &c.paths;
    match op_session(&state, &c.person, &c.cookie.sid).await {
        Ok(Some(s)) => {
            if let Err(e) = state.stores.sessions.delete_session(&TrackRef::new(s.tenant, s.track), &s.id_digest).await
            {
                return unavailable(&state, e);
            }
        }
        Ok(None) => {}
        Err(resp) => return resp,
    }
    tracing::info!(tenant = %c.cookie.tenant, user = %c.person.id, "console logout");
    let clear = cookie(&state, paths, SESSION_COOKIE, "", 0);
    redirect(StatusCode::SEE_OTHER, &entry(paths, &c.cookie.tenant), vec![clear])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_an_id_token_of_this_issuer_for_the_console_with_this_sign_ins_nonce_signs_in() {
        let ok = json!({"iss": "https://id/master/master", "aud": "console", "nonce": "n1", "sub": "u1", "sid": "s1"});
        let is = |c: &serde_json::Value| signed_in(c, "https://id/master/master", "n1");
        assert_eq!(is(&ok), Ok(("u1".to_owned(), "s1".to_owned())));
        let with = |k: &str, v: serde_json::Value| {
            let mut c = ok.clone();
            c[k] = v;
            c
        };
        assert_eq!(is(&with("aud", json!(["other", "console"]))), Ok(("u1".to_owned(), "s1".to_owned())));
        assert!(is(&with("nonce", json!("n2"))).is_err(), "another sign-in's nonce");
        assert!(is(&with("aud", json!("web"))).is_err(), "another client's token");
        assert!(is(&with("iss", json!("https://id/acme/master"))).is_err(), "another track's token");
        assert!(is(&with("sid", json!(null))).is_err(), "no session to ride on");
    }

    #[test]
    fn only_a_console_path_is_followed_after_sign_in() {
        let p = Paths::new("http://127.0.0.1:1");
        assert_eq!(safe_next(&p, "/console/acme/audit?action=x").as_deref(), Some("/console/acme/audit?action=x"));
        assert_eq!(safe_next(&p, "https://evil.example/console/"), None);
        assert_eq!(safe_next(&p, "//evil.example/console/"), None);
        assert_eq!(safe_next(&p, "/console/../api/v1"), None);
        assert_eq!(safe_next(&p, "/other"), None);
    }
}
