//! How the snapshot follows the store (docs/ARCHITECTURE.md "Snapshot"): a change to one
//! app reloads that app alone and replaces its entry; a track-wide change (settings,
//! keys, a resource, which the clients' grants are resolved against) reloads the track.
//! Every reload holds the reload lock, so an older read never replaces a newer one.

use std::sync::Arc;

use ferrid_oauth::name::Name;

use super::{ManageError, ManageResult, Manager};
use crate::{
    jobs::Jobs,
    runtime::{ClientRuntime, ClientSecret, TrackRuntime},
    store::{Change, StoreError, TrackRef},
};

impl Manager {
    /// Re-reads one track from the store into the snapshot.
    pub(super) async fn refresh_track(&self, tenant: &str, track: &str) -> ManageResult<()> {
        let _guard = self.reload.lock().await;
        let started = self.env.clock.monotonic();
        let result = self.refresh_track_locked(tenant, track).await;
        self.reloaded(crate::observe::Reload::Track, started, result.is_ok());
        result
    }

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

    /// Re-reads one app (registration, secrets, keys) into the snapshot, replacing only
    /// its entry. A resource, before or after, changes what every client's grants
    /// resolve to, so it reloads the track; so does a track not loaded here.
    pub(super) async fn refresh_app(&self, tenant: &str, track: &str, app: &str) -> ManageResult<()> {
        let _guard = self.reload.lock().await;
        let started = self.env.clock.monotonic();
        let result = self.refresh_app_locked(tenant, track, app).await;
        self.reloaded(crate::observe::Reload::App, started, result.is_ok());
        result
    }

    async fn refresh_app_locked(&self, tenant: &str, track: &str, app: &str) -> ManageResult<()> {
        let (Some(at), Ok(name)) = (TrackRef::parse(tenant, track), Name::parse(app)) else { return Ok(()) };
        let Some(current) = self.registry.track(tenant, track) else {
            return self.refresh_track_locked(tenant, track).await;
        };
        let was_resource = current.resources.contains_key(app);
        let client = match self.stores.snapshots.load_app(&at.app(name.clone())).await {
            Ok(data) if was_resource || data.app.spec.as_resource().is_some() => {
                return self.refresh_track_locked(tenant, track).await;
            }
            Ok(data) => ClientRuntime::build(data, &current),
            Err(StoreError::NotFound) if was_resource => return self.refresh_track_locked(tenant, track).await,
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(ManageError::from_store(e, || format!("app '{app}'"))),
        };
        let before = current.clients.get(app).cloned();
        let kept: Vec<String> = client.as_ref().map(slow_secret_ids).unwrap_or_default();
        if !self.registry.put_client(tenant, track, &name, client) {
            return self.refresh_track_locked(tenant, track).await;
        }
        if let Some(before) = before {
            let gone: Vec<String> = slow_secret_ids(&before).into_iter().filter(|id| !kept.contains(id)).collect();
            crate::credentials::verified::forget_verified(&gone);
        }
        Ok(())
    }

    /// Drops a deleted track from the snapshot. Under the reload lock, like every
    /// refresh: a refresh that read the track before the delete committed has put it
    /// back already, so this removal comes last (issue 18: a deleted track came back).
    pub(super) async fn forget_track(&self, tenant: &str, track: &str) {
        let _guard = self.reload.lock().await;
        let before = self.registry.track(tenant, track);
        self.registry.remove_track(tenant, track);
        forget_removed_secrets(before.as_deref(), None);
    }

    /// Drops a deleted tenant from the snapshot, under the reload lock.
    pub(super) async fn forget_tenant(&self, tenant: &str) {
        let _guard = self.reload.lock().await;
        let before: Vec<_> = self.registry.tracks().into_iter().filter(|t| t.tenant.as_str() == tenant).collect();
        self.registry.remove_tenant(tenant);
        for t in before {
            forget_removed_secrets(Some(&t), None);
        }
    }

    /// Applies one change announced by another instance.
    pub async fn apply_change(&self, change: &Change) -> ManageResult<()> {
        match change {
            Change::Track { tenant, track } if track != "*" => self.refresh_track(tenant, track).await,
            Change::App { tenant, track, app } => self.refresh_app(tenant, track, app).await,
            Change::Denied { tenant, track } => self.reload_denied(tenant, track).await,
            // users are read from the store at each login, never held in the snapshot
            Change::User { .. } => Ok(()),
            Change::Track { .. } | Change::Resync => self.load_snapshot().await,
        }
    }

    /// Follows changes announced by other instances (PostgreSQL) until the store stops
    /// announcing: a changed app or track is reloaded, a tenant-wide change or a
    /// possible gap reloads everything.
    pub fn watch_changes(self: &Arc<Self>, jobs: &Jobs) {
        let Some(mut rx) = self.stores.health.subscribe() else { return };
        let this = Arc::clone(self);
        jobs.spawn("change-watcher", async move {
            while let Some(change) = rx.recv().await {
                if let Err(e) = this.apply_change(&change).await {
                    tracing::warn!(?change, error = %e, "could not apply a change from another instance");
                }
            }
        });
    }

    /// Loads every track into the snapshot (start-up).
    pub async fn load_snapshot(&self) -> ManageResult<()> {
        let _guard = self.reload.lock().await;
        let started = self.env.clock.monotonic();
        let result = self.load_snapshot_locked().await;
        self.reloaded(crate::observe::Reload::Full, started, result.is_ok());
        result
    }

    async fn load_snapshot_locked(&self) -> ManageResult<()> {
        // streamed: only the new snapshot and one page of apps are held (docs/ARCHITECTURE.md "Snapshot")
        let mut builder = self.registry.builder();
        let loaded = self.stores.snapshots.stream_all(crate::store::STREAM_PAGE, &mut builder).await;
        loaded.map_err(|e| ManageError::from_store(e, || "tracks".into()))?;
        self.registry.install(builder);
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

/// The ids of a client's chosen secrets (slow hash), which the verified-secret memory
/// may hold.
fn slow_secret_ids(c: &ClientRuntime) -> Vec<String> {
    c.secrets.iter().filter_map(ClientSecret::chosen).map(|s| s.id.clone()).collect()
}

/// Forgets the verified chosen secrets that `before` held and `after` no longer does
/// (docs/security.md: a verified secret is recognised from memory until it is removed). Runs
/// for every reload, so removals made through other instances are forgotten too.
fn forget_removed_secrets(before: Option<&TrackRuntime>, after: Option<&TrackRuntime>) {
    let slow_ids =
        |rt: &TrackRuntime| -> Vec<String> { rt.clients.values().flat_map(|c| slow_secret_ids(c)).collect() };
    let Some(before) = before else { return };
    let kept: std::collections::HashSet<String> = after.map(slow_ids).unwrap_or_default().into_iter().collect();
    let gone: Vec<String> = slow_ids(before).into_iter().filter(|id| !kept.contains(id)).collect();
    crate::credentials::verified::forget_verified(&gone);
}
