//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the client proves
//! itself with a JWT signed by a key whose public half it registered.
//!
//! Checks, in order; every failure is the same 401 `invalid_client`:
//! 1. `client_assertion_type` is the jwt-bearer URN (RFC 7523 §2.2).
//! 2. the header `alg` is one of RS256, PS256, ES256, EdDSA — never `none` or HMAC
//!    (RFC 8725 §3.1); the verifier's algorithm comes from the registered key, not the token.
//! 3. `iss` = `sub` = the client's id, and a body `client_id`, if sent, is the same
//!    (RFC 7523 §3 items 1–2).
//! 4. the client exists and is registered for `private_key_jwt`.
//! 5. the signature verifies with one of its keys valid now (`kid` or `x5t#S256` picks
//!    the key when given).
//! 6. `aud` names the issuer or a token endpoint URL (RFC 7523 §3 item 3).
//! 7. `exp` is present and not past; `iat`/`nbf` are not in the future, nor older than
//!    the track's cap plus leeway; the lifetime is at most the track's cap (RFC 7523 §3
//!    items 4–6). Times are NumericDates within ±2^53 s; arithmetic is checked.
//! 8. `jti` is present (item 7); the caller records it with the store's replay guard
//!    until `exp` + leeway, as long as the assertion could be accepted.

use ferrid_oauth::{
    OAuthError,
    jwt::{Header, SigningAlg, VerifyingKey, verify_compact},
};
use serde_json::Value;

use crate::{
    model::{ClientAuthMethod, UnixTime},
    runtime::{ClientRuntime, TrackRuntime},
};

/// The algorithms accepted for client assertions (RFC 8725 §3.1: an allow-list).
pub const ASSERTION_ALGS: [SigningAlg; 4] = SigningAlg::ALL;
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds.
pub const LEEWAY: i64 = 60;
/// Longest `jti` accepted.
const MAX_JTI: usize = 512;

/// A verified assertion: who it authenticates and what the replay guard must record.
pub struct VerifiedAssertion<'t> {
    pub client: &'t ClientRuntime,
    pub jti: String,
    /// Until when the replay guard must refuse this `jti`: `exp` + [`LEEWAY`].
    pub keep_until: UnixTime,
}

fn fail() -> OAuthError {
    OAuthError::invalid_client()
}

/// Runs checks 1–8 against the snapshot.
pub fn verify<'t>(
    track: &'t TrackRuntime,
    assertion_type: &str,
    assertion: &str,
    body_client_id: Option<&str>,
    now: UnixTime,
) -> Result<VerifiedAssertion<'t>, OAuthError> {
    if assertion_type != ASSERTION_TYPE {
        return Err(fail());
    }
    let claims = peek_claims(assertion).ok_or_else(fail)?;
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str);
    let client_id = str_claim("iss").filter(|iss| Some(*iss) == str_claim("sub")).ok_or_else(fail)?;
    if body_client_id.is_some_and(|id| id != client_id) {
        return Err(fail());
    }
    let client =
        track.clients.get(client_id).filter(|c| c.method == ClientAuthMethod::PrivateKeyJwt).ok_or_else(fail)?;
    let claims = verify_signature(client, assertion, now).ok_or_else(fail)?;
    check_audience(track, client, &claims)?;
    let keep_until = check_times(track, &claims, now)?;
    let jti =
        claims.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty() && j.len() <= MAX_JTI).ok_or_else(fail)?;
    Ok(VerifiedAssertion { client, jti: jti.to_owned(), keep_until })
}

/// The payload, unverified, only to learn which client to verify against.
fn peek_claims(assertion: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = assertion.split('.').nth(1)?;
    serde_json::from_slice(&ferrid_oauth::b64::decode(payload)?).ok()
}

fn verify_signature(client: &ClientRuntime, assertion: &str, now: UnixTime) -> Option<serde_json::Map<String, Value>> {
    let header_b64 = assertion.split('.').next()?;
    let header: Header = serde_json::from_slice(&ferrid_oauth::b64::decode(header_b64)?).ok()?;
    let alg: SigningAlg = header.alg.parse().ok().filter(|a| ASSERTION_ALGS.contains(a))?;
    let candidates =
        client.keys.iter().filter(|k| k.key.valid_at(now)).filter(|k| match (&header.kid, &header.x5t_s256) {
            (Some(kid), _) => *kid == k.key.kid || Some(kid) == k.key.thumbprint_sha256.as_ref(),
            (None, Some(x5t)) => Some(x5t) == k.key.thumbprint_sha256.as_ref(),
            (None, None) => true,
        });
    for key in candidates {
        for v in key.verifiers.iter().filter(|v: &&VerifyingKey| v.alg == alg) {
            if let Ok((_, Value::Object(claims))) = verify_compact(assertion, |_| Some(v)) {
                return Some(claims);
            }
        }
    }
    None
}

/// `aud` must name this server: the issuer, or an endpoint where the client
/// authenticates (token, introspection, revocation), track-level or on the client's
/// app-scoped URL (RFC 7523 §3 item 3; clients sign for the endpoint they call).
fn check_audience(
    track: &TrackRuntime,
    client: &ClientRuntime,
    claims: &serde_json::Map<String, Value>,
) -> Result<(), OAuthError> {
    use crate::routes::{INTROSPECT, REVOKE, TOKEN};
    let accepted = |a: &str| {
        a == track.issuer
            || a.strip_prefix(track.issuer.as_str()).is_some_and(|rest| {
                [TOKEN, INTROSPECT, REVOKE].iter().any(|endpoint| {
                    rest == *endpoint
                        || rest.strip_prefix('/').and_then(|r| r.strip_suffix(endpoint)) == Some(client.name.as_str())
                })
            })
    };
    let ok = match claims.get("aud") {
        Some(Value::String(a)) => accepted(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    };
    if ok { Ok(()) } else { Err(fail()) }
}

/// The largest NumericDate accepted (2^53 s, beyond any real date): every sum below
/// stays far from `i64` overflow.
const MAX_DATE: i64 = 1 << 53;

/// A NumericDate (RFC 7519 §2): an integer or a finite non-integer number of seconds,
/// read down to the second, within ±[`MAX_DATE`]. Anything else (a string, `1e300`,
/// `-2^63`) is not a date this verifier can reason about.
fn numeric_date(v: &Value) -> Option<i64> {
    let t = match v.as_i64() {
        Some(t) => t,
        None => {
            let f = v.as_f64().filter(|f| f.is_finite())?.floor();
            if f.abs() > MAX_DATE as f64 {
                return None;
            }
            f as i64
        }
    };
    (t.unsigned_abs() <= MAX_DATE as u64).then_some(t)
}

/// Checks the assertion's times (RFC 7523 §3 items 4–6) and answers until when its
/// `jti` must be remembered: `exp` + [`LEEWAY`], the last moment this verifier would
/// still accept it (forgetting it at `exp` left a minute in which it could be replayed).
fn check_times(
    track: &TrackRuntime,
    claims: &serde_json::Map<String, Value>,
    now: UnixTime,
) -> Result<UnixTime, OAuthError> {
    let date = |k: &str| -> Result<Option<i64>, OAuthError> {
        claims.get(k).map(|v| numeric_date(v).ok_or_else(fail)).transpose()
    };
    let exp = date("exp")?.ok_or_else(fail)?;
    let (iat, nbf) = (date("iat")?, date("nbf")?);
    let cap = i64::from(track.settings.assertion_max_lifetime);
    let keep_until = exp.checked_add(LEEWAY).ok_or_else(fail)?;
    // Item 4: not expired (with leeway).
    if keep_until <= now {
        return Err(fail());
    }
    // Item 5/6: not issued or valid only in the future, and not issued longer ago than
    // any assertion could live (so no start time can stretch the lifetime check).
    let oldest = now.saturating_sub(cap).saturating_sub(LEEWAY);
    if [iat, nbf].into_iter().flatten().any(|t| t > now.saturating_add(LEEWAY) || t < oldest) {
        return Err(fail());
    }
    // The lifetime: exp − (iat, else nbf, else now) at most the track's cap.
    let start = iat.or(nbf).unwrap_or(now);
    if exp.checked_sub(start).is_none_or(|lifetime| lifetime > cap) {
        return Err(fail());
    }
    Ok(keep_until)
}
