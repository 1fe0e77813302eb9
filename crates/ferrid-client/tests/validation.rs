//! The validator, the tower layer and the extractor against a test issuer.

use std::time::Duration;

use axum::{Extension, Router, body::Body, http::Request, routing::get};
use ferrid_client::{
    token::default_http_client,
    validate::{
        Algorithm, Claims, JwksCache, KeySource, ScopeMatch, ValidateLayer, ValidationError, Validator, ValidatorConfig,
    },
};
use ferrid_oauth::{b64, jwt::SigningAlg};
use ferrid_testkit::fake::*;
use serde_json::{Value, json};
use tower::ServiceExt;

fn config(iss: &Issuer) -> ValidatorConfig {
    let mut c = ValidatorConfig::new(KeySource::JwksUrl(iss.jwks_url.clone()), vec![Algorithm::ES256]);
    c.issuer = Some(iss.issuer.clone());
    c.audiences = vec!["other".into(), "api".into()];
    c.leeway = Duration::from_secs(5);
    c.refetch_interval = Duration::from_millis(300);
    c
}

fn validator(c: ValidatorConfig) -> Validator {
    Validator::new(c, default_http_client().unwrap()).unwrap()
}

fn with(mut claims: Value, k: &str, v: Value) -> Value {
    if v.is_null() {
        claims.as_object_mut().unwrap().remove(k);
    } else {
        claims[k] = v;
    }
    claims
}

fn invalid(r: Result<Claims, ValidationError>) -> String {
    match r {
        Err(ValidationError::InvalidToken(d)) => d,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_token_passes_and_its_claims_come_back() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let v = validator(config(&iss));
    let c = v.validate(&sign(&k, "at+jwt", &iss.claims())).await.unwrap();
    assert_eq!(c.sub(), Some("svc"));
    assert_eq!(c.iss(), Some(iss.issuer.as_str()));
    assert_eq!(c.words("scope"), ["api:read"]);
    // keys are cached: many validations, one JWKS request
    for _ in 0..20 {
        v.validate(&sign(&k, "at+jwt", &iss.claims())).await.unwrap();
    }
    assert_eq!(iss.jwks_requests(), 1);
}

#[tokio::test]
async fn each_claim_check_refuses_with_invalid_token() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let v = validator(config(&iss));
    let t = now();
    let base = iss.claims();
    let cases = [
        ("expired beyond the leeway", with(base.clone(), "exp", json!(t - 10)), "expired"),
        ("not valid yet beyond the leeway", with(base.clone(), "nbf", json!(t + 60)), "not valid yet"),
        ("another issuer", with(base.clone(), "iss", json!("http://evil.example")), "issuer"),
        ("another audience", with(base.clone(), "aud", json!("nope")), "audience"),
        ("no audience", with(base.clone(), "aud", Value::Null), "required claim"),
        ("no exp", with(base.clone(), "exp", Value::Null), "required claim"),
    ];
    for (what, claims, says) in cases {
        let d = invalid(v.validate(&sign(&k, "at+jwt", &claims)).await);
        assert!(d.contains(says), "{what}: {d}");
    }
    // within the leeway is fine; an audience list naming one accepted audience is fine
    v.validate(&sign(&k, "at+jwt", &with(base.clone(), "exp", json!(t - 2)))).await.unwrap();
    v.validate(&sign(&k, "at+jwt", &with(base.clone(), "aud", json!(["x", "api"])))).await.unwrap();
}

#[tokio::test]
async fn the_algorithm_comes_from_the_configuration_never_from_the_token() {
    let es = key(SigningAlg::ES256);
    let rs = key(SigningAlg::RS256);
    let iss = Issuer::start(vec![es.clone(), rs.clone()]).await;
    let v = validator(config(&iss));
    // a genuine RS256 token from a published key: RS256 is not configured
    assert!(invalid(v.validate(&sign(&rs, "at+jwt", &iss.claims())).await).contains("algorithm"));
    // alg none, and HS256 "signed" with the public key as the secret (key confusion)
    let payload = b64::encode(iss.claims().to_string().as_bytes());
    let none = format!("{}.{payload}.", b64::encode(br#"{"alg":"none","typ":"JWT"}"#));
    assert!(matches!(v.validate(&none).await, Err(ValidationError::InvalidToken(_))));
    let hs_header = json!({ "alg": "HS256", "kid": es.kid() });
    let hs = jsonwebtoken::encode(
        &serde_json::from_value(hs_header).unwrap(),
        &iss.claims(),
        &jsonwebtoken::EncodingKey::from_secret(serde_json::to_string(es.public_jwk()).unwrap().as_bytes()),
    )
    .unwrap();
    assert!(invalid(v.validate(&hs).await).contains("algorithm"));
    // a configuration asking for HS256 is refused outright
    let mut c = config(&iss);
    c.algorithms = vec![Algorithm::HS256];
    assert!(Validator::new(c, default_http_client().unwrap()).is_err());
    // a tampered payload fails the signature
    let good = sign(&es, "at+jwt", &iss.claims());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64::encode(with(iss.claims(), "sub", json!("admin")).to_string().as_bytes());
    assert!(invalid(v.validate(&parts.join(".")).await).contains("signature"));
}

#[tokio::test]
async fn typ_is_checked_when_configured() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let mut c = config(&iss);
    c.typ = Some("at+jwt".into());
    let v = validator(c);
    v.validate(&sign(&k, "at+jwt", &iss.claims())).await.unwrap();
    v.validate(&sign(&k, "application/AT+JWT", &iss.claims())).await.unwrap();
    assert!(invalid(v.validate(&sign(&k, "JWT", &iss.claims())).await).contains("typ"));
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_at_most_once_per_interval() {
    let old = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![old.clone()]).await;
    let v = validator(config(&iss));
    v.validate(&sign(&old, "at+jwt", &iss.claims())).await.unwrap();
    assert_eq!(iss.jwks_requests(), 1);
    // the issuer rotates: a token with the new kid causes one refetch
    tokio::time::sleep(Duration::from_millis(350)).await;
    let new = key(SigningAlg::ES256);
    iss.publish(new.clone());
    v.validate(&sign(&new, "at+jwt", &iss.claims())).await.unwrap();
    assert_eq!(iss.jwks_requests(), 2);
    // tokens naming keys nobody published: at most one more request in the interval
    let stranger = key(SigningAlg::ES256);
    let start = ferrid_client::env::now();
    for _ in 0..50 {
        assert!(invalid(v.validate(&sign(&stranger, "at+jwt", &iss.claims())).await).contains("unknown"));
    }
    // one refetch, plus one per further 300 ms should this machine be slow
    let allowed = 3 + (start.elapsed().as_millis() / 300) as usize;
    assert!(iss.jwks_requests() <= allowed, "{} JWKS requests", iss.jwks_requests());
    // and known keys keep working meanwhile
    v.validate(&sign(&old, "at+jwt", &iss.claims())).await.unwrap();
}

#[tokio::test]
async fn a_key_is_parsed_once_per_jwks_fetch() {
    let old = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![old.clone()]).await;
    let mut c = config(&iss);
    c.verified_cache_size = 0;
    c.refetch_interval = Duration::ZERO;
    let http = default_http_client().unwrap();
    let cache = JwksCache::new(http, c.keys.clone(), c.cache_duration, c.refetch_interval);
    let v = Validator::with_cache(c, cache.clone()).unwrap();
    for n in 0..30 {
        let claims = with(iss.claims(), "jti", json!(n));
        v.validate(&sign(&old, "at+jwt", &claims)).await.unwrap();
    }
    assert_eq!((cache.parsed_keys(), v.signatures_checked(), iss.jwks_requests()), (1, 30, 1));
    // a rotation: the refetched set has two keys, each parsed once more
    let new = key(SigningAlg::ES256);
    iss.publish(new.clone());
    for _ in 0..10 {
        v.validate(&sign(&new, "at+jwt", &iss.claims())).await.unwrap();
        v.validate(&sign(&old, "at+jwt", &iss.claims())).await.unwrap();
    }
    assert_eq!((cache.parsed_keys(), iss.jwks_requests()), (3, 2));
}

#[tokio::test]
async fn every_track_algorithm_validates_and_only_when_configured() {
    let keys: Vec<_> = SigningAlg::ALL.into_iter().map(key).collect();
    let iss = Issuer::start(keys.clone()).await;
    for k in &keys {
        let alg: Algorithm = k.alg().as_str().parse().unwrap();
        let mut c = config(&iss);
        c.algorithms = vec![alg];
        let v = validator(c);
        let good = sign(k, "at+jwt", &iss.claims());
        assert_eq!(v.validate(&good).await.unwrap().sub(), Some("svc"), "{alg:?}");
        // a validator of another algorithm refuses it, whatever keys it holds
        let mut others = config(&iss);
        others.algorithms =
            SigningAlg::ALL.into_iter().filter(|a| *a != k.alg()).map(|a| a.as_str().parse().unwrap()).collect();
        assert!(invalid(validator(others).validate(&good).await).contains("algorithm"), "{alg:?}");
    }
}

#[tokio::test]
async fn keys_can_come_from_discovery_and_its_issuer_is_then_required() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let mut c = ValidatorConfig::new(KeySource::Discovery(iss.issuer.clone()), vec![Algorithm::ES256]);
    c.audiences = vec!["api".into()];
    let v = validator(c);
    assert_eq!(v.config().issuer.as_deref(), Some(iss.issuer.as_str()));
    v.validate(&sign(&k, "at+jwt", &iss.claims())).await.unwrap();
    let other = with(iss.claims(), "iss", json!("http://elsewhere"));
    assert!(invalid(v.validate(&sign(&k, "at+jwt", &other)).await).contains("issuer"));
}

#[tokio::test]
async fn unreachable_keys_are_503_not_the_clients_fault() {
    let k = key(SigningAlg::ES256);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    drop(listener);
    let v = validator(ValidatorConfig::new(KeySource::JwksUrl(url), vec![Algorithm::ES256]));
    let e = v.validate(&sign(&k, "at+jwt", &json!({ "exp": now() + 60 }))).await.unwrap_err();
    assert!(matches!(e, ValidationError::KeysUnavailable(_)), "{e:?}");
    assert_eq!(e.status(), 503);
}

#[tokio::test]
async fn scopes_any_or_all_and_roles() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let token = |scope: &str, roles: Value| {
        let c = with(with(iss.claims(), "scope", json!(scope)), "realm_access", json!({ "roles": roles }));
        sign(&k, "at+jwt", &c)
    };
    let mut any = config(&iss);
    any.scopes = vec!["api:read".into(), "api:write".into()];
    let mut all = any.clone();
    all.scopes_match = ScopeMatch::All;
    let (any, all) = (validator(any), validator(all));
    any.validate(&token("api:read", json!([]))).await.unwrap();
    let e = all.validate(&token("api:read", json!([]))).await.unwrap_err();
    assert_eq!(e, ValidationError::InsufficientScope { scope: "api:read api:write".into() });
    all.validate(&token("api:write x api:read", json!([]))).await.unwrap();
    assert!(matches!(any.validate(&token("other", json!([]))).await, Err(ValidationError::InsufficientScope { .. })));
    let mut roles = config(&iss);
    roles.roles = vec!["admin".into(), "ops".into()];
    roles.roles_key = "realm_access.roles".into();
    let roles = validator(roles);
    roles.validate(&token("", json!(["user", "ops"]))).await.unwrap();
    assert_eq!(roles.validate(&token("", json!(["user"]))).await.unwrap_err(), ValidationError::MissingRole);
}

async fn call(app: Router, auth: Option<&str>) -> (u16, Option<String>, String) {
    let mut req = Request::get("/me");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

async fn me(claims: Claims) -> String {
    claims.sub().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_layer_answers_rfc6750_and_hands_claims_to_the_handler() {
    let k = key(SigningAlg::ES256);
    let iss = Issuer::start(vec![k.clone()]).await;
    let mut c = config(&iss);
    c.scopes = vec!["api:write".into()];
    let v = validator(c);
    let layered = Router::new().route("/me", get(me)).layer(ValidateLayer::new(v.clone()));
    let extension = Router::new().route("/me", get(me)).layer(Extension(v.clone()));
    for app in [layered, extension] {
        let (s, ch, body) = call(app.clone(), None).await;
        assert_eq!((s, ch.as_deref(), body.as_str()), (401, Some("Bearer"), ""));
        let (s, ch, body) = call(app.clone(), Some("Bearer not.a.jwt")).await;
        assert_eq!(s, 401);
        assert!(ch.unwrap().starts_with(r#"Bearer error="invalid_token""#));
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "invalid_token");
        let expired = sign(&k, "at+jwt", &with(iss.claims(), "exp", json!(now() - 100)));
        let (s, ch, _) = call(app.clone(), Some(&format!("Bearer {expired}"))).await;
        assert_eq!(s, 401);
        assert!(ch.unwrap().contains("expired"));
        let (s, ch, body) = call(app.clone(), Some(&format!("Bearer {}", sign(&k, "at+jwt", &iss.claims())))).await;
        assert_eq!(s, 403);
        assert_eq!(
            ch.unwrap(),
            r#"Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="api:write""#
        );
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "insufficient_scope");
        let good = sign(&k, "at+jwt", &with(iss.claims(), "scope", json!("api:write")));
        assert_eq!(call(app, Some(&format!("bearer {good}"))).await, (200, None, "svc".into()));
    }
    // the extractor without layer or extension is a server error, not an open door
    let bare = Router::new().route("/me", get(me));
    assert_eq!(call(bare, Some("Bearer x")).await.0, 500);
}
