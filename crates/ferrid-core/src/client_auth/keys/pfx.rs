//! PKCS#12 / PFX files (RFC 7292): the end-entity certificate, opened with the password.
//!
//! Read with `p12-keystore`: PBES2 (AES-256-CBC, PBKDF2-SHA-256; OpenSSL 3's default),
//! PBES1 (`pbeWithSHAAnd40BitRC2-CBC` and `pbeWithSHAAnd3-KeyTripleDES-CBC`, as written by
//! `openssl pkcs12 -legacy` and Windows' TripleDES-SHA1 export) and HMAC-SHA-1…SHA-512
//! MACs. The library decrypts every bag, the private key too; we drop it at once.
//!
//! Before the password is used, `pfx_cost` counts the bags and key-derivation
//! iterations the file asks for and refuses it when they are more than real exports use.
//!
//! Telling a wrong password from a broken file: the outer `PFX` structure is parsed
//! here first, without the password. If that fails the data is [`KeyImportError::NotPfx`].
//! If it parses, a failing MAC is a wrong password. A file without MAC has no integrity
//! check, so there a failing decryption (bad padding, undecodable plaintext) is taken as
//! a wrong password too.

use p12_keystore::{Pkcs12Archive, error::Error as P12Error};
use x509_parser::asn1_rs::{FromDer, Oid, Sequence};

use super::{ClientKey, KeyImportError, read_certificate};

/// `id-data` (PKCS#7): the authSafe of a password-integrity PFX.
const ID_DATA: &str = "1.2.840.113549.1.7.1";

pub(super) fn import(der: &[u8], password: Option<&str>) -> Result<ClientKey, KeyImportError> {
    let outer = Outer::parse(der).ok_or(KeyImportError::NotPfx)?;
    if !outer.password_integrity {
        // signedData: RFC 7292 §4 public-key integrity mode.
        return Err(KeyImportError::PfxUnsupported("public-key integrity protection"));
    }
    let password = password.ok_or(KeyImportError::PfxPasswordRequired)?;
    // Before any key derivation: refuse files that ask for more work than real exports.
    super::pfx_cost::check(der, password)?;
    let archive = Pkcs12Archive::from_pkcs12(der, password).map_err(|e| {
        match classify(e, outer.has_mac) {
            // "" was tried and the file has a real password: that is what is missing.
            KeyImportError::PfxWrongPassword if password.is_empty() => KeyImportError::PfxPasswordRequired,
            other => other,
        }
    })?;
    let cert_der = end_entity(&archive);
    drop(archive); // the private key goes now, whatever the outcome
    read_certificate(&cert_der.ok_or(KeyImportError::PfxNoCertificate)?)
}

/// The parts of `PFX ::= SEQUENCE { version, authSafe ContentInfo, macData OPTIONAL }`
/// that can be read without the password.
struct Outer {
    has_mac: bool,
    password_integrity: bool,
}

impl Outer {
    fn parse(der: &[u8]) -> Option<Outer> {
        let (_, pfx) = Sequence::from_der(der).ok()?;
        let (rest, version) = u32::from_der(&pfx.content).ok()?;
        if version != 3 {
            return None;
        }
        let (mac_data, auth_safe) = Sequence::from_der(rest).ok()?;
        let (_, content_type) = Oid::from_der(&auth_safe.content).ok()?;
        if !mac_data.is_empty() {
            Sequence::from_der(mac_data).ok()?;
        }
        Some(Outer { has_mac: !mac_data.is_empty(), password_integrity: content_type.to_id_string() == ID_DATA })
    }
}

/// Maps a library error, knowing the outer structure is a PFX.
fn classify(err: P12Error, has_mac: bool) -> KeyImportError {
    match err {
        P12Error::MacError(_) => KeyImportError::PfxWrongPassword,
        // No MAC: a wrong key shows as bad padding or as garbage plaintext.
        P12Error::UnpadError
        | P12Error::Pkcs5Error(_)
        | P12Error::DerError(_)
        | P12Error::InvalidPrivateKey
        | P12Error::X509Error(_)
            if !has_mac =>
        {
            KeyImportError::PfxWrongPassword
        }
        // The MAC held, so the password is right: a PBES2 failure is a scheme pkcs5 lacks.
        P12Error::Pkcs5Error(_) => KeyImportError::PfxUnsupported("an unknown encryption scheme"),
        P12Error::UnsupportedEncryptionScheme | P12Error::UnsupportedMacAlgorithm => {
            KeyImportError::PfxUnsupported("an unknown encryption or MAC algorithm")
        }
        P12Error::UnsupportedContentType => KeyImportError::PfxUnsupported("public-key privacy protection"),
        P12Error::UnsupportedCertificateType => KeyImportError::PfxUnsupported("a certificate that is not X.509"),
        P12Error::InvalidParameters => {
            KeyImportError::PfxUnsupported("unusual encryption parameters (more than 1 000 000 iterations?)")
        }
        _ => KeyImportError::NotPfx,
    }
}

/// The certificate that goes with the private key: the one whose `localKeyID` matches a
/// key bag's, else the first one carrying a `localKeyID`, else the first one that is not
/// a CA, else the first one.
fn end_entity(archive: &Pkcs12Archive) -> Option<Vec<u8>> {
    let key_ids: Vec<&[u8]> =
        archive.keys.iter().filter_map(|k| k.local_key_id.as_ref().map(|id| id.0.as_slice())).collect();
    let certs = &archive.certs;
    let is_ca = |der: &[u8]| x509_parser::parse_x509_certificate(der).is_ok_and(|(_, c)| c.is_ca());
    certs
        .iter()
        .find(|c| c.local_key_id.as_deref().is_some_and(|id| key_ids.contains(&id)))
        .or_else(|| certs.iter().find(|c| c.local_key_id.is_some()))
        .or_else(|| certs.iter().find(|c| !is_ca(c.cert.as_der())))
        .or_else(|| certs.first())
        .map(|c| c.cert.as_der().to_vec())
}
