//! The OpenID Provider (docs/provider.md): the authorization request and what follows
//! it — login, consent, the code — framework-free. The server renders the pages and
//! sets the cookies; everything it decides is here.

pub mod authorize;
pub mod id_token;
pub mod login;
pub mod session;
pub mod userinfo;

use ferrid_oauth::{ErrorCode, OAuthError};

use crate::{
    env::Rng,
    model::{AuthCode, Session, UnixTime},
    runtime::TrackRuntime,
    store::{GrantStore, StoreError, TrackRef},
};
use authorize::{Authorization, Refusal, Reply};

/// How long a code may be redeemed, seconds (docs/provider.md "Codes").
pub const CODE_LIFETIME: i64 = 30;

/// What an authorization request needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The person must log in (the login page).
    Login,
    /// The person must consent (the consent page).
    Consent,
    /// Everything is settled: issue the response.
    Issue,
}

/// The next step of a checked request, given the live session (if any) and whether the
/// person has just logged in for this very request (`fresh`).
pub async fn next_step(
    a: &Authorization<'_>,
    session: Option<&Session>,
    fresh: bool,
    grants: &dyn GrantStore,
    track: &TrackRuntime,
    now: UnixTime,
) -> Result<Step, Refusal> {
    let refuse = |code: ErrorCode, why: &'static str| {
        Refusal::Redirect(a.reply(&track.issuer).error(&OAuthError::new(code, why)))
    };
    // OpenID Connect Core 1.0 §3.1.2.1 prompt=login and max_age: a fresh login.
    let too_old = |s: &Session| a.max_age.is_some_and(|m| now - s.auth_time > m);
    let needs_login = match session {
        None => true,
        Some(s) => !fresh && (a.prompt.login || too_old(s)),
    };
    if needs_login {
        if a.prompt.none {
            return Err(refuse(ErrorCode::LoginRequired, "the person is not logged in"));
        }
        return Ok(Step::Login);
    }
    let session = session.expect("a session when no login is needed");
    // Consent: only clients that require it, or when the request asks (prompt=consent).
    if a.prompt.consent {
        return Ok(Step::Consent);
    }
    if a.oidc.require_consent {
        let user = TrackRef::new(track.tenant.clone(), track.track.clone()).user(&session.user_id);
        let given = match grants.get_consent(&user, &a.client.name).await {
            Ok(g) => g.unwrap_or_default(),
            Err(e) => return Err(unavailable(a, track, e)),
        };
        if !a.scope.iter().all(|s| given.contains(s)) {
            if a.prompt.none {
                return Err(refuse(ErrorCode::ConsentRequired, "the person has not consented to these scopes"));
            }
            return Ok(Step::Consent);
        }
    }
    Ok(Step::Issue)
}

fn unavailable(a: &Authorization<'_>, track: &TrackRuntime, e: StoreError) -> Refusal {
    tracing::warn!(error = %e, "authorization request: store unavailable");
    Refusal::Redirect(
        a.reply(&track.issuer).error(&OAuthError::new(ErrorCode::TemporarilyUnavailable, "try again later")),
    )
}

/// Issues the code for a settled request and answers the reply that carries it.
pub async fn issue(
    a: &Authorization<'_>,
    session: &Session,
    grants: &dyn GrantStore,
    track: &TrackRuntime,
    now: UnixTime,
    rng: &dyn Rng,
) -> Result<Reply, Refusal> {
    let value = ferrid_oauth::b64::encode(&rng.bytes::<32>());
    let code = AuthCode {
        tenant: track.tenant.clone(),
        track: track.track.clone(),
        digest: session::digest_of(&value),
        client: a.client.name.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        redirect_uri: a.redirect_uri.clone(),
        code_challenge: a.challenge.as_ref().map(|c| c.value.clone()),
        code_challenge_method: a.challenge.as_ref().map(|c| c.method.to_owned()),
        nonce: a.nonce.clone(),
        scope: a.scope_string(),
        auth_time: session.auth_time,
        created: now,
        expires: now + CODE_LIFETIME,
        grant_id: None,
    };
    grants.create_code(&code).await.map_err(|e| unavailable(a, track, e))?;
    Ok(a.reply(&track.issuer).with("code", value))
}

/// Records the person's consent to the request's scopes (added to what they gave before).
pub async fn consent(
    a: &Authorization<'_>,
    session: &Session,
    grants: &dyn GrantStore,
    track: &TrackRuntime,
    now: UnixTime,
) -> Result<(), Refusal> {
    let user = TrackRef::new(track.tenant.clone(), track.track.clone()).user(&session.user_id);
    let mut given =
        grants.get_consent(&user, &a.client.name).await.map_err(|e| unavailable(a, track, e))?.unwrap_or_default();
    for s in &a.scope {
        if !given.contains(s) {
            given.push(s.clone());
        }
    }
    grants.put_consent(&user, &a.client.name, &given, now).await.map_err(|e| unavailable(a, track, e))
}

/// The refusal of a person who declined (RFC 6749 §4.1.2.1 `access_denied`).
pub fn denied(a: &Authorization<'_>, track: &TrackRuntime) -> Reply {
    a.reply(&track.issuer).error(&OAuthError::new(ErrorCode::AccessDenied, "the person declined"))
}
