//! ferrid's [`Store`](ferrid_core::store::Store) implementations.
//!
//! # Layout
//! - [`sqlite`]: the embedded default (`./ferrid-data/ferrid.db`).
//! - [`migrate`]: versioned migrations per backend, embedded and run at start.
//!
//! SQL is written with `$n` placeholders and portable types so that the PostgreSQL
//! store can follow with the same statements.

pub mod migrate;
pub mod sqlite;

pub use sqlite::SqliteStore;
