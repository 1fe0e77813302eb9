//! ferrid's client side: get tokens, check tokens, and a gateway that does both.
//!
//! # Layout
//! - [`token`]: client-credentials tokens. `config.rs` is KrakenD's
//!   `auth/client-credentials` shape; `request.rs` makes one token request (Basic, body,
//!   auto, `private_key_jwt` from `assertion.rs`); `response.rs` reads the answer;
//!   `endpoints.rs` makes introspection (RFC 7662) and revocation (RFC 7009) requests
//!   with the same client authentication;
//!   `source.rs` is the shared, self-refreshing [`token::TokenSource`] with single-flight
//!   refresh and back-off (`policy.rs`).
//! - [`validate`]: bearer-JWT validation. `jwks.rs` fetches and caches keys (from a URL or
//!   discovery); `mod.rs` is the [`validate::Validator`] and its checks; `claims.rs` the
//!   validated [`validate::Claims`]; `layer.rs` the tower layer, the axum extractor and the
//!   RFC 6750 §3 error responses; `introspect.rs` the optional introspection step and its
//!   cache.
//! - [`env`]: the clocks and random source, read nowhere else.
//! - [`gateway`]: `ferrid gateway`, a reverse proxy configured in KrakenD's shape.
//!   `config.rs` reads the file; `proxy.rs` forwards one request.
//!
//! Among ferrid's crates this one depends on `ferrid-oauth` only — never on the server side.
//!
//! # HTTPS
//! Token endpoints, discovery and JWKS URLs and gateway backends may be `http://` or
//! `https://`. TLS is rustls on aws-lc-rs (reqwest's `rustls` feature; hyper-rustls for
//! the gateway's backends), and certificates are verified against the operating
//! system's trust store (`rustls-platform-verifier`).

#![warn(missing_docs)]

pub mod env;
pub mod gateway;
pub mod token;
pub mod validate;
