//! The public keys a client registers for `private_key_jwt` (RFC 7523 §2.2; docs/protocol.md,
//! docs/api.md `…/apps/{app}/keys`).
//!
//! [`import_key`] turns what an administrator uploads into a [`ClientKey`]: public key
//! material only, as a JWK, plus the certificate's validity window when there is one.
//!
//! # Layout
//! - `keys/pem.rs`: PEM text: the first `CERTIFICATE` block, else the first `PUBLIC KEY`
//!   (or PKCS#1 `RSA PUBLIC KEY`) block. Private key blocks are skipped without decoding.
//! - `keys/pfx.rs`: PKCS#12 / PFX: opened with its password, the end-entity certificate
//!   kept, the private key dropped.
//! - `keys/pfx_cost.rs`: the bags and key-derivation iterations a PFX asks for, counted
//!   and capped before the PFX reader runs; `keys/pbe.rs` decrypts its encrypted
//!   sections so the bags they hide are counted too.
//! - `keys/jwk.rs`: a JWK given as JSON.
//! - `keys/spki.rs`: the key policy and the conversion of a SubjectPublicKeyInfo or raw
//!   JWK members into a canonical public [`Jwk`].
//!
//! # Rules
//! - **Key types**: RSA with a 2048–8192-bit modulus (RS256, PS256), EC P-256 (ES256),
//!   Ed25519 (EdDSA). Anything else is refused at import with
//!   [`KeyImportError::UnsupportedKey`], never stored and silently unused.
//! - **kid**: the JWK's own `kid` when one is given; for a certificate (PEM or PFX) the
//!   base64url SHA-256 of the certificate DER (its `x5t#S256`); otherwise (a bare public
//!   key, a JWK without `kid`) the RFC 7638 SHA-256 thumbprint. The stored JWK carries
//!   the same `kid`. [`ClientKey::thumbprint_sha256`] keeps the `x5t#S256` too, so a
//!   verifier can match either header member.
//! - **Private material is never stored**: a JWK with private members (`d`, `p`, …) is
//!   refused, not stripped (whoever sent it should learn that the private key left its
//!   owner); a private key block in PEM is ignored; a PFX's private key is dropped.
//! - **PFX passwords**: a PFX is only opened with a password given by the caller
//!   (`None` → [`KeyImportError::PfxPasswordRequired`]). `Some("")` is accepted only if
//!   the file really was written with an empty password; if it does not open with `""`
//!   the answer is again `PfxPasswordRequired`, as that is what the administrator forgot.
//!   Data that is not a PFX at all is `NotPfx` whether or not a password came with it.
//! - **Validity**: import accepts certificates outside their validity window (one may be
//!   registered before it starts); [`ClientKey::valid_at`] decides at use time.

mod jwk;
mod pbe;
mod pem;
mod pfx;
mod pfx_cost;
mod spki;

#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod tests;

use ferrid_oauth::{
    jwk::Jwk,
    jwt::{SigningAlg, VerifyingKey},
};
use serde::{Deserialize, Serialize};

/// What the management API stores for a client key: public material only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKey {
    /// The JWK's `kid` if given, else the `x5t#S256` of a certificate, else the RFC 7638
    /// thumbprint. Also set as `jwk.kid`.
    pub kid: String,
    /// Public JWK (kty `RSA`, `EC` P-256 or `OKP` Ed25519), no private members.
    pub jwk: Jwk,
    /// Start of the certificate's validity window, unix seconds (`None` without certificate).
    pub not_before: Option<i64>,
    /// End of the certificate's validity window, unix seconds (`None` without certificate).
    pub not_after: Option<i64>,
    /// base64url SHA-256 of the certificate DER (`x5t#S256`), when from a certificate.
    pub thumbprint_sha256: Option<String>,
    /// The certificate's subject (RFC 4514 style), for display.
    pub subject: Option<String>,
}

/// What an administrator uploads (docs/api.md: `{"pem"}`, `{"pfx", "password"}`, `{"jwk"}`).
pub enum KeyInput<'a> {
    /// PEM text holding a `CERTIFICATE` or a `PUBLIC KEY` block.
    Pem(&'a str),
    /// A PKCS#12 / PFX file (already base64-decoded) and its password.
    Pfx { der: &'a [u8], password: Option<&'a str> },
    /// A single public JWK.
    Jwk(&'a serde_json::Value),
}

/// Why a key upload was refused. The messages are meant for the administrator who
/// uploaded the key: they name the problem and hold no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyImportError {
    #[error("a PFX/PKCS#12 file can only be imported with its password")]
    PfxPasswordRequired,
    #[error("the password does not open this PFX/PKCS#12 file")]
    PfxWrongPassword,
    #[error("the data is not a PFX/PKCS#12 file, or the file is damaged")]
    NotPfx,
    #[error("this PFX/PKCS#12 file uses {0}, which is not supported")]
    PfxUnsupported(&'static str),
    /// The file asks for more work than any real export (see `keys/pfx_cost.rs`).
    #[error("{0}")]
    PfxTooCostly(String),
    #[error("the PFX/PKCS#12 file holds no certificate")]
    PfxNoCertificate,
    #[error("the PEM text holds no CERTIFICATE or PUBLIC KEY block")]
    PemNoPublicKey,
    #[error("the certificate cannot be parsed")]
    InvalidCertificate,
    #[error("the public key is malformed: {0}")]
    MalformedPublicKey(String),
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    #[error(
        "the JWK holds private key members ({0}); upload only the public key and keep the private key with the client"
    )]
    JwkHasPrivateMembers(String),
    #[error("malformed JWK: {0}")]
    MalformedJwk(String),
}

/// Imports an uploaded key; see the module documentation for the rules.
pub fn import_key(input: KeyInput<'_>) -> Result<ClientKey, KeyImportError> {
    match input {
        KeyInput::Pem(text) => pem::import(text),
        KeyInput::Pfx { der, password } => pfx::import(der, password),
        KeyInput::Jwk(value) => jwk::import(value),
    }
}

/// Key imports running at once, process-wide: a PFX costs up to
/// [`pfx_cost::MAX_ITERATIONS`] key-derivation iterations, so a burst of uploads must not
/// take every core from the token endpoints.
static IMPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// What [`import_key_blocking`] takes: an owned [`KeyInput`].
pub enum OwnedKeyInput {
    Pem(String),
    /// The password is wiped from memory when the import is done.
    Pfx {
        der: Vec<u8>,
        password: Option<zeroize::Zeroizing<String>>,
    },
    Jwk(serde_json::Value),
}

/// [`import_key`] on the blocking pool, at most two at once; a further upload waits for
/// a slot (the management API's request timeout bounds the wait). The async workers
/// stay free for the protocol endpoints whatever the upload asks for. `None` if the
/// import could not run (the runtime is shutting down).
pub async fn import_key_blocking(input: OwnedKeyInput) -> Option<Result<ClientKey, KeyImportError>> {
    // A PFX asking for too much is refused before it waits for a slot.
    if let OwnedKeyInput::Pfx { der, .. } = &input
        && let Err(e) = pfx_cost::check_visible(der)
    {
        return Some(Err(e));
    }
    let permit = IMPORTS.acquire().await.ok()?;
    let job = move || {
        // The slot is held until the work ends, even if the request is abandoned.
        let _permit = permit;
        match &input {
            OwnedKeyInput::Pem(text) => import_key(KeyInput::Pem(text)),
            OwnedKeyInput::Pfx { der, password } => {
                import_key(KeyInput::Pfx { der, password: password.as_ref().map(|p| p.as_str()) })
            }
            OwnedKeyInput::Jwk(value) => import_key(KeyInput::Jwk(value)),
        }
    };
    tokio::task::spawn_blocking(job).await.ok()
}

impl ClientKey {
    /// Whether the key may be used at `now` (unix seconds): inside the certificate's
    /// validity window, bounds included (RFC 5280 §4.1.2.5). A key without certificate
    /// is always valid.
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|nb| nb <= now) && self.not_after.is_none_or(|na| now <= na)
    }

    /// The algorithms this key verifies: RSA → RS256 and PS256, P-256 → ES256,
    /// Ed25519 → EdDSA; only the JWK's `alg` when it names one.
    pub fn algorithms(&self) -> Vec<SigningAlg> {
        let by_type: &[SigningAlg] = match (self.jwk.kty.as_str(), self.jwk.crv.as_deref()) {
            ("RSA", _) => &[SigningAlg::RS256, SigningAlg::PS256],
            ("EC", Some("P-256")) => &[SigningAlg::ES256],
            ("OKP", Some("Ed25519")) => &[SigningAlg::EdDSA],
            _ => &[],
        };
        by_type.iter().copied().filter(|alg| self.jwk.alg.as_deref().is_none_or(|a| a == alg.as_str())).collect()
    }

    /// Verifiers for the algorithms this key supports among RS256, PS256, ES256, EdDSA
    /// (see [`ClientKey::algorithms`]). Each carries the key's `kid`.
    pub fn verifiers(&self) -> Vec<VerifyingKey> {
        self.algorithms().into_iter().filter_map(|alg| VerifyingKey::from_jwk(alg, &self.jwk).ok()).collect()
    }
}

/// Finishes a key whose JWK came from a certificate or a bare public key.
fn from_public_jwk(mut jwk: Jwk, cert: Option<CertInfo>) -> Result<ClientKey, KeyImportError> {
    let kid = match &cert {
        Some(c) => c.thumbprint_sha256.clone(),
        None => jwk.thumbprint().ok_or_else(|| KeyImportError::MalformedPublicKey("no thumbprint".into()))?,
    };
    jwk.kid = Some(kid.clone());
    Ok(ClientKey {
        kid,
        jwk,
        not_before: cert.as_ref().map(|c| c.not_before),
        not_after: cert.as_ref().map(|c| c.not_after),
        thumbprint_sha256: cert.as_ref().map(|c| c.thumbprint_sha256.clone()),
        subject: cert.map(|c| c.subject),
    })
}

/// What a certificate adds to its public key.
struct CertInfo {
    not_before: i64,
    not_after: i64,
    thumbprint_sha256: String,
    subject: String,
}

/// Reads an X.509 certificate (DER): its public key as a JWK, and its [`CertInfo`].
fn read_certificate(der: &[u8]) -> Result<ClientKey, KeyImportError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| KeyImportError::InvalidCertificate)?;
    // x5t#S256 covers the certificate's own DER, not anything a tool appended after it.
    let der = &der[..der.len() - rest.len()];
    let jwk = spki::jwk_from_spki(cert.public_key())?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    let info = CertInfo {
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        thumbprint_sha256: ferrid_oauth::b64::encode(digest.as_ref()),
        subject: cert.subject().to_string(),
    };
    from_public_jwk(jwk, Some(info))
}
