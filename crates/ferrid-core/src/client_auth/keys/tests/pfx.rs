//! PFX / PKCS#12 import: the fixtures of [`super::fx`] and one file written in-test.

use super::*;

#[test]
fn modern_aes_pfx_imports_its_end_entity_certificate() {
    let key = pfx(fx::PFX_MODERN, Some(fx::PFX_PASSWORD)).unwrap();
    assert_eq!(key, pem(fx::LEAF_PEM).unwrap());
    assert_ne!(key, pem(fx::CA_PEM).unwrap());
    assert_eq!(key.subject.as_deref(), Some("O=ferrid tests, CN=pfx client"));
}

#[test]
fn legacy_rc2_pfx_imports() {
    assert_eq!(pfx(fx::PFX_LEGACY, Some(fx::PFX_PASSWORD)).unwrap(), pem(fx::LEAF_PEM).unwrap());
}

#[test]
fn windows_style_3des_pfx_imports() {
    assert_eq!(pfx(fx::PFX_3DES, Some(fx::PFX_PASSWORD)).unwrap(), pem(fx::LEAF_PEM).unwrap());
}

#[test]
fn pfx_without_password_is_refused_even_when_valid() {
    for file in [fx::PFX_MODERN, fx::PFX_LEGACY, fx::PFX_EMPTY_PASSWORD] {
        assert_eq!(pfx(file, None), Err(KeyImportError::PfxPasswordRequired));
    }
}

#[test]
fn pfx_with_wrong_password_is_refused_as_such() {
    for file in [fx::PFX_MODERN, fx::PFX_LEGACY, fx::PFX_3DES, fx::PFX_NO_MAC] {
        assert_eq!(pfx(file, Some("Correct-horse")), Err(KeyImportError::PfxWrongPassword));
    }
    // No MAC: only the decryption can tell, and it does.
    assert_eq!(pfx(fx::PFX_NO_MAC, Some(fx::PFX_PASSWORD)).unwrap(), pem(fx::LEAF_PEM).unwrap());
}

#[test]
fn empty_password_opens_only_a_pfx_written_with_one() {
    assert_eq!(pfx(fx::PFX_EMPTY_PASSWORD, Some("")).unwrap(), pem(fx::LEAF_PEM).unwrap());
    assert_eq!(pfx(fx::PFX_EMPTY_PASSWORD, Some("x")), Err(KeyImportError::PfxWrongPassword));
    assert_eq!(pfx(fx::PFX_MODERN, Some("")), Err(KeyImportError::PfxPasswordRequired));
}

#[test]
fn garbage_is_not_a_pfx_whatever_the_password() {
    let modern: String = fx::PFX_MODERN.split_whitespace().collect();
    let modern = STANDARD.decode(modern).unwrap();
    let cert = x509_parser::pem::parse_x509_pem(fx::LEAF_PEM.as_bytes()).unwrap().1.contents;
    let inputs: [&[u8]; 5] = [
        b"",
        b"not a pfx at all",
        fx::LEAF_PEM.as_bytes(),
        &cert, // DER, a SEQUENCE, but no PFX
        &modern[..modern.len() / 2],
    ];
    for der in inputs {
        for password in [None, Some(fx::PFX_PASSWORD)] {
            let got = import_key(KeyInput::Pfx { der, password });
            assert_eq!(got, Err(KeyImportError::NotPfx), "{} bytes", der.len());
        }
    }
}

#[test]
fn pfx_without_certificate_is_refused() {
    assert_eq!(pfx(fx::PFX_NO_CERT, Some(fx::PFX_PASSWORD)), Err(KeyImportError::PfxNoCertificate));
}

#[test]
fn pfx_picks_the_certificate_of_the_private_key_not_the_first_one() {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let ca_kp = key_pair(&PKCS_ECDSA_P256_SHA256);
    let mut ca_params = params("Issuing CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_kp).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_kp);
    let leaf_kp = key_pair(&PKCS_RSA_SHA256);
    let leaf = params("rsa client").signed_by(&leaf_kp, &issuer).unwrap();
    let mut store = KeyStore::new();
    // A stand-alone certificate entry is written before the key's chain.
    store.add_entry("ca", KeyStoreEntry::Certificate(Certificate::from_der(ca.der()).unwrap()));
    let chain = PrivateKeyChain::new(
        vec![1u8, 2, 3],
        PrivateKey::from_der(&leaf_kp.serialize_der()).unwrap(),
        [Certificate::from_der(leaf.der()).unwrap()],
    );
    store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
    let der = store.writer("pw").write().unwrap();
    let key = import_key(KeyInput::Pfx { der: &der, password: Some("pw") }).unwrap();
    assert_eq!(key, pem(&leaf.pem()).unwrap());
    assert_eq!(key.jwk.kty, "RSA");
}
