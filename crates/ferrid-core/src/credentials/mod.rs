//! Secret hashing and verification, for client secrets today and user passwords next.
//!
//! - [`secret`]: client secrets — `S256` (salted SHA-256) for generated 256-bit secrets,
//!   `P2HS512` (PBKDF2-HMAC-SHA512) for chosen ones.
//! - [`argon2id`]: Argon2id (RFC 9106) as a PHC string, for passwords people choose.
//! - [`password_policy`]: what passwords people may choose (length, common, own names).
//! - [`verified`]: chosen secrets verified before, so a slow hash is paid once.
//!
//! Every check compares in constant time.

pub mod argon2id;
pub mod password_policy;
pub mod secret;
pub mod verified;
