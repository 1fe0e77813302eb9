//! Introspection (RFC 7662) and revocation (RFC 7009), black-box (docs/provider.md
//! "Introspection and revocation"): who may ask, the one inactive answer, what an active
//! answer carries, what revoking takes back, and the deny-list's reach (UserInfo, the
//! management API).

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrid_testkit::{browser::Browser, *};

use crate::provider::{Op, op, register};

impl Op {
    fn endpoint(&self, which: &str) -> String {
        format!("{}/oauth/{which}", self.issuer())
    }

    async fn ask(&self, which: &str, creds: Option<&ClientCreds>, body: &str) -> reqwest::Response {
        self.app.post_form(&self.endpoint(which), creds.map(|c| (c.id.as_str(), c.secret.as_str())), body).await
    }

    async fn introspect(&self, creds: &ClientCreds, token: &str) -> Value {
        let r = self.ask("introspect", Some(creds), &format!("token={}", percent_encode(token))).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        r.json().await.unwrap()
    }

    async fn revoke(&self, creds: &ClientCreds, token: &str) -> reqwest::Response {
        self.ask("revoke", Some(creds), &format!("token={}", percent_encode(token))).await
    }

    /// A client-credentials client of t1/prod granted orders:read, and a token of it.
    async fn service(&self, name: &str) -> (ClientCreds, String) {
        let svc = self
            .app
            .client(&self.admin, "t1", "prod", name, "client_secret_basic", api::grants(&[("orders", &["read"])]))
            .await;
        let token = self.app.token_for("t1", "prod", &svc, "").await;
        (svc, token)
    }
}

fn inactive() -> Value {
    json!({ "active": false })
}

#[tokio::test]
async fn an_active_access_token_is_described_with_the_rfc7662_members() {
    let op = op().await;
    let (svc, cc) = op.service("svc").await;
    let a = op.introspect(&svc, &cc).await;
    let c = claims(&cc);
    assert_eq!(a["active"], true);
    for k in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"] {
        assert_eq!(a[k], c[k], "{k}: {a}");
    }
    assert_eq!(a["token_type"], "Bearer");
    // a user's access token, asked about by another client of the track
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let a = op.introspect(&svc, t["access_token"].as_str().unwrap()).await;
    assert_eq!(a["active"], true);
    assert_eq!(a["sub"], op.user_id.as_str());
    assert_eq!(a["client_id"], "web");
    // a refresh token
    let rt = t["refresh_token"].as_str().unwrap();
    let a = op.introspect(&op.client, rt).await;
    assert_eq!(a["active"], true, "{a}");
    assert_eq!(a["token_type"], "refresh_token");
    assert_eq!(a["client_id"], "web");
    assert_eq!(a["sub"], op.user_id.as_str());
    assert_eq!(a["scope"], "openid offline_access");
    assert!(a["exp"].is_i64() && a["iat"].is_i64() && a["jti"].is_string(), "{a}");
    // the hint is a hint only: a wrong one still finds the token
    let r = op.ask("introspect", Some(&svc), &format!("token={rt}&token_type_hint=access_token")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    let r = op.ask("introspect", Some(&svc), &format!("token={cc}&token_type_hint=refresh_token")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn anything_not_active_is_exactly_active_false() {
    let op = op().await;
    let (svc, cc) = op.service("svc").await;
    // a changed signature byte (not the last character, whose low bits base64url ignores)
    let i = cc.len() - 10;
    let flipped = if &cc[i..=i] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &cc[..i], &cc[i + 1..]);
    // a token of another track, signed by that track's key
    op.app.tenant_track(&op.admin, "t1", "test", "ES256").await;
    op.app.resource(&op.admin, "t1", "test", "orders", &["read"]).await;
    let other = op
        .app
        .client(&op.admin, "t1", "test", "svc", "client_secret_basic", api::grants(&[("orders", &["read"])]))
        .await;
    let foreign = op.app.token_for("t1", "test", &other, "").await;
    // an ID token is not an access token
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    for token in [tampered.as_str(), "nope", foreign.as_str(), &"a".repeat(43), t["id_token"].as_str().unwrap()] {
        assert_eq!(op.introspect(&svc, token).await, inactive(), "{token}");
    }
}

#[tokio::test]
async fn an_expired_access_token_is_inactive() {
    let env = ferrid_core::env::FakeEnv::starting_now();
    let op = crate::provider::op_on(TestServer::builder().env(env.env()).spawn().await).await;
    let (svc, cc) = op.service("svc").await;
    env.advance(std::time::Duration::from_secs(3600));
    assert_eq!(op.introspect(&svc, &cc).await, inactive());
}

#[tokio::test]
async fn the_caller_must_authenticate_as_a_confidential_client_of_the_track() {
    let op = op().await;
    let (svc, cc) = op.service("svc").await;
    let body = format!("token={cc}");
    assert_oauth_error(op.ask("introspect", None, &body).await, 401, "invalid_client").await;
    let wrong = ClientCreds { id: "svc".into(), secret: "wrong".into() };
    let r = op.ask("introspect", Some(&wrong), &body).await;
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_oauth_error(r, 401, "invalid_client").await;
    // a public client cannot authenticate, so it cannot introspect
    register(&op.app, &op.admin, "spa", json!({ "client_auth_method": "none" })).await;
    assert_oauth_error(op.ask("introspect", None, &format!("{body}&client_id=spa")).await, 401, "invalid_client").await;
    // a client of another track is no client here
    op.app.tenant_track(&op.admin, "t1", "test", "ES256").await;
    let other = op.app.client(&op.admin, "t1", "test", "svc2", "client_secret_basic", json!([])).await;
    assert_oauth_error(op.ask("introspect", Some(&other), &body).await, 401, "invalid_client").await;
    // the token parameter is required; the body is a form
    assert_oauth_error(op.ask("introspect", Some(&svc), "token_type_hint=access_token").await, 400, "invalid_request")
        .await;
    let r = op
        .app
        .http
        .post(op.endpoint("introspect"))
        .basic_auth("svc", Some(&svc.secret))
        .json(&json!({ "token": cc }))
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    // each client by its own method: web is client_secret_basic, so its secret in the
    // body is refused
    let r = op.ask("introspect", None, &format!("{body}&client_id=web&client_secret={}", op.client.secret)).await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn revoking_an_access_token_denies_it_everywhere_until_it_expires() {
    let op = op().await;
    let (svc, cc) = op.service("svc").await;
    let r = op.revoke(&svc, &cc).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(op.introspect(&svc, &cc).await, inactive());
    // a user's access token: UserInfo refuses it at once
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(op.userinfo(at).await.status(), StatusCode::OK);
    assert_eq!(op.revoke(&op.client, at).await.status(), StatusCode::OK);
    assert_eq!(op.userinfo(at).await.status(), StatusCode::UNAUTHORIZED);
    // revoking again, or an unknown token: 200, nothing happens
    assert_eq!(op.revoke(&op.client, at).await.status(), StatusCode::OK);
    assert_eq!(op.revoke(&op.client, "no-such-token").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_clients_token_is_answered_200_and_not_revoked() {
    let op = op().await;
    let (_svc, cc) = op.service("svc").await;
    let (other, _) = op.service("other").await;
    assert_eq!(op.revoke(&other, &cc).await.status(), StatusCode::OK);
    assert_eq!(op.introspect(&other, &cc).await["active"], true);
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(op.revoke(&other, rt).await.status(), StatusCode::OK);
    assert_eq!(op.refresh(rt).await.status(), StatusCode::OK, "still good");
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_whole_rotated_family() {
    let op = op().await;
    let mut b = Browser::new();
    let t1 = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let t2: Value = op.refresh(t1["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    let t3: Value = op.refresh(t2["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    let r = op
        .ask(
            "revoke",
            Some(&op.client),
            &format!("token={}&token_type_hint=refresh_token", t3["refresh_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for t in [&t1, &t2, &t3] {
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(op.introspect(&op.client, at).await, inactive());
        assert_eq!(op.userinfo(at).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_oauth_error(op.refresh(t3["refresh_token"].as_str().unwrap()).await, 400, "invalid_grant").await;
    assert_eq!(op.introspect(&op.client, t3["refresh_token"].as_str().unwrap()).await, inactive());
    // a public client revokes its own tokens by client_id alone
    let spa = register(&op.app, &op.admin, "spa", json!({ "client_auth_method": "none" })).await;
    let code = op.code(&mut b, &op.code_url("spa", &[("scope", "openid offline_access")])).await;
    let body = format!(
        "grant_type=authorization_code&client_id=spa&code={code}&redirect_uri={}&code_verifier={}",
        percent_encode(crate::provider::CB),
        crate::provider::VERIFIER
    );
    let t: Value = op.app.post_form(&op.app.token_url("t1", "prod"), None, &body).await.json().await.unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let r = op.ask("revoke", None, &format!("token={rt}&client_id={}", spa.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = op
        .app
        .post_form(
            &op.app.token_url("t1", "prod"),
            None,
            &format!("grant_type=refresh_token&client_id=spa&refresh_token={rt}"),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}

#[tokio::test]
async fn an_id_token_is_an_unsupported_token_type_for_revocation() {
    let op = op().await;
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let r = op.revoke(&op.client, t["id_token"].as_str().unwrap()).await;
    assert_oauth_error(r, 400, "unsupported_token_type").await;
    // the revocation endpoint authenticates too
    assert_oauth_error(op.ask("revoke", None, "token=x").await, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_revoked_token_no_longer_calls_the_management_api() {
    let op = op().await;
    // a second admin client of master/master, so the test keeps its own token
    let ops = op
        .app
        .client(&op.admin, "master", "master", "ops", "client_secret_basic", api::grants(&[("ferrid-api", &["admin"])]))
        .await;
    let token = op.app.token_for("master", "master", &ops, "&scope=ferrid-api:admin").await;
    assert_eq!(op.app.get_api("/tenants", &token).await.0, StatusCode::OK);
    let url = format!("{}/oauth/revoke", op.app.issuer("master", "master"));
    let r = op.app.post_form(&url, Some((&ops.id, &ops.secret)), &format!("token={token}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(op.app.get_api("/tenants", &token).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_the_client_or_the_user_or_ending_sessions_makes_their_tokens_inactive() {
    let op = op().await;
    let (svc, cc) = op.service("svc").await;
    let (watcher, _) = op.service("watcher").await;
    let (s, _) = op.app.api(reqwest::Method::DELETE, "/tenants/t1/tracks/prod/apps/svc", &op.admin, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let _ = svc;
    assert_eq!(op.introspect(&watcher, &cc).await, inactive(), "the client is gone");

    let users = "/tenants/t1/tracks/prod/users";
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[("scope", "openid offline_access")]).await;
    let (at, rt) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());
    assert_eq!(op.introspect(&watcher, at).await["active"], true);
    let (s, _) =
        op.app.api(reqwest::Method::DELETE, &format!("{users}/{}/sessions", op.user_id), &op.admin, None).await;
    assert!(s.is_success(), "{s}");
    assert_eq!(op.introspect(&watcher, at).await, inactive(), "sessions ended");
    assert_eq!(op.introspect(&watcher, rt).await, inactive());

    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let (s, _) = op
        .app
        .api(reqwest::Method::PATCH, &format!("{users}/{}", op.user_id), &op.admin, Some(json!({ "disabled": true })))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(op.introspect(&watcher, at).await, inactive(), "disabled");

    let (s, _) = op
        .app
        .api(reqwest::Method::PATCH, &format!("{users}/{}", op.user_id), &op.admin, Some(json!({ "disabled": false })))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut b = Browser::new();
    let t = op.tokens(&mut b, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let (s, _) = op.app.api(reqwest::Method::DELETE, &format!("{users}/{}", op.user_id), &op.admin, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(op.introspect(&watcher, at).await, inactive(), "deleted");
}

#[tokio::test]
async fn private_key_jwt_callers_may_sign_for_the_introspection_endpoint() {
    let op = op().await;
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = ferrid_testkit::certs::self_signed(&kp);
    let app = op
        .app
        .create(
            "/tenants/t1/tracks/prod/apps",
            &op.admin,
            json!({ "name": "rs", "kind": "oauth_client", "client_auth_method": "private_key_jwt" }),
        )
        .await;
    assert_eq!(app["client_id"], "rs");
    let (s, key) =
        op.app.post_api("/tenants/t1/tracks/prod/apps/rs/keys", &op.admin, json!({ "pem": cert.pem() })).await;
    assert_eq!(s, StatusCode::CREATED, "{key}");
    let kid = key["kid"].as_str().unwrap();
    let (_, cc) = op.service("svc").await;
    let der = kp.serialize_der();
    let signing = jsonwebtoken::EncodingKey::from_ec_der(&der);
    let now = ferrid_testkit::fake::now();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(kid.to_owned());
    let assertion = jsonwebtoken::encode(
        &h,
        &json!({ "iss": "rs", "sub": "rs", "aud": op.endpoint("introspect"), "exp": now + 60, "iat": now,
                 "jti": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(now.to_be_bytes()) }),
        &signing,
    )
    .unwrap();
    let body = format!(
        "token={cc}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
    );
    let r = op.ask("introspect", None, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn discovery_lists_the_introspection_and_revocation_endpoints_truthfully() {
    let op = op().await;
    let d: Value = op
        .app
        .http
        .get(format!("{}/.well-known/openid-configuration", op.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["introspection_endpoint"], op.endpoint("introspect"));
    assert_eq!(d["revocation_endpoint"], op.endpoint("revoke"));
    assert_eq!(
        d["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "client_secret_basic", "private_key_jwt"])
    );
    assert_eq!(
        d["revocation_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "client_secret_basic", "private_key_jwt", "none"])
    );
    assert_eq!(
        d["introspection_endpoint_auth_signing_alg_values_supported"],
        d["token_endpoint_auth_signing_alg_values_supported"]
    );
    // the app-scoped endpoints answer too
    let (svc, cc) = op.service("svc").await;
    let url = format!("{}/svc/oauth/introspect", op.issuer());
    let r = op.app.post_form(&url, Some((&svc.id, &svc.secret)), &format!("token={cc}")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    let (other, _) = op.service("other").await;
    let r = op.app.post_form(&url, Some((&other.id, &other.secret)), &format!("token={cc}")).await;
    assert_oauth_error(r, 401, "invalid_client").await;
}
