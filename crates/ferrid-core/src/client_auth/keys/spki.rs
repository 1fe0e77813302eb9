//! The key policy, and public keys as canonical JWKs (RFC 7518 §6, RFC 8037 §2).
//!
//! Every key, however it arrived, passes through [`rsa`], [`p256`] or [`ed25519`]: they
//! apply the policy (RSA 2048–8192 bits, P-256, Ed25519), check the key with aws-lc-rs
//! (a point on the curve, a well-formed RSA key) and build the JWK from the decoded bytes.

use aws_lc_rs::{
    encoding::AsDer,
    rsa::PublicKeyComponents,
    signature::{self, ParsedPublicKey},
};
use ferrid_oauth::{b64, jwk::Jwk};
use x509_parser::{
    oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519},
    prelude::FromDer,
    public_key::RSAPublicKey,
    x509::SubjectPublicKeyInfo,
};

use super::KeyImportError;

/// RFC 7518 §3.3 requires 2048 bits; aws-lc-rs verifies RS256/PS256 up to 8192.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// Converts a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) into a public JWK.
pub(super) fn jwk_from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<Jwk, KeyImportError> {
    let alg = &spki.algorithm.algorithm;
    let key: &[u8] = spki.subject_public_key.data.as_ref();
    if *alg == OID_PKCS1_RSAENCRYPTION {
        rsa_from_pkcs1(key)
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        // RFC 5480 §2.1.1: namedCurve; explicit parameters are not allowed in PKIX.
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .ok_or_else(|| unsupported_type("an EC key without a named curve"))?;
        if curve != OID_EC_P256 {
            let name = curve_name(&curve.to_id_string());
            return Err(unsupported_type(&format!("EC curve {name}")));
        }
        p256_point(key)
    } else if *alg == OID_SIG_ED25519 {
        ed25519(key)
    } else {
        let name = algorithm_name(&alg.to_id_string());
        Err(unsupported_type(&format!("key algorithm {name}")))
    }
}

/// A PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1).
pub(super) fn rsa_from_pkcs1(der: &[u8]) -> Result<Jwk, KeyImportError> {
    let (_, key) = RSAPublicKey::from_der(der).map_err(|_| malformed("invalid RSA public key"))?;
    rsa(key.modulus, key.exponent)
}

/// An RSA key from its modulus and exponent (big-endian, leading zeros allowed).
pub(super) fn rsa(n: &[u8], e: &[u8]) -> Result<Jwk, KeyImportError> {
    let (n, e) = (strip_leading_zeros(n), strip_leading_zeros(e));
    let bits = bit_len(n);
    if bits < RSA_MIN_BITS {
        return Err(unsupported(format!("an RSA key of {bits} bits (at least {RSA_MIN_BITS} are required)")));
    }
    if bits > RSA_MAX_BITS {
        return Err(unsupported(format!("an RSA key of {bits} bits (at most {RSA_MAX_BITS} are supported)")));
    }
    // Building the SPKI and parsing it back runs aws-lc's RSA_check_key (odd n, sane e).
    let valid = PublicKeyComponents { n, e }
        .as_der()
        .ok()
        .and_then(|spki| aws_lc_rs::rsa::PublicKey::from_der(spki.as_ref()).ok())
        .is_some();
    if !valid {
        return Err(malformed("invalid RSA public key"));
    }
    Ok(Jwk { n: Some(b64::encode(n)), e: Some(b64::encode(e)), ..blank("RSA", None) })
}

/// A P-256 key from its coordinates (RFC 7518 §6.2.1: each exactly 32 bytes).
pub(super) fn p256(x: &[u8], y: &[u8]) -> Result<Jwk, KeyImportError> {
    if x.len() != 32 || y.len() != 32 {
        return Err(malformed("P-256 coordinates must be 32 bytes each"));
    }
    p256_point(&[&[4u8][..], x, y].concat())
}

/// A P-256 key from its SEC 1 encoded point.
fn p256_point(point: &[u8]) -> Result<Jwk, KeyImportError> {
    match point {
        [4, xy @ ..] if xy.len() == 64 => {
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .map_err(|_| malformed("the point is not on the P-256 curve"))?;
            Ok(Jwk { x: Some(b64::encode(&xy[..32])), y: Some(b64::encode(&xy[32..])), ..blank("EC", Some("P-256")) })
        }
        [2 | 3, ..] => Err(unsupported("a compressed EC point; export the key with an uncompressed point".into())),
        _ => Err(malformed("invalid P-256 point")),
    }
}

/// An Ed25519 key from its 32 raw bytes (RFC 8032 §5.1.5).
pub(super) fn ed25519(x: &[u8]) -> Result<Jwk, KeyImportError> {
    if x.len() != 32 {
        return Err(malformed("an Ed25519 key is 32 bytes"));
    }
    ParsedPublicKey::new(&signature::ED25519, x).map_err(|_| malformed("invalid Ed25519 public key"))?;
    Ok(Jwk { x: Some(b64::encode(x)), ..blank("OKP", Some("Ed25519")) })
}

fn blank(kty: &str, crv: Option<&str>) -> Jwk {
    Jwk {
        kty: kty.into(),
        kid: None,
        use_: None,
        alg: None,
        n: None,
        e: None,
        crv: crv.map(Into::into),
        x: None,
        y: None,
    }
}

fn strip_leading_zeros(v: &[u8]) -> &[u8] {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    &v[zeros..]
}

fn bit_len(v: &[u8]) -> usize {
    match v.first() {
        Some(first) => v.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// Names the curves an administrator is likely to meet, for the error message.
fn curve_name(oid: &str) -> String {
    match oid {
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".into(),
        other => other.into(),
    }
}

fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS (restricted RSA key)".into(),
        "1.3.101.110" => "X25519".into(),
        "1.3.101.111" => "X448".into(),
        "1.3.101.113" => "Ed448".into(),
        other => other.into(),
    }
}

/// What the refusal of a key type should teach.
pub(super) const SUPPORTED: &str = "ferrid accepts RSA (2048 bits or more), EC P-256 and Ed25519";

/// A key type or curve outside the policy.
pub(super) fn unsupported_type(what: &str) -> KeyImportError {
    KeyImportError::UnsupportedKey(format!("{what}; {SUPPORTED}"))
}

fn unsupported(what: String) -> KeyImportError {
    KeyImportError::UnsupportedKey(what)
}

fn malformed(what: &str) -> KeyImportError {
    KeyImportError::MalformedPublicKey(what.into())
}
