//! The compact JWS of a bearer token (RFC 7515 §7.1) and the claim checks of steps 5–6
//! (RFC 7519 §4.1), done here rather than by `jsonwebtoken` so that signatures are
//! verified against keys parsed once (docs/client.md "Keys and the cost of a
//! validation").

use std::fmt;

use ferrid_oauth::b64;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Why a token was refused by steps 1–6; each is a 401 `invalid_token` whose
/// description is [`Refusal::describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    NotJws,
    Algorithm,
    Critical,
    Typ,
    UnknownKey,
    Signature,
    Malformed,
    MissingClaim,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
}

impl Refusal {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Refusal::NotJws => "the token is not a signed JWT",
            Refusal::Algorithm => "the token's algorithm is not accepted",
            Refusal::Critical => "the token has critical header parameters",
            Refusal::Typ => "the token's typ is not accepted",
            Refusal::UnknownKey => "the token's signing key is unknown",
            Refusal::Signature => "the token's signature does not verify",
            Refusal::Malformed => "the token is malformed",
            Refusal::MissingClaim => "the token lacks a required claim",
            Refusal::Expired => "the token has expired",
            Refusal::NotYetValid => "the token is not valid yet",
            Refusal::Issuer => "the token's issuer is not accepted",
            Refusal::Audience => "the token's audience is not accepted",
        }
    }
}

/// The three parts of a compact JWS, not yet checked.
pub(crate) struct Compact<'t> {
    /// `header.payload`, the bytes the signature covers (RFC 7515 §5.2 step 8).
    pub signing_input: &'t str,
    pub payload: &'t str,
    pub signature: &'t str,
    pub header: Header,
}

/// The protected header members the checks read.
pub(crate) struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// RFC 7515 §4.1.11: present in any form, the token is refused (nothing is
    /// understood).
    pub crit: bool,
}

/// Splits `token` into exactly three parts and reads its header: a JSON object without
/// repeated members, `alg` a string, `kid` and `typ` strings when present.
pub(crate) fn split(token: &str) -> Result<Compact<'_>, Refusal> {
    let mut parts = token.split('.');
    let (Some(h), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::NotJws);
    };
    let mut members = b64::decode(h).and_then(|raw| object(&raw)).ok_or(Refusal::NotJws)?;
    let text = |v: Option<Value>| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::NotJws),
    };
    let alg = text(members.remove("alg"))?.ok_or(Refusal::NotJws)?;
    let header = Header {
        alg,
        kid: text(members.remove("kid"))?,
        typ: text(members.remove("typ"))?,
        crit: members.contains_key("crit"),
    };
    Ok(Compact { signing_input: &token[..h.len() + 1 + payload.len()], payload, signature, header })
}

/// A JSON object whose members are all named once (RFC 7515 §5.2, RFC 7519 §4: a
/// repeated name is refused rather than read as its last value).
pub(crate) fn object(raw: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(raw).ok().map(|o| o.0)
}

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object without repeated members")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom("repeated member"));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(V)
    }
}

/// What steps 5–6 require of the claims.
pub(crate) struct ClaimRules<'c> {
    pub issuer: Option<&'c str>,
    /// Empty: `aud` is not checked.
    pub audiences: &'c [String],
    pub leeway: u64,
}

/// A NumericDate (RFC 7519 §2): a non-negative number of seconds, a fraction rounded.
/// `Ok(None)` when absent or null, `Err` when present in another form.
fn numeric_date(v: Option<&Value>) -> Result<Option<u64>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(Some(u)),
            (None, Some(f)) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Ok(Some(f.round() as u64)),
            _ => Err(()),
        },
        Some(_) => Err(()),
    }
}

/// A string, or an array of strings only; `None` for anything else (or absent).
fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    match v? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Steps 5–6, in this order: the required claims are present (`exp` always, `iss` and
/// `aud` when configured), `nbf` is a NumericDate when present, `exp` is not reached and
/// `nbf` not future beyond the leeway (RFC 7519 §4.1.4-5), `iss` equals the configured
/// issuer (§4.1.1), `aud` names a configured audience (§4.1.3). Returns `exp`.
pub(crate) fn check_claims(c: &Map<String, Value>, rules: &ClaimRules<'_>, now: u64) -> Result<u64, Refusal> {
    let Ok(Some(exp)) = numeric_date(c.get("exp")) else {
        return Err(Refusal::MissingClaim);
    };
    let iss = c.get("iss").filter(|v| !v.is_null());
    if rules.issuer.is_some() && strings(iss).is_none() {
        return Err(Refusal::MissingClaim);
    }
    let aud = strings(c.get("aud"));
    if !rules.audiences.is_empty() && aud.is_none() {
        return Err(Refusal::MissingClaim);
    }
    let nbf = numeric_date(c.get("nbf")).map_err(|()| Refusal::Malformed)?;
    // "MUST NOT be accepted for processing on or after" `exp` (RFC 7519 §4.1.4), the
    // leeway added: the same boundary as the introspection path's.
    if exp.saturating_add(rules.leeway) <= now {
        return Err(Refusal::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(rules.leeway)) {
        return Err(Refusal::NotYetValid);
    }
    // `iss` is one string (RFC 7519 §4.1.1): an array never matches.
    if let Some(want) = rules.issuer
        && iss.and_then(Value::as_str) != Some(want)
    {
        return Err(Refusal::Issuer);
    }
    if !rules.audiences.is_empty() && !aud.unwrap_or_default().iter().any(|a| rules.audiences.iter().any(|w| w == a)) {
        return Err(Refusal::Audience);
    }
    Ok(exp)
}

#[cfg(test)]
mod tests;
