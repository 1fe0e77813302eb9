//! ferrid's test support, shared by the integration tests of every crate (a
//! dev-dependency only; `publish = false`).
//!
//! - [`server`]: ferrid in-process on 127.0.0.1:0 with a fresh store ([`TestServer`],
//!   [`spawn_app`]); PostgreSQL opt-in through `FERRID_TEST_DATABASE_URL` ([`pg`]).
//! - [`api`]: the admin token, the management API and the tenant/track/resource/client
//!   fixtures on a [`TestApp`].
//! - [`oauth`]: RFC 6749 §5.2 error assertions, Basic credentials, JWT helpers.
//! - [`process`]: real `ferrid` processes (free port, readiness, kill on drop).
//! - [`fake`]: small servers standing in for other parties (a token endpoint, an issuer).
//! - [`certs`]: self-signed certificates, as PEM and PFX.

pub mod api;
pub mod browser;
pub mod certs;
pub mod fake;
pub mod oauth;
pub mod pg;
pub mod process;
pub mod server;

pub use api::{ClientCreds, spawn_admin, spawn_fixture, spawn_t1_prod};
pub use oauth::{
    assert_oauth_error, basic, basic_attempt, claims, client_from, header, percent_encode, verify_with_jwks,
};
pub use server::{TestApp, TestServer, eventually, spawn_app, spawn_in, spawn_with, spawn_with_env};
