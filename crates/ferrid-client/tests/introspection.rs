//! The validation layer with introspection (RFC 7662) against a fake introspection
//! endpoint that counts its calls.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderMap, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ferrid_client::{
    token::{AuthStyle, ClientCredentialsConfig, default_http_client},
    validate::{
        Algorithm, Claims, Introspect, IntrospectionConfig, KeySource, ValidateLayer, ValidationError, Validator,
        ValidatorConfig,
    },
};
use ferrid_oauth::jwt::SigningAlg;
use ferrid_testkit::{eventually, fake::*};
use serde_json::{Value, json};
use tower::ServiceExt;

const RS_ID: &str = "resource-server";
const RS_SECRET: &str = "rs-s3cret";

/// The fake endpoint: answers by token (unknown → inactive), counts calls.
#[derive(Clone, Default)]
struct Endpoint {
    url: String,
    calls: Arc<AtomicUsize>,
    answers: Arc<Mutex<HashMap<String, Value>>>,
    failing: Arc<AtomicBool>,
    slow: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Endpoint {
    async fn start() -> Endpoint {
        let mut e = Endpoint::default();
        let addr = serve(Router::new().route("/introspect", post(introspect)).with_state(e.clone())).await;
        e.url = format!("http://{addr}/introspect");
        e
    }

    fn answer(&self, token: &str, answer: Value) {
        self.answers.lock().unwrap().insert(token.to_owned(), answer);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn introspect(State(e): State<Endpoint>, headers: HeaderMap, body: String) -> Response {
    e.calls.fetch_add(1, Ordering::SeqCst);
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| ferrid_oauth::basic::parse_basic(v).ok())
        .map(|c| (c.client_id, c.secret));
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let seen = Seen { basic: basic.clone(), form };
    e.seen.lock().unwrap().push(seen.clone());
    if e.slow.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if e.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    let in_body = seen.param("client_id").zip(seen.param("client_secret")).map(|(a, b)| (a.to_owned(), b.to_owned()));
    if basic.or(in_body) != Some((RS_ID.to_owned(), RS_SECRET.to_owned())) {
        let body = json!({ "error": "invalid_client" }).to_string();
        return (StatusCode::UNAUTHORIZED, [("content-type", "application/json")], body).into_response();
    }
    let token = seen.param("token").unwrap_or_default();
    let answer = e.answers.lock().unwrap().get(token).cloned().unwrap_or(json!({ "active": false }));
    axum::Json(answer).into_response()
}

fn rs_client() -> ClientCredentialsConfig {
    ClientCredentialsConfig::new(RS_ID, RS_SECRET, "http://127.0.0.1:1/oauth/token")
}

/// `Instead` over a key source that is never fetched, no algorithms.
fn instead(e: &Endpoint, iss: &Issuer) -> ValidatorConfig {
    let mut c = ValidatorConfig::new(KeySource::JwksUrl(iss.jwks_url.clone()), vec![]);
    c.issuer = Some(iss.issuer.clone());
    c.audiences = vec!["api".into()];
    c.leeway = Duration::from_secs(5);
    c.introspection = Some(IntrospectionConfig::new(Introspect::Instead, e.url.clone(), rs_client()));
    c
}

fn validator(c: ValidatorConfig) -> Validator {
    Validator::new(c, default_http_client().unwrap()).unwrap()
}

/// An active answer in the shape of ferrid's, for `iss`.
fn active(iss: &Issuer) -> Value {
    let t = now();
    json!({ "active": true, "scope": "api:read", "client_id": "svc", "sub": "svc", "aud": "api",
        "iss": iss.issuer, "exp": t + 300, "iat": t, "nbf": t, "jti": "j1", "token_type": "Bearer" })
}

fn reason(r: Result<Claims, ValidationError>) -> String {
    match r {
        Err(ValidationError::InvalidToken(d)) => d,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

async fn call(app: Router, token: &str) -> (u16, HeaderMap, String) {
    let req = Request::get("/me").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

async fn me(claims: Claims) -> String {
    format!("{} {}", claims.sub().unwrap_or_default(), claims.get("client_id").and_then(Value::as_str).unwrap_or("-"))
}

#[tokio::test]
async fn instead_an_active_token_passes_with_the_answer_as_claims_and_an_inactive_one_is_401() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    e.answer("opaque-1", active(&iss));
    let app = Router::new().route("/me", get(me)).layer(ValidateLayer::new(validator(instead(&e, &iss))));
    assert_eq!(call(app.clone(), "opaque-1").await.0, 200);
    assert_eq!(call(app.clone(), "opaque-1").await.2, "svc svc");
    let (status, headers, body) = call(app, "opaque-2").await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("not active"));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "invalid_token");
    // the request was RFC 7662 §2.1, authenticated with Basic; no key was ever fetched
    let seen = e.seen.lock().unwrap().clone();
    assert_eq!(seen[0].basic, Some((RS_ID.to_owned(), RS_SECRET.to_owned())));
    assert_eq!(seen[0].param("token"), Some("opaque-1"));
    assert_eq!(iss.jwks_requests(), 0);
}

#[tokio::test]
async fn instead_checks_issuer_audience_times_and_scope_against_the_answer() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    let mut c = instead(&e, &iss);
    c.scopes = vec!["api:write".into()];
    let v = validator(c);
    let t = now();
    let with = |k: &str, val: Value| {
        let mut a = active(&iss);
        if val.is_null() {
            a.as_object_mut().unwrap().remove(k);
        } else {
            a[k] = val;
        }
        a["scope"] = json!("api:write");
        a
    };
    let cases = [
        ("another issuer", with("iss", json!("http://evil.example")), "issuer"),
        ("no issuer", with("iss", Value::Null), "issuer"),
        ("another audience", with("aud", json!(["x", "y"])), "audience"),
        ("no audience", with("aud", Value::Null), "audience"),
        ("expired beyond the leeway", with("exp", json!(t - 10)), "expired"),
        ("not valid yet", with("nbf", json!(t + 60)), "not valid yet"),
        ("active but false", with("active", json!(false)), "not active"),
    ];
    for (i, (what, answer, says)) in cases.into_iter().enumerate() {
        e.answer(&format!("t{i}"), answer);
        let d = reason(v.validate(&format!("t{i}")).await);
        assert!(d.contains(says), "{what}: {d}");
    }
    // an answer that is not RFC 7662 (active not a boolean) is the endpoint's failure
    e.answer("odd", with("active", json!("true")));
    assert!(matches!(v.validate("odd").await, Err(ValidationError::IntrospectionUnavailable(_))));
    e.answer("list-aud", with("aud", json!(["x", "api"])));
    assert_eq!(v.validate("list-aud").await.unwrap().sub(), Some("svc"));
    e.answer("short", active(&iss));
    let err = v.validate("short").await.unwrap_err();
    assert_eq!(err, ValidationError::InsufficientScope { scope: "api:write".into() });
}

#[tokio::test]
async fn two_requests_within_the_ttl_make_one_call_and_a_later_one_asks_again() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    e.answer("opaque", active(&iss));
    let mut c = instead(&e, &iss);
    c.introspection.as_mut().unwrap().cache_ttl = Duration::from_millis(1500);
    let v = validator(c);
    v.validate("opaque").await.unwrap();
    v.validate("opaque").await.unwrap();
    assert_eq!(e.calls(), 1);
    // another token is another entry
    e.answer("other", active(&iss));
    v.validate("other").await.unwrap();
    assert_eq!(e.calls(), 2);
    assert!(eventually(|| async { v.validate("opaque").await.is_ok() && e.calls() == 3 }).await);
}

#[tokio::test]
async fn the_cache_never_outlives_the_tokens_exp() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    let mut answer = active(&iss);
    answer["exp"] = json!(now() + 2);
    e.answer("brief", answer);
    let mut c = instead(&e, &iss);
    c.introspection.as_mut().unwrap().cache_ttl = Duration::from_secs(3600);
    let v = validator(c);
    v.validate("brief").await.unwrap();
    v.validate("brief").await.unwrap();
    assert_eq!(e.calls(), 1);
    // an hour of TTL, yet the answer is asked for again once the token's exp has passed
    assert!(eventually(|| async { v.validate("brief").await.is_ok() && e.calls() == 2 }).await);
}

#[tokio::test]
async fn after_a_revoked_token_is_refused_once_the_ttl_has_passed() {
    let k = key(SigningAlg::ES256);
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![k.clone()]).await);
    let jwt = sign(&k, "at+jwt", &iss.claims());
    e.answer(&jwt, active(&iss));
    let mut c = ValidatorConfig::new(KeySource::JwksUrl(iss.jwks_url.clone()), vec![Algorithm::ES256]);
    c.issuer = Some(iss.issuer.clone());
    let mut i = IntrospectionConfig::new(Introspect::After, e.url.clone(), rs_client());
    i.cache_ttl = Duration::from_millis(500);
    c.introspection = Some(i);
    let v = validator(c);
    // the claims are the JWT's
    assert_eq!(v.validate(&jwt).await.unwrap().get("scope"), Some(&json!("api:read")));
    assert_eq!((e.calls(), iss.jwks_requests()), (1, 1));
    // the issuer revokes it: refused as soon as the cached answer ends
    e.answer(&jwt, json!({ "active": false }));
    assert!(eventually(|| async { v.validate(&jwt).await.is_err() }).await);
    assert!(reason(v.validate(&jwt).await).contains("not active"));
    // a token failing the local checks is not introspected at all
    let calls = e.calls();
    let expired = sign(&k, "at+jwt", &json!({ "iss": iss.issuer, "exp": now() - 100 }));
    assert!(reason(v.validate(&expired).await).contains("expired"));
    assert!(reason(v.validate("not-a-jwt").await).contains("not a signed JWT"));
    assert_eq!(e.calls(), calls);
}

#[tokio::test]
async fn an_endpoint_that_fails_or_cannot_be_reached_refuses_with_503() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    e.answer("opaque", active(&iss));
    let app = |c: ValidatorConfig| Router::new().route("/me", get(me)).layer(ValidateLayer::new(validator(c)));
    // 5xx
    e.failing.store(true, Ordering::SeqCst);
    let failing = app(instead(&e, &iss));
    let (status, headers, body) = call(failing.clone(), "opaque").await;
    assert_eq!((status, headers["retry-after"].to_str().unwrap()), (503, "10"));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "temporarily_unavailable");
    assert!(!body.contains("opaque"));
    // failures are not cached: once the endpoint is back, the token passes
    e.failing.store(false, Ordering::SeqCst);
    assert_eq!(call(failing, "opaque").await.0, 200);
    // nothing listening
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut c = instead(&e, &iss);
    c.introspection.as_mut().unwrap().url = format!("http://{dead}/introspect");
    assert_eq!(call(app(c), "opaque").await.0, 503);
    // the endpoint refuses the resource server's own credentials: not the caller's fault
    let mut c = instead(&e, &iss);
    c.introspection.as_mut().unwrap().client = ClientCredentialsConfig::new(RS_ID, "wrong", "http://127.0.0.1:1/t");
    let v = validator(c);
    assert!(matches!(v.validate("opaque").await, Err(ValidationError::IntrospectionUnavailable(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_token_share_one_call_and_its_outcome() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    e.answer("opaque", active(&iss));
    e.slow.store(true, Ordering::SeqCst);
    let v = validator(instead(&e, &iss));
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let v = v.clone();
            tokio::spawn(async move { v.validate("opaque").await })
        })
        .collect();
    for c in callers {
        c.await.unwrap().unwrap();
    }
    assert_eq!(e.calls(), 1);
    // a failing call's waiters share its failure rather than queueing calls of their own
    e.failing.store(true, Ordering::SeqCst);
    e.answer("other", active(&iss));
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let v = v.clone();
            tokio::spawn(async move { v.validate("other").await })
        })
        .collect();
    for c in callers {
        assert!(matches!(c.await.unwrap(), Err(ValidationError::IntrospectionUnavailable(_))));
    }
    assert_eq!(e.calls(), 2);
}

#[tokio::test]
async fn the_resource_server_can_authenticate_in_the_body() {
    let (e, iss) = (Endpoint::start().await, Issuer::start(vec![]).await);
    e.answer("opaque", active(&iss));
    let mut c = instead(&e, &iss);
    c.introspection.as_mut().unwrap().client.auth = AuthStyle::Post;
    validator(c).validate("opaque").await.unwrap();
    let seen = e.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.basic, None);
    assert_eq!((seen.param("client_id"), seen.param("client_secret")), (Some(RS_ID), Some(RS_SECRET)));
}

#[test]
fn instead_needs_no_algorithm_but_local_validation_does() {
    let url = "http://127.0.0.1:1/introspect";
    let mut c = ValidatorConfig::new(KeySource::JwksUrl("http://127.0.0.1:1/jwks".into()), vec![]);
    c.introspection = Some(IntrospectionConfig::new(Introspect::After, url, rs_client()));
    assert!(Validator::new(c.clone(), default_http_client().unwrap()).is_err());
    c.introspection.as_mut().unwrap().mode = Introspect::Instead;
    assert!(Validator::new(c.clone(), default_http_client().unwrap()).is_ok());
    c.introspection.as_mut().unwrap().url = "not a url".into();
    assert!(Validator::new(c, default_http_client().unwrap()).is_err());
}
