//! The persistence boundary, as narrow ports: each caller receives only the ones it
//! uses (the token endpoint only the [`ReplayGuard`], the failure reporter only the
//! [`FailureBuckets`] and the [`AuditLog`]). Each port method is one transaction: a
//! management write either lands whole or not at all (`docs/ARCHITECTURE.md`,
//! "Invariants"). Implementations live in `ferrid-store`, which also counts the calls.

mod apps;
mod audit;
mod credentials;
mod failures;
mod grants;
mod health;
mod keys;
mod login_guard;
mod refs;
mod replay;
mod tenants;
mod tracks;
mod users;

use std::sync::Arc;

pub use apps::AppStore;
pub use audit::AuditLog;
pub use credentials::CredentialStore;
pub use failures::FailureBuckets;
pub use grants::{Denied, GrantStore, Redeemed};
pub use health::Health;
pub use keys::TrackKeyStore;
pub use login_guard::{LockRule, LoginGuard};
pub use refs::{AppRef, TrackRef};
pub use replay::ReplayGuard;
pub use tenants::TenantStore;
pub use tracks::{SnapshotSink, SnapshotSource, TrackStore};
pub use users::{SessionStore, UserFilter, UserRef, UserStore};

use crate::model::{App, SecretRecord, Track, TrackKey, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    /// The expected version did not match (optimistic concurrency).
    #[error("version mismatch")]
    VersionMismatch,
    /// A per-parent limit (e.g. secrets per client) would be exceeded.
    #[error("limit reached")]
    LimitReached,
    /// The database failed or is unreachable; the message is for logs only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A new track with what it starts with: its signing key and its initial apps.
#[derive(Debug, Clone)]
pub struct NewTrack {
    pub track: Track,
    pub keys: Vec<TrackKey>,
    pub apps: Vec<(App, Vec<SecretRecord>)>,
    /// Users it starts with (bootstrap: `admin` in `master/master`).
    pub users: Vec<User>,
}

/// A change announced by an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Reload this track; `track == "*"` means every track of the tenant.
    Track { tenant: String, track: String },
    /// One app (its registration, secrets or keys) changed: reload that app alone.
    App { tenant: String, track: String, app: String },
    /// A user of this track changed: users are read from the store, never held in the
    /// snapshot, so there is nothing to reload.
    User { tenant: String, track: String },
    /// The deny-list of this track changed: read it again.
    Denied { tenant: String, track: String },
    /// Notifications may have been missed (a lost connection): reload everything.
    Resync,
}

/// What a write touched, as its notification names it; [`Change::parse`] reads it back.
#[derive(Debug, Clone, Copy)]
pub enum Touched<'a> {
    /// `tenant/track`; `track` `*` for every track of the tenant.
    Track(&'a str, &'a str),
    /// `app:tenant/track/app`.
    App(&'a AppRef),
    /// `user:tenant/track`.
    User(&'a str, &'a str),
}

impl Touched<'_> {
    /// The notification payload.
    pub fn payload(&self) -> String {
        match self {
            Touched::Track(tenant, track) => format!("{tenant}/{track}"),
            Touched::App(at) => format!("app:{}/{}/{}", at.tenant(), at.track.track, at.app),
            Touched::User(tenant, track) => format!("user:{tenant}/{track}"),
        }
    }
}

impl Change {
    /// Parses a notification payload ([`Touched::payload`], or `deny:tenant/track`).
    pub fn parse(payload: &str) -> Option<Change> {
        let pair = |rest: &str| rest.split_once('/').map(|(a, b)| (a.to_owned(), b.to_owned()));
        if let Some(rest) = payload.strip_prefix("deny:") {
            let (tenant, track) = pair(rest)?;
            return Some(Change::Denied { tenant, track });
        }
        if let Some(rest) = payload.strip_prefix("user:") {
            let (tenant, track) = pair(rest)?;
            return Some(Change::User { tenant, track });
        }
        if let Some(rest) = payload.strip_prefix("app:") {
            let (tenant, rest) = rest.split_once('/')?;
            let (track, app) = rest.split_once('/')?;
            return Some(Change::App { tenant: tenant.to_owned(), track: track.to_owned(), app: app.to_owned() });
        }
        let (tenant, track) = pair(payload)?;
        Some(Change::Track { tenant, track })
    }
}

#[cfg(test)]
mod change_tests {
    use super::*;

    fn name(s: &str) -> ferrid_oauth::name::Name {
        ferrid_oauth::name::Name::parse(s).unwrap()
    }

    #[test]
    fn a_notification_names_the_app_or_user_it_touched_and_parses_back() {
        let at = TrackRef::new(name("acme"), name("prod")).app(name("svc"));
        let app = Change::parse(&Touched::App(&at).payload());
        assert_eq!(app, Some(Change::App { tenant: "acme".into(), track: "prod".into(), app: "svc".into() }));
        let user = Change::parse(&Touched::User("acme", "prod").payload());
        assert_eq!(user, Some(Change::User { tenant: "acme".into(), track: "prod".into() }));
        let track = Change::parse(&Touched::Track("acme", "*").payload());
        assert_eq!(track, Some(Change::Track { tenant: "acme".into(), track: "*".into() }));
        assert_eq!(Change::parse("app:acme/prod"), None);
    }
}

/// How many apps a streamed snapshot load reads at a time ([`SnapshotSource::stream_all`]).
pub const STREAM_PAGE: u32 = 1000;

/// A page of a listing ordered by name: `after` is the last name of the previous page.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

/// Every port of one store, each an `Arc` of the same object: cloned cheaply and handed
/// out port by port.
#[derive(Clone)]
pub struct Stores {
    pub tenants: Arc<dyn TenantStore>,
    pub tracks: Arc<dyn TrackStore>,
    pub snapshots: Arc<dyn SnapshotSource>,
    pub apps: Arc<dyn AppStore>,
    pub credentials: Arc<dyn CredentialStore>,
    pub track_keys: Arc<dyn TrackKeyStore>,
    pub audit: Arc<dyn AuditLog>,
    pub replay: Arc<dyn ReplayGuard>,
    pub failures: Arc<dyn FailureBuckets>,
    pub health: Arc<dyn Health>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub grants: Arc<dyn GrantStore>,
    pub login_guard: Arc<dyn LoginGuard>,
}

/// A store that provides every port (implemented by each backend of `ferrid-store`).
pub trait AllPorts:
    TenantStore
    + TrackStore
    + SnapshotSource
    + AppStore
    + CredentialStore
    + TrackKeyStore
    + AuditLog
    + ReplayGuard
    + FailureBuckets
    + Health
    + UserStore
    + SessionStore
    + GrantStore
    + LoginGuard
{
}

impl Stores {
    /// Every port of `store`.
    pub fn of<S: AllPorts>(store: Arc<S>) -> Stores {
        Stores {
            tenants: store.clone(),
            tracks: store.clone(),
            snapshots: store.clone(),
            apps: store.clone(),
            credentials: store.clone(),
            track_keys: store.clone(),
            audit: store.clone(),
            replay: store.clone(),
            failures: store.clone(),
            users: store.clone(),
            sessions: store.clone(),
            grants: store.clone(),
            login_guard: store.clone(),
            health: store,
        }
    }
}
