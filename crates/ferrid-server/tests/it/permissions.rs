//! Who may call the management API (docs/api.md, "Authentication"): admin, tenant
//! administrators, nobody else.

use reqwest::Method;
use serde_json::json;

use ferrid_testkit::*;

/// A tenant administrator of `t`: a client in `t/master` granted `ferrid-api:tenant`.
pub(crate) async fn tenant_admin(app: &TestApp, admin: &str, t: &str) -> String {
    app.create("/tenants", admin, json!({ "name": t })).await;
    let c = app.basic_client(admin, t, "master", "ops", &[("ferrid-api", &["tenant"])]).await;
    app.token_for(t, "master", &c, "&scope=ferrid-api:tenant").await
}

#[tokio::test]
async fn no_token_or_a_bad_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let r = app.http.get(format!("{}/api/v1/tenants", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    for bad in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."] {
        let r = app.http.get(format!("{}/api/v1/tenants", app.base)).bearer_auth(bad).send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"ferrid-api\", error=\"invalid_token\"");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized");
    }
}

#[tokio::test]
async fn a_token_for_another_resource_or_track_is_refused() {
    let (app, _, c) = spawn_fixture().await;
    let tok = app.token_for("t1", "prod", &c, "").await;
    let (s, _) = app.get_api("/tenants", &tok).await;
    assert_eq!(s, 401);
    // a forged token: the admin token with its payload swapped keeps a stale signature
    let admin = app.admin_token().await;
    let parts: Vec<&str> = admin.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], tok.split('.').nth(1).unwrap(), parts[2]);
    let (s, _) = app.get_api("/tenants", &forged).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn a_master_client_without_a_ferrid_api_scope_is_forbidden() {
    let (app, admin) = spawn_admin().await;
    let c = app.basic_client(&admin, "master", "master", "weak", &[("ferrid-api", &["tenant"])]).await;
    // scope tenant from the master tenant manages only the master tenant
    // ferrid-api is in a token only when asked for (issue 18)
    let tok = app.token_for("master", "master", &c, "&scope=ferrid-api:tenant").await;
    let (s, _) = app.post_api("/tenants", &tok, json!({ "name": "x" })).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_tenant_administrator_manages_its_tenant_alone() {
    let (app, admin) = spawn_admin().await;
    let t1 = tenant_admin(&app, &admin, "t1").await;
    let _t2 = tenant_admin(&app, &admin, "t2").await;
    // its own tenant: full management
    app.create("/tenants/t1/tracks", &t1, json!({ "name": "prod" })).await;
    app.create(
        "/tenants/t1/tracks/prod/apps",
        &t1,
        json!({ "name": "api", "kind": "oauth_resource", "scopes": ["r"] }),
    )
    .await;
    // another tenant does not exist for it
    for p in [
        "/tenants/t2",
        "/tenants/t2/tracks",
        "/tenants/t2/tracks/master",
        "/tenants/t2/tracks/master/apps",
        "/tenants/t2/tracks/master/apps/ops",
        "/tenants/t2/tracks/master/apps/ops/secrets",
    ] {
        let (s, b) = app.get_api(p, &t1).await;
        assert_eq!(s, 404, "{p} {b}");
    }
    let (s, _) = app.post_api("/tenants/t2/tracks", &t1, json!({ "name": "evil" })).await;
    assert_eq!(s, 404);
    let (s, _) = app.api(Method::DELETE, "/tenants/t2/tracks/master/apps/ops", &t1, None).await;
    assert_eq!(s, 404);
    // it sees only its tenant and creates none
    let (_, b) = app.get_api("/tenants", &t1).await;
    let names: Vec<&str> = b["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["t1"]);
    let (s, _) = app.post_api("/tenants", &t1, json!({ "name": "t3" })).await;
    assert_eq!(s, 403);
    let (s, _) = app.api(Method::DELETE, "/tenants/t1", &t1, None).await;
    assert_eq!(s, 403);
    // the admin still sees everything
    let (_, b) = app.get_api("/tenants", &admin).await;
    assert_eq!(b["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn only_an_administrator_grants_ferrid_api_admin() {
    let (app, admin) = spawn_admin().await;
    let c = app.basic_client(&admin, "master", "master", "ops", &[("ferrid-api", &["tenant"])]).await;
    // ferrid-api is in a token only when asked for (issue 18)
    let master_tenant_admin = app.token_for("master", "master", &c, "&scope=ferrid-api:tenant").await;
    let body = json!({ "name": "escalate", "kind": "oauth_client", "resource_scopes": [{ "resource": "ferrid-api", "scopes": ["admin"] }] });
    let (s, _) = app.post_api("/tenants/master/tracks/master/apps", &master_tenant_admin, body.clone()).await;
    assert_eq!(s, 403);
    app.create("/tenants/master/tracks/master/apps", &admin, body).await;
}
