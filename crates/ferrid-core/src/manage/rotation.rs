//! Key rotation as the management service runs it: the planner's steps
//! ([`crate::keys::rotation`]) applied as conditional store transactions, on schedule or
//! on request (`POST …/keys/rotate`).

use std::sync::Arc;

use super::{Caller, ManageError, ManageResult, Manager, TrackScope, tracks};
use crate::audit::AuditRecord;
use crate::jobs::Jobs;
use crate::keys::rotation::{KeyLife, RotationConfig, Step, plan};
use crate::model::KeyState;

impl Manager {
    /// Runs the due rotation steps of every track once.
    pub async fn rotation_tick(&self, cfg: &RotationConfig) {
        let now = self.now();
        for rt in self.registry.tracks() {
            for step in plan(&rt.key_states, &rt.settings, now, cfg) {
                if let Err(e) = self.apply_step(None, &rt.tenant, &rt.track, rt.settings.signing_alg, &step).await {
                    tracing::warn!(tenant = %rt.tenant, track = %rt.track, ?step, error = %e, "key rotation step failed");
                }
            }
        }
    }

    /// Applies one step, recorded in the audit log as the caller's (rotate now) or as
    /// ferrid's own (the schedule).
    async fn apply_step(
        &self,
        caller: Option<&Caller>,
        tenant: &str,
        track: &str,
        alg: ferrid_oauth::jwt::SigningAlg,
        step: &Step,
    ) -> ManageResult<()> {
        let now = self.now();
        let target = format!("tenants/{tenant}/tracks/{track}/keys");
        let audit = |action: &str, details: serde_json::Value| match caller {
            Some(c) => self.audit(c, tenant, action, target.clone(), details),
            None => AuditRecord::system(tenant, now, action, target.clone(), details),
        };
        let at = super::track_at(tenant, track)?;
        let changed = match step {
            Step::CreateNext => {
                let key = tracks::generate_key(self, tenant, track, alg, KeyState::Next).await?;
                let audit =
                    audit("track_key.create", serde_json::json!({ "after": { "kid": key.kid, "state": "next" } }));
                self.stores.track_keys.add_next_key(&at, &key, &audit).await
            }
            Step::Promote(kid) => {
                let audit =
                    audit("track_key.promote", serde_json::json!({ "after": { "kid": kid, "state": "active" } }));
                self.stores.track_keys.promote_next_key(&at, kid, now, &audit).await
            }
            Step::DeleteRetiredBefore(t) => {
                let audit = audit("track_key.delete_retired", serde_json::json!({ "retired_before": t }));
                self.stores.track_keys.delete_retired_keys(&at, *t, &audit).await.map(|n| n > 0)
            }
        }
        .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{track}'")))?;
        if changed {
            tracing::info!(tenant, track, ?step, "key rotation");
            self.refresh_track(tenant, track).await?;
        }
        Ok(())
    }

    /// Runs [`Manager::rotation_tick`] every `cfg.interval` until `jobs` shut down.
    pub fn spawn_rotation(self: &Arc<Self>, jobs: &Jobs, cfg: RotationConfig) {
        let this = Arc::clone(self);
        jobs.every("key-rotation", cfg.interval, move || {
            let this = Arc::clone(&this);
            async move { this.rotation_tick(&cfg).await }
        });
    }

    /// `GET …/tracks/{track}/keys`: the track's keys and where each is in its life.
    pub async fn track_keys(&self, scope: &TrackScope<'_>) -> ManageResult<Vec<KeyLife>> {
        self.get_track(scope).await?;
        let data = self
            .stores
            .snapshots
            .load_track(&scope.at())
            .await
            .map_err(|e| ManageError::from_store(e, || "keys".into()))?;
        Ok(data
            .keys
            .iter()
            .map(|k| KeyLife { kid: k.kid.clone(), state: k.state, created: k.created, changed: k.changed })
            .collect())
    }

    /// `POST …/tracks/{track}/keys/rotate`: publishes the next key now; it signs once it
    /// has been published for the pre-publication window (never at once, so that cached
    /// JWKS keep validating).
    pub async fn rotate_now(&self, scope: &TrackScope<'_>) -> ManageResult<Vec<KeyLife>> {
        let t = self.get_track(scope).await?;
        self.apply_step(Some(scope.caller()), &t.tenant, &t.name, t.settings.signing_alg, &Step::CreateNext).await?;
        self.track_keys(scope).await
    }
}
