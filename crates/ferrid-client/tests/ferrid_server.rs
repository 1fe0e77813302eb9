//! The token source and the validator against a real ferrid, started in-process.

use ferrid_client::{
    token::{
        AuthStyle, ClientCredentialsConfig, PrivateKeyJwtConfig, RefreshPolicy, TokenClient, TokenError, TokenSource,
        default_http_client, fetch_token,
    },
    validate::{Algorithm, Introspect, IntrospectionConfig, KeySource, ValidationError, Validator, ValidatorConfig},
};
use ferrid_testkit::{
    TestApp,
    api::{grants, spawn_t1_prod},
    certs,
};
use serde_json::{Value, json};

struct Ferrid {
    app: TestApp,
    admin: String,
}

struct Creds {
    id: String,
    secret: Option<String>,
}

impl Ferrid {
    /// ferrid with tenant t1, track prod (ES256) and resource `api` (read, write).
    async fn start() -> Ferrid {
        let (app, admin) = spawn_t1_prod(&[("api", &["read", "write"])]).await;
        Ferrid { app, admin }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.app.create(path, &self.admin, body).await
    }

    async fn client(&self, name: &str, method: &str) -> Creds {
        let body = json!({ "name": name, "kind": "oauth_client", "client_auth_method": method,
                           "resource_scopes": grants(&[("api", &["read"])]) });
        let b = self.post("/tenants/t1/tracks/prod/apps", body).await;
        Creds { id: b["client_id"].as_str().unwrap().into(), secret: b["client_secret"].as_str().map(str::to_owned) }
    }

    fn issuer(&self) -> String {
        self.app.issuer("t1", "prod")
    }

    fn token_url(&self) -> String {
        self.app.token_url("t1", "prod")
    }

    fn config(&self, c: &Creds, auth: AuthStyle) -> ClientCredentialsConfig {
        let mut cfg =
            ClientCredentialsConfig::new(c.id.clone(), c.secret.clone().unwrap_or_default(), self.token_url());
        cfg.auth = auth;
        cfg.scopes = vec!["api:read".into()];
        cfg
    }

    async fn issued(&self) -> u64 {
        self.app.metric("ferrid_tokens_issued_total").await
    }
}

fn validator(f: &Ferrid, audience: &str, scopes: &[&str]) -> Validator {
    let mut c = ValidatorConfig::new(KeySource::Discovery(f.issuer()), vec![Algorithm::ES256]);
    c.audiences = vec![audience.into()];
    c.typ = Some("at+jwt".into());
    c.scopes = scopes.iter().map(|s| s.to_string()).collect();
    Validator::new(c, default_http_client().unwrap()).unwrap()
}

#[tokio::test]
async fn a_token_source_gets_ferrid_tokens_with_basic_post_and_auto() {
    let f = Ferrid::start().await;
    let basic = f.client("svc-basic", "client_secret_basic").await;
    let post = f.client("svc-post", "client_secret_post").await;
    let v = validator(&f, "api", &["api:read"]);
    for (creds, style) in
        [(&basic, AuthStyle::Basic), (&post, AuthStyle::Post), (&basic, AuthStyle::Auto), (&post, AuthStyle::Auto)]
    {
        let before = f.issued().await;
        let src = TokenSource::new(f.config(creds, style)).unwrap();
        let tokens: Vec<_> = futures_join(&src, 20).await;
        assert!(tokens.windows(2).all(|w| w[0] == w[1]), "one shared token");
        assert_eq!(f.issued().await - before, 1, "{style:?}: one token request for 20 callers");
        let claims = v.validate(&tokens[0]).await.unwrap();
        assert_eq!(claims.get("client_id").and_then(Value::as_str), Some(creds.id.as_str()));
        if style == AuthStyle::Auto {
            assert_eq!(src.client().learned_style(), Some(AuthStyle::Basic), "ferrid takes Basic from both");
        }
    }
}

async fn futures_join(src: &TokenSource, n: usize) -> Vec<String> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let s = src.clone();
            tokio::spawn(async move { s.token().await.unwrap().access_token().to_owned() })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn ferrid_refusals_come_back_typed() {
    let f = Ferrid::start().await;
    let basic = f.client("svc-basic", "client_secret_basic").await;
    // a Basic client sending its secret in the body is refused by ferrid
    let e = fetch_token(f.config(&basic, AuthStyle::Post)).await.unwrap_err();
    assert!(e.to_string().contains("invalid_client"), "{e}");
    let mut wrong = f.config(&basic, AuthStyle::Auto);
    wrong.client_secret = Some("not-the-secret".to_owned().into());
    let client = TokenClient::new(wrong, default_http_client().unwrap()).unwrap();
    let src = TokenSource::with_client(client, RefreshPolicy::default());
    match src.token().await.unwrap_err() {
        TokenError::Refused { status: 401, error, .. } => assert_eq!(error, "invalid_client"),
        other => panic!("{other:?}"),
    }
    let mut bad_scope = f.config(&basic, AuthStyle::Basic);
    bad_scope.scopes = vec!["api:write".into()];
    let e = fetch_token(bad_scope).await.unwrap_err();
    assert!(e.to_string().contains("invalid_scope"), "{e}");
}

/// A private_key_jwt client with its certificate uploaded, and its key pair.
async fn pk_client(f: &Ferrid, name: &str, alg: &'static rcgen::SignatureAlgorithm) -> (Creds, rcgen::KeyPair) {
    let creds = f.client(name, "private_key_jwt").await;
    let kp = rcgen::KeyPair::generate_for(alg).unwrap();
    let cert = certs::self_signed(&kp);
    f.post(&format!("/tenants/t1/tracks/prod/apps/{name}/keys"), json!({ "pem": cert.pem() })).await;
    (creds, kp)
}

#[tokio::test]
async fn private_key_jwt_with_a_pem_key_and_with_a_pfx() {
    let f = Ferrid::start().await;
    let dir = tempfile::tempdir().unwrap();
    let v = validator(&f, "api", &[]);

    let (creds, kp) = pk_client(&f, "pk-pem", &rcgen::PKCS_ECDSA_P256_SHA256).await;
    let pem = dir.path().join("key.pem");
    std::fs::write(&pem, kp.serialize_pem()).unwrap();
    let mut cfg = f.config(&creds, AuthStyle::Auto);
    cfg.private_key_jwt =
        Some(PrivateKeyJwtConfig { key_file: pem, kid: None, alg: "ES256".into(), key_password: None, audience: None });
    let src = TokenSource::new(cfg).unwrap();
    let t = src.token().await.unwrap();
    assert_eq!(v.validate(t.access_token()).await.unwrap().sub(), Some("pk-pem"));

    let (creds, kp) = pk_client(&f, "pk-pfx", &rcgen::PKCS_RSA_SHA256).await;
    let pfx = dir.path().join("key.pfx");
    std::fs::write(&pfx, certs::pfx(&kp, &certs::self_signed(&kp), "pw")).unwrap();
    let pk = |password: &str| PrivateKeyJwtConfig {
        key_file: pfx.clone(),
        kid: None,
        alg: "RS256".into(),
        key_password: Some(password.to_owned().into()),
        audience: None,
    };
    let mut cfg = f.config(&creds, AuthStyle::Auto);
    cfg.private_key_jwt = Some(pk("wrong"));
    let e = TokenSource::new(cfg.clone()).err().expect("a wrong PFX password is a configuration error");
    assert!(e.to_string().contains("key.pfx"), "{e}");
    cfg.private_key_jwt = Some(pk("pw"));
    let t = TokenSource::new(cfg).unwrap().token().await.unwrap();
    assert_eq!(v.validate(t.access_token()).await.unwrap().sub(), Some("pk-pfx"));
}

#[tokio::test]
async fn the_validator_checks_ferrid_tokens_via_discovery() {
    let f = Ferrid::start().await;
    let c = f.client("svc", "client_secret_basic").await;
    let token = fetch_token(f.config(&c, AuthStyle::Basic)).await.unwrap().access_token;
    validator(&f, "api", &["api:read"]).validate(&token).await.unwrap();
    let e = validator(&f, "orders", &[]).validate(&token).await.unwrap_err();
    assert_eq!(e, ValidationError::InvalidToken("the token's audience is not accepted".into()));
    let e = validator(&f, "api", &["api:write"]).validate(&token).await.unwrap_err();
    assert_eq!(e.status(), 403);
}

#[tokio::test]
async fn introspecting_validators_follow_ferrids_answers_and_its_revocations() {
    let f = Ferrid::start().await;
    let svc = f.client("svc", "client_secret_basic").await;
    let rs = f.client("resource-server", "client_secret_post").await;
    let svc_client = TokenClient::new(f.config(&svc, AuthStyle::Basic), default_http_client().unwrap()).unwrap();
    let token = svc_client.request().await.unwrap().access_token;
    let introspect_url = format!("{}/oauth/introspect", f.issuer());
    let with = |mode: Introspect| {
        let mut c = ValidatorConfig::new(KeySource::Discovery(f.issuer()), vec![Algorithm::ES256]);
        c.audiences = vec!["api".into()];
        c.scopes = vec!["api:read".into()];
        let mut i = IntrospectionConfig::new(mode, introspect_url.clone(), f.config(&rs, AuthStyle::Auto));
        i.cache_ttl = std::time::Duration::from_millis(300);
        c.introspection = Some(i);
        Validator::new(c, default_http_client().unwrap()).unwrap()
    };
    let (instead, after) = (with(Introspect::Instead), with(Introspect::After));
    let claims = instead.validate(&token).await.unwrap();
    assert_eq!((claims.get("active"), claims.get("client_id")), (Some(&json!(true)), Some(&json!(svc.id))));
    assert_eq!(after.validate(&token).await.unwrap().sub(), Some(svc.id.as_str()));
    // the client revokes its token: both validators refuse it once their cache ends
    svc_client.revoke(&format!("{}/oauth/revoke", f.issuer()), &token, Some("access_token")).await.unwrap();
    for v in [&instead, &after] {
        assert!(ferrid_testkit::eventually(|| async { v.validate(&token).await.is_err() }).await);
        let e = v.validate(&token).await.unwrap_err();
        assert_eq!(e, ValidationError::InvalidToken("the token is not active".into()));
    }
}
