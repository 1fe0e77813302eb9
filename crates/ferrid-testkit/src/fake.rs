//! Servers standing in for other parties: a token endpoint that can behave like a plain
//! RFC 6749 server, like Auth0 or like IBM App ID, and an issuer publishing a JWKS.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ferrid_oauth::jwt::{SigningAlg, SigningKey};
use serde_json::{Value, json};

/// Serves `router` on 127.0.0.1:0.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// How the token endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// RFC 6749: Basic or body, not both.
    Standard,
    /// Ignores the Authorization header; wants the credentials and `audience` in the body.
    Auth0,
    /// Sends `expires_in` as a string.
    IbmAppId,
}

pub const CLIENT_ID: &str = "svc";
pub const SECRET: &str = "s3cret+/:%";

#[derive(Debug, Clone)]
pub struct Behavior {
    pub flavor: Flavor,
    /// `expires_in`; `None` leaves it out.
    pub lifetime: Option<u64>,
    /// Answer 503 `temporarily_unavailable`.
    pub failing: bool,
    /// Time taken to answer.
    pub delay: Duration,
    pub client_id: String,
    pub secret: String,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub basic: Option<(String, String)>,
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

/// One token issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub at: tokio::time::Instant,
    pub lifetime: Option<u64>,
}

#[derive(Clone)]
pub struct AuthServer {
    pub token_url: String,
    pub requests: Arc<AtomicUsize>,
    pub behavior: Arc<Mutex<Behavior>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub issued: Arc<Mutex<Vec<Issued>>>,
}

impl AuthServer {
    pub async fn start(flavor: Flavor) -> AuthServer {
        let behavior = Behavior {
            flavor,
            lifetime: Some(3600),
            failing: false,
            delay: Duration::ZERO,
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        };
        let mut s = AuthServer {
            token_url: String::new(),
            requests: Arc::default(),
            behavior: Arc::new(Mutex::new(behavior)),
            seen: Arc::default(),
            issued: Arc::default(),
        };
        let addr = serve(Router::new().route("/token", post(token)).with_state(s.clone())).await;
        s.token_url = format!("http://{addr}/token");
        s
    }

    pub fn set(&self, f: impl FnOnce(&mut Behavior)) {
        f(&mut self.behavior.lock().unwrap());
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.issued.lock().unwrap().clone()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (status, [("content-type", "application/json")], json!({ "error": code }).to_string()).into_response()
}

async fn token(State(s): State<AuthServer>, headers: HeaderMap, body: String) -> Response {
    let n = s.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let b = s.behavior.lock().unwrap().clone();
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| ferrid_oauth::basic::parse_basic(v).ok())
        .map(|c| (c.client_id, c.secret));
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let seen = Seen { basic: basic.clone(), form };
    s.seen.lock().unwrap().push(seen.clone());
    tokio::time::sleep(b.delay).await;
    if b.failing {
        return oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
    }
    if seen.param("grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let in_body = seen.param("client_id").zip(seen.param("client_secret")).map(|(a, b)| (a.to_owned(), b.to_owned()));
    let creds = match b.flavor {
        Flavor::Auth0 => in_body,
        _ if basic.is_some() && in_body.is_some() => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
        _ => basic.or(in_body),
    };
    if creds != Some((b.client_id.clone(), b.secret.clone())) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if b.flavor == Flavor::Auth0 && seen.param("audience").is_none() {
        return oauth_error(StatusCode::FORBIDDEN, "access_denied");
    }
    let token = format!("tok-{n}");
    s.issued.lock().unwrap().push(Issued { token: token.clone(), at: ferrid_client::env::now(), lifetime: b.lifetime });
    let mut resp = json!({ "access_token": token, "token_type": "Bearer" });
    if let Some(l) = b.lifetime {
        resp["expires_in"] = if b.flavor == Flavor::IbmAppId { json!(l.to_string()) } else { json!(l) };
    }
    if let Some(scope) = seen.param("scope") {
        resp["scope"] = json!(scope);
    }
    ([("content-type", "application/json"), ("cache-control", "no-store")], resp.to_string()).into_response()
}

/// An issuer with signing keys, a JWKS (counted) and discovery.
#[derive(Clone)]
pub struct Issuer {
    pub issuer: String,
    pub jwks_url: String,
    pub jwks_requests: Arc<AtomicUsize>,
    pub published: Arc<Mutex<Vec<Arc<SigningKey>>>>,
}

pub fn key(alg: SigningAlg) -> Arc<SigningKey> {
    Arc::new(SigningKey::from_pkcs8(alg, &SigningKey::generate_pkcs8(alg).unwrap()).unwrap())
}

pub fn now() -> i64 {
    ferrid_client::env::unix_now() as i64
}

impl Issuer {
    pub async fn start(keys: Vec<Arc<SigningKey>>) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let issuer = format!("http://{addr}/iss");
        let me = Issuer {
            jwks_url: format!("http://{addr}/jwks"),
            issuer,
            jwks_requests: Arc::default(),
            published: Arc::new(Mutex::new(keys)),
        };
        let router = Router::new()
            .route("/jwks", get(jwks))
            .route("/iss/.well-known/openid-configuration", get(discovery))
            .with_state(me.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        me
    }

    pub fn jwks_requests(&self) -> usize {
        self.jwks_requests.load(Ordering::SeqCst)
    }

    pub fn publish(&self, key: Arc<SigningKey>) {
        self.published.lock().unwrap().push(key);
    }

    /// Default claims: this issuer, audience `api`, valid for 5 minutes, scope `api:read`.
    pub fn claims(&self) -> Value {
        let t = now();
        json!({ "iss": self.issuer, "sub": "svc", "aud": "api", "iat": t, "nbf": t, "exp": t + 300, "scope": "api:read" })
    }
}

/// Signs `claims` with `key` under `typ`.
pub fn sign(key: &SigningKey, typ: &str, claims: &Value) -> String {
    key.sign_with_typ(typ, claims.to_string().as_bytes()).unwrap()
}

async fn jwks(State(s): State<Issuer>) -> impl IntoResponse {
    s.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let keys = s.published.lock().unwrap().clone();
    axum::Json(ferrid_oauth::jwt::jwks_of(keys.iter().map(|k| k.as_ref())))
}

async fn discovery(State(s): State<Issuer>) -> impl IntoResponse {
    axum::Json(json!({ "issuer": s.issuer, "jwks_uri": s.jwks_url, "token_endpoint": format!("{}/token", s.issuer) }))
}
