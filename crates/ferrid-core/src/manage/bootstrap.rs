//! First start on an empty store (docs/api.md "Authorization"): tenant and track `master`,
//! the management resource `ferrid-api` (scopes `admin`, `tenant`), the client
//! `admin` granted `ferrid-api:admin`, and the user `admin` of the master track.

use ferrid_oauth::{name::Name, scope::ScopeName};
use secrecy::SecretString;

use super::{ADMIN_CLIENT, MANAGEMENT_RESOURCE, MASTER, ManageError, ManageResult, Manager, tracks};
use crate::model::{App, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, Tenant, TrackSettings};

/// The name of the user bootstrap creates in `master/master`.
pub const ADMIN_USER: &str = "admin";
/// The public `oidc_client` the web console logs in with, in every tenant's `master` track.
pub const CONSOLE_CLIENT: &str = "console";

/// The `console` client of `tenant`'s master track (docs/api.md "Bootstrap"): public
/// (PKCE, no secret), the authorization code grant, redirected to the console's
/// callback (`{base}/console/callback` for the master tenant, `{base}/console/{tenant}/callback`
/// for another).
pub fn console_client(manager: &Manager, tenant: &Name, now: crate::model::UnixTime) -> App {
    let base = manager.registry().urls().base().trim_end_matches('/');
    let prefix = if tenant.as_str() == MASTER { format!("{base}/console") } else { format!("{base}/console/{tenant}") };
    let spec: crate::model::OidcClientSpec = serde_json::from_value(serde_json::json!({
        "client_auth_method": "none",
        "redirect_uris": [format!("{prefix}/callback")],
        "post_logout_redirect_uris": [format!("{prefix}/")],
        "grant_types": ["authorization_code"],
        "require_pkce": true,
    }))
    .expect("the console client's registration reads");
    let master = Name::parse(MASTER).expect("valid");
    App::new(
        tenant.clone(),
        master,
        Name::parse(CONSOLE_CLIENT).expect("valid"),
        AppSpec::OidcClient(Box::new(spec)),
        now,
    )
}

/// What bootstrap did.
pub enum Bootstrap {
    /// The store already had tenants.
    AlreadyDone,
    /// Created; what was generated rather than supplied by the operator, to be shown once.
    Created {
        /// The admin client's secret, unless `FERRID_ADMIN_SECRET` gave it.
        secret: Option<SecretString>,
        /// The admin user's password, unless `FERRID_ADMIN_PASSWORD` gave it.
        password: Option<SecretString>,
    },
}

impl Manager {
    /// Creates the master tenant if the store has none. `admin_secret` is the operator's
    /// chosen secret (`FERRID_ADMIN_SECRET`), hashed slowly; `admin_password` the admin
    /// user's password (`FERRID_ADMIN_PASSWORD`, under the password policy); each missing
    /// one is generated.
    pub async fn bootstrap(
        &self,
        admin_secret: Option<SecretString>,
        admin_password: Option<SecretString>,
    ) -> ManageResult<Bootstrap> {
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
        let (admin_user, generated_password) = self.admin_user(&master, admin_password, now).await?;
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
        let mut track = tracks::new_track(
            self,
            &master,
            &master,
            TrackSettings::default(),
            vec![(resource, Vec::new()), (admin, vec![record])],
        )
        .await?;
        track.users.push(admin_user);
        track.apps.push((console_client(self, &master, now), Vec::new()));
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
        Ok(Bootstrap::Created { secret: generated, password: generated_password })
    }

    /// `ferrid recover-admin` (docs/cli.md "Recovering the admin secret"): adds a newly
    /// generated secret to the client `admin` of `master/master` through the same rule
    /// as `POST …/apps/admin/secrets`, audited with the actor `recovery`. The secrets it
    /// held stay valid. Refused on a store that was never bootstrapped.
    pub async fn recover_admin(&self) -> ManageResult<SecretString> {
        let has =
            self.stores.tenants.has_tenants().await.map_err(|e| ManageError::from_store(e, || "tenants".into()))?;
        if !has {
            return Err(ManageError::NotFound(
                "the store is empty: `ferrid serve` creates the admin client on its first start".into(),
            ));
        }
        let caller = super::Caller::Admin { by: super::access::Principal::Recovery };
        let scope = caller.system()?.tenant(MASTER)?.track(MASTER)?;
        let body = super::request::SecretBody { secret: None };
        let (_, shown) = self.add_secret(&scope, ADMIN_CLIENT, Ok(body)).await?;
        shown.ok_or(ManageError::Unavailable)
    }

    /// The user `admin` of `master/master` with `password`, or with a generated one
    /// (returned, to be shown once).
    async fn admin_user(
        &self,
        master: &Name,
        password: Option<SecretString>,
        now: crate::model::UnixTime,
    ) -> ManageResult<(crate::model::User, Option<SecretString>)> {
        use secrecy::ExposeSecret;
        let rng = &self.env().rng;
        let (password, generated) = match password {
            Some(p) => {
                if let Some(why) =
                    crate::credentials::password_policy::refusal(p.expose_secret(), Some(ADMIN_USER), None)
                {
                    return Err(ManageError::field("FERRID_ADMIN_PASSWORD", why));
                }
                (p, None)
            }
            None => {
                // 144 random bits, base64url
                let p = SecretString::from(ferrid_oauth::b64::encode(&rng.bytes::<18>()));
                (p.clone(), Some(p))
            }
        };
        let hash = super::users::hash_password(password, std::sync::Arc::clone(rng)).await?;
        let user = crate::model::User {
            tenant: master.clone(),
            track: master.clone(),
            id: rng.id(),
            username: Some(ADMIN_USER.to_owned()),
            email: None,
            email_verified: false,
            password: hash,
            claims: serde_json::Map::new(),
            disabled: false,
            version: 1,
            created: now,
            updated: now,
        };
        Ok((user, generated))
    }
}
