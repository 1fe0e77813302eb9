//! The encryption of track private keys at rest (docs/ARCHITECTURE.md, "No secret in
//! clear at rest"): AES-256-GCM under the master key, bound to the key's place.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::env::Rng;

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("the master key must be 32 bytes, base64 or base64url encoded")]
    BadMasterKey,
    #[error("a stored private key could not be decrypted (wrong master key?)")]
    Decrypt,
}

/// AES-256-GCM with the master key supplied outside the database. The associated data
/// binds each ciphertext to its place (tenant, track, kid), so a row copied elsewhere
/// does not decrypt.
pub struct KeyCipher {
    key: LessSafeKey,
    /// HMAC-SHA256 key for tokens the server hands out and checks itself (the CSRF
    /// tokens of pages), derived from the master key so that every instance sharing the
    /// store shares it too: HMAC(master key, label).
    page_mac: aws_lc_rs::hmac::Key,
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher([redacted])")
    }
}

impl KeyCipher {
    pub fn new(master_key: &[u8; 32]) -> KeyCipher {
        let key = UnboundKey::new(&AES_256_GCM, master_key).expect("32-byte AES key");
        let derive = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, master_key);
        let derived = aws_lc_rs::hmac::sign(&derive, b"ferrid page tokens v1");
        let page_mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, derived.as_ref());
        KeyCipher { key: LessSafeKey::new(key), page_mac }
    }

    /// Parses a master key given as base64 or base64url text (padding optional).
    pub fn from_text(text: &str) -> Result<KeyCipher, CipherError> {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let t = text.trim().trim_end_matches('=');
        let raw = Zeroizing::new(
            URL_SAFE_NO_PAD.decode(t).or_else(|_| STANDARD_NO_PAD.decode(t)).map_err(|_| CipherError::BadMasterKey)?,
        );
        let key: &[u8; 32] = raw.as_slice().try_into().map_err(|_| CipherError::BadMasterKey)?;
        Ok(KeyCipher::new(key))
    }

    /// HMAC-SHA256 of `message` under the page-token key (base64url).
    pub fn page_tag(&self, message: &[u8]) -> String {
        ferrid_oauth::b64::encode(aws_lc_rs::hmac::sign(&self.page_mac, message).as_ref())
    }

    /// Whether `tag` is [`KeyCipher::page_tag`] of `message` (constant-time).
    pub fn page_tag_matches(&self, message: &[u8], tag: &str) -> bool {
        ferrid_oauth::b64::decode(tag).is_some_and(|t| aws_lc_rs::hmac::verify(&self.page_mac, message, &t).is_ok())
    }

    /// A fresh master key as base64url text.
    pub fn generate_text(rng: &dyn Rng) -> Zeroizing<String> {
        Zeroizing::new(ferrid_oauth::b64::encode(&rng.bytes::<32>()))
    }

    pub fn seal(&self, context: &str, plaintext: &[u8], rng: &dyn Rng) -> Vec<u8> {
        let nonce_bytes = rng.bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM seal");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CipherError> {
        if sealed.len() < NONCE_LEN {
            return Err(CipherError::Decrypt);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Decrypt)?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CipherError::Decrypt)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// The associated data of a track key's ciphertext.
pub fn key_context(tenant: &str, track: &str, kid: &str) -> String {
    format!("ferrid track key {tenant}/{track}/{kid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_in_their_context() {
        let c = KeyCipher::new(&[7u8; 32]);
        let sealed = c.seal("a", b"private", &crate::env::SystemRng);
        assert_eq!(c.open("a", &sealed).unwrap().as_slice(), b"private");
        assert!(c.open("b", &sealed).is_err());
        assert!(KeyCipher::new(&[8u8; 32]).open("a", &sealed).is_err());
        assert!(!sealed.windows(7).any(|w| w == b"private"));
    }

    #[test]
    fn master_key_text_must_be_32_bytes() {
        assert!(KeyCipher::from_text(&KeyCipher::generate_text(&crate::env::SystemRng)).is_ok());
        assert!(KeyCipher::from_text("c2hvcnQ").is_err());
    }
}
