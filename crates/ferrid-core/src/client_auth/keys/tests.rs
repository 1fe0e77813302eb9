use base64::{Engine, engine::general_purpose::STANDARD};
use ferrid_oauth::{
    b64,
    jwt::{JwtError, SigningAlg, SigningKey, verify_compact},
};
use rcgen::{
    CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PKCS_RSA_SHA256,
    RsaKeySize, SignatureAlgorithm,
};
use serde_json::json;

use super::{test_fixtures as fx, *};

mod pfx;

// ---- helpers ---------------------------------------------------------------------------

fn key_pair(alg: &'static SignatureAlgorithm) -> KeyPair {
    if alg == &PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(alg, RsaKeySize::_2048).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
    }
}

fn params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec!["client.example".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params
}

fn self_signed(kp: &KeyPair) -> rcgen::Certificate {
    params("test client").self_signed(kp).unwrap()
}

fn pem(text: &str) -> Result<ClientKey, KeyImportError> {
    import_key(KeyInput::Pem(text))
}

fn pfx(b64_der: &str, password: Option<&str>) -> Result<ClientKey, KeyImportError> {
    let der: String = b64_der.split_whitespace().collect();
    let der = STANDARD.decode(der).unwrap();
    import_key(KeyInput::Pfx { der: &der, password })
}

fn jwk(value: serde_json::Value) -> Result<ClientKey, KeyImportError> {
    import_key(KeyInput::Jwk(&value))
}

fn sha256_b64(bytes: &[u8]) -> String {
    b64::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// A compact JWS over fixed claims, signed with the PKCS#8 key by ferrid's own signer.
fn signed_token(alg: SigningAlg, pkcs8: &[u8]) -> String {
    let key = SigningKey::from_pkcs8(alg, pkcs8).unwrap();
    key.sign_with_typ("JWT", br#"{"iss":"c","sub":"c"}"#).unwrap()
}

fn verify_with(key: &ClientKey, token: &str) -> Result<(), JwtError> {
    let verifiers = key.verifiers();
    verify_compact(token, |h| verifiers.iter().find(|v| v.alg.as_str() == h.alg)).map(|_| ())
}

fn unsupported_mentions(result: Result<ClientKey, KeyImportError>, needle: &str) {
    match result {
        Err(KeyImportError::UnsupportedKey(msg)) => {
            assert!(msg.contains(needle), "{msg:?} does not mention {needle}")
        }
        other => panic!("expected UnsupportedKey({needle}), got {other:?}"),
    }
}

// ---- certificates (PEM) ----------------------------------------------------------------

#[test]
fn rsa_2048_certificate_imports_with_x5t_s256_as_kid() {
    let kp = key_pair(&PKCS_RSA_SHA256);
    let cert = self_signed(&kp);
    let key = pem(&cert.pem()).unwrap();
    let x5t = sha256_b64(cert.der());
    assert_eq!(key.kid, x5t);
    assert_eq!(key.thumbprint_sha256.as_deref(), Some(x5t.as_str()));
    assert_eq!(key.jwk.kid.as_deref(), Some(x5t.as_str()));
    assert_eq!(key.jwk.kty, "RSA");
    assert_eq!(key.jwk.e.as_deref(), Some("AQAB"));
    assert_eq!(b64::decode(key.jwk.n.as_deref().unwrap()).unwrap().len(), 256);
    assert_eq!(key.subject.as_deref(), Some("CN=test client"));
    assert!(key.not_before.is_some() && key.not_after.is_some());
}

#[test]
fn p256_certificate_imports_as_ec_jwk_with_the_certificates_point() {
    let kp = key_pair(&PKCS_ECDSA_P256_SHA256);
    let key = pem(&self_signed(&kp).pem()).unwrap();
    let point = kp.public_key_raw();
    assert_eq!((key.jwk.kty.as_str(), key.jwk.crv.as_deref()), ("EC", Some("P-256")));
    assert_eq!(key.jwk.x, Some(b64::encode(&point[1..33])));
    assert_eq!(key.jwk.y, Some(b64::encode(&point[33..])));
    assert_eq!(key.jwk.n, None);
}

#[test]
fn ed25519_certificate_imports_as_okp_jwk() {
    let kp = key_pair(&PKCS_ED25519);
    let key = pem(&self_signed(&kp).pem()).unwrap();
    assert_eq!((key.jwk.kty.as_str(), key.jwk.crv.as_deref()), ("OKP", Some("Ed25519")));
    assert_eq!(key.jwk.x, Some(b64::encode(kp.public_key_raw())));
}

#[test]
fn private_key_block_in_pem_is_ignored_and_never_stored() {
    let kp = key_pair(&PKCS_ECDSA_P256_SHA256);
    let cert = self_signed(&kp);
    let cert_only = pem(&cert.pem()).unwrap();
    // Key first, with the OpenSSL "Bag Attributes" chatter around it.
    let bundle = format!("Bag Attributes\n    localKeyID: 01\n{}\n{}", kp.serialize_pem(), cert.pem());
    let key = pem(&bundle).unwrap();
    assert_eq!(key, cert_only);
    let stored = serde_json::to_value(&key).unwrap();
    assert!(stored["jwk"].get("d").is_none());
    let pkcs8 = kp.serialize_der();
    assert_eq!(pkcs8[34..36], [0x04, 0x20], "ECPrivateKey's privateKey OCTET STRING");
    let d = b64::encode(&pkcs8[36..68]); // the private scalar: never in the output
    assert!(!stored.to_string().contains(&d));
}

#[test]
fn pem_with_crlf_and_indentation_imports() {
    let kp = key_pair(&PKCS_ED25519);
    let cert = self_signed(&kp);
    let messy: String = cert.pem().lines().map(|l| format!("  {l}\r\n")).collect();
    // "  -----BEGIN" is still found; the body's whitespace is dropped.
    assert_eq!(pem(&messy).unwrap(), pem(&cert.pem()).unwrap());
}

#[test]
fn bare_public_key_pem_gets_the_rfc7638_thumbprint_as_kid() {
    let kp = key_pair(&PKCS_ECDSA_P256_SHA256);
    let key = pem(&kp.public_key_pem()).unwrap();
    let point = kp.public_key_raw();
    let input = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        b64::encode(&point[1..33]),
        b64::encode(&point[33..])
    );
    assert_eq!(key.kid, sha256_b64(input.as_bytes()));
    assert_eq!(key.thumbprint_sha256, None);
    assert_eq!((key.not_before, key.not_after, key.subject), (None, None, None));
}

#[test]
fn pkcs1_rsa_public_key_pem_imports_like_its_spki() {
    let kp = key_pair(&PKCS_RSA_SHA256);
    // rcgen's raw RSA public key is the PKCS#1 RSAPublicKey.
    let pkcs1 = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        STANDARD.encode(kp.public_key_raw())
    );
    assert_eq!(pem(&pkcs1).unwrap(), pem(&kp.public_key_pem()).unwrap());
}

#[test]
fn pem_without_certificate_or_public_key_is_refused() {
    let kp = key_pair(&PKCS_ECDSA_P256_SHA256);
    for text in [kp.serialize_pem().as_str(), "", "hello", "-----BEGIN CERTIFICATE-----\nAAAA"] {
        assert_eq!(pem(text), Err(KeyImportError::PemNoPublicKey), "{text:?}");
    }
    let broken = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    assert_eq!(pem(broken), Err(KeyImportError::InvalidCertificate));
}

// ---- key policy -------------------------------------------------------------------------

#[test]
fn rsa_1024_is_refused_as_certificate_and_as_jwk() {
    unsupported_mentions(pem(fx::RSA_1024_CERT_PEM), "1024 bits");
    let (_, cert) = x509_parser::pem::parse_x509_pem(fx::RSA_1024_CERT_PEM.as_bytes()).unwrap();
    let cert = cert.parse_x509().unwrap();
    let x509_parser::public_key::PublicKey::RSA(rsa) = cert.public_key().parsed().unwrap() else { panic!("not RSA") };
    let n = b64::encode(rsa.modulus.strip_prefix(&[0]).unwrap_or(rsa.modulus));
    unsupported_mentions(jwk(json!({"kty": "RSA", "n": n, "e": "AQAB"})), "1024 bits");
}

#[test]
fn p384_is_refused() {
    let kp = key_pair(&PKCS_ECDSA_P384_SHA384);
    unsupported_mentions(pem(&self_signed(&kp).pem()), "P-384");
    unsupported_mentions(pem(&kp.public_key_pem()), "P-384");
    let xy = &kp.public_key_raw()[1..];
    let (x, y) = (b64::encode(&xy[..48]), b64::encode(&xy[48..]));
    unsupported_mentions(jwk(json!({"kty": "EC", "crv": "P-384", "x": x, "y": y})), "P-384");
}

#[test]
fn secp256k1_is_refused() {
    unsupported_mentions(pem(fx::SECP256K1_PUBLIC_PEM), "secp256k1");
    let k = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE";
    unsupported_mentions(jwk(json!({"kty": "EC", "crv": "secp256k1", "x": k, "y": k})), "secp256k1");
}

// ---- JWK --------------------------------------------------------------------------------

#[test]
fn jwk_of_each_type_imports_and_keeps_its_kid() {
    for alg in [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA] {
        let der = SigningKey::generate_pkcs8(alg).unwrap();
        let public = SigningKey::from_pkcs8(alg, &der).unwrap().public_jwk().clone();
        let mut value = serde_json::to_value(&public).unwrap();
        value["kid"] = json!("client-key-1");
        let key = jwk(value).unwrap();
        assert_eq!(key.kid, "client-key-1");
        assert_eq!(key.jwk.kid.as_deref(), Some("client-key-1"));
        assert_eq!((&key.jwk.n, &key.jwk.e, &key.jwk.x, &key.jwk.y), (&public.n, &public.e, &public.x, &public.y));
        assert_eq!((key.not_before, key.not_after, &key.thumbprint_sha256), (None, None, &None));
        assert!(key.valid_at(0) && key.valid_at(i64::MAX));
    }
}

#[test]
fn jwk_without_kid_gets_the_rfc7638_thumbprint() {
    // RFC 7638 §3.1's example key and thumbprint.
    let key = jwk(json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
    }))
    .unwrap();
    assert_eq!(key.kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn jwk_with_private_members_is_refused_not_stripped() {
    let der = SigningKey::generate_pkcs8(SigningAlg::ES256).unwrap();
    let public = SigningKey::from_pkcs8(SigningAlg::ES256, &der).unwrap().public_jwk().clone();
    let mut value = serde_json::to_value(&public).unwrap();
    value["d"] = json!("AAAA");
    assert_eq!(jwk(value), Err(KeyImportError::JwkHasPrivateMembers("d".into())));
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "x", "p": "x", "q": "x"});
    let err = jwk(rsa).unwrap_err();
    assert_eq!(err, KeyImportError::JwkHasPrivateMembers("d, p, q".into()));
    assert!(err.to_string().contains("private"));
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert_eq!(jwk(oct), Err(KeyImportError::JwkHasPrivateMembers("k".into())));
}

#[test]
fn malformed_jwks_are_refused() {
    let p = |x: &str| json!({"kty": "EC", "crv": "P-256", "x": x, "y": x});
    let thirty_two = b64::encode(&[7u8; 32]);
    for (value, expected) in [
        (json!("RSA"), "expected a JSON object"),
        (json!({"n": "AQAB"}), "kty is missing"),
        (json!({"kty": 3}), "kty must be a string"),
        (json!({"kty": "RSA", "e": "AQAB"}), "n is missing"),
        (json!({"kty": "RSA", "n": "***", "e": "AQAB"}), "n is not base64url"),
        (json!({"kty": "EC", "x": "AA"}), "crv is missing"),
        (json!({"kty": "OKP", "crv": "Ed25519"}), "x is missing"),
    ] {
        assert_eq!(jwk(value), Err(KeyImportError::MalformedJwk(expected.into())));
    }
    // Decodes, but is no key: the checks of aws-lc-rs speak.
    assert!(matches!(jwk(p("AAAA")), Err(KeyImportError::MalformedPublicKey(_))));
    assert!(
        matches!(jwk(p(&thirty_two)), Err(KeyImportError::MalformedPublicKey(m)) if m.contains("not on the P-256 curve"))
    );
}

#[test]
fn jwk_alg_must_fit_the_key_and_limits_the_verifiers() {
    let der = SigningKey::generate_pkcs8(SigningAlg::PS256).unwrap();
    let public = SigningKey::from_pkcs8(SigningAlg::PS256, &der).unwrap().public_jwk().clone();
    let with_alg = |alg: &str| {
        let mut v = serde_json::to_value(&public).unwrap();
        v["alg"] = json!(alg);
        jwk(v)
    };
    let ps = with_alg("PS256").unwrap();
    assert_eq!(ps.algorithms(), vec![SigningAlg::PS256]);
    let token = signed_token(SigningAlg::RS256, &der);
    assert_eq!(verify_with(&ps, &token), Err(JwtError::UnknownKey));
    unsupported_mentions(with_alg("ES256"), "alg \"ES256\"");
    unsupported_mentions(with_alg("RS512"), "alg \"RS512\"");
}

#[test]
fn jwks_not_meant_for_verification_are_refused() {
    let der = SigningKey::generate_pkcs8(SigningAlg::EdDSA).unwrap();
    let public = SigningKey::from_pkcs8(SigningAlg::EdDSA, &der).unwrap().public_jwk().clone();
    let mut enc = serde_json::to_value(&public).unwrap();
    enc["use"] = json!("enc");
    unsupported_mentions(jwk(enc), "use \"enc\"");
    let mut ops = serde_json::to_value(&public).unwrap();
    ops["use"] = serde_json::Value::Null;
    ops["key_ops"] = json!(["encrypt"]);
    unsupported_mentions(jwk(ops), "verify");
    unsupported_mentions(jwk(json!({"kty": "oct"})), "symmetric");
    let x = b64::encode(&[9u8; 32]);
    unsupported_mentions(jwk(json!({"kty": "OKP", "crv": "X25519", "x": x})), "X25519");
}

// ---- validity and verification ------------------------------------------------------------

#[test]
fn valid_at_is_false_outside_the_certificate_window() {
    let kp = key_pair(&PKCS_ED25519);
    let mut p = params("window");
    p.not_before = rcgen::date_time_ymd(2030, 1, 1);
    p.not_after = rcgen::date_time_ymd(2031, 1, 1);
    let key = pem(&p.self_signed(&kp).unwrap().pem()).unwrap();
    let (nb, na) = (p.not_before.unix_timestamp(), p.not_after.unix_timestamp());
    assert_eq!((key.not_before, key.not_after), (Some(nb), Some(na)));
    assert!(!key.valid_at(nb - 1));
    assert!(key.valid_at(nb));
    assert!(key.valid_at(na));
    assert!(!key.valid_at(na + 1));
}

#[test]
fn verifiers_offer_the_algorithms_of_the_key_type() {
    let algs = |sig_alg| pem(&self_signed(&key_pair(sig_alg)).pem()).unwrap().algorithms();
    assert_eq!(algs(&PKCS_RSA_SHA256), vec![SigningAlg::RS256, SigningAlg::PS256]);
    assert_eq!(algs(&PKCS_ECDSA_P256_SHA256), vec![SigningAlg::ES256]);
    assert_eq!(algs(&PKCS_ED25519), vec![SigningAlg::EdDSA]);
}

#[test]
fn verifiers_accept_the_matching_private_key_and_refuse_another() {
    for (sig_alg, jws_algs) in [
        (&PKCS_RSA_SHA256, &[SigningAlg::RS256, SigningAlg::PS256][..]),
        (&PKCS_ECDSA_P256_SHA256, &[SigningAlg::ES256][..]),
        (&PKCS_ED25519, &[SigningAlg::EdDSA][..]),
    ] {
        let kp = key_pair(sig_alg);
        let other = key_pair(sig_alg);
        let key = pem(&self_signed(&kp).pem()).unwrap();
        assert!(key.verifiers().iter().all(|v| v.kid.as_deref() == Some(key.kid.as_str())));
        for &alg in jws_algs {
            let good = signed_token(alg, &kp.serialize_der());
            assert_eq!(verify_with(&key, &good), Ok(()), "{alg}");
            let forged = signed_token(alg, &other.serialize_der());
            assert_eq!(verify_with(&key, &forged), Err(JwtError::BadSignature), "{alg}");
        }
    }
}
