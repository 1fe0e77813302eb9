//! The in-memory snapshot that every protocol request reads (docs/model.md "Storage"): built from the
//! store once per track change, never consulted by the store on the token hot path.

use std::{collections::HashMap, sync::Arc};

use arc_swap::ArcSwap;
use ferrid_oauth::{
    jwt::{SigningKey, VerifyingKey},
    name::Name,
};

use crate::{
    client_auth::keys::ClientKey,
    keys::{KeyCipher, key_context},
    model::{ClientAuthMethod, GrantType, KeyState, SecretHash, TrackData, TrackSettings},
    urls::PublicUrl,
};

mod deny;
mod oidc;

pub use deny::DenyList;
pub use oidc::{OidcRuntime, PkcePolicy};

/// Scopes of one resource a client may ask for, resolved against the resource's
/// current scopes (a grant of a scope the resource no longer has is dropped).
#[derive(Debug)]
pub struct Grant {
    pub resource: String,
    pub scopes: Vec<String>,
}

/// A registered public key of a `private_key_jwt` client, with its verifiers built.
pub struct ClientKeyRuntime {
    pub key: ClientKey,
    pub verifiers: Vec<VerifyingKey>,
}

/// A secret of a client as the token endpoint checks it: `info` (the first 3
/// characters of a secret longer than 20, docs/model.md "Client secrets") selects which chosen secret a
/// presented one can be, so a wrong guess costs one slow hash, not one per secret.
pub struct ClientSecret {
    pub id: String,
    pub info: Option<String>,
    pub hash: SecretHash,
}

/// A client as the token endpoint sees it.
pub struct ClientRuntime {
    pub name: Name,
    pub method: ClientAuthMethod,
    pub secrets: Vec<ClientSecret>,
    pub grants: Vec<Grant>,
    pub token_lifetime: u32,
    pub keys: Vec<ClientKeyRuntime>,
    /// Fixed claims and transforms; `None` for the common app that adds nothing.
    pub claims: Option<crate::claims::issue::ClaimPlan>,
    /// The grants it may use: `client_credentials` alone for an `oauth_client`.
    pub grant_types: Vec<GrantType>,
    /// What an `oidc_client` adds; `None` for an `oauth_client`.
    pub oidc: Option<Box<OidcRuntime>>,
}

impl ClientRuntime {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn grant(&self, resource: &str) -> Option<&Grant> {
        self.grants.iter().find(|g| g.resource == resource)
    }
}

/// One track, ready to serve: keys parsed once, documents pre-rendered.
pub struct TrackRuntime {
    pub tenant: Name,
    pub track: Name,
    pub issuer: String,
    pub settings: TrackSettings,
    /// The key that signs new tokens.
    pub signing: Option<SigningKey>,
    /// Every published key, for verifying ferrid's own tokens.
    pub verifying: Vec<VerifyingKey>,
    pub jwks_json: String,
    /// Every key's life (kid, state, created, last change), for the rotation planner.
    pub key_states: Vec<crate::keys::rotation::KeyLife>,
    pub clients: HashMap<Name, ClientRuntime>,
    /// Resource name → its scopes.
    pub resources: HashMap<Name, Vec<String>>,
    /// The track-level discovery document (`endpoint::discovery`), rendered once here.
    pub discovery_json: String,
}

impl TrackRuntime {
    /// Builds the runtime form of a track. A key that does not decrypt is skipped and
    /// reported (the track then has no signing key and refuses to issue).
    pub fn build(data: TrackData, cipher: &KeyCipher, urls: &PublicUrl) -> TrackRuntime {
        let t = &data.track;
        let issuer = urls.issuer(&t.tenant, &t.name);
        let mut signing = None;
        let mut verifying = Vec::new();
        let mut published = Vec::new();
        for key in &data.keys {
            let ctx = key_context(&t.tenant, &t.name, &key.kid);
            let parsed =
                cipher.open(&ctx, &key.encrypted_pkcs8).ok().and_then(|der| SigningKey::from_pkcs8(key.alg, &der).ok());
            let Some(parsed) = parsed else {
                tracing::error!(tenant = %t.tenant, track = %t.name, kid = %key.kid, "track key does not decrypt with this master key");
                continue;
            };
            published.push(parsed.public_jwk().clone());
            if let Ok(vk) = VerifyingKey::from_jwk(key.alg, parsed.public_jwk()) {
                verifying.push(vk);
            }
            if key.state == KeyState::Active {
                signing = Some(parsed);
            }
        }
        let jwks_json = crate::endpoint::jwks::render(published);
        let key_states = data
            .keys
            .iter()
            .map(|k| crate::keys::rotation::KeyLife {
                kid: k.kid.clone(),
                state: k.state,
                created: k.created,
                changed: k.changed,
            })
            .collect();

        let resources: HashMap<Name, Vec<String>> = data
            .apps
            .iter()
            .filter_map(|a| {
                a.spec.as_resource().map(|r| (a.name.clone(), r.scopes.iter().map(|s| s.to_string()).collect()))
            })
            .collect();
        let mut keys: HashMap<&Name, Vec<ClientKeyRuntime>> = HashMap::new();
        for (app, stored) in &data.client_keys {
            let verifiers = stored.key.verifiers();
            keys.entry(app).or_default().push(ClientKeyRuntime { key: stored.key.clone(), verifiers });
        }
        let mut secrets: HashMap<&Name, Vec<ClientSecret>> = HashMap::new();
        for (app, rec) in &data.secrets {
            let secret = ClientSecret { id: rec.id.clone(), info: rec.info.clone(), hash: rec.hash.clone() };
            secrets.entry(app).or_default().push(secret);
        }
        let clients = data
            .apps
            .iter()
            .filter_map(|a| {
                let c = a.spec.as_client()?;
                let oidc = a.spec.as_oidc();
                let public = c.client_auth_method == ClientAuthMethod::None;
                let grants = c
                    .resource_scopes
                    .iter()
                    .filter_map(|g| {
                        let available = resources.get(&g.resource)?;
                        let scopes: Vec<String> =
                            g.scopes.iter().map(|s| s.to_string()).filter(|s| available.contains(s)).collect();
                        (!scopes.is_empty()).then(|| Grant { resource: g.resource.to_string(), scopes })
                    })
                    .collect();
                let runtime = ClientRuntime {
                    name: a.name.clone(),
                    method: c.client_auth_method,
                    secrets: secrets.remove(&a.name).unwrap_or_default(),
                    grants,
                    token_lifetime: c.access_token_lifetime.unwrap_or(t.settings.access_token_lifetime),
                    keys: keys.remove(&a.name).unwrap_or_default(),
                    claims: crate::claims::issue::ClaimPlan::build(&c.claims, &c.claim_transforms, &c.issued_claims),
                    grant_types: oidc.map_or_else(|| vec![GrantType::ClientCredentials], |o| o.grant_types.clone()),
                    oidc: oidc.map(|o| Box::new(OidcRuntime::build(o, public))),
                };
                Some((a.name.clone(), runtime))
            })
            .collect();
        let mut rt = TrackRuntime {
            tenant: t.tenant.clone(),
            track: t.name.clone(),
            issuer,
            settings: t.settings.clone(),
            signing,
            verifying,
            jwks_json,
            key_states,
            clients,
            resources,
            discovery_json: String::new(),
        };
        rt.discovery_json = crate::endpoint::discovery::render(&rt, urls, None);
        rt
    }

    /// Whether an app of this name exists in the track (for app-scoped URLs).
    pub fn has_app(&self, app: &str) -> bool {
        self.clients.contains_key(app) || self.resources.contains_key(app)
    }
}

/// Tenant → track → runtime.
#[derive(Clone, Default)]
pub struct Snapshot {
    tenants: HashMap<Name, HashMap<Name, Arc<TrackRuntime>>>,
}

/// The live snapshot, swapped atomically on change; readers never wait.
pub struct Registry {
    current: ArcSwap<Snapshot>,
    cipher: KeyCipher,
    urls: PublicUrl,
    /// Revoked access tokens of every track (`runtime/deny.rs`).
    denied: DenyList,
}

impl Registry {
    pub fn new(cipher: KeyCipher, urls: PublicUrl) -> Registry {
        Registry { current: ArcSwap::from_pointee(Snapshot::default()), cipher, urls, denied: DenyList::default() }
    }

    /// The deny-list of revoked access tokens.
    pub fn denied(&self) -> &DenyList {
        &self.denied
    }

    pub fn urls(&self) -> &PublicUrl {
        &self.urls
    }

    pub fn cipher(&self) -> &KeyCipher {
        &self.cipher
    }

    pub fn track(&self, tenant: &str, track: &str) -> Option<Arc<TrackRuntime>> {
        self.current.load().tenants.get(tenant)?.get(track).cloned()
    }

    /// Every track of the snapshot.
    pub fn tracks(&self) -> Vec<Arc<TrackRuntime>> {
        self.current.load().tenants.values().flat_map(|t| t.values().cloned()).collect()
    }

    pub fn track_count(&self) -> usize {
        self.current.load().tenants.values().map(HashMap::len).sum()
    }

    /// Replaces the whole snapshot (start-up, or a full reload).
    pub fn load_all(&self, data: Vec<TrackData>) {
        let mut snap = Snapshot::default();
        for d in data {
            let rt = TrackRuntime::build(d, &self.cipher, &self.urls);
            snap.tenants.entry(rt.tenant.clone()).or_default().insert(rt.track.clone(), Arc::new(rt));
        }
        self.current.store(Arc::new(snap));
    }

    /// Installs the fresh state of one track.
    pub fn put_track(&self, data: TrackData) {
        let rt = Arc::new(TrackRuntime::build(data, &self.cipher, &self.urls));
        self.current.rcu(|old| {
            let mut snap = Snapshot::clone(old);
            snap.tenants.entry(rt.tenant.clone()).or_default().insert(rt.track.clone(), rt.clone());
            snap
        });
    }

    pub fn remove_track(&self, tenant: &str, track: &str) {
        self.current.rcu(|old| {
            let mut snap = Snapshot::clone(old);
            if let Some(t) = snap.tenants.get_mut(tenant) {
                t.remove(track);
            }
            snap
        });
    }

    pub fn remove_tenant(&self, tenant: &str) {
        self.current.rcu(|old| {
            let mut snap = Snapshot::clone(old);
            snap.tenants.remove(tenant);
            snap
        });
    }
}
