//! ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.6): `typ: JWT`, signed by the track's
//! active key (the same algorithm as its access tokens).

use aws_lc_rs::digest;
use ferrid_oauth::{
    OAuthError,
    jwt::{SigningAlg, SigningKey},
};
use serde::Serialize;

use crate::model::UnixTime;

/// What an ID token says.
pub struct IdToken<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    /// `aud`: the client (one audience, so no `azp`).
    pub client: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: UnixTime,
    pub sid: &'a str,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code issued with it, for `c_hash`.
    pub code: Option<&'a str>,
    pub issued_at: UnixTime,
    pub lifetime: u32,
    /// Claims of the granted scopes, when no access token comes with the ID token
    /// (OpenID Connect Core 1.0 §5.4); never a protocol claim.
    pub extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: UnixTime,
    iat: UnixTime,
    auth_time: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    c_hash: Option<String>,
}

/// `at_hash` / `c_hash` (OpenID Connect Core 1.0 §3.1.3.6, §3.3.2.11): the left half of
/// the hash of the ASCII value, with the hash of the JWS algorithm: SHA-256 for RS256,
/// PS256 and ES256; SHA-512 for EdDSA over Ed25519 (the hash Ed25519 itself uses, as
/// OpenID Connect's errata settle it).
pub fn half_hash(alg: SigningAlg, value: &str) -> String {
    let algorithm = match alg {
        SigningAlg::EdDSA => &digest::SHA512,
        _ => &digest::SHA256,
    };
    let d = digest::digest(algorithm, value.as_bytes());
    let bytes = d.as_ref();
    ferrid_oauth::b64::encode(&bytes[..bytes.len() / 2])
}

/// Signs the ID token.
pub fn mint(key: &SigningKey, t: &IdToken<'_>) -> Result<String, OAuthError> {
    let claims = Claims {
        iss: t.issuer,
        sub: t.subject,
        aud: t.client,
        exp: t.issued_at + i64::from(t.lifetime),
        iat: t.issued_at,
        auth_time: t.auth_time,
        nonce: t.nonce,
        sid: t.sid,
        at_hash: t.access_token.map(|a| half_hash(key.alg(), a)),
        c_hash: t.code.map(|c| half_hash(key.alg(), c)),
    };
    let mut value =
        serde_json::to_value(&claims).map_err(|e| OAuthError::server_error().with_cause(format_args!("{e}")))?;
    if let (Some(extra), serde_json::Value::Object(map)) = (t.extra, &mut value) {
        for (k, v) in extra {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let json = serde_json::to_vec(&value).map_err(|e| OAuthError::server_error().with_cause(format_args!("{e}")))?;
    key.sign_with_typ("JWT", &json).map_err(|e| OAuthError::server_error().with_cause(format_args!("signing: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_of_the_token_for_es256() {
        // computed apart: base64url(SHA-256(token)[..16]) by Python's hashlib
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnWhbOkWq5GPCt";
        assert_eq!(half_hash(SigningAlg::RS256, token), "LGkvslm_uEslOA7iDaqBFA");
        assert_eq!(half_hash(SigningAlg::ES256, token), "LGkvslm_uEslOA7iDaqBFA");
    }

    #[test]
    fn at_hash_of_eddsa_uses_sha512() {
        let h = half_hash(SigningAlg::EdDSA, "x");
        assert_eq!(ferrid_oauth::b64::decode(&h).unwrap().len(), 32);
    }
}
