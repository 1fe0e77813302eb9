//! The validator against a small issuer of its own, with wall time given to each call.

use std::sync::Mutex;

use axum::{Json, Router, extract::State, routing::get};
use ferrid_oauth::jwt::{SigningAlg, SigningKey, jwks_of};
use serde_json::json;

use super::*;

type Published = Arc<Mutex<Vec<Arc<SigningKey>>>>;

/// A JWKS endpoint serving `published`, and its URL.
async fn issuer(published: Published) -> String {
    async fn jwks(State(p): State<Published>) -> Json<ferrid_oauth::jwk::Jwks> {
        let keys = p.lock().unwrap().clone();
        Json(jwks_of(keys.iter().map(|k| k.as_ref())))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let router = Router::new().route("/jwks", get(jwks)).with_state(published);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn key() -> Arc<SigningKey> {
    Arc::new(
        SigningKey::from_pkcs8(SigningAlg::ES256, &SigningKey::generate_pkcs8(SigningAlg::ES256).unwrap()).unwrap(),
    )
}

const T: u64 = 1_900_000_000;

fn token(k: &SigningKey, exp: u64, scope: &str) -> String {
    let claims = json!({ "iss": "https://iss", "aud": "api", "sub": "svc", "exp": exp, "scope": scope });
    k.sign_access_token(claims.to_string().as_bytes()).unwrap()
}

/// A validator of ES256 tokens from `url`, leeway 5 s, refetching whenever a `kid` is
/// unknown.
fn validator(url: &str, tweak: impl FnOnce(&mut ValidatorConfig)) -> Validator {
    let mut c = ValidatorConfig::new(KeySource::JwksUrl(url.into()), vec![Algorithm::ES256]);
    c.issuer = Some("https://iss".into());
    c.audiences = vec!["api".into()];
    c.leeway = Duration::from_secs(5);
    c.refetch_interval = Duration::ZERO;
    tweak(&mut c);
    Validator::new(c, crate::token::default_http_client().unwrap()).unwrap()
}

fn refusal(r: Result<Claims, ValidationError>) -> String {
    match r {
        Err(ValidationError::InvalidToken(d)) => d,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_verified_token_skips_only_the_signature_check() {
    let k = key();
    let url = issuer(Arc::new(Mutex::new(vec![k.clone()]))).await;
    let v = validator(&url, |c| c.scopes = vec!["api:write".into()]);
    let good = token(&k, T + 60, "api:write");
    for _ in 0..5 {
        assert_eq!(v.validate_jwt_at(&good, T).await.unwrap().sub(), Some("svc"));
    }
    assert_eq!(v.signatures_checked(), 1);
    // the scope check runs on every request, hit or not
    let reader = token(&k, T + 60, "api:read");
    for _ in 0..3 {
        let e = v.validate_jwt_at(&reader, T).await.unwrap_err();
        assert_eq!(e, ValidationError::InsufficientScope { scope: "api:write".into() });
    }
    assert_eq!(v.signatures_checked(), 2);
    // a token differing in one byte of its signature is a different token
    let mut forged = good.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(refusal(v.validate_jwt_at(&forged, T).await).contains("signature"));
    // with the cache off, every request checks the signature
    let off = validator(&url, |c| c.verified_cache_size = 0);
    for _ in 0..3 {
        off.validate_jwt_at(&good, T).await.unwrap();
    }
    assert_eq!(off.signatures_checked(), 3);
}

#[tokio::test]
async fn a_hit_still_refuses_an_expired_token() {
    let k = key();
    let url = issuer(Arc::new(Mutex::new(vec![k.clone()]))).await;
    let v = validator(&url, |_| {});
    let t = token(&k, T + 10, "");
    v.validate_jwt_at(&t, T).await.unwrap();
    v.validate_jwt_at(&t, T + 14).await.unwrap();
    assert_eq!((v.signatures_checked(), v.inner.verified.len()), (1, 1));
    assert!(refusal(v.validate_jwt_at(&t, T + 15).await).contains("expired"));
    assert_eq!((v.signatures_checked(), v.inner.verified.len()), (1, 0), "refused on the hit, and dropped");
    assert!(refusal(v.validate_jwt_at(&t, T + 15).await).contains("expired"));
    // and a token not yet valid is refused although its signature verified before
    let later = k.sign_access_token(
        json!({ "iss": "https://iss", "aud": "api", "exp": T + 100, "nbf": T + 50 }).to_string().as_bytes(),
    );
    let later = later.unwrap();
    v.validate_jwt_at(&later, T + 50).await.unwrap();
    assert!(refusal(v.validate_jwt_at(&later, T).await).contains("not valid yet"));
}

#[tokio::test]
async fn a_token_signed_by_a_removed_key_is_refused_after_the_key_set_changes() {
    let (stays, goes) = (key(), key());
    let published: Published = Arc::new(Mutex::new(vec![stays.clone(), goes.clone()]));
    let url = issuer(published.clone()).await;
    let v = validator(&url, |_| {});
    let (kept, dropped) = (token(&stays, T + 60, ""), token(&goes, T + 60, ""));
    v.validate_jwt_at(&kept, T).await.unwrap();
    v.validate_jwt_at(&dropped, T).await.unwrap();
    assert_eq!(v.inner.verified.len(), 2);
    // the issuer withdraws a key; a token naming a key unknown to the cache refetches
    published.lock().unwrap().retain(|k| k.kid() != goes.kid());
    assert!(refusal(v.validate_jwt_at(&token(&key(), T + 60, ""), T).await).contains("unknown"));
    assert!(refusal(v.validate_jwt_at(&dropped, T).await).contains("unknown"));
    v.validate_jwt_at(&kept, T).await.unwrap();
    assert_eq!(v.signatures_checked(), 3, "the kept token was verified again under the new key set");
}

#[tokio::test]
async fn the_verified_tokens_of_a_validator_are_bounded() {
    let k = key();
    let url = issuer(Arc::new(Mutex::new(vec![k.clone()]))).await;
    let v = validator(&url, |c| c.verified_cache_size = 3);
    for n in 0..10 {
        v.validate_jwt_at(&token(&k, T + 60 + n, ""), T).await.unwrap();
    }
    assert_eq!(v.inner.verified.len(), 3);
}

#[tokio::test]
async fn a_refused_token_is_not_remembered() {
    let k = key();
    let url = issuer(Arc::new(Mutex::new(vec![k.clone()]))).await;
    let v = validator(&url, |_| {});
    let wrong_aud = k
        .sign_access_token(json!({ "iss": "https://iss", "aud": "other", "exp": T + 60 }).to_string().as_bytes())
        .unwrap();
    for _ in 0..2 {
        assert!(refusal(v.validate_jwt_at(&wrong_aud, T).await).contains("audience"));
    }
    assert_eq!((v.signatures_checked(), v.inner.verified.len()), (2, 0));
}
