//! Client secrets (docs/security.md; RFC 6749 §2.3.1, §10.10): generation, hashing by
//! entropy, and constant-time verification.
//!
//! - A generated secret (32 random bytes) is stored as SHA-256 over `salt || secret`:
//!   256 bits of entropy make a slow hash pointless, and the check stays cheap.
//! - A chosen secret is stored as PBKDF2-HMAC-SHA512, 100 000 iterations, 64-byte salt,
//!   80-byte key — FoxIDs' `P2HS512:10`, so their exports import.

use std::num::NonZeroU32;

use aws_lc_rs::{digest, pbkdf2};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::{
    env::{Rng, random_bytes},
    model::{SecretHash, SecretRecord, UnixTime},
};

/// FoxIDs' name for PBKDF2-HMAC-SHA512 with 10 × 10 000 iterations.
pub const P2HS512_10: &str = "P2HS512:10";
pub const SALTED_SHA256: &str = "S256";
const PBKDF2_ITERATIONS: u32 = 100_000;
const PBKDF2_SALT_LEN: usize = 64;
const PBKDF2_KEY_LEN: usize = 80;

/// Length limits of a secret a person chooses.
pub const CHOSEN_SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=512;

/// The length of every generated secret: 32 bytes in base64url.
pub const GENERATED_LEN: usize = 43;

/// A new secret: 32 random bytes, base64url (43 characters).
pub fn generate(rng: &dyn Rng) -> SecretString {
    SecretString::from(ferrid_oauth::b64::encode(&rng.bytes::<32>()))
}

/// A secret longer than 20 characters is listed with its first 3 as `info` (as FoxIDs
/// lists them), so a person can tell their secrets apart.
pub fn info_of(secret: &str) -> Option<String> {
    (secret.chars().count() > 20).then(|| secret.chars().take(3).collect())
}

/// The record for a secret the server generated.
pub fn record_generated(secret: &SecretString, now: UnixTime, rng: &dyn Rng) -> SecretRecord {
    let salt = rng.bytes::<16>().to_vec();
    let digest = salted_sha256(&salt, secret.expose_secret().as_bytes()).to_vec();
    SecretRecord {
        id: rng.id(),
        info: info_of(secret.expose_secret()),
        created: now,
        hash: SecretHash::SaltedSha256 { salt, digest },
    }
}

/// The record for a secret a person chose (slow hash; call off the async runtime).
pub fn record_chosen(secret: &SecretString, now: UnixTime, rng: &dyn Rng) -> SecretRecord {
    let salt = rng.bytes::<PBKDF2_SALT_LEN>().to_vec();
    let hash = pbkdf2_sha512(PBKDF2_ITERATIONS, &salt, secret.expose_secret().as_bytes());
    SecretRecord {
        id: rng.id(),
        info: info_of(secret.expose_secret()),
        created: now,
        hash: SecretHash::Pbkdf2Sha512 { iterations: PBKDF2_ITERATIONS, salt, hash },
    }
}

/// A slow hash that no secret matches, checked in place of a real one so that a wrong
/// guess costs the same whether or not the client exists or has a chosen secret.
pub fn dummy_slow_hash() -> SecretHash {
    SecretHash::Pbkdf2Sha512 {
        iterations: PBKDF2_ITERATIONS,
        salt: random_bytes::<PBKDF2_SALT_LEN>().to_vec(),
        hash: random_bytes::<PBKDF2_KEY_LEN>().to_vec(),
    }
}

/// Whether `presented` could be a chosen secret (of [`CHOSEN_SECRET_LEN`]).
pub fn could_be_chosen(presented: &str) -> bool {
    CHOSEN_SECRET_LEN.contains(&presented.chars().count())
}

/// Constant-time check of `presented` against a generated secret's salt and digest.
pub fn salted_sha256_matches(salt: &[u8], digest: &[u8], presented: &[u8]) -> bool {
    salted_sha256(salt, presented).ct_eq(digest).into()
}

fn salted_sha256(salt: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt);
    ctx.update(secret);
    ctx.finish().as_ref().try_into().expect("SHA-256 is 32 bytes")
}

fn pbkdf2_sha512(iterations: u32, salt: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; PBKDF2_KEY_LEN];
    let n = NonZeroU32::new(iterations.max(1)).expect("non-zero");
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA512, n, salt, secret, &mut out);
    out
}

impl SecretHash {
    /// Whether checking this hash is slow enough to keep off the async workers.
    pub fn is_slow(&self) -> bool {
        matches!(self, SecretHash::Pbkdf2Sha512 { .. })
    }

    /// Constant-time check of `presented` against this hash.
    pub fn verify(&self, presented: &[u8]) -> bool {
        match self {
            SecretHash::SaltedSha256 { salt, digest } => salted_sha256_matches(salt, digest, presented),
            SecretHash::Pbkdf2Sha512 { iterations, salt, hash } => {
                let n = NonZeroU32::new((*iterations).max(1)).expect("non-zero");
                pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA512, n, salt, presented, hash).is_ok()
            }
        }
    }

    /// The stored algorithm name: `S256` or FoxIDs' `P2HS512:{iterations / 10 000}`.
    pub fn algorithm(&self) -> String {
        match self {
            SecretHash::SaltedSha256 { .. } => SALTED_SHA256.to_owned(),
            SecretHash::Pbkdf2Sha512 { iterations, .. } => {
                format!("P2HS512:{}", iterations / 10_000)
            }
        }
    }

    /// `(algorithm, hash, salt)` as stored, base64url.
    pub fn to_columns(&self) -> (String, String, String) {
        use ferrid_oauth::b64::encode;
        match self {
            SecretHash::SaltedSha256 { salt, digest } => (self.algorithm(), encode(digest), encode(salt)),
            SecretHash::Pbkdf2Sha512 { salt, hash, .. } => (self.algorithm(), encode(hash), encode(salt)),
        }
    }

    pub fn from_columns(algorithm: &str, hash: &str, salt: &str) -> Option<SecretHash> {
        use ferrid_oauth::b64::decode;
        let (hash, salt) = (decode(hash)?, decode(salt)?);
        if algorithm == SALTED_SHA256 {
            return Some(SecretHash::SaltedSha256 { salt, digest: hash });
        }
        let tens: u32 = algorithm.strip_prefix("P2HS512:")?.parse().ok()?;
        let iterations = tens.checked_mul(10_000).filter(|&i| i > 0)?;
        Some(SecretHash::Pbkdf2Sha512 { iterations, salt, hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SystemRng;

    #[test]
    fn generated_secrets_are_43_base64url_characters() {
        let s = generate(&SystemRng);
        let s = s.expose_secret();
        assert_eq!(s.len(), GENERATED_LEN);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn generated_secret_hash_verifies_only_the_secret() {
        let s = generate(&SystemRng);
        let r = record_generated(&s, 0, &SystemRng);
        assert!(r.hash.verify(s.expose_secret().as_bytes()));
        assert!(!r.hash.verify(b"wrong"));
        assert_eq!(r.info.as_deref(), Some(&s.expose_secret()[..3]));
    }

    #[test]
    fn chosen_secret_uses_foxids_p2hs512_format() {
        let s = SecretString::from("a person chose this one");
        let r = record_chosen(&s, 0, &SystemRng);
        let (alg, hash, salt) = r.hash.to_columns();
        assert_eq!(alg, P2HS512_10);
        assert_eq!(ferrid_oauth::b64::decode(&hash).unwrap().len(), 80);
        assert_eq!(ferrid_oauth::b64::decode(&salt).unwrap().len(), 64);
        let back = SecretHash::from_columns(&alg, &hash, &salt).unwrap();
        assert!(back.verify(b"a person chose this one"));
        assert!(!back.verify(b"a person chose this onE"));
    }

    #[test]
    fn info_only_for_secrets_longer_than_20() {
        assert_eq!(info_of(&"x".repeat(20)), None);
        assert_eq!(info_of("abcdefghijklmnopqrstu").as_deref(), Some("abc"));
    }

    #[test]
    fn the_dummy_slow_hash_is_as_slow_as_a_chosen_one_and_matches_nothing() {
        let d = dummy_slow_hash();
        assert!(d.is_slow());
        assert_eq!(d.algorithm(), P2HS512_10);
        assert!(!d.verify(b"a person chose this one"));
        assert!(could_be_chosen(&"x".repeat(16)) && !could_be_chosen(&"x".repeat(15)));
    }

    #[test]
    fn s256_and_p2hs512_with_tampered_parameters_fail() {
        let generated = generate(&SystemRng);
        let (alg, hash, salt) = record_generated(&generated, 0, &SystemRng).hash.to_columns();
        let other_salt = ferrid_oauth::b64::encode(&[0u8; 16]);
        let resalted = SecretHash::from_columns(&alg, &hash, &other_salt).unwrap();
        assert!(!resalted.verify(generated.expose_secret().as_bytes()));
        let chosen = "a person chose this one";
        let (alg, hash, salt2) = record_chosen(&SecretString::from(chosen), 0, &SystemRng).hash.to_columns();
        assert_eq!(alg, P2HS512_10);
        let fewer = SecretHash::from_columns("P2HS512:9", &hash, &salt2).unwrap();
        assert!(!fewer.verify(chosen.as_bytes()), "other iterations");
        let resalted = SecretHash::from_columns(&alg, &hash, &salt).unwrap();
        assert!(!resalted.verify(chosen.as_bytes()), "other salt");
        assert!(SecretHash::from_columns("P2HS512:0", &hash, &salt2).is_none());
    }
}
