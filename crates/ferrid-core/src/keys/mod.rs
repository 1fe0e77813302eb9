//! Track signing keys: their encryption at rest ([`cipher`]) and the rotation planner
//! ([`rotation`]). Keys a client uploads for `private_key_jwt` are parsed in
//! `client_auth::keys`.

pub mod cipher;
pub mod rotation;

pub use cipher::{CipherError, KeyCipher, key_context};
