//! First start on an empty store (DESIGN §5 "Bootstrap"): tenant and track `master`,
//! the management resource `ferrid-api` (scopes `admin`, `tenant`) and the client
//! `admin` granted `ferrid-api:admin`.

use ferrid_oauth::{name::Name, scope::ScopeName};
use secrecy::{ExposeSecret, SecretString};

use super::{ADMIN_CLIENT, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, tracks};
use crate::{
    credentials::secret,
    model::{App, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, Tenant, TrackSettings},
};

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
        let (record, generated) = match admin_secret {
            Some(s) => {
                if !secret::CHOSEN_SECRET_LEN.contains(&s.expose_secret().chars().count()) {
                    return Err(ManageError::field("FERRID_ADMIN_SECRET", "must be 16 to 512 characters"));
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
        let resource = tracks::management_resource(&master, &["admin", "tenant"], now);
        let admin = App {
            tenant: master.clone(),
            track: master.clone(),
            name: Name::parse(ADMIN_CLIENT).expect("valid"),
            spec: AppSpec::OauthClient(ClientSpec {
                client_auth_method: ClientAuthMethod::ClientSecretPost,
                resource_scopes: vec![ResourceScopes {
                    resource: Name::parse(MANAGEMENT_RESOURCE).expect("valid"),
                    scopes: vec![ScopeName::parse("admin").expect("valid")],
                }],
                access_token_lifetime: None,
                claims: Vec::new(),
                issued_claims: crate::claims::issue::default_issued(),
                claim_transforms: Vec::new(),
            }),
            version: 1,
            created: now,
            updated: now,
        };
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
