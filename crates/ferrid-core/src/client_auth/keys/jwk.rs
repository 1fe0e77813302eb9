//! A public JWK given as JSON (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
//!
//! The stored JWK is rebuilt from the decoded key (leading zeros of `n`/`e` dropped),
//! keeping `kid`, `use` and `alg`; other members (`x5c`, `key_ops`, …) are not kept.
//! A JWK with private members is refused, never stripped.

use ferrid_oauth::{b64, jwt::SigningAlg};
use serde_json::{Map, Value};

use super::{ClientKey, KeyImportError, spki};

/// RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2: members that only a private or
/// symmetric key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

pub(super) fn import(value: &Value) -> Result<ClientKey, KeyImportError> {
    let obj = value.as_object().ok_or_else(|| malformed("expected a JSON object"))?;
    let private: Vec<&str> = PRIVATE_MEMBERS.into_iter().filter(|m| obj.contains_key(*m)).collect();
    if !private.is_empty() {
        return Err(KeyImportError::JwkHasPrivateMembers(private.join(", ")));
    }
    let kty = string(obj, "kty")?.ok_or_else(|| malformed("kty is missing"))?;
    let crv = string(obj, "crv")?;
    let mut jwk = match (kty, crv) {
        ("RSA", _) => spki::rsa(&bytes(obj, "n")?, &bytes(obj, "e")?)?,
        ("EC", Some("P-256")) => spki::p256(&bytes(obj, "x")?, &bytes(obj, "y")?)?,
        ("EC" | "OKP", None) => return Err(malformed("crv is missing")),
        ("EC", Some(other)) => return Err(spki::unsupported_type(&format!("EC curve {other}"))),
        ("OKP", Some("Ed25519")) => spki::ed25519(&bytes(obj, "x")?)?,
        ("OKP", Some(other)) => return Err(spki::unsupported_type(&format!("OKP curve {other}"))),
        ("oct", _) => return Err(spki::unsupported_type("a symmetric (oct) key")),
        (other, _) => return Err(spki::unsupported_type(&format!("key type {other}"))),
    };
    jwk.use_ = check_use(obj)?;
    jwk.alg = check_alg(obj, kty)?;
    check_key_ops(obj)?;
    let kid = match string(obj, "kid")?.filter(|k| !k.is_empty()) {
        Some(kid) => kid.to_owned(),
        None => jwk.thumbprint().ok_or_else(|| malformed("no thumbprint"))?,
    };
    jwk.kid = Some(kid.clone());
    Ok(ClientKey { kid, jwk, not_before: None, not_after: None, thumbprint_sha256: None, subject: None })
}

/// RFC 7517 §4.2: a key meant for encryption does not verify client assertions.
fn check_use(obj: &Map<String, Value>) -> Result<Option<String>, KeyImportError> {
    match string(obj, "use")? {
        None => Ok(None),
        Some("sig") => Ok(Some("sig".into())),
        Some(other) => Err(KeyImportError::UnsupportedKey(format!(
            "the JWK is for use \"{other}\"; a client assertion key must be a signing key (\"sig\")"
        ))),
    }
}

/// RFC 7517 §4.4: when the JWK names its algorithm, it must be one ferrid verifies
/// with this key type; [`ClientKey::verifiers`] then offers only that one.
fn check_alg(obj: &Map<String, Value>, kty: &str) -> Result<Option<String>, KeyImportError> {
    let Some(alg) = string(obj, "alg")? else {
        return Ok(None);
    };
    let fits = match alg.parse::<SigningAlg>() {
        Ok(SigningAlg::RS256 | SigningAlg::PS256) => kty == "RSA",
        Ok(SigningAlg::ES256) => kty == "EC",
        Ok(SigningAlg::EdDSA) => kty == "OKP",
        Err(_) => false,
    };
    if fits {
        Ok(Some(alg.to_owned()))
    } else {
        Err(KeyImportError::UnsupportedKey(format!(
            "alg \"{alg}\" with a {kty} key; supported: RS256 and PS256 (RSA), ES256 (EC P-256), EdDSA (Ed25519)"
        )))
    }
}

/// RFC 7517 §4.3: if `key_ops` is given it must allow `verify`.
fn check_key_ops(obj: &Map<String, Value>) -> Result<(), KeyImportError> {
    match obj.get("key_ops") {
        None => Ok(()),
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => Ok(()),
        Some(Value::Array(_)) => {
            Err(KeyImportError::UnsupportedKey("the JWK's key_ops do not include \"verify\"".into()))
        }
        Some(_) => Err(malformed("key_ops must be an array")),
    }
}

fn string<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, KeyImportError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(&format!("{name} must be a string"))),
    }
}

/// A required base64url member (RFC 7515 §2; trailing `=` padding tolerated).
fn bytes(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KeyImportError> {
    let s = string(obj, name)?.ok_or_else(|| malformed(&format!("{name} is missing")))?;
    b64::decode(s.trim_end_matches('='))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| malformed(&format!("{name} is not base64url")))
}

fn malformed(what: &str) -> KeyImportError {
    KeyImportError::MalformedJwk(what.into())
}
