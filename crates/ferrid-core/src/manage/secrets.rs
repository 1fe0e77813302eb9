//! Client secrets: `GET, POST …/apps/{app}/secrets`, `DELETE …/secrets/{id}`. A
//! generated secret is shown once; none is ever stored in clear (docs/security.md).

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::json;

use super::{ManageError, ManageResult, Manager, TrackScope, request::SecretBody};
use crate::{
    credentials::secret,
    env::Rng,
    model::{MAX_SECRETS_PER_CLIENT, SecretRecord, UnixTime},
    store::{StoreError, StoreResult},
};

/// A new secret's record: a chosen one hashed slowly (off the async workers), or a
/// generated one, returned to be shown this once.
pub(super) async fn new_secret(
    chosen: Option<SecretString>,
    now: UnixTime,
    rng: &Arc<dyn Rng>,
) -> ManageResult<(SecretRecord, Option<SecretString>)> {
    match chosen {
        Some(s) => {
            let rng = Arc::clone(rng);
            let rec = tokio::task::spawn_blocking(move || secret::record_chosen(&s, now, rng.as_ref()))
                .await
                .map_err(|_| ManageError::Unavailable)?;
            Ok((rec, None))
        }
        None => {
            let s = secret::generate(rng.as_ref());
            Ok((secret::record_generated(&s, now, rng.as_ref()), Some(s)))
        }
    }
}

impl Manager {
    /// Reads what a client holds (its secrets or keys), once the client is found;
    /// `read` does nothing until awaited. Names `what` in an error.
    pub(super) async fn client_list<T>(
        &self,
        scope: &TrackScope<'_>,
        app: &str,
        what: &str,
        read: impl Future<Output = StoreResult<Vec<T>>>,
    ) -> ManageResult<Vec<T>> {
        self.get_client(scope, app).await?;
        read.await.map_err(|e| ManageError::from_store(e, || what.into()))
    }

    pub async fn list_secrets(&self, scope: &TrackScope<'_>, app: &str) -> ManageResult<Vec<SecretRecord>> {
        let at = scope.app(app)?;
        let read = self.stores.credentials.list_secrets(&at);
        self.client_list(scope, app, "secrets", read).await
    }

    /// `POST …/secrets`: `{}` generates a secret (returned this once); `{"secret"}`
    /// stores a chosen one with the slow hash.
    pub async fn add_secret(
        &self,
        scope: &TrackScope<'_>,
        app: &str,
        body: ManageResult<SecretBody>,
    ) -> ManageResult<(SecretRecord, Option<SecretString>)> {
        self.get_client(scope, app).await?;
        let (record, shown) = new_secret(body?.secret, self.now(), &self.env().rng).await?;
        let generated = shown.is_some();
        let details = json!({ "after": { "id": record.id, "info": record.info, "generated": generated } });
        let audit = self.app_audit(scope, "secret.add", &format!("{app}/secrets/{}", record.id), details);
        let (tenant, track) = (scope.tenant(), scope.track());
        self.stores.credentials.add_secret(&scope.app(app)?, &record, MAX_SECRETS_PER_CLIENT, &audit).await.map_err(
            |e| match e {
                StoreError::LimitReached => {
                    ManageError::Conflict(format!("a client holds at most {MAX_SECRETS_PER_CLIENT} secrets"))
                }
                e => ManageError::from_store(e, || "secret".into()),
            },
        )?;
        self.refresh_app(tenant, track, app).await?;
        Ok((record, shown))
    }

    pub async fn delete_secret(&self, scope: &TrackScope<'_>, app: &str, id: &str) -> ManageResult<()> {
        self.get_client(scope, app).await?;
        let before = json!({ "before": { "id": id } });
        let audit = self.app_audit(scope, "secret.delete", &format!("{app}/secrets/{id}"), before);
        let (tenant, track) = (scope.tenant(), scope.track());
        self.stores
            .credentials
            .delete_secret(&scope.app(app)?, id, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || "secret".into()))?;
        self.refresh_app(tenant, track, app).await
    }
}
