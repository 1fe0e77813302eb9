//! The snapshot follows one-app changes by replacing that app's entry only
//! (docs/ARCHITECTURE.md "Snapshot"): a write to one app, or the notification of one from
//! another instance, leaves every other client of the track the same allocation.

use std::sync::Arc;

use ferrid_core::{runtime::ClientRuntime, store::Change};
use reqwest::Method;
use serde_json::json;

use ferrid_testkit::*;

const APPS: &str = "/tenants/t1/tracks/prod/apps";

/// The runtime of client `name` of t1/prod in the live snapshot.
fn client(app: &TestApp, name: &str) -> Option<Arc<ClientRuntime>> {
    app.state.manager.registry().track("t1", "prod")?.clients.get(name).cloned()
}

/// Asserts that `others` are still the very entries of the snapshot.
fn untouched(app: &TestApp, others: &[(&str, Arc<ClientRuntime>)], after: &str) {
    for (name, before) in others {
        let now = client(app, name).unwrap_or_else(|| panic!("{name} is gone after {after}"));
        assert!(Arc::ptr_eq(before, &now), "{after} rebuilt the runtime of {name}");
    }
}

async fn three_clients() -> (TestApp, String, Vec<(&'static str, Arc<ClientRuntime>)>) {
    let (app, admin, _svc) = spawn_fixture().await;
    for name in ["b", "c"] {
        app.basic_client(&admin, "t1", "prod", name, &[("orders", &["read"])]).await;
    }
    let others = ["svc", "b", "c"].map(|n| (n, client(&app, n).expect(n))).to_vec();
    (app, admin, others)
}

#[tokio::test]
async fn a_single_app_write_leaves_the_other_clients_of_the_track_the_same_allocation() {
    let (app, admin, others) = three_clients().await;
    let changed = app.basic_client(&admin, "t1", "prod", "a", &[("orders", &["read"])]).await;
    untouched(&app, &others, "creating a");
    let first = client(&app, "a").expect("a is in the snapshot");

    let body = json!({ "name": "a", "kind": "oauth_client", "resource_scopes": ferrid_testkit::api::grants(&[("orders", &["write"])]) });
    let (s, b) = app.api(Method::PUT, &format!("{APPS}/a"), &admin, Some(body)).await;
    assert_eq!(s, 200, "{b}");
    untouched(&app, &others, "replacing a");
    let replaced = client(&app, "a").unwrap();
    assert!(!Arc::ptr_eq(&first, &replaced), "a's own entry is replaced");
    assert_eq!(replaced.grant("orders").unwrap().scopes, ["write"], "with its new grant");

    app.create(&format!("{APPS}/a/secrets"), &admin, json!({})).await;
    untouched(&app, &others, "adding a secret to a");
    assert_eq!(client(&app, "a").unwrap().secrets.len(), 2);

    let (s, _) = app.api(Method::DELETE, &format!("{APPS}/a"), &admin, None).await;
    assert_eq!(s, 204);
    untouched(&app, &others, "deleting a");
    assert!(client(&app, "a").is_none(), "a is gone from the snapshot");
    let r = app.token("t1", "prod", &changed, "").await;
    assert_eq!(r.status(), 401, "a deleted client gets no token");
}

#[tokio::test]
async fn a_changed_resource_or_track_rebuilds_the_clients_granted_against_it() {
    let (app, admin, others) = three_clients().await;
    let body = json!({ "name": "orders", "kind": "oauth_resource", "scopes": ["write"] });
    let (s, b) = app.api(Method::PUT, &format!("{APPS}/orders"), &admin, Some(body)).await;
    assert_eq!(s, 200, "{b}");
    let svc = client(&app, "svc").unwrap();
    assert!(!Arc::ptr_eq(&others[0].1, &svc), "a resource change resolves every grant again");
    assert!(svc.grant("orders").is_none(), "orders:read is no longer a scope of orders");
}

#[tokio::test]
async fn an_app_notification_from_another_instance_reloads_that_app_alone() {
    let (app, _admin, others) = three_clients().await;
    let change = Change::App { tenant: "t1".into(), track: "prod".into(), app: "b".into() };
    app.state.manager.apply_change(&change).await.unwrap();
    untouched(&app, &[others[0].clone(), others[2].clone()], "a notification naming b");
    assert!(!Arc::ptr_eq(&others[1].1, &client(&app, "b").unwrap()), "b itself is read again");
    // a user change reloads nothing: users are not in the snapshot
    let user = Change::User { tenant: "t1".into(), track: "prod".into() };
    let track = app.state.manager.registry().track("t1", "prod").unwrap();
    app.state.manager.apply_change(&user).await.unwrap();
    assert!(Arc::ptr_eq(&track, &app.state.manager.registry().track("t1", "prod").unwrap()));
}

#[tokio::test]
async fn a_login_reads_the_user_from_the_store_and_users_are_no_part_of_the_snapshot() {
    use ferrid_core::{audit::AuditRecord, store::UserRef};
    // docs/provider.md: a login finds the user with one store read (`UserStore::find_user`)
    let op = crate::provider::op().await;
    let track = op.app.state.manager.registry().track("t1", "prod").unwrap();
    // a user created through the API leaves the track's snapshot as it was
    let bob = json!({ "username": "bob", "password": crate::provider::PASSWORD });
    op.app.create("/tenants/t1/tracks/prod/users", &op.admin, bob).await;
    let after = op.app.state.manager.registry().track("t1", "prod").unwrap();
    assert!(Arc::ptr_eq(&track, &after), "a user write reloaded the track");
    // disabled straight in the store, behind every cache's back: the next login sees it
    let users = &op.app.state.stores.users;
    let at = UserRef { track: ferrid_core::store::TrackRef::parse("t1", "prod").unwrap(), id: op.user_id.clone() };
    let mut alice = users.get_user(&at).await.unwrap();
    alice.disabled = true;
    let audit = AuditRecord::system("t1", 1, "test.user", "users/alice".into(), json!({}));
    users.update_user(&alice, None, &audit).await.unwrap();
    let mut b = ferrid_testkit::browser::Browser::new();
    let page = b.get(&op.code_url("web", &[])).await;
    let answer = op.log_in(&mut b, &page, "alice", crate::provider::PASSWORD).await;
    assert_ne!(answer.status, reqwest::StatusCode::SEE_OTHER, "no code for a user disabled in the store");
    assert!(answer.body.contains("id=\"login-error\""), "the login page again: {}", answer.body);
}
