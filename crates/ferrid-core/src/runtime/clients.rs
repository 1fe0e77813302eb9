//! The per-client part of a track's snapshot, kept small (issue 20: ≤ 1 KiB of memory per
//! registered client; docs/ARCHITECTURE.md "Snapshot"): the map of clients holds each
//! client's `Arc` once, keyed by the name inside it, and clients granted the same scopes
//! share one list of grants.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use super::{ClientRuntime, Grant};

/// The clients of a track by name: a persistent hash map (imbl), so an update copies
/// O(log n) nodes, not the map. Each entry is the client's `Arc` alone, keyed by the
/// name it holds (no second copy of the name, 8 bytes a slot).
#[derive(Clone, Default)]
pub struct Clients(imbl::HashMap<ByName, ()>);

/// A client in [`Clients`]: hashed and compared by its name.
#[derive(Clone)]
struct ByName(Arc<ClientRuntime>);

impl std::hash::Hash for ByName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.as_str().hash(state);
    }
}

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ByName {}

impl std::borrow::Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        self.0.name.as_str()
    }
}

impl Clients {
    pub fn new() -> Clients {
        Clients::default()
    }

    /// The client named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<ClientRuntime>> {
        self.0.get_key_value(name).map(|(c, ())| &c.0)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Puts `client` in under its name, returning the client it replaces.
    pub fn insert(&mut self, client: Arc<ClientRuntime>) -> Option<Arc<ClientRuntime>> {
        let before = self.get(client.name.as_str()).cloned();
        self.0.insert(ByName(client), ());
        before
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<ClientRuntime>> {
        self.0.remove_with_key(name).map(|(c, ())| c.0)
    }

    pub fn values(&self) -> impl Iterator<Item = &Arc<ClientRuntime>> {
        self.0.keys().map(|c| &c.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The distinct lists of grants of a track's clients: 10 000 clients granted `api:read`
/// hold one `[Grant]`. Built with the track's shared part, so a track-wide change (a
/// resource's scopes) starts afresh.
#[derive(Default)]
pub struct GrantLists(Mutex<HashSet<Arc<[Grant]>>>);

impl GrantLists {
    /// The shared allocation of `grants`. Lists no client holds any more are dropped
    /// when the set has doubled since the last sweep, so replaced grants do not pile up.
    pub fn intern(&self, grants: Vec<Grant>) -> Arc<[Grant]> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = set.get(&grants[..]) {
            return shared.clone();
        }
        if set.len() >= SWEEP_FROM && set.len().is_power_of_two() {
            set.retain(|g| Arc::strong_count(g) > 1);
        }
        let shared: Arc<[Grant]> = grants.into();
        set.insert(shared.clone());
        shared
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().map_or(0, |s| s.len())
    }
}

/// Below this many distinct lists, none is swept.
const SWEEP_FROM: usize = 16;

#[cfg(test)]
mod tests {
    use ferrid_oauth::{name::Name, scope::ScopeName};

    use super::*;
    use crate::{
        keys::KeyCipher,
        model::{App, AppData, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, ResourceSpec, Track},
        runtime::TrackBuilder,
        urls::PublicUrl,
    };

    fn name(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn scopes(list: &[&str]) -> Vec<ScopeName> {
        list.iter().map(|s| ScopeName::parse(s).unwrap()).collect()
    }

    fn app(n: &str, spec: AppSpec) -> App {
        App::new(name("t"), name("prod"), name(n), spec, 0)
    }

    /// An `oauth_client` granted `scopes` of `api`.
    fn client(n: &str, granted: &[&str]) -> AppData {
        let spec = ClientSpec {
            client_auth_method: ClientAuthMethod::ClientSecretBasic,
            resource_scopes: vec![ResourceScopes { resource: name("api"), scopes: scopes(granted) }],
            access_token_lifetime: None,
            claims: Vec::new(),
            issued_claims: crate::claims::issue::default_issued(),
            claim_transforms: Vec::new(),
        };
        AppData { app: app(n, AppSpec::OauthClient(spec)), secrets: Vec::new(), client_keys: Vec::new() }
    }

    fn builder() -> TrackBuilder {
        let track =
            Track { tenant: name("t"), name: name("prod"), settings: Default::default(), version: 1, created: 0 };
        let api = app("api", AppSpec::OauthResource(ResourceSpec { scopes: scopes(&["read", "write"]) }));
        let urls = PublicUrl::parse("https://id.example").unwrap();
        TrackBuilder::start(&track, &[], &[api], &KeyCipher::new(&[1; 32]), &urls)
    }

    fn grant(resource: &str) -> Vec<Grant> {
        vec![Grant { resource: resource.into(), scopes: vec!["read".into()] }]
    }

    #[test]
    fn clients_granted_the_same_scopes_share_one_grant_list() {
        let mut b = builder();
        b.add(client("a", &["read"]));
        b.add(client("b", &["read"]));
        b.add(client("w", &["read", "write"]));
        let rt = b.finish(&PublicUrl::parse("https://id.example").unwrap());
        let grants = |n: &str| rt.clients.get(n).unwrap().grants.clone();
        assert!(Arc::ptr_eq(&grants("a"), &grants("b")), "a and b hold copies of api:read");
        assert!(!Arc::ptr_eq(&grants("a"), &grants("w")));
        assert_eq!(grants("w")[0].scopes, ["read", "write"]);
        // a client put in later (a single-app write) shares the list too
        let later = ClientRuntime::build(client("c", &["read"]), &rt).unwrap();
        assert!(Arc::ptr_eq(&later.grants, &grants("a")));
    }

    #[test]
    fn grant_lists_no_client_holds_are_swept() {
        let lists = GrantLists::default();
        let held = lists.intern(grant("kept"));
        for i in 0..1000 {
            drop(lists.intern(grant(&format!("r{i}"))));
        }
        assert!(lists.len() <= 2 * SWEEP_FROM, "{} lists kept for 1 client", lists.len());
        assert!(Arc::ptr_eq(&held, &lists.intern(grant("kept"))), "a held list survives the sweeps");
    }

    #[test]
    fn a_client_put_in_again_replaces_its_entry() {
        let mut b = builder();
        b.add(client("a", &["read"]));
        b.add(client("b", &["read"]));
        let rt = b.finish(&PublicUrl::parse("https://id.example").unwrap());
        let mut clients = rt.clients.clone();
        let first = clients.get("a").unwrap().clone();
        let again = Arc::new(ClientRuntime::build(client("a", &["read", "write"]), &rt).unwrap());
        let before = clients.insert(again.clone());
        assert!(before.is_some_and(|b| Arc::ptr_eq(&b, &first)));
        assert_eq!(clients.len(), 2);
        assert!(Arc::ptr_eq(clients.get("a").unwrap(), &again));
        assert!(clients.remove("a").is_some() && !clients.contains_key("a") && clients.len() == 1);
        assert_eq!(rt.clients.len(), 2, "the track's own map is unchanged");
    }
}
