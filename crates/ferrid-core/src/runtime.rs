//! The in-memory snapshot that every protocol request reads (docs/model.md "Storage"): built from the
//! store once per track change, never consulted by the store on the token hot path.

use std::{collections::HashMap, sync::Arc};

use arc_swap::ArcSwap;
use ferrid_oauth::{jwt::VerifyingKey, name::Name};

use crate::{
    client_auth::keys::ClientKey,
    keys::KeyCipher,
    model::{App, AppData, ClientAuthMethod, GrantType, SecretHash, Track, TrackData, TrackKey},
    urls::PublicUrl,
};

mod deny;
mod oidc;
mod track;

pub use deny::DenyList;
pub use oidc::{OidcRuntime, PkcePolicy};
pub use track::{Clients, TrackBuilder, TrackRuntime, TrackShared};

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

    /// A sink that builds a whole new snapshot from a streamed load; [`Registry::install`]
    /// makes it live.
    pub fn builder(&self) -> SnapshotBuilder<'_> {
        SnapshotBuilder { registry: self, current: None, built: Snapshot::default() }
    }

    /// Replaces the whole snapshot by what `b` built.
    pub fn install(&self, b: SnapshotBuilder<'_>) {
        self.current.store(Arc::new(b.built));
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

    /// Installs a built track (start-up streams tracks in through this).
    pub fn put_built(&self, rt: TrackRuntime) {
        let rt = Arc::new(rt);
        self.current.rcu(|old| {
            let mut snap = Snapshot::clone(old);
            snap.tenants.entry(rt.tenant.clone()).or_default().insert(rt.track.clone(), rt.clone());
            snap
        });
    }

    /// Puts one client into its track (`Some`) or takes it out (`None`), leaving every
    /// other client of the track the same `Arc`. False when the track is not loaded.
    pub fn put_client(&self, tenant: &str, track: &str, name: &Name, client: Option<ClientRuntime>) -> bool {
        let Some(current) = self.track(tenant, track) else { return false };
        let next = Arc::new(current.with_client(name, client, &self.urls));
        self.current.rcu(|old| {
            let mut snap = Snapshot::clone(old);
            snap.tenants.entry(next.tenant.clone()).or_default().insert(next.track.clone(), next.clone());
            snap
        });
        true
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

/// Builds a snapshot one track and one page of apps at a time
/// ([`crate::store::SnapshotSource::stream_all`]).
pub struct SnapshotBuilder<'r> {
    registry: &'r Registry,
    current: Option<TrackBuilder>,
    built: Snapshot,
}

impl crate::store::SnapshotSink for SnapshotBuilder<'_> {
    fn start_track(&mut self, track: Track, keys: Vec<TrackKey>, resources: Vec<App>) {
        let r = self.registry;
        self.current = Some(TrackBuilder::start(&track, &keys, &resources, &r.cipher, &r.urls));
    }

    fn apps(&mut self, page: Vec<AppData>) {
        if let Some(b) = self.current.as_mut() {
            page.into_iter().for_each(|a| b.add(a));
        }
    }

    fn end_track(&mut self) {
        if let Some(b) = self.current.take() {
            let rt = b.finish(&self.registry.urls);
            self.built.tenants.entry(rt.tenant.clone()).or_default().insert(rt.track.clone(), Arc::new(rt));
        }
    }
}
