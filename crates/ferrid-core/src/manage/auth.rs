//! Who calls the management API: a ferrid access token (RFC 9068) for the `ferrid-api`
//! resource (docs/api.md "Authorization"). `ferrid-api:admin` from `master/master`
//! manages every tenant; `ferrid-api:tenant` from a tenant's `master` track manages that
//! tenant alone.

use ferrid_oauth::jwt::verify_compact;

use super::{Caller, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Principal};
use crate::{model::UnixTime, runtime::Registry};

/// Seconds of clock skew tolerated on `exp`/`nbf`.
const LEEWAY: i64 = 30;

/// Validates a bearer token issued by a `master` track and returns the caller.
pub fn authorize(registry: &Registry, token: &str, now: UnixTime) -> ManageResult<Caller> {
    let unauthorized = || ManageError::Unauthorized;
    // The issuer picks the track whose keys must have signed the token.
    let payload = token.split('.').nth(1).ok_or_else(unauthorized)?;
    let unverified: serde_json::Value =
        ferrid_oauth::b64::decode(payload).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(unauthorized)?;
    let iss = unverified.get("iss").and_then(|v| v.as_str()).ok_or_else(unauthorized)?;
    let (tenant, track) = registry.urls().split_issuer(iss).ok_or_else(unauthorized)?;
    if track != MASTER {
        return Err(unauthorized());
    }
    let rt = registry.track(tenant, track).ok_or_else(unauthorized)?;
    let (header, claims) = verify_compact(token, |h| {
        let kid = h.kid.as_deref()?;
        rt.verifying.iter().find(|k| k.kid.as_deref() == Some(kid))
    })
    .map_err(|_| unauthorized())?;
    // RFC 9068 §4: the token must be typed as an access token.
    if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return Err(unauthorized());
    }
    if claims.get("iss").and_then(|v| v.as_str()) != Some(rt.issuer.as_str()) {
        return Err(unauthorized());
    }
    let num = |k: &str| claims.get(k).and_then(|v| v.as_i64());
    let exp = num("exp").ok_or_else(unauthorized)?;
    if exp + LEEWAY <= now || num("nbf").is_some_and(|nbf| nbf - LEEWAY > now) {
        return Err(unauthorized());
    }
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == MANAGEMENT_RESOURCE,
        Some(serde_json::Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(MANAGEMENT_RESOURCE)),
        _ => false,
    };
    if !aud_ok {
        return Err(unauthorized());
    }
    // A revoked token (RFC 7009) no longer counts: the deny-list in memory, no store call.
    if claims.get("jti").and_then(|v| v.as_str()).is_some_and(|j| registry.denied().contains(tenant, track, j)) {
        return Err(unauthorized());
    }
    let client = claims.get("client_id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let scopes = claims.get("scope").and_then(|v| v.as_str()).unwrap_or_default();
    let has = |s: &str| scopes.split(' ').any(|x| x == s);
    // The token's client must still exist and still hold the scope, checked on every
    // request against the snapshot (issue 18: a token outlived its deleted client or its
    // withdrawn grant). No store call.
    let still_granted = |scope: &str| {
        rt.clients
            .get(client.as_str())
            .and_then(|c| c.grant(MANAGEMENT_RESOURCE))
            .is_some_and(|g| g.scopes.iter().any(|s| s == scope))
    };
    if tenant == MASTER && has("ferrid-api:admin") && still_granted("admin") {
        return Ok(Caller::admin_client(client));
    }
    if has("ferrid-api:tenant") && still_granted("tenant") {
        return Ok(Caller::Tenant { tenant: rt.tenant.clone(), by: Principal::Client(client) });
    }
    if has("ferrid-api:admin") || has("ferrid-api:tenant") {
        // the privilege was withdrawn or its client deleted: the token no longer counts
        return Err(unauthorized());
    }
    Err(ManageError::Forbidden("the token grants no ferrid-api scope".into()))
}
