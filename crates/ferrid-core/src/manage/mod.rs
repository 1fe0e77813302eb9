//! The management service behind `/api/v1` (docs/api.md): who may do what (a scope
//! from [`access`]), typed request bodies validated with field-named errors
//! ([`request`]), one store transaction per change with its audit record, then a
//! snapshot reload.

pub mod access;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod client_keys;
pub mod input;
mod reload;
pub mod request;
pub mod rotation;
pub mod secrets;
pub mod seed;
pub mod tenants;
pub mod tracks;
pub mod users;

use std::sync::Arc;

use ferrid_oauth::name::Name;

use crate::{
    audit::AuditRecord,
    env::Env,
    jobs::Jobs,
    runtime::Registry,
    store::{StoreError, Stores, TrackRef},
};

pub use access::{Caller, Principal, Scope, SystemScope, TenantScope, TrackScope};
pub use request::Request;

/// The name of the management resource in every `master` track.
pub const MANAGEMENT_RESOURCE: &str = "ferrid-api";
pub const MASTER: &str = "master";
pub const ADMIN_CLIENT: &str = "admin";

/// One invalid field of a request body, named by its JSON path.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// No bearer token was presented (RFC 6750 §3.1: the challenge carries no error).
    #[error("a bearer token is required")]
    Unauthenticated,
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token lacks the privilege (RFC 6750 `insufficient_scope`).
    #[error("{0}")]
    Forbidden(String),
    /// Nobody may do this: the object is ferrid's own (the master tenant, a master
    /// track, the `ferrid-api` resource). No token would help, so no Bearer challenge.
    #[error("{0}")]
    Protected(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the resource changed since it was read (If-Match does not match)")]
    PreconditionFailed,
    #[error("the store is unavailable")]
    Unavailable,
}

impl ManageError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ManageError {
        ManageError::Invalid(vec![FieldError::new(field, message)])
    }

    /// Maps a store error, naming what was not found or already exists.
    fn from_store(e: StoreError, what: impl FnOnce() -> String) -> ManageError {
        match e {
            StoreError::NotFound => ManageError::NotFound(format!("{} not found", what())),
            StoreError::Conflict => ManageError::Conflict(format!("{} already exists", what())),
            StoreError::VersionMismatch => ManageError::PreconditionFailed,
            StoreError::LimitReached => ManageError::Conflict(format!("{}: limit reached", what())),
            StoreError::Unavailable(msg) => {
                tracing::error!(error = %msg, "store unavailable");
                ManageError::Unavailable
            }
        }
    }
}

pub type ManageResult<T> = Result<T, ManageError>;

/// The management service.
pub struct Manager {
    stores: Stores,
    registry: Arc<Registry>,
    /// Time and randomness (docs/ARCHITECTURE.md "Time and randomness").
    env: Env,
    /// Serialises snapshot reloads so an older read never replaces a newer one.
    reload: tokio::sync::Mutex<()>,
    /// Serialises changes that may take `ferrid-api:admin` from a client, so that two
    /// of them cannot both pass the last-holder check (on this instance).
    admin_change: tokio::sync::Mutex<()>,
    /// Told of each snapshot reload (`/metrics`); set once, after construction.
    observer: std::sync::OnceLock<Arc<dyn crate::observe::Observer>>,
}

impl Manager {
    pub fn new(stores: Stores, registry: Arc<Registry>, env: Env) -> Manager {
        Manager {
            stores,
            registry,
            env,
            reload: tokio::sync::Mutex::new(()),
            admin_change: tokio::sync::Mutex::new(()),
            observer: std::sync::OnceLock::new(),
        }
    }

    /// Reports every later snapshot reload to `observer` (the first one set wins).
    pub fn observe(&self, observer: Arc<dyn crate::observe::Observer>) {
        let _ = self.observer.set(observer);
    }

    /// Tells the observer, if any, that a reload begun at `started` (monotonic) ended.
    fn reloaded(&self, kind: crate::observe::Reload, started: std::time::Duration, ok: bool) {
        if let Some(o) = self.observer.get() {
            o.snapshot_reloaded(kind, self.env.clock.monotonic().saturating_sub(started), ok);
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The store's ports.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The environment the manager was started with.
    pub fn env(&self) -> &Env {
        &self.env
    }

    fn now(&self) -> i64 {
        self.env.now()
    }

    /// The audit record of a change `caller` makes now in `tenant`'s log.
    fn audit(
        &self,
        caller: &Caller,
        tenant: &str,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord::change(caller.actor(), tenant, self.now(), action, target, details)
    }

    /// Every `every`, until `jobs` shut down, removes what has ended: replay-guard
    /// entries, login sessions, and codes, grants and their tokens (docs/model.md "Codes,
    /// grants and refresh tokens"). A failure is logged and the next round tries again.
    pub fn spawn_expiry_purge(self: &Arc<Self>, jobs: &Jobs, every: std::time::Duration) {
        let this = Arc::clone(self);
        jobs.every("expiry-purge", every, move || {
            let this = Arc::clone(&this);
            async move { this.purge_expired().await }
        });
    }

    /// One round of [`Manager::spawn_expiry_purge`]; each kind is tried on its own.
    pub async fn purge_expired(&self) {
        let now = self.now();
        if let Err(e) = self.stores.replay.purge_jtis(now).await {
            tracing::warn!(error = %e, "could not purge expired client-assertion ids");
        }
        if let Err(e) = self.stores.sessions.purge_sessions(now).await {
            tracing::warn!(error = %e, "could not purge expired login sessions");
        }
        if let Err(e) = self.stores.grants.purge_grants(now).await {
            tracing::warn!(error = %e, "could not purge expired codes, grants and tokens");
        }
        let quiet = now - crate::provider::login::FORGET;
        if let Err(e) = self.stores.login_guard.purge_login_guard(quiet, now).await {
            tracing::warn!(error = %e, "could not purge forgotten login lockout counters");
        }
        self.registry.denied().purge(now);
    }

    /// Reads a track's deny-list again (another instance revoked tokens in it).
    pub async fn reload_denied(&self, tenant: &str, track: &str) -> ManageResult<()> {
        let (Ok(tenant), Ok(track)) = (Name::parse(tenant), Name::parse(track)) else { return Ok(()) };
        let at = TrackRef::new(tenant, track);
        let list = self
            .stores
            .grants
            .denied_tokens(&at, self.now())
            .await
            .map_err(|e| ManageError::from_store(e, || "deny-list".into()))?;
        self.registry.denied().replace(&at, list);
        Ok(())
    }

    /// Revokes every grant of a user and denies their access tokens here at once.
    pub async fn revoke_user_grants(&self, user: &crate::store::UserRef) -> ManageResult<()> {
        let denied = self
            .stores
            .grants
            .revoke_user_grants(user, self.now())
            .await
            .map_err(|e| ManageError::from_store(e, || "grants".into()))?;
        self.registry.denied().add(&user.track, &denied);
        Ok(())
    }
}

/// The track a path names; an invalid name cannot exist, so it is a 404.
pub fn track_at(tenant: &str, track: &str) -> ManageResult<TrackRef> {
    Ok(TrackRef::new(path_name("tenant", tenant)?, path_name("track", track)?))
}

/// Parses a path segment as a name; an invalid one cannot exist, so it is a 404.
pub fn path_name(kind: &str, s: &str) -> ManageResult<Name> {
    Name::parse(s)
        .map_err(|_| ManageError::NotFound(format!("{kind} '{}' not found", s.chars().take(60).collect::<String>())))
}
