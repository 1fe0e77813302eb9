//! `spawn_app()` and the calls tests make through HTTP.

use std::path::PathBuf;

use base64::Engine;
use ferrid_server::ServerConfig;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub http: Client,
    pub admin_secret: String,
    pub data_dir: PathBuf,
    pub _dir: tempfile::TempDir,
}

/// Starts ferrid on 127.0.0.1:0 with a fresh data directory.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    spawn_in(dir).await
}

pub async fn spawn_in(dir: tempfile::TempDir) -> TestApp {
    spawn_with(dir, |_| {}).await
}

/// Starts ferrid with a configuration adjusted by `adjust`.
pub async fn spawn_with(dir: tempfile::TempDir, adjust: impl FnOnce(&mut ServerConfig)) -> TestApp {
    spawn_with_env(dir, ferrid_core::env::Env::system(), adjust).await
}

/// Starts ferrid on `env` (a `FakeEnv`'s for tests that wait on time).
pub async fn spawn_with_env(
    dir: tempfile::TempDir,
    env: ferrid_core::env::Env,
    adjust: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    config.print_admin_secret = false;
    adjust(&mut config);
    let (addr, _state) = ferrid_server::spawn_with_env(&config, env).await.expect("server starts");
    let admin_secret = std::fs::read_to_string(dir.path().join("admin-secret")).expect("admin secret file");
    TestApp {
        base: format!("http://{addr}"),
        http: Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        admin_secret,
        data_dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

/// Polls `check` until it holds, for up to 5 s: for work done off the request path (a
/// reporter task, a background job), so a wait for a condition, not for a fixed time.
pub async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..250 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    check().await
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// A registered client: its id and its one secret.
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
}

impl TestApp {
    pub fn issuer(&self, tenant: &str, track: &str) -> String {
        format!("{}/{tenant}/{track}", self.base)
    }

    pub fn token_url(&self, tenant: &str, track: &str) -> String {
        format!("{}/oauth/token", self.issuer(tenant, track))
    }

    /// POSTs a form body with optional Basic credentials.
    pub async fn post_form(&self, url: &str, auth: Option<(&str, &str)>, body: &str) -> Response {
        let mut req =
            self.http.post(url).header("content-type", "application/x-www-form-urlencoded").body(body.to_owned());
        if let Some((id, secret)) = auth {
            req = req.header("authorization", basic(id, secret));
        }
        req.send().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        let body = format!(
            "grant_type=client_credentials&client_id=admin&client_secret={}&scope=ferrid-api:admin",
            self.admin_secret
        );
        let r = self.post_form(&self.token_url("master", "master"), None, &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}/api/v1{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
    }

    pub async fn post_api(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn get_api(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.api(reqwest::Method::GET, path, token, None).await
    }

    /// Tenant `t` and track `tr` with the given algorithm, as the admin.
    pub async fn tenant_track(&self, admin: &str, t: &str, tr: &str, alg: &str) {
        let (s, b) = self.post_api("/tenants", admin, json!({ "name": t })).await;
        assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s} {b}");
        let (s, b) =
            self.post_api(&format!("/tenants/{t}/tracks"), admin, json!({ "name": tr, "signing_alg": alg })).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    pub async fn resource(&self, admin: &str, t: &str, tr: &str, name: &str, scopes: &[&str]) {
        let (s, b) = self
            .post_api(
                &format!("/tenants/{t}/tracks/{tr}/apps"),
                admin,
                json!({ "name": name, "kind": "oauth_resource", "scopes": scopes }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    pub async fn client(&self, admin: &str, t: &str, tr: &str, name: &str, method: &str, grants: Value) -> ClientCreds {
        let body =
            json!({ "name": name, "kind": "oauth_client", "client_auth_method": method, "resource_scopes": grants });
        let (s, b) = self.post_api(&format!("/tenants/{t}/tracks/{tr}/apps"), admin, body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        ClientCreds {
            id: b["client_id"].as_str().unwrap().to_owned(),
            secret: b["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// The standard fixture: tenant t1, track `tr` (alg), resources party-api2
    /// (read1, read2) and orders (read, write), and a Basic client `svc` granted
    /// party-api2:read1, party-api2:read2 and orders:read.
    pub async fn fixture(&self, tr: &str, alg: &str) -> (String, ClientCreds) {
        let admin = self.admin_token().await;
        self.tenant_track(&admin, "t1", tr, alg).await;
        self.resource(&admin, "t1", tr, "party-api2", &["read1", "read2"]).await;
        self.resource(&admin, "t1", tr, "orders", &["read", "write"]).await;
        let grants = json!([
            { "resource": "party-api2", "scopes": ["read1", "read2"] },
            { "resource": "orders", "scopes": ["read"] }
        ]);
        let c = self.client(&admin, "t1", tr, "svc", "client_secret_basic", grants).await;
        (admin, c)
    }

    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
            .unwrap_or_else(|| panic!("metric {name} missing"))
    }
}

/// Asserts an RFC 6749 §5.2 error: status, `error` code, no-store.
pub async fn assert_oauth_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["content-type"], "application/json");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"], code, "{b}");
    b
}

/// The payload of a JWT, unverified (verification is tested separately).
pub fn claims(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

pub fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

/// Verifies a token with the `jsonwebtoken` crate against the track's JWKS.
pub async fn verify_with_jwks(app: &TestApp, token: &str, tenant: &str, track: &str, aud: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet =
        app.http.get(format!("{}/oauth/keys", app.issuer(tenant, track))).send().await.unwrap().json().await.unwrap();
    let h = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks.find(h.kid.as_deref().unwrap()).expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(h.alg);
    v.set_issuer(&[app.issuer(tenant, track)]);
    v.set_audience(&[aud]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
    jsonwebtoken::decode::<Value>(token, &key, &v).expect("token verifies").claims
}
