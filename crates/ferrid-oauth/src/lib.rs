//! The OAuth 2.0 / OpenID Connect wire vocabulary shared by ferrid's server and client.
//!
//! # Layout
//! - [`error`]: RFC 6749 §5.2 error codes and the [`OAuthError`] response shape.
//! - [`name`]: tenant, track and app names (`docs/protocol.md`).
//! - [`scope`]: scope references `resource:scope` (alias `resource.scope`).
//! - [`form`]: form bodies with the duplicate-parameter rule (RFC 6749 §3.2).
//! - [`basic`]: HTTP Basic client credentials, form-url-decoded (RFC 6749 §2.3.1).
//! - [`jwk`], [`jwt`]: JWKs, thumbprints, compact JWS signing and verification.
//! - [`discovery`]: RFC 8414 metadata and the RFC 6749 §5.1 token response.
//! - [`token`]: the token request ([`token::TokenRequest`]), one variant per grant.
//! - `schema` (feature `openapi`): OpenAPI schemas of the types above.
//!
//! No async runtime, no web framework, no SQL.

pub mod b64;
pub mod basic;
pub mod discovery;
pub mod error;
pub mod form;
pub mod jwk;
pub mod jwt;
pub mod name;
#[cfg(feature = "openapi")]
mod schema;
pub mod scope;
pub mod token;

pub use error::{ErrorCode, OAuthError};
pub use name::Name;
