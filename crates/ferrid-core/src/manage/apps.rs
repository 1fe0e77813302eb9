//! App registrations; only a holder of `ferrid-api:admin` manages a client holding it.

use secrecy::SecretString;
use serde_json::json;

use super::{
    FieldError, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, TrackScope, request::AppBody,
};
use crate::{
    model::{App, AppSpec},
    store::PageRequest,
};

/// The scope of `ferrid-api` in `master/master` that manages every tenant.
const ADMIN_SCOPE: &str = "admin";

/// Whether an app holds `ferrid-api:admin`: a client of `master/master` granted it.
fn holds_admin(tenant: &str, track: &str, spec: &AppSpec) -> bool {
    tenant == MASTER
        && track == MASTER
        && spec.as_client().is_some_and(|c| {
            c.resource_scopes.iter().any(|g| {
                g.resource.as_str() == MANAGEMENT_RESOURCE && g.scopes.iter().any(|s| s.as_str() == ADMIN_SCOPE)
            })
        })
}

/// An app just registered, with the secret generated for it (shown this once).
#[derive(Debug)]
pub struct Registered {
    pub app: App,
    pub secret: Option<SecretString>,
}

impl Manager {
    pub async fn list_apps(&self, scope: &TrackScope<'_>, page: &PageRequest) -> ManageResult<Vec<App>> {
        self.get_track(scope).await?;
        self.stores.apps.list_apps(&scope.at(), page).await.map_err(|e| ManageError::from_store(e, || "apps".into()))
    }

    pub async fn get_app(&self, scope: &TrackScope<'_>, app: &str) -> ManageResult<App> {
        let found = self
            .stores
            .apps
            .get_app(&scope.app(app)?)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("app '{app}'")))?;
        // Only a holder of ferrid-api:admin may read, change, add credentials to or delete
        // a client that holds it (issue 18: a master-tenant administrator could take the
        // bootstrap admin client over).
        if holds_admin(scope.tenant(), scope.track(), &found.spec) && !scope.caller().is_admin() {
            return Err(ManageError::Forbidden(
                "this client holds ferrid-api:admin: only an administrator may manage it".into(),
            ));
        }
        Ok(found)
    }

    /// How many clients hold `ferrid-api:admin` now.
    fn admin_holders(&self) -> usize {
        self.registry.track(MASTER, MASTER).map_or(0, |rt| {
            rt.clients
                .values()
                .filter(|c| c.grant(MANAGEMENT_RESOURCE).is_some_and(|g| g.scopes.iter().any(|s| s == ADMIN_SCOPE)))
                .count()
        })
    }

    /// Serialises the changes of `master/master` apps, the only ones that can hold
    /// `ferrid-api:admin`; other tracks' changes take no lock.
    async fn lock_admin_changes(&self, scope: &TrackScope<'_>) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if scope.tenant().as_str() == MASTER && scope.track().as_str() == MASTER {
            Some(self.admin_change.lock().await)
        } else {
            None
        }
    }

    /// Refuses to take `ferrid-api:admin` from its last holder: nobody could manage
    /// every tenant after that.
    fn check_not_last_admin(&self) -> ManageResult<()> {
        if self.admin_holders() <= 1 {
            return Err(ManageError::Conflict(
                "this is the last client holding ferrid-api:admin: grant it to another client first".into(),
            ));
        }
        Ok(())
    }

    /// Checks a registration against its track: granted resources and scopes exist, and
    /// only an administrator may grant `ferrid-api:admin`.
    fn check_spec(&self, scope: &TrackScope<'_>, spec: &AppSpec) -> ManageResult<()> {
        let Some(client) = spec.as_client() else {
            return Ok(());
        };
        let (tenant, track) = (scope.tenant(), scope.track());
        let rt = self
            .registry
            .track(tenant, track)
            .ok_or_else(|| ManageError::NotFound(format!("track '{tenant}/{track}' not found")))?;
        let mut errors = Vec::new();
        for (i, g) in client.resource_scopes.iter().enumerate() {
            let Some(available) = rt.resources.get(&g.resource) else {
                errors.push(FieldError::new(
                    format!("resource_scopes[{i}].resource"),
                    format!("no resource '{}' in this track", g.resource),
                ));
                continue;
            };
            for (j, s) in g.scopes.iter().enumerate() {
                if !available.iter().any(|a| a == s.as_str()) {
                    errors.push(FieldError::new(
                        format!("resource_scopes[{i}].scopes[{j}]"),
                        format!("resource '{}' has no scope '{s}'", g.resource),
                    ));
                }
                let reserved = tenant.as_str() == MASTER
                    && track.as_str() == MASTER
                    && g.resource.as_str() == MANAGEMENT_RESOURCE
                    && s.as_str() == ADMIN_SCOPE;
                if reserved && !scope.caller().is_admin() {
                    return Err(ManageError::Forbidden("only an administrator may grant ferrid-api:admin".into()));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ManageError::Invalid(errors)) }
    }

    /// The `ferrid-api` resource of a master track is ferrid's own and stays as it is.
    fn check_not_reserved(track: &str, app: &str) -> ManageResult<()> {
        if track == MASTER && app == MANAGEMENT_RESOURCE {
            return Err(ManageError::Protected(
                "the ferrid-api resource of a master track is managed by ferrid".into(),
            ));
        }
        Ok(())
    }

    /// `POST …/apps`: registers an app; a client gets a generated secret.
    pub async fn create_app(&self, scope: &TrackScope<'_>, body: ManageResult<AppBody>) -> ManageResult<Registered> {
        self.get_track(scope).await?;
        let body = body?;
        Self::check_not_reserved(scope.track(), &body.name)?;
        self.check_spec(scope, &body.spec)?;
        let now = self.now();
        let (secret, records) = match body.spec.as_client() {
            Some(c) if c.client_auth_method.uses_secret() => {
                let (record, shown) = super::secrets::new_secret(None, now, &self.env().rng).await?;
                (shown, vec![record])
            }
            _ => (None, Vec::new()),
        };
        let app = App::new(scope.tenant().clone(), scope.track().clone(), body.name, body.spec, now);
        let audit = self.app_audit(scope, "app.create", &app.name, json!({ "after": app.spec }));
        self.app_write(scope, &app.name, self.stores.apps.create_app(&app, &records, &audit)).await?;
        Ok(Registered { app, secret })
    }

    /// `PUT …/apps/{app}`: replaces the registration (secrets stay).
    pub async fn replace_app(
        &self,
        scope: &TrackScope<'_>,
        app: &str,
        body: ManageResult<AppBody>,
        if_match: Option<i64>,
    ) -> ManageResult<App> {
        let current = self.get_app(scope, app).await?;
        Self::check_not_reserved(scope.track(), app)?;
        let body = body?;
        if body.name != current.name {
            return Err(ManageError::field("name", "must match the app in the URL"));
        }
        self.check_spec(scope, &body.spec)?;
        // held from the last-holder check until the snapshot shows the change
        let _admins = self.lock_admin_changes(scope).await;
        let (tenant, track) = (scope.tenant(), scope.track());
        if holds_admin(tenant, track, &current.spec) && !holds_admin(tenant, track, &body.spec) {
            self.check_not_last_admin()?;
        }
        let details = json!({ "before": current.spec, "after": body.spec });
        let audit = self.app_audit(scope, "app.replace", &current.name, details);
        let next = App { spec: body.spec, updated: self.now(), ..current };
        self.app_write(scope, &next.name, self.stores.apps.replace_app(&next, if_match, &audit)).await
    }

    pub async fn delete_app(&self, scope: &TrackScope<'_>, app: &str) -> ManageResult<()> {
        let current = self.get_app(scope, app).await?;
        Self::check_not_reserved(scope.track(), app)?;
        let _admins = self.lock_admin_changes(scope).await;
        if holds_admin(scope.tenant(), scope.track(), &current.spec) {
            self.check_not_last_admin()?;
        }
        let audit = self.app_audit(scope, "app.delete", &current.name, json!({ "before": current.spec }));
        self.app_write(scope, &current.name, self.stores.apps.delete_app(&scope.app(app)?, &audit)).await
    }

    /// The audit record of a change to an app (or to what it holds, `below` it).
    pub(super) fn app_audit(
        &self,
        scope: &TrackScope<'_>,
        action: &str,
        app: &str,
        details: serde_json::Value,
    ) -> crate::audit::AuditRecord {
        let target = format!("{}/apps/{app}", scope.target());
        self.audit(scope.caller(), scope.tenant(), action, target, details)
    }

    /// Awaits a store write to an app, naming it in an error, then reloads that app.
    async fn app_write<T>(
        &self,
        scope: &TrackScope<'_>,
        app: &str,
        write: impl std::future::Future<Output = crate::store::StoreResult<T>>,
    ) -> ManageResult<T> {
        let done = write.await.map_err(|e| ManageError::from_store(e, || format!("app '{app}'")))?;
        self.refresh_app(scope.tenant(), scope.track(), app).await?;
        Ok(done)
    }

    /// The app, if it is a client: only clients hold secrets and keys.
    pub(super) async fn get_client(&self, scope: &TrackScope<'_>, app: &str) -> ManageResult<App> {
        let a = self.get_app(scope, app).await?;
        if a.spec.as_client().is_none() {
            return Err(ManageError::NotFound(format!("app '{app}' is not a client: it holds no secrets or keys")));
        }
        Ok(a)
    }
}
