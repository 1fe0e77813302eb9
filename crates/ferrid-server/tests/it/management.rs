//! The management API: tenants, tracks and apps (docs/protocol.md, "Management API";
//! docs/api.md).

use reqwest::Method;
use serde_json::{Value, json};

use ferrid_testkit::*;

fn field_names(b: &Value) -> Vec<String> {
    b["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn tenant_names_follow_the_rule_and_duplicates_conflict() {
    let (app, admin) = spawn_admin().await;
    let b = app.create("/tenants", &admin, json!({ "name": "acme" })).await;
    assert_eq!(b["name"], "acme");
    let (s, b) = app.post_api("/tenants", &admin, json!({ "name": "acme" })).await;
    assert_eq!(s, 409);
    assert_eq!(b["error"], "conflict");
    for bad in [
        json!({ "name": "Acme" }),
        json!({ "name": "a".repeat(51) }),
        json!({ "name": "-a" }),
        json!({}),
        json!({ "name": 5 }),
    ] {
        let (s, b) = app.post_api("/tenants", &admin, bad.clone()).await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(b["error"], "validation_failed");
        assert_eq!(field_names(&b), ["name"], "{b}");
    }
    // a tenant starts with its master track
    let (s, b) = app.get_api("/tenants/acme/tracks", &admin).await;
    assert_eq!(s, 200);
    assert_eq!(b["items"][0]["name"], "master");
}

#[tokio::test]
async fn unknown_fields_are_named() {
    let (app, admin) = spawn_admin().await;
    let (s, b) = app.post_api("/tenants", &admin, json!({ "name": "acme", "colour": "red" })).await;
    assert_eq!(s, 400);
    assert_eq!(field_names(&b), ["colour"]);
}

#[tokio::test]
async fn tracks_take_a_signing_algorithm_at_creation_only() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let (s, b) = app.get_api("/tenants/t1/tracks/prod", &admin).await;
    assert_eq!(s, 200);
    assert_eq!(b["signing_alg"], "ES256");
    assert_eq!(b["issuer"], app.issuer("t1", "prod"));
    let (s, b) = app.post_api("/tenants/t1/tracks", &admin, json!({ "name": "x", "signing_alg": "HS256" })).await;
    assert_eq!(s, 400);
    assert_eq!(field_names(&b), ["signing_alg"]);
    let (s, b) =
        app.api(Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "signing_alg": "RS256" }))).await;
    assert_eq!(s, 400);
    assert_eq!(field_names(&b), ["signing_alg"]);
    let (s, b) =
        app.api(Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "access_token_lifetime": 600 }))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["access_token_lifetime"], 600);
    let (s, _) = app.post_api("/tenants/t1/tracks", &admin, json!({ "name": "prod" })).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn the_track_default_lifetime_applies_to_clients_without_their_own() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let (s, _) =
        app.api(Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "access_token_lifetime": 900 }))).await;
    assert_eq!(s, 200);
    let c = app.client(&admin, "t1", "prod", "svc", "client_secret_basic", json!([])).await;
    let r = app.token("t1", "prod", &c, "").await;
    assert_eq!(r.json::<Value>().await.unwrap()["expires_in"], 900);
}

#[tokio::test]
async fn registering_a_client_answers_with_what_a_developer_needs_next() {
    let (app, admin) = spawn_admin().await;
    app.tenant_track(&admin, "t1", "prod", "RS256").await;
    app.resource(&admin, "t1", "prod", "party-api2", &["read1", "read2"]).await;
    let body = json!({ "name": "svc1", "kind": "oauth_client", "resource_scopes": [{ "resource": "party-api2", "scopes": ["read1"] }] });
    let b = app.create("/tenants/t1/tracks/prod/apps", &admin, body).await;
    let secret = b["client_secret"].as_str().unwrap().to_owned();
    let issuer = app.issuer("t1", "prod");
    assert_eq!(b["client_id"], "svc1");
    assert_eq!(b["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(b["client_auth_method"], "client_secret_post");
    assert_eq!(b["issuer"], issuer);
    assert_eq!(b["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(b["discovery_endpoint"], format!("{issuer}/.well-known/openid-configuration"));
    // the secret is never shown again
    let (s, b) = app.get_api("/tenants/t1/tracks/prod/apps/svc1", &admin).await;
    assert_eq!(s, 200);
    assert!(b.get("client_secret").is_none());
    assert_eq!(b["resource_scopes"], json!([{ "resource": "party-api2", "scopes": ["read1"] }]));
    let (_, list) = app.get_api("/tenants/t1/tracks/prod/apps", &admin).await;
    assert!(!list.to_string().contains(&secret));
    assert!(list["items"].as_array().unwrap().iter().all(|a| a.get("client_secret").is_none()));
}

#[tokio::test]
async fn app_validation_names_each_bad_field() {
    let (app, admin) = spawn_t1_prod(&[("api", &["read"])]).await;
    let cases = [
        (json!({ "name": "r", "kind": "oauth_resource", "scopes": [] }), vec!["scopes"]),
        (json!({ "name": "r", "kind": "oauth_resource", "scopes": ["ok", "b:d"] }), vec!["scopes[1]"]),
        (json!({ "name": "r", "kind": "oauth_resource", "scopes": ["a", "a"] }), vec!["scopes[1]"]),
        (
            json!({ "name": "r", "kind": "oauth_resource", "scopes": (0..101).map(|i| format!("s{i}")).collect::<Vec<_>>() }),
            vec!["scopes"],
        ),
        (json!({ "name": "r", "kind": "saml" }), vec!["kind"]),
        (json!({ "name": "R", "kind": "oauth_resource", "scopes": ["a"] }), vec!["name"]),
        (json!({ "name": "c", "kind": "oauth_client", "client_auth_method": "none" }), vec!["client_auth_method"]),
        (json!({ "name": "c", "kind": "oauth_client", "access_token_lifetime": 10 }), vec!["access_token_lifetime"]),
        (
            json!({ "name": "c", "kind": "oauth_client", "resource_scopes": [{ "resource": "nope", "scopes": ["read"] }] }),
            vec!["resource_scopes[0].resource"],
        ),
        (
            json!({ "name": "c", "kind": "oauth_client", "resource_scopes": [{ "resource": "api", "scopes": ["write"] }] }),
            vec!["resource_scopes[0].scopes[0]"],
        ),
    ];
    for (body, fields) in cases {
        let (s, b) = app.post_api("/tenants/t1/tracks/prod/apps", &admin, body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(field_names(&b), fields, "{body} → {b}");
    }
}

#[tokio::test]
async fn duplicate_app_names_conflict() {
    let (app, admin) = spawn_t1_prod(&[("api", &["read"])]).await;
    let (s, _) =
        app.post_api("/tenants/t1/tracks/prod/apps", &admin, json!({ "name": "api", "kind": "oauth_client" })).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn replace_uses_if_match_and_changes_take_effect_at_once() {
    let (app, admin, c) = spawn_fixture().await;
    let path = "/tenants/t1/tracks/prod/apps/svc";
    let r = app.http.get(format!("{}/api/v1{path}", app.base)).bearer_auth(&admin).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");
    let mut body: Value = r.json().await.unwrap();
    body["resource_scopes"] = json!([{ "resource": "orders", "scopes": ["read"] }]);
    let put = |etag: &str| {
        app.http
            .put(format!("{}/api/v1{path}", app.base))
            .bearer_auth(&admin)
            .header("if-match", etag)
            .json(&body)
            .send()
    };
    let r = put(&etag).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    // a second edit based on the old version is refused, not silently applied
    let r = put(&etag).await.unwrap();
    assert_eq!(r.status(), 412);
    let tok = app.token("t1", "prod", &c, "&scope=party-api2:read1").await;
    assert_oauth_error(tok, 400, "invalid_scope").await;
}

#[tokio::test]
async fn deleting_apps_tracks_and_tenants_takes_effect_at_the_token_endpoint() {
    let (app, admin, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let (s, _) = app.api(Method::DELETE, "/tenants/t1/tracks/prod/apps/svc", &admin, None).await;
    assert_eq!(s, 204);
    assert_oauth_error(
        app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await,
        401,
        "invalid_client",
    )
    .await;
    let (s, _) = app.get_api("/tenants/t1/tracks/prod/apps/svc", &admin).await;
    assert_eq!(s, 404);
    let (s, _) = app.api(Method::DELETE, "/tenants/t1/tracks/prod", &admin, None).await;
    assert_eq!(s, 204);
    assert_eq!(app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await.status(), 404);
    let (s, _) = app.api(Method::DELETE, "/tenants/t1", &admin, None).await;
    assert_eq!(s, 204);
    let (s, _) = app.get_api("/tenants/t1", &admin).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn ferrids_own_registrations_are_protected() {
    let (app, admin) = spawn_admin().await;
    for (m, p) in [
        (Method::DELETE, "/tenants/master"),
        (Method::DELETE, "/tenants/master/tracks/master"),
        (Method::DELETE, "/tenants/master/tracks/master/apps/ferrid-api"),
    ] {
        let (s, b) = app.api(m, p, &admin, None).await;
        assert_eq!(s, 403, "{p} {b}");
    }
    let (s, _) = app
        .api(
            Method::PUT,
            "/tenants/master/tracks/master/apps/ferrid-api",
            &admin,
            Some(json!({ "name": "ferrid-api", "kind": "oauth_resource", "scopes": ["x"] })),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn listings_are_paginated_in_name_order() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    for n in ["c", "a", "b"] {
        app.resource(&admin, "t1", "prod", n, &["s"]).await;
    }
    let (_, p1) = app.get_api("/tenants/t1/tracks/prod/apps?limit=2", &admin).await;
    let names: Vec<&str> = p1["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(p1["next"], "b");
    let (_, p2) = app.get_api("/tenants/t1/tracks/prod/apps?limit=2&after=b", &admin).await;
    assert_eq!(p2["items"][0]["name"], "c");
    assert_eq!(p2["next"], Value::Null);
    let (s, b) = app.get_api("/tenants/t1/tracks/prod/apps?limit=0", &admin).await;
    assert_eq!(s, 400);
    assert_eq!(field_names(&b), ["limit"]);
}
