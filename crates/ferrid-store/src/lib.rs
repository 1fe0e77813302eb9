//! ferrid's store: every port of [`ferrid_core::store`] for SQLite and PostgreSQL.
//!
//! # Layout
//! - [`sql`]: the statements, one module per aggregate, written once and instantiated
//!   per backend; [`sql::tx`] holds where each port method enters (the call counter) and
//!   the step every write ends with.
//! - [`sqlite`]: the embedded default (`./ferrid-data/ferrid.db`).
//! - [`postgres`]: PostgreSQL for several instances, with change notification.
//! - [`migrate`]: versioned migrations, one source per migration rendered per backend,
//!   embedded and run at start.
//!
//! Both backends run the same SQL (`$n` placeholders, portable types); only connection
//! set-up, migration types, transaction kinds, row locks, the replay guard and change
//! notification differ.

mod jti_memory;
pub mod migrate;
pub mod postgres;
pub mod sql;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
