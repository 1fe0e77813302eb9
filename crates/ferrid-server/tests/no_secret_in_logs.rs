//! A full scenario with logging at `trace`: registration, tokens by every method,
//! failures, chosen secrets, key upload, users' passwords, a person's login at the
//! OpenID Provider with its code, cookies and tokens. None of the secrets it used may appear in the
//! captured output.

use std::sync::{Arc, Mutex};

use base64::Engine;
use ferrid_testkit::{
    TestServer,
    api::grants,
    browser::{Browser, params_of},
    certs::openssl_pfx,
};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_scenario_at_trace_level_logs_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let admin_secret = "operator-chosen-admin-secret-42";
    let app = TestServer::builder().config(move |c| c.admin_secret = Some(admin_secret.into())).spawn().await;
    let url = app.token_url("t1", "prod");
    let token = |id: String, secret: String, basic: bool| {
        let (app, url) = (&app, &url);
        async move {
            let r = if basic {
                app.post_form(url, Some((&id, &secret)), "grant_type=client_credentials").await
            } else {
                let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
                app.post_form(url, None, &body).await
            };
            r.json::<Value>().await.unwrap()
        }
    };
    let admin = app.admin_token().await;
    let api = |path: &'static str, body: Value| app.post_api(path, &admin, body);
    api("/tenants", json!({ "name": "t1" })).await;
    api("/tenants/t1/tracks", json!({ "name": "prod", "signing_alg": "ES256" })).await;
    api("/tenants/t1/tracks/prod/apps", json!({ "name": "api", "kind": "oauth_resource", "scopes": ["read"] })).await;
    let body = json!({ "name": "svc", "kind": "oauth_client", "resource_scopes": grants(&[("api", &["read"])]) });
    let (_, c) = api("/tenants/t1/tracks/prod/apps", body).await;
    let generated = c["client_secret"].as_str().unwrap().to_owned();
    let chosen = "a chosen secret that must not leak";
    api("/tenants/t1/tracks/prod/apps/svc/secrets", json!({ "secret": chosen })).await;
    let mut secrets = vec![admin_secret.to_owned(), generated.clone(), chosen.to_owned(), admin.clone()];
    // the bootstrap user's generated password
    secrets.push(std::fs::read_to_string(app.data_dir.join("admin-password")).unwrap());
    for (secret, basic) in [(&generated, true), (&generated, false), (&chosen.to_owned(), true)] {
        let t = token("svc".into(), secret.clone(), basic).await;
        secrets.push(t["access_token"].as_str().unwrap().to_owned());
    }
    // failures: a wrong secret, a malformed header
    token("svc".into(), "wrong-secret-value-123".into(), true).await;
    secrets.push("wrong-secret-value-123".into());
    // a PFX with its password, when openssl is there to make one
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["svc".into()]).unwrap().self_signed(&kp).unwrap().pem();
    if let Some(pfx) = openssl_pfx(&kp.serialize_pem(), &cert, "pfx-password-xyz") {
        let pfx = base64::engine::general_purpose::STANDARD.encode(pfx);
        api("/tenants/t1/tracks/prod/apps/svc/keys", json!({ "pfx": pfx, "password": "pfx-password-xyz" })).await;
        api("/tenants/t1/tracks/prod/apps/svc/keys", json!({ "pfx": pfx, "password": "wrong-pfx-password" })).await;
        secrets.push("pfx-password-xyz".into());
        secrets.push("wrong-pfx-password".into());
    }
    // a user's passwords: at creation, a change, and a refused (weak) one
    let users = "/tenants/t1/tracks/prod/users";
    let (_, u) = api(users, json!({ "username": "alice", "password": "user-password-Tangerine-81" })).await;
    let one = format!("{users}/{}", u["id"].as_str().unwrap());
    let patch = json!({ "password": "user-password-Marigold-27" });
    app.api(reqwest::Method::PATCH, &one, &admin, Some(patch)).await;
    api(users, json!({ "username": "bob", "password": "bob-is-my-name" })).await;
    secrets.extend(["user-password-Tangerine-81", "user-password-Marigold-27", "bob-is-my-name"].map(String::from));
    // the OpenID Provider: a login through the authorization endpoint and its form (a
    // wrong password first), the code with its verifier, a refresh, UserInfo
    let body = json!({ "name": "web", "kind": "oidc_client", "redirect_uris": ["https://app.example/cb"],
                       "client_auth_method": "client_secret_basic",
                       "grant_types": ["authorization_code", "refresh_token"] });
    let (_, w) = api("/tenants/t1/tracks/prod/apps", body).await;
    let web_secret = w["client_secret"].as_str().unwrap().to_owned();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "https://app.example/cb"),
            ("scope", "openid offline_access profile"),
            ("state", "st-1"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut browser = Browser::new();
    let page = browser.get(&format!("{}/oauth/authorize?{query}", app.issuer("t1", "prod"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut form = page.form();
    form.set("username", "alice").set("password", "wrong-user-password-Heliotrope");
    assert_eq!(browser.submit(&app.base, &form).await.status, 400);
    form.set("password", "user-password-Marigold-27");
    let after = browser.submit(&app.base, &form).await;
    let code = params_of(after.location().expect("a redirect to the client"))["code"].clone();
    let csrf = browser.cookies["ferrid_csrf"].clone();
    let session = browser.cookies["ferrid_session"].clone();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier={verifier}"
    );
    let t: Value = app.post_form(&url, Some(("web", &web_secret)), &body).await.json().await.unwrap();
    let (access, id_token) = (t["access_token"].as_str().unwrap(), t["id_token"].as_str().unwrap());
    let r1 = t["refresh_token"].as_str().unwrap().to_owned();
    let body = format!("grant_type=refresh_token&refresh_token={r1}");
    let t2: Value = app.post_form(&url, Some(("web", &web_secret)), &body).await.json().await.unwrap();
    let r2 = t2["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
    let r = app.http.get(format!("{}/oauth/userinfo", app.issuer("t1", "prod"))).bearer_auth(access).send().await;
    assert_eq!(r.unwrap().status(), 200);
    secrets.extend([
        "wrong-user-password-Heliotrope".to_owned(),
        web_secret,
        code,
        verifier.to_owned(),
        csrf,
        session,
        access.to_owned(),
        id_token.to_owned(),
        r1,
        r2,
        t2["access_token"].as_str().unwrap().to_owned(),
        t2["id_token"].as_str().unwrap().to_owned(),
    ]);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let logged = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(logged.len() > 1000, "the capture caught the server's trace output");
    for s in &secrets {
        assert!(!logged.contains(s.as_str()), "a secret reached the log: {}…", &s[..6]);
        // nor its base64 form inside a logged Authorization header
        for client in ["svc", "web"] {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{s}"));
            assert!(!logged.contains(&b));
        }
    }
}
