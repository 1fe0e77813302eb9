//! The OpenID Provider (docs/provider.md): the authorization request and what follows
//! it — login, consent, the code — framework-free. The server renders the pages and
//! sets the cookies; everything it decides is here.

pub mod authorize;
pub mod device;
pub mod id_token;
pub mod login;
pub mod logout;
pub mod session;
pub mod userinfo;

use ferrid_oauth::{ErrorCode, OAuthError};

use crate::{
    env::Rng,
    model::{AuthCode, Session, UnixTime},
    runtime::TrackRuntime,
    store::{GrantStore, StoreError},
    token::access::{AccessToken, Audience},
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
    // OpenID Connect Core 1.0 §3.1.2.1 id_token_hint: the session must be of the person
    // the hint names; otherwise that person must log in.
    let other_person = |s: &Session| a.hint_sub.as_deref().is_some_and(|sub| sub != s.user_id);
    let needs_login = match session {
        None => true,
        Some(s) => !fresh && (a.prompt.login || too_old(s) || other_person(s)),
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
        let user = track.at().user(&session.user_id);
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

/// Issues what the response type asks for — a code, an access token, an ID token — for
/// a settled request, and answers the reply that carries it (OpenID Connect Core 1.0
/// §3.1.2.5, §3.2.2.5, §3.3.2.5).
pub async fn issue(
    a: &Authorization<'_>,
    session: &Session,
    ports: &IssuePorts<'_>,
    track: &TrackRuntime,
    now: UnixTime,
    rng: &dyn Rng,
) -> Result<Reply, Refusal> {
    let mut reply = a.reply(&track.issuer);
    let mut code_value = None;
    if a.response_type.has_code() {
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
        ports.grants.create_code(&code).await.map_err(|e| unavailable(a, track, e))?;
        reply = reply.with("code", value.clone());
        code_value = Some(value);
    }
    // Front-Channel Logout 1.0: the clients answered in a session are remembered, but
    // only those that registered a URI to be called at logout.
    if a.oidc.frontchannel_logout_uri.is_some() {
        let at = track.at();
        ports
            .grants
            .add_session_client(&at, &session.sid, &a.client.name, session.expires)
            .await
            .map_err(|e| unavailable(a, track, e))?;
    }
    if !a.response_type.returns_tokens() {
        return Ok(reply);
    }
    let failed = |e: OAuthError| {
        tracing::warn!(
            error = e.error.as_str(),
            cause = e.cause().unwrap_or_default(),
            "authorization response: minting failed"
        );
        Refusal::Redirect(a.reply(&track.issuer).error(&OAuthError::server_error()))
    };
    let key = crate::token::access::signing_key(track).map_err(failed)?;
    let scope = a.scope_string();
    // `token`: an access token as the token endpoint would issue it, without a grant (no
    // refresh token comes from this endpoint).
    let access = if a.response_type.has_access_token() {
        let aud = crate::grant::user::audience(a.client, &scope);
        let audience = match aud.as_slice() {
            [one] => Audience::One(one),
            _ => Audience::Many(aud.clone()),
        };
        let token = AccessToken {
            client: a.client,
            subject: &session.user_id,
            audience,
            scope: Some(scope.as_str()).filter(|s| !s.is_empty()),
            issued_at: now,
            lifetime: a.client.token_lifetime,
            person: true,
        };
        Some(crate::token::access::mint(key, track, &token, rng).map_err(failed)?)
    } else {
        None
    };
    if let Some(at) = &access {
        reply = reply
            .with("access_token", at.clone())
            .with("token_type", "Bearer".into())
            .with("expires_in", a.client.token_lifetime.to_string())
            .with("scope", scope.clone());
    }
    // `code token` (OpenID Connect Core 1.0 §3.3.2.5): its ID token comes from the token
    // endpoint only.
    if !a.response_type.has_id_token() {
        return Ok(reply);
    }
    // OpenID Connect Core 1.0 §5.4: with no access token to call UserInfo with, the
    // claims of the granted scopes go into the ID token.
    let extra = if access.is_none() {
        let at = track.at();
        let user = ports.users.get_user(&at.user(&session.user_id)).await.map_err(|e| unavailable(a, track, e))?;
        let mut claims = serde_json::Map::new();
        for s in &a.scope {
            for c in a.oidc.released_claims(s) {
                if let Some(v) = userinfo::claim_of(&user, c) {
                    claims.insert(c.clone(), v);
                }
            }
        }
        Some(claims)
    } else {
        None
    };
    let id_token = id_token::mint(
        key,
        &id_token::IdToken {
            issuer: &track.issuer,
            subject: &session.user_id,
            client: &a.client.name,
            nonce: a.nonce.as_deref(),
            auth_time: session.auth_time,
            sid: &session.sid,
            access_token: access.as_deref(),
            code: code_value.as_deref(),
            issued_at: now,
            lifetime: a.oidc.id_token_lifetime,
            extra: extra.as_ref(),
        },
    )
    .map_err(failed)?;
    Ok(reply.with("id_token", id_token))
}

/// The store ports the authorization response reaches.
pub struct IssuePorts<'a> {
    pub grants: &'a dyn GrantStore,
    pub users: &'a dyn crate::store::UserStore,
}

/// Records the person's consent to the request's scopes (added to what they gave before).
pub async fn consent(
    a: &Authorization<'_>,
    session: &Session,
    grants: &dyn GrantStore,
    track: &TrackRuntime,
    now: UnixTime,
) -> Result<(), Refusal> {
    let user = track.at().user(&session.user_id);
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
