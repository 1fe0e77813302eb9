//! Token introspection (RFC 7662) and revocation (RFC 7009), docs/provider.md
//! "Introspection and revocation". The caller authenticates as at the token endpoint
//! (`token::authenticate`); an access token is read from its signature and the deny-list
//! in memory, a refresh token from the store.

use ferrid_oauth::{ErrorCode, OAuthError, form::Form, jwt::verify_compact};
use serde_json::{Map, Value, json};

use super::token::{TokenHttpRequest, authenticate, check_content_type};
use crate::{
    client_auth::{self, Credentials},
    grant::authorization_code::{UserPorts, revoke as revoke_grant, unavailable},
    model::UnixTime,
    provider::session::digest_of,
    runtime::{ClientRuntime, DenyList, TrackRuntime},
    store::{Denied, GrantStore, ReplayGuard, StoreError, UserStore},
    throttle::Throttle,
};

/// What the two endpoints need besides the request.
pub struct IntrospectContext<'a> {
    pub replay: &'a dyn ReplayGuard,
    pub throttle: &'a Throttle,
    pub grants: &'a dyn GrantStore,
    pub users: &'a dyn UserStore,
    pub denied: &'a DenyList,
    pub now: UnixTime,
}

/// The one inactive answer (RFC 7662 §2.2): nothing else is said of such a token.
pub fn inactive() -> Value {
    json!({ "active": false })
}

/// A verified access token of this track: its claims, if it is one (any `exp`).
fn access_claims(track: &TrackRuntime, token: &str) -> Option<(String, Map<String, Value>)> {
    if token.split('.').count() != 3 {
        return None;
    }
    let (header, claims) = verify_compact(token, |h| {
        let kid = h.kid.as_deref()?;
        track.verifying.iter().find(|k| k.kid.as_deref() == Some(kid))
    })
    .ok()?;
    if claims.get("iss").and_then(Value::as_str) != Some(track.issuer.as_str()) {
        return None;
    }
    match claims {
        Value::Object(map) => Some((header.typ.unwrap_or_default(), map)),
        _ => None,
    }
}

fn is_access_token(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("at+jwt")
}

/// The introspection answer of an access token.
fn introspect_access(track: &TrackRuntime, token: &str, denied: &DenyList, now: UnixTime) -> Option<Value> {
    let (typ, claims) = access_claims(track, token)?;
    if !is_access_token(&typ) {
        return None;
    }
    let num = |k: &str| claims.get(k).and_then(Value::as_i64);
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str);
    let active = num("exp").is_some_and(|exp| now < exp)
        && num("nbf").is_none_or(|nbf| nbf <= now)
        && str_claim("jti").is_none_or(|j| !denied.contains(&track.tenant, &track.track, j))
        // the token's client must still exist (a deleted client's tokens are inactive)
        && str_claim("client_id").is_some_and(|c| track.clients.contains_key(c));
    if !active {
        return Some(inactive());
    }
    let mut out = Map::new();
    out.insert("active".into(), Value::Bool(true));
    for k in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"] {
        if let Some(v) = claims.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    out.insert("token_type".into(), Value::String("Bearer".into()));
    Some(Value::Object(out))
}

/// Whether a string could be a refresh token ferrid issued (32 bytes, base64url).
fn could_be_refresh(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The introspection answer of a refresh token; `None` when the store knows none.
async fn introspect_refresh(
    track: &TrackRuntime,
    token: &str,
    grants: &dyn GrantStore,
    now: UnixTime,
) -> Result<Option<Value>, OAuthError> {
    if !could_be_refresh(token) {
        return Ok(None);
    }
    let at = track.at();
    let (record, grant) = match grants.get_refresh(&at, &digest_of(token)).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(unavailable(e)),
    };
    let exp = record.expires.min(grant.expires);
    // A refresh token has no id of its own; its `jti` here is the first half of the
    // digest the store keeps, stable and telling nothing of the value.
    let jti = ferrid_oauth::b64::encode(&record.digest[..16]);
    let active = !record.used && !grant.revoked && now < exp && track.clients.contains_key(grant.client.as_str());
    if !active {
        return Ok(Some(inactive()));
    }
    Ok(Some(json!({
        "active": true,
        "scope": grant.scope,
        "client_id": grant.client.as_str(),
        "sub": grant.user_id,
        "aud": grant.client.as_str(),
        "iss": track.issuer,
        "exp": exp,
        "iat": record.created,
        "nbf": record.created,
        "jti": jti,
        "token_type": "refresh_token",
    })))
}

/// Reads the form and authenticates the caller; `confidential` refuses a public client.
async fn caller<'t>(
    track: &'t TrackRuntime,
    req: &TokenHttpRequest<'_>,
    form: &Form<'_>,
    ctx: &IntrospectContext<'_>,
    confidential: bool,
) -> Result<&'t ClientRuntime, OAuthError> {
    let creds = client_auth::extract(req.authorization, form)?;
    if confidential && matches!(creds, Credentials::None { .. }) {
        // RFC 7662 §2.1: the caller must authenticate; a public client cannot.
        return Err(OAuthError::invalid_client());
    }
    authenticate(track, &creds, req, ctx.replay, ctx.throttle, ctx.now).await
}

/// RFC 7662 §2.1: any client of the track that authenticates may ask about any token of it.
pub async fn introspect(
    track: &TrackRuntime,
    req: TokenHttpRequest<'_>,
    ctx: IntrospectContext<'_>,
) -> Result<Value, OAuthError> {
    check_content_type(req.content_type)?;
    let form = Form::parse(req.body)?;
    caller(track, &req, &form, &ctx, true).await?;
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // RFC 7662 §2.1: the hint only decides which kind is looked for first.
    if form.get("token_type_hint") == Some("refresh_token")
        && let Some(answer) = introspect_refresh(track, token, ctx.grants, ctx.now).await?
    {
        return Ok(answer);
    }
    if let Some(answer) = introspect_access(track, token, ctx.denied, ctx.now) {
        return Ok(answer);
    }
    Ok(introspect_refresh(track, token, ctx.grants, ctx.now).await?.unwrap_or_else(inactive))
}

/// RFC 7009 §2.1: the client the token was issued to revokes it; anything else (unknown,
/// revoked already, another client's) is answered the same 200 and revokes nothing.
pub async fn revoke(
    track: &TrackRuntime,
    req: TokenHttpRequest<'_>,
    ctx: IntrospectContext<'_>,
) -> Result<(), OAuthError> {
    check_content_type(req.content_type)?;
    let form = Form::parse(req.body)?;
    let client = caller(track, &req, &form, &ctx, false).await?;
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let at = track.at();
    if let Some((typ, claims)) = access_claims(track, token) {
        if !is_access_token(&typ) {
            // An ID token (or any other JWT of this track): not revocable (RFC 7009 §2.2.1).
            return Err(OAuthError::new(ErrorCode::UnsupportedTokenType, "only access and refresh tokens are revoked"));
        }
        let mine = claims.get("client_id").and_then(Value::as_str) == Some(client.name.as_str());
        let jti = claims.get("jti").and_then(Value::as_str);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if let (true, Some(jti)) = (mine, jti)
            && exp > ctx.now
            && !ctx.denied.contains(&track.tenant, &track.track, jti)
        {
            let entry = [Denied { jti: jti.to_owned(), expires: exp }];
            ctx.grants.deny_tokens(&at, &entry).await.map_err(unavailable)?;
            ctx.denied.add(&at, &entry);
        }
        return Ok(());
    }
    if could_be_refresh(token) {
        match ctx.grants.get_refresh(&at, &digest_of(token)).await {
            Ok((_, grant)) if grant.client == client.name && !grant.revoked => {
                let ports = UserPorts { grants: ctx.grants, users: ctx.users, denied: ctx.denied };
                revoke_grant(&ports, &at, &grant.id, ctx.now).await?;
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(unavailable(e)),
        }
    }
    Ok(())
}
