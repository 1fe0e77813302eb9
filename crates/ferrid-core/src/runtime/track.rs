//! One track as the protocol endpoints read it (docs/ARCHITECTURE.md "Snapshot"): what
//! belongs to the whole track ([`TrackShared`]: keys, settings, resources, issuer) is
//! built once per track change and shared; each client is its own `Arc` in a persistent
//! map, so a change to one app replaces that entry alone and the other clients stay the
//! same allocations.

use std::{collections::HashMap, ops::Deref, sync::Arc};

use ferrid_oauth::{
    jwt::{SigningKey, VerifyingKey},
    name::Name,
};

use super::{ClientKeyRuntime, ClientRuntime, ClientSecret, Clients, Grant, GrantLists, GrantTypes, OidcRuntime};
use crate::{
    keys::{KeyCipher, key_context},
    model::{App, AppData, ClientAuthMethod, GrantType, KeyState, TrackData, TrackKey, TrackSettings},
    store::TrackRef,
    urls::PublicUrl,
};

/// What every client of a track shares: built from the track row, its keys and its
/// resources; rebuilt only by a track-wide change (settings, keys, a resource).
pub struct TrackShared {
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
    /// Resource name → its scopes.
    pub resources: HashMap<Name, Vec<String>>,
    /// The distinct grant lists of the track's clients ([`TrackShared::intern_grants`]).
    grants: GrantLists,
}

/// One track, ready to serve: keys parsed once, documents pre-rendered. Reads of the
/// shared part go through `Deref` (`rt.issuer`, `rt.settings`, …).
pub struct TrackRuntime {
    shared: Arc<TrackShared>,
    pub clients: Clients,
    /// The track-level discovery document (`endpoint::discovery`); it lists the OIDC
    /// clients' scopes, so it is rendered again when an OIDC client changes.
    pub discovery_json: Arc<str>,
}

impl Deref for TrackRuntime {
    type Target = TrackShared;
    fn deref(&self) -> &TrackShared {
        &self.shared
    }
}

impl TrackShared {
    /// Parses the track's keys (a key that does not decrypt is skipped and reported: the
    /// track then has no signing key and refuses to issue) and indexes its resources.
    fn build(
        track: &crate::model::Track,
        keys: &[TrackKey],
        apps: &[App],
        cipher: &KeyCipher,
        urls: &PublicUrl,
    ) -> Self {
        let t = track;
        let mut signing = None;
        let mut verifying = Vec::new();
        let mut published = Vec::new();
        for key in keys {
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
        let key_states = keys
            .iter()
            .map(|k| crate::keys::rotation::KeyLife {
                kid: k.kid.clone(),
                state: k.state,
                created: k.created,
                changed: k.changed,
            })
            .collect();
        let resources = apps
            .iter()
            .filter_map(|a| {
                a.spec.as_resource().map(|r| (a.name.clone(), r.scopes.iter().map(|s| s.to_string()).collect()))
            })
            .collect();
        TrackShared {
            tenant: t.tenant.clone(),
            track: t.name.clone(),
            issuer: urls.issuer(&t.tenant, &t.name),
            settings: t.settings.clone(),
            signing,
            verifying,
            jwks_json: crate::endpoint::jwks::render(published),
            key_states,
            resources,
            grants: GrantLists::default(),
        }
    }

    /// The one allocation of this list of grants that the track's clients share
    /// ([`GrantLists::intern`]).
    pub fn intern_grants(&self, grants: Vec<Grant>) -> Arc<[Grant]> {
        self.grants.intern(grants)
    }
}

impl ClientRuntime {
    /// The runtime form of a client app of `track` (None for a resource): its grants are
    /// resolved against the track's resources.
    pub fn build(data: AppData, track: &TrackShared) -> Option<ClientRuntime> {
        let a = &data.app;
        let c = a.spec.as_client()?;
        let oidc = a.spec.as_oidc();
        let public = c.client_auth_method == ClientAuthMethod::None;
        let grants: Vec<Grant> = c
            .resource_scopes
            .iter()
            .filter_map(|g| {
                let available = track.resources.get(&g.resource)?;
                let scopes: Vec<String> =
                    g.scopes.iter().map(|s| s.to_string()).filter(|s| available.contains(s)).collect();
                (!scopes.is_empty()).then(|| Grant { resource: g.resource.to_string(), scopes })
            })
            .collect();
        let secrets = data.secrets.into_iter().map(ClientSecret::of).collect();
        let keys = data
            .client_keys
            .into_iter()
            .map(|stored| ClientKeyRuntime { verifiers: stored.key.verifiers(), key: stored.key })
            .collect();
        Some(ClientRuntime {
            name: a.name.clone(),
            method: c.client_auth_method,
            token_lifetime: c.access_token_lifetime.unwrap_or(track.settings.access_token_lifetime),
            grant_types: GrantTypes::of(oidc.map_or(&[GrantType::ClientCredentials], |o| &o.grant_types)),
            secrets,
            grants: track.intern_grants(grants),
            keys,
            claims: crate::claims::issue::ClaimPlan::build(&c.claims, &c.claim_transforms, &c.issued_claims)
                .map(Box::new),
            oidc: oidc.map(|o| Box::new(OidcRuntime::build(o, public))),
        })
    }
}

impl TrackRuntime {
    /// The store's reference to this track.
    pub fn at(&self) -> TrackRef {
        TrackRef::new(self.tenant.clone(), self.track.clone())
    }

    /// Builds the runtime form of a whole track.
    pub fn build(data: TrackData, cipher: &KeyCipher, urls: &PublicUrl) -> TrackRuntime {
        let shared = TrackShared::build(&data.track, &data.keys, &data.apps, cipher, urls);
        let mut secrets: HashMap<Name, Vec<_>> = HashMap::new();
        for (app, rec) in data.secrets {
            secrets.entry(app).or_default().push(rec);
        }
        let mut keys: HashMap<Name, Vec<_>> = HashMap::new();
        for (app, stored) in data.client_keys {
            keys.entry(app).or_default().push(stored);
        }
        let mut builder = TrackBuilder::new(shared);
        for app in data.apps {
            let secrets = secrets.remove(&app.name).unwrap_or_default();
            let client_keys = keys.remove(&app.name).unwrap_or_default();
            builder.add(AppData { app, secrets, client_keys });
        }
        builder.finish(urls)
    }

    /// A copy of this track with one client put in (`Some`) or taken out (`None`) by
    /// name; every other client is the same `Arc`.
    pub fn with_client(&self, name: &Name, client: Option<ClientRuntime>, urls: &PublicUrl) -> TrackRuntime {
        let mut clients = self.clients.clone();
        let before = match client {
            Some(c) => clients.insert(Arc::new(c)),
            None => clients.remove(name),
        };
        let oidc_changed =
            before.is_some_and(|b| b.oidc.is_some()) || clients.get(name).is_some_and(|c| c.oidc.is_some());
        let mut next =
            TrackRuntime { shared: self.shared.clone(), clients, discovery_json: self.discovery_json.clone() };
        if oidc_changed {
            next.discovery_json = crate::endpoint::discovery::render(&next, urls, None).into();
        }
        next
    }

    /// Whether an app of this name exists in the track (for app-scoped URLs).
    pub fn has_app(&self, app: &str) -> bool {
        self.clients.contains_key(app) || self.resources.contains_key(app)
    }

    /// The part every client shares.
    pub fn shared(&self) -> &Arc<TrackShared> {
        &self.shared
    }
}

/// Builds a track one client at a time (start-up streams apps in pages through this).
pub struct TrackBuilder {
    shared: Arc<TrackShared>,
    clients: Clients,
}

impl TrackBuilder {
    pub fn new(shared: TrackShared) -> TrackBuilder {
        TrackBuilder { shared: Arc::new(shared), clients: Clients::new() }
    }

    /// The builder of a track from its row, keys and resource apps.
    pub fn start(
        track: &crate::model::Track,
        keys: &[TrackKey],
        resources: &[App],
        cipher: &KeyCipher,
        urls: &PublicUrl,
    ) -> TrackBuilder {
        TrackBuilder::new(TrackShared::build(track, keys, resources, cipher, urls))
    }

    /// Adds one app; a resource adds nothing here (it is in the shared part).
    pub fn add(&mut self, data: AppData) {
        if let Some(c) = ClientRuntime::build(data, &self.shared) {
            self.clients.insert(Arc::new(c));
        }
    }

    pub fn finish(self, urls: &PublicUrl) -> TrackRuntime {
        let mut rt = TrackRuntime { shared: self.shared, clients: self.clients, discovery_json: Arc::from("") };
        rt.discovery_json = crate::endpoint::discovery::render(&rt, urls, None).into();
        rt
    }
}
