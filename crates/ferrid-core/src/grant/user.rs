//! Tokens issued to a client for a person (docs/provider.md "Tokens for people"): an
//! RFC 9068 access token with `sub` = the user id and `aud` = the resources the granted
//! scopes select plus (unless it opts out) the client itself, an ID token when `openid` was granted, and a
//! refresh token when `offline_access` was granted to a client registered for the
//! refresh grant. Shared by the authorization-code and refresh grants.

use ferrid_oauth::{ErrorCode, OAuthError, discovery::TokenResponse};

use crate::{
    env::Rng,
    model::{GrantType, IssuedToken, RefreshRecord, UnixTime, UserGrant},
    provider::{id_token, session::digest_of},
    runtime::{ClientRuntime, OidcRuntime, TrackRuntime},
    token::access::{self, AccessToken, Audience},
};

/// What the tokens are issued for.
pub struct ForUser<'a> {
    pub client: &'a ClientRuntime,
    pub oidc: &'a OidcRuntime,
    pub user_id: &'a str,
    /// The scope of this access token (the grant's, or narrower on refresh).
    pub scope: &'a str,
    pub sid: &'a str,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    pub now: UnixTime,
}

/// The tokens minted for one response.
pub struct Minted {
    pub access_token: String,
    pub jti: String,
    pub expires_in: u32,
    pub id_token: Option<String>,
}

/// The OpenID Connect registration a user grant (`grant`) needs: a client without one
/// is `unauthorized_client` (RFC 6749 §5.2).
pub fn oidc_of<'c>(client: &'c ClientRuntime, grant: &str) -> Result<&'c OidcRuntime, OAuthError> {
    client.oidc.as_deref().ok_or_else(|| {
        OAuthError::new(ErrorCode::UnauthorizedClient, format!("this client is not registered for the {grant} grant"))
    })
}

/// The audience of a user's access token: each resource of a `resource:scope` in
/// `scope`, once, then the client — unless the client turned that off
/// (`access_token_audience_includes_client: false`) and a resource is there: a token
/// always has an audience (RFC 9068 §2.2), so without a resource it is the client.
pub fn audience<'s>(client: &'s ClientRuntime, scope: &'s str) -> Vec<&'s str> {
    let mut aud: Vec<&str> = Vec::new();
    for token in scope.split(' ') {
        if let Some((resource, _)) = token.split_once(':')
            && !aud.contains(&resource)
        {
            aud.push(resource);
        }
    }
    let include_client = client.oidc.as_ref().is_none_or(|o| o.audience_includes_client) || aud.is_empty();
    if include_client && !aud.contains(&client.name.as_str()) {
        aud.push(&client.name);
    }
    aud
}

pub fn has_scope(scope: &str, want: &str) -> bool {
    scope.split(' ').any(|s| s == want)
}

/// Signs the access token and, with `openid`, the ID token.
pub fn mint(track: &TrackRuntime, u: &ForUser<'_>, rng: &dyn Rng) -> Result<Minted, OAuthError> {
    let key = access::signing_key(track)?;
    let aud = audience(u.client, u.scope);
    let audience = match aud.as_slice() {
        [one] => Audience::One(one),
        _ => Audience::Many(aud.clone()),
    };
    let token = AccessToken {
        client: u.client,
        subject: u.user_id,
        audience,
        scope: Some(u.scope).filter(|s| !s.is_empty()),
        issued_at: u.now,
        lifetime: u.client.token_lifetime,
        person: true,
    };
    let (access_token, jti) = access::mint_with_jti(key, track, &token, rng)?;
    let id_token = if has_scope(u.scope, "openid") {
        Some(id_token::mint(
            key,
            &id_token::IdToken {
                issuer: &track.issuer,
                subject: u.user_id,
                client: &u.client.name,
                nonce: u.nonce,
                auth_time: u.auth_time,
                sid: u.sid,
                access_token: Some(&access_token),
                code: None,
                issued_at: u.now,
                lifetime: u.oidc.id_token_lifetime,
                extra: None,
            },
        )?)
    } else {
        None
    };
    Ok(Minted { access_token, jti, expires_in: u.client.token_lifetime, id_token })
}

/// Whether this grant gets refresh tokens: `offline_access` granted to a client
/// registered for the refresh grant (OpenID Connect Core 1.0 §11).
pub fn gets_refresh_tokens(client: &ClientRuntime, scope: &str) -> bool {
    has_scope(scope, "offline_access") && client.allows(GrantType::RefreshToken)
}

/// A new refresh token of `grant`: its value and its record (sliding end capped by the
/// grant's absolute end).
pub fn new_refresh(grant: &UserGrant, oidc: &OidcRuntime, now: UnixTime, rng: &dyn Rng) -> (String, RefreshRecord) {
    let value = ferrid_oauth::b64::encode(&rng.bytes::<32>());
    let record = RefreshRecord {
        digest: digest_of(&value),
        grant_id: grant.id.clone(),
        created: now,
        expires: (now + i64::from(oidc.refresh_token_lifetime)).min(grant.expires),
        used: false,
    };
    (value, record)
}

/// The record that ties an access token to its grant.
pub fn issued(m: &Minted, grant_id: &str, now: UnixTime) -> IssuedToken {
    IssuedToken { jti: m.jti.clone(), grant_id: grant_id.to_owned(), expires: now + i64::from(m.expires_in) }
}

/// The token response.
pub fn response(m: Minted, scope: &str, refresh_token: Option<String>) -> TokenResponse {
    TokenResponse {
        access_token: m.access_token,
        token_type: "Bearer".into(),
        expires_in: m.expires_in.into(),
        scope: Some(scope.to_owned()).filter(|s| !s.is_empty()),
        refresh_token,
        id_token: m.id_token,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_scope_matches_whole_words() {
        assert!(super::has_scope("openid offline_access", "offline_access"));
        assert!(!super::has_scope("openid offline", "offline_access"));
    }
}
