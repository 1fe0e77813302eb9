//! Tracks: environments of a tenant, each with its issuer and signing keys.

use ferrid_oauth::{
    jwt::{SigningAlg, SigningKey},
    name::Name,
    scope::ScopeName,
};
use serde_json::Value;

use super::{Caller, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, input::Fields, path_name};
use crate::{
    keys::key_context,
    model::{
        ASSERTION_LIFETIME_RANGE, App, AppSpec, KeyState, ResourceSpec, SecretRecord, Track, TrackKey, TrackSettings,
    },
    store::{NewTrack, PageRequest, TrackRef},
};

/// Builds a new track with a freshly generated active key (RSA generation is slow, so
/// it runs on the blocking pool).
pub(super) async fn new_track(
    m: &Manager,
    tenant: &Name,
    name: &Name,
    settings: TrackSettings,
    apps: Vec<(App, Vec<SecretRecord>)>,
) -> ManageResult<NewTrack> {
    let now = m.now();
    let key = generate_key(m, tenant, name, settings.signing_alg, KeyState::Active).await?;
    let track = Track { tenant: tenant.clone(), name: name.clone(), settings, version: 1, created: now };
    Ok(NewTrack { track, keys: vec![key], apps })
}

/// A fresh signing key for a track, encrypted under the master key.
pub(super) async fn generate_key(
    m: &Manager,
    tenant: &str,
    track: &str,
    alg: SigningAlg,
    state: KeyState,
) -> ManageResult<TrackKey> {
    let now = m.now();
    let pkcs8 = tokio::task::spawn_blocking(move || SigningKey::generate_pkcs8(alg))
        .await
        .map_err(|_| ManageError::Unavailable)?
        .map_err(|_| ManageError::Unavailable)?;
    let kid = SigningKey::from_pkcs8(alg, &pkcs8).map_err(|_| ManageError::Unavailable)?.kid().to_owned();
    let encrypted_pkcs8 = m.registry.cipher().seal(&key_context(tenant, track, &kid), &pkcs8);
    Ok(TrackKey { kid, alg, state, encrypted_pkcs8, created: now, changed: now })
}

/// The `ferrid-api` resource of a tenant's `master` track.
pub(super) fn management_resource(tenant: &Name, scopes: &[&str], now: i64) -> App {
    App {
        tenant: tenant.clone(),
        track: Name::parse(MASTER).expect("valid"),
        name: Name::parse(MANAGEMENT_RESOURCE).expect("valid"),
        spec: AppSpec::OauthResource(ResourceSpec {
            scopes: scopes.iter().map(|s| ScopeName::parse(s).expect("valid")).collect(),
        }),
        version: 1,
        created: now,
        updated: now,
    }
}

impl Manager {
    pub async fn list_tracks(&self, caller: &Caller, tenant: &str, page: &PageRequest) -> ManageResult<Vec<Track>> {
        caller.check_tenant(tenant)?;
        self.get_tenant(caller, tenant).await?;
        self.stores
            .tracks
            .list_tracks(&path_name("tenant", tenant)?, page)
            .await
            .map_err(|e| ManageError::from_store(e, || "tracks".into()))
    }

    pub async fn get_track(&self, caller: &Caller, tenant: &str, track: &str) -> ManageResult<Track> {
        caller.check_tenant(tenant)?;
        let (t, tr) = (path_name("tenant", tenant)?, path_name("track", track)?);
        self.stores
            .tracks
            .get_track(&TrackRef::new(t, tr))
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{track}'")))
    }

    /// `POST /tenants/{tenant}/tracks` with `{"name", "signing_alg"?, "access_token_lifetime"?}`.
    pub async fn create_track(&self, caller: &Caller, tenant: &str, body: &Value) -> ManageResult<Track> {
        caller.check_tenant(tenant)?;
        let tenant_rec = self.get_tenant(caller, tenant).await?;
        let mut f = Fields::of(body)?;
        let name = f.name("name");
        let signing_alg = f.opt_signing_alg("signing_alg").unwrap_or(SigningAlg::RS256);
        let lifetime = f.opt_lifetime("access_token_lifetime");
        let assertion = f.opt_seconds("assertion_max_lifetime", ASSERTION_LIFETIME_RANGE);
        f.finish()?;
        let name = name.ok_or_else(|| ManageError::field("name", "is required"))?;
        let mut settings = TrackSettings { signing_alg, ..TrackSettings::default() };
        if let Some(l) = lifetime {
            settings.access_token_lifetime = l;
        }
        if let Some(l) = assertion {
            settings.assertion_max_lifetime = l;
        }
        let new = new_track(self, &tenant_rec.name, &name, settings, Vec::new()).await?;
        let target = format!("tenants/{tenant}/tracks/{name}");
        let audit =
            self.audit(caller, tenant, "track.create", target, serde_json::json!({ "after": new.track.settings }));
        self.stores
            .tracks
            .create_track(&new, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{name}'")))?;
        self.refresh_track(tenant, &name).await?;
        Ok(new.track)
    }

    /// `PATCH /tenants/{tenant}/tracks/{track}`: settings other than the algorithm.
    pub async fn update_track(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> ManageResult<Track> {
        let mut current = self.get_track(caller, tenant, track).await?;
        let before = current.settings.clone();
        let mut f = Fields::of(body)?;
        if let Some(alg) = f.opt_signing_alg("signing_alg")
            && alg != current.settings.signing_alg
        {
            return Err(ManageError::field("signing_alg", "is fixed when the track is created"));
        }
        if let Some(l) = f.opt_lifetime("access_token_lifetime") {
            current.settings.access_token_lifetime = l;
        }
        if let Some(l) = f.opt_seconds("assertion_max_lifetime", ASSERTION_LIFETIME_RANGE) {
            current.settings.assertion_max_lifetime = l;
        }
        if let Some(d) = f.opt_integer("key_rotation_days", crate::model::ROTATION_DAYS_RANGE, "days") {
            current.settings.key_rotation_days = d;
        }
        if let Some(n) = f.opt_str("name")
            && n != current.name.as_str()
        {
            return Err(ManageError::field("name", "cannot be changed"));
        }
        f.finish()?;
        let details = serde_json::json!({ "before": before, "after": current.settings });
        let audit = self.audit(caller, tenant, "track.update", format!("tenants/{tenant}/tracks/{track}"), details);
        let updated = self
            .stores
            .tracks
            .update_track(&current, if_match, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{track}'")))?;
        self.refresh_track(tenant, track).await?;
        Ok(updated)
    }

    pub async fn delete_track(&self, caller: &Caller, tenant: &str, track: &str) -> ManageResult<()> {
        let t = self.get_track(caller, tenant, track).await?;
        if t.name.as_str() == MASTER {
            return Err(ManageError::Protected(
                "the master track holds the tenant's administrators and cannot be deleted".into(),
            ));
        }
        let details = serde_json::json!({ "before": t.settings });
        let audit = self.audit(caller, tenant, "track.delete", format!("tenants/{tenant}/tracks/{track}"), details);
        self.stores
            .tracks
            .delete_track(&t.track_ref(), &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{track}'")))?;
        self.forget_track(tenant, track).await;
        Ok(())
    }
}
