//! The in-memory snapshot that every protocol request reads (docs/model.md "Storage"): built from the
//! store once per track change, never consulted by the store on the token hot path.

use std::{collections::HashMap, sync::Arc};

use arc_swap::ArcSwap;
use ferrid_oauth::{jwt::VerifyingKey, name::Name};

use crate::{
    client_auth::keys::ClientKey,
    keys::KeyCipher,
    model::{App, AppData, ClientAuthMethod, GrantType, SecretHash, SecretRecord, Track, TrackData, TrackKey},
    urls::PublicUrl,
};

mod clients;
mod deny;
mod oidc;
mod track;

pub use clients::{Clients, GrantLists};
pub use deny::DenyList;
pub use oidc::{OidcRuntime, PkcePolicy};
pub use track::{TrackBuilder, TrackRuntime, TrackShared};

/// Scopes of one resource a client may ask for, resolved against the resource's
/// current scopes (a grant of a scope the resource no longer has is dropped). A client's
/// list of grants is interned per track ([`TrackShared::intern_grants`]): clients granted
/// the same scopes share one allocation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    pub resource: String,
    pub scopes: Vec<String>,
}

/// A registered public key of a `private_key_jwt` client, with its verifiers built.
pub struct ClientKeyRuntime {
    pub key: ClientKey,
    pub verifiers: Vec<VerifyingKey>,
}

/// A secret of a client as the token endpoint checks it. A secret ferrid generated is
/// held inline (its salt and SHA-256 digest: no allocation of its own); any other (a
/// chosen secret's PBKDF2 hash) as stored, with its id and `info`.
pub enum ClientSecret {
    /// SHA-256 over `salt || secret` (docs/model.md "Client secrets").
    Generated {
        salt: [u8; GENERATED_SALT_LEN],
        digest: [u8; 32],
    },
    Stored(Box<StoredSecret>),
}

/// The salt length of a generated secret's hash (`credentials::secret::record_generated`).
pub const GENERATED_SALT_LEN: usize = 16;

/// A secret held as stored: `info` (the first 3 characters of a secret longer than 20,
/// docs/model.md "Client secrets") selects which chosen secret a presented one can be, so
/// a wrong guess costs one slow hash, not one per secret; `id` keys the memory of chosen
/// secrets verified before (`credentials::verified`).
pub struct StoredSecret {
    pub id: String,
    pub info: Option<String>,
    pub hash: SecretHash,
}

impl ClientSecret {
    /// The runtime form of a stored secret record.
    pub fn of(record: SecretRecord) -> ClientSecret {
        if let SecretHash::SaltedSha256 { salt, digest } = &record.hash
            && let (Ok(salt), Ok(digest)) = (<[u8; GENERATED_SALT_LEN]>::try_from(&salt[..]), digest[..].try_into())
        {
            return ClientSecret::Generated { salt, digest };
        }
        ClientSecret::Stored(Box::new(StoredSecret { id: record.id, info: record.info, hash: record.hash }))
    }

    /// The secret as stored when its hash is slow (a chosen secret), else `None`.
    pub fn chosen(&self) -> Option<&StoredSecret> {
        match self {
            ClientSecret::Stored(s) if s.hash.is_slow() => Some(s),
            _ => None,
        }
    }

    /// Constant-time check of `presented` against a secret with a fast hash; false for a
    /// chosen secret, whose slow hash is checked off the async workers.
    pub fn matches_fast(&self, presented: &[u8]) -> bool {
        match self {
            ClientSecret::Generated { salt, digest } => {
                crate::credentials::secret::salted_sha256_matches(salt, digest, presented)
            }
            ClientSecret::Stored(s) => !s.hash.is_slow() && s.hash.verify(presented),
        }
    }
}

/// The grant types a client may use, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantTypes(u8);

impl GrantTypes {
    pub fn of(list: &[GrantType]) -> GrantTypes {
        GrantTypes(list.iter().fold(0, |bits, g| bits | GrantTypes::bit(*g)))
    }

    pub fn contains(self, grant: GrantType) -> bool {
        self.0 & GrantTypes::bit(grant) != 0
    }

    fn bit(grant: GrantType) -> u8 {
        1 << grant as u8
    }
}

/// A client as the token endpoint sees it. Held once per client in the snapshot, so it
/// is kept small (issue 20, docs/ARCHITECTURE.md "Snapshot"): boxed slices without spare
/// capacity, the grants shared with every client granted the same, the rarely used parts
/// boxed.
pub struct ClientRuntime {
    pub name: Name,
    pub method: ClientAuthMethod,
    pub token_lifetime: u32,
    /// The grants it may use: `client_credentials` alone for an `oauth_client`.
    pub grant_types: GrantTypes,
    pub secrets: Box<[ClientSecret]>,
    pub grants: Arc<[Grant]>,
    pub keys: Box<[ClientKeyRuntime]>,
    /// Fixed claims and transforms; `None` for the common app that adds nothing.
    pub claims: Option<Box<crate::claims::issue::ClaimPlan>>,
    /// What an `oidc_client` adds; `None` for an `oauth_client`.
    pub oidc: Option<Box<OidcRuntime>>,
}

impl ClientRuntime {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(grant)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{credentials::secret, env::SystemRng};

    #[test]
    fn a_generated_secret_is_held_inline_and_still_verifies() {
        let s = secret::generate(&SystemRng);
        let held = ClientSecret::of(secret::record_generated(&s, 0, &SystemRng));
        assert!(matches!(held, ClientSecret::Generated { .. }) && held.chosen().is_none());
        assert!(held.matches_fast(secrecy::ExposeSecret::expose_secret(&s).as_bytes()));
        assert!(!held.matches_fast(b"not-the-secret-not-the-secret-not-the-secre"));
    }

    #[test]
    fn a_chosen_secret_keeps_its_id_and_info_and_never_matches_fast() {
        let s: secrecy::SecretString = "a person chose this one".to_owned().into();
        let record = secret::record_chosen(&s, 0, &SystemRng);
        let id = record.id.clone();
        let held = ClientSecret::of(record);
        let chosen = held.chosen().expect("a chosen secret");
        assert_eq!((chosen.id.as_str(), chosen.info.as_deref()), (id.as_str(), Some("a p")));
        assert!(!held.matches_fast(b"a person chose this one"), "its slow hash is checked off the workers");
    }

    #[test]
    fn grant_types_hold_exactly_the_listed_grants() {
        let set = GrantTypes::of(&[GrantType::AuthorizationCode, GrantType::RefreshToken]);
        let held: Vec<GrantType> = GrantType::ALL.into_iter().filter(|g| set.contains(*g)).collect();
        assert_eq!(held, [GrantType::AuthorizationCode, GrantType::RefreshToken]);
        assert!(!GrantTypes::default().contains(GrantType::ClientCredentials));
    }
}
