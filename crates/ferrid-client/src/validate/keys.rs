//! Public keys of a JWKS, parsed once when the JWKS is fetched (docs/client.md
//! "Keys and the cost of a validation").
//!
//! aws-lc-rs verifies against a [`ParsedPublicKey`]: the RSA modulus is turned into a
//! big number and the EC point is decoded and checked to lie on its curve once per key
//! and algorithm, not once per token. A key is made ready for each algorithm it may
//! serve: the one its `alg` member names, or, without `alg`, every algorithm of its type
//! and curve (RSA: RS256/384/512 and PS256/384/512). RFC 8725 §3.1: the key's type and
//! curve must fit the algorithm, so an `EC` key never verifies an `RS256` token.

use std::{
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents, VerificationAlgorithm};
use ferrid_oauth::b64;
use jsonwebtoken::Algorithm;
use serde_json::Value;

/// The RSA algorithms, tried for an RSA key without `alg`.
const RSA_ALGS: [Algorithm; 6] =
    [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];

/// One usable public key: its `kid` and a parsed key per algorithm it may verify.
pub(crate) struct KeyEntry {
    pub kid: Option<String>,
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl KeyEntry {
    /// The parsed key for `alg`, if this key may verify it.
    pub fn verifier(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.parsed.iter().find(|(a, _)| *a == alg).map(|(_, k)| k)
    }

    /// Whether this key may have signed a token naming `kid` (if any) under `alg`.
    pub fn fits(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        (kid.is_none() || self.kid.as_deref() == kid) && self.verifier(alg).is_some()
    }
}

/// RSA verification parameters of aws-lc-rs for `alg` (2048 to 8192-bit moduli).
fn rsa_params(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// A JWK usable for signatures: not `use: enc`, not symmetric, of a known type and
/// curve fitting its `alg`, and parseable. Each parsed key adds one to `parsed`.
pub(crate) fn entry(v: &Value, parsed: &AtomicU64) -> Option<KeyEntry> {
    let member = |name: &str| v.get(name).and_then(Value::as_str);
    if member("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let alg = match v.get("alg") {
        None | Some(Value::Null) => None,
        Some(a) => Some(Algorithm::from_str(a.as_str()?).ok()?),
    };
    let bytes = |name: &str| member(name).and_then(b64::decode);
    // (algorithm, aws-lc-rs verification algorithm, public key bytes) for EC and OKP keys
    let raw = |alg_of_curve: Algorithm, verify: &'static dyn VerificationAlgorithm, key: Vec<u8>| {
        if alg.is_some_and(|a| a != alg_of_curve) {
            return None;
        }
        let k = ParsedPublicKey::new(verify, key).ok()?;
        parsed.fetch_add(1, Ordering::Relaxed);
        Some(vec![(alg_of_curve, k)])
    };
    let keys = match (member("kty")?, member("crv")) {
        ("RSA", _) => {
            let (n, e) = (bytes("n")?, bytes("e")?);
            let algs = match alg {
                Some(a) => vec![a],
                None => RSA_ALGS.to_vec(),
            };
            let mut keys = Vec::with_capacity(algs.len());
            for a in algs {
                let k = RsaPublicKeyComponents { n: &n, e: &e }.to_parsed_public_key(rsa_params(a)?).ok()?;
                parsed.fetch_add(1, Ordering::Relaxed);
                keys.push((a, k));
            }
            keys
        }
        ("EC", Some("P-256")) => raw(Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED, point(v, 32)?)?,
        ("EC", Some("P-384")) => raw(Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED, point(v, 48)?)?,
        ("OKP", Some("Ed25519")) => raw(Algorithm::EdDSA, &signature::ED25519, bytes("x")?)?,
        _ => return None,
    };
    let kid = member("kid").map(str::to_owned);
    Some(KeyEntry { kid, parsed: keys })
}

/// The uncompressed point `04 || x || y` of an EC JWK (RFC 7518 §6.2.1), each
/// coordinate `len` bytes.
fn point(v: &Value, len: usize) -> Option<Vec<u8>> {
    let coord = |name: &str| v.get(name).and_then(Value::as_str).and_then(b64::decode).filter(|c| c.len() == len);
    let (x, y) = (coord("x")?, coord("y")?);
    Some([&[4u8][..], &x, &y].concat())
}

#[cfg(test)]
mod tests;
