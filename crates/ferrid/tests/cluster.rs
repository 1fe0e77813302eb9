//! Real `ferrid serve` processes: several instances on one PostgreSQL database, crash
//! safety, graceful shutdown. PostgreSQL tests read `FERRID_TEST_DATABASE_URL` and are
//! skipped loudly without it.

use std::{process::Command, time::Duration};

use ferrid_core::env::{Clock, SystemClock};
use ferrid_testkit::{
    browser::{Browser, Page, params_of},
    pg::PgDb,
    process::{KillOnDrop, free_port, serve_command, start_serving},
    server::TEST_MASTER_KEY as MASTER_KEY,
};
use serde_json::{Value, json};

const ADMIN_SECRET: &str = "cluster-admin-secret-0123456789";

struct Instance {
    child: KillOnDrop,
    base: String,
    _dir: tempfile::TempDir,
}

/// The public URL every instance of a cluster shares (as behind one load balancer):
/// it is what issuers, audiences and token `iss` are made of.
const CLUSTER_URL: &str = "https://id.cluster.test";

/// Starts `ferrid serve` on a free port with the given database URL (None = SQLite in
/// `dir`); with a database URL the instance uses the shared public URL.
async fn start(database_url: Option<&str>, dir: tempfile::TempDir) -> Instance {
    start_with(database_url, dir, &[]).await
}

/// [`start`] with more `FERRID_*` variables.
async fn start_with(database_url: Option<&str>, dir: tempfile::TempDir, env: &[(&str, &str)]) -> Instance {
    let port = free_port();
    let mut cmd = serve_command(env!("CARGO_BIN_EXE_ferrid"), dir.path(), port);
    cmd.envs(env.iter().copied()).env("FERRID_ADMIN_SECRET", ADMIN_SECRET).env("FERRID_MASTER_KEY", MASTER_KEY);
    if let Some(url) = database_url {
        cmd.env("FERRID_PUBLIC_URL", CLUSTER_URL).env("FERRID_DATABASE_URL", url);
    }
    let (child, base) = start_serving(cmd, port).await;
    Instance { child, base, _dir: dir }
}

fn pg() -> Option<PgDb> {
    ferrid_testkit::pg::fresh_database("ferrid_c")
}

/// Two instances on one fresh PostgreSQL database, with more `FERRID_*` variables;
/// `None` without PostgreSQL.
async fn two_instances(env: &[(&str, &str)]) -> Option<(PgDb, Instance, Instance)> {
    let db = pg()?;
    let a = start_with(Some(&db.url), tempfile::tempdir().unwrap(), env).await;
    let b = start_with(Some(&db.url), tempfile::tempdir().unwrap(), env).await;
    Some((db, a, b))
}

async fn token(base: &str, id: &str, secret: &str, scope: Option<&str>) -> reqwest::Response {
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    reqwest::Client::new().post(format!("{base}/master/master/oauth/token")).form(&form).send().await.unwrap()
}

async fn admin(base: &str) -> String {
    let r = token(base, "admin", ADMIN_SECRET, Some("ferrid-api:admin")).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn post(base: &str, tok: &str, path: &str, body: Value) -> (u16, Value) {
    let r =
        reqwest::Client::new().post(format!("{base}/api/v1{path}")).bearer_auth(tok).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A bodiless call with a bearer token.
async fn call(method: reqwest::Method, url: &str, tok: &str) -> reqwest::Response {
    reqwest::Client::new().request(method, url).bearer_auth(tok).send().await.unwrap()
}

/// Polls `f` until it returns true or `within` passes; returns the time it took.
async fn eventually<F, Fut>(within: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = SystemClock::new(); // real time: the instances are other processes
    while start.monotonic() < within {
        if f().await {
            return Some(start.monotonic());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn client_in_master(base: &str, tok: &str, name: &str) -> String {
    let (s, b) =
        post(base, tok, "/tenants/master/tracks/master/apps", json!({ "name": name, "kind": "oauth_client" })).await;
    assert_eq!(s, 201, "{b}");
    b["client_secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn registrations_and_deletions_reach_the_other_instance_within_a_second() {
    let Some((_db, a, b)) = two_instances(&[]).await else { return };
    let tok = admin(&a.base).await;
    let secret = client_in_master(&a.base, &tok, "svc").await;
    let took =
        eventually(Duration::from_secs(1), || async { token(&b.base, "svc", &secret, None).await.status() == 200 })
            .await;
    assert!(took.is_some(), "an app registered through A got no token from B within 1 s");
    // delete its secret through A: B refuses it within a second
    let secrets = format!("{}/api/v1/tenants/master/tracks/master/apps/svc/secrets", a.base);
    let r = call(reqwest::Method::GET, &secrets, &tok).await;
    let id = r.json::<Value>().await.unwrap()["items"][0]["id"].as_str().unwrap().to_owned();
    let r = call(reqwest::Method::DELETE, &format!("{secrets}/{id}"), &tok).await;
    assert_eq!(r.status(), 204);
    let took =
        eventually(Duration::from_secs(1), || async { token(&b.base, "svc", &secret, None).await.status() == 401 })
            .await;
    assert!(took.is_some(), "a secret deleted through A still worked at B after 1 s");
}

/// The `exp - iat` of an access token `base` issues to the client now, if it issues one.
async fn lifetime_at(base: &str, id: &str, secret: &str) -> Option<i64> {
    let r = token(base, id, secret, None).await;
    if r.status() != 200 {
        return None;
    }
    let tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tok.split('.').nth(1).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    Some(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap())
}

#[tokio::test]
async fn a_changed_then_deleted_app_is_seen_so_by_the_other_instance_through_its_own_notification() {
    let Some((_db, a, b)) = two_instances(&[]).await else { return };
    let tok = admin(&a.base).await;
    let secret = client_in_master(&a.base, &tok, "svc").await;
    let within = Duration::from_secs(5); // two debug servers on a loaded machine
    let seen = eventually(within, || async { lifetime_at(&b.base, "svc", &secret).await.is_some() }).await;
    assert!(seen.is_some(), "a client registered through A got no token from B within 5 s");
    let body = json!({ "name": "svc", "kind": "oauth_client", "access_token_lifetime": 600 });
    let url = format!("{}/api/v1/tenants/master/tracks/master/apps/svc", a.base);
    let r = reqwest::Client::new().put(&url).bearer_auth(&tok).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let seen = eventually(within, || async { lifetime_at(&b.base, "svc", &secret).await == Some(600) }).await;
    assert!(seen.is_some(), "B did not follow the changed registration within 5 s");
    assert_eq!(call(reqwest::Method::DELETE, &url, &tok).await.status(), 204);
    let seen = eventually(within, || async { token(&b.base, "svc", &secret, None).await.status() == 401 }).await;
    assert!(seen.is_some(), "a client deleted through A still got tokens from B after 5 s");
    // the admin client, untouched by these changes, still works at B
    assert_eq!(token(&b.base, "admin", ADMIN_SECRET, None).await.status(), 200);
}

#[tokio::test]
async fn instances_publish_the_same_keys_and_accept_each_others_tokens() {
    let Some((_db, a, b)) = two_instances(&[]).await else { return };
    let jwks = |base: String| async move {
        reqwest::get(format!("{base}/master/master/oauth/keys")).await.unwrap().json::<Value>().await.unwrap()
    };
    assert_eq!(jwks(a.base.clone()).await, jwks(b.base.clone()).await);
    // a token issued by A manages through B, and the other way round
    let (s, _) = post(&b.base, &admin(&a.base).await, "/tenants", json!({ "name": "from-a" })).await;
    assert_eq!(s, 201);
    let (s, _) = post(&a.base, &admin(&b.base).await, "/tenants", json!({ "name": "from-b" })).await;
    assert_eq!(s, 201);
    // and a track created through A publishes the same keys at B
    let took = eventually(Duration::from_secs(1), || {
        let (a, b) = (a.base.clone(), b.base.clone());
        async move {
            let ka = reqwest::get(format!("{a}/from-a/master/oauth/keys")).await.unwrap();
            let kb = reqwest::get(format!("{b}/from-a/master/oauth/keys")).await.unwrap();
            kb.status() == 200 && ka.json::<Value>().await.unwrap() == kb.json::<Value>().await.unwrap()
        }
    })
    .await;
    assert!(took.is_some());
}

#[tokio::test]
async fn an_assertion_used_at_one_instance_is_refused_at_the_other() {
    let Some((_db, a, b)) = two_instances(&[]).await else { return };
    let tok = admin(&a.base).await;
    let (s, b2) = post(
        &a.base,
        &tok,
        "/tenants/master/tracks/master/apps",
        json!({ "name": "pk", "kind": "oauth_client", "client_auth_method": "private_key_jwt" }),
    )
    .await;
    assert_eq!(s, 201, "{b2}");
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["pk".into()]).unwrap().self_signed(&kp).unwrap().pem();
    let (s, _) = post(&a.base, &tok, "/tenants/master/tracks/master/apps/pk/keys", json!({ "pem": cert })).await;
    assert_eq!(s, 201);
    let now = SystemClock::new().now();
    let claims = json!({ "iss": "pk", "sub": "pk", "aud": format!("{CLUSTER_URL}/master/master"), "iat": now, "exp": now + 300, "jti": "once" });
    let key = jsonwebtoken::EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let assertion =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key).unwrap();
    let send = |base: String, assertion: String| async move {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        reqwest::Client::new()
            .post(format!("{base}/master/master/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(send(a.base.clone(), assertion.clone()).await, 200);
    // B knows the key (else this would prove nothing): a fresh jti works there
    let fresh = json!({ "iss": "pk", "sub": "pk", "aud": format!("{CLUSTER_URL}/master/master"), "iat": now, "exp": now + 300, "jti": "fresh" });
    let fresh = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &fresh, &key).unwrap();
    let b_knows =
        eventually(Duration::from_secs(1), || async { send(b.base.clone(), fresh.clone()).await == 200 }).await;
    assert!(b_knows.is_some(), "B never accepted the client's key");
    assert_eq!(send(b.base.clone(), assertion).await, 401, "the jti used at A was accepted at B");
}

/// Every management write acknowledged before a SIGKILL is there after a restart.
async fn acknowledged_writes_survive(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut a = start(database_url, dir).await;
    let tok = admin(&a.base).await;
    let (s, _) = post(&a.base, &tok, "/tenants", json!({ "name": "crash" })).await;
    assert_eq!(s, 201);
    let base = a.base.clone();
    let writer = tokio::spawn(async move {
        let mut acked = Vec::new();
        for i in 0..10_000 {
            let name = format!("app{i}");
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/tenants/crash/tracks/master/apps"))
                .bearer_auth(&tok)
                .json(&json!({ "name": name, "kind": "oauth_resource", "scopes": ["read"] }))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 201 => acked.push(name),
                _ => break,
            }
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.child.0.kill().unwrap(); // SIGKILL
    a.child.0.wait().unwrap();
    let acked = writer.await.unwrap();
    assert!(acked.len() > 5, "too few writes before the kill: {}", acked.len());
    let dir = tempfile::tempdir().unwrap();
    let data = if database_url.is_some() { dir } else { tempdir_at(path) };
    let b = start(database_url, data).await;
    let tok = admin(&b.base).await;
    let r = call(reqwest::Method::GET, &format!("{}/api/v1/tenants/crash/tracks/master/apps?limit=1000", b.base), &tok)
        .await;
    let listed: Vec<String> = r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|n| !listed.contains(n)).collect();
    assert!(missing.is_empty(), "acknowledged but lost after SIGKILL: {missing:?}");
}

/// Reuses an existing directory as the data directory of a restarted instance.
fn tempdir_at(path: std::path::PathBuf) -> tempfile::TempDir {
    let d = tempfile::Builder::new().tempdir_in(path.parent().unwrap()).unwrap();
    std::fs::remove_dir(d.path()).unwrap();
    std::fs::rename(&path, d.path()).unwrap();
    d
}

#[tokio::test]
async fn a_sigkill_loses_no_acknowledged_write_on_sqlite() {
    acknowledged_writes_survive(None).await;
}

#[tokio::test]
async fn a_sigkill_loses_no_acknowledged_write_on_postgres() {
    let Some(db) = pg() else { return };
    acknowledged_writes_survive(Some(&db.url)).await;
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut a = start(None, tempfile::tempdir().unwrap()).await;
    let out = Command::new("kill").args(["-TERM", &a.child.0.id().to_string()]).output().unwrap();
    assert!(out.status.success());
    let clock = SystemClock::new(); // real time: ferrid runs as another process
    loop {
        if let Some(status) = a.child.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(clock.monotonic() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The failed-authentication counters hold across instances (docs/security.md,
/// "Throttling failed client authentication, across instances"). Without the
/// shared buckets B would allow the source its own burst of five more failures.
#[tokio::test]
async fn failures_at_one_instance_throttle_the_source_at_the_other() {
    let env = [("FERRID_THROTTLE_BURST", "5"), ("FERRID_THROTTLE_PER_SECOND", "0.01")];
    let Some((_db, a, b)) = two_instances(&env).await else { return };
    let wrong = || "not-the-admin-secret-at-all-0000";
    for _ in 0..5 {
        assert_eq!(token(&a.base, "admin", wrong(), None).await.status(), 401);
    }
    assert_eq!(token(&a.base, "admin", wrong(), None).await.status(), 429);
    // A's failures reach the shared buckets off the request path
    tokio::time::sleep(Duration::from_millis(300)).await;
    // B has not seen this source fail: its first failure there brings back the shared
    // level (one failure per instance is the most an attacker gains); then B holds the
    // source back, where on its own it would allow five more.
    let mut failures_at_b = 0;
    for _ in 0..5 {
        match token(&b.base, "admin", wrong(), None).await.status().as_u16() {
            401 => failures_at_b += 1,
            429 => break,
            other => panic!("unexpected {other}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(failures_at_b <= 1, "B allowed {failures_at_b} failures of a source A had throttled");
    // the correct secret from the same source is held back too, never locked out for good
    let r = token(&b.base, "admin", ADMIN_SECRET, None).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}

// The OpenID Provider across instances: sessions, codes and refresh tokens live in the
// shared store, so a person's login, a code and a refresh token's rotation hold at every
// instance behind the public URL (docs/provider.md).

const CB: &str = "https://app.example/cb";
const PASSWORD: &str = "a long passphrase 42";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CLIENT: &str = "web";

/// Two instances with track t1/prod, the oidc_client `web` and the user alice, all
/// created through A; B has seen the client (and the track) before this returns.
struct Op {
    _db: PgDb,
    a: Instance,
    b: Instance,
    admin: String,
    secret: String,
}

async fn op() -> Option<Op> {
    let (db, a, b) = two_instances(&[]).await?;
    let tok = admin(&a.base).await;
    let (s, body) = post(&a.base, &tok, "/tenants", json!({ "name": "t1" })).await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = post(&a.base, &tok, "/tenants/t1/tracks", json!({ "name": "prod", "signing_alg": "ES256" })).await;
    assert_eq!(s, 201, "{body}");
    let secret = register_web(&a.base, &tok, CLIENT).await;
    let (s, body) = post(
        &a.base,
        &tok,
        "/tenants/t1/tracks/prod/users",
        json!({ "username": "alice", "email": "alice@example.com", "password": PASSWORD }),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let op = Op { _db: db, a, b, admin: tok, secret };
    op.until_known_at_b(CLIENT).await;
    Some(op)
}

async fn register_web(base: &str, tok: &str, name: &str) -> String {
    let (s, body) = post(
        base,
        tok,
        "/tenants/t1/tracks/prod/apps",
        json!({ "name": name, "kind": "oidc_client", "redirect_uris": [CB],
                "client_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"] }),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    body["client_secret"].as_str().unwrap().to_owned()
}

impl Op {
    /// The code request of `client` at `base`, PKCE S256, with `extra` parameters.
    fn code_url(base: &str, client: &str, extra: &[(&str, &str)]) -> String {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", CB),
            ("scope", "openid offline_access"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        p.extend_from_slice(extra);
        reqwest::Url::parse_with_params(&format!("{base}/t1/prod/oauth/authorize"), &p).unwrap().to_string()
    }

    /// Waits until B serves `client`'s authorization request (the login page, not the
    /// error page of an unknown client).
    async fn until_known_at_b(&self, client: &str) {
        let url = Op::code_url(&self.b.base, client, &[]);
        let took = eventually(Duration::from_secs(2), || {
            let url = url.clone();
            async move { Browser::new().get(&url).await.status == 200 }
        })
        .await;
        assert!(took.is_some(), "B did not serve the client {client} registered at A within 2 s");
    }

    /// Authorizes at `base` and logs in on its login page; the code.
    async fn log_in_at(&self, base: &str, browser: &mut Browser) -> String {
        let after = self.attempt_at(base, browser, PASSWORD).await;
        assert!(browser.cookies.contains_key("ferrid_session"), "a session: {}", after.body);
        code_of(&after)
    }

    /// Authorizes at `base` and submits alice with `password` on its login page; the
    /// page after it.
    async fn attempt_at(&self, base: &str, browser: &mut Browser, password: &str) -> Page {
        let page = browser.get(&Op::code_url(base, CLIENT, &[])).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let mut form = page.form();
        assert!(form.action.starts_with(CLUSTER_URL), "the issuer's login URL: {}", form.action);
        // the form posts to the public URL; this test calls each instance at its own base
        form.action = form.action.replacen(CLUSTER_URL, base, 1);
        form.set("username", "alice").set("password", password);
        browser.submit(base, &form).await
    }

    async fn token(&self, base: &str, body: &[(&str, &str)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{base}/t1/prod/oauth/token"))
            .basic_auth(CLIENT, Some(&self.secret))
            .form(body)
            .send()
            .await
            .unwrap()
    }

    async fn redeem(&self, base: &str, code: &str) -> reqwest::Response {
        let body =
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", VERIFIER)];
        self.token(base, &body).await
    }

    async fn refresh(&self, base: &str, refresh_token: &str) -> reqwest::Response {
        self.token(base, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }
}

/// The code of a redirect to the client.
fn code_of(page: &Page) -> String {
    let loc = page.location().unwrap_or_else(|| panic!("a redirect ({}): {}", page.status, page.body));
    assert!(loc.starts_with(CB), "{loc}");
    params_of(loc).get("code").unwrap_or_else(|| panic!("a code in {loc}")).clone()
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_person_logged_in_at_one_instance_is_logged_in_at_the_other() {
    let Some(op) = op().await else { return };
    let mut browser = Browser::new();
    op.log_in_at(&op.a.base, &mut browser).await;
    // the same browser (its cookies) at B: no login page, straight to the client
    let page = browser.get(&Op::code_url(&op.b.base, CLIENT, &[("prompt", "none")])).await;
    assert_eq!(page.status, 302, "{}", page.body);
    let code = code_of(&page);
    assert_eq!(op.redeem(&op.b.base, &code).await.status(), 200);
    // a browser without the session is not logged in at B
    let page = Browser::new().get(&Op::code_url(&op.b.base, CLIENT, &[("prompt", "none")])).await;
    let loc = page.location().unwrap_or_default().to_owned();
    assert_eq!(params_of(&loc).get("error").map(String::as_str), Some("login_required"), "{loc}");
}

#[tokio::test]
async fn a_code_issued_at_one_instance_is_redeemed_once_at_the_other() {
    let Some(op) = op().await else { return };
    let code = op.log_in_at(&op.a.base, &mut Browser::new()).await;
    let r = op.redeem(&op.b.base, &code).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert!(t["id_token"].is_string() && t["access_token"].is_string());
    assert_eq!(error_of(op.redeem(&op.a.base, &code).await).await, (400, "invalid_grant".into()));
    assert_eq!(error_of(op.redeem(&op.b.base, &code).await).await, (400, "invalid_grant".into()));
}

#[tokio::test]
async fn a_refresh_token_rotated_at_one_instance_is_refused_as_reused_at_the_other() {
    let Some(op) = op().await else { return };
    let code = op.log_in_at(&op.a.base, &mut Browser::new()).await;
    let t: Value = op.redeem(&op.a.base, &code).await.json().await.unwrap();
    let r1 = t["refresh_token"].as_str().expect("a refresh token").to_owned();
    let r = op.refresh(&op.a.base, &r1).await;
    assert_eq!(r.status(), 200);
    let r2 = r.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    // the old one at B: reuse, and the grant is revoked, the new one with it
    assert_eq!(error_of(op.refresh(&op.b.base, &r1).await).await, (400, "invalid_grant".into()));
    assert_eq!(error_of(op.refresh(&op.b.base, &r2).await).await, (400, "invalid_grant".into()));
    assert_eq!(error_of(op.refresh(&op.a.base, &r2).await).await, (400, "invalid_grant".into()));
}

#[tokio::test]
async fn an_oidc_client_registered_at_one_instance_logs_people_in_at_the_other() {
    let Some(op) = op().await else { return };
    let secret = register_web(&op.a.base, &op.admin, "late").await;
    // B serves it only once the registration has reached it; never used before that
    op.until_known_at_b("late").await;
    let mut browser = Browser::new();
    let page = browser.get(&Op::code_url(&op.b.base, "late", &[])).await;
    let mut form = page.form();
    form.action = form.action.replacen(CLUSTER_URL, &op.b.base, 1);
    form.set("username", "alice").set("password", PASSWORD);
    let code = code_of(&browser.submit(&op.b.base, &form).await);
    let body =
        [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB), ("code_verifier", VERIFIER)];
    let r = reqwest::Client::new()
        .post(format!("{}/t1/prod/oauth/token", op.a.base))
        .basic_auth("late", Some(&secret))
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a code issued at B for the new client is redeemed at A");
}

// Introspection (RFC 7662) and revocation (RFC 7009) across instances: a revocation at
// one instance reaches every instance's deny-list through the `deny:` notification, so
// UserInfo, introspection and the management API refuse the token everywhere within a
// second.

/// The claims of a JWT, unverified (to compare with what introspection says).
fn claims_of(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// RFC 7662 introspection at `{base}/{issuer_path}/oauth/introspect`, the caller
/// authenticated by HTTP Basic; the status and the answer.
async fn introspect(base: &str, issuer_path: &str, caller: (&str, &str), tok: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/{issuer_path}/oauth/introspect"))
        .basic_auth(caller.0, Some(caller.1))
        .form(&[("token", tok)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// RFC 7009 revocation at `{base}/{issuer_path}/oauth/revoke` by the client `caller`.
async fn revoke(base: &str, issuer_path: &str, caller: (&str, &str), tok: &str, hint: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/{issuer_path}/oauth/revoke"))
        .basic_auth(caller.0, Some(caller.1))
        .form(&[("token", tok), ("token_type_hint", hint)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An active introspection answer for the access token `tok`: every RFC 7662 field,
/// matching the token's own claims.
fn assert_active_access(answer: &Value, tok: &str) {
    let claims = claims_of(tok);
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
    for k in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"] {
        assert!(!answer[k].is_null(), "introspection lacks {k}: {answer}");
        assert_eq!(answer[k], claims[k], "introspection's {k} differs from the token's");
    }
}

#[tokio::test]
async fn a_token_revoked_at_one_instance_is_refused_at_the_other_within_a_second() {
    let Some(op) = op().await else { return };
    let (a, b) = (op.a.base.as_str(), op.b.base.as_str());
    let master = "master/master";
    let admin_caller = ("admin", ADMIN_SECRET);
    let web = (CLIENT, op.secret.as_str());
    let within = Duration::from_secs(5); // two debug servers on a loaded machine

    // (a) a management token of an admin-granted client (not the one this test uses)
    let (s, body) = post(
        a,
        &op.admin,
        "/tenants/master/tracks/master/apps",
        json!({ "name": "ops", "kind": "oauth_client",
                "resource_scopes": [{ "resource": "ferrid-api", "scopes": ["admin"] }] }),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let ops_secret = body["client_secret"].as_str().unwrap().to_owned();
    let ops = ("ops", ops_secret.as_str());
    let known = eventually(Duration::from_secs(2), || async {
        token(b, "ops", &ops_secret, Some("ferrid-api:admin")).await.status() == 200
    })
    .await;
    assert!(known.is_some(), "B did not know the client ops registered at A within 2 s");
    let r = token(a, "ops", &ops_secret, Some("ferrid-api:admin")).await;
    assert_eq!(r.status(), 200);
    let ops_tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let tenants = format!("{b}/api/v1/tenants");
    assert_eq!(call(reqwest::Method::GET, &tenants, &ops_tok).await.status(), 200, "B's API before revocation");
    let (s, answer) = introspect(b, master, admin_caller, &ops_tok).await;
    assert_eq!(s, 200, "{answer}");
    assert_active_access(&answer, &ops_tok);
    assert_eq!(answer["client_id"], "ops");
    assert_eq!(answer["iss"], format!("{CLUSTER_URL}/master/master"));
    assert_eq!(revoke(a, master, ops, &ops_tok, "access_token").await, 200);
    let took = eventually(within, || async {
        call(reqwest::Method::GET, &tenants, &ops_tok).await.status() == 401
            && introspect(b, master, admin_caller, &ops_tok).await == (200, json!({ "active": false }))
    })
    .await;
    assert!(took.is_some(), "a management token revoked at A still worked at B after 1 s");
    // the test's own admin token is untouched, and ops can still get a fresh one
    assert_eq!(call(reqwest::Method::GET, &tenants, &op.admin).await.status(), 200);
    assert_eq!(token(b, "ops", &ops_secret, Some("ferrid-api:admin")).await.status(), 200);

    // (b) a user's access token, from a login and a code redeemed at A
    let code = op.log_in_at(a, &mut Browser::new()).await;
    let t: Value = op.redeem(a, &code).await.json().await.unwrap();
    let at = t["access_token"].as_str().unwrap().to_owned();
    let userinfo = format!("{b}/t1/prod/oauth/userinfo");
    assert_eq!(call(reqwest::Method::GET, &userinfo, &at).await.status(), 200, "B's UserInfo before revocation");
    let (s, answer) = introspect(b, "t1/prod", web, &at).await;
    assert_eq!(s, 200, "{answer}");
    assert_active_access(&answer, &at);
    assert_eq!(revoke(a, "t1/prod", web, &at, "access_token").await, 200);
    let took = eventually(within, || async {
        call(reqwest::Method::GET, &userinfo, &at).await.status() == 401
            && introspect(b, "t1/prod", web, &at).await == (200, json!({ "active": false }))
    })
    .await;
    assert!(took.is_some(), "a user's access token revoked at A still worked at B after 1 s");

    // (c) a refresh token revoked at A: its grant's access token is refused at B, and the
    // refresh token itself
    let code = op.log_in_at(a, &mut Browser::new()).await;
    let t: Value = op.redeem(a, &code).await.json().await.unwrap();
    let (at, rt) = (t["access_token"].as_str().unwrap().to_owned(), t["refresh_token"].as_str().unwrap().to_owned());
    assert_eq!(call(reqwest::Method::GET, &userinfo, &at).await.status(), 200);
    let (s, answer) = introspect(b, "t1/prod", web, &rt).await;
    assert_eq!((s, &answer["active"], &answer["token_type"]), (200, &json!(true), &json!("refresh_token")), "{answer}");
    assert_eq!(revoke(a, "t1/prod", web, &rt, "refresh_token").await, 200);
    let took = eventually(within, || async {
        call(reqwest::Method::GET, &userinfo, &at).await.status() == 401
            && introspect(b, "t1/prod", web, &at).await == (200, json!({ "active": false }))
    })
    .await;
    assert!(took.is_some(), "the access token of a refresh token revoked at A still worked at B after 1 s");
    assert_eq!(introspect(b, "t1/prod", web, &rt).await, (200, json!({ "active": false })));
    assert_eq!(error_of(op.refresh(b, &rt).await).await, (400, "invalid_grant".into()));
}

/// Issue 15: the login lockout's counters are in the shared store, so failures at both
/// instances add up to one lockout seen by both; a device cookie issued at one instance
/// is honoured at the other (docs/provider.md "Login").
#[tokio::test]
async fn login_failures_at_both_instances_lock_the_source_at_both_and_a_device_cookie_from_one_works_at_the_other() {
    let Some(op) = op().await else { return };
    // the person's own browser has logged in at A before
    let mut own = Browser::new();
    op.log_in_at(&op.a.base, &mut own).await;
    assert!(own.cookies.contains_key("ferrid_device"));
    own.cookies.remove("ferrid_session");
    // five failures from another browser at the same source, alternating A and B
    let mut guesser = Browser::new();
    for i in 0..5 {
        let base = if i % 2 == 0 { &op.a.base } else { &op.b.base };
        let r = op.attempt_at(base, &mut guesser, &format!("guess {i}")).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    for base in [&op.a.base, &op.b.base] {
        let r = op.attempt_at(base, &mut guesser, PASSWORD).await;
        assert_eq!(r.status, 429, "{base}: {}", r.body);
        assert!(!guesser.cookies.contains_key("ferrid_session"));
    }
    // the browser with the device cookie, at that same source, logs in at B
    op.log_in_at(&op.b.base, &mut own).await;
}
