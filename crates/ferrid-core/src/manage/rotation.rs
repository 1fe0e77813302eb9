//! Signing-key rotation (docs/security.md "Keys and secrets at rest, and in logs"): the
//! next key is published in the JWKS at least the JWKS cache lifetime before it signs,
//! and a retired key stays published at least the longest token lifetime. The algorithm
//! never changes.
//!
//! Every instance runs the same planner on its snapshot; each step is one conditional
//! store transaction under the track's row lock, so instances racing on a track make the
//! step once between them (`add_next_key` creates only if there is no next key;
//! `promote_next_key` succeeds only while the key is still `next`).

use std::{sync::Arc, time::Duration};

use serde::Serialize;

use super::{Caller, ManageError, ManageResult, Manager, TrackScope, tracks};
use crate::audit::AuditRecord;
use crate::model::{KeyState, TOKEN_LIFETIME_RANGE, TrackSettings, UnixTime};

/// One key's life, as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyLife {
    pub kid: String,
    pub state: KeyState,
    pub created: UnixTime,
    pub changed: UnixTime,
}

/// Timing of rotation for a deployment.
#[derive(Debug, Clone, Copy)]
pub struct RotationConfig {
    /// The JWKS `Cache-Control: max-age`, seconds: a next key is published at least
    /// twice this long before it signs.
    pub jwks_max_age: u64,
    /// How often each instance looks at every track.
    pub interval: Duration,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig { jwks_max_age: 300, interval: Duration::from_secs(60) }
    }
}

/// What the planner asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Generate the next key (published, not signing).
    CreateNext,
    /// The next key has been published long enough: it signs from now on.
    Promote(String),
    /// Retired keys that changed state before this time can go.
    DeleteRetiredBefore(UnixTime),
}

/// The steps due for a track at `now`.
pub fn plan(keys: &[KeyLife], settings: &TrackSettings, now: UnixTime, cfg: &RotationConfig) -> Vec<Step> {
    let prepublish = 2 * cfg.jwks_max_age as i64;
    let rotation = i64::from(settings.key_rotation_days) * 86_400;
    let mut steps = Vec::new();
    let next = keys.iter().find(|k| k.state == KeyState::Next);
    let active = keys.iter().find(|k| k.state == KeyState::Active);
    match (next, active) {
        (Some(n), _) if n.created + prepublish <= now => steps.push(Step::Promote(n.kid.clone())),
        (None, Some(a)) if a.changed + rotation - prepublish <= now => steps.push(Step::CreateNext),
        (None, None) => steps.push(Step::CreateNext),
        _ => {}
    }
    // A retired key verifies the tokens it signed until the longest of them expires.
    let keep = i64::from(*TOKEN_LIFETIME_RANGE.end()) + cfg.jwks_max_age as i64;
    if keys.iter().any(|k| k.state == KeyState::Retired && k.changed + keep < now) {
        steps.push(Step::DeleteRetiredBefore(now - keep));
    }
    steps
}

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
        let changed = match step {
            Step::CreateNext => {
                let key = tracks::generate_key(self, tenant, track, alg, KeyState::Next).await?;
                let audit =
                    audit("track_key.create", serde_json::json!({ "after": { "kid": key.kid, "state": "next" } }));
                self.store.add_next_key(tenant, track, &key, &audit).await
            }
            Step::Promote(kid) => {
                let audit =
                    audit("track_key.promote", serde_json::json!({ "after": { "kid": kid, "state": "active" } }));
                self.store.promote_next_key(tenant, track, kid, now, &audit).await
            }
            Step::DeleteRetiredBefore(t) => {
                let audit = audit("track_key.delete_retired", serde_json::json!({ "retired_before": t }));
                self.store.delete_retired_keys(tenant, track, *t, &audit).await.map(|n| n > 0)
            }
        }
        .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{track}'")))?;
        if changed {
            tracing::info!(tenant, track, ?step, "key rotation");
            self.refresh_track(tenant, track).await?;
        }
        Ok(())
    }

    /// Runs [`Manager::rotation_tick`] every `cfg.interval` for as long as the process runs.
    pub fn spawn_rotation(self: &Arc<Self>, cfg: RotationConfig) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(cfg.interval);
            loop {
                tick.tick().await;
                this.rotation_tick(&cfg).await;
            }
        });
    }

    /// `GET …/tracks/{track}/keys`: the track's keys and where each is in its life.
    pub async fn track_keys(&self, scope: &TrackScope<'_>) -> ManageResult<Vec<KeyLife>> {
        self.get_track(scope).await?;
        let data = self
            .store
            .load_track(scope.tenant(), scope.track())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn life(kid: &str, state: KeyState, created: i64, changed: i64) -> KeyLife {
        KeyLife { kid: kid.into(), state, created, changed }
    }

    const CFG: RotationConfig = RotationConfig { jwks_max_age: 300, interval: Duration::from_secs(60) };

    #[test]
    fn a_young_active_key_needs_nothing() {
        let s = TrackSettings::default();
        assert!(plan(&[life("a", KeyState::Active, 0, 0)], &s, 86_400, &CFG).is_empty());
    }

    #[test]
    fn the_next_key_is_created_ahead_of_rotation_and_promoted_after_prepublication() {
        let s = TrackSettings { key_rotation_days: 1, ..TrackSettings::default() };
        let due = 86_400 - 600;
        assert!(plan(&[life("a", KeyState::Active, 0, 0)], &s, due - 1, &CFG).is_empty());
        assert_eq!(plan(&[life("a", KeyState::Active, 0, 0)], &s, due, &CFG), [Step::CreateNext]);
        let keys = [life("a", KeyState::Active, 0, 0), life("b", KeyState::Next, due, due)];
        // published for less than twice the JWKS cache lifetime: not yet
        assert!(plan(&keys, &s, due + 599, &CFG).is_empty());
        assert_eq!(plan(&keys, &s, due + 600, &CFG), [Step::Promote("b".into())]);
    }

    #[test]
    fn retired_keys_stay_published_for_the_longest_token_lifetime() {
        let s = TrackSettings::default();
        let keys = [life("b", KeyState::Active, 1000, 1000), life("a", KeyState::Retired, 0, 1000)];
        assert!(plan(&keys, &s, 1000 + 86_400 + 300, &CFG).is_empty());
        assert_eq!(plan(&keys, &s, 1000 + 86_400 + 301, &CFG), [Step::DeleteRetiredBefore(1001)]);
    }
}
