use aws_lc_rs::{
    encoding::AsDer,
    rsa::KeySize,
    signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair},
};
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;

/// A private key (for jsonwebtoken to sign with) and its public JWK without `alg`.
struct TestKey {
    signing: EncodingKey,
    jwk: Value,
}

fn rsa() -> TestKey {
    let k = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = k.as_der().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    );
    let pk = k.public_key();
    let jwk = json!({ "kty": "RSA", "kid": "rsa",
        "n": b64::encode(pk.modulus().big_endian_without_leading_zero()),
        "e": b64::encode(pk.exponent().big_endian_without_leading_zero()) });
    TestKey { signing: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(), jwk }
}

fn ec(alg: &'static signature::EcdsaSigningAlgorithm, crv: &str) -> TestKey {
    let k = EcdsaKeyPair::generate(alg).unwrap();
    let point = k.public_key().as_ref().to_vec();
    let half = (point.len() - 1) / 2;
    let jwk = json!({ "kty": "EC", "crv": crv, "kid": crv,
        "x": b64::encode(&point[1..1 + half]), "y": b64::encode(&point[1 + half..]) });
    TestKey { signing: EncodingKey::from_ec_der(k.to_pkcs8v1().unwrap().as_ref()), jwk }
}

fn ed25519() -> TestKey {
    let k = Ed25519KeyPair::generate().unwrap();
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64::encode(k.public_key().as_ref()) });
    TestKey { signing: EncodingKey::from_ed_der(k.to_pkcs8v1().unwrap().as_ref()), jwk }
}

/// The signing input and the signature of a token jsonwebtoken signs with `alg`.
fn signed(key: &TestKey, alg: Algorithm) -> (String, Vec<u8>) {
    let token = jsonwebtoken::encode(&Header::new(alg), &json!({ "sub": "x" }), &key.signing).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    (input.to_owned(), b64::decode(sig).unwrap())
}

#[test]
fn every_accepted_algorithm_verifies_with_a_key_parsed_once() {
    let rsa = rsa();
    let p256 = ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256");
    let p384 = ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384");
    let ed = ed25519();
    let cases: Vec<(&TestKey, Algorithm)> = RSA_ALGS
        .iter()
        .map(|a| (&rsa, *a))
        .chain([(&p256, Algorithm::ES256), (&p384, Algorithm::ES384), (&ed, Algorithm::EdDSA)])
        .collect();
    for (key, alg) in cases {
        let count = AtomicU64::new(0);
        let e = entry(&key.jwk, &count).unwrap_or_else(|| panic!("{alg:?}: key refused"));
        let (input, sig) = signed(key, alg);
        let verifier = e.verifier(alg).unwrap();
        assert!(verifier.verify_sig(input.as_bytes(), &sig).is_ok(), "{alg:?}");
        let mut tampered = input.clone().into_bytes();
        tampered[3] ^= 1;
        assert!(verifier.verify_sig(&tampered, &sig).is_err(), "{alg:?}: tampered input");
        // with `alg` declared, the key is parsed for that algorithm only
        let mut declared = key.jwk.clone();
        declared["alg"] = json!(format!("{alg:?}"));
        let count = AtomicU64::new(0);
        let d = entry(&declared, &count).unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 1, "{alg:?}");
        assert!(d.fits(None, alg));
        assert!(RSA_ALGS.iter().chain(&[Algorithm::ES256, Algorithm::ES384]).all(|a| *a == alg || !d.fits(None, *a)));
    }
}

#[test]
fn an_rsa_key_without_alg_serves_the_six_rsa_algorithms_and_nothing_else() {
    let count = AtomicU64::new(0);
    let e = entry(&rsa().jwk, &count).unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 6);
    assert!(RSA_ALGS.iter().all(|a| e.fits(Some("rsa"), *a)));
    assert!(!e.fits(None, Algorithm::ES256) && !e.fits(None, Algorithm::EdDSA) && !e.fits(None, Algorithm::HS256));
}

#[test]
fn the_key_type_and_curve_must_fit_the_declared_alg() {
    let count = AtomicU64::new(0);
    let with_alg = |mut jwk: Value, alg: &str| {
        jwk["alg"] = json!(alg);
        jwk
    };
    let p256 = ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256").jwk;
    assert!(entry(&with_alg(p256.clone(), "ES384"), &count).is_none());
    assert!(entry(&with_alg(p256.clone(), "RS256"), &count).is_none());
    assert!(entry(&with_alg(p256.clone(), "HS256"), &count).is_none());
    assert!(entry(&with_alg(p256.clone(), "none"), &count).is_none());
    assert!(entry(&with_alg(rsa().jwk, "ES256"), &count).is_none());
    assert!(entry(&with_alg(ed25519().jwk, "ES256"), &count).is_none());
    // a P-256 point given as a P-384 key, or off the curve, is refused at parse time
    let mut wrong_curve = p256.clone();
    wrong_curve["crv"] = json!("P-384");
    assert!(entry(&wrong_curve, &count).is_none());
    let mut off_curve = p256.clone();
    off_curve["y"] = json!(b64::encode(&[7u8; 32]));
    assert!(entry(&off_curve, &count).is_none());
    assert_eq!(count.load(Ordering::Relaxed), 0, "nothing was parsed");
}

#[test]
fn encryption_symmetric_and_broken_keys_are_skipped() {
    let count = AtomicU64::new(0);
    let ec = json!({ "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" });
    let e = entry(&ec, &count).unwrap();
    assert_eq!(e.kid.as_deref(), Some("k1"));
    assert!(e.fits(Some("k1"), Algorithm::ES256));
    assert!(e.fits(None, Algorithm::ES256));
    assert!(!e.fits(Some("k2"), Algorithm::ES256));
    assert!(!e.fits(Some("k1"), Algorithm::RS256));
    let mut enc = ec.clone();
    enc["use"] = json!("enc");
    assert!(entry(&enc, &count).is_none());
    assert!(entry(&json!({ "kty": "oct", "k": "c2VjcmV0" }), &count).is_none());
    assert!(entry(&json!({ "kty": "EC", "crv": "P-256" }), &count).is_none());
    assert!(entry(&json!({ "kty": "RSA", "n": "AAEC", "e": "AQAB" }), &count).is_none(), "leading zero");
    assert!(entry(&json!({ "kty": "EC", "crv": "P-521", "x": "AA", "y": "AA" }), &count).is_none());
}
