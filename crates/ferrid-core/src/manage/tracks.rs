//! Tracks: environments of a tenant, each with its issuer and signing keys.

use ferrid_oauth::{
    jwt::{SigningAlg, SigningKey},
    name::Name,
    scope::ScopeName,
};

use super::{
    MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, TenantScope, TrackScope,
    request::{self, TrackChanges},
};
use crate::{
    keys::key_context,
    model::{App, AppSpec, KeyState, ResourceSpec, SecretRecord, Track, TrackKey, TrackSettings},
    store::{NewTrack, PageRequest},
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
    Ok(NewTrack { track, keys: vec![key], apps, users: Vec::new() })
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
    let encrypted_pkcs8 = m.registry.cipher().seal(&key_context(tenant, track, &kid), &pkcs8, m.env().rng.as_ref());
    Ok(TrackKey { kid, alg, state, encrypted_pkcs8, created: now, changed: now })
}

/// The `ferrid-api` resource of a tenant's `master` track.
pub(super) fn management_resource(tenant: &Name, scopes: &[&str], now: i64) -> App {
    let scopes = scopes.iter().map(|s| ScopeName::parse(s).expect("valid")).collect();
    let spec = AppSpec::OauthResource(ResourceSpec { scopes });
    App::new(
        tenant.clone(),
        Name::parse(MASTER).expect("valid"),
        Name::parse(MANAGEMENT_RESOURCE).expect("valid"),
        spec,
        now,
    )
}

impl Manager {
    pub async fn list_tracks(&self, scope: &TenantScope<'_>, page: &PageRequest) -> ManageResult<Vec<Track>> {
        self.get_tenant(scope).await?;
        self.stores
            .tracks
            .list_tracks(scope.name(), page)
            .await
            .map_err(|e| ManageError::from_store(e, || "tracks".into()))
    }

    pub async fn get_track(&self, scope: &TrackScope<'_>) -> ManageResult<Track> {
        let (t, tr) = (scope.tenant(), scope.track());
        self.stores
            .tracks
            .get_track(&scope.at())
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{t}/{tr}'")))
    }

    /// `POST /tenants/{tenant}/tracks` with `{"name", "signing_alg"?, "access_token_lifetime"?}`.
    pub async fn create_track(
        &self,
        scope: &TenantScope<'_>,
        body: ManageResult<request::NewTrack>,
    ) -> ManageResult<Track> {
        let tenant_rec = self.get_tenant(scope).await?;
        let body = body?;
        let (tenant, name) = (scope.name(), &body.name);
        let new = new_track(self, &tenant_rec.name, name, body.settings(), Vec::new()).await?;
        let target = format!("tenants/{tenant}/tracks/{name}");
        let audit = self.audit(
            scope.caller(),
            tenant,
            "track.create",
            target,
            serde_json::json!({ "after": new.track.settings }),
        );
        self.stores
            .tracks
            .create_track(&new, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/{name}'")))?;
        self.refresh_track(tenant, name).await?;
        Ok(new.track)
    }

    /// `PATCH /tenants/{tenant}/tracks/{track}`: settings other than the algorithm.
    pub async fn update_track(
        &self,
        scope: &TrackScope<'_>,
        body: ManageResult<TrackChanges>,
        if_match: Option<i64>,
    ) -> ManageResult<Track> {
        let mut current = self.get_track(scope).await?;
        let before = current.settings.clone();
        current.settings = body?.apply(&current)?;
        let details = serde_json::json!({ "before": before, "after": current.settings });
        let audit = self.audit(scope.caller(), scope.tenant(), "track.update", scope.target(), details);
        let updated = self.track_write(scope, self.stores.tracks.update_track(&current, if_match, &audit)).await?;
        self.refresh_track(scope.tenant(), scope.track()).await?;
        Ok(updated)
    }

    pub async fn delete_track(&self, scope: &TrackScope<'_>) -> ManageResult<()> {
        let t = self.get_track(scope).await?;
        if t.name.as_str() == MASTER {
            return Err(ManageError::Protected(
                "the master track holds the tenant's administrators and cannot be deleted".into(),
            ));
        }
        let details = serde_json::json!({ "before": t.settings });
        let audit = self.audit(scope.caller(), scope.tenant(), "track.delete", scope.target(), details);
        self.track_write(scope, self.stores.tracks.delete_track(&scope.at(), &audit)).await?;
        self.forget_track(scope.tenant(), scope.track()).await;
        Ok(())
    }

    /// Awaits a store write to a track, naming the track in a not-found or conflict.
    async fn track_write<T>(
        &self,
        scope: &TrackScope<'_>,
        write: impl std::future::Future<Output = crate::store::StoreResult<T>>,
    ) -> ManageResult<T> {
        write.await.map_err(|e| ManageError::from_store(e, || format!("track '{}/{}'", scope.tenant(), scope.track())))
    }
}
