//! `private_key_jwt` (RFC 7523 §2.2, §3): client assertions signed with a key read once
//! from a PEM or PKCS#12/PFX file.

use std::str::FromStr;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::json;

use super::{
    config::PrivateKeyJwtConfig,
    error::{ConfigError, TokenError},
};

/// RFC 7523 §2.2 `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Lifetime of an assertion, seconds: short, since it is made for one request.
const LIFETIME: u64 = 60;

/// Signs one fresh assertion per token request.
pub(crate) struct AssertionSigner {
    key: EncodingKey,
    header: Header,
    client_id: String,
    audience: String,
}

impl std::fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionSigner").field("alg", &self.header.alg).field("kid", &self.header.kid).finish()
    }
}

impl AssertionSigner {
    /// Reads and checks the key (a test signature is made at once).
    pub(crate) fn load(cfg: &PrivateKeyJwtConfig, client_id: &str, token_url: &str) -> Result<Self, ConfigError> {
        let path = cfg.key_file.display().to_string();
        let err = |reason: String| ConfigError::Key { path: path.clone(), reason };
        let alg = parse_alg(&cfg.alg).map_err(&err)?;
        let bytes = std::fs::read(&cfg.key_file).map_err(|e| err(format!("cannot read: {e}")))?;
        let pem = if bytes.starts_with(b"-----BEGIN") {
            bytes
        } else {
            let password = cfg.key_password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
            pfx_to_pem(&bytes, &password).map_err(&err)?
        };
        let key = encoding_key(alg, &pem).map_err(&err)?;
        let mut header = Header::new(alg);
        header.kid = cfg.kid.clone();
        header.typ = Some("JWT".into());
        let audience = cfg.audience.clone().unwrap_or_else(|| token_url.to_owned());
        let signer = AssertionSigner { key, header, client_id: client_id.to_owned(), audience };
        signer.sign().map_err(|_| err(format!("the key cannot sign {}", cfg.alg)))?;
        Ok(signer)
    }

    /// A new assertion: `iss` = `sub` = the client, `aud` the token endpoint, a fresh `jti`.
    pub(crate) fn sign(&self) -> Result<String, TokenError> {
        let now = crate::env::unix_now();
        let claims = json!({
            "iss": self.client_id, "sub": self.client_id, "aud": self.audience,
            "iat": now, "nbf": now, "exp": now + LIFETIME, "jti": jti(),
        });
        jsonwebtoken::encode(&self.header, &claims, &self.key).map_err(|e| TokenError::Assertion(e.to_string()))
    }
}

fn parse_alg(s: &str) -> Result<Algorithm, String> {
    let alg = Algorithm::from_str(s).map_err(|_| format!("unknown algorithm {s:?}"))?;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(format!("{s} is symmetric; private_key_jwt needs RS*, PS*, ES* or EdDSA"));
    }
    Ok(alg)
}

fn encoding_key(alg: Algorithm, pem: &[u8]) -> Result<EncodingKey, String> {
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    };
    key.map_err(|e| {
        let hint = if pem.windows(14).any(|w| w == b"EC PRIVATE KEY") {
            " (SEC1 EC keys: convert with `openssl pkcs8 -topk8 -nocrypt`)"
        } else {
            ""
        };
        format!("not a {alg:?} private key: {e}{hint}")
    })
}

/// The PKCS#8 private key of a PFX, as PEM text.
fn pfx_to_pem(der: &[u8], password: &str) -> Result<Vec<u8>, String> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(der, password, Pkcs12ImportPolicy::Relaxed)
        .map_err(|e| format!("neither PEM nor a PFX that opens with this password ({e})"))?;
    let (_, chain) = store.private_key_chain().ok_or("the PFX holds no private key")?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(chain.key().as_der());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem.into_bytes())
}

/// 128 random bits, base64url.
fn jti() -> String {
    let mut b = [0u8; 16];
    crate::env::fill_random(&mut b);
    ferrid_oauth::b64::encode(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_unknown_algorithms_are_refused() {
        assert!(parse_alg("HS256").is_err());
        assert!(parse_alg("none").is_err());
        assert_eq!(parse_alg("ES256"), Ok(Algorithm::ES256));
    }

    #[test]
    fn jti_is_fresh() {
        assert_ne!(jti(), jti());
        assert_eq!(jti().len(), 22);
    }
}
