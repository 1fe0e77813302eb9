//! The UserInfo endpoint (OpenID Connect Core 1.0 §5.3): the bearer token (RFC 6750) is
//! an access token of this track issued to a person with `openid`; the answer is `sub`
//! and the claims its scopes release (§5.4), read from the user as stored now.

use ferrid_oauth::{ErrorCode, OAuthError, jwt::verify_compact};
use serde_json::{Map, Value};

use crate::{
    model::{UnixTime, User},
    runtime::{DenyList, TrackRuntime},
    store::{StoreError, UserStore},
};

/// Seconds of clock skew tolerated on `exp`/`nbf`.
const LEEWAY: i64 = 30;

fn invalid_token(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, why)
}

/// The claims of the person the token was issued for.
pub async fn userinfo(
    track: &TrackRuntime,
    token: &str,
    denied: &DenyList,
    users: &dyn UserStore,
    now: UnixTime,
) -> Result<Map<String, Value>, OAuthError> {
    let (header, claims) = verify_compact(token, |h| {
        let kid = h.kid.as_deref()?;
        track.verifying.iter().find(|k| k.kid.as_deref() == Some(kid))
    })
    .map_err(|_| invalid_token("the access token is invalid"))?;
    // RFC 9068 §4: an access token, of this issuer, within its lifetime.
    if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return Err(invalid_token("the token is not an access token"));
    }
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str);
    if str_claim("iss") != Some(track.issuer.as_str()) {
        return Err(invalid_token("the access token is invalid"));
    }
    let num = |k: &str| claims.get(k).and_then(Value::as_i64);
    let exp = num("exp").ok_or_else(|| invalid_token("the access token is invalid"))?;
    if exp + LEEWAY <= now || num("nbf").is_some_and(|nbf| nbf - LEEWAY > now) {
        return Err(invalid_token("the access token has expired"));
    }
    let scope = str_claim("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(OAuthError::new(ErrorCode::InsufficientScope, "the access token was not granted openid"));
    }
    // The client must still exist as an OpenID Connect client.
    let client = str_claim("client_id").and_then(|c| track.clients.get(c));
    let Some(oidc) = client.and_then(|c| c.oidc.as_deref()) else {
        return Err(invalid_token("the client of this access token no longer exists"));
    };
    let at = track.at();
    let unavailable = |e: StoreError| {
        OAuthError::new(ErrorCode::TemporarilyUnavailable, "try again later").with_cause(format_args!("store: {e}"))
    };
    // The deny-list in memory: no store call (docs/provider.md "Revocation").
    if str_claim("jti").is_some_and(|jti| denied.contains(&track.tenant, &track.track, jti)) {
        return Err(invalid_token("the access token was revoked"));
    }
    let sub = str_claim("sub").ok_or_else(|| invalid_token("the access token is invalid"))?;
    let user = match users.get_user(&at.user(sub)).await {
        Ok(u) if !u.disabled => u,
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid_token("the person of this token is not active")),
        Err(e) => return Err(unavailable(e)),
    };
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(user.id.clone()));
    for s in scope.split(' ') {
        for claim in oidc.released_claims(s) {
            if let Some(v) = claim_of(&user, claim) {
                out.insert(claim.clone(), v);
            }
        }
    }
    Ok(out)
}

/// A claim's value for a user: the stored fields first (`email`, `email_verified`,
/// `preferred_username` from the username, `updated_at`), then the user's own claims.
pub fn claim_of(user: &User, claim: &str) -> Option<Value> {
    match claim {
        "sub" => None,
        "email" => user.email.clone().map(Value::String),
        "email_verified" => user.email.as_ref().map(|_| Value::Bool(user.email_verified)),
        "preferred_username" => user.claims.get(claim).cloned().or_else(|| user.username.clone().map(Value::String)),
        "updated_at" => Some(user.claims.get(claim).cloned().unwrap_or(Value::from(user.updated))),
        _ => user.claims.get(claim).cloned(),
    }
}
