//! Signing and verification round trips for every algorithm.
use super::*;

fn roundtrip(alg: SigningAlg) {
    let der = SigningKey::generate_pkcs8(alg).unwrap();
    let key = SigningKey::from_pkcs8(alg, &der).unwrap();
    let token = key.sign_access_token(br#"{"sub":"x"}"#).unwrap();
    let vk = VerifyingKey::from_jwk(alg, key.public_jwk()).unwrap();
    let (header, claims) = verify_compact(&token, |_| Some(&vk)).unwrap();
    assert_eq!(header.alg, alg.as_str());
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(key.kid()));
    assert_eq!(claims["sub"], "x");
    // a flipped payload byte breaks the signature
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = b64::encode(br#"{"sub":"y"}"#);
    parts[1] = &other;
    assert_eq!(verify_compact(&parts.join("."), |_| Some(&vk)).unwrap_err(), JwtError::BadSignature);
}

#[test]
fn every_track_algorithm_signs_and_verifies() {
    for alg in SigningAlg::ALL {
        roundtrip(alg);
    }
}

#[test]
fn ed25519_is_read_as_eddsa() {
    assert_eq!("Ed25519".parse::<SigningAlg>(), Ok(SigningAlg::EdDSA));
    let der = SigningKey::generate_pkcs8(SigningAlg::EdDSA).unwrap();
    let key = SigningKey::from_pkcs8(SigningAlg::EdDSA, &der).unwrap();
    let token = key.sign_with_typ("JWT", b"{}").unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let header = br#"{"alg":"Ed25519","typ":"JWT"}"#;
    parts[0] = b64::encode(header);
    // re-sign under the new header
    let msg = format!("{}.{}", parts[0], parts[1]);
    let vk = VerifyingKey::from_jwk(SigningAlg::EdDSA, key.public_jwk()).unwrap();
    let Pair::Ed25519(pair) = &key.pair else { unreachable!() };
    parts[2] = b64::encode(pair.sign(msg.as_bytes()).as_ref());
    assert!(verify_compact(&parts.join("."), |_| Some(&vk)).is_ok());
}

#[test]
fn a_token_with_crit_is_refused_even_when_its_signature_verifies() {
    let der = SigningKey::generate_pkcs8(SigningAlg::EdDSA).unwrap();
    let key = SigningKey::from_pkcs8(SigningAlg::EdDSA, &der).unwrap();
    let vk = VerifyingKey::from_jwk(SigningAlg::EdDSA, key.public_jwk()).unwrap();
    let Pair::Ed25519(pair) = &key.pair else { unreachable!() };
    for header in [&br#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#[..], br#"{"alg":"EdDSA","crit":[]}"#] {
        let msg = format!("{}.{}", b64::encode(header), b64::encode(b"{}"));
        let token = format!("{msg}.{}", b64::encode(pair.sign(msg.as_bytes()).as_ref()));
        assert_eq!(verify_compact(&token, |_| Some(&vk)).unwrap_err(), JwtError::UnknownCritical);
    }
}

#[test]
fn a_token_claiming_another_alg_is_refused() {
    let der = SigningKey::generate_pkcs8(SigningAlg::ES256).unwrap();
    let key = SigningKey::from_pkcs8(SigningAlg::ES256, &der).unwrap();
    let vk = VerifyingKey::from_jwk(SigningAlg::ES256, key.public_jwk()).unwrap();
    let forged = format!("{}.{}.", b64::encode(br#"{"alg":"none"}"#), b64::encode(b"{}"));
    assert_eq!(verify_compact(&forged, |_| Some(&vk)).unwrap_err(), JwtError::UnsupportedAlg);
}

/// Keys are parsed when the verifier is made, not at each verification: a point off the
/// curve or a wrong-length Ed25519 key is refused there (an RSA modulus's size is still
/// checked by aws-lc-rs at each verification).
#[test]
fn a_key_that_does_not_parse_is_refused_when_the_verifier_is_made() {
    let ec = Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: Some(b64::encode(&[1u8; 32])),
        y: Some(b64::encode(&[1u8; 32])),
        ..empty_jwk()
    };
    assert_eq!(VerifyingKey::from_jwk(SigningAlg::ES256, &ec).unwrap_err(), JwtError::BadKey);
    let ed = Jwk { kty: "OKP".into(), crv: Some("Ed25519".into()), x: Some(b64::encode(&[7u8; 31])), ..empty_jwk() };
    assert_eq!(VerifyingKey::from_jwk(SigningAlg::EdDSA, &ed).unwrap_err(), JwtError::BadKey);
}
