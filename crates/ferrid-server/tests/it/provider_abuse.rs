//! The OpenID Provider under abuse (docs/provider.md, docs/security.md): oversized
//! requests and forms, password guessing, redirect URIs that differ from the registered
//! one, header injection through `state`, long `state` and `nonce`, and credentials of
//! one track presented at another.

use ferrid_core::env::FakeEnv;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use ferrid_testkit::{
    browser::{Browser, Page, params_of},
    *,
};

const CB: &str = "https://app.example/cb";
const PASSWORD: &str = "a long passphrase 42";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Tracks t1/prod and t1/dev, each with the oidc_client `web` and a user: alice at
/// prod, bob at dev.
struct Op {
    app: TestApp,
    admin: String,
    prod: ClientCreds,
    dev: ClientCreds,
}

async fn register(app: &TestApp, admin: &str, track: &str) -> ClientCreds {
    let body = json!({
        "name": "web",
        "kind": "oidc_client",
        "redirect_uris": [CB],
        "client_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
    });
    ClientCreds::from_body(&app.create(&format!("/tenants/t1/tracks/{track}/apps"), admin, body).await)
}

async fn op_on(app: TestApp) -> Op {
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    app.tenant_track(&admin, "t1", "dev", "ES256").await;
    let prod = register(&app, &admin, "prod").await;
    let dev = register(&app, &admin, "dev").await;
    for (track, name) in [("prod", "alice"), ("dev", "bob")] {
        let body = json!({ "username": name, "password": PASSWORD });
        app.create(&format!("/tenants/t1/tracks/{track}/users"), &admin, body).await;
    }
    Op { app, admin, prod, dev }
}

async fn op() -> Op {
    op_on(spawn_app().await).await
}

/// The usual code request of `web` with PKCE S256, with `extra` parameters replacing
/// those of the same name (an empty value leaves one out).
fn params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("scope", "openid offline_access"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push((k, v));
        }
    }
    p
}

/// Unknown parameters of 2 KB each, `kib` KiB in all.
fn padding(kib: usize) -> Vec<(String, String)> {
    (0..kib / 2).map(|i| (format!("pad{i}"), "y".repeat(2040))).collect()
}

fn as_refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn query(p: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(p).finish()
}

impl Op {
    fn authorize(&self, track: &str) -> String {
        format!("{}/oauth/authorize", self.app.issuer("t1", track))
    }

    fn code_url(&self, track: &str, extra: &[(&str, &str)]) -> String {
        format!("{}?{}", self.authorize(track), query(&params(extra)))
    }

    async fn log_in(&self, b: &mut Browser, page: &Page, username: &str, password: &str) -> Page {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut form = page.form();
        form.set("username", username).set("password", password);
        b.submit(&self.app.base, &form).await
    }

    async fn code(&self, b: &mut Browser, track: &str, username: &str) -> String {
        let page = b.get(&self.code_url(track, &[])).await;
        redirect_params(&self.log_in(b, &page, username, PASSWORD).await)["code"].clone()
    }

    async fn redeem(&self, track: &str, creds: &ClientCreds, code: &str) -> reqwest::Response {
        let body = format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
            percent_encode(CB)
        );
        self.app.post_form(&self.app.token_url("t1", track), Some((&creds.id, &creds.secret)), &body).await
    }
}

fn redirect_params(page: &Page) -> std::collections::BTreeMap<String, String> {
    let loc = page.location().unwrap_or_else(|| panic!("a redirect ({}): {}", page.status, page.body));
    assert!(loc.starts_with(CB), "{loc}");
    params_of(loc)
}

fn assert_page(page: &Page, status: StatusCode) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.location().is_none(), "never a redirect");
    let ct = page.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{ct}");
}

#[tokio::test]
async fn an_authorization_post_over_the_form_limit_gets_an_error_page_not_a_server_error() {
    let op = op().await;
    let mut b = Browser::new();
    let pad = "x".repeat(70 * 1024);
    let mut fields: Vec<(String, String)> =
        params(&[]).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    fields.push(("padding".into(), pad));
    let page = b.post(&op.authorize("prod"), &fields).await;
    assert_page(&page, StatusCode::PAYLOAD_TOO_LARGE);
    // just under the limit (in values the form accepts) is an ordinary request
    fields.pop();
    fields.extend(padding(60));
    assert_eq!(b.post(&op.authorize("prod"), &fields).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_query_string_of_many_kilobytes_gets_a_clean_answer() {
    let op = op().await;
    let mut b = Browser::new();
    // 32 KB of unknown parameters: ignored, the login page, and the login works (the
    // login form carries the whole request)
    let pad: Vec<(String, String)> = padding(32);
    let url = format!("{}&{}", op.code_url("prod", &[]), query(&as_refs(&pad)));
    assert!(url.len() > 32 * 1024);
    let page = b.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert!(redirect_params(&after).contains_key("code"));
    // one value over the form's 4096 bytes: an error page
    let long = "y".repeat(5000);
    assert_page(&b.get(&op.code_url("prod", &[("padding", &long)])).await, StatusCode::BAD_REQUEST);
    // far beyond what a browser sends (and what reqwest would send): refused, never a
    // server error
    for kib in [100, 1024] {
        let target = format!("/t1/prod/oauth/authorize?client_id=web&{}", query(&as_refs(&padding(kib))));
        let status = raw_get(&op.app.base, &target).await;
        assert!(status.starts_with("HTTP/1.1 4"), "{kib} KiB: {status}");
    }
}

#[tokio::test]
async fn a_login_form_of_a_megabyte_gets_a_413_page() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("prod", &[])).await;
    let mut form = page.form();
    form.set("username", "alice").set("password", &"p".repeat(1024 * 1024));
    let page = b.submit(&op.app.base, &form).await;
    assert_page(&page, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!b.cookies.contains_key("ferrid_session"));
}

#[tokio::test]
async fn wrong_passwords_throttle_the_source_and_the_right_one_works_once_the_bucket_refills() {
    let env = FakeEnv::starting_now();
    let app = TestServer::builder()
        .env(env.env())
        .config(|c| {
            c.throttle.burst = 5.0;
            c.throttle.per_second = 0.01;
        })
        .spawn()
        .await;
    let op = op_on(app).await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("prod", &[])).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..30 {
        let r = op.log_in(&mut b, &page, "alice", &format!("wrong password {i}")).await;
        statuses.push(r.status.as_u16());
        last = Some(r);
    }
    assert!(statuses[..5].iter().all(|s| *s == 400), "{statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    let last = last.unwrap();
    assert!(last.body.contains("Too many attempts. Try again in"), "{}", last.body);
    assert!(last.body.contains("name=\"password\""), "the login page again: {}", last.body);
    assert!(!b.cookies.contains_key("ferrid_session"));
    // the right password waits too (else the throttle would tell a guesser it was right)
    let r = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(!b.cookies.contains_key("ferrid_session"));
    // The lockout (5 failures → 5 minutes, docs/provider.md "Login") refuses the sixth
    // attempt before the throttle does; after 300 s it has ended and, at 0.01 a
    // second, the throttle's bucket holds three failures again.
    env.advance(std::time::Duration::from_secs(300));
    let r = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert!(redirect_params(&r).contains_key("code"), "{}", r.body);
}

#[tokio::test]
async fn a_redirect_uri_that_differs_from_the_registered_one_in_any_part_gets_an_error_page() {
    let op = op().await;
    let mut b = Browser::new();
    for uri in [
        "http://app.example/cb",
        "https://evil.example/cb",
        "https://app.example.evil.example/cb",
        "https://app.example:8443/cb",
        "https://app.example:443/cb",
        "https://app.example/cb2",
        "https://app.example/CB",
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://app.example/cb#frag",
        "https://user@app.example/cb",
        "javascript:alert(1)",
        "javascript://app.example/cb",
        "data:text/html,<script>alert(1)</script>",
    ] {
        let page = b.get(&op.code_url("prod", &[("redirect_uri", uri)])).await;
        assert_page(&page, StatusCode::BAD_REQUEST);
        assert!(page.body.contains("Sign-in error"), "{uri}: {}", page.body);
    }
    // nor can such a URI be registered
    let body = json!({ "name": "js", "kind": "oidc_client", "redirect_uris": ["javascript:alert(1)"] });
    let (s, _) = op.app.post_api("/tenants/t1/tracks/prod/apps", &op.admin, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_crlf_in_state_comes_back_percent_encoded_in_the_location() {
    let op = op().await;
    let mut b = Browser::new();
    let state = "a\r\nSet-Cookie: injected=1\r\n\r\n<html>";
    let check = |page: &Page| {
        let loc = page.location().expect("a redirect");
        assert!(!loc.contains('\r') && !loc.contains('\n'), "{loc}");
        assert!(loc.to_ascii_uppercase().contains("%0D%0A"), "{loc}");
        assert_eq!(redirect_params(page)["state"], state);
        for c in page.headers.get_all(header::SET_COOKIE) {
            assert!(!c.to_str().unwrap().contains("injected"), "{c:?}");
        }
    };
    // an error redirect
    check(&b.get(&op.code_url("prod", &[("state", state), ("response_type", "token")])).await);
    // the code redirect after the login
    let page = b.get(&op.code_url("prod", &[("state", state)])).await;
    check(&op.log_in(&mut b, &page, "alice", PASSWORD).await);
}

/// The status line of a GET of `target` written by hand on a fresh connection.
async fn raw_get(base: &str, target: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    // the server may answer and close before it has read everything
    let _ = conn.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

/// A value of exactly `len` bytes with the characters a URL must escape.
fn awkward(len: usize) -> String {
    "s&t=a te/?+%#".chars().cycle().take(len).collect()
}

#[tokio::test]
async fn a_state_of_4_kb_and_a_nonce_of_its_longest_round_trip() {
    let op = op().await;
    let mut b = Browser::new();
    // 4096 bytes: the longest value the form takes (docs/protocol.md); the nonce is
    // bounded tighter, at 512 bytes (ferrid_core::provider::authorize)
    let state = awkward(4096);
    let nonce = awkward(512);
    let page = b.get(&op.code_url("prod", &[("state", &state), ("nonce", &nonce)])).await;
    let p = redirect_params(&op.log_in(&mut b, &page, "alice", PASSWORD).await);
    assert_eq!(p["state"], state);
    let r = op.redeem("prod", &op.prod, &p["code"]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(claims(t["id_token"].as_str().unwrap())["nonce"], nonce.as_str());
    // a longer nonce is refused to the client, with its (long) state
    let long = awkward(4096);
    let p = redirect_params(&b.get(&op.code_url("prod", &[("state", &state), ("nonce", &long)])).await);
    assert_eq!(p["error"], "invalid_request");
    assert_eq!(p["state"], state);
}

#[tokio::test]
async fn a_user_of_another_track_cannot_log_in_at_this_track() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("prod", &[])).await;
    let r = op.log_in(&mut b, &page, "bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Wrong username or password."), "{}", r.body);
    assert!(!b.cookies.contains_key("ferrid_session"));
    // bob logs in at his own track
    let code = op.code(&mut Browser::new(), "dev", "bob").await;
    assert_eq!(op.redeem("dev", &op.dev, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_code_of_one_track_is_invalid_grant_at_another() {
    let op = op().await;
    let code = op.code(&mut Browser::new(), "prod", "alice").await;
    // the same client name at dev, with dev's own secret: the code is not dev's
    assert_oauth_error(op.redeem("dev", &op.dev, &code).await, 400, "invalid_grant").await;
    // nor did the attempt spend it at prod
    assert_eq!(op.redeem("prod", &op.prod, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_access_token_of_one_track_is_refused_at_another_tracks_userinfo() {
    let op = op().await;
    let code = op.code(&mut Browser::new(), "prod", "alice").await;
    let t: Value = op.redeem("prod", &op.prod, &code).await.json().await.unwrap();
    let at = t["access_token"].as_str().unwrap();
    let userinfo = |track: &str| {
        let url = format!("{}/oauth/userinfo", op.app.issuer("t1", track));
        let req = op.app.http.get(url).bearer_auth(at);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(userinfo("prod").await.status(), StatusCode::OK);
    let r = userinfo("dev").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let www = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_owned();
    assert!(www.contains("invalid_token"), "{www}");
    // nor does its refresh token work at dev
    let body = format!("grant_type=refresh_token&refresh_token={}", t["refresh_token"].as_str().unwrap());
    let r = op.app.post_form(&op.app.token_url("t1", "dev"), Some((&op.dev.id, &op.dev.secret)), &body).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}
