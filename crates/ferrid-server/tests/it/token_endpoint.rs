//! The token endpoint: client credentials grant and client authentication (RFC 6749
//! §2.3, §3.2, §4.4, §5.2) and the RFC 9068 token it issues.

use serde_json::{Value, json};

use ferrid_testkit::*;

#[tokio::test]
async fn basic_client_gets_an_rfc9068_token_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    let (_, c) = app.fixture("prod", "RS256").await;
    let r = app.token("t1", "prod", &c, "&scope=party-api2:read1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 3600);
    assert_eq!(b["scope"], "party-api2:read1");
    assert!(b.get("refresh_token").is_none() && b.get("id_token").is_none());
    let token = b["access_token"].as_str().unwrap();
    let h = header(token);
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "RS256");
    assert!(h["kid"].is_string());
    let cl = verify_with_jwks(&app, token, "t1", "prod", "party-api2").await;
    assert_eq!(cl["iss"], app.issuer("t1", "prod"));
    assert_eq!(cl["sub"], "svc");
    assert_eq!(cl["client_id"], "svc");
    assert_eq!(cl["aud"], "party-api2");
    assert_eq!(cl["scope"], "party-api2:read1");
    assert_eq!(cl["exp"].as_i64().unwrap() - cl["iat"].as_i64().unwrap(), 3600);
    assert_eq!(cl["nbf"], cl["iat"]);
    assert_eq!(cl["jti"].as_str().unwrap().len(), 22);
}

#[tokio::test]
async fn every_track_algorithm_issues_tokens_that_verify() {
    let (app, admin) = spawn_admin().await;
    for (i, alg) in ["RS256", "PS256", "ES256", "EdDSA"].iter().enumerate() {
        let tr = format!("tr{i}");
        app.tenant_track(&admin, "t1", &tr, alg).await;
        app.resource(&admin, "t1", &tr, "api", &["read"]).await;
        let c = app
            .client(&admin, "t1", &tr, "svc", "client_secret_post", json!([{ "resource": "api", "scopes": ["read"] }]))
            .await;
        let body = format!("grant_type=client_credentials&client_id={}&client_secret={}", c.id, c.secret);
        let r = app.post_form(&app.token_url("t1", &tr), None, &body).await;
        assert_eq!(r.status(), 200, "{alg}");
        let b: Value = r.json().await.unwrap();
        let token = b["access_token"].as_str().unwrap();
        assert_eq!(header(token)["alg"], *alg);
        let cl = verify_with_jwks(&app, token, "t1", &tr, "api").await;
        assert_eq!(cl["scope"], "api:read");
    }
}

#[tokio::test]
async fn post_client_authenticates_in_the_body_and_also_by_basic() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let c = app.client(&admin, "t1", "prod", "svc", "client_secret_post", json!([])).await;
    let url = app.token_url("t1", "prod");
    let body = format!("grant_type=client_credentials&client_id={}&client_secret={}", c.id, c.secret);
    assert_eq!(app.post_form(&url, None, &body).await.status(), 200);
    assert_eq!(app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await.status(), 200);
}

#[tokio::test]
async fn basic_client_sending_its_secret_in_the_body_is_invalid_client() {
    let (app, _, c) = spawn_fixture().await;
    let body = format!("grant_type=client_credentials&client_id={}&client_secret={}", c.id, c.secret);
    let r = app.post_form(&app.token_url("t1", "prod"), None, &body).await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn wrong_secret_is_401_invalid_client_with_www_authenticate() {
    let (app, _, c) = spawn_fixture().await;
    let r = app
        .post_form(&app.token_url("t1", "prod"), Some((&c.id, "wrong-secret")), "grant_type=client_credentials")
        .await;
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let b = assert_oauth_error(r, 401, "invalid_client").await;
    assert_ne!(b["error"], "access_denied");
    // a secret differing only in its last character
    let mut near = c.secret.clone();
    let last = near.pop().unwrap();
    near.push(if last == 'A' { 'B' } else { 'A' });
    let r = app.post_form(&app.token_url("t1", "prod"), Some((&c.id, &near)), "grant_type=client_credentials").await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn unknown_client_and_missing_credentials_are_invalid_client() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    assert_oauth_error(
        app.post_form(&url, Some(("nobody", &c.secret)), "grant_type=client_credentials").await,
        401,
        "invalid_client",
    )
    .await;
    assert_oauth_error(app.post_form(&url, None, "grant_type=client_credentials").await, 401, "invalid_client").await;
    assert_oauth_error(
        app.post_form(&url, None, "grant_type=client_credentials&client_id=svc").await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn a_client_of_another_track_is_unknown_here() {
    let (app, admin, c) = spawn_fixture().await;
    app.tenant_track(&admin, "t1", "test", "ES256").await;
    let r = app.token("t1", "test", &c, "").await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn credentials_in_both_header_and_body_are_invalid_request() {
    let (app, _, c) = spawn_fixture().await;
    let body = format!("grant_type=client_credentials&client_id={}&client_secret={}", c.id, c.secret);
    let r = app.post_form(&app.token_url("t1", "prod"), Some((&c.id, &c.secret)), &body).await;
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn basic_credentials_are_form_url_decoded_after_base64() {
    let (app, admin, _) = spawn_fixture().await;
    let c = app.client(&admin, "t1", "prod", "my-svc_1", "client_secret_basic", json!([])).await;
    // openid-client style: every non-alphanumeric character percent-encoded.
    let enc = |s: &str| {
        s.chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch.to_string() } else { format!("%{:02X}", ch as u32) })
            .collect::<String>()
    };
    let id = enc(&c.id);
    assert_eq!(id, "my%2Dsvc%5F1");
    let r = app
        .post_form(&app.token_url("t1", "prod"), Some((&id, &enc(&c.secret))), "grant_type=client_credentials")
        .await;
    assert_eq!(r.status(), 200);
    // and '+' is a space once decoded, so it is not the literal character
    let r = app
        .post_form(&app.token_url("t1", "prod"), Some(("my+svc_1", &c.secret)), "grant_type=client_credentials")
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn grant_type_rules() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let auth = Some((c.id.as_str(), c.secret.as_str()));
    assert_oauth_error(app.post_form(&url, auth, "scope=orders:read").await, 400, "invalid_request").await;
    assert_oauth_error(
        app.post_form(&url, auth, "grant_type=password&username=a&password=b").await,
        400,
        "unsupported_grant_type",
    )
    .await;
    // a grant ferrid offers, but not to this client-credentials client
    assert_oauth_error(
        app.post_form(&url, auth, "grant_type=authorization_code&code=x").await,
        400,
        "unauthorized_client",
    )
    .await;
    assert_oauth_error(app.post_form(&url, auth, "grant_type=urn:x:unknown").await, 400, "unsupported_grant_type")
        .await;
    // refused even without client authentication: nothing is learnt about the client
    assert_oauth_error(app.post_form(&url, None, "grant_type=password").await, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let auth = Some((c.id.as_str(), c.secret.as_str()));
    let r = app.post_form(&url, auth, "grant_type=client_credentials&grant_type=client_credentials").await;
    assert_oauth_error(r, 400, "invalid_request").await;
    let r = app.post_form(&url, auth, "grant_type=client_credentials&scope=orders:read&scope=orders:read").await;
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn only_form_bodies_are_accepted() {
    let (app, _, c) = spawn_fixture().await;
    let r = app
        .http
        .post(app.token_url("t1", "prod"))
        .header("authorization", basic(&c.id, &c.secret))
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    let r = app.http.get(app.token_url("t1", "prod")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn app_scoped_token_endpoint_requires_the_client_to_be_that_app() {
    let (app, admin, c) = spawn_fixture().await;
    let other = app.client(&admin, "t1", "prod", "other", "client_secret_basic", json!([])).await;
    let url = format!("{}/svc/oauth/token", app.issuer("t1", "prod"));
    assert_eq!(app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await.status(), 200);
    let r = app.post_form(&url, Some((&other.id, &other.secret)), "grant_type=client_credentials").await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let url = format!("{}/svc(*)/oauth/token", app.issuer("t1", "prod"));
    assert_eq!(app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await.status(), 200);
}

#[tokio::test]
async fn unknown_tenant_or_track_is_404() {
    let (app, _, c) = spawn_fixture().await;
    for url in [app.token_url("nope", "prod"), app.token_url("t1", "nope")] {
        let r = app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await;
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn the_client_lifetime_sets_expires_in_and_exp() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let body = json!({ "name": "short", "kind": "oauth_client", "access_token_lifetime": 300 });
    let b = app.create("/tenants/t1/tracks/prod/apps", &admin, body).await;
    let secret = b["client_secret"].as_str().unwrap();
    let r = app.post_form(&app.token_url("t1", "prod"), Some(("short", secret)), "grant_type=client_credentials").await;
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["expires_in"], 300);
    let cl = claims(b["access_token"].as_str().unwrap());
    assert_eq!(cl["exp"].as_i64().unwrap() - cl["iat"].as_i64().unwrap(), 300);
}

#[tokio::test]
async fn issuing_tokens_makes_no_store_call() {
    let (app, _, c) = spawn_fixture().await;
    let before = app.metric("ferrid_store_calls_total").await;
    for _ in 0..20 {
        let r = app.token("t1", "prod", &c, "").await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.metric("ferrid_store_calls_total").await, before);
    assert!(app.metric("ferrid_tokens_issued_total").await >= 20);
    // a failure is answered first, then counted in the shared buckets and audited off the
    // request path: two store calls, made by the reporter task
    let r = app.post_form(&app.token_url("t1", "prod"), Some((&c.id, "wrong")), "grant_type=client_credentials").await;
    assert_eq!(r.status(), 401);
    eventually(|| async { app.metric("ferrid_store_calls_total").await == before + 2 }).await;
    assert_eq!(app.metric("ferrid_store_calls_total").await, before + 2);
}

#[tokio::test]
async fn each_token_has_its_own_jti() {
    let (app, _, c) = spawn_fixture().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let r = app.token("t1", "prod", &c, "").await;
        let b: Value = r.json().await.unwrap();
        assert!(seen.insert(claims(b["access_token"].as_str().unwrap())["jti"].as_str().unwrap().to_owned()));
    }
}
