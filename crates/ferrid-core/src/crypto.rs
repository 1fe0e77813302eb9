//! Randomness from the operating system's CSPRNG.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Fills a fixed-size array from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("the OS random source works");
    b
}

/// A random identifier: 16 bytes, base64url (22 characters).
pub fn random_id() -> String {
    ferrid_oauth::b64::encode(&random_bytes::<16>())
}
