//! ferrid's [`Store`](ferrid_core::store::Store) implementations.
//!
//! # Layout
//! - [`sql_store`]: the statements, written once and instantiated per backend.
//! - [`sqlite`]: the embedded default (`./ferrid-data/ferrid.db`).
//! - [`postgres`]: PostgreSQL for several instances, with change notification.
//! - [`migrate`]: versioned migrations per backend, embedded and run at start.
//!
//! Both backends run the same SQL (`$n` placeholders, portable types); only connection
//! set-up, migrations, the write lock and change notification differ.

mod jti_memory;
pub mod migrate;
pub mod postgres;
#[macro_use]
pub mod sql_store;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
