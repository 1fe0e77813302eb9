//! The refresh token grant (RFC 6749 §6, RFC 9700 §4.14.2, OpenID Connect Core 1.0
//! §12): a refresh token is rotated on every use; presenting a rotated-out one revokes
//! the whole grant; it ends at its sliding end or the grant's absolute end.

use ferrid_oauth::{OAuthError, discovery::TokenResponse, token::RefreshToken};

use super::{
    authorization_code::{UserPorts, invalid_grant, unavailable},
    user::{self, ForUser},
};
use crate::{
    env::Rng,
    model::UnixTime,
    provider::session::digest_of,
    runtime::{ClientRuntime, TrackRuntime},
    store::StoreError,
};

pub async fn refresh(
    track: &TrackRuntime,
    client: &ClientRuntime,
    req: &RefreshToken<'_>,
    ports: &UserPorts<'_>,
    now: UnixTime,
    rng: &dyn Rng,
) -> Result<TokenResponse, OAuthError> {
    let oidc = super::user::oidc_of(client, "refresh_token")?;
    let at = track.at();
    let old = digest_of(req.refresh_token);
    let (record, grant) = match ports.grants.get_refresh(&at, &old).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(invalid_grant("the refresh token is invalid")),
        Err(e) => return Err(unavailable(e)),
    };
    // RFC 6749 §10.4: bound to the client it was issued to (and nothing is revoked for
    // a client presenting another's token).
    if grant.client != client.name {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    let reused = || async {
        super::authorization_code::revoke(ports, &at, &grant.id, now).await?;
        tracing::warn!(tenant = %track.tenant, track = %track.track, client = %client.name, "a rotated-out refresh token was used again; its grant is revoked");
        Err::<TokenResponse, _>(invalid_grant("the refresh token was already used"))
    };
    if record.used {
        return reused().await;
    }
    if grant.revoked {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    if now >= record.expires || now >= grant.expires {
        return Err(invalid_grant("the refresh token has expired"));
    }
    // RFC 6749 §6: a narrower scope for this access token; the grant keeps its own.
    let scope = match req.scope {
        None => grant.scope.clone(),
        Some(asked) => {
            let mut out: Vec<&str> = Vec::new();
            for s in asked.split(' ').filter(|s| !s.is_empty()) {
                if !user::has_scope(&grant.scope, s) {
                    return Err(OAuthError::invalid_scope("a requested scope exceeds the grant"));
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out.join(" ")
        }
    };
    match ports.users.get_user(&at.user(&grant.user_id)).await {
        Ok(u) if !u.disabled => {}
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid_grant("the user of this grant is no longer active")),
        Err(e) => return Err(unavailable(e)),
    }
    let minted = user::mint(
        track,
        &ForUser {
            client,
            oidc,
            user_id: &grant.user_id,
            scope: &scope,
            sid: &grant.sid,
            auth_time: grant.auth_time,
            nonce: None,
            now,
        },
        rng,
    )?;
    let (value, new) = user::new_refresh(&grant, oidc, now, rng);
    let issued = user::issued(&minted, &grant.id, now);
    match ports.grants.rotate_refresh(&at, &old, &new, &issued).await {
        Ok(true) => Ok(user::response(minted, &scope, Some(value))),
        // Another request rotated it first: it was used twice.
        Ok(false) => reused().await,
        Err(e) => Err(unavailable(e)),
    }
}
