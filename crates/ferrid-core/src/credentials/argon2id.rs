//! Argon2id (RFC 9106) for secrets a person chooses, such as user passwords.
//!
//! Parameters are OWASP's first Argon2id recommendation, within RFC 9106 §4's second
//! recommended option scaled to a server's memory: m = 19 MiB, t = 2 passes, p = 1 lane,
//! a 16-byte salt (RFC 9106 §3.1: 128 bits) and a 32-byte tag. The hash is stored as a
//! PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>`), which carries its own
//! parameters: a hash made under older parameters still verifies after they change,
//! and [`needs_rehash`] tells when to replace it.
//!
//! Verification recomputes the tag with the stored parameters and compares the tags in
//! constant time (`password_hash::Output`'s equality), so a changed parameter, salt or
//! tag fails like a wrong secret.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version, password_hash::SaltString,
};
use secrecy::{ExposeSecret, SecretString};

use crate::env::Rng;

/// The PHC algorithm identifier this module writes and accepts.
pub const ALGORITHM: &str = "argon2id";
/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Tag length in bytes.
pub const TAG_LEN: usize = 32;
const SALT_LEN: usize = 16;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(TAG_LEN)).expect("valid Argon2id parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `secret` under the current parameters and a fresh salt (slow: call
/// off the async workers).
pub fn hash(secret: &SecretString, rng: &dyn Rng) -> String {
    let salt = SaltString::encode_b64(&rng.bytes::<SALT_LEN>()).expect("a 16-byte salt encodes");
    hasher()
        .hash_password(secret.expose_secret().as_bytes(), &salt)
        .expect("Argon2id hashes any secret with valid parameters")
        .to_string()
}

/// Whether `presented` is the secret hashed in `phc`. A string that is not an Argon2id
/// PHC string, or whose parameters Argon2 refuses, matches nothing.
pub fn verify(phc: &str, presented: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    if parsed.algorithm.as_str() != ALGORITHM {
        return false;
    }
    Argon2::default().verify_password(presented, &parsed).is_ok()
}

/// Whether `phc` was made under other parameters than today's (or cannot be read), so
/// that it should be replaced the next time the secret is presented and verified.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    let current = hasher();
    let same = parsed.algorithm.as_str() == ALGORITHM
        && parsed.version == Some(Version::V0x13.into())
        && Params::try_from(&parsed).is_ok_and(|p| {
            let c = current.params();
            (p.m_cost(), p.t_cost(), p.p_cost(), p.output_len()) == (c.m_cost(), c.t_cost(), c.p_cost(), c.output_len())
        });
    !same
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "correct horse battery staple";

    #[test]
    fn argon2id_hash_verifies_only_the_secret() {
        let phc = hash(&SecretString::from(SECRET), &crate::env::SystemRng);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&phc, SECRET.as_bytes()));
        assert!(!verify(&phc, b"correct horse battery stapler"));
        assert!(!verify(&phc, b""));
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn argon2id_with_tampered_parameters_salt_or_algorithm_fails() {
        let phc = hash(&SecretString::from(SECRET), &crate::env::SystemRng);
        for (from, to) in [("m=19456", "m=8192"), ("t=2", "t=1"), ("p=1", "p=2"), ("$argon2id$", "$argon2i$")] {
            let tampered = phc.replacen(from, to, 1);
            assert_ne!(tampered, phc);
            assert!(!verify(&tampered, SECRET.as_bytes()), "{from} -> {to} still verified");
        }
        let parts: Vec<&str> = phc.split('$').collect();
        let other_salt = SaltString::encode_b64(&[0u8; 16]).unwrap();
        let resalted = format!("${}${}${}${}${}", parts[1], parts[2], parts[3], other_salt.as_str(), parts[5]);
        assert!(!verify(&resalted, SECRET.as_bytes()));
        assert!(!verify("not a PHC string", SECRET.as_bytes()));
    }

    #[test]
    fn argon2id_hashes_made_under_other_parameters_still_verify_and_ask_for_a_rehash() {
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let phc = old.hash_password(SECRET.as_bytes(), &salt).unwrap().to_string();
        assert!(verify(&phc, SECRET.as_bytes()));
        assert!(needs_rehash(&phc));
        assert!(needs_rehash("garbage"));
    }
}
