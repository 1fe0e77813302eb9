//! Client secrets (docs/security.md, "Keys and secrets at rest, and in logs"):
//! generated or chosen, listed without their value, at most 10, and deleted secrets
//! stop working at once.

use reqwest::Method;
use serde_json::{Value, json};

use ferrid_testkit::*;

const SECRETS: &str = "/tenants/t1/tracks/prod/apps/svc/secrets";

#[tokio::test]
async fn secrets_are_listed_with_id_info_and_creation_time_only() {
    let (app, admin, c) = spawn_fixture().await;
    let (s, b) = app.get_api(SECRETS, &admin).await;
    assert_eq!(s, 200);
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let item = items[0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["created", "id", "info"]);
    assert_eq!(item["info"], c.secret[..3]);
    assert!(!b.to_string().contains(&c.secret));
}

#[tokio::test]
async fn a_generated_secret_is_shown_once_and_works_beside_the_first() {
    let (app, admin, c) = spawn_fixture().await;
    let b = app.create(SECRETS, &admin, json!({})).await;
    let second = b["secret"].as_str().unwrap().to_owned();
    assert_eq!(second.len(), 43);
    let url = app.token_url("t1", "prod");
    for secret in [&c.secret, &second] {
        assert_eq!(app.post_form(&url, Some((&c.id, secret)), "grant_type=client_credentials").await.status(), 200);
    }
}

#[tokio::test]
async fn a_chosen_secret_is_stored_with_the_slow_hash_and_works() {
    let (app, admin, c) = spawn_fixture().await;
    let chosen = "correct horse battery staple";
    let b = app.create(SECRETS, &admin, json!({ "secret": chosen })).await;
    assert!(b.get("secret").is_none(), "a chosen secret is not echoed");
    assert_eq!(b["info"], "cor");
    let url = app.token_url("t1", "prod");
    for _ in 0..3 {
        assert_eq!(app.post_form(&url, Some((&c.id, chosen)), "grant_type=client_credentials").await.status(), 200);
    }
    assert_eq!(
        app.post_form(&url, Some((&c.id, "correct horse battery stapler")), "grant_type=client_credentials")
            .await
            .status(),
        401
    );
    // stored as FoxIDs' P2HS512:10, never in clear
    let db = std::fs::read(app.data_dir.join("ferrid.db")).unwrap();
    let wal = std::fs::read(app.data_dir.join("ferrid.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(chosen.len()).any(|w| w == chosen.as_bytes()));
        assert!(!bytes.windows(c.secret.len()).any(|w| w == c.secret.as_bytes()));
    }
    assert!(db.windows(10).any(|w| w == b"P2HS512:10") || wal.windows(10).any(|w| w == b"P2HS512:10"));
}

#[tokio::test]
async fn a_short_chosen_secret_is_refused_naming_the_field() {
    let (app, admin, _) = spawn_fixture().await;
    let (s, b) = app.post_api(SECRETS, &admin, json!({ "secret": "short" })).await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"][0]["field"], "secret");
}

#[tokio::test]
async fn a_client_holds_at_most_ten_secrets() {
    let (app, admin, _) = spawn_fixture().await;
    for _ in 0..9 {
        app.create(SECRETS, &admin, json!({})).await;
    }
    let (s, b) = app.post_api(SECRETS, &admin, json!({})).await;
    assert_eq!(s, 409, "{b}");
    let (_, list) = app.get_api(SECRETS, &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn a_deleted_secret_is_refused_at_once() {
    let (app, admin, c) = spawn_fixture().await;
    let (_, list) = app.get_api(SECRETS, &admin).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.api(Method::DELETE, &format!("{SECRETS}/{id}"), &admin, None).await;
    assert_eq!(s, 204);
    let r = app.token("t1", "prod", &c, "").await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let (s, _) = app.api(Method::DELETE, &format!("{SECRETS}/{id}"), &admin, None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn resources_hold_no_secrets() {
    let (app, admin, _) = spawn_fixture().await;
    let (s, _) = app.get_api("/tenants/t1/tracks/prod/apps/orders/secrets", &admin).await;
    assert_eq!(s, 404);
    let b = app
        .create(
            "/tenants/t1/tracks/prod/apps",
            &admin,
            json!({ "name": "api2", "kind": "oauth_resource", "scopes": ["a"] }),
        )
        .await;
    assert!(b.get("client_secret").is_none());
    let _: Value = b;
}
