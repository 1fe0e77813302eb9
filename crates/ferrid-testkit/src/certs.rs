//! Self-signed certificates for `private_key_jwt` clients, as PEM and as PKCS#12.

use std::path::{Path, PathBuf};

/// A self-signed certificate for `svc.example` over `kp`.
pub fn self_signed(kp: &rcgen::KeyPair) -> rcgen::Certificate {
    rcgen::CertificateParams::new(vec!["svc.example".into()]).unwrap().self_signed(kp).unwrap()
}

/// A PKCS#12 file holding `kp` and `cert` under the alias `client`, encrypted with `password`.
pub fn pfx(kp: &rcgen::KeyPair, cert: &rcgen::Certificate, password: &str) -> Vec<u8> {
    let mut store = p12_keystore::KeyStore::new();
    let chain = p12_keystore::PrivateKeyChain::new(
        vec![1u8],
        p12_keystore::PrivateKey::from_der(&kp.serialize_der()).unwrap(),
        [p12_keystore::Certificate::from_der(cert.der()).unwrap()],
    );
    store.add_entry("client", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().unwrap()
}

/// Writes `{name}.pfx` (with `password`) and `{name}.pem` (the certificate) of a fresh
/// ECDSA P-256 key into `dir`; returns their paths.
pub fn write_pfx_and_pem(dir: &Path, name: &str, password: &str) -> (PathBuf, PathBuf) {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = self_signed(&kp);
    let (pfx_path, pem) = (dir.join(format!("{name}.pfx")), dir.join(format!("{name}.pem")));
    std::fs::write(&pfx_path, pfx(&kp, &cert, password)).unwrap();
    std::fs::write(&pem, cert.pem()).unwrap();
    (pfx_path, pem)
}

/// A PKCS#12 file made by the `openssl` command from PEM key and certificate, encrypted
/// with `password`; `None` when `openssl` is not installed.
pub fn openssl_pfx(key_pem: &str, cert_pem: &str, password: &str) -> Option<Vec<u8>> {
    std::process::Command::new("openssl").arg("version").output().ok()?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), key_pem).unwrap();
    std::fs::write(dir.path().join("c.pem"), cert_pem).unwrap();
    let passout = format!("pass:{password}");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", &passout, "-out", "k.pfx"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(std::fs::read(dir.path().join("k.pfx")).unwrap())
}
