//! The audit log (docs/api.md, "The audit log"; issue 5): every management change and
//! every failed client authentication, per tenant, with filters, pagination and no
//! secret in it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use ferrid_testkit::*;

use crate::permissions::tenant_admin;

async fn audit(app: &TestApp, token: &str, tenant: &str, query: &str) -> (StatusCode, Value) {
    app.get_api(&format!("/tenants/{tenant}/audit{query}"), token).await
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_management_change_is_recorded_with_who_what_and_a_summary_but_no_secret() {
    let (app, admin, c) = spawn_fixture().await;
    let base = "/tenants/t1/tracks/prod/apps/svc";
    let (s, chosen) =
        app.post_api(&format!("{base}/secrets"), &admin, json!({ "secret": "a-chosen-secret-0123456789" })).await;
    assert_eq!(s, 201, "{chosen}");
    let (s, generated) = app.post_api(&format!("{base}/secrets"), &admin, json!({})).await;
    assert_eq!(s, 201);
    let id = generated["id"].as_str().unwrap();
    let (s, _) = app.api(Method::DELETE, &format!("{base}/secrets/{id}"), &admin, None).await;
    assert_eq!(s, 204);
    let (s, _) =
        app.api(Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "access_token_lifetime": 600 }))).await;
    assert_eq!(s, 200);

    let (s, page) = audit(&app, &admin, "t1", "?order=asc").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        actions(&page),
        [
            "track.create",
            "app.create",
            "app.create",
            "app.create",
            "secret.add",
            "secret.add",
            "secret.delete",
            "track.update"
        ]
    );
    let items = page["items"].as_array().unwrap();
    let create_client = &items[3];
    assert_eq!(create_client["actor"], "client:master/master/admin");
    assert_eq!(create_client["target"], "tenants/t1/tracks/prod/apps/svc");
    assert_eq!(create_client["details"]["after"]["kind"], "oauth_client");
    assert!(create_client["at"].as_str().unwrap().ends_with('Z'));
    let update = &items[7];
    assert_eq!(update["details"]["before"]["access_token_lifetime"], 3600, "{update}");
    assert_eq!(update["details"]["after"]["access_token_lifetime"], 600);
    // the tenant's creation is in the master tenant's log
    let (_, master) = audit(&app, &admin, "master", "?action=tenant.create").await;
    assert!(master["items"].as_array().unwrap().iter().any(|e| e["target"] == "tenants/t1"), "{master}");
    // no secret, generated or chosen, anywhere in the log
    let text = page.to_string();
    for secret in [c.secret.as_str(), "a-chosen-secret-0123456789", generated["secret"].as_str().unwrap()] {
        assert!(!text.contains(secret), "a secret is in the audit log");
    }
}

#[tokio::test]
async fn failed_client_authentication_is_recorded_with_its_source() {
    let (app, admin, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let r = app.post_form(&url, Some((&c.id, "wrong-secret-xyz")), "grant_type=client_credentials").await;
    assert_eq!(r.status(), 401);
    let r = app.post_form(&url, Some(("nobody", "x")), "grant_type=client_credentials").await;
    assert_eq!(r.status(), 401);
    // a success is not a failure
    let r = app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await;
    assert_eq!(r.status(), 200);
    // written off the request path: it arrives within moments
    let failed = || audit(&app, &admin, "t1", "?action=client_auth.failed");
    eventually(|| async { failed().await.1["items"].as_array().unwrap().len() == 2 }).await;
    let page = failed().await.1;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["details"]["client_id"], "nobody");
    assert_eq!(items[1]["target"], "tenants/t1/tracks/prod/apps/svc");
    assert_eq!(items[1]["source"], "127.0.0.1");
    assert_eq!(items[1]["actor"], "client:t1/prod/svc");
    assert!(!page.to_string().contains("wrong-secret-xyz"));
}

#[tokio::test]
async fn the_log_is_filtered_and_paged_in_a_stable_order() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    for i in 0..7 {
        app.resource(&admin, "t1", "prod", &format!("r{i}"), &["read"]).await;
    }
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let (s, page) = audit(&app, &admin, "t1", &format!("?action=app.create&limit=3{next}")).await;
        assert_eq!(s, 200);
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(n) => next = format!("&after={n}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("tenants/t1/tracks/prod/apps/r{i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    let (_, page) = audit(&app, &admin, "t1", "?target=tenants/t1/tracks/prod/apps/r3").await;
    assert_eq!(actions(&page), ["app.create"]);
    let (_, page) = audit(&app, &admin, "t1", "?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z").await;
    assert!(page["items"].as_array().unwrap().is_empty());
    // a bad or misspelt filter is named, never ignored
    let (s, err) = audit(&app, &admin, "t1", "?limit=0&actions=app.create&since=yesterday").await;
    assert_eq!(s, 400);
    let fields: Vec<&str> = err["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["limit", "actions", "since"]);
}

#[tokio::test]
async fn a_tenant_administrator_reads_its_own_log_only() {
    let (app, admin) = spawn_admin().await;
    let t1 = tenant_admin(&app, &admin, "t1").await;
    let _t2 = tenant_admin(&app, &admin, "t2").await;
    let (s, page) = audit(&app, &t1, "t1", "").await;
    assert_eq!(s, 200);
    assert_eq!(actions(&page), ["app.create"]);
    for other in ["t2", "master", "nope"] {
        let (s, _) = audit(&app, &t1, other, "").await;
        assert_eq!(s, 404, "{other}");
    }
    let r = app.http.get(format!("{}/api/v1/tenants/t1/audit", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// A data directory whose store already holds a record from 1970.
async fn dir_with_an_old_record() -> tempfile::TempDir {
    use ferrid_core::{audit::AuditRecord, store::AuditLog};
    let dir = tempfile::tempdir().unwrap();
    let store = ferrid_store::SqliteStore::open_dir(dir.path()).await.unwrap();
    let old = AuditRecord::system("master", 1000, "old.event", "tenants/master".into(), json!({}));
    store.append_audit(&[old]).await.unwrap();
    dir
}

#[tokio::test]
async fn records_past_the_retention_are_deleted_and_zero_keeps_them() {
    let app = spawn_with(dir_with_an_old_record().await, |c| c.audit_retention_days = 1).await;
    let admin = app.admin_token().await;
    eventually(|| async { !actions(&audit(&app, &admin, "master", "").await.1).contains(&"old.event") }).await;
    let left = audit(&app, &admin, "master", "").await.1;
    assert_eq!(actions(&left), ["tenant.create"], "the old record goes, the bootstrap's stays");

    let app = spawn_with(dir_with_an_old_record().await, |c| c.audit_retention_days = 0).await;
    // retention 0 starts no purge job: nothing to wait for
    let admin = app.admin_token().await;
    let (_, kept) = audit(&app, &admin, "master", "").await;
    assert_eq!(actions(&kept), ["tenant.create", "old.event"]);
}
