//! The real `ferrid gateway` process in front of a test backend, with a real ferrid
//! (in-process) issuing the tokens; and `ferrid token` against that ferrid.

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, routing::any};
use ferrid_client::token::{ClientCredentialsConfig, fetch_token};
use ferrid_core::env::Clock;
use ferrid_testkit::{TestApp, api, process::KillOnDrop};
use serde_json::{Value, json};

const SECRET_MARKER: &str = "gateway-secret";

struct Ferrid {
    app: TestApp,
    admin: String,
}

impl Ferrid {
    /// ferrid with tenant t1, track prod (ES256), resources orders (read, write) and
    /// inventory (read).
    async fn start() -> Ferrid {
        let (app, admin) = api::spawn_t1_prod(&[("orders", &["read", "write"]), ("inventory", &["read"])]).await;
        Ferrid { app, admin }
    }

    /// A client_secret_basic client granted `grants` (`resource:scope`).
    async fn client(&self, name: &str, grants: &[(&str, &[&str])]) -> (String, String) {
        let c = self.app.client(&self.admin, "t1", "prod", name, "client_secret_basic", api::grants(grants)).await;
        (c.id, c.secret)
    }

    fn issuer(&self) -> String {
        self.app.issuer("t1", "prod")
    }

    fn token_url(&self) -> String {
        self.app.token_url("t1", "prod")
    }

    async fn token(&self, (id, secret): &(String, String), scope: &str) -> String {
        let mut cfg = ClientCredentialsConfig::new(id.clone(), secret.clone(), self.token_url());
        cfg.scopes = vec![scope.into()];
        fetch_token(cfg).await.unwrap().access_token
    }

    async fn tokens_issued(&self) -> u64 {
        self.app.metric("ferrid_tokens_issued_total").await
    }

    async fn jwks(&self) -> Value {
        self.app.jwks("t1", "prod").await
    }
}

/// One call as the backend saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    token_jti: Option<String>,
}

#[derive(Clone)]
struct Backend {
    jwks: jsonwebtoken::jwk::JwkSet,
    issuer: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// The backend: accepts only ferrid tokens for `orders` (checked with jsonwebtoken),
/// echoes what it got.
async fn backend_call(State(b): State<Backend>, req: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let token =
        parts.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let claims = token.and_then(|t| {
        let h = jsonwebtoken::decode_header(t).ok()?;
        let key = jsonwebtoken::DecodingKey::from_jwk(b.jwks.find(h.kid.as_deref()?)?).ok()?;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.set_audience(&["orders"]);
        v.set_issuer(&[&b.issuer]);
        jsonwebtoken::decode::<Value>(t, &key, &v).ok().map(|d| d.claims)
    });
    let Some(claims) = claims else {
        return (axum::http::StatusCode::UNAUTHORIZED, "backend: no valid ferrid token").into_response();
    };
    let len = body.len();
    b.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers,
        body: body.clone(),
        token_jti: claims["jti"].as_str().map(str::to_owned),
    });
    ([("x-echo-len", len.to_string()), ("connection", "x-resp-hop".into()), ("x-resp-hop", "1".into())], body)
        .into_response()
}

async fn serve(router: Router) -> String {
    format!("http://{}", ferrid_testkit::fake::serve(router).await)
}

struct GatewayProc {
    _child: KillOnDrop,
    base: String,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl GatewayProc {
    /// Writes `config` to a file and starts `ferrid gateway --config FILE`; waits for the
    /// "listening on" line.
    fn start(config: &Value) -> GatewayProc {
        GatewayProc::start_with(config, &[])
    }

    /// As [`GatewayProc::start`], with more arguments.
    fn start_with(config: &Value, args: &[&str]) -> GatewayProc {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("krakend.json");
        std::fs::write(&path, serde_json::to_string_pretty(config).unwrap()).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferrid"))
            .args(["gateway", "--config"])
            .arg(&path)
            .args(args)
            .env("FERRID_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (err, sink) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("ferrid gateway listening on ")
            .unwrap_or_else(|| panic!("gateway did not start: {line:?}\n{}", stderr.lock().unwrap()));
        GatewayProc { base: format!("http://{addr}"), _child: KillOnDrop(child), stderr, _dir: dir }
    }

    fn stderr(&self) -> String {
        std::thread::sleep(Duration::from_millis(100));
        self.stderr.lock().unwrap().clone()
    }
}

struct Setup {
    ferrid: Ferrid,
    backend: Backend,
    gateway: GatewayProc,
    caller: (String, String),
    test_key: jsonwebtoken::EncodingKey,
    http: reqwest::Client,
}

fn cc(f: &Ferrid, (id, secret): &(String, String)) -> Value {
    json!({ "client_id": id, "client_secret": secret, "token_url": f.token_url(), "scopes": "orders:read" })
}

/// ferrid, the backend, a JWKS serving ferrid's keys plus a test key (to make expired
/// tokens ferrid would never issue), and the gateway.
async fn setup() -> Setup {
    let ferrid = Ferrid::start().await;
    let gw_client = ferrid.client("gateway", &[("orders", &["read"])]).await;
    let caller = ferrid.client("caller", &[("orders", &["read", "write"]), ("inventory", &["read"])]).await;
    let jwks = ferrid.jwks().await;
    let backend =
        Backend { jwks: serde_json::from_value(jwks.clone()).unwrap(), issuer: ferrid.issuer(), seen: Arc::default() };
    let backend_url = serve(Router::new().fallback(any(backend_call)).with_state(backend.clone())).await;

    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let test_key = jsonwebtoken::EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let mut test_jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&test_key, jsonwebtoken::Algorithm::ES256).unwrap(),
    )
    .unwrap();
    test_jwk["kid"] = json!("test-key");
    let mut merged = jwks.clone();
    merged["keys"].as_array_mut().unwrap().push(test_jwk);
    let jwks_url =
        format!("{}/jwks", serve(Router::new().route("/jwks", any(move || async move { axum::Json(merged) }))).await);

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let good = cc(&ferrid, &gw_client);
    let mut wrong = good.clone();
    wrong["client_secret"] = json!(SECRET_MARKER);
    let validator = json!({ "alg": "ES256", "jwk_url": jwks_url, "issuer": ferrid.issuer(), "audience": ["orders"],
        "scopes": ["orders:write"], "scopes_key": "scope", "scopes_matcher": "all", "cache": true, "cache_duration": 900,
        "propagate_claims": [["sub", "x-user"]] });
    let config = json!({
        "$schema": "https://www.krakend.io/schema/v2.7/krakend.json",
        "version": 3, "port": 0, "listen_ip": "127.0.0.1", "timeout": "3s", "host": [backend_url],
        "extra_config": { "telemetry/logging": { "level": "DEBUG" },
                          "ferrid/gateway": { "allow_unimplemented": ["qos/ratelimit/router"] } },
        "endpoints": [
            { "endpoint": "/api/orders/{id}", "method": "GET", "input_query_strings": ["expand", "x"],
              "extra_config": { "qos/ratelimit/router": { "max_rate": 1000 } },
              "backend": [{ "url_pattern": "/orders/{id}", "extra_config": { "auth/client-credentials": good } }] },
            { "endpoint": "/api/orders/{id}", "method": "POST", "input_headers": ["*"],
              "extra_config": { "qos/ratelimit/router": { "max_rate": 1000 } },
              "backend": [{ "url_pattern": "/orders/{id}/items", "method": "PUT", "extra_config": { "auth/client-credentials": good } }] },
            { "endpoint": "/protected/{id}", "extra_config": { "auth/validator": validator },
              "backend": [{ "url_pattern": "/orders/{id}", "extra_config": { "auth/client-credentials": good } }] },
            { "endpoint": "/down", "concurrent_calls": 1, "output_encoding": "no-op",
              "backend": [{ "host": [format!("http://{dead}")], "url_pattern": "/x", "extra_config": { "auth/client-credentials": good } }] },
            { "endpoint": "/badcreds",
              "backend": [{ "url_pattern": "/orders/1", "extra_config": { "auth/client-credentials": wrong } }] }
        ]
    });
    let gateway = GatewayProc::start(&config);
    Setup { ferrid, backend, gateway, caller, test_key, http: reqwest::Client::new() }
}

impl Setup {
    fn seen(&self) -> Vec<Seen> {
        self.backend.seen.lock().unwrap().clone()
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.gateway.base));
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxied_calls_carry_one_ferrid_token_that_the_backend_verifies() {
    let s = setup().await;
    let before = s.ferrid.tokens_issued().await;
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let (http, url) = (s.http.clone(), format!("{}/api/orders/{i}?expand=items&x=%20y", s.gateway.base));
            tokio::spawn(async move { http.get(url).send().await.unwrap().status() })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap(), 200);
    }
    assert_eq!(s.ferrid.tokens_issued().await - before, 1, "one token request for 40 calls");
    let seen = s.seen();
    assert_eq!(seen.len(), 40, "the backend verified every token");
    let jtis: HashSet<_> = seen.iter().map(|c| c.token_jti.clone().unwrap()).collect();
    assert_eq!(jtis.len(), 1);
    let uris: HashSet<_> = seen.iter().map(|c| c.uri.clone()).collect();
    assert!(uris.contains("/orders/7?expand=items&x=%20y"), "{uris:?}");
    assert!(seen.iter().all(|c| c.method == "GET" && c.headers["x-forwarded-for"] == "127.0.0.1"));
}

#[tokio::test]
async fn methods_bodies_and_end_to_end_headers_pass_hop_by_hop_headers_do_not() {
    let s = setup().await;
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let r = s
        .http
        .post(format!("{}/api/orders/7", s.gateway.base))
        .header("connection", "x-hop")
        .header("x-hop", "1")
        .header("keep-alive", "timeout=5")
        .header("x-kept", "yes")
        .header("authorization", "Bearer the-callers-own")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-echo-len"], "3000000");
    assert!(r.headers().get("x-resp-hop").is_none(), "the backend's Connection-named header is dropped");
    assert_eq!(r.bytes().await.unwrap(), body, "the body came back whole");
    let seen = s.seen().pop().unwrap();
    assert_eq!((seen.method.as_str(), seen.uri.as_str()), ("PUT", "/orders/7/items"));
    assert_eq!(seen.body.len(), body.len());
    assert_eq!(seen.headers["x-kept"], "yes");
    for hop in ["x-hop", "keep-alive"] {
        assert!(seen.headers.get(hop).is_none(), "{hop} reached the backend");
    }
    assert_ne!(seen.headers["authorization"], "Bearer the-callers-own", "the gateway's token replaces it");
}

#[tokio::test]
async fn a_jwt_protected_endpoint_refuses_missing_expired_wrong_audience_and_short_scope() {
    let s = setup().await;
    let t = ferrid_core::env::SystemClock::new().now() as u64;
    let check = |r: reqwest::Response, status: u16, error: Option<&'static str>| async move {
        assert_eq!(r.status(), status);
        let ch = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        match error {
            None => assert_eq!(ch, "Bearer"),
            Some(e) => assert!(ch.starts_with(&format!("Bearer error=\"{e}\"")), "{ch}"),
        }
        ch
    };
    check(s.get("/protected/1", None).await, 401, None).await;

    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("test-key".into());
    let claims = |exp: u64| json!({ "iss": s.ferrid.issuer(), "aud": "orders", "sub": "x", "scope": "orders:write", "exp": exp });
    let fresh = jsonwebtoken::encode(&h, &claims(t + 300), &s.test_key).unwrap();
    assert_eq!(s.get("/protected/1", Some(&fresh)).await.status(), 200, "the test key is trusted");
    let expired = jsonwebtoken::encode(&h, &claims(t - 120), &s.test_key).unwrap();
    let ch = check(s.get("/protected/1", Some(&expired)).await, 401, Some("invalid_token")).await;
    assert!(ch.contains("expired"));

    let inventory = s.ferrid.token(&s.caller, "inventory:read").await;
    let ch = check(s.get("/protected/1", Some(&inventory)).await, 401, Some("invalid_token")).await;
    assert!(ch.contains("audience"));

    let read_only = s.ferrid.token(&s.caller, "orders:read").await;
    let ch = check(s.get("/protected/1", Some(&read_only)).await, 403, Some("insufficient_scope")).await;
    assert!(ch.contains(r#"scope="orders:write""#));

    let n = s.seen().len();
    let write = s.ferrid.token(&s.caller, "orders:write").await;
    let r = s.get("/protected/5", Some(&write)).await;
    assert_eq!(r.status(), 200);
    let seen = s.seen();
    assert_eq!(seen.len(), n + 1, "refused calls never reached the backend");
    let last = seen.last().unwrap();
    assert_eq!(last.uri, "/orders/5");
    assert_eq!(last.headers["x-user"], "caller", "propagate_claims");
}

#[tokio::test]
async fn a_failing_backend_or_token_endpoint_is_502_with_no_secret() {
    let s = setup().await;
    for path in ["/down", "/badcreds"] {
        let r = s.get(path, None).await;
        assert_eq!(r.status(), 502, "{path}");
        let headers = format!("{:?}", r.headers());
        let body = r.text().await.unwrap();
        assert!(body.contains("bad_gateway"), "{body}");
        for leak in [SECRET_MARKER, s.caller.1.as_str(), "Bearer", "eyJ"] {
            assert!(!body.contains(leak) && !headers.contains(leak), "{path} leaks {leak}: {body}");
        }
    }
    let log = s.gateway.stderr();
    assert!(log.contains("invalid_client"), "the cause is logged: {log}");
    assert!(!log.contains(SECRET_MARKER), "the secret is not logged");
}

#[tokio::test]
async fn unknown_namespaces_and_settings_are_reported_once_by_name() {
    let s = setup().await;
    let log = s.gateway.stderr();
    assert_eq!(log.matches("telemetry/logging").count(), 1, "{log}");
    assert_eq!(log.matches("qos/ratelimit/router").count(), 1, "used twice, reported once: {log}");
    assert!(log.contains("occurrences=2"), "{log}");
    assert!(log.contains("endpoints[].concurrent_calls") && !log.contains("$schema"), "{log}");
    assert!(!log.contains("ferrid/gateway"), "ferrid's own namespace is understood: {log}");
}

#[test]
fn an_unimplemented_security_namespace_stops_the_start() {
    let config = json!({ "version": 3, "port": 0, "listen_ip": "127.0.0.1", "host": ["http://127.0.0.1:1"],
        "endpoints": [
            { "endpoint": "/open", "backend": [{ "url_pattern": "/o" }] },
            { "endpoint": "/limited/{id}", "extra_config": { "qos/ratelimit/router": { "max_rate": 10 } },
              "backend": [{ "url_pattern": "/l/{id}" }] }
        ] });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("krakend.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrid"))
        .args(["gateway", "--config"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clock = ferrid_core::env::SystemClock::new(); // real time: the gateway is another process
    while child.try_wait().unwrap().is_none() {
        if clock.monotonic() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gateway started with a security namespace it does not implement");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty(), "it started: {err}");
    assert!(err.contains("endpoint GET /limited/{id}") && err.contains("qos/ratelimit/router"), "{err}");
    assert!(err.contains("--allow-unimplemented"), "{err}");

    // allowed from the command line: it starts, and reports the namespace as ignored
    let gw = GatewayProc::start_with(&config, &["--allow-unimplemented", "qos/ratelimit/router"]);
    let log = gw.stderr();
    assert_eq!(log.matches("qos/ratelimit/router").count(), 1, "{log}");
}

fn ferrid_token(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrid")).arg("token").args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrid_token_prints_the_token_or_says_what_went_wrong() {
    let f = Ferrid::start().await;
    let (id, secret) = f.client("cli", &[("orders", &["read"]), ("inventory", &["read"])]).await;
    let url = f.token_url();
    let run = |extra: Vec<String>| {
        let mut a = vec!["--token-url".to_owned(), url.clone(), "--client-id".into(), id.clone()];
        a.extend(extra);
        tokio::task::spawn_blocking(move || ferrid_token(&a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let (code, out, err) =
        run(vec!["--client-secret".into(), secret.clone(), "--scope".into(), "orders:read".into()]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(f.jwks().await).unwrap();
    let token = out.trim();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["orders"]);
    v.set_issuer(&[f.issuer()]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v).expect("a ferrid token").claims;
    assert_eq!(claims["sub"], "cli");

    let (code, out, _) = run(vec![
        "--client-secret".into(),
        secret.clone(),
        "--auth".into(),
        "basic".into(),
        "--json".into(),
        "--param".into(),
        "resource=inventory".into(),
    ])
    .await
    .unwrap();
    assert_eq!(code, 0);
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "Bearer");

    // a refused client authentication is exit status 3 (docs/cli.md "Exit status")
    let (code, out, err) = run(vec!["--client-secret".into(), "wrong".into()]).await.unwrap();
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("wrong"), "the secret is not echoed: {err}");

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        ferrid_token(&["--token-url", &format!("http://{dead}/t"), "--client-id", "a", "--client-secret", "b"])
    })
    .await
    .unwrap();
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("unreachable"), "{err}");

    let (code, _, err) =
        run(vec!["--key".into(), "/nonexistent.pem".into(), "--alg".into(), "ES256".into()]).await.unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrid_token_introspects_and_revokes_a_ferrid_token() {
    let f = Ferrid::start().await;
    let creds = f.client("cli", &[("orders", &["read"])]).await;
    let token = f.token(&creds, "orders:read").await;
    let (id, secret) = creds.clone();
    let url = f.token_url();
    let run = move |extra: Vec<String>| {
        let mut a = vec!["--token-url".to_owned(), url.clone(), "--client-id".into(), id.clone()];
        a.extend(extra);
        tokio::task::spawn_blocking(move || ferrid_token(&a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let introspect = |secret: &str| {
        let args = vec!["--client-secret".into(), secret.to_owned(), "--introspect".into(), token.clone()];
        run(args)
    };
    let (code, out, err) = introspect(&secret).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((answer["active"].clone(), answer["client_id"].clone()), (json!(true), json!(creds.0)));
    assert_eq!(answer["scope"], "orders:read");

    let (code, out, err) = introspect("wrong").await.unwrap();
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(err.contains("introspection endpoint refused") && err.contains("invalid_client"), "{err}");
    assert!(!err.contains("wrong") && !err.contains(&token), "neither secret nor token is echoed: {err}");

    let revoke = vec![
        "--client-secret".into(),
        secret.clone(),
        "--revoke".into(),
        token.clone(),
        "--token-type-hint".into(),
        "access_token".into(),
    ];
    let (code, out, err) = run(revoke).await.unwrap();
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, out, _) = introspect(&secret).await.unwrap();
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!({ "active": false }));
}

/// A revocation endpoint answering as RFC 7009 §2.2 says: 400 `unsupported_token_type`
/// for tokens starting `odd-`, else 200 with an empty body; it records each form.
async fn revocation_endpoint() -> (String, Arc<Mutex<Vec<(bool, Value)>>>) {
    let seen: Arc<Mutex<Vec<(bool, Value)>>> = Arc::default();
    let handler = {
        let seen = seen.clone();
        move |headers: HeaderMap, axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
            let seen = seen.clone();
            async move {
                let odd = form.get("token").is_some_and(|t| t.starts_with("odd-"));
                seen.lock().unwrap().push((headers.contains_key("authorization"), json!(form)));
                if odd {
                    let body = json!({ "error": "unsupported_token_type" }).to_string();
                    (axum::http::StatusCode::BAD_REQUEST, [("content-type", "application/json")], body).into_response()
                } else {
                    axum::http::StatusCode::OK.into_response()
                }
            }
        }
    };
    (serve(Router::new().route("/as/oauth/revoke", axum::routing::post(handler))).await, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrid_token_revoke_prints_nothing_or_the_rfc7009_error() {
    let (base, seen) = revocation_endpoint().await;
    let token_url = format!("{base}/as/oauth/token");
    let run = move |args: Vec<String>| {
        tokio::task::spawn_blocking(move || ferrid_token(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let args = |extra: &[&str]| {
        let mut a: Vec<String> =
            ["--token-url", token_url.as_str(), "--client-id", "spa"].iter().map(|s| (*s).to_owned()).collect();
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    // a public client: client_id alone, no Authorization header; the hint is passed on
    let (code, out, err) = run(args(&["--revoke", "rt-1", "--token-type-hint", "refresh_token"])).await.unwrap();
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (basic, form) = seen.lock().unwrap()[0].clone();
    assert!(!basic);
    assert_eq!(form, json!({ "token": "rt-1", "token_type_hint": "refresh_token", "client_id": "spa" }));

    let (code, out, err) = run(args(&["--client-secret", "s", "--auth", "basic", "--revoke", "odd-1"])).await.unwrap();
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("revocation endpoint refused the request (HTTP 400): unsupported_token_type"), "{err}");
    assert!(seen.lock().unwrap()[1].0, "a confidential client authenticates with Basic");

    // the endpoint named outright; and a token URL that gives no endpoint to derive
    let elsewhere = format!("{base}/as/oauth/revoke");
    let mut a = vec!["--token-url".to_owned(), format!("{base}/issue"), "--client-id".into(), "spa".into()];
    a.extend(["--revoke".into(), "rt-2".into()]);
    let (code, _, err) = run(a.clone()).await.unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("--endpoint-url"), "{err}");
    a.extend(["--endpoint-url".into(), elsewhere]);
    assert_eq!(run(a).await.unwrap().0, 0);
    assert_eq!(seen.lock().unwrap().len(), 3);

    // the hint alone means nothing
    let (code, _, err) = run(args(&["--client-secret", "s", "--token-type-hint", "access_token"])).await.unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("--introspect or --revoke"), "{err}");
}
