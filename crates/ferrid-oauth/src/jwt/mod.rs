//! Compact JWS signing and verification (RFC 7515, RFC 7518, RFC 8037) with aws-lc-rs.
//!
//! A [`SigningKey`] is parsed once and reused for every token: the hot path signs
//! without re-reading key material (`jsonwebtoken::encode` re-parses on every call).

use std::{fmt, str::FromStr};

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair},
};
use serde::{Deserialize, Serialize};

use crate::{
    b64,
    jwk::{Jwk, Jwks},
};

/// The signing algorithms a track may use (docs/model.md "Keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    #[default]
    RS256,
    PS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::PS256 => "PS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = JwtError;
    /// Also reads `Ed25519`, the fully-specified name (RFC 9864) that some clients
    /// (openid-client 6) put in a JWS header for what ferrid calls `EdDSA`.
    fn from_str(s: &str) -> Result<Self, JwtError> {
        if s == "Ed25519" {
            return Ok(SigningAlg::EdDSA);
        }
        SigningAlg::ALL.into_iter().find(|a| a.as_str() == s).ok_or(JwtError::UnsupportedAlg)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("unsupported algorithm")]
    UnsupportedAlg,
    #[error("invalid key material")]
    BadKey,
    #[error("malformed token")]
    Malformed,
    #[error("unknown key id")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("critical header extension not understood")]
    UnknownCritical,
}

enum Pair {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key parsed once, with its public JWK and the encoded header prefixes.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    pair: Pair,
    public: Jwk,
    rng: SystemRandom,
    /// base64url of `{"alg":…,"kid":…,"typ":"at+jwt"}` followed by `.`
    at_jwt_prefix: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("private", &"[redacted]")
            .finish()
    }
}

/// The random source of ECDSA signatures. aws-lc-rs signs only with its own
/// `SecureRandom`, a sealed trait that ferrid's `env::Rng` cannot implement, so this is
/// the one OS random source outside `ferrid_core::env` (docs/ARCHITECTURE.md "Time and
/// randomness"; `scripts/check-env` keeps it the only one).
#[allow(clippy::disallowed_methods)]
fn signing_rng() -> SystemRandom {
    SystemRandom::new()
}

impl SigningKey {
    /// Generates a fresh key for `alg` and returns its PKCS#8 v1 document, to be stored
    /// (encrypted) and later loaded with [`SigningKey::from_pkcs8`].
    pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, JwtError> {
        use aws_lc_rs::encoding::AsDer;
        let der = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                RsaKeyPair::generate(KeySize::Rsa2048).and_then(|k| k.as_der()).map(|d| d.as_ref().to_vec())
            }
            SigningAlg::ES256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            SigningAlg::EdDSA => Ed25519KeyPair::generate().and_then(|k| k.to_pkcs8v1()).map(|d| d.as_ref().to_vec()),
        };
        der.map_err(|_| JwtError::BadKey)
    }

    /// Parses a PKCS#8 private key for `alg`; the `kid` is the RFC 7638 thumbprint.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<SigningKey, JwtError> {
        let (pair, public) = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let k = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| JwtError::BadKey)?;
                let pk = k.public_key();
                let jwk = rsa_jwk(
                    pk.modulus().big_endian_without_leading_zero(),
                    pk.exponent().big_endian_without_leading_zero(),
                );
                let enc: &'static dyn signature::RsaEncoding =
                    if alg == SigningAlg::RS256 { &signature::RSA_PKCS1_SHA256 } else { &signature::RSA_PSS_SHA256 };
                (Pair::Rsa(k, enc), jwk)
            }
            SigningAlg::ES256 => {
                let k = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|_| JwtError::BadKey)?;
                let point = k.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(JwtError::BadKey);
                }
                let jwk = Jwk {
                    kty: "EC".into(),
                    crv: Some("P-256".into()),
                    x: Some(b64::encode(&point[1..33])),
                    y: Some(b64::encode(&point[33..65])),
                    ..empty_jwk()
                };
                (Pair::Ecdsa(k), jwk)
            }
            SigningAlg::EdDSA => {
                let k = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| JwtError::BadKey)?;
                let jwk = Jwk {
                    kty: "OKP".into(),
                    crv: Some("Ed25519".into()),
                    x: Some(b64::encode(k.public_key().as_ref())),
                    ..empty_jwk()
                };
                (Pair::Ed25519(k), jwk)
            }
        };
        let kid = public.thumbprint().ok_or(JwtError::BadKey)?;
        let public = Jwk { kid: Some(kid.clone()), use_: Some("sig".into()), alg: Some(alg.as_str().into()), ..public };
        let header = format!(r#"{{"alg":"{}","kid":"{}","typ":"at+jwt"}}"#, alg.as_str(), kid);
        let mut at_jwt_prefix = b64::encode(header.as_bytes());
        at_jwt_prefix.push('.');
        Ok(SigningKey { alg, kid, pair, public, rng: signing_rng(), at_jwt_prefix })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in the JWKS.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// Signs `claims` (a serialized JSON object) as an RFC 9068 access token
    /// (`typ: at+jwt`) and returns the compact serialization.
    pub fn sign_access_token(&self, claims: &[u8]) -> Result<String, JwtError> {
        let mut out = String::with_capacity(self.at_jwt_prefix.len() + claims.len() * 4 / 3 + 360);
        out.push_str(&self.at_jwt_prefix);
        b64::encode_into(claims, &mut out);
        self.append_signature(&mut out)?;
        Ok(out)
    }

    /// Signs `claims` under a header with the given `typ` (e.g. `JWT` for ID tokens).
    pub fn sign_with_typ(&self, typ: &str, claims: &[u8]) -> Result<String, JwtError> {
        let header = serde_json::json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let mut out = b64::encode(header.to_string().as_bytes());
        out.push('.');
        b64::encode_into(claims, &mut out);
        self.append_signature(&mut out)?;
        Ok(out)
    }

    fn append_signature(&self, signing_input: &mut String) -> Result<(), JwtError> {
        let msg = signing_input.as_bytes();
        let sig = match &self.pair {
            Pair::Rsa(k, enc) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(*enc, &self.rng, msg, &mut sig).map_err(|_| JwtError::BadKey)?;
                sig
            }
            Pair::Ecdsa(k) => k.sign(&self.rng, msg).map_err(|_| JwtError::BadKey)?.as_ref().to_vec(),
            Pair::Ed25519(k) => k.sign(msg).as_ref().to_vec(),
        };
        signing_input.push('.');
        b64::encode_into(&sig, signing_input);
        Ok(())
    }
}

fn empty_jwk() -> Jwk {
    Jwk { kty: String::new(), kid: None, use_: None, alg: None, n: None, e: None, crv: None, x: None, y: None }
}

fn rsa_jwk(n: &[u8], e: &[u8]) -> Jwk {
    Jwk { kty: "RSA".into(), n: Some(b64::encode(n)), e: Some(b64::encode(e)), ..empty_jwk() }
}

/// A public key that verifies signatures of one algorithm, parsed once when it is made
/// (the RSA modulus into a big number, the EC point decoded and checked to lie on its
/// curve), so that a verification does not parse it again.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub alg: SigningAlg,
    pub kid: Option<String>,
    parsed: signature::ParsedPublicKey,
}

impl VerifyingKey {
    /// Builds a verifier from a JWK for the given algorithm; the JWK's `kty`/`crv` must
    /// fit the algorithm (RFC 8725 §3.1: the algorithm is fixed by the verifier, not the
    /// token), and the key must parse (an RSA modulus of 2048 to 8192 bits, a point on
    /// the curve).
    pub fn from_jwk(alg: SigningAlg, jwk: &Jwk) -> Result<VerifyingKey, JwtError> {
        let dec = |v: &Option<String>| v.as_deref().and_then(b64::decode).ok_or(JwtError::BadKey);
        let parsed = match (alg, jwk.kty.as_str(), jwk.crv.as_deref()) {
            (SigningAlg::RS256 | SigningAlg::PS256, "RSA", _) => {
                let params = if alg == SigningAlg::RS256 {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    &signature::RSA_PSS_2048_8192_SHA256
                };
                let (n, e) = (dec(&jwk.n)?, dec(&jwk.e)?);
                signature::RsaPublicKeyComponents { n: &n, e: &e }.to_parsed_public_key(params)
            }
            (SigningAlg::ES256, "EC", Some("P-256")) => {
                let (x, y) = (dec(&jwk.x)?, dec(&jwk.y)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JwtError::BadKey);
                }
                signature::ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, [&[4u8][..], &x, &y].concat())
            }
            (SigningAlg::EdDSA, "OKP", Some("Ed25519")) => {
                signature::ParsedPublicKey::new(&signature::ED25519, dec(&jwk.x)?)
            }
            _ => return Err(JwtError::BadKey),
        }
        .map_err(|_| JwtError::BadKey)?;
        Ok(VerifyingKey { alg, kid: jwk.kid.clone(), parsed })
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.parsed.verify_sig(msg, sig).is_ok()
    }
}

/// The protected header members ferrid reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// RFC 7515 §4.1.8: SHA-256 thumbprint of the signer's certificate.
    #[serde(default, rename = "x5t#S256")]
    pub x5t_s256: Option<String>,
    /// RFC 7515 §4.1.11: extensions the recipient must understand. ferrid understands
    /// none, so a token carrying `crit` (in any form) is refused by [`verify_compact`].
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// Splits a compact JWS, checks its signature with the key `find_key` returns for the
/// header, and returns the header and the payload's JSON. Claims are not checked here.
pub fn verify_compact<'k>(
    token: &str,
    find_key: impl FnOnce(&Header) -> Option<&'k VerifyingKey>,
) -> Result<(Header, serde_json::Value), JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header: Header = b64::decode(h).and_then(|raw| serde_json::from_slice(&raw).ok()).ok_or(JwtError::Malformed)?;
    // RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit` lists an extension it
    // does not understand; ferrid understands none (and an empty list is itself invalid).
    if header.crit.is_some() {
        return Err(JwtError::UnknownCritical);
    }
    let key = find_key(&header).ok_or(JwtError::UnknownKey)?;
    if header.alg.parse::<SigningAlg>() != Ok(key.alg) {
        return Err(JwtError::UnsupportedAlg);
    }
    let sig = b64::decode(s).ok_or(JwtError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    if !key.verify(signing_input.as_bytes(), &sig) {
        return Err(JwtError::BadSignature);
    }
    let claims = b64::decode(p).and_then(|raw| serde_json::from_slice(&raw).ok()).ok_or(JwtError::Malformed)?;
    Ok((header, claims))
}

/// Builds a JWKS from signing keys' public halves.
pub fn jwks_of<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Jwks {
    Jwks { keys: keys.into_iter().map(|k| k.public_jwk().clone()).collect() }
}

#[cfg(test)]
mod tests;
