//! `private_key_jwt` (RFC 7523 §2.2, §3): key upload and every assertion check, each
//! answered with 401 `invalid_client`.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{CertificateParams, KeyPair};
use serde_json::{Value, json};

use ferrid_testkit::*;

pub(crate) const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub(crate) const KEYS: &str = "/tenants/t1/tracks/prod/apps/pk/keys";

pub(crate) struct Signer {
    kp: KeyPair,
    alg: Algorithm,
    cert_pem: String,
}

pub(crate) fn signer(alg: Algorithm) -> Signer {
    let rc = match alg {
        Algorithm::ES256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        Algorithm::EdDSA => &rcgen::PKCS_ED25519,
        _ => &rcgen::PKCS_RSA_SHA256,
    };
    let kp = KeyPair::generate_for(rc).unwrap();
    let cert_pem = CertificateParams::new(vec!["svc.example".into()]).unwrap().self_signed(&kp).unwrap().pem();
    Signer { kp, alg, cert_pem }
}

impl Signer {
    pub(crate) fn key(&self) -> EncodingKey {
        let pem = self.kp.serialize_pem();
        match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        }
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&Header::new(self.alg), claims, &self.key()).unwrap()
    }
}

/// Wall time, as the server (on the system environment) reads it.
pub(crate) fn now() -> i64 {
    use ferrid_core::env::Clock;
    ferrid_core::env::SystemClock::new().now()
}

pub(crate) fn jti() -> String {
    format!("jti-{}-{}", now(), rand_suffix())
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) ^ (std::process::id() as u64) << 32
}

/// Tenant t1, track prod, resource api, client `pk` (private_key_jwt) with the signer's
/// certificate uploaded.
pub(crate) async fn setup(app: &TestApp, s: &Signer) -> String {
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    app.resource(&admin, "t1", "prod", "api", &["read"]).await;
    let body = json!({ "name": "pk", "kind": "oauth_client", "client_auth_method": "private_key_jwt",
                       "resource_scopes": [{ "resource": "api", "scopes": ["read"] }] });
    let (st, b) = app.post_api("/tenants/t1/tracks/prod/apps", &admin, body).await;
    assert_eq!(st, 201, "{b}");
    assert!(b.get("client_secret").is_none(), "no secret for a private_key_jwt client");
    let (st, b) = app.post_api(KEYS, &admin, json!({ "pem": s.cert_pem })).await;
    assert_eq!(st, 201, "{b}");
    admin
}

pub(crate) fn claims(app: &TestApp) -> Value {
    let t = now();
    json!({ "iss": "pk", "sub": "pk", "aud": app.token_url("t1", "prod"), "iat": t, "exp": t + 300, "jti": jti() })
}

pub(crate) async fn present(app: &TestApp, assertion: &str) -> reqwest::Response {
    let body = format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
        percent_encode(TYPE)
    );
    app.post_form(&app.token_url("t1", "prod"), None, &body).await
}

#[tokio::test]
async fn each_algorithm_authenticates_with_an_uploaded_certificate() {
    for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA] {
        let app = spawn_app().await;
        let s = signer(alg);
        setup(&app, &s).await;
        let r = present(&app, &s.sign(&claims(&app))).await;
        assert_eq!(r.status(), 200, "{alg:?}");
        let b: Value = r.json().await.unwrap();
        let cl = ferrid_testkit::claims(b["access_token"].as_str().unwrap());
        assert_eq!(cl["sub"], "pk");
        assert_eq!(cl["aud"], "api");
    }
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_until_it_expires() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let a = s.sign(&claims(&app));
    assert_eq!(present(&app, &a).await.status(), 200);
    assert_oauth_error(present(&app, &a).await, 401, "invalid_client").await;
    // a fresh jti is fine
    assert_eq!(present(&app, &s.sign(&claims(&app))).await.status(), 200);
}

#[tokio::test]
async fn every_assertion_check_answers_invalid_client() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let t = now();
    let base = claims(&app);
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c["jti"] = json!(jti());
        c
    };
    let without = |k: &str| {
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove(k);
        c["jti"] = json!(jti());
        c
    };
    let cases: Vec<(&str, Value)> = vec![
        ("iss is not the client", with("iss", json!("other"))),
        ("sub is not the client", with("sub", json!("other"))),
        ("aud is another server", with("aud", json!("https://elsewhere.example/token"))),
        ("aud is another track", with("aud", json!(app.issuer("master", "master")))),
        ("exp is missing", without("exp")),
        ("exp is past", with("exp", json!(t - 120))),
        ("lifetime over 60 minutes", {
            let mut c = with("exp", json!(t + 7200));
            c["iat"] = json!(t);
            c
        }),
        ("iat in the future", {
            let mut c = with("iat", json!(t + 600));
            c["exp"] = json!(t + 900);
            c
        }),
        ("nbf in the future", with("nbf", json!(t + 600))),
        ("jti is missing", without("jti")),
    ];
    for (what, c) in cases {
        let c = if what == "jti is missing" {
            let mut c = c;
            c.as_object_mut().unwrap().remove("jti");
            c
        } else {
            c
        };
        let r = present(&app, &s.sign(&c)).await;
        assert_eq!(r.status(), 401, "{what}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client", "{what}");
    }
}

#[tokio::test]
async fn the_audience_may_be_the_issuer_or_either_token_endpoint() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let issuer = app.issuer("t1", "prod");
    for aud in [
        json!(issuer),
        json!(format!("{issuer}/oauth/token")),
        json!(format!("{issuer}/pk/oauth/token")),
        json!(["x", issuer]),
    ] {
        let mut c = claims(&app);
        c["aud"] = aud.clone();
        assert_eq!(present(&app, &s.sign(&c)).await.status(), 200, "{aud}");
    }
    // and the app-scoped endpoint accepts it
    let body = format!(
        "grant_type=client_credentials&client_id=pk&client_assertion_type={}&client_assertion={}",
        percent_encode(TYPE),
        s.sign(&claims(&app))
    );
    assert_eq!(app.post_form(&format!("{issuer}/pk/oauth/token"), None, &body).await.status(), 200);
}

#[tokio::test]
async fn wrong_type_none_hmac_and_foreign_keys_are_refused() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    // wrong assertion type
    let body = format!(
        "grant_type=client_credentials&client_assertion_type=urn%3Ax&client_assertion={}",
        s.sign(&claims(&app))
    );
    assert_oauth_error(app.post_form(&app.token_url("t1", "prod"), None, &body).await, 401, "invalid_client").await;
    // alg none
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims(&app)));
    assert_oauth_error(present(&app, &none).await, 401, "invalid_client").await;
    // HS256 keyed with the public certificate's bytes (key confusion)
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&app),
        &EncodingKey::from_secret(s.cert_pem.as_bytes()),
    )
    .unwrap();
    assert_oauth_error(present(&app, &hs).await, 401, "invalid_client").await;
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&app),
        &EncodingKey::from_secret(s.kp.public_key_pem().as_bytes()),
    )
    .unwrap();
    assert_oauth_error(present(&app, &hs).await, 401, "invalid_client").await;
    // signed by a key that was never uploaded
    let other = signer(Algorithm::ES256);
    assert_oauth_error(present(&app, &other.sign(&claims(&app))).await, 401, "invalid_client").await;
    // a body client_id that is not the assertion's
    let body = format!(
        "grant_type=client_credentials&client_id=other&client_assertion_type={}&client_assertion={}",
        percent_encode(TYPE),
        s.sign(&claims(&app))
    );
    assert_oauth_error(app.post_form(&app.token_url("t1", "prod"), None, &body).await, 401, "invalid_client").await;
    // an assertion together with a secret is two methods at once
    let body = format!(
        "grant_type=client_credentials&client_secret=x&client_assertion_type={}&client_assertion={}",
        percent_encode(TYPE),
        s.sign(&claims(&app))
    );
    assert_oauth_error(app.post_form(&app.token_url("t1", "prod"), None, &body).await, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_track_caps_the_assertion_lifetime() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    let admin = setup(&app, &s).await;
    let t = now();
    let mut c = claims(&app);
    c["exp"] = json!(t + 1800);
    assert_eq!(present(&app, &s.sign(&c)).await.status(), 200);
    let (st, _) = app
        .api(reqwest::Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "assertion_max_lifetime": 600 })))
        .await;
    assert_eq!(st, 200);
    c["jti"] = json!(jti());
    assert_oauth_error(present(&app, &s.sign(&c)).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_certificate_counts_only_inside_its_validity_window() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    let admin = setup(&app, &s).await;
    // replace the key by one whose certificate starts in 2090
    let (_, list) = app.get_api(KEYS, &admin).await;
    let kid = list["items"][0]["kid"].as_str().unwrap().to_owned();
    let (st, _) = app.api(reqwest::Method::DELETE, &format!("{KEYS}/{kid}"), &admin, None).await;
    assert_eq!(st, 204);
    assert_oauth_error(present(&app, &s.sign(&claims(&app))).await, 401, "invalid_client").await;
    let mut p = CertificateParams::new(vec!["svc.example".into()]).unwrap();
    p.not_before = rcgen::date_time_ymd(2090, 1, 1);
    p.not_after = rcgen::date_time_ymd(2091, 1, 1);
    let future = p.self_signed(&s.kp).unwrap().pem();
    let (st, _) = app.post_api(KEYS, &admin, json!({ "pem": future })).await;
    assert_eq!(st, 201);
    assert_oauth_error(present(&app, &s.sign(&claims(&app))).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_secret_does_not_authenticate_a_private_key_jwt_client() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    let admin = setup(&app, &s).await;
    let (st, b) = app.post_api("/tenants/t1/tracks/prod/apps/pk/secrets", &admin, json!({})).await;
    assert_eq!(st, 201);
    let secret = b["secret"].as_str().unwrap();
    let r = app.post_form(&app.token_url("t1", "prod"), Some(("pk", secret)), "grant_type=client_credentials").await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn keys_upload_as_pem_jwk_or_pfx_and_are_listed_without_private_material() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    let admin = setup(&app, &s).await;
    // a JWK of an Ed25519 key
    let ed = signer(Algorithm::EdDSA);
    let raw = ed.kp.public_key_raw();
    use base64::Engine;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let (st, b) =
        app.post_api(KEYS, &admin, json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "ed-1" } })).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["kid"], "ed-1");
    let mut c = claims(&app);
    c["jti"] = json!(jti());
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some("ed-1".into());
    let a = jsonwebtoken::encode(&h, &c, &ed.key()).unwrap();
    assert_eq!(present(&app, &a).await.status(), 200);
    // a private JWK is refused, naming the field
    let (st, b) =
        app.post_api(KEYS, &admin, json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": x, "d": x } })).await;
    assert_eq!(st, 400);
    assert_eq!(b["errors"][0]["field"], "jwk");
    // two inputs at once
    let (st, b) = app.post_api(KEYS, &admin, json!({ "pem": s.cert_pem, "jwk": {} })).await;
    assert_eq!(st, 400);
    assert_eq!(b["errors"][0]["field"], "body");
    // the listing shows public members only
    let (_, list) = app.get_api(KEYS, &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"].as_array().unwrap().iter().all(|k| k["jwk"].get("d").is_none()));
}

#[tokio::test]
async fn pfx_uploads_need_the_right_password_and_say_what_is_wrong() {
    let s = signer(Algorithm::RS256);
    let Some(pfx) = ferrid_testkit::certs::openssl_pfx(&s.kp.serialize_pem(), &s.cert_pem, "correct-horse") else {
        eprintln!("SKIPPED: the openssl command is not installed; PFX fixtures cannot be made");
        return;
    };
    let app = spawn_app().await;
    let admin = setup(&app, &s).await;
    use base64::Engine;
    let pfx = base64::engine::general_purpose::STANDARD.encode(pfx);
    for (body, field) in [
        (json!({ "pfx": pfx }), "password"),
        (json!({ "pfx": pfx, "password": "wrong" }), "password"),
        (json!({ "pfx": "bm90IGEgcGZ4", "password": "x" }), "pfx"),
        (json!({ "pfx": "%%%", "password": "x" }), "pfx"),
    ] {
        let (st, b) = app.post_api(KEYS, &admin, body).await;
        assert_eq!(st, 400, "{b}");
        assert_eq!(b["errors"][0]["field"], field, "{b}");
    }
    let (st, b) = app.post_api(KEYS, &admin, json!({ "pfx": pfx, "password": "correct-horse" })).await;
    // the same certificate as the PEM already uploaded: same kid
    assert_eq!(st, 409, "{b}");
    let (_, list) = app.get_api(KEYS, &admin).await;
    let kid = list["items"][0]["kid"].as_str().unwrap().to_owned();
    app.api(reqwest::Method::DELETE, &format!("{KEYS}/{kid}"), &admin, None).await;
    let (st, b) = app.post_api(KEYS, &admin, json!({ "pfx": pfx, "password": "correct-horse" })).await;
    assert_eq!(st, 201, "{b}");
    assert!(b["jwk"].get("d").is_none() && b["jwk"].get("p").is_none());
    assert_eq!(present(&app, &s.sign(&claims(&app))).await.status(), 200);
}

#[tokio::test]
async fn a_client_holds_at_most_four_keys() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    let admin = setup(&app, &s).await;
    for _ in 0..3 {
        let (st, _) = app.post_api(KEYS, &admin, json!({ "pem": signer(Algorithm::ES256).cert_pem })).await;
        assert_eq!(st, 201);
    }
    let (st, _) = app.post_api(KEYS, &admin, json!({ "pem": signer(Algorithm::ES256).cert_pem })).await;
    assert_eq!(st, 409);
}
