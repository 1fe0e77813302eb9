//! The SQL of the store, written once and instantiated for each backend by
//! [`sql_store!`](crate::sql_store): SQLite and PostgreSQL run the same statements (`$n`
//! placeholders, portable types), so the two cannot drift. One file per aggregate, each
//! a macro that implements one port of `ferrid_core::store` for the backend:
//!
//! - [`tx`]: where every port method enters (the call counter and timer), transactions, and the
//!   one "audit, notify, commit" step every write ends with;
//! - [`rows`]: rows to domain values;
//! - [`tenants`], [`tracks`], [`apps`], [`credentials`], [`keys`], [`audit`],
//!   [`replay`], [`failures`], [`snapshot`], [`health`], [`users`] (users and sessions),
//!   [`grants`] (codes, grants, refresh tokens, consent), [`login_guard`] (the login
//!   lockout's counters): the ports.
//!
//! A backend provides `pool`, `calls` (a [`tx::Calls`]), `begin_on` (a transaction of a [`Begin`] kind),
//! `notify` (tell other instances that a track changed, inside the transaction),
//! `record_jti`/`forget_jtis_before` (the replay guard) and `changes` (subscription).

pub mod apps;
pub mod audit;
pub mod credentials;
pub mod failures;
pub mod grants;
pub mod health;
pub mod keys;
pub mod login_guard;
pub mod replay;
pub mod rows;
pub mod snapshot;
pub mod tenants;
pub mod tracks;
pub mod tx;
pub mod users;

use ferrid_core::store::{PageRequest, StoreError, StoreResult};

/// What names a backend's SQL sees, in one import.
pub mod prelude {
    pub use async_trait::async_trait;
    pub use ferrid_core::{
        audit::{AuditEntry, AuditQuery, AuditRecord},
        model::{
            App, AppData, AppSpec, AuthCode, IssuedToken, KeyState, RefreshRecord, SecretHash, SecretRecord, Session,
            StoredClientKey, Tenant, Track, TrackData, TrackKey, TrackSettings, UnixTime, User, UserGrant,
        },
        observe::StorePort,
        store::{
            AppRef, AppStore, AuditLog, Change, CredentialStore, Denied, FailureBuckets, GrantStore, Health, LockRule,
            LoginGuard, NewTrack, PageRequest, Redeemed, ReplayGuard, SessionStore, SnapshotSink, SnapshotSource,
            StoreError, StoreResult, TenantStore, Touched, TrackKeyStore, TrackRef, TrackStore, UserFilter, UserRef,
            UserStore,
        },
    };
    pub use ferrid_oauth::name::Name;
    pub use sqlx::{Row, Transaction};

    pub use super::{Begin, changed, corrupt, limit, map_err};
}

/// The kinds of transaction a port method begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// A plain write transaction.
    Write,
    /// A write whose count and the insert that follows it must see the same state
    /// (limits, key rotation steps): SQLite takes the write lock at once.
    Exclusive,
    /// Reads that must all see one state of the store (the snapshot).
    Read,
}

/// Store errors from sqlx errors: unique → Conflict, foreign key → NotFound.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

pub fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("stored {what} does not parse"))
}

pub fn limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, 1000))
}

/// Fails with NotFound when a statement changed no row.
pub fn changed(rows: u64) -> StoreResult<()> {
    if rows == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Every port of `ferrid_core::store` for `$store`, whose database is `$db` with rows
/// `$row`.
#[macro_export]
macro_rules! sql_store {
    ($store:ident, $db:ty, $row:ty) => {
        $crate::sql_tx!($store, $db);
        $crate::sql_rows!($store, $row);
        $crate::sql_tenants!($store);
        $crate::sql_tracks!($store, $db);
        $crate::sql_apps!($store, $db);
        $crate::sql_credentials!($store, $db);
        $crate::sql_keys!($store, $db);
        $crate::sql_audit!($store, $db);
        $crate::sql_replay!($store);
        $crate::sql_failures!($store);
        $crate::sql_snapshot!($store, $db);
        $crate::sql_health!($store);
        $crate::sql_users!($store, $db, $row);
        $crate::sql_grants!($store, $db, $row);
        $crate::sql_login_guard!($store);
        impl ferrid_core::store::AllPorts for $store {}
    };
}
