//! The store conformance suite: every test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL is reached through `FERRID_TEST_DATABASE_URL` (`.ci/run` sets it and fails
//! when the server is unreachable); each test creates and drops its own database.
//! Without the variable the PostgreSQL half is skipped, loudly.

use std::sync::Arc;

use ferrid_core::{
    audit::{AuditQuery, AuditRecord, Order},
    client_auth::keys::{KeyInput, import_key},
    model::*,
    store::{AllPorts, AppRef, Change, NewTrack, PageRequest, ReplayGuard, StoreError, TrackRef},
};
use ferrid_oauth::{name::Name, scope::ScopeName};
use ferrid_store::{PgStore, SqliteStore};

#[path = "conformance/grants.rs"]
mod grants;
#[path = "conformance/login_guard.rs"]
mod login_guard;
#[path = "conformance/snapshot.rs"]
mod snapshot;
#[path = "conformance/users.rs"]
mod users;
use sqlx::{Connection, PgConnection};

/// A backend under test; dropping it drops its PostgreSQL database.
struct Backend {
    label: &'static str,
    store: Arc<dyn AllPorts>,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((admin_url, db)) = self.pg_drop.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                    }
                });
            })
            .join();
        }
    }
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    Backend { label: "sqlite", store: Arc::new(store), _dir: Some(dir), pg_drop: None }
}

/// A fresh PostgreSQL database, or `None` (with a loud message) without the variable.
async fn postgres() -> Option<Backend> {
    let Ok(admin_url) = std::env::var("FERRID_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED (PostgreSQL): FERRID_TEST_DATABASE_URL is not set");
        return None;
    };
    let db = format!("ferrid_t_{}_{}", std::process::id(), rand_u32());
    let mut admin = PgConnection::connect(&admin_url).await.expect("FERRID_TEST_DATABASE_URL is reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
    let store = PgStore::connect(&format!("{base}/{db}")).await.unwrap();
    Some(Backend { label: "postgres", store: Arc::new(store), _dir: None, pg_drop: Some((admin_url, db)) })
}

fn rand_u32() -> u32 {
    u32::from_le_bytes(ferrid_core::env::random_bytes())
}

async fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite().await];
    v.extend(postgres().await);
    v
}

/// Whether `r` failed with `expected` (compared by variant).
fn is<T>(expected: StoreError, r: Result<T, StoreError>) -> bool {
    r.err().is_some_and(|e| std::mem::discriminant(&e) == std::mem::discriminant(&expected))
}

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn track_ref(tenant: &str, track: &str) -> TrackRef {
    TrackRef::new(n(tenant), n(track))
}

fn app_ref(tenant: &str, track: &str, app: &str) -> AppRef {
    track_ref(tenant, track).app(n(app))
}

fn track(tenant: &str, name: &str) -> NewTrack {
    let key = TrackKey {
        kid: format!("k-{name}"),
        alg: ferrid_oauth::jwt::SigningAlg::ES256,
        state: KeyState::Active,
        encrypted_pkcs8: vec![1, 2, 3],
        created: 1,
        changed: 1,
    };
    NewTrack {
        track: Track { tenant: n(tenant), name: n(name), settings: TrackSettings::default(), version: 1, created: 1 },
        keys: vec![key],
        apps: Vec::new(),
        users: Vec::new(),
    }
}

fn resource(tenant: &str, track: &str, name: &str) -> App {
    App {
        tenant: n(tenant),
        track: n(track),
        name: n(name),
        spec: AppSpec::OauthResource(ResourceSpec { scopes: vec![ScopeName::parse("read").unwrap()] }),
        version: 1,
        created: 1,
        updated: 1,
    }
}

fn secret(id: &str) -> SecretRecord {
    SecretRecord {
        id: id.into(),
        info: Some("abc".into()),
        created: 1,
        hash: SecretHash::SaltedSha256 { salt: vec![1; 16], digest: vec![2; 32] },
    }
}

fn client_key(kid: &str) -> StoredClientKey {
    let x = ferrid_oauth::b64::encode(&[7u8; 32]);
    let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid });
    StoredClientKey { key: import_key(KeyInput::Jwk(&jwk)).unwrap(), created: 1 }
}

/// An audit record for a change made in a test (in the `zz` tenant's log).
fn au() -> AuditRecord {
    record("zz", 1, "test.change", "tenants/zz")
}

fn record(tenant: &str, at: i64, action: &str, target: &str) -> AuditRecord {
    AuditRecord::system(tenant, at, action, target.into(), serde_json::json!({ "after": { "n": at } }))
}

fn all(limit: u32) -> AuditQuery {
    AuditQuery { limit, ..AuditQuery::default() }
}

/// Tenant `t` with track `prod` holding resource `x` with one secret and one key.
async fn seed(s: &dyn AllPorts, t: &str) {
    s.create_tenant(&Tenant { name: n(t), created: 1 }, &track(t, "master"), &au()).await.unwrap();
    s.create_track(&track(t, "prod"), &au()).await.unwrap();
    s.create_app(&resource(t, "prod", "x"), &[secret("s1")], &au()).await.unwrap();
    s.add_client_key(&app_ref(t, "prod", "x"), &client_key("k1"), 4, &au()).await.unwrap();
}

#[tokio::test]
async fn tenants_tracks_and_apps_round_trip() {
    for b in backends().await {
        let s = b.store.as_ref();
        assert!(!s.has_tenants().await.unwrap(), "{}", b.label);
        seed(s, "a").await;
        assert!(s.has_tenants().await.unwrap());
        assert_eq!(s.get_tenant(&n("a")).await.unwrap().name.as_str(), "a");
        assert_eq!(s.get_track(&track_ref("a", "prod")).await.unwrap().settings, TrackSettings::default());
        let app = s.get_app(&app_ref("a", "prod", "x")).await.unwrap();
        assert_eq!(app, resource("a", "prod", "x"), "{}", b.label);
        let data = s.load_track(&track_ref("a", "prod")).await.unwrap();
        assert_eq!(data.apps.len(), 1);
        assert_eq!(data.secrets, vec![(n("x"), secret("s1"))]);
        assert_eq!(data.keys[0].encrypted_pkcs8, vec![1, 2, 3]);
        assert_eq!(data.client_keys[0].1, client_key("k1"));
        assert_eq!(s.load_all().await.unwrap().len(), 2);
        s.ping().await.unwrap();
    }
}

#[tokio::test]
async fn duplicates_conflict_and_missing_parents_are_not_found() {
    for b in backends().await {
        let s = b.store.as_ref();
        seed(s, "a").await;
        let l = b.label;
        assert!(
            is(
                StoreError::Conflict,
                s.create_tenant(&Tenant { name: n("a"), created: 1 }, &track("a", "master"), &au()).await
            ),
            "{l}"
        );
        assert!(is(StoreError::Conflict, s.create_track(&track("a", "prod"), &au()).await), "{l}");
        assert!(is(StoreError::Conflict, s.create_app(&resource("a", "prod", "x"), &[], &au()).await), "{l}");
        assert!(
            is(StoreError::Conflict, s.add_secret(&app_ref("a", "prod", "x"), &secret("s1"), 10, &au()).await),
            "{l}"
        );
        assert!(
            is(StoreError::Conflict, s.add_client_key(&app_ref("a", "prod", "x"), &client_key("k1"), 4, &au()).await),
            "{l}"
        );
        assert!(is(StoreError::NotFound, s.create_track(&track("zz", "prod"), &au()).await), "{l}");
        assert!(is(StoreError::NotFound, s.create_app(&resource("a", "nope", "y"), &[], &au()).await), "{l}");
        assert!(
            is(StoreError::NotFound, s.add_secret(&app_ref("a", "prod", "nope"), &secret("s9"), 10, &au()).await),
            "{l}"
        );
        assert!(is(StoreError::NotFound, s.get_tenant(&n("zz")).await), "{l}");
        assert!(is(StoreError::NotFound, s.delete_app(&app_ref("a", "prod", "nope"), &au()).await), "{l}");
    }
}

#[tokio::test]
async fn deleting_a_parent_deletes_what_it_holds() {
    for b in backends().await {
        let s = b.store.as_ref();
        seed(s, "a").await;
        s.delete_track(&track_ref("a", "prod"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.get_app(&app_ref("a", "prod", "x")).await), "{}", b.label);
        assert!(s.list_secrets(&app_ref("a", "prod", "x")).await.unwrap().is_empty());
        assert!(s.list_client_keys(&app_ref("a", "prod", "x")).await.unwrap().is_empty());
        seed(s, "b").await;
        s.delete_tenant(&n("b"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.get_track(&track_ref("b", "prod")).await));
        assert_eq!(s.load_all().await.unwrap().len(), 1, "{}", b.label);
    }
}

#[tokio::test]
async fn versions_are_compared_and_bumped_atomically() {
    for b in backends().await {
        let s = b.store.clone();
        seed(s.as_ref(), "a").await;
        let app = s.get_app(&app_ref("a", "prod", "x")).await.unwrap();
        // 8 concurrent edits all based on version 1: exactly one wins
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, app) = (s.clone(), app.clone());
            tasks.push(tokio::spawn(async move { s.replace_app(&app, Some(1), &au()).await }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(a) => {
                    assert_eq!(a.version, 2);
                    won += 1;
                }
                Err(StoreError::VersionMismatch) => {}
                Err(e) => panic!("{}: {e}", b.label),
            }
        }
        assert_eq!(won, 1, "{}", b.label);
        assert_eq!(s.replace_app(&app, None, &au()).await.unwrap().version, 3);
        let t = s.get_track(&track_ref("a", "prod")).await.unwrap();
        assert!(is(StoreError::VersionMismatch, s.update_track(&t, Some(7), &au()).await));
        assert_eq!(s.update_track(&t, Some(1), &au()).await.unwrap().version, 2);
        assert!(is(StoreError::NotFound, s.replace_app(&resource("a", "prod", "nope"), Some(1), &au()).await));
    }
}

#[tokio::test]
async fn limits_hold_under_concurrent_writes() {
    for b in backends().await {
        let s = b.store.clone();
        seed(s.as_ref(), "a").await;
        let mut tasks = Vec::new();
        for i in 0..12 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.add_secret(&app_ref("a", "prod", "x"), &secret(&format!("c{i}")), 10, &au()).await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::LimitReached) => {}
                Err(e) => panic!("{}: {e}", b.label),
            }
        }
        assert_eq!(ok, 9, "{}: one secret was there already", b.label);
        assert_eq!(s.list_secrets(&app_ref("a", "prod", "x")).await.unwrap().len(), 10);
        for i in 0..3 {
            s.add_client_key(&app_ref("a", "prod", "x"), &client_key(&format!("k{}", i + 2)), 4, &au()).await.unwrap();
        }
        assert!(is(
            StoreError::LimitReached,
            s.add_client_key(&app_ref("a", "prod", "x"), &client_key("k9"), 4, &au()).await
        ));
    }
}

#[tokio::test]
async fn the_jti_guard_accepts_once_until_expiry() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        assert!(s.use_jti(&app_ref("a", "prod", "c"), "j1", 100, 50).await.unwrap(), "{l}");
        assert!(!s.use_jti(&app_ref("a", "prod", "c"), "j1", 100, 60).await.unwrap(), "{l}");
        // the same jti for another client or track is another entry
        assert!(s.use_jti(&app_ref("a", "prod", "d"), "j1", 100, 60).await.unwrap(), "{l}");
        assert!(s.use_jti(&app_ref("b", "prod", "c"), "j1", 100, 60).await.unwrap(), "{l}");
        // after its exp the entry no longer blocks
        assert!(s.use_jti(&app_ref("a", "prod", "c"), "j1", 300, 200).await.unwrap(), "{l}");
        assert!(!s.use_jti(&app_ref("a", "prod", "c"), "j1", 300, 250).await.unwrap(), "{l}");
        assert_eq!(s.purge_jtis(1000).await.unwrap(), 3, "{l}");
        // concurrent first uses: exactly one wins
        let st = b.store.clone();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let st = st.clone();
                tokio::spawn(async move { st.use_jti(&app_ref("a", "prod", "c"), "race", 2000, 1000).await.unwrap() })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            wins += t.await.unwrap() as usize;
        }
        assert_eq!(wins, 1, "{l}");
    }
}

/// Nothing of tenant a is readable or writable through tenant b's names.
#[tokio::test]
async fn tenant_isolation_holds_for_every_query() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        seed(s, "a").await;
        seed(s, "b").await;
        s.delete_app(&app_ref("b", "prod", "x"), &au()).await.unwrap();
        let nf = |r: Result<(), StoreError>| is(StoreError::NotFound, r);
        assert!(is(StoreError::NotFound, s.get_app(&app_ref("b", "prod", "x")).await), "{l}");
        assert!(
            s.list_apps(&track_ref("b", "prod"), &PageRequest { after: None, limit: 100 }).await.unwrap().is_empty(),
            "{l}"
        );
        assert!(s.list_secrets(&app_ref("b", "prod", "x")).await.unwrap().is_empty(), "{l}");
        assert!(s.list_client_keys(&app_ref("b", "prod", "x")).await.unwrap().is_empty(), "{l}");
        assert!(nf(s.delete_app(&app_ref("b", "prod", "x"), &au()).await), "{l}");
        assert!(nf(s.delete_secret(&app_ref("b", "prod", "x"), "s1", &au()).await), "{l}");
        assert!(nf(s.delete_client_key(&app_ref("b", "prod", "x"), "k1", &au()).await), "{l}");
        assert!(nf(s.add_secret(&app_ref("b", "prod", "x"), &secret("s2"), 10, &au()).await), "{l}");
        assert!(nf(s.add_client_key(&app_ref("b", "prod", "x"), &client_key("k2"), 4, &au()).await), "{l}");
        assert!(is(StoreError::NotFound, s.replace_app(&resource("b", "prod", "x"), None, &au()).await), "{l}");
        assert!(s.load_track(&track_ref("b", "prod")).await.unwrap().apps.is_empty(), "{l}");
        assert!(s.load_track(&track_ref("b", "prod")).await.unwrap().secrets.is_empty(), "{l}");
        // a's data is untouched by all of the above
        assert_eq!(s.get_app(&app_ref("a", "prod", "x")).await.unwrap().version, 1, "{l}");
        assert_eq!(s.list_secrets(&app_ref("a", "prod", "x")).await.unwrap().len(), 1, "{l}");
        assert_eq!(s.list_client_keys(&app_ref("a", "prod", "x")).await.unwrap().len(), 1, "{l}");
        // deleting b's track or tenant leaves a's
        s.delete_track(&track_ref("b", "prod"), &au()).await.unwrap();
        s.delete_tenant(&n("b"), &au()).await.unwrap();
        assert_eq!(s.load_track(&track_ref("a", "prod")).await.unwrap().apps.len(), 1, "{l}");
        let tracks = s.list_tracks(&n("a"), &PageRequest { after: None, limit: 100 }).await.unwrap();
        assert!(tracks.iter().all(|t| t.tenant.as_str() == "a"), "{l}");
    }
}

#[tokio::test]
async fn listings_page_in_name_order() {
    for b in backends().await {
        let s = b.store.as_ref();
        seed(s, "a").await;
        for name in ["c", "a", "b"] {
            s.create_app(&resource("a", "prod", name), &[], &au()).await.unwrap();
        }
        let p = |after: Option<&str>| PageRequest { after: after.map(str::to_owned), limit: 2 };
        let names = |v: Vec<App>| v.into_iter().map(|a| a.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(s.list_apps(&track_ref("a", "prod"), &p(None)).await.unwrap()), ["a", "b"], "{}", b.label);
        assert_eq!(
            names(s.list_apps(&track_ref("a", "prod"), &p(Some("b"))).await.unwrap()),
            ["c", "x"],
            "{}",
            b.label
        );
        s.create_tenant(&Tenant { name: n("0"), created: 1 }, &track("0", "master"), &au()).await.unwrap();
        let t: Vec<String> = s.list_tenants(&p(None)).await.unwrap().into_iter().map(|t| t.name.to_string()).collect();
        assert_eq!(t, ["0", "a"], "{}", b.label);
    }
}

#[tokio::test]
async fn postgres_announces_each_committed_change() {
    let Some(b) = postgres().await else { return };
    let s = b.store.as_ref();
    let mut rx = s.subscribe().expect("PostgreSQL announces changes");
    // the listener connects in the background: give it a moment, then write
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    seed(s, "a").await;
    let mut seen = Vec::new();
    while let Ok(Some(c)) = tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv()).await {
        seen.push(c);
        if seen.len() >= 4 {
            break;
        }
    }
    assert!(seen.contains(&Change::Track { tenant: "a".into(), track: "prod".into() }), "{seen:?}");
    assert!(seen.contains(&Change::Track { tenant: "a".into(), track: "master".into() }), "{seen:?}");
    let x = Change::App { tenant: "a".into(), track: "prod".into(), app: "x".into() };
    assert!(seen.contains(&x), "a change to one app names that app: {seen:?}");
    assert!(sqlite().await.store.subscribe().is_none());
}

#[tokio::test]
async fn the_embedded_replay_guard_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStore::open_dir(dir.path()).await.unwrap();
        assert!(s.use_jti(&app_ref("a", "prod", "c"), "j1", i64::MAX / 2, 100).await.unwrap());
        // the write-behind batch lands within 50 ms
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert!(!s.use_jti(&app_ref("a", "prod", "c"), "j1", i64::MAX / 2, 200).await.unwrap());
}

#[tokio::test]
async fn rotation_steps_happen_once_however_many_instances_race() {
    for b in backends().await {
        let s = b.store.clone();
        seed(s.as_ref(), "a").await;
        let l = b.label;
        let next = |kid: &str| TrackKey {
            kid: kid.into(),
            alg: ferrid_oauth::jwt::SigningAlg::ES256,
            state: KeyState::Next,
            encrypted_pkcs8: vec![9],
            created: 10,
            changed: 10,
        };
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let (s, k) = (s.clone(), next(&format!("n{i}")));
                tokio::spawn(async move { s.add_next_key(&track_ref("a", "prod"), &k, &au()).await.unwrap() })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            created += t.await.unwrap() as usize;
        }
        assert_eq!(created, 1, "{l}: one next key");
        let keys = s.load_track(&track_ref("a", "prod")).await.unwrap().keys;
        let n = keys.iter().find(|k| k.state == KeyState::Next).unwrap().kid.clone();
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (s, n) = (s.clone(), n.clone());
                tokio::spawn(async move { s.promote_next_key(&track_ref("a", "prod"), &n, 20, &au()).await.unwrap() })
            })
            .collect();
        let mut promoted = 0;
        for t in tasks {
            promoted += t.await.unwrap() as usize;
        }
        assert_eq!(promoted, 1, "{l}: promoted once");
        let keys = s.load_track(&track_ref("a", "prod")).await.unwrap().keys;
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state(&n), KeyState::Active, "{l}");
        assert_eq!(state("k-prod"), KeyState::Retired, "{l}");
        assert_eq!(keys.iter().find(|k| k.kid == "k-prod").unwrap().changed, 20);
        assert_eq!(
            s.delete_retired_keys(&track_ref("a", "prod"), 20, &au()).await.unwrap(),
            0,
            "{l}: not before its time"
        );
        assert_eq!(s.delete_retired_keys(&track_ref("a", "prod"), 21, &au()).await.unwrap(), 1, "{l}");
        assert_eq!(s.load_track(&track_ref("a", "prod")).await.unwrap().keys.len(), 1);
    }
}

/// A change and its audit record land together: a refused change leaves no record.
#[tokio::test]
async fn every_change_writes_its_audit_record_in_the_same_transaction() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        let t = Tenant { name: n("a"), created: 1 };
        s.create_tenant(&t, &track("a", "master"), &record("a", 1, "tenant.create", "tenants/a")).await.unwrap();
        s.create_track(&track("a", "prod"), &record("a", 2, "track.create", "tenants/a/tracks/prod")).await.unwrap();
        // refused changes: a duplicate, a stale version, a missing app
        let dup = s.create_track(&track("a", "prod"), &record("a", 3, "dup", "x")).await;
        assert!(is(StoreError::Conflict, dup), "{l}");
        let mut tr = s.get_track(&track_ref("a", "prod")).await.unwrap();
        tr.settings.access_token_lifetime = 60;
        let stale = s.update_track(&tr, Some(99), &record("a", 4, "stale", "x")).await;
        assert!(is(StoreError::VersionMismatch, stale), "{l}");
        let missing = s.delete_app(&app_ref("a", "prod", "nope"), &record("a", 5, "missing", "x")).await;
        assert!(is(StoreError::NotFound, missing), "{l}");
        s.update_track(&tr, Some(1), &record("a", 6, "track.update", "tenants/a/tracks/prod")).await.unwrap();
        // a rotation step that changes nothing records nothing
        let key = track("a", "prod").keys.remove(0);
        let next = TrackKey { kid: "n1".into(), state: KeyState::Next, ..key };
        assert!(
            s.add_next_key(&track_ref("a", "prod"), &next, &record("a", 7, "track_key.create", "k")).await.unwrap(),
            "{l}"
        );
        let again = TrackKey { kid: "n2".into(), ..next.clone() };
        assert!(
            !s.add_next_key(&track_ref("a", "prod"), &again, &record("a", 8, "nothing", "k")).await.unwrap(),
            "{l}"
        );
        let actions: Vec<String> =
            s.list_audit(&n("a"), &all(100)).await.unwrap().into_iter().map(|e| e.record.action).collect();
        assert_eq!(actions, ["track_key.create", "track.update", "track.create", "tenant.create"], "{l}");
        // deleting a tenant deletes its log; the deletion is recorded where the caller says
        s.delete_tenant(&n("a"), &record("master", 9, "tenant.delete", "tenants/a")).await.unwrap();
        assert!(s.list_audit(&n("a"), &all(100)).await.unwrap().is_empty(), "{l}");
        let master = s.list_audit(&n("master"), &all(100)).await.unwrap();
        assert_eq!(master.len(), 1, "{l}");
        assert_eq!(master[0].record, record("master", 9, "tenant.delete", "tenants/a"), "{l}");
    }
}

#[tokio::test]
async fn audit_listings_filter_page_and_expire() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        let mut batch = Vec::new();
        for i in 0..10 {
            let action = if i % 2 == 0 { "app.create" } else { "client_auth.failed" };
            batch.push(record("a", 100 + i, action, &format!("tenants/a/tracks/t{}/apps/x", i % 3)));
        }
        batch.push(record("b", 105, "app.create", "tenants/b/tracks/t0/apps/x"));
        s.append_audit(&batch).await.unwrap();
        let ats = |v: Vec<ferrid_core::audit::AuditEntry>| v.into_iter().map(|e| e.record.at).collect::<Vec<_>>();
        // newest first by default; tenant b's record is never in a's log
        assert_eq!(ats(s.list_audit(&n("a"), &all(100)).await.unwrap()), (100..110).rev().collect::<Vec<_>>(), "{l}");
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = all(100);
            f(&mut q);
            q
        };
        let failed = q(|q| q.action = Some("client_auth.failed".into()));
        assert_eq!(ats(s.list_audit(&n("a"), &failed).await.unwrap()), [109, 107, 105, 103, 101], "{l}");
        let under = q(|q| q.target = Some("tenants/a/tracks/t1".into()));
        assert_eq!(ats(s.list_audit(&n("a"), &under).await.unwrap()), [107, 104, 101], "{l}");
        // a prefix is matched literally: '%' and '_' are no wildcards
        let wild = q(|q| q.target = Some("tenants/a/tracks/%".into()));
        assert!(s.list_audit(&n("a"), &wild).await.unwrap().is_empty(), "{l}");
        let window = q(|q| {
            q.since = Some(102);
            q.until = Some(105);
            q.order = Order::Asc;
        });
        assert_eq!(ats(s.list_audit(&n("a"), &window).await.unwrap()), [102, 103, 104], "{l}");
        assert!(s.list_audit(&n("a"), &q(|q| q.actor = Some("client:x".into()))).await.unwrap().is_empty(), "{l}");
        assert_eq!(s.list_audit(&n("a"), &q(|q| q.actor = Some("system".into()))).await.unwrap().len(), 10, "{l}");
        // pages follow the id cursor in either order without gaps or repeats
        for order in [Order::Desc, Order::Asc] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = s
                    .list_audit(&n("a"), &AuditQuery { order, after, limit: 3, ..AuditQuery::default() })
                    .await
                    .unwrap();
                if page.is_empty() {
                    break;
                }
                after = page.last().map(|e| e.id);
                seen.extend(page.into_iter().map(|e| e.record.at));
            }
            let mut expected: Vec<i64> = (100..110).collect();
            if order == Order::Desc {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{l} {order:?}");
        }
        // retention
        assert_eq!(s.purge_audit(105).await.unwrap(), 5, "{l}");
        assert_eq!(ats(s.list_audit(&n("a"), &all(100)).await.unwrap()), [109, 108, 107, 106, 105], "{l}");
        assert_eq!(s.list_audit(&n("b"), &all(100)).await.unwrap().len(), 1, "{l}");
    }
}

/// The failed-authentication buckets every instance shares (`docs/ARCHITECTURE.md`).
#[tokio::test]
async fn failure_buckets_are_shared_refill_and_never_go_below_zero() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        let one = |k: &str| vec![(k.to_owned(), 1u32)];
        // burst 3, one token back per second (0.001 per ms)
        let take = |k: &'static str, n: u32, at: i64| async move {
            s.take_auth_failures(&[(k.to_owned(), n)], 3.0, 0.001, at).await.unwrap()[0]
        };
        assert_eq!(take("ip", 1, 1_000).await, 2.0, "{l}");
        assert_eq!(take("ip", 1, 1_000).await, 1.0, "{l}");
        assert_eq!(take("ip", 5, 1_000).await, 0.0, "{l}");
        // half a second later half a token is back; a clock behind refills nothing
        assert_eq!(take("ip", 0, 1_500).await, 0.5, "{l}");
        assert_eq!(take("ip", 0, 1_200).await, 0.5, "{l}");
        // never above the burst
        assert_eq!(take("ip", 1, 100_000).await, 2.0, "{l}");
        // buckets are independent; levels come back in order
        let levels = s.take_auth_failures(&[("a".into(), 2), ("b".into(), 1)], 3.0, 0.001, 100_000).await.unwrap();
        assert_eq!(levels, [1.0, 2.0], "{l}");
        assert_eq!(s.take_auth_failures(&one("a"), 3.0, 0.001, 100_000).await.unwrap(), [0.0], "{l}");
        // concurrent takes from many tasks (instances) all count
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let st = b.store.clone();
                tokio::spawn(async move { st.take_auth_failures(&[("c".into(), 1)], 100.0, 0.0, 5).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(s.take_auth_failures(&[("c".into(), 0)], 100.0, 0.0, 5).await.unwrap(), [80.0], "{l}");
        // buckets untouched since before the cut are removed
        assert_eq!(s.purge_auth_failures(50).await.unwrap(), 1, "{l}");
    }
}

/// Issue 18: a new kind starts without the credentials of the old one.
#[tokio::test]
async fn changing_an_apps_kind_deletes_its_secrets_and_keys() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        seed(s, "a").await;
        seed(s, "b").await;
        // the same kind keeps them
        let same = App { updated: 2, ..resource("a", "prod", "x") };
        s.replace_app(&same, None, &au()).await.unwrap();
        assert_eq!(s.list_secrets(&app_ref("a", "prod", "x")).await.unwrap().len(), 1, "{l}");
        let spec: ClientSpec =
            serde_json::from_value(serde_json::json!({ "client_auth_method": "client_secret_basic" })).unwrap();
        let client = App { spec: AppSpec::OauthClient(spec), ..resource("a", "prod", "x") };
        s.replace_app(&client, None, &au()).await.unwrap();
        assert!(s.list_secrets(&app_ref("a", "prod", "x")).await.unwrap().is_empty(), "{l}");
        assert!(s.list_client_keys(&app_ref("a", "prod", "x")).await.unwrap().is_empty(), "{l}");
        // another tenant's app of the same name keeps its own
        assert_eq!(s.list_secrets(&app_ref("b", "prod", "x")).await.unwrap().len(), 1, "{l}");
        assert_eq!(s.list_client_keys(&app_ref("b", "prod", "x")).await.unwrap().len(), 1, "{l}");
    }
}

/// Issue 18: ids count each tenant's log on its own, in commit order.
#[tokio::test]
async fn audit_ids_are_numbered_per_tenant() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        let batch: Vec<AuditRecord> =
            (0..6).map(|i| record(if i % 3 == 0 { "q" } else { "p" }, 100 + i, "x", "tenants/p")).collect();
        s.append_audit(&batch).await.unwrap();
        s.append_audit(&[record("q", 200, "x", "tenants/q")]).await.unwrap();
        let ids =
            |v: Vec<ferrid_core::audit::AuditEntry>| v.into_iter().map(|e| (e.id, e.record.at)).collect::<Vec<_>>();
        let asc = AuditQuery { order: Order::Asc, ..all(100) };
        assert_eq!(ids(s.list_audit(&n("p"), &asc).await.unwrap()), [(1, 101), (2, 102), (3, 104), (4, 105)], "{l}");
        assert_eq!(ids(s.list_audit(&n("q"), &asc).await.unwrap()), [(1, 100), (2, 103), (3, 200)], "{l}");
    }
}

/// Issue 18: the embedded replay guard commits a jti before `use_jti` answers, so an
/// assertion accepted just before a crash is still refused after the restart (no
/// write-behind window).
#[tokio::test]
async fn an_accepted_jti_is_on_disk_before_use_jti_answers() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStore::open_dir(dir.path()).await.unwrap();
        for i in 0..20 {
            assert!(s.use_jti(&app_ref("a", "prod", "c"), &format!("j{i}"), i64::MAX / 2, 100).await.unwrap());
        }
        // no pause: the store is reopened at once, as after a crash
    }
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    for i in 0..20 {
        assert!(!s.use_jti(&app_ref("a", "prod", "c"), &format!("j{i}"), i64::MAX / 2, 200).await.unwrap(), "j{i}");
    }
}

/// Issue 13: the store counts one call per port method, wherever the method enters the
/// SQL layer (reads, writes, refused writes and the replay guard alike), and nothing else.
#[tokio::test]
async fn every_port_method_call_counts_once() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        let before = s.calls();
        seed(s, "a").await;
        assert_eq!(s.calls() - before, 4, "{l}: seed makes four calls");
        let before = s.calls();
        s.get_app(&app_ref("a", "prod", "x")).await.unwrap();
        s.update_track(&s.get_track(&track_ref("a", "prod")).await.unwrap(), Some(9), &au()).await.unwrap_err();
        s.use_jti(&app_ref("a", "prod", "x"), "j", 10, 1).await.unwrap();
        s.load_track(&track_ref("a", "prod")).await.unwrap();
        s.list_audit(&n("a"), &all(10)).await.unwrap();
        s.take_auth_failures(&[("ip".into(), 1), ("ip c".into(), 1)], 3.0, 0.001, 1).await.unwrap();
        s.ping().await.unwrap();
        let _ = s.subscribe();
        assert_eq!(s.calls() - before, 8, "{l}: one per port method call, none for subscribe");
    }
}

/// Issue 13: the ports added beside the apps keep tenants apart too: another tenant's
/// track keys, snapshot, log and listings are never read or changed through a ref of `b`.
#[tokio::test]
async fn tenant_isolation_holds_for_track_keys_snapshots_and_the_log() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        seed(s, "a").await;
        s.create_tenant(&Tenant { name: n("b"), created: 1 }, &track("b", "master"), &record("b", 1, "x", "t"))
            .await
            .unwrap();
        let key = TrackKey { kid: "n1".into(), state: KeyState::Next, ..track("a", "prod").keys.remove(0) };
        // b has no track prod: its key steps find nothing and a's keys stay as they are
        let b_prod = track_ref("b", "prod");
        assert!(is(StoreError::NotFound, s.add_next_key(&b_prod, &key, &au()).await), "{l}");
        assert!(is(StoreError::NotFound, s.promote_next_key(&b_prod, "k-prod", 5, &au()).await), "{l}");
        assert_eq!(s.delete_retired_keys(&b_prod, i64::MAX, &au()).await.unwrap(), 0, "{l}");
        assert!(is(StoreError::NotFound, s.load_track(&b_prod).await), "{l}");
        assert!(is(StoreError::NotFound, s.get_track(&b_prod).await), "{l}");
        assert!(is(StoreError::NotFound, s.delete_track(&b_prod, &au()).await), "{l}");
        let page = PageRequest { after: None, limit: 100 };
        assert!(s.list_apps(&b_prod, &page).await.unwrap().is_empty(), "{l}");
        let b_tracks = s.list_tracks(&n("b"), &page).await.unwrap();
        assert_eq!(b_tracks.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["master"], "{l}");
        let b_log = s.list_audit(&n("b"), &all(100)).await.unwrap();
        assert!(b_log.iter().all(|e| e.record.tenant == "b") && b_log.len() == 1, "{l}");
        let a = s.load_track(&track_ref("a", "prod")).await.unwrap();
        assert_eq!(a.keys.len(), 1, "{l}");
        assert_eq!(a.keys[0].state, KeyState::Active, "{l}");
        // a use of a jti by b's client does not spend a's
        assert!(s.use_jti(&app_ref("b", "prod", "x"), "j", 10, 1).await.unwrap(), "{l}");
        assert!(s.use_jti(&app_ref("a", "prod", "x"), "j", 10, 1).await.unwrap(), "{l}");
    }
}

/// A monotonic clock that moves one millisecond at each reading, so that a call's time
/// is the number of readings between its start and its end.
#[derive(Default)]
struct Ticking(std::sync::atomic::AtomicU64);

impl ferrid_core::env::Clock for Ticking {
    fn now_millis(&self) -> i64 {
        0
    }

    fn monotonic(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
    }
}

/// The store calls reported to an observer, in order.
#[derive(Default)]
struct Timed(std::sync::Mutex<Vec<(ferrid_core::observe::StorePort, std::time::Duration)>>);

impl ferrid_core::observe::Observer for Timed {
    fn store_call(&self, port: ferrid_core::observe::StorePort, took: std::time::Duration) {
        self.0.lock().unwrap().push((port, took));
    }
}

/// Issue 19: once observed, every counted call is reported once, under the port it was
/// made through, with the time its clock read from the count to the end of the call
/// (`ferrid_store_call_duration_seconds`, docs/operations.md).
#[tokio::test]
async fn every_port_method_call_is_timed_under_its_port() {
    use ferrid_core::observe::StorePort as P;
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        seed(s, "a").await;
        let timed = Arc::new(Timed::default());
        s.observe_calls(timed.clone(), Arc::new(Ticking::default()));
        let before = s.calls();
        s.get_app(&app_ref("a", "prod", "x")).await.unwrap();
        s.update_track(&s.get_track(&track_ref("a", "prod")).await.unwrap(), Some(9), &au()).await.unwrap_err();
        s.use_jti(&app_ref("a", "prod", "x"), "j", 10, 1).await.unwrap();
        s.load_track(&track_ref("a", "prod")).await.unwrap();
        s.list_audit(&n("a"), &all(10)).await.unwrap();
        s.take_auth_failures(&[("ip".into(), 1)], 3.0, 0.001, 1).await.unwrap();
        s.add_client_key(&app_ref("a", "prod", "x"), &client_key("k2"), 4, &au()).await.unwrap();
        s.list_tenants(&PageRequest { after: None, limit: 10 }).await.unwrap();
        s.ping().await.unwrap();
        let seen = timed.0.lock().unwrap().clone();
        let ports: Vec<P> = seen.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            ports,
            [
                P::App,
                P::Track,
                P::Track,
                P::ReplayGuard,
                P::Snapshot,
                P::AuditLog,
                P::FailureBuckets,
                P::Credential,
                P::Tenant,
                P::Health
            ],
            "{l}"
        );
        assert_eq!(s.calls() - before, seen.len() as u64, "{l}: one report per counted call");
        // calls run one after another: each one's clock read at its start and at its end
        assert!(seen.iter().all(|(_, took)| *took == std::time::Duration::from_millis(1)), "{l}: {seen:?}");
        // a second observer does not replace the first
        s.observe_calls(Arc::new(Timed::default()), Arc::new(Ticking::default()));
        s.ping().await.unwrap();
        assert_eq!(timed.0.lock().unwrap().len(), seen.len() + 1, "{l}");
    }
}
