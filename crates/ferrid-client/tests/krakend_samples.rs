//! KrakenD's two `auth/client-credentials` samples, parsed unchanged and run in the
//! gateway in-process against the test token endpoints (basic, and Auth0-like).

use std::sync::{Arc, Mutex};

use axum::{Router, http::HeaderMap, routing::any};
use ferrid_client::gateway::{EndpointConfig, Gateway, GatewayConfig};
use ferrid_testkit::fake::*;
use serde_json::{Value, json};

const BASIC: &str = include_str!("fixtures/client-credentials-basic.json");
const AUTH0: &str = include_str!("fixtures/client-credentials-auth0.json");

/// A backend recording the Authorization header of each call.
async fn backend() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let s = seen.clone();
    let router = Router::new().fallback(any(move |h: HeaderMap| {
        let s = s.clone();
        async move {
            s.lock().unwrap().push(h.get("authorization").map(|v| v.to_str().unwrap().to_owned()));
            "ok"
        }
    }));
    (format!("http://{}", serve(router).await), seen)
}

/// Starts a token endpoint of `flavor` holding the samples' placeholder credentials,
/// serves `sample` (its token URL pointed there) and calls it `calls` times: every call
/// reaches the backend with the one token.
async fn run(sample: &str, token_url_in_sample: &str, flavor: Flavor, calls: usize) -> (Gateway, AuthServer) {
    let server = AuthServer::start(flavor).await;
    server.set(|b| {
        b.client_id = "YOUR-CLIENT-ID".into();
        b.secret = "YOUR-CLIENT-SECRET".into();
    });
    let (host, seen) = backend().await;
    let endpoint: Value = serde_json::from_str(&sample.replace(token_url_in_sample, &server.token_url)).unwrap();
    let cfg = json!({ "version": 3, "port": 0, "listen_ip": "127.0.0.1", "host": [host], "endpoints": [endpoint] });
    let gw = Gateway::new(GatewayConfig::from_json(&cfg.to_string()).unwrap()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/endpoint", listener.local_addr().unwrap());
    let router = gw.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::new();
    for _ in 0..calls {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, vec![Some("Bearer tok-1".to_owned()); calls]);
    (gw, server)
}

#[test]
fn both_samples_parse_unchanged() {
    for sample in [BASIC, AUTH0] {
        let ep: EndpointConfig = serde_json::from_str(sample).unwrap();
        assert_eq!(ep.endpoint, "/endpoint");
        assert!(ep.backend[0].extra_config.contains_key("auth/client-credentials"));
        assert!(ep.unknown.is_empty() && ep.backend[0].unknown.is_empty());
    }
}

#[tokio::test]
async fn the_basic_sample_runs_one_token_for_many_calls() {
    let (gw, server) =
        run(BASIC, "https://your.custom.identity.service.tld/token_endpoint", Flavor::Standard, 10).await;
    assert_eq!(server.requests(), 1);
    let req = &server.seen()[0];
    assert_eq!(req.basic.as_ref().map(|b| b.0.as_str()), Some("YOUR-CLIENT-ID"));
    assert_eq!(req.param("audience"), Some("YOUR-AUDIENCE"));
    assert!(gw.report().ignored_namespaces.is_empty());
}

#[tokio::test]
async fn the_auth0_sample_runs_with_the_credentials_in_the_body_and_reports_martian() {
    let (gw, server) = run(AUTH0, "https://custom.auth0.tld/token_endpoint", Flavor::Auth0, 10).await;
    assert_eq!(server.requests(), 1, "straight to the body: the params carry the secret");
    let req = &server.seen()[0];
    assert!(req.basic.is_none());
    assert_eq!(req.form.iter().filter(|(k, _)| k == "client_secret").count(), 1, "not sent twice");
    assert_eq!(req.param("audience"), Some("YOUR-AUDIENCE"));
    assert_eq!(gw.report().ignored_namespaces.keys().collect::<Vec<_>>(), ["modifier/martian"]);
}
