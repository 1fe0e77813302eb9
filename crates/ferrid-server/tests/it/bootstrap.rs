//! First start, restarts and operations endpoints.

use ferrid_testkit::*;

#[tokio::test]
async fn first_start_writes_the_generated_admin_secret_owner_only() {
    let app = spawn_app().await;
    let path = app.data_dir.join("admin-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(app.data_dir.join("master.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(app.admin_secret.len(), 43);
    let tok = app.admin_token().await;
    let cl = claims(&tok);
    assert_eq!(cl["aud"], "ferrid-api");
    assert_eq!(cl["scope"], "ferrid-api:admin");
}

#[tokio::test]
async fn admin_secret_from_the_environment_is_used() {
    let chosen = "an-operator-chosen-secret";
    let app = TestServer::builder().config(move |c| c.admin_secret = Some(chosen.into())).spawn().await;
    assert!(!app.data_dir.join("admin-secret").exists());
    let r = app
        .http
        .post(app.token_url("master", "master"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "admin"), ("client_secret", chosen)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_restart_keeps_registrations_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let app = spawn_in(dir).await;
    let (_, c) = app.fixture("prod", "ES256").await;
    let old_token = app.token_for("t1", "prod", &c, "").await;
    // a second server on the same data directory: no second bootstrap, same keys
    let again = TestServer::builder().data_dir(path).spawn().await;
    let r = again.token("t1", "prod", &c, "").await;
    assert_eq!(r.status(), 200);
    assert!(!again.admin_token().await.is_empty());
    let jwks_old = app.jwks("t1", "prod").await;
    let jwks_new = again.jwks("t1", "prod").await;
    assert_eq!(jwks_old, jwks_new);
    assert_eq!(header(&old_token)["kid"], jwks_new["keys"][0]["kid"]);
}

#[tokio::test]
async fn private_keys_are_encrypted_at_rest() {
    let (app, _, _) = spawn_fixture().await;
    let db = std::fs::read(app.data_dir.join("ferrid.db")).unwrap();
    let wal = std::fs::read(app.data_dir.join("ferrid.db-wal")).unwrap_or_default();
    assert!(!db.is_empty());
    for bytes in [&db, &wal] {
        assert!(!contains_pkcs8_ec(bytes), "an EC private key in clear");
    }
}

/// The OID of id-ecPublicKey followed by prime256v1, as it appears in a PKCS#8 EC key.
fn contains_pkcs8_ec(bytes: &[u8]) -> bool {
    const OIDS: [u8; 19] = [
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
        0x07,
    ];
    bytes.windows(OIDS.len()).any(|w| w == OIDS)
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let r = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ferrid_tokens_issued_total"));
}

/// The test kit's PostgreSQL opt-in: the same server on a fresh database (skipped loudly
/// without `FERRID_TEST_DATABASE_URL`).
#[tokio::test]
async fn the_server_runs_on_a_fresh_postgresql_database() {
    let Some(server) = TestServer::postgres() else { return };
    let app = server.spawn().await;
    let (_, c) = app.fixture("prod", "ES256").await;
    let token = app.token_for("t1", "prod", &c, "&scope=orders:read").await;
    assert_eq!(claims(&token)["aud"], "orders");
    assert!(!app.data_dir.join("ferrid.db").exists(), "no SQLite file beside PostgreSQL");
}

/// The bootstrap user `admin` of `master/master`, as stored.
async fn admin_user(app: &TestApp) -> ferrid_core::model::User {
    let master = ferrid_core::store::TrackRef::parse("master", "master").unwrap();
    app.state.stores.users.find_user(&master, "admin").await.expect("the admin user")
}

#[tokio::test]
async fn first_start_creates_the_admin_user_with_a_generated_password_shown_once_owner_only() {
    let app = spawn_app().await;
    let path = app.data_dir.join("admin-password");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let password = std::fs::read_to_string(&path).unwrap();
    assert!(password.len() >= 22, "at least 128 random bits");
    let user = admin_user(&app).await;
    assert!(ferrid_core::credentials::argon2id::verify(&user.password.0, password.as_bytes()));
    assert_ne!(user.id, "admin", "the id is opaque");
    // listed through the API like any user, never with its password
    let admin = app.admin_token().await;
    let (s, b) = app.get_api("/tenants/master/tracks/master/users?username=admin", &admin).await;
    assert_eq!(s, 200);
    assert_eq!(b["items"][0]["id"], user.id.as_str());
    assert!(!b.to_string().contains(&password) && !b.to_string().contains("argon2"));
}

#[tokio::test]
async fn the_admin_password_from_the_environment_is_used_and_no_file_written() {
    let chosen = "an-operator-chosen-password";
    let app = TestServer::builder().config(move |c| c.admin_password = Some(chosen.into())).spawn().await;
    assert!(!app.data_dir.join("admin-password").exists());
    assert!(app.data_dir.join("admin-secret").exists(), "the admin secret is still generated");
    let user = admin_user(&app).await;
    assert!(ferrid_core::credentials::argon2id::verify(&user.password.0, chosen.as_bytes()));
}

#[tokio::test]
async fn a_weak_admin_password_from_the_environment_stops_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ferrid_server::config::ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
    config.print_admin_secret = false;
    config.admin_password = Some("password1".into());
    let err = ferrid_server::Server::bind(&config).await.err().expect("refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("FERRID_ADMIN_PASSWORD") && !msg.contains("password1"), "{msg}");
}

#[tokio::test]
async fn a_restart_keeps_the_admin_user_and_writes_no_new_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let app = spawn_in(dir).await;
    let first = admin_user(&app).await;
    std::fs::remove_file(path.join("admin-password")).unwrap();
    let again = TestServer::builder().data_dir(path.clone()).spawn().await;
    assert_eq!(admin_user(&again).await, first);
    assert!(!path.join("admin-password").exists());
}
