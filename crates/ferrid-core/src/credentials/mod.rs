//! Secret hashing and verification, for client secrets today and user passwords next.
//!
//! - [`secret`]: client secrets — `S256` (salted SHA-256) for generated 256-bit secrets,
//!   `P2HS512` (PBKDF2-HMAC-SHA512) for chosen ones.
//! - [`argon2id`]: Argon2id (RFC 9106) as a PHC string, for passwords people choose.
//! - [`verified`]: chosen secrets verified before, so a slow hash is paid once.
//!
//! Every check compares in constant time.

pub mod argon2id;
pub mod secret;
pub mod verified;
