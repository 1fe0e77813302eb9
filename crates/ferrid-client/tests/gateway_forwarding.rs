//! What of a client's request the gateway lets reach a backend: path parameters stay one
//! segment, only the listed headers and query parameters pass, propagated-claim headers
//! and the client's `Authorization` never come from the client, and security-bearing
//! namespaces the gateway does not implement stop the start. The gateway runs in-process
//! in front of a backend recording every call.

use std::sync::{Arc, Mutex};

use axum::{Router, http::HeaderMap, routing::any};
use ferrid_client::gateway::{Gateway, GatewayConfig, GatewayError};
use ferrid_oauth::jwt::SigningAlg;
use ferrid_testkit::fake::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One call as the backend saw it: path and query as sent, headers.
#[derive(Debug, Clone)]
struct Call {
    uri: String,
    headers: HeaderMap,
}

type Calls = Arc<Mutex<Vec<Call>>>;

async fn backend() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let c = calls.clone();
    let router = Router::new().fallback(any(move |req: axum::extract::Request| {
        let c = c.clone();
        async move {
            c.lock().unwrap().push(Call { uri: req.uri().to_string(), headers: req.headers().clone() });
            "ok"
        }
    }));
    (format!("http://{}", serve(router).await), calls)
}

/// Starts a gateway with `endpoints` in front of `host`; its base URL.
async fn gateway(host: &str, endpoints: Value) -> String {
    let cfg = json!({ "version": 3, "host": [host], "endpoints": endpoints });
    let gw = Gateway::new(GatewayConfig::from_json(&cfg.to_string()).unwrap()).unwrap();
    format!("http://{}", serve(gw.router()).await)
}

/// Sends `GET {target}` as written (no client-side URL normalisation, which would
/// resolve `..` and `%2E%2E` before they leave); the status code.
async fn raw_get(base: &str, target: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status: {out:?}"))
}

fn last(calls: &Calls) -> Call {
    calls.lock().unwrap().last().cloned().expect("the backend was called")
}

#[tokio::test]
async fn a_path_parameter_cannot_leave_its_segment() {
    let (host, calls) = backend().await;
    let base = gateway(
        &host,
        json!([{ "endpoint": "/api/orders/{id}", "input_query_strings": ["*"],
                 "backend": [{ "url_pattern": "/orders/{id}/items" }] }]),
    )
    .await;
    for (sent, reached) in [
        ("a%2F..%2F..%2Fadmin", "/orders/a%2F..%2F..%2Fadmin/items"),
        ("..%2Fadmin", "/orders/..%2Fadmin/items"),
        ("a%5C..%5Cadmin", "/orders/a%5C..%5Cadmin/items"),
        ("a%3Fadmin=1", "/orders/a%3Fadmin%3D1/items"),
        ("a%23frag", "/orders/a%23frag/items"),
        ("100%25", "/orders/100%25/items"),
        ("..%3B", "/orders/..%3B/items"),
        ("a%20b%26c", "/orders/a%20b%26c/items"),
        ("%C3%A9t%C3%A9", "/orders/%C3%A9t%C3%A9/items"),
        ("ok-1.2_~", "/orders/ok-1.2_~/items"),
    ] {
        assert_eq!(raw_get(&base, &format!("/api/orders/{sent}?q=1")).await, 200, "{sent}");
        assert_eq!(last(&calls).uri, format!("{reached}?q=1"), "{sent}");
    }
    let before = calls.lock().unwrap().len();
    for dots in ["..", ".", "%2E%2E", "%2e", ".%2E"] {
        let status = raw_get(&base, &format!("/api/orders/{dots}")).await;
        assert!(status == 400 || status == 404, "{dots}: {status}");
    }
    assert_eq!(calls.lock().unwrap().len(), before, "a dot-segment never reaches the backend");
}

#[tokio::test]
async fn a_propagated_claim_header_from_the_client_is_dropped() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let (host, calls) = backend().await;
    let validator = json!({ "alg": "ES256", "jwk_url": iss.jwks_url, "issuer": iss.issuer, "audience": ["api"],
        "propagate_claims": [["sub", "x-user"], ["tenant", "x-tenant"], ["roles", "x-roles"]] });
    let base = gateway(
        &host,
        json!([{ "endpoint": "/p", "input_headers": ["*"], "extra_config": { "auth/validator": validator },
                 "backend": [{ "url_pattern": "/p" }] },
               { "endpoint": "/listed", "input_headers": ["X-Tenant", "X-Roles", "Authorization"],
                 "extra_config": { "auth/validator": validator }, "backend": [{ "url_pattern": "/p" }] }]),
    )
    .await;
    let token = sign(&k, "at+jwt", &iss.claims()); // sub "svc", no tenant, no roles
    let http = reqwest::Client::new();
    for path in ["/p", "/listed"] {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .header("x-user", "admin")
            .header("x-tenant", "victim")
            .header("X-Roles", "admin")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = last(&calls).headers;
        assert_eq!(h.get_all("x-user").iter().collect::<Vec<_>>(), ["svc"], "{path}: from the token only");
        assert!(h.get("x-tenant").is_none(), "{path}: the claim is missing, the client's header is dropped");
        assert!(h.get("x-roles").is_none(), "{path}");
    }
}

#[tokio::test]
async fn only_listed_headers_and_query_strings_reach_the_backend() {
    let (host, calls) = backend().await;
    let base = gateway(
        &host,
        json!([
            { "endpoint": "/none", "method": "POST", "backend": [{ "url_pattern": "/b" }] },
            { "endpoint": "/listed", "method": "POST", "input_headers": ["X-Listed", "cookie"],
              "input_query_strings": ["page", "a b"], "backend": [{ "url_pattern": "/b?fixed=1" }] },
            { "endpoint": "/all", "method": "POST", "input_headers": ["*"], "input_query_strings": ["*"],
              "backend": [{ "url_pattern": "/b" }] }
        ]),
    )
    .await;
    let http = reqwest::Client::new();
    let send = |path: &str| {
        http.post(format!("{base}{path}?page=2&secret=1&Page=3&a+b=4&page=5"))
            .header("x-listed", "yes")
            .header("X-Other", "no")
            .header("cookie", "session=1")
            .header("x-forwarded-for", "10.9.9.9")
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };

    assert_eq!(send("/none").await.unwrap().status(), 200);
    let c = last(&calls);
    assert_eq!(c.uri, "/b", "no query string by default");
    for h in ["x-listed", "x-other", "cookie", "x-forwarded-for"] {
        assert!(c.headers.get(h).is_none(), "{h} passed by default");
    }
    assert_eq!(c.headers["content-type"], "application/json", "the body's own headers pass");
    assert_eq!(c.headers["x-forwarded-host"].to_str().unwrap(), base.trim_start_matches("http://"));

    assert_eq!(send("/listed").await.unwrap().status(), 200);
    let c = last(&calls);
    assert_eq!(c.uri, "/b?fixed=1&page=2&a+b=4&page=5", "listed names only, case-sensitive, as sent");
    assert_eq!(c.headers["x-listed"], "yes");
    assert_eq!(c.headers["cookie"], "session=1");
    assert!(c.headers.get("x-other").is_none() && c.headers.get("x-forwarded-for").is_none());

    assert_eq!(send("/all").await.unwrap().status(), 200);
    let c = last(&calls);
    assert_eq!(c.uri, "/b?page=2&secret=1&Page=3&a+b=4&page=5");
    assert_eq!((&c.headers["x-listed"], &c.headers["x-other"]), (&"yes".parse().unwrap(), &"no".parse().unwrap()));
    assert_eq!(c.headers["x-forwarded-for"], "10.9.9.9");
}

#[tokio::test]
async fn the_clients_authorization_never_reaches_a_backend_with_its_own_credentials() {
    let server = AuthServer::start(Flavor::Standard).await;
    let (host, calls) = backend().await;
    let cc = json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "token_url": server.token_url });
    let with_cc = |endpoint: &str, input: Value| {
        json!({ "endpoint": endpoint, "input_headers": input,
                "backend": [{ "url_pattern": "/b", "extra_config": { "auth/client-credentials": cc } }] })
    };
    let base = gateway(
        &host,
        json!([
            with_cc("/star", json!(["*"])),
            with_cc("/listed", json!(["Authorization"])),
            with_cc("/unlisted", json!([])),
            { "endpoint": "/own", "input_headers": ["Authorization"], "backend": [{ "url_pattern": "/b" }] },
            { "endpoint": "/plain", "backend": [{ "url_pattern": "/b" }] }
        ]),
    )
    .await;
    let call = async |path: &str| -> Vec<String> {
        let r = reqwest::Client::new().get(format!("{base}{path}")).header("authorization", "Bearer the-callers-own");
        assert_eq!(r.send().await.unwrap().status(), 200, "{path}");
        last(&calls).headers.get_all("authorization").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    };
    for path in ["/star", "/listed", "/unlisted"] {
        assert_eq!(call(path).await, ["Bearer tok-1"], "{path}: the gateway's token, alone");
    }
    assert_eq!(server.requests(), 1);
    assert_eq!(call("/own").await, ["Bearer the-callers-own"], "no credentials of its own and listed: forwarded");
    assert!(call("/plain").await.is_empty(), "not listed: not forwarded");
}

fn start(cfg: Value) -> Result<Gateway, GatewayError> {
    Gateway::new(GatewayConfig::from_json(&cfg.to_string()).unwrap())
}

#[test]
fn an_unimplemented_security_namespace_stops_the_start() {
    let ep = |ep_extra: Value, be_extra: Value| {
        json!({ "endpoint": "/orders/{id}", "method": "POST", "extra_config": ep_extra,
                "backend": [{ "host": "http://127.0.0.1:1", "url_pattern": "/o/{id}", "extra_config": be_extra }] })
    };
    let refused = [
        (
            json!({}),
            ep(json!({ "qos/ratelimit/router": { "max_rate": 10 } }), json!({})),
            "qos/ratelimit/router",
            "endpoint POST /orders/{id}",
        ),
        (json!({}), ep(json!({ "auth/basic": {} }), json!({})), "auth/basic", "endpoint POST /orders/{id}"),
        (json!({}), ep(json!({ "auth/api-keys": {} }), json!({})), "auth/api-keys", "endpoint POST /orders/{id}"),
        (json!({}), ep(json!({ "validation/cel": [] }), json!({})), "validation/cel", "endpoint POST /orders/{id}"),
        (
            json!({}),
            ep(json!({}), json!({ "qos/circuit-breaker": {} })),
            "qos/circuit-breaker",
            "endpoint POST /orders/{id}, backend",
        ),
        (
            json!({}),
            ep(json!({}), json!({ "auth/validator": { "jwk_url": "http://127.0.0.1:1/k" } })),
            "auth/validator",
            "endpoint POST /orders/{id}, backend",
        ),
        (
            json!({ "security/cors": { "allow_origins": ["*"] } }),
            ep(json!({}), json!({})),
            "security/cors",
            "top-level extra_config",
        ),
    ];
    for (top, endpoint, ns, place) in refused {
        let cfg = json!({ "version": 3, "extra_config": top, "endpoints": [endpoint] });
        let err = start(cfg.clone()).err().unwrap_or_else(|| panic!("{ns} was accepted")).to_string();
        assert!(err.starts_with(&format!("{place}: ")) && err.contains(ns), "{ns}: {err}");
        assert!(err.contains("--allow-unimplemented"), "says how to allow it: {err}");

        // allowed explicitly, in the file or from outside: reported, then ignored
        let mut allowed = cfg.clone();
        allowed["extra_config"]["ferrid/gateway"] = json!({ "allow_unimplemented": [ns] });
        let gw = start(allowed).unwrap_or_else(|e| panic!("{ns} allowed in the file: {e}"));
        assert_eq!(gw.report().ignored_namespaces.keys().collect::<Vec<_>>(), [ns]);
        let mut c = GatewayConfig::from_json(&cfg.to_string()).unwrap();
        c.allow_unimplemented.push(ns.to_owned());
        assert!(Gateway::new(c).is_ok(), "{ns} allowed from outside");
    }
    // non-security namespaces are still only reported
    let gw = start(json!({ "version": 3, "extra_config": { "telemetry/logging": {} },
        "endpoints": [ep(json!({ "modifier/lua-endpoint": {} }), json!({ "backend/http": {} }))] }))
    .unwrap();
    let names: Vec<_> = gw.report().ignored_namespaces.keys().cloned().collect();
    assert_eq!(names, ["backend/http", "modifier/lua-endpoint", "telemetry/logging"]);
}

#[test]
fn a_bad_input_header_name_or_a_url_pattern_without_a_leading_slash_stops_the_start() {
    let ep = |extra: Value| {
        let mut e =
            json!({ "endpoint": "/e/{id}", "backend": [{ "host": "http://127.0.0.1:1", "url_pattern": "/b/{id}" }] });
        e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "version": 3, "endpoints": [e] })
    };
    let err = start(ep(json!({ "input_headers": ["x ok"] }))).err().unwrap().to_string();
    assert!(err.starts_with("endpoint GET /e/{id}: input_headers"), "{err}");
    let bad = json!({ "backend": [{ "host": "http://127.0.0.1:1", "url_pattern": "{id}" }] });
    let err = start(ep(bad)).err().unwrap().to_string();
    assert!(err.contains("url_pattern must start with /"), "{err}");
    assert!(start(ep(json!({ "input_headers": ["X-A", "x-a", "*"], "input_query_strings": ["*"] }))).is_ok());
}

/// `verified_tokens` (docs/gateway.md) sizes the validator's memory of verified tokens:
/// 0 and the bound are taken, above the bound the start is refused naming the setting,
/// and an unknown value is never ignored in silence.
#[test]
fn verified_tokens_is_bounded_and_read() {
    let cfg = |n: Value| {
        json!({ "version": 3, "endpoints": [{ "endpoint": "/p",
            "extra_config": { "auth/validator": { "jwk_url": "http://127.0.0.1:1/k", "verified_tokens": n } },
            "backend": [{ "host": "http://127.0.0.1:1", "url_pattern": "/p" }] }] })
    };
    for ok in [json!(0), json!(10), json!(ferrid_client::gateway::config::MAX_VERIFIED_TOKENS)] {
        let gw = start(cfg(ok.clone())).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(gw.report().ignored_settings.is_empty(), "{ok}: {:?}", gw.report().ignored_settings);
    }
    let err = start(cfg(json!(ferrid_client::gateway::config::MAX_VERIFIED_TOKENS + 1))).err().unwrap().to_string();
    assert!(err.starts_with("endpoint GET /p: ") && err.contains("verified_tokens"), "{err}");
    let err = start(cfg(json!(-1))).err().unwrap().to_string();
    assert!(err.contains("auth/validator"), "{err}");
}
