//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core
//! 1.0 §3.1.3): a code is redeemed once, by its client, with its redirect URI and the
//! verifier of its challenge; a second redemption revokes what the first one issued
//! (RFC 6749 §4.1.2, docs/provider.md "Codes").

use aws_lc_rs::digest;
use ferrid_oauth::{ErrorCode, OAuthError, discovery::TokenResponse, token::AuthorizationCode};
use subtle::ConstantTimeEq;

use super::user::{self, ForUser};
use crate::{
    env::Rng,
    model::{UnixTime, UserGrant},
    provider::{authorize::is_pkce_value, session::digest_of},
    runtime::{ClientRuntime, DenyList, TrackRuntime},
    store::{GrantStore, Redeemed, StoreError, TrackRef, UserStore},
};

/// The ports the user grants reach, and the deny-list a revocation adds to.
pub struct UserPorts<'a> {
    pub grants: &'a dyn GrantStore,
    pub users: &'a dyn UserStore,
    pub denied: &'a DenyList,
}

/// Revokes a grant in the store and puts its access tokens on this instance's
/// deny-list at once (the others read it on the store's notification).
pub async fn revoke(ports: &UserPorts<'_>, at: &TrackRef, grant_id: &str, now: UnixTime) -> Result<(), OAuthError> {
    let denied = ports.grants.revoke_grant(at, grant_id, now).await.map_err(unavailable)?;
    ports.denied.add(at, &denied);
    Ok(())
}

pub fn invalid_grant(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, why)
}

pub fn unavailable(e: StoreError) -> OAuthError {
    OAuthError::new(ErrorCode::TemporarilyUnavailable, "try again later").with_cause(format_args!("store: {e}"))
}

/// RFC 7636 §4.6: the verifier matches the challenge under its method.
fn verifier_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    let computed = match method {
        "S256" => ferrid_oauth::b64::encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref()),
        _ => verifier.to_owned(),
    };
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

pub async fn redeem(
    track: &TrackRuntime,
    client: &ClientRuntime,
    req: &AuthorizationCode<'_>,
    ports: &UserPorts<'_>,
    now: UnixTime,
    rng: &dyn Rng,
) -> Result<TokenResponse, OAuthError> {
    let oidc = super::user::oidc_of(client, "authorization_code")?;
    let at = track.at();
    let grant_id = ferrid_oauth::b64::encode(&rng.bytes::<16>());
    let code = match ports.grants.redeem_code(&at, &digest_of(req.code), &grant_id).await {
        Ok(Redeemed::First(code)) => code,
        Ok(Redeemed::Again(code)) => {
            // RFC 6749 §4.1.2: the code was used before; what its first use issued is revoked.
            if let Some(first) = &code.grant_id {
                revoke(ports, &at, first, now).await?;
                tracing::warn!(tenant = %track.tenant, track = %track.track, client = %code.client, "an authorization code was used twice; its grant is revoked");
            }
            return Err(invalid_grant("the authorization code was already used"));
        }
        Err(StoreError::NotFound) => return Err(invalid_grant("the authorization code is invalid")),
        Err(e) => return Err(unavailable(e)),
    };
    if code.client != client.name {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    if now >= code.expires {
        return Err(invalid_grant("the authorization code has expired"));
    }
    if req.redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&code.code_challenge, req.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let method = code.code_challenge_method.as_deref().unwrap_or("plain");
            if !is_pkce_value(verifier) || !verifier_matches(method, challenge, verifier) {
                return Err(invalid_grant("code_verifier does not match the code challenge"));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
        // RFC 9700 §4.8.2: a verifier for a code issued without a challenge is refused.
        (None, Some(_)) => return Err(invalid_grant("the authorization request had no code challenge")),
        (None, None) if oidc.pkce.required => return Err(invalid_grant("code_verifier is required")),
        (None, None) => {}
    }
    let user = match ports.users.get_user(&at.user(&code.user_id)).await {
        Ok(u) if !u.disabled => u,
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid_grant("the user of this code is no longer active")),
        Err(e) => return Err(unavailable(e)),
    };
    let minted = user::mint(
        track,
        &ForUser {
            client,
            oidc,
            user_id: &user.id,
            scope: &code.scope,
            sid: &code.sid,
            auth_time: code.auth_time,
            nonce: code.nonce.as_deref(),
            now,
        },
        rng,
    )?;
    let refreshes = user::gets_refresh_tokens(client, &code.scope);
    let grant = UserGrant {
        tenant: track.tenant.clone(),
        track: track.track.clone(),
        id: grant_id,
        client: client.name.clone(),
        user_id: user.id.clone(),
        sid: code.sid.clone(),
        scope: code.scope.clone(),
        auth_time: code.auth_time,
        created: now,
        expires: if refreshes {
            now + i64::from(oidc.refresh_token_absolute_lifetime)
        } else {
            now + i64::from(minted.expires_in)
        },
        revoked: false,
    };
    let refresh = refreshes.then(|| user::new_refresh(&grant, oidc, now, rng));
    let issued = user::issued(&minted, &grant.id, now);
    match ports.grants.create_grant(&grant, refresh.as_ref().map(|(_, r)| r), &issued).await {
        Ok(()) => {}
        // Revoked in advance: the code was reused while this redemption ran.
        Err(StoreError::Conflict) => return Err(invalid_grant("the authorization code was already used")),
        Err(e) => return Err(unavailable(e)),
    }
    Ok(user::response(minted, &code.scope, refresh.map(|(v, _)| v)))
}

#[cfg(test)]
mod tests {
    use super::verifier_matches;

    #[test]
    fn s256_verifier_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(verifier_matches("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", verifier));
        assert!(!verifier_matches("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", verifier));
        assert!(verifier_matches("plain", verifier, verifier));
    }
}
