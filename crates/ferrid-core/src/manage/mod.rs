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

    /// Re-reads one track from the store into the snapshot.
    async fn refresh_track(&self, tenant: &str, track: &str) -> ManageResult<()> {
        let _guard = self.reload.lock().await;
        let started = self.env.clock.monotonic();
        let result = self.refresh_track_locked(tenant, track).await;
        self.reloaded(crate::observe::Reload::Track, started, result.is_ok());
        result
    }

    /// [`Manager::refresh_track`] under the reload lock.
    async fn refresh_track_locked(&self, tenant: &str, track: &str) -> ManageResult<()> {
        let before = self.registry.track(tenant, track);
        let loaded = match TrackRef::parse(tenant, track) {
            Some(at) => self.stores.snapshots.load_track(&at).await,
            None => Err(StoreError::NotFound),
        };
        match loaded {
            Ok(data) => self.registry.put_track(data),
            Err(StoreError::NotFound) => self.registry.remove_track(tenant, track),
            Err(e) => {
                return Err(ManageError::from_store(e, || format!("track '{tenant}/{track}'")));
            }
        }
        forget_removed_secrets(before.as_deref(), self.registry.track(tenant, track).as_deref());
        Ok(())
    }

    /// Drops a deleted track from the snapshot. Under the reload lock, like every
    /// refresh: a refresh that read the track before the delete committed has put it
    /// back already, so this removal comes last (issue 18: a deleted track came back).
    async fn forget_track(&self, tenant: &str, track: &str) {
        let _guard = self.reload.lock().await;
        let before = self.registry.track(tenant, track);
        self.registry.remove_track(tenant, track);
        forget_removed_secrets(before.as_deref(), None);
    }

    /// Drops a deleted tenant from the snapshot, under the reload lock.
    async fn forget_tenant(&self, tenant: &str) {
        let _guard = self.reload.lock().await;
        let before: Vec<_> = self.registry.tracks().into_iter().filter(|t| t.tenant.as_str() == tenant).collect();
        self.registry.remove_tenant(tenant);
        for t in before {
            forget_removed_secrets(Some(&t), None);
        }
    }

    /// Follows changes announced by other instances (PostgreSQL) until the store stops
    /// announcing: a changed track is reloaded, a tenant-wide change or a possible gap
    /// reloads everything.
    pub fn watch_changes(self: &Arc<Self>, jobs: &Jobs) {
        let Some(mut rx) = self.stores.health.subscribe() else { return };
        let this = Arc::clone(self);
        jobs.spawn("change-watcher", async move {
            while let Some(change) = rx.recv().await {
                let result = match &change {
                    crate::store::Change::Track { tenant, track } if track != "*" => {
                        this.refresh_track(tenant, track).await
                    }
                    crate::store::Change::Denied { tenant, track } => this.reload_denied(tenant, track).await,
                    _ => this.load_snapshot().await,
                };
                if let Err(e) = result {
                    tracing::warn!(?change, error = %e, "could not apply a change from another instance");
                }
            }
        });
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

    /// Loads every track into the snapshot (start-up).
    pub async fn load_snapshot(&self) -> ManageResult<()> {
        let _guard = self.reload.lock().await;
        let started = self.env.clock.monotonic();
        let result = self.load_snapshot_locked().await;
        self.reloaded(crate::observe::Reload::Full, started, result.is_ok());
        result
    }

    /// [`Manager::load_snapshot`] under the reload lock.
    async fn load_snapshot_locked(&self) -> ManageResult<()> {
        let all = self.stores.snapshots.load_all().await.map_err(|e| ManageError::from_store(e, || "tracks".into()))?;
        self.registry.load_all(all);
        let denied = self
            .stores
            .grants
            .all_denied_tokens(self.now())
            .await
            .map_err(|e| ManageError::from_store(e, || "deny-list".into()))?;
        self.registry.denied().replace_all(denied);
        Ok(())
    }
}

/// Forgets the verified chosen secrets that `before` held and `after` no longer does
/// (docs/security.md: a verified secret is recognised from memory until it is removed). Runs
/// for every reload, so removals made through other instances are forgotten too.
fn forget_removed_secrets(before: Option<&crate::runtime::TrackRuntime>, after: Option<&crate::runtime::TrackRuntime>) {
    let slow_ids = |rt: &crate::runtime::TrackRuntime| -> Vec<String> {
        rt.clients.values().flat_map(|c| c.secrets.iter()).filter(|s| s.hash.is_slow()).map(|s| s.id.clone()).collect()
    };
    let Some(before) = before else { return };
    let kept: std::collections::HashSet<String> = after.map(slow_ids).unwrap_or_default().into_iter().collect();
    let gone: Vec<String> = slow_ids(before).into_iter().filter(|id| !kept.contains(id)).collect();
    crate::credentials::verified::forget_verified(&gone);
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
