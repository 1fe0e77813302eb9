//! ferrid's domain and protocol engine.
//!
//! # Layout
//! - [`model`]: tenants, tracks, apps, secrets, track keys — as stored.
//! - [`store`]: the store ports ([`store::Stores`]); one call is one transaction.
//! - [`runtime`]: the in-memory snapshot ([`runtime::Registry`]) that protocol requests read.
//! - [`endpoint`]: protocol endpoints, framework-free (`endpoint/token.rs`).
//! - [`client_auth`]: client authentication methods (`client_auth/secret.rs`).
//! - [`grant`]: one module per grant (`grant/client_credentials.rs`).
//! - [`manage`]: the management service: authorization, validation, bootstrap.
//! - [`secret`], [`crypto`]: secret hashing, randomness, private keys encrypted at rest.
//! - [`clock`], [`urls`]: time and the public URLs.
//!
//! No web framework and no SQL here.

pub mod audit;
pub mod claims;
pub mod client_auth;
pub mod clock;
pub mod crypto;
pub mod endpoint;
#[doc(hidden)]
pub mod fuzzing;
pub mod grant;
pub mod manage;
pub mod model;
pub mod runtime;
pub mod secret;
pub mod store;
pub mod urls;
