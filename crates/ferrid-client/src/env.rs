//! The client's clocks and random source: the one module of this crate that reads them
//! (`clippy.toml` forbids it elsewhere; see docs/ARCHITECTURE.md "Time and
//! randomness"). The client never depends on the server side, so it does not use
//! `ferrid_core::env`; its monotonic clock is tokio's, which tests may pause and
//! advance (`tokio::time::pause`).

#![allow(clippy::disallowed_methods)]

/// Now on tokio's monotonic clock (token lifetimes, back-off, JWKS refresh).
pub fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// Wall time, seconds since the Unix epoch (`iat`/`exp` of assertions, `exp` of tokens).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Fills `dest` from the operating system's CSPRNG.
pub fn fill_random(dest: &mut [u8]) {
    aws_lc_rs::rand::fill(dest).expect("system randomness");
}
