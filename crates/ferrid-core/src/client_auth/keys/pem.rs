//! PEM text (RFC 7468): the first certificate block, else the first public key block.
//!
//! Blocks are found by their labels only; a private key block (`PRIVATE KEY`,
//! `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, …) is skipped without being decoded, so
//! pasting a whole `cert + key` file is harmless. Text around the blocks (OpenSSL's
//! "Bag Attributes", comments) is ignored.

use base64::{Engine, engine::general_purpose::STANDARD};
use x509_parser::{prelude::FromDer, x509::SubjectPublicKeyInfo};

use super::{ClientKey, KeyImportError, from_public_jwk, read_certificate, spki};

/// Labels of an X.509 certificate (RFC 7468 §5.1 and the legacy/OpenSSL variants).
const CERTIFICATE_LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

pub(super) fn import(text: &str) -> Result<ClientKey, KeyImportError> {
    let blocks = blocks(text);
    let find = |labels: &[&str]| blocks.iter().find(|b| labels.contains(&b.label));
    if let Some(block) = find(&CERTIFICATE_LABELS) {
        let der = block.decode().ok_or(KeyImportError::InvalidCertificate)?;
        return read_certificate(&der);
    }
    let bad_key = || KeyImportError::MalformedPublicKey("the PEM block cannot be decoded".into());
    if let Some(block) = find(&["PUBLIC KEY"]) {
        // RFC 7468 §13: SubjectPublicKeyInfo.
        let der = block.decode().ok_or_else(bad_key)?;
        let (_, info) = SubjectPublicKeyInfo::from_der(&der).map_err(|_| bad_key())?;
        return from_public_jwk(spki::jwk_from_spki(&info)?, None);
    }
    if let Some(block) = find(&["RSA PUBLIC KEY"]) {
        // PKCS#1 RSAPublicKey, as written by `openssl rsa -RSAPublicKey_out`.
        let der = block.decode().ok_or_else(bad_key)?;
        return from_public_jwk(spki::rsa_from_pkcs1(&der)?, None);
    }
    Err(KeyImportError::PemNoPublicKey)
}

/// One `-----BEGIN label-----` … `-----END label-----` block, still encoded.
struct Block<'a> {
    label: &'a str,
    body: &'a str,
}

impl Block<'_> {
    /// The base64 body, whitespace (line breaks, `\r`, indentation) removed.
    fn decode(&self) -> Option<Vec<u8>> {
        let clean: String = self.body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        STANDARD.decode(clean).ok()
    }
}

/// Every complete block in `text`, in order. An unterminated block ends the search.
fn blocks(text: &str) -> Vec<Block<'_>> {
    const BEGIN: &str = "-----BEGIN ";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body_and_rest = &after[label_end + 5..];
        if label.contains(['\n', '\r']) {
            rest = after;
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_and_rest.find(&end_marker) else {
            break;
        };
        out.push(Block { label, body: &body_and_rest[..end] });
        rest = &body_and_rest[end + end_marker.len()..];
    }
    out
}
