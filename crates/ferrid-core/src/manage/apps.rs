//! App registrations and their secrets.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{
    Caller, FieldError, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, app_at, input, path_name,
    track_at,
};
use crate::{
    credentials::secret,
    model::{App, AppSpec, MAX_SECRETS_PER_CLIENT, SecretRecord},
    store::{PageRequest, TrackRef},
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
pub struct Registered {
    pub app: App,
    pub secret: Option<SecretString>,
}

impl Manager {
    async fn check_track(&self, caller: &Caller, tenant: &str, track: &str) -> ManageResult<()> {
        self.get_track(caller, tenant, track).await.map(|_| ())
    }

    pub async fn list_apps(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        page: &PageRequest,
    ) -> ManageResult<Vec<App>> {
        self.check_track(caller, tenant, track).await?;
        self.stores
            .apps
            .list_apps(&track_at(tenant, track)?, page)
            .await
            .map_err(|e| ManageError::from_store(e, || "apps".into()))
    }

    pub async fn get_app(&self, caller: &Caller, tenant: &str, track: &str, app: &str) -> ManageResult<App> {
        caller.check_tenant(tenant)?;
        let (t, tr, a) = (path_name("tenant", tenant)?, path_name("track", track)?, path_name("app", app)?);
        let found = self
            .stores
            .apps
            .get_app(&TrackRef::new(t, tr).app(a))
            .await
            .map_err(|e| ManageError::from_store(e, || format!("app '{app}'")))?;
        // Only a holder of ferrid-api:admin may read, change, add credentials to or delete
        // a client that holds it (issue 18: a master-tenant administrator could take the
        // bootstrap admin client over).
        if holds_admin(tenant, track, &found.spec) && !caller.is_admin() {
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
    async fn lock_admin_changes(&self, tenant: &str, track: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if tenant == MASTER && track == MASTER { Some(self.admin_change.lock().await) } else { None }
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
    fn check_spec(&self, caller: &Caller, tenant: &str, track: &str, spec: &AppSpec) -> ManageResult<()> {
        let Some(client) = spec.as_client() else {
            return Ok(());
        };
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
                let reserved = tenant == MASTER
                    && track == MASTER
                    && g.resource.as_str() == MANAGEMENT_RESOURCE
                    && s.as_str() == "admin";
                if reserved && !caller.is_admin() {
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
    pub async fn create_app(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        body: &Value,
    ) -> ManageResult<Registered> {
        self.check_track(caller, tenant, track).await?;
        let input = input::app(body)?;
        Self::check_not_reserved(track, &input.name)?;
        self.check_spec(caller, tenant, track, &input.spec)?;
        let now = self.now();
        let (secret, records) = match input.spec.as_client() {
            Some(c) if c.client_auth_method.uses_secret() => {
                let s = secret::generate();
                let rec = secret::record_generated(&s, now);
                (Some(s), vec![rec])
            }
            _ => (None, Vec::new()),
        };
        let app = App {
            tenant: path_name("tenant", tenant)?,
            track: path_name("track", track)?,
            name: input.name,
            spec: input.spec,
            version: 1,
            created: now,
            updated: now,
        };
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{}", app.name);
        let audit = self.audit(caller, tenant, "app.create", target, json!({ "after": app.spec }));
        self.stores
            .apps
            .create_app(&app, &records, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("app '{}'", app.name)))?;
        self.refresh_track(tenant, track).await?;
        Ok(Registered { app, secret })
    }

    /// `PUT …/apps/{app}`: replaces the registration (secrets stay).
    pub async fn replace_app(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> ManageResult<App> {
        let current = self.get_app(caller, tenant, track, app).await?;
        Self::check_not_reserved(track, app)?;
        let input = input::app(body)?;
        if input.name != current.name {
            return Err(ManageError::field("name", "must match the app in the URL"));
        }
        self.check_spec(caller, tenant, track, &input.spec)?;
        // held from the last-holder check until the snapshot shows the change
        let _admins = self.lock_admin_changes(tenant, track).await;
        if holds_admin(tenant, track, &current.spec) && !holds_admin(tenant, track, &input.spec) {
            self.check_not_last_admin()?;
        }
        let details = json!({ "before": current.spec, "after": input.spec });
        let audit =
            self.audit(caller, tenant, "app.replace", format!("tenants/{tenant}/tracks/{track}/apps/{app}"), details);
        let next = App { spec: input.spec, updated: self.now(), ..current };
        let saved = self
            .stores
            .apps
            .replace_app(&next, if_match, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("app '{app}'")))?;
        self.refresh_track(tenant, track).await?;
        Ok(saved)
    }

    pub async fn delete_app(&self, caller: &Caller, tenant: &str, track: &str, app: &str) -> ManageResult<()> {
        let current = self.get_app(caller, tenant, track, app).await?;
        Self::check_not_reserved(track, app)?;
        let _admins = self.lock_admin_changes(tenant, track).await;
        if holds_admin(tenant, track, &current.spec) {
            self.check_not_last_admin()?;
        }
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{app}");
        let audit = self.audit(caller, tenant, "app.delete", target, json!({ "before": current.spec }));
        self.stores
            .apps
            .delete_app(&app_at(tenant, track, app)?, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("app '{app}'")))?;
        self.refresh_track(tenant, track).await
    }

    pub(super) async fn get_client(&self, caller: &Caller, tenant: &str, track: &str, app: &str) -> ManageResult<App> {
        let a = self.get_app(caller, tenant, track, app).await?;
        if a.spec.as_client().is_none() {
            return Err(ManageError::NotFound(format!("app '{app}' is not a client: it holds no secrets or keys")));
        }
        Ok(a)
    }

    pub async fn list_secrets(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
    ) -> ManageResult<Vec<SecretRecord>> {
        self.get_client(caller, tenant, track, app).await?;
        self.stores
            .credentials
            .list_secrets(&app_at(tenant, track, app)?)
            .await
            .map_err(|e| ManageError::from_store(e, || "secrets".into()))
    }

    /// `POST …/secrets`: `{}` generates a secret (returned this once); `{"secret"}`
    /// stores a chosen one with the slow hash.
    pub async fn add_secret(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
        body: &Value,
    ) -> ManageResult<(SecretRecord, Option<SecretString>)> {
        self.get_client(caller, tenant, track, app).await?;
        let mut f = input::Fields::of(body)?;
        let chosen = f.opt_str("secret").map(|s| SecretString::from(s.to_owned()));
        f.finish()?;
        let now = self.now();
        let (record, shown) = match chosen {
            Some(s) => {
                let len = s.expose_secret().chars().count();
                if !secret::CHOSEN_SECRET_LEN.contains(&len) {
                    return Err(ManageError::field("secret", "must be 16 to 512 characters"));
                }
                let rec = tokio::task::spawn_blocking(move || secret::record_chosen(&s, now))
                    .await
                    .map_err(|_| ManageError::Unavailable)?;
                (rec, None)
            }
            None => {
                let s = secret::generate();
                (secret::record_generated(&s, now), Some(s))
            }
        };
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{}", record.id);
        let generated = shown.is_some();
        let audit = self.audit(
            caller,
            tenant,
            "secret.add",
            target,
            json!({ "after": { "id": record.id, "info": record.info, "generated": generated } }),
        );
        self.stores
            .credentials
            .add_secret(&app_at(tenant, track, app)?, &record, MAX_SECRETS_PER_CLIENT, &audit)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::LimitReached => {
                    ManageError::Conflict(format!("a client holds at most {MAX_SECRETS_PER_CLIENT} secrets"))
                }
                e => ManageError::from_store(e, || "secret".into()),
            })?;
        self.refresh_track(tenant, track).await?;
        Ok((record, shown))
    }

    pub async fn delete_secret(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
        id: &str,
    ) -> ManageResult<()> {
        self.get_client(caller, tenant, track, app).await?;
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{id}");
        let audit = self.audit(caller, tenant, "secret.delete", target, json!({ "before": { "id": id } }));
        self.stores
            .credentials
            .delete_secret(&app_at(tenant, track, app)?, id, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || "secret".into()))?;
        self.refresh_track(tenant, track).await
    }
}
