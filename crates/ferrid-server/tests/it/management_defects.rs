//! Issue 18, items 5–8 and 18–20: authorization holes and acceptance defects of the
//! management API, each shown failing before its fix.

use reqwest::Method;
use serde_json::{Value, json};

use crate::permissions::tenant_admin;
use ferrid_testkit::*;

const ADMIN_APP: &str = "/tenants/master/tracks/master/apps/admin";

async fn token(app: &TestApp, t: &str, tr: &str, c: &ClientCreds, extra: &str) -> (u16, Value) {
    let body = format!("grant_type=client_credentials{extra}");
    let r = app.post_form(&app.token_url(t, tr), Some((&c.id, &c.secret)), &body).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A client of `master/master` granted `ferrid-api:tenant`, and its token.
async fn master_tenant_admin(app: &TestApp, admin: &str) -> String {
    let c = app.basic_client(admin, "master", "master", "ops", &[("ferrid-api", &["tenant"])]).await;
    let (s, b) = token(app, "master", "master", &c, "&scope=ferrid-api:tenant").await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_master_tenant_administrator_cannot_take_over_the_admin_client() {
    let (app, admin) = spawn_admin().await;
    let ops = master_tenant_admin(&app, &admin).await;
    // the tenant administrator still manages the master tenant's other apps
    let (s, _) = app.get_api("/tenants/master/tracks/master/apps/ops", &ops).await;
    assert_eq!(s, 200);
    let replacement = json!({ "name": "admin", "kind": "oauth_client", "client_auth_method": "client_secret_post" });
    let attempts = [
        (Method::GET, ADMIN_APP.to_owned(), None),
        (Method::PUT, ADMIN_APP.to_owned(), Some(replacement)),
        (Method::DELETE, ADMIN_APP.to_owned(), None),
        (Method::GET, format!("{ADMIN_APP}/secrets"), None),
        (Method::POST, format!("{ADMIN_APP}/secrets"), Some(json!({}))),
        (Method::POST, format!("{ADMIN_APP}/secrets"), Some(json!({ "secret": "a-secret-the-attacker-chose" }))),
        (Method::GET, format!("{ADMIN_APP}/keys"), None),
    ];
    for (method, path, body) in attempts {
        let (s, b) = app.api(method.clone(), &path, &ops, body).await;
        assert_eq!(s, 403, "{method} {path}: {b}");
    }
    // nothing changed: the admin secret still works and there is still one secret
    let admin_again = app.admin_token().await;
    let (s, secrets) = app.get_api(&format!("{ADMIN_APP}/secrets"), &admin_again).await;
    assert_eq!(s, 200);
    assert_eq!(secrets["items"].as_array().map(Vec::len).unwrap_or_else(|| secrets.as_array().unwrap().len()), 1);
}

#[tokio::test]
async fn the_last_client_holding_ferrid_api_admin_cannot_be_deleted_or_stripped() {
    let (app, admin) = spawn_admin().await;
    let (s, b) = app.api(Method::DELETE, ADMIN_APP, &admin, None).await;
    assert_eq!(s, 409, "{b}");
    let stripped = json!({ "name": "admin", "kind": "oauth_client", "client_auth_method": "client_secret_post" });
    let (s, b) = app.api(Method::PUT, ADMIN_APP, &admin, Some(stripped.clone())).await;
    assert_eq!(s, 409, "{b}");
    let as_resource = json!({ "name": "admin", "kind": "oauth_resource", "scopes": ["x"] });
    let (s, b) = app.api(Method::PUT, ADMIN_APP, &admin, Some(as_resource)).await;
    assert_eq!(s, 409, "{b}");
    // with a second holder, the first may give the privilege up
    app.basic_client(&admin, "master", "master", "admin2", &[("ferrid-api", &["admin"])]).await;
    let (s, b) = app
        .api(
            Method::PUT,
            "/tenants/master/tracks/master/apps/admin2",
            &admin,
            Some(json!({
        "name": "admin2", "kind": "oauth_client", "client_auth_method": "client_secret_basic" })),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn a_management_token_dies_with_its_client_or_its_grant() {
    let (app, admin) = spawn_admin().await;
    let t1 = tenant_admin(&app, &admin, "t1").await;
    let (s, _) = app.get_api("/tenants/t1", &t1).await;
    assert_eq!(s, 200);
    let (s, _) = app.api(Method::DELETE, "/tenants/t1/tracks/master/apps/ops", &admin, None).await;
    assert_eq!(s, 204);
    let (s, _) = app.get_api("/tenants/t1", &t1).await;
    assert_eq!(s, 401, "the deleted client's token still manages the tenant");
    let new_admin = json!({ "name": "ops9", "kind": "oauth_client",
                            "resource_scopes": [{ "resource": "ferrid-api", "scopes": ["tenant"] }] });
    let (s, _) = app.post_api("/tenants/t1/tracks/master/apps", &t1, new_admin).await;
    assert_eq!(s, 401, "the deleted client's token registered an administrator");

    // a withdrawn grant
    let t2 = tenant_admin(&app, &admin, "t2").await;
    let (s, _) = app.get_api("/tenants/t2", &t2).await;
    assert_eq!(s, 200);
    let plain = json!({ "name": "ops", "kind": "oauth_client", "client_auth_method": "client_secret_basic" });
    let (s, b) = app.api(Method::PUT, "/tenants/t2/tracks/master/apps/ops", &admin, Some(plain)).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = app.get_api("/tenants/t2", &t2).await;
    assert_eq!(s, 401, "a token outlived its client's ferrid-api grant");
}

#[tokio::test]
async fn a_default_token_carries_ferrid_api_only_when_asked_for() {
    let (app, admin) = spawn_admin().await;
    app.create("/tenants", &admin, json!({ "name": "t1" })).await;
    app.resource(&admin, "t1", "master", "billing", &["read"]).await;
    let grants =
        json!([{ "resource": "ferrid-api", "scopes": ["tenant"] }, { "resource": "billing", "scopes": ["read"] }]);
    let c = app.client(&admin, "t1", "master", "both", "client_secret_basic", grants).await;
    let (s, b) = token(&app, "t1", "master", &c, "").await;
    assert_eq!(s, 200);
    let default = b["access_token"].as_str().unwrap();
    assert_eq!(claims(default)["aud"], "billing");
    assert_eq!(b["scope"], "billing:read");
    let (s, _) = app.get_api("/tenants/t1", default).await;
    assert_eq!(s, 401, "a default token for billing also managed the tenant");
    for extra in ["&scope=ferrid-api:tenant", "&audience=ferrid-api", "&resource=ferrid-api"] {
        let (s, b) = token(&app, "t1", "master", &c, extra).await;
        assert_eq!(s, 200, "{extra}: {b}");
        let (s, _) = app.get_api("/tenants/t1", b["access_token"].as_str().unwrap()).await;
        assert_eq!(s, 200, "{extra}");
    }
}

#[tokio::test]
async fn a_deleted_tenant_or_track_stays_deleted_while_writes_race() {
    let app = std::sync::Arc::new(spawn_app().await);
    let admin = app.admin_token().await;
    for round in 0..16 {
        let t = format!("race{round}");
        app.tenant_track(&admin, &t, "prod", "ES256").await;
        app.resource(&admin, &t, "prod", "api", &["read"]).await;
        let c = app
            .client(
                &admin,
                &t,
                "prod",
                "svc",
                "client_secret_basic",
                json!([{ "resource": "api", "scopes": ["read"] }]),
            )
            .await;
        let mut writers = Vec::new();
        for i in 0..10 {
            let (app, admin, t) = (app.clone(), admin.clone(), t.clone());
            writers.push(tokio::spawn(async move {
                let body = json!({ "name": format!("r{i}"), "kind": "oauth_resource", "scopes": ["s"] });
                app.post_api(&format!("/tenants/{t}/tracks/prod/apps"), &admin, body).await
            }));
        }
        let path = if round % 2 == 0 { format!("/tenants/{t}") } else { format!("/tenants/{t}/tracks/prod") };
        let (s, b) = app.api(Method::DELETE, &path, &admin, None).await;
        assert_eq!(s, 204, "{b}");
        for w in writers {
            w.await.unwrap();
        }
        let (s, b) = token(&app, &t, "prod", &c, "").await;
        assert_ne!(s, 200, "round {round}: the deleted {path} still issues tokens: {b}");
        let r =
            app.http.get(format!("{}/.well-known/openid-configuration", app.issuer(&t, "prod"))).send().await.unwrap();
        assert_eq!(r.status(), 404, "round {round}");
    }
}

#[tokio::test]
async fn changing_an_apps_kind_removes_its_credentials() {
    let (app, admin, c) = spawn_fixture().await;
    let path = "/tenants/t1/tracks/prod/apps/svc";
    let resource = json!({ "name": "svc", "kind": "oauth_resource", "scopes": ["x"] });
    let (s, b) = app.api(Method::PUT, path, &admin, Some(resource)).await;
    assert_eq!(s, 200, "{b}");
    let client = json!({ "name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                         "resource_scopes": [{ "resource": "orders", "scopes": ["read"] }] });
    let (s, b) = app.api(Method::PUT, path, &admin, Some(client)).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = token(&app, "t1", "prod", &c, "").await;
    assert_eq!(s, 401, "the old secret came back: {b}");
    let (s, secrets) = app.get_api(&format!("{path}/secrets"), &admin).await;
    assert_eq!(s, 200);
    let items = secrets.get("items").unwrap_or(&secrets);
    assert_eq!(items.as_array().unwrap().len(), 0, "{secrets}");
}

#[tokio::test]
async fn audit_ids_count_only_the_tenants_own_log() {
    let (app, admin) = spawn_admin().await;
    app.tenant_track(&admin, "busy", "prod", "ES256").await;
    for i in 0..5 {
        app.resource(&admin, "busy", "prod", &format!("r{i}"), &["s"]).await;
    }
    let quiet = tenant_admin(&app, &admin, "quiet").await;
    let (s, page) = app.get_api("/tenants/quiet/audit?order=asc", &quiet).await;
    assert_eq!(s, 200, "{page}");
    let ids: Vec<i64> =
        page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(!ids.is_empty());
    let expected: Vec<i64> = (1..=ids.len() as i64).collect();
    assert_eq!(ids, expected, "ids reveal other tenants' events");
}

/// Registers the client `svc` of t1/prod as `body` says; its token response.
async fn svc_token(app: &TestApp, admin: &str, body: Value) -> Value {
    let b = app.create("/tenants/t1/tracks/prod/apps", admin, body).await;
    let c = ClientCreds { id: "svc".into(), secret: b["client_secret"].as_str().unwrap().into() };
    let (s, t) = token(app, "t1", "prod", &c, "").await;
    assert_eq!(s, 200);
    t
}

#[tokio::test]
async fn a_remove_transform_in_foxids_shape_removes_one_value() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let body = json!({
        "name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
        "claims": [{ "claim": "role", "values": ["admin", "user", "auditor"] }, { "claim": "tmp", "values": ["x"] }],
        "claim_transforms": [
            { "order": 1, "type": "match", "action": "remove", "claim_out": "role", "transformation": "admin" },
            { "order": 2, "type": "regex_match", "action": "remove", "claim_out": "role", "transformation": "^aud" },
            { "order": 3, "type": "match_claim", "action": "remove", "claim_out": "tmp" }
        ]
    });
    let t = svc_token(&app, &admin, body).await;
    let cl = claims(t["access_token"].as_str().unwrap());
    assert_eq!(cl["role"], "user");
    assert!(cl.get("tmp").is_none());
}

#[tokio::test]
async fn a_claim_transform_replaces_sub() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let body = json!({
        "name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
        "claim_transforms": [{ "order": 1, "type": "concatenate", "action": "replace", "claims_in": ["client_id"],
                               "claim_out": "sub", "transformation": "service:{0}" }]
    });
    let t = svc_token(&app, &admin, body).await;
    let cl = claims(t["access_token"].as_str().unwrap());
    assert_eq!(cl["sub"], "service:svc");
    assert_eq!(cl["client_id"], "svc");
    let raw = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            t["access_token"].as_str().unwrap().split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(raw.matches("\"sub\"").count(), 1, "one sub member: {raw}");
}
