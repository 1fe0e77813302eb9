//! ferrid's domain and protocol engine.
//!
//! # Layout
//! - [`model`]: tenants, tracks, apps, secrets, track keys — as stored.
//! - [`store`]: the store ports ([`store::Stores`]); one call is one transaction.
//! - [`runtime`]: the in-memory snapshot ([`runtime::Registry`]) that protocol requests read.
//! - [`endpoint`]: protocol endpoints, framework-free (`token`, `discovery`, `jwks`).
//! - [`routes`]: every served path outside the management API, named once.
//! - [`client_auth`]: client authentication methods (`client_auth/secret.rs`).
//! - [`grant`]: one module per grant (`grant/client_credentials.rs`).
//! - [`token`]: tokens shared by the grants (`token/access.rs`: RFC 9068 access tokens).
//! - [`provider`]: the OpenID Provider: authorization requests, login, sessions,
//!   codes, ID tokens, UserInfo.
//! - [`manage`]: the management service: authorization, validation, bootstrap.
//! - [`throttle`]: failure throttling (token buckets per source and per key), slow-check
//!   bounds, and the failure reporter.
//! - [`credentials`]: secret hashing (`S256`, `P2HS512`, Argon2id) and verification.
//! - [`keys`]: track keys encrypted at rest and the rotation planner.
//! - [`jobs`]: the background tasks and their shutdown signal.
//! - [`env`]: time and randomness (the only module reading the OS clocks and RNG).
//! - [`urls`]: the public URLs.
//!
//! No web framework and no SQL here.

pub mod audit;
pub mod claims;
pub mod client_auth;
pub mod credentials;
pub mod endpoint;
pub mod env;
#[doc(hidden)]
pub mod fuzzing;
pub mod grant;
pub mod jobs;
pub mod keys;
pub mod manage;
pub mod model;
pub mod observe;
pub mod provider;
pub mod routes;
pub mod runtime;
pub mod store;
pub mod throttle;
pub mod token;
pub mod urls;
