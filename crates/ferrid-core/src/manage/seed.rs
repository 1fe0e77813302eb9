//! Bulk registration straight through the store, for the scale benchmark: many
//! tenants, each with a `bench` track holding a resource and its share of clients.

use ferrid_oauth::{jwt::SigningAlg, name::Name, scope::ScopeName};
use serde_json::json;

use super::{Caller, ManageError, ManageResult, Manager, tracks};
use crate::{
    credentials::secret,
    model::{App, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, ResourceSpec, TrackSettings},
};

/// The client a benchmark loads, and how to reach it.
pub struct Seeded {
    pub tenant: String,
    pub track: String,
    pub client_id: String,
    pub client_secret: String,
}

fn name(s: &str) -> Name {
    Name::parse(s).expect("seed names are valid")
}

impl Manager {
    /// Registers `clients` client_secret_basic clients spread over `tenants` tenants
    /// (track `bench`, ES256, resource `api` with scopes read and write). Every seeded
    /// client shares one secret (each stored with its own salt), returned for the load.
    pub async fn seed(&self, tenants: usize, clients: usize) -> ManageResult<Seeded> {
        let admin = Caller::admin_client("seed");
        let rng = self.env().rng.as_ref();
        let shared = secret::generate(rng);
        let tenants = tenants.max(1);
        let now = self.now();
        for t in 0..tenants {
            let tenant = format!("seed-{t:03}");
            let scope = admin.system()?;
            self.create_tenant(&scope, Ok(super::request::NewTenant { name: name(&tenant) })).await?;
            let (tn, tr) = (name(&tenant), name("bench"));
            let app = |n: &str, spec| App::new(tn.clone(), tr.clone(), name(n), spec, now);
            let scopes = vec![ScopeName::parse("read").expect("valid"), ScopeName::parse("write").expect("valid")];
            let mut apps =
                vec![(app("api", AppSpec::OauthResource(ResourceSpec { scopes: scopes.clone() })), Vec::new())];
            for c in (t..clients).step_by(tenants) {
                let spec = AppSpec::OauthClient(ClientSpec {
                    client_auth_method: ClientAuthMethod::ClientSecretBasic,
                    resource_scopes: vec![ResourceScopes { resource: name("api"), scopes: scopes.clone() }],
                    access_token_lifetime: None,
                    claims: Vec::new(),
                    issued_claims: crate::claims::issue::default_issued(),
                    claim_transforms: Vec::new(),
                });
                apps.push((app(&format!("c-{c}"), spec), vec![secret::record_generated(&shared, now, rng)]));
            }
            let settings = TrackSettings { signing_alg: SigningAlg::ES256, ..TrackSettings::default() };
            let new = tracks::new_track(self, &tn, &tr, settings, apps).await?;
            let details = json!({ "after": new.track.settings, "seeded_clients": new.apps.len() - 1 });
            let audit = self.audit(&admin, &tenant, "track.create", format!("tenants/{tenant}/tracks/bench"), details);
            self.stores
                .tracks
                .create_track(&new, &audit)
                .await
                .map_err(|e| ManageError::from_store(e, || format!("track '{tenant}/bench'")))?;
        }
        self.load_snapshot().await?;
        Ok(Seeded {
            tenant: "seed-000".into(),
            track: "bench".into(),
            client_id: "c-0".into(),
            client_secret: secrecy::ExposeSecret::expose_secret(&shared).to_owned(),
        })
    }
}
