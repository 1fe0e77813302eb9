//! `oidc_client` registrations (docs/api.md "oidc_client"): credentials and endpoints at
//! registration, validation named by field, the client-credentials grant they may hold,
//! and the OpenID Connect Discovery 1.0 document.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use ferrid_testkit::{api::grants, *};

const APPS: &str = "/tenants/t1/tracks/prod/apps";

fn oidc(name: &str, extra: Value) -> Value {
    let mut b = json!({ "name": name, "kind": "oidc_client", "redirect_uris": ["https://app.example/cb"] });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

async fn raw(app: &TestApp, url: &str) -> (u16, String) {
    let r = app.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn registering_answers_the_credentials_and_the_provider_endpoints_for_each_method() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let issuer = app.issuer("t1", "prod");
    for (name, method, secret) in [
        ("post", "client_secret_post", true),
        ("basic", "client_secret_basic", true),
        ("jwt", "private_key_jwt", false),
        ("spa", "none", false),
    ] {
        let b = app.create(APPS, &admin, oidc(name, json!({ "client_auth_method": method }))).await;
        assert_eq!(b["client_id"], name);
        assert_eq!(b["kind"], "oidc_client");
        assert_eq!(b["client_auth_method"], method);
        assert_eq!(b["client_secret"].is_string(), secret, "{method}: {b}");
        assert_eq!(b["issuer"], issuer);
        assert_eq!(b["token_endpoint"], format!("{issuer}/oauth/token"));
        assert_eq!(b["discovery_endpoint"], format!("{issuer}/.well-known/openid-configuration"));
        // the provider's endpoints (docs/provider.md)
        for (field, path) in [
            ("authorization_endpoint", "authorize"),
            ("userinfo_endpoint", "userinfo"),
            ("end_session_endpoint", "endsession"),
        ] {
            assert_eq!(b[field], format!("{issuer}/oauth/{path}"), "{field}");
        }
        assert_eq!(b["response_types"], json!(["code"]));
        assert_eq!(b["require_pkce"], true);
        let (s, secrets) = app.get_api(&format!("{APPS}/{name}/secrets"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(secrets["items"].as_array().map_or(0, Vec::len), usize::from(secret), "{method}: {secrets}");
    }
    // an oauth_client's registration names no provider endpoint, as before
    let b = app.create(APPS, &admin, json!({ "name": "svc", "kind": "oauth_client" })).await;
    assert!(b.get("authorization_endpoint").is_none(), "{b}");
}

#[tokio::test]
async fn the_secret_is_shown_once_and_a_replace_round_trips() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let reg = app.create(APPS, &admin, oidc("web", json!({ "response_types": ["code"] }))).await;
    let (s, got) = app.get_api(&format!("{APPS}/web"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(got.get("client_secret").is_none(), "{got}");
    assert_eq!(got["client_id"], "web");
    // the registration response, sent back with a change, replaces the app
    let mut body = reg.clone();
    body.as_object_mut().unwrap().remove("client_secret");
    body["redirect_uris"] = json!(["https://app.example/cb", "http://localhost:3000/cb"]);
    body["grant_types"] = json!(["authorization_code", "refresh_token"]);
    body["scopes"] = json!([{ "scope": "openid" }, { "scope": "orders", "claims": ["order_id"] }]);
    let (s, put) = app.api(Method::PUT, &format!("{APPS}/web"), &admin, Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{put}");
    let (_, got) = app.get_api(&format!("{APPS}/web"), &admin).await;
    assert_eq!(got["redirect_uris"], json!(["https://app.example/cb", "http://localhost:3000/cb"]));
    assert_eq!(got["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(got["scopes"][1], json!({ "scope": "orders", "claims": ["order_id"] }));
    assert_eq!(got["version"], 2);
}

#[tokio::test]
async fn invalid_redirect_uris_are_refused_naming_each_index() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let body =
        oidc("web", json!({ "redirect_uris": ["https://ok.example/cb", "https://a.example/#x", "http://a.example"] }));
    let (s, b) = app.post_api(APPS, &admin, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let fields: Vec<&str> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["redirect_uris[1]", "redirect_uris[2]"]);
    let (s, b) =
        app.post_api(APPS, &admin, oidc("spa", json!({ "client_auth_method": "none", "require_pkce": false }))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["errors"][0]["field"], "require_pkce");
    let (s, _) = app.get_api(&format!("{APPS}/web"), &admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing was registered");
}

#[tokio::test]
async fn an_oidc_client_with_the_client_credentials_grant_gets_tokens_without_a_store_call() {
    let (app, admin) = spawn_t1_prod(&[("orders", &["read", "write"])]).await;
    let body = oidc(
        "web",
        json!({ "client_auth_method": "client_secret_basic", "grant_types": ["authorization_code", "client_credentials"],
                "resource_scopes": grants(&[("orders", &["read"])]) }),
    );
    let c = ClientCreds::from_body(&app.create(APPS, &admin, body).await);
    let before = app.metric("ferrid_store_calls_total").await;
    for _ in 0..5 {
        let tok = app.token_for("t1", "prod", &c, "&scope=orders:read").await;
        let cl = verify_with_jwks(&app, &tok, "t1", "prod", "orders").await;
        assert_eq!(cl["client_id"], "web");
        assert_eq!(cl["scope"], "orders:read");
    }
    assert_eq!(app.metric("ferrid_store_calls_total").await, before);
}

#[tokio::test]
async fn an_oidc_client_without_the_client_credentials_grant_is_an_unauthorized_client() {
    let (app, admin) = spawn_t1_prod(&[("orders", &["read"])]).await;
    let body = oidc(
        "web",
        json!({ "client_auth_method": "client_secret_basic", "resource_scopes": grants(&[("orders", &["read"])]) }),
    );
    let c = ClientCreds::from_body(&app.create(APPS, &admin, body).await);
    assert_oauth_error(app.token("t1", "prod", &c, "").await, 400, "unauthorized_client").await;
    // a public client identifies itself but the client credentials grant is for
    // confidential clients only (RFC 6749 §4.4)
    app.create(APPS, &admin, oidc("spa", json!({ "client_auth_method": "none" }))).await;
    let r = app.post_form(&app.token_url("t1", "prod"), None, "grant_type=client_credentials&client_id=spa").await;
    assert_oauth_error(r, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn an_oidc_client_with_a_resource_is_also_an_audience() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    app.create(APPS, &admin, oidc("web", json!({ "resource": { "scopes": ["read"] } }))).await;
    let c = app.basic_client(&admin, "t1", "prod", "svc", &[("web", &["read"])]).await;
    let tok = app.token_for("t1", "prod", &c, "&scope=web:read").await;
    assert_eq!(verify_with_jwks(&app, &tok, "t1", "prod", "web").await["scope"], "web:read");
}

#[tokio::test]
async fn discovery_is_a_complete_openid_connect_document() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let scopes = json!([{ "scope": "openid" }, { "scope": "orders", "claims": ["order_id"] }]);
    app.create(APPS, &admin, oidc("web", json!({ "scopes": scopes }))).await;
    let issuer = app.issuer("t1", "prod");
    let (s, text) = raw(&app, &format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(s, 200);
    let d: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["issuer"], issuer);
    assert_eq!(d["authorization_endpoint"], format!("{issuer}/oauth/authorize"));
    assert_eq!(d["userinfo_endpoint"], format!("{issuer}/oauth/userinfo"));
    assert_eq!(d["end_session_endpoint"], format!("{issuer}/oauth/endsession"));
    assert_eq!(d["frontchannel_logout_supported"], true);
    assert_eq!(d["frontchannel_logout_session_supported"], true);
    assert_eq!(
        d["response_types_supported"],
        json!(["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"])
    );
    assert_eq!(d["response_modes_supported"], json!(["query", "fragment", "form_post"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256", "plain"]));
    assert_eq!(
        d["grant_types_supported"],
        json!(["authorization_code", "client_credentials", "implicit", "refresh_token"])
    );
    for (flag, value) in [
        ("claims_parameter_supported", false),
        ("request_parameter_supported", false),
        ("request_uri_parameter_supported", false),
    ] {
        assert_eq!(d[flag], value, "{flag}");
    }
    let listed = |k: &str, x: &str| d[k].as_array().unwrap().iter().any(|v| v == x);
    for s in ["openid", "profile", "email", "address", "phone", "offline_access", "orders"] {
        assert!(listed("scopes_supported", s), "{s}");
    }
    for c in ["sub", "email", "email_verified", "preferred_username", "order_id"] {
        assert!(listed("claims_supported", c), "{c}");
    }
    assert!(listed("token_endpoint_auth_methods_supported", "none"));
    // the RFC 8414 document is the same document
    for url in [
        format!("{issuer}/.well-known/oauth-authorization-server"),
        format!("{}/.well-known/oauth-authorization-server/t1/prod", app.base),
    ] {
        assert_eq!(raw(&app, &url).await, (200, text.clone()), "{url}");
    }
    // the app-scoped form moves every endpoint below the app, keeping the issuer
    let (_, scoped) = raw(&app, &format!("{issuer}/web(login)/.well-known/openid-configuration")).await;
    let scoped: Value = serde_json::from_str(&scoped).unwrap();
    assert_eq!(scoped["issuer"], issuer);
    assert_eq!(scoped["authorization_endpoint"], format!("{issuer}/web/oauth/authorize"));
    assert_eq!(scoped["userinfo_endpoint"], format!("{issuer}/web/oauth/userinfo"));
}

#[tokio::test]
async fn the_openapi_document_describes_the_oidc_client_kind() {
    let app = spawn_app().await;
    let d: Value =
        app.http.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let schemas = &d["components"]["schemas"];
    let kinds: Vec<&Value> = schemas["AppSpec"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["allOf"][1]["properties"]["kind"]["enum"][0])
        .collect();
    assert_eq!(kinds, [&json!("oauth_resource"), &json!("oauth_client"), &json!("oidc_client")]);
    let oidc = &schemas["OidcClientSpec"]["allOf"][1]["properties"];
    for field in
        ["redirect_uris", "response_types", "require_pkce", "grant_types", "scopes", "id_token_lifetime", "resource"]
    {
        assert!(oidc.get(field).is_some(), "{field}");
    }
    assert_eq!(schemas["ClientAuthMethod"]["enum"].as_array().unwrap().len(), 4);
    let registration = &schemas["AppRegistration"]["allOf"][1]["properties"];
    assert!(registration.get("authorization_endpoint").is_some(), "{registration}");
}
