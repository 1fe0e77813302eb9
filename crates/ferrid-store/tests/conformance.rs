//! The store conformance suite: every test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL is reached through `FERRID_TEST_DATABASE_URL` (`.ci/run` sets it and fails
//! when the server is unreachable); each test creates and drops its own database.
//! Without the variable the PostgreSQL half is skipped, loudly.

use std::sync::Arc;

use ferrid_core::{
    client_auth::keys::{KeyInput, import_key},
    model::*,
    store::{Change, NewTrack, PageRequest, Store, StoreError},
};
use ferrid_oauth::{name::Name, scope::ScopeName};
use ferrid_store::{PgStore, SqliteStore};
use sqlx::{Connection, PgConnection};

/// A backend under test; dropping it drops its PostgreSQL database.
struct Backend {
    label: &'static str,
    store: Arc<dyn Store>,
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
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

async fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite().await];
    v.extend(postgres().await);
    v
}

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
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

/// Tenant `t` with track `prod` holding resource `x` with one secret and one key.
async fn seed(s: &dyn Store, t: &str) {
    s.create_tenant(&Tenant { name: n(t), created: 1 }, &track(t, "master")).await.unwrap();
    s.create_track(&track(t, "prod")).await.unwrap();
    s.create_app(&resource(t, "prod", "x"), &[secret("s1")]).await.unwrap();
    s.add_client_key(t, "prod", "x", &client_key("k1"), 4).await.unwrap();
}

#[tokio::test]
async fn tenants_tracks_and_apps_round_trip() {
    for b in backends().await {
        let s = b.store.as_ref();
        assert!(!s.has_tenants().await.unwrap(), "{}", b.label);
        seed(s, "a").await;
        assert!(s.has_tenants().await.unwrap());
        assert_eq!(s.get_tenant("a").await.unwrap().name.as_str(), "a");
        assert_eq!(s.get_track("a", "prod").await.unwrap().settings, TrackSettings::default());
        let app = s.get_app("a", "prod", "x").await.unwrap();
        assert_eq!(app, resource("a", "prod", "x"), "{}", b.label);
        let data = s.load_track("a", "prod").await.unwrap();
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
            matches!(
                s.create_tenant(&Tenant { name: n("a"), created: 1 }, &track("a", "master")).await,
                Err(StoreError::Conflict)
            ),
            "{l}"
        );
        assert!(matches!(s.create_track(&track("a", "prod")).await, Err(StoreError::Conflict)), "{l}");
        assert!(matches!(s.create_app(&resource("a", "prod", "x"), &[]).await, Err(StoreError::Conflict)), "{l}");
        assert!(matches!(s.add_secret("a", "prod", "x", &secret("s1"), 10).await, Err(StoreError::Conflict)), "{l}");
        assert!(
            matches!(s.add_client_key("a", "prod", "x", &client_key("k1"), 4).await, Err(StoreError::Conflict)),
            "{l}"
        );
        assert!(matches!(s.create_track(&track("zz", "prod")).await, Err(StoreError::NotFound)), "{l}");
        assert!(matches!(s.create_app(&resource("a", "nope", "y"), &[]).await, Err(StoreError::NotFound)), "{l}");
        assert!(matches!(s.add_secret("a", "prod", "nope", &secret("s9"), 10).await, Err(StoreError::NotFound)), "{l}");
        assert!(matches!(s.get_tenant("zz").await, Err(StoreError::NotFound)), "{l}");
        assert!(matches!(s.delete_app("a", "prod", "nope").await, Err(StoreError::NotFound)), "{l}");
    }
}

#[tokio::test]
async fn deleting_a_parent_deletes_what_it_holds() {
    for b in backends().await {
        let s = b.store.as_ref();
        seed(s, "a").await;
        s.delete_track("a", "prod").await.unwrap();
        assert!(matches!(s.get_app("a", "prod", "x").await, Err(StoreError::NotFound)), "{}", b.label);
        assert!(s.list_secrets("a", "prod", "x").await.unwrap().is_empty());
        assert!(s.list_client_keys("a", "prod", "x").await.unwrap().is_empty());
        seed(s, "b").await;
        s.delete_tenant("b").await.unwrap();
        assert!(matches!(s.get_track("b", "prod").await, Err(StoreError::NotFound)));
        assert_eq!(s.load_all().await.unwrap().len(), 1, "{}", b.label);
    }
}

#[tokio::test]
async fn versions_are_compared_and_bumped_atomically() {
    for b in backends().await {
        let s = b.store.clone();
        seed(s.as_ref(), "a").await;
        let app = s.get_app("a", "prod", "x").await.unwrap();
        // 8 concurrent edits all based on version 1: exactly one wins
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, app) = (s.clone(), app.clone());
            tasks.push(tokio::spawn(async move { s.replace_app(&app, Some(1)).await }));
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
        assert_eq!(s.replace_app(&app, None).await.unwrap().version, 3);
        let t = s.get_track("a", "prod").await.unwrap();
        assert!(matches!(s.update_track(&t, Some(7)).await, Err(StoreError::VersionMismatch)));
        assert_eq!(s.update_track(&t, Some(1)).await.unwrap().version, 2);
        assert!(matches!(s.replace_app(&resource("a", "prod", "nope"), Some(1)).await, Err(StoreError::NotFound)));
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
            tasks
                .push(tokio::spawn(async move { s.add_secret("a", "prod", "x", &secret(&format!("c{i}")), 10).await }));
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
        assert_eq!(s.list_secrets("a", "prod", "x").await.unwrap().len(), 10);
        for i in 0..3 {
            s.add_client_key("a", "prod", "x", &client_key(&format!("k{}", i + 2)), 4).await.unwrap();
        }
        assert!(matches!(
            s.add_client_key("a", "prod", "x", &client_key("k9"), 4).await,
            Err(StoreError::LimitReached)
        ));
    }
}

#[tokio::test]
async fn the_jti_guard_accepts_once_until_expiry() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        assert!(s.use_jti("a", "prod", "c", "j1", 100, 50).await.unwrap(), "{l}");
        assert!(!s.use_jti("a", "prod", "c", "j1", 100, 60).await.unwrap(), "{l}");
        // the same jti for another client or track is another entry
        assert!(s.use_jti("a", "prod", "d", "j1", 100, 60).await.unwrap(), "{l}");
        assert!(s.use_jti("b", "prod", "c", "j1", 100, 60).await.unwrap(), "{l}");
        // after its exp the entry no longer blocks
        assert!(s.use_jti("a", "prod", "c", "j1", 300, 200).await.unwrap(), "{l}");
        assert!(!s.use_jti("a", "prod", "c", "j1", 300, 250).await.unwrap(), "{l}");
        assert_eq!(s.purge_jtis(1000).await.unwrap(), 3, "{l}");
        // concurrent first uses: exactly one wins
        let st = b.store.clone();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let st = st.clone();
                tokio::spawn(async move { st.use_jti("a", "prod", "c", "race", 2000, 1000).await.unwrap() })
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
        s.delete_app("b", "prod", "x").await.unwrap();
        let nf = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound));
        assert!(matches!(s.get_app("b", "prod", "x").await, Err(StoreError::NotFound)), "{l}");
        assert!(s.list_apps("b", "prod", &PageRequest { after: None, limit: 100 }).await.unwrap().is_empty(), "{l}");
        assert!(s.list_secrets("b", "prod", "x").await.unwrap().is_empty(), "{l}");
        assert!(s.list_client_keys("b", "prod", "x").await.unwrap().is_empty(), "{l}");
        assert!(nf(s.delete_app("b", "prod", "x").await), "{l}");
        assert!(nf(s.delete_secret("b", "prod", "x", "s1").await), "{l}");
        assert!(nf(s.delete_client_key("b", "prod", "x", "k1").await), "{l}");
        assert!(nf(s.add_secret("b", "prod", "x", &secret("s2"), 10).await), "{l}");
        assert!(nf(s.add_client_key("b", "prod", "x", &client_key("k2"), 4).await), "{l}");
        assert!(matches!(s.replace_app(&resource("b", "prod", "x"), None).await, Err(StoreError::NotFound)), "{l}");
        assert!(s.load_track("b", "prod").await.unwrap().apps.is_empty(), "{l}");
        assert!(s.load_track("b", "prod").await.unwrap().secrets.is_empty(), "{l}");
        // a's data is untouched by all of the above
        assert_eq!(s.get_app("a", "prod", "x").await.unwrap().version, 1, "{l}");
        assert_eq!(s.list_secrets("a", "prod", "x").await.unwrap().len(), 1, "{l}");
        assert_eq!(s.list_client_keys("a", "prod", "x").await.unwrap().len(), 1, "{l}");
        // deleting b's track or tenant leaves a's
        s.delete_track("b", "prod").await.unwrap();
        s.delete_tenant("b").await.unwrap();
        assert_eq!(s.load_track("a", "prod").await.unwrap().apps.len(), 1, "{l}");
        let tracks = s.list_tracks("a", &PageRequest { after: None, limit: 100 }).await.unwrap();
        assert!(tracks.iter().all(|t| t.tenant.as_str() == "a"), "{l}");
    }
}

#[tokio::test]
async fn listings_page_in_name_order() {
    for b in backends().await {
        let s = b.store.as_ref();
        seed(s, "a").await;
        for name in ["c", "a", "b"] {
            s.create_app(&resource("a", "prod", name), &[]).await.unwrap();
        }
        let p = |after: Option<&str>| PageRequest { after: after.map(str::to_owned), limit: 2 };
        let names = |v: Vec<App>| v.into_iter().map(|a| a.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(s.list_apps("a", "prod", &p(None)).await.unwrap()), ["a", "b"], "{}", b.label);
        assert_eq!(names(s.list_apps("a", "prod", &p(Some("b"))).await.unwrap()), ["c", "x"], "{}", b.label);
        s.create_tenant(&Tenant { name: n("0"), created: 1 }, &track("0", "master")).await.unwrap();
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
    assert!(sqlite().await.store.subscribe().is_none());
}

#[tokio::test]
async fn the_embedded_replay_guard_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStore::open_dir(dir.path()).await.unwrap();
        assert!(s.use_jti("a", "prod", "c", "j1", i64::MAX / 2, 100).await.unwrap());
        // the write-behind batch lands within 50 ms
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert!(!s.use_jti("a", "prod", "c", "j1", i64::MAX / 2, 200).await.unwrap());
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
                tokio::spawn(async move { s.add_next_key("a", "prod", &k).await.unwrap() })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            created += t.await.unwrap() as usize;
        }
        assert_eq!(created, 1, "{l}: one next key");
        let keys = s.load_track("a", "prod").await.unwrap().keys;
        let n = keys.iter().find(|k| k.state == KeyState::Next).unwrap().kid.clone();
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (s, n) = (s.clone(), n.clone());
                tokio::spawn(async move { s.promote_next_key("a", "prod", &n, 20).await.unwrap() })
            })
            .collect();
        let mut promoted = 0;
        for t in tasks {
            promoted += t.await.unwrap() as usize;
        }
        assert_eq!(promoted, 1, "{l}: promoted once");
        let keys = s.load_track("a", "prod").await.unwrap().keys;
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state(&n), KeyState::Active, "{l}");
        assert_eq!(state("k-prod"), KeyState::Retired, "{l}");
        assert_eq!(keys.iter().find(|k| k.kid == "k-prod").unwrap().changed, 20);
        assert_eq!(s.delete_retired_keys("a", "prod", 20).await.unwrap(), 0, "{l}: not before its time");
        assert_eq!(s.delete_retired_keys("a", "prod", 21).await.unwrap(), 1, "{l}");
        assert_eq!(s.load_track("a", "prod").await.unwrap().keys.len(), 1);
    }
}
