//! The admin token, the management API and the standard fixtures, through HTTP.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::{TestApp, oauth::basic};

/// A registered client: its id and its one secret.
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
}

impl ClientCreds {
    /// The id and secret of a client the API answered with (`client_secret` may be absent).
    pub fn from_body(b: &Value) -> ClientCreds {
        ClientCreds {
            id: b["client_id"].as_str().expect("client_id").to_owned(),
            secret: b["client_secret"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// `{"resource": r, "scopes": s}` for each pair: a client's `resource_scopes`.
pub fn grants(pairs: &[(&str, &[&str])]) -> Value {
    pairs.iter().map(|(r, s)| json!({ "resource": r, "scopes": s })).collect()
}

/// The `access_token` of a token response that must be `200 OK`.
pub async fn access_token(r: Response) -> String {
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// ferrid with tenant t1, track prod (ES256) and `resources` (name, scopes): the app and
/// an admin token.
pub async fn spawn_t1_prod(resources: &[(&str, &[&str])]) -> (TestApp, String) {
    let (app, admin) = spawn_admin().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    for (name, scopes) in resources {
        app.resource(&admin, "t1", "prod", name, scopes).await;
    }
    (app, admin)
}

/// ferrid and an admin token.
pub async fn spawn_admin() -> (TestApp, String) {
    let app = crate::spawn_app().await;
    let admin = app.admin_token().await;
    (app, admin)
}

/// ferrid with the standard fixture on track `prod` (ES256): the app, an admin token and
/// the client `svc` (see [`TestApp::fixture`]).
pub async fn spawn_fixture() -> (TestApp, String, ClientCreds) {
    let app = crate::spawn_app().await;
    let (admin, c) = app.fixture("prod", "ES256").await;
    (app, admin, c)
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

    /// A client-credentials request for `creds` at `tenant/track` with more form
    /// parameters (`&scope=…`), Basic credentials.
    pub async fn token(&self, tenant: &str, track: &str, creds: &ClientCreds, extra: &str) -> Response {
        let body = format!("grant_type=client_credentials{extra}");
        self.post_form(&self.token_url(tenant, track), Some((&creds.id, &creds.secret)), &body).await
    }

    /// The track's JWKS document.
    pub async fn jwks(&self, tenant: &str, track: &str) -> Value {
        let url = format!("{}/oauth/keys", self.issuer(tenant, track));
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }

    /// A token of the bootstrap admin with `ferrid-api:admin`.
    pub async fn admin_token(&self) -> String {
        let body = format!(
            "grant_type=client_credentials&client_id=admin&client_secret={}&scope=ferrid-api:admin",
            self.admin_secret
        );
        access_token(self.post_form(&self.token_url("master", "master"), None, &body).await).await
    }

    /// A management API call (`/api/v1{path}`): the status and the JSON body (`Null`
    /// when empty, a string when not JSON).
    pub async fn api(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
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
        self.api(Method::POST, path, token, Some(body)).await
    }

    pub async fn get_api(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.api(Method::GET, path, token, None).await
    }

    /// A POST expected to answer `201 Created`; its body.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let (s, b) = self.post_api(path, token, body).await;
        assert_eq!(s, StatusCode::CREATED, "{path}: {b}");
        b
    }

    /// Tenant `t` and track `tr` with the given algorithm, as the admin.
    pub async fn tenant_track(&self, admin: &str, t: &str, tr: &str, alg: &str) {
        let (s, b) = self.post_api("/tenants", admin, json!({ "name": t })).await;
        assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s} {b}");
        self.create(&format!("/tenants/{t}/tracks"), admin, json!({ "name": tr, "signing_alg": alg })).await;
    }

    pub async fn resource(&self, admin: &str, t: &str, tr: &str, name: &str, scopes: &[&str]) {
        let body = json!({ "name": name, "kind": "oauth_resource", "scopes": scopes });
        self.create(&format!("/tenants/{t}/tracks/{tr}/apps"), admin, body).await;
    }

    pub async fn client(&self, admin: &str, t: &str, tr: &str, name: &str, method: &str, grants: Value) -> ClientCreds {
        let body =
            json!({ "name": name, "kind": "oauth_client", "client_auth_method": method, "resource_scopes": grants });
        ClientCreds::from_body(&self.create(&format!("/tenants/{t}/tracks/{tr}/apps"), admin, body).await)
    }

    /// A `client_secret_basic` client granted `grants` (resource, scopes).
    pub async fn basic_client(
        &self,
        admin: &str,
        t: &str,
        tr: &str,
        name: &str,
        grants: &[(&str, &[&str])],
    ) -> ClientCreds {
        self.client(admin, t, tr, name, "client_secret_basic", self::grants(grants)).await
    }

    /// The access token `creds` gets at `tenant/track` with more form parameters
    /// (`&scope=…`); the request must succeed.
    pub async fn token_for(&self, tenant: &str, track: &str, creds: &ClientCreds, extra: &str) -> String {
        access_token(self.token(tenant, track, creds, extra).await).await
    }

    /// The standard fixture: tenant t1, track `tr` (alg), resources party-api2
    /// (read1, read2) and orders (read, write), and a Basic client `svc` granted
    /// party-api2:read1, party-api2:read2 and orders:read.
    pub async fn fixture(&self, tr: &str, alg: &str) -> (String, ClientCreds) {
        let admin = self.admin_token().await;
        self.tenant_track(&admin, "t1", tr, alg).await;
        self.resource(&admin, "t1", tr, "party-api2", &["read1", "read2"]).await;
        self.resource(&admin, "t1", tr, "orders", &["read", "write"]).await;
        let grants = grants(&[("party-api2", &["read1", "read2"]), ("orders", &["read"])]);
        let c = self.client(&admin, "t1", tr, "svc", "client_secret_basic", grants).await;
        (admin, c)
    }

    /// The value of a `/metrics` counter or gauge: the sum over its label sets.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap();
        let values: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix(name))
            .filter(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            .filter_map(|rest| rest.rsplit_once(' ').and_then(|(_, v)| v.trim().parse::<f64>().ok()))
            .map(|v| v as u64)
            .collect();
        assert!(!values.is_empty(), "metric {name} missing");
        values.iter().sum()
    }
}
