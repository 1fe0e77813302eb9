//! First start on an empty store (docs/api.md "Authorization"): tenant and track `master`,
//! the management resource `ferrid-api` (scopes `admin`, `tenant`) and the client
//! `admin` granted `ferrid-api:admin`.

use ferrid_oauth::{name::Name, scope::ScopeName};
use secrecy::SecretString;

use super::{ADMIN_CLIENT, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, tracks};
use crate::model::{App, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, Tenant, TrackSettings};

/// What bootstrap did.
pub enum Bootstrap {
    /// The store already had tenants.
    AlreadyDone,
    /// Created with the secret the operator supplied.
    Created,
    /// Created with a generated secret, to be shown once.
    CreatedWithGenerated(SecretString),
}

impl Manager {
    /// Creates the master tenant if the store has none. `admin_secret` is the operator's
    /// chosen secret (`FERRID_ADMIN_SECRET`), hashed slowly; without it one is generated.
    pub async fn bootstrap(&self, admin_secret: Option<SecretString>) -> ManageResult<Bootstrap> {
        let has =
            self.stores.tenants.has_tenants().await.map_err(|e| ManageError::from_store(e, || "tenants".into()))?;
        if has {
            return Ok(Bootstrap::AlreadyDone);
        }
        let now = self.now();
        let master = Name::parse(MASTER).expect("valid");
        if let Some(s) = &admin_secret {
            super::request::check_chosen_secret("FERRID_ADMIN_SECRET", s)?;
        }
        let (record, generated) = super::secrets::new_secret(admin_secret, now, &self.env().rng).await?;
        let resource = tracks::management_resource(&master, &["admin", "tenant"], now);
        let spec = AppSpec::OauthClient(ClientSpec {
            client_auth_method: ClientAuthMethod::ClientSecretPost,
            resource_scopes: vec![ResourceScopes {
                resource: Name::parse(MANAGEMENT_RESOURCE).expect("valid"),
                scopes: vec![ScopeName::parse("admin").expect("valid")],
            }],
            access_token_lifetime: None,
            claims: Vec::new(),
            issued_claims: crate::claims::issue::default_issued(),
            claim_transforms: Vec::new(),
        });
        let admin = App::new(master.clone(), master.clone(), Name::parse(ADMIN_CLIENT).expect("valid"), spec, now);
        let track = tracks::new_track(
            self,
            &master,
            &master,
            TrackSettings::default(),
            vec![(resource, Vec::new()), (admin, vec![record])],
        )
        .await?;
        let tenant = Tenant { name: master.clone(), created: now };
        let audit = crate::audit::AuditRecord::system(
            MASTER,
            now,
            "tenant.create",
            format!("tenants/{MASTER}"),
            serde_json::json!({ "after": { "name": MASTER, "bootstrap": true } }),
        );
        match self.stores.tenants.create_tenant(&tenant, &track, &audit).await {
            Ok(()) => {}
            // Another instance bootstrapped the shared store first.
            Err(crate::store::StoreError::Conflict) => return Ok(Bootstrap::AlreadyDone),
            Err(e) => return Err(ManageError::from_store(e, || "tenant 'master'".into())),
        }
        self.refresh_track(MASTER, MASTER).await?;
        Ok(match generated {
            Some(s) => Bootstrap::CreatedWithGenerated(s),
            None => Bootstrap::Created,
        })
    }
}
