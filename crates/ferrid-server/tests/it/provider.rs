//! The OpenID Provider, black-box (docs/provider.md), modelled on the OpenID Foundation's
//! `oidcc-basic-certification-test-plan` modules: the login page and sessions, the
//! authorization endpoint's rules in their order, PKCE, codes, ID tokens, UserInfo,
//! refresh tokens and consent.

use std::collections::BTreeMap;

use aws_lc_rs::digest;
use base64::Engine;
use ferrid_core::env::FakeEnv;
use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrid_testkit::{
    browser::{Browser, Page, params_of},
    *,
};

const APPS: &str = "/tenants/t1/tracks/prod/apps";
const USERS: &str = "/tenants/t1/tracks/prod/users";
pub(crate) const CB: &str = "https://app.example/cb";
pub(crate) const PASSWORD: &str = "a long passphrase 42";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A relying party registered for the tests, with a user to log in as.
pub(crate) struct Op {
    pub(crate) app: TestApp,
    pub(crate) admin: String,
    pub(crate) client: ClientCreds,
    pub(crate) user_id: String,
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub(crate) async fn register(app: &TestApp, admin: &str, name: &str, extra: Value) -> ClientCreds {
    let mut body = json!({
        "name": name,
        "kind": "oidc_client",
        "redirect_uris": [CB],
        "client_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "resource_scopes": [{ "resource": "orders", "scopes": ["read"] }],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    ClientCreds::from_body(&app.create(APPS, admin, body).await)
}

pub(crate) async fn op_on(app: TestApp) -> Op {
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    app.resource(&admin, "t1", "prod", "orders", &["read", "write"]).await;
    let client = register(&app, &admin, "web", json!({})).await;
    let user = app
        .create(
            USERS,
            &admin,
            json!({ "username": "alice", "email": "Alice@Example.com", "email_verified": true, "password": PASSWORD,
                    "claims": { "name": "Alice Liddell", "given_name": "Alice", "phone_number": "+1 555 0100" } }),
        )
        .await;
    Op { app, admin, client, user_id: user["id"].as_str().unwrap().to_owned() }
}

pub(crate) async fn op() -> Op {
    op_on(spawn_app().await).await
}

impl Op {
    pub(crate) fn issuer(&self) -> String {
        self.app.issuer("t1", "prod")
    }

    pub(crate) fn authorize_url(&self, params: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("{}/oauth/authorize?{q}", self.issuer())
    }

    /// The usual code request of `client` with PKCE S256, with `extra` parameters added
    /// (or replacing one of the same name).
    pub(crate) fn code_url(&self, client: &str, extra: &[(&str, &str)]) -> String {
        let mut p: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", CB),
            ("scope", "openid profile email"),
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
        self.authorize_url(&p)
    }

    /// Logs in on the login page and answers the page after it.
    pub(crate) async fn log_in(&self, b: &mut Browser, page: &Page, username: &str, password: &str) -> Page {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut form = page.form();
        form.set("username", username).set("password", password);
        b.submit(&self.app.base, &form).await
    }

    /// The whole front channel: authorize, log in, the code.
    pub(crate) async fn code(&self, b: &mut Browser, url: &str) -> String {
        let page = b.get(url).await;
        let after = if page.status == StatusCode::OK { self.log_in(b, &page, "alice", PASSWORD).await } else { page };
        let loc =
            after.location().unwrap_or_else(|| panic!("a redirect ({}): {}", after.status, after.body)).to_owned();
        assert!(loc.starts_with(CB), "{loc}");
        let p = params_of(&loc);
        p.get("code").unwrap_or_else(|| panic!("a code in {loc}")).clone()
    }

    pub(crate) async fn redeem(&self, creds: &ClientCreds, code: &str, verifier: Option<&str>) -> reqwest::Response {
        let mut body = format!("grant_type=authorization_code&code={code}&redirect_uri={}", percent_encode(CB));
        if let Some(v) = verifier {
            body.push_str(&format!("&code_verifier={v}"));
        }
        self.app.post_form(&self.app.token_url("t1", "prod"), Some((&creds.id, &creds.secret)), &body).await
    }

    pub(crate) async fn tokens(&self, b: &mut Browser, extra: &[(&str, &str)]) -> Value {
        let code = self.code(b, &self.code_url("web", extra)).await;
        let r = self.redeem(&self.client, &code, Some(VERIFIER)).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub(crate) async fn userinfo(&self, token: &str) -> reqwest::Response {
        self.app.http.get(format!("{}/oauth/userinfo", self.issuer())).bearer_auth(token).send().await.unwrap()
    }

    pub(crate) async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        let body = format!("grant_type=refresh_token&refresh_token={refresh_token}");
        self.app.post_form(&self.app.token_url("t1", "prod"), Some((&self.client.id, &self.client.secret)), &body).await
    }
}

fn redirect_params(page: &Page) -> BTreeMap<String, String> {
    let loc = page.location().unwrap_or_else(|| panic!("a redirect ({}): {}", page.status, page.body));
    assert!(loc.starts_with(CB), "{loc}");
    params_of(loc)
}

fn assert_error_page(page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.location().is_none(), "never a redirect");
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.body.contains("Sign-in error"), "{}", page.body);
}

#[tokio::test]
async fn a_person_logs_in_and_the_client_gets_a_code_tokens_and_userinfo() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"username\"") && page.body.contains("name=\"password\""));
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    let p = redirect_params(&after);
    assert_eq!(p.get("state").map(String::as_str), Some("st-1"));
    assert_eq!(p.get("iss"), Some(&op.issuer()), "RFC 9207 iss");
    let code = p["code"].clone();
    assert_eq!(b64url(&[0; 32]).len(), code.len(), "256 bits");

    let r = op.redeem(&op.client, &code, Some(VERIFIER)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid profile email");
    assert!(t.get("refresh_token").is_none(), "no offline_access, no refresh token");
    let id = t["id_token"].as_str().unwrap();
    assert_eq!(header(id)["typ"], "JWT");
    assert_eq!(header(id)["alg"], "ES256");
    let c = claims(id);
    assert_eq!(c["iss"], op.issuer());
    assert_eq!(c["sub"], op.user_id.as_str());
    assert_eq!(c["aud"], "web");
    assert_eq!(c["nonce"], "n-1");
    assert!(c["sid"].is_string() && c["auth_time"].is_i64() && c["exp"].is_i64() && c["iat"].is_i64());
    let at = t["access_token"].as_str().unwrap();
    let hash = digest::digest(&digest::SHA256, at.as_bytes());
    assert_eq!(c["at_hash"], b64url(&hash.as_ref()[..16]), "OpenID Connect Core 1.0 §3.1.3.6");
    // the ID token verifies against the JWKS
    verify_id_token(&op, id).await;

    let a = verify_with_jwks(&op.app, at, "t1", "prod", "web").await;
    assert_eq!(a["sub"], op.user_id.as_str());
    assert_eq!(a["client_id"], "web");
    assert_eq!(header(at)["typ"], "at+jwt");

    let r = op.userinfo(at).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["sub"], op.user_id.as_str());
    assert_eq!(u["name"], "Alice Liddell");
    assert_eq!(u["given_name"], "Alice");
    assert_eq!(u["preferred_username"], "alice");
    assert_eq!(u["email"], "Alice@Example.com");
    assert_eq!(u["email_verified"], true);
    assert!(u.get("phone_number").is_none(), "phone was not granted: {u}");
}

async fn verify_id_token(op: &Op, id: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(op.app.jwks("t1", "prod").await).unwrap();
    let h = jsonwebtoken::decode_header(id).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(h.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(h.alg);
    v.set_issuer(&[op.issuer()]);
    v.set_audience(&["web"]);
    jsonwebtoken::decode::<Value>(id, &key, &v).expect("the ID token verifies").claims
}

#[tokio::test]
async fn the_session_cookie_is_per_track_http_only_and_lax_and_a_second_authorization_needs_no_login() {
    let op = op().await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    let set = b.set_cookies.iter().find(|c| c.starts_with("ferrid_session=")).expect("a session cookie").clone();
    for attr in ["Path=/t1/prod", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "http public URL: {set}");
    let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 43, "256 bits");
    // logged in: straight to the client with a code
    let page = b.get(&op.code_url("web", &[("state", "st-2")])).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(redirect_params(&page)["state"], "st-2");
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let op = op().await;
    let mut b = Browser::new();
    for url in [
        op.code_url("nobody", &[]),
        op.code_url("web", &[("redirect_uri", "https://evil.example/cb")]),
        op.code_url("web", &[("redirect_uri", "https://app.example/cb/more")]),
        op.code_url("web", &[("redirect_uri", "https://APP.example/cb")]),
        op.code_url("web", &[("redirect_uri", "")]),
        op.code_url("", &[]),
        // an error that would otherwise be redirected is not, with a bad redirect URI
        op.code_url("web", &[("redirect_uri", "https://evil.example/cb"), ("response_type", "nope")]),
        // a resource is not a client that can log people in
        op.code_url("orders", &[]),
    ] {
        assert_error_page(&b.get(&url).await);
    }
    // a parameter twice: nothing can be trusted
    let twice = format!("{}&client_id=web", op.code_url("web", &[]));
    assert_error_page(&b.get(&twice).await);
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_known_are_redirected_with_state() {
    let op = op().await;
    let mut b = Browser::new();
    for (extra, code) in [
        (vec![("response_type", "")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "code code")], "unsupported_response_type"),
        (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
        (vec![("request_uri", "https://app.example/r")], "request_uri_not_supported"),
        (vec![("scope", "openid nope")], "invalid_scope"),
        (vec![("scope", "openid orders:write")], "invalid_scope"),
        (vec![("response_mode", "nope")], "invalid_request"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("prompt", "bogus")], "invalid_request"),
        (vec![("max_age", "-1")], "invalid_request"),
    ] {
        let page = b.get(&op.code_url("web", &extra)).await;
        assert_eq!(page.status, StatusCode::FOUND, "{extra:?}: {}", page.body);
        let p = redirect_params(&page);
        assert_eq!(p.get("error").map(String::as_str), Some(code), "{extra:?}: {p:?}");
        assert_eq!(p.get("state").map(String::as_str), Some("st-1"), "{extra:?}");
        assert_eq!(p.get("iss"), Some(&op.issuer()));
        assert!(!p.contains_key("code"));
    }
}

#[tokio::test]
async fn the_authorization_request_may_also_be_a_post() {
    let op = op().await;
    let mut b = Browser::new();
    let url = op.code_url("web", &[]);
    let (endpoint, query) = url.split_once('?').unwrap();
    let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let page = b.post(endpoint, &fields).await;
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert!(redirect_params(&after).contains_key("code"));
}

#[tokio::test]
async fn pkce_is_required_by_default_and_plain_only_where_allowed() {
    let op = op().await;
    let mut b = Browser::new();
    for (extra, why) in [
        (vec![("code_challenge", ""), ("code_challenge_method", "")], "required"),
        (vec![("code_challenge_method", "plain")], "plain refused"),
        (vec![("code_challenge_method", "")], "the default method is plain, refused"),
        (vec![("code_challenge_method", "S512")], "unknown method"),
        (vec![("code_challenge", "short")], "too short"),
    ] {
        let p = redirect_params(&b.get(&op.code_url("web", &extra)).await);
        assert_eq!(p.get("error").map(String::as_str), Some("invalid_request"), "{why}: {p:?}");
    }
    // a client that allows plain
    let plain = register(&op.app, &op.admin, "plain", json!({ "allow_plain_pkce": true })).await;
    let code = op
        .code(&mut b, &op.code_url("plain", &[("code_challenge", VERIFIER), ("code_challenge_method", "plain")]))
        .await;
    assert_eq!(op.redeem(&plain, &code, Some(VERIFIER)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_verifier_or_none_is_invalid_grant_and_the_secret_is_checked_too() {
    let op = op().await;
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    let wrong = "x".repeat(43);
    assert_oauth_error(op.redeem(&op.client, &code, Some(&wrong)).await, 400, "invalid_grant").await;
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    assert_oauth_error(op.redeem(&op.client, &code, None).await, 400, "invalid_grant").await;
    // both PKCE and the secret: a right verifier with a wrong secret is invalid_client
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    let bad = ClientCreds { id: "web".into(), secret: "wrong".into() };
    assert_oauth_error(op.redeem(&bad, &code, Some(VERIFIER)).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let op = op().await;
    let loose = register(&op.app, &op.admin, "loose", json!({ "require_pkce": false })).await;
    let mut b = Browser::new();
    let url = op.code_url("loose", &[("code_challenge", ""), ("code_challenge_method", "")]);
    let code = op.code(&mut b, &url).await;
    assert_oauth_error(op.redeem(&loose, &code, Some(VERIFIER)).await, 400, "invalid_grant").await;
    let code = op.code(&mut b, &url).await;
    assert_eq!(op.redeem(&loose, &code, None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_public_client_redeems_its_code_with_pkce_and_no_secret() {
    let op = op().await;
    let spa = register(&op.app, &op.admin, "spa", json!({ "client_auth_method": "none" })).await;
    assert!(spa.secret.is_empty());
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("spa", &[])).await;
    let body = format!(
        "grant_type=authorization_code&client_id=spa&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        percent_encode(CB)
    );
    let r = op.app.post_form(&op.app.token_url("t1", "prod"), None, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    // a public client cannot skip PKCE even if it asks to
    let p =
        redirect_params(&b.get(&op.code_url("spa", &[("code_challenge", ""), ("code_challenge_method", "")])).await);
    assert_eq!(p["error"], "invalid_request");
    // a confidential client cannot authenticate as public
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    let body = format!(
        "grant_type=authorization_code&client_id=web&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        percent_encode(CB)
    );
    assert_oauth_error(op.app.post_form(&op.app.token_url("t1", "prod"), None, &body).await, 401, "invalid_client")
        .await;
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_the_tokens_of_its_first_use() {
    let op = op().await;
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("web", &[("scope", "openid offline_access")])).await;
    let r = op.redeem(&op.client, &code, Some(VERIFIER)).await;
    let first: Value = r.json().await.unwrap();
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(op.userinfo(at).await.status(), StatusCode::OK);
    assert_oauth_error(op.redeem(&op.client, &code, Some(VERIFIER)).await, 400, "invalid_grant").await;
    // what the first use issued no longer works
    let r = op.userinfo(at).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_oauth_error(op.refresh(first["refresh_token"].as_str().unwrap()).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_its_redirect_uri() {
    let op = op().await;
    let other =
        register(&op.app, &op.admin, "other", json!({ "redirect_uris": [CB, "https://app.example/cb2"] })).await;
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    assert_oauth_error(op.redeem(&other, &code, Some(VERIFIER)).await, 400, "invalid_grant").await;
    let code = op.code(&mut b, &op.code_url("other", &[])).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        percent_encode("https://app.example/cb2")
    );
    let r = op.app.post_form(&op.app.token_url("t1", "prod"), Some((&other.id, &other.secret)), &body).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    assert_oauth_error(op.redeem(&op.client, "not-a-code", Some(VERIFIER)).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_expires_after_30_seconds() {
    let env = FakeEnv::starting_now();
    let op = op_on(TestServer::builder().env(env.env()).spawn().await).await;
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    env.advance(std::time::Duration::from_secs(30));
    assert_oauth_error(op.redeem(&op.client, &code, Some(VERIFIER)).await, 400, "invalid_grant").await;
    let code = op.code(&mut b, &op.code_url("web", &[])).await;
    env.advance(std::time::Duration::from_secs(29));
    assert_eq!(op.redeem(&op.client, &code, Some(VERIFIER)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_page_again_and_creates_no_session() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[])).await;
    for (user, pw) in [("alice", "wrong password"), ("nobody", PASSWORD), ("", "")] {
        let again = op.log_in(&mut b, &page, user, pw).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "{user}");
        assert!(again.location().is_none());
        assert!(again.body.contains("Wrong username or password."), "{}", again.body);
        assert!(!b.cookies.contains_key("ferrid_session"), "no session cookie");
        assert!(!again.body.contains(pw) || pw.is_empty(), "the password is never echoed");
    }
    let (_, sessions) = op.app.get_api(&format!("{USERS}/{}/sessions", op.user_id), &op.admin).await;
    assert_eq!(sessions["items"].as_array().map(Vec::len), Some(0), "{sessions}");
    // the email logs in too, in any case
    let after = op.log_in(&mut b, &page, "alice@example.COM", PASSWORD).await;
    assert!(redirect_params(&after).contains_key("code"));
}

#[tokio::test]
async fn the_login_form_refuses_a_missing_or_forged_csrf_token() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[])).await;
    let mut form = page.form();
    form.set("username", "alice").set("password", PASSWORD);
    let mut forged = form.clone();
    forged.set("csrf", &b64url(&[7; 32]));
    let r = b.submit(&op.app.base, &forged).await;
    assert_error_page(&r);
    // a different browser (no CSRF cookie) cannot post this form
    let mut other = Browser::new();
    assert_error_page(&other.submit(&op.app.base, &form).await);
    assert!(!other.cookies.contains_key("ferrid_session"));
}

#[tokio::test]
async fn a_login_replaces_any_session_cookie_the_browser_brought() {
    let op = op().await;
    let mut b = Browser::new();
    b.cookies.insert("ferrid_session".into(), b64url(&[9; 32]));
    op.code(&mut b, &op.code_url("web", &[])).await;
    assert_ne!(b.cookies["ferrid_session"], b64url(&[9; 32]), "session fixation");
}

#[tokio::test]
async fn pages_send_the_security_headers() {
    let op = op().await;
    let mut b = Browser::new();
    for page in [b.get(&op.code_url("web", &[])).await, b.get(&op.code_url("nobody", &[])).await] {
        let h = &page.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn login_hint_prefills_the_username() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[("login_hint", "alice\"><script>")])).await;
    assert_eq!(page.form().get("username"), Some("alice\"><script>"));
    assert!(!page.body.contains("<script>"), "escaped");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_and_with_one_issues_a_code() {
    let op = op().await;
    let mut b = Browser::new();
    let p = redirect_params(&b.get(&op.code_url("web", &[("prompt", "none")])).await);
    assert_eq!(p.get("error").map(String::as_str), Some("login_required"), "{p:?}");
    assert_eq!(p["state"], "st-1");
    op.code(&mut b, &op.code_url("web", &[])).await;
    let p = redirect_params(&b.get(&op.code_url("web", &[("prompt", "none")])).await);
    assert!(p.contains_key("code"), "{p:?}");
}

#[tokio::test]
async fn prompt_login_and_an_exceeded_max_age_force_a_fresh_login() {
    let env = FakeEnv::starting_now();
    let op = op_on(TestServer::builder().env(env.env()).spawn().await).await;
    let mut b = Browser::new();
    let first = op.tokens(&mut b, &[]).await;
    let auth_time = claims(first["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    assert_eq!(b.get(&op.code_url("web", &[("prompt", "login")])).await.status, StatusCode::OK, "the login page");
    env.advance(std::time::Duration::from_secs(120));
    let page = b.get(&op.code_url("web", &[("max_age", "60")])).await;
    assert_eq!(page.status, StatusCode::OK, "the login page: the login is older than max_age");
    let p = redirect_params(&b.get(&op.code_url("web", &[("max_age", "600")])).await);
    assert!(p.contains_key("code"), "young enough");
    let p = redirect_params(&b.get(&op.code_url("web", &[("max_age", "60"), ("prompt", "none")])).await);
    assert_eq!(p["error"], "login_required");
    // a fresh login moves auth_time
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    let code = redirect_params(&after)["code"].clone();
    let t: Value = op.redeem(&op.client, &code, Some(VERIFIER)).await.json().await.unwrap();
    let new_time = claims(t["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    assert_eq!(new_time, auth_time + 120);
}

#[tokio::test]
async fn a_session_ends_after_its_sliding_lifetime_and_at_its_absolute_end() {
    let env = FakeEnv::starting_now();
    let op = op_on(TestServer::builder().env(env.env()).spawn().await).await;
    let (s, _) = op
        .app
        .api(
            reqwest::Method::PATCH,
            "/tenants/t1/tracks/prod",
            &op.admin,
            Some(json!({ "session_lifetime": 600, "session_absolute_lifetime": 1000 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    let none = || op.code_url("web", &[("prompt", "none")]);
    for _ in 0..2 {
        env.advance(std::time::Duration::from_secs(450));
        assert!(redirect_params(&b.get(&none()).await).contains_key("code"), "used within 600 s: alive");
    }
    env.advance(std::time::Duration::from_secs(100));
    assert_eq!(redirect_params(&b.get(&none()).await)["error"], "login_required", "past the absolute end");
    // the sliding end
    op.code(&mut b, &op.code_url("web", &[])).await;
    env.advance(std::time::Duration::from_secs(600));
    assert_eq!(redirect_params(&b.get(&none()).await)["error"], "login_required", "unused for 600 s");
}

#[tokio::test]
async fn userinfo_refuses_a_bad_token_with_www_authenticate_invalid_token() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let i = at.len() - 10;
    let tampered = format!("{}{}{}", &at[..i], if &at[i..=i] == "A" { "B" } else { "A" }, &at[i + 1..]);
    for bad in [tampered.as_str(), "nope", ""] {
        let r = op.userinfo(bad).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let www = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        if !bad.is_empty() {
            assert!(www.contains("error=\"invalid_token\""), "{www}");
        }
    }
    let r = op.app.http.get(format!("{}/oauth/userinfo", op.issuer())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"ferrid\"");
    // a client-credentials token is no person's
    let svc = op
        .app
        .client(&op.admin, "t1", "prod", "svc", "client_secret_basic", api::grants(&[("orders", &["read"])]))
        .await;
    let cc = op.app.token_for("t1", "prod", &svc, "").await;
    assert!(op.userinfo(&cc).await.status().is_client_error());
    // POST with the token in the body (RFC 6750 §2.2)
    let r = op.app.post_form(&format!("{}/oauth/userinfo", op.issuer()), None, &format!("access_token={at}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // both ways at once
    let r = op
        .app
        .http
        .post(format!("{}/oauth/userinfo", op.issuer()))
        .bearer_auth(at)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // a disabled user's token stops working
    let (s, _) = op
        .app
        .api(reqwest::Method::PATCH, &format!("{USERS}/{}", op.user_id), &op.admin, Some(json!({ "disabled": true })))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(op.userinfo(at).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn userinfo_releases_exactly_the_claims_of_the_granted_scopes() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid")]).await;
    let u: Value = op.userinfo(t["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(u, json!({ "sub": op.user_id }));
    let t = op.tokens(&mut b, &[("scope", "openid email phone")]).await;
    let u: Value = op.userinfo(t["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(
        u,
        json!({ "sub": op.user_id, "email": "Alice@Example.com", "email_verified": true, "phone_number": "+1 555 0100" })
    );
}

#[tokio::test]
async fn resource_scopes_put_their_resource_and_the_client_in_the_audience() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid orders.read")]).await;
    assert_eq!(t["scope"], "openid orders:read");
    let a = claims(t["access_token"].as_str().unwrap());
    assert_eq!(a["aud"], json!(["orders", "web"]));
    assert_eq!(a["scope"], "openid orders:read");
}

#[tokio::test]
async fn refresh_tokens_come_only_with_offline_access_rotate_and_reuse_revokes_the_grant() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let r1 = t["refresh_token"].as_str().expect("a refresh token").to_owned();
    assert_eq!(r1.len(), 43);
    let r = op.refresh(&r1).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t2: Value = r.json().await.unwrap();
    let r2 = t2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    let id2 = claims(t2["id_token"].as_str().unwrap());
    assert_eq!(id2["sub"], op.user_id.as_str());
    assert!(id2.get("nonce").is_none());
    // a narrower scope for this access token only
    let r = op
        .app
        .post_form(
            &op.app.token_url("t1", "prod"),
            Some((&op.client.id, &op.client.secret)),
            &format!("grant_type=refresh_token&refresh_token={r2}&scope=openid+email"),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
    let at2 = t2["access_token"].as_str().unwrap().to_owned();
    // r1 again: reuse; the whole grant goes, r2 and its access token included
    assert_oauth_error(op.refresh(&r1).await, 400, "invalid_grant").await;
    assert_oauth_error(op.refresh(&r2).await, 400, "invalid_grant").await;
    assert_eq!(op.userinfo(&at2).await.status(), StatusCode::UNAUTHORIZED);
    // without offline_access: no refresh token
    let t = op.tokens(&mut b, &[("scope", "openid")]).await;
    assert!(t.get("refresh_token").is_none());
    // a client not registered for the refresh grant gets none either
    let _ = register(&op.app, &op.admin, "norefresh", json!({ "grant_types": ["authorization_code"] })).await;
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_client_and_ends_at_its_sliding_lifetime() {
    let env = FakeEnv::starting_now();
    let op = op_on(TestServer::builder().env(env.env()).spawn().await).await;
    let other = register(&op.app, &op.admin, "other", json!({ "refresh_token_lifetime": 600 })).await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let r1 = t["refresh_token"].as_str().unwrap();
    let body = format!("grant_type=refresh_token&refresh_token={r1}");
    let r = op.app.post_form(&op.app.token_url("t1", "prod"), Some((&other.id, &other.secret)), &body).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    assert_eq!(op.refresh(r1).await.status(), StatusCode::OK, "another client's attempt revoked nothing");
    // the other client's refresh tokens live 600 s unused
    let code = op.code(&mut b, &op.code_url("other", &[("scope", "openid offline_access")])).await;
    let t: Value = op.redeem(&other, &code, Some(VERIFIER)).await.json().await.unwrap();
    env.advance(std::time::Duration::from_secs(600));
    let body = format!("grant_type=refresh_token&refresh_token={}", t["refresh_token"].as_str().unwrap());
    let r = op.app.post_form(&op.app.token_url("t1", "prod"), Some((&other.id, &other.secret)), &body).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}

#[tokio::test]
async fn consent_is_asked_only_of_clients_that_require_it_and_is_remembered() {
    let op = op().await;
    let asks = register(&op.app, &op.admin, "asks", json!({ "require_consent": true })).await;
    let mut b = Browser::new();
    // first-party: no consent page
    op.code(&mut b, &op.code_url("web", &[])).await;
    let page = b.get(&op.code_url("asks", &[])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Allow") && page.body.contains("profile"), "{}", page.body);
    let p = redirect_params(&b.get(&op.code_url("asks", &[("prompt", "none")])).await);
    assert_eq!(p["error"], "consent_required");
    let mut deny = page.form();
    deny.set("decision", "deny");
    assert_eq!(redirect_params(&b.submit(&op.app.base, &deny).await)["error"], "access_denied");
    let mut allow = page.form();
    allow.set("decision", "allow");
    let code = redirect_params(&b.submit(&op.app.base, &allow).await)["code"].clone();
    assert_eq!(op.redeem(&asks, &code, Some(VERIFIER)).await.status(), StatusCode::OK);
    // remembered
    let p = redirect_params(&b.get(&op.code_url("asks", &[("prompt", "none")])).await);
    assert!(p.contains_key("code"), "{p:?}");
    // a wider scope asks again
    let page = b.get(&op.code_url("asks", &[("scope", "openid profile email phone")])).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn the_form_post_response_mode_answers_an_auto_submitting_form() {
    let op = op().await;
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[("response_mode", "form_post")])).await;
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert_eq!(after.status, StatusCode::OK);
    let form = after.form();
    assert_eq!(form.action, CB);
    assert!(form.get("code").is_some() && form.get("state") == Some("st-1"));
    assert!(after.body.contains("<button type=\"submit\">Continue</button>"), "works without JavaScript");
    let csp = after.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
}

#[tokio::test]
async fn app_scoped_authorize_serves_only_that_client() {
    let op = op().await;
    let _other = register(&op.app, &op.admin, "other", json!({})).await;
    let mut b = Browser::new();
    let url = op.code_url("web", &[]).replace("/t1/prod/oauth/authorize", "/t1/prod/other/oauth/authorize");
    assert_error_page(&b.get(&url).await);
    let url = op.code_url("web", &[]).replace("/t1/prod/oauth/authorize", "/t1/prod/web(login)/oauth/authorize");
    let page = b.get(&url).await;
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert!(redirect_params(&after).contains_key("code"));
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in() {
    let op = op().await;
    let (s, _) = op
        .app
        .api(reqwest::Method::PATCH, &format!("{USERS}/{}", op.user_id), &op.admin, Some(json!({ "disabled": true })))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut b = Browser::new();
    let page = b.get(&op.code_url("web", &[])).await;
    let again = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bootstrap_registers_the_public_console_client_in_every_master_track() {
    let op = op().await;
    for (tenant, callback) in [
        ("master", format!("{}/console/callback", op.app.base)),
        ("t1", format!("{}/console/t1/callback", op.app.base)),
    ] {
        let (s, c) = op.app.get_api(&format!("/tenants/{tenant}/tracks/master/apps/console"), &op.admin).await;
        assert_eq!(s, StatusCode::OK, "{tenant}: {c}");
        assert_eq!(c["kind"], "oidc_client");
        assert_eq!(c["client_auth_method"], "none");
        assert_eq!(c["require_pkce"], true);
        assert_eq!(c["redirect_uris"], json!([callback]));
    }
    // it logs the bootstrap admin in (authorization code + PKCE, no secret)
    let password = std::fs::read_to_string(op.app.data_dir.join("admin-password")).unwrap();
    let issuer = op.app.issuer("master", "master");
    let redirect = format!("{}/console/callback", op.app.base);
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "console"),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut b = Browser::new();
    let page = b.get(&format!("{issuer}/oauth/authorize?{q}")).await;
    let mut form = page.form();
    form.set("username", "admin").set("password", password.trim());
    let after = b.submit(&op.app.base, &form).await;
    let loc = after.location().unwrap_or_else(|| panic!("{}", after.body)).to_owned();
    let code = params_of(&loc)["code"].clone();
    let body = format!(
        "grant_type=authorization_code&client_id=console&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        percent_encode(&redirect)
    );
    let r = op.app.post_form(&format!("{issuer}/oauth/token"), None, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_single_page_app_may_call_the_token_userinfo_and_key_endpoints_from_another_origin() {
    let op = op().await;
    let issuer = op.issuer();
    for path in ["oauth/token", "oauth/userinfo", "oauth/keys", ".well-known/openid-configuration"] {
        let r = op
            .app
            .http
            .request(reqwest::Method::OPTIONS, format!("{issuer}/{path}"))
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(r.headers().get("access-control-allow-credentials").is_none(), "no cookies: {path}");
    }
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let r = op.userinfo(t["access_token"].as_str().unwrap()).await;
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let r = op.redeem(&op.client, "spent", Some(VERIFIER)).await;
    assert_eq!(r.headers()["access-control-allow-origin"], "*", "errors are readable too");
    // the authorization endpoint is navigated to, never fetched: no preflight there
    let r = op.app.http.request(reqwest::Method::OPTIONS, format!("{issuer}/oauth/authorize")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().get("access-control-allow-methods").is_none());
}

/// The fragment parameters of a redirect (`#…`).
fn fragment_params(page: &Page) -> BTreeMap<String, String> {
    let loc = page.location().unwrap_or_else(|| panic!("a redirect ({}): {}", page.status, page.body));
    assert!(loc.starts_with(&format!("{CB}#")), "tokens travel in the fragment: {loc}");
    params_of(loc)
}

fn half_sha256(value: &str) -> String {
    b64url(&digest::digest(&digest::SHA256, value.as_bytes()).as_ref()[..16])
}

#[tokio::test]
async fn the_hybrid_flow_returns_a_code_and_tokens_in_the_fragment_with_c_hash_and_at_hash() {
    let op = op().await;
    let both = json!({ "response_types": ["code", "code id_token", "code token id_token", "token id_token", "id_token"],
                       "grant_types": ["authorization_code", "implicit", "refresh_token"] });
    let hybrid = register(&op.app, &op.admin, "hybrid", both).await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    // words in any order (OpenID Connect Core 1.0 §3)
    let p = fragment_params(&b.get(&op.code_url("hybrid", &[("response_type", "id_token token code")])).await);
    let (code, at, id) = (&p["code"], &p["access_token"], &p["id_token"]);
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["state"], "st-1");
    let c = claims(id);
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["c_hash"], half_sha256(code), "§3.3.2.11");
    assert_eq!(c["at_hash"], half_sha256(at), "§3.3.2.11");
    assert_eq!(c["aud"], "hybrid");
    assert_eq!(op.userinfo(at).await.status(), StatusCode::OK);
    // the code of the hybrid flow is redeemed as any code (PKCE applies to it)
    assert_eq!(op.redeem(&hybrid, code, Some(VERIFIER)).await.status(), StatusCode::OK);
    // code id_token: no access token, so no at_hash
    let p = fragment_params(&b.get(&op.code_url("hybrid", &[("response_type", "code id_token")])).await);
    assert!(!p.contains_key("access_token"));
    let c = claims(&p["id_token"]);
    assert_eq!(c["c_hash"], half_sha256(&p["code"]));
    assert!(c.get("at_hash").is_none());
}

#[tokio::test]
async fn the_implicit_flow_needs_a_nonce_and_puts_the_scope_claims_in_a_lone_id_token() {
    let op = op().await;
    let implicit = json!({ "response_types": ["id_token", "token id_token"], "grant_types": ["implicit"] });
    register(&op.app, &op.admin, "spa2", implicit).await;
    let mut b = Browser::new();
    let url = |extra: &[(&str, &str)]| {
        let mut all = vec![("response_type", "id_token"), ("code_challenge", ""), ("code_challenge_method", "")];
        all.extend_from_slice(extra);
        op.code_url("spa2", &all)
    };
    // no nonce: refused, in the fragment
    let p = fragment_params(&b.get(&url(&[("nonce", "")])).await);
    assert_eq!(p["error"], "invalid_request");
    // query cannot carry tokens
    let p = redirect_params(&b.get(&url(&[("response_mode", "query")])).await);
    assert_eq!(p["error"], "invalid_request");
    // id_token alone: the profile and email claims are in it
    let page = b.get(&url(&[])).await;
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    let p = fragment_params(&after);
    assert!(!p.contains_key("code") && !p.contains_key("access_token"));
    let c = claims(&p["id_token"]);
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["sub"], op.user_id.as_str());
    assert_eq!(c["name"], "Alice Liddell");
    assert_eq!(c["email"], "Alice@Example.com");
    // token id_token: an access token, at_hash, no refresh token ever
    let p =
        fragment_params(&b.get(&url(&[("response_type", "token id_token"), ("scope", "openid offline_access")])).await);
    assert_eq!(claims(&p["id_token"])["at_hash"], half_sha256(&p["access_token"]));
    assert!(!p.contains_key("refresh_token"));
    // a response type the client did not register
    let p = redirect_params(&b.get(&op.code_url("spa2", &[])).await);
    assert_eq!(p["error"], "unauthorized_client");
    // and web, registered for code only, may not use the implicit ones
    let p = fragment_params(&b.get(&op.code_url("web", &[("response_type", "id_token")])).await);
    assert_eq!(p["error"], "unauthorized_client");
}

impl Op {
    fn end_session_url(&self, params: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("{}/oauth/endsession?{q}", self.issuer())
    }
}

const AFTER: &str = "https://app.example/bye";

#[tokio::test]
async fn logout_with_a_valid_hint_ends_the_session_and_follows_only_a_registered_uri() {
    let op = op().await;
    register(&op.app, &op.admin, "rp", json!({ "post_logout_redirect_uris": [AFTER] })).await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("rp", &[])).await;
    let t = op.tokens(&mut b, &[]).await;
    let id = t["id_token"].as_str().unwrap().to_owned();
    // a hint issued to web, and a URI registered for rp only: the signed-out page
    let page = b.get(&op.end_session_url(&[("id_token_hint", &id), ("post_logout_redirect_uri", AFTER)])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("You are signed out"));
    assert!(!b.cookies.contains_key("ferrid_session"), "the cookie is cleared");
    let p = redirect_params(&b.get(&op.code_url("web", &[("prompt", "none")])).await);
    assert_eq!(p["error"], "login_required", "after logout, prompt=none is login_required");
    // rp's own hint with its registered URI: redirected there with state
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("rp", &[])).await;
    let rp = register_secret(&op, "rp").await;
    let t: Value = op.redeem(&rp, &code, Some(VERIFIER)).await.json().await.unwrap();
    let hint = t["id_token"].as_str().unwrap();
    let page = b
        .get(&op.end_session_url(&[("id_token_hint", hint), ("post_logout_redirect_uri", AFTER), ("state", "s9")]))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some(format!("{AFTER}?state=s9").as_str()));
    let p = redirect_params(&b.get(&op.code_url("rp", &[("prompt", "none")])).await);
    assert_eq!(p["error"], "login_required");
}

/// rp's secret: a new one added through the API (the registration's was not kept).
async fn register_secret(op: &Op, app: &str) -> ClientCreds {
    let (s, b) = op.app.post_api(&format!("{APPS}/{app}/secrets"), &op.admin, json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    ClientCreds { id: app.into(), secret: b["secret"].as_str().or(b["client_secret"].as_str()).unwrap().into() }
}

#[tokio::test]
async fn logout_without_a_hint_asks_the_person_to_confirm() {
    let op = op().await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    let page = b.get(&op.end_session_url(&[("client_id", "web"), ("state", "x")])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(b.cookies.contains_key("ferrid_session"), "nothing ended before the person confirms");
    // a forged confirmation does nothing
    let mut forged = page.form();
    forged.set("csrf", &b64url(&[1; 32]));
    assert_error_page(&b.submit(&op.app.base, &forged).await);
    assert!(redirect_params(&b.get(&op.code_url("web", &[("prompt", "none")])).await).contains_key("code"));
    let done = b.submit(&op.app.base, &page.form()).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("You are signed out"));
    assert_eq!(redirect_params(&b.get(&op.code_url("web", &[("prompt", "none")])).await)["error"], "login_required");
}

#[tokio::test]
async fn a_bad_hint_or_an_unknown_client_gets_an_error_page() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    register(&op.app, &op.admin, "rp", json!({})).await;
    for params in [
        vec![("id_token_hint", "not-a-token")],
        vec![("id_token_hint", t["access_token"].as_str().unwrap())],
        vec![("client_id", "nobody")],
        vec![("id_token_hint", t["id_token"].as_str().unwrap()), ("client_id", "rp")],
    ] {
        assert_error_page(&b.get(&op.end_session_url(&params)).await);
    }
}

#[tokio::test]
async fn front_channel_logout_loads_every_other_client_of_the_session_with_iss_and_sid() {
    let op = op().await;
    register(&op.app, &op.admin, "rp1", json!({ "frontchannel_logout_uri": "https://rp1.example/fc" })).await;
    register(&op.app, &op.admin, "rp2", json!({ "frontchannel_logout_uri": "https://rp2.example/fc?x=1" })).await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("rp1", &[])).await;
    op.code(&mut b, &op.code_url("rp2", &[])).await;
    let t = op.tokens(&mut b, &[]).await;
    let id = t["id_token"].as_str().unwrap();
    let sid = claims(id)["sid"].as_str().unwrap().to_owned();
    let page = b.get(&op.end_session_url(&[("id_token_hint", id)])).await;
    assert_eq!(page.status, StatusCode::OK);
    let iss = percent_encode(&op.issuer());
    for want in [
        format!("https://rp1.example/fc?iss={iss}&amp;sid={sid}"),
        format!("https://rp2.example/fc?x=1&amp;iss={iss}&amp;sid={sid}"),
    ] {
        assert!(page.body.contains(&want), "{want} in {}", page.body);
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-src https://rp1.example https://rp2.example"), "{csp}");
    // rp1 asking to log out is not framed itself
    let mut b = Browser::new();
    let code = op.code(&mut b, &op.code_url("rp1", &[])).await;
    op.code(&mut b, &op.code_url("rp2", &[])).await;
    let rp1 = register_secret(&op, "rp1").await;
    let t: Value = op.redeem(&rp1, &code, Some(VERIFIER)).await.json().await.unwrap();
    let page = b.get(&op.end_session_url(&[("id_token_hint", t["id_token"].as_str().unwrap())])).await;
    assert!(!page.body.contains("rp1.example") && page.body.contains("rp2.example"), "{}", page.body);
}

#[tokio::test]
async fn an_id_token_hint_of_another_person_needs_a_new_login() {
    let op = op().await;
    op.app.create(USERS, &op.admin, json!({ "username": "bob", "password": "another long passphrase 7" })).await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let alice_hint = t["id_token"].as_str().unwrap().to_owned();
    // bob logs in in another browser and gets his own ID token
    let mut bob = Browser::new();
    let page = bob.get(&op.code_url("web", &[])).await;
    let after = op.log_in(&mut bob, &page, "bob", "another long passphrase 7").await;
    let code = redirect_params(&after)["code"].clone();
    let bt: Value = op.redeem(&op.client, &code, Some(VERIFIER)).await.json().await.unwrap();
    let bob_hint = bt["id_token"].as_str().unwrap();
    // alice's browser with bob's hint: prompt=none → login_required; otherwise the login page
    let p = redirect_params(&b.get(&op.code_url("web", &[("prompt", "none"), ("id_token_hint", bob_hint)])).await);
    assert_eq!(p["error"], "login_required");
    assert_eq!(b.get(&op.code_url("web", &[("id_token_hint", bob_hint)])).await.status, StatusCode::OK);
    // her own hint (expired or not) is fine
    let p = redirect_params(&b.get(&op.code_url("web", &[("prompt", "none"), ("id_token_hint", &alice_hint)])).await);
    assert!(p.contains_key("code"));
    // a hint that is not an ID token of this track
    let p = redirect_params(&b.get(&op.code_url("web", &[("id_token_hint", "nope")])).await);
    assert_eq!(p["error"], "invalid_request");
}

#[tokio::test]
async fn a_session_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let op = op_on(spawn_in(dir).await).await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    // a second server on the same data directory: the cookie's session is in the store
    let again = Op {
        app: TestServer::builder().data_dir(path).spawn().await,
        admin: op.admin.clone(),
        client: ClientCreds { id: op.client.id.clone(), secret: op.client.secret.clone() },
        user_id: op.user_id.clone(),
    };
    let p = redirect_params(&b.get(&again.code_url("web", &[("prompt", "none")])).await);
    let code = p.get("code").unwrap_or_else(|| panic!("logged in after the restart: {p:?}")).clone();
    assert_eq!(again.redeem(&again.client, &code, Some(VERIFIER)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_hybrid_code_token_response_has_no_id_token_needs_no_nonce_and_the_code_brings_one() {
    let op = op().await;
    let hybrid = json!({ "response_types": ["code token"], "grant_types": ["authorization_code", "implicit"] });
    let client = register(&op.app, &op.admin, "ct", hybrid).await;
    let mut b = Browser::new();
    op.code(&mut b, &op.code_url("web", &[])).await;
    // OpenID Connect Core 1.0 §3.3.2.1: the nonce is optional for `code token`
    let p = fragment_params(&b.get(&op.code_url("ct", &[("response_type", "token code"), ("nonce", "")])).await);
    assert!(!p.contains_key("id_token"), "§3.3.2.5: no ID token from the authorization endpoint");
    assert!(!p.contains_key("refresh_token"));
    assert_eq!((p["token_type"].as_str(), p["state"].as_str()), ("Bearer", "st-1"));
    assert_eq!(op.userinfo(&p["access_token"]).await.status(), StatusCode::OK);
    let r = op.redeem(&client, &p["code"], Some(VERIFIER)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    let c = claims(body["id_token"].as_str().unwrap());
    assert_eq!(c["aud"], "ct");
    assert!(c.get("nonce").is_none());
    // it returns a token, so never in the query
    let p = redirect_params(
        &b.get(&op.code_url("ct", &[("response_type", "code token"), ("response_mode", "query")])).await,
    );
    assert_eq!(p["error"], "invalid_request");
}
