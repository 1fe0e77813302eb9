//! Scopes and targets: `scope`, `audience` (Auth0 style) and `resource` (RFC 8707).

use serde_json::{Value, json};

use ferrid_testkit::*;

async fn token(app: &TestApp, c: &ClientCreds, params: &str) -> reqwest::Response {
    let body = format!("grant_type=client_credentials{params}");
    app.post_form(&app.token_url("t1", "prod"), Some((&c.id, &c.secret)), &body).await
}

async fn ok_claims(app: &TestApp, c: &ClientCreds, params: &str) -> (Value, Value) {
    let r = token(app, c, params).await;
    assert_eq!(r.status(), 200, "{params}");
    let b: Value = r.json().await.unwrap();
    let cl = claims(b["access_token"].as_str().unwrap());
    (b, cl)
}

/// The token response and claims the standard fixture's client gets with `params`.
async fn fixture_claims(params: &str) -> (Value, Value) {
    let (app, _, c) = spawn_fixture().await;
    ok_claims(&app, &c, params).await
}

#[tokio::test]
async fn dotted_alias_is_accepted_and_tokens_carry_the_colon_form() {
    let (b, cl) = fixture_claims("&scope=party-api2.read2").await;
    assert_eq!(b["scope"], "party-api2:read2");
    assert_eq!(cl["scope"], "party-api2:read2");
}

#[tokio::test]
async fn without_scope_or_target_the_token_carries_every_grant() {
    let (b, cl) = fixture_claims("").await;
    assert_eq!(b["scope"], "party-api2:read1 party-api2:read2 orders:read");
    assert_eq!(cl["aud"], json!(["party-api2", "orders"]));
}

#[tokio::test]
async fn scopes_of_two_resources_give_an_audience_array() {
    let (_, cl) = fixture_claims("&scope=party-api2:read1%20orders:read").await;
    assert_eq!(cl["aud"], json!(["party-api2", "orders"]));
    assert_eq!(cl["scope"], "party-api2:read1 orders:read");
}

#[tokio::test]
async fn a_bare_resource_in_scope_gives_all_its_granted_scopes() {
    let (_, cl) = fixture_claims("&scope=party-api2").await;
    assert_eq!(cl["aud"], "party-api2");
    assert_eq!(cl["scope"], "party-api2:read1 party-api2:read2");
}

#[tokio::test]
async fn unknown_or_ungranted_scopes_fail_the_whole_request_with_invalid_scope() {
    let (app, _, c) = spawn_fixture().await;
    for s in [
        "party-api2:write",          // not a scope of the resource
        "orders:write",              // a scope of the resource, not granted
        "nope:read",                 // no such resource
        "party-api2:read1%20nope:x", // one bad among good
        "Party-API2:read1",          // malformed resource name
        "party-api2:",               // empty scope
    ] {
        assert_oauth_error(token(&app, &c, &format!("&scope={s}")).await, 400, "invalid_scope").await;
    }
}

#[tokio::test]
async fn audience_selects_resources_repeated_or_space_separated() {
    let (app, _, c) = spawn_fixture().await;
    let (_, cl) = ok_claims(&app, &c, "&audience=orders").await;
    assert_eq!(cl["aud"], "orders");
    assert_eq!(cl["scope"], "orders:read");
    let (_, cl) = ok_claims(&app, &c, "&audience=orders&audience=party-api2").await;
    assert_eq!(cl["aud"], json!(["orders", "party-api2"]));
    let (_, cl2) = ok_claims(&app, &c, "&audience=orders%20party-api2").await;
    assert_eq!(cl2["aud"], cl["aud"]);
    assert_eq!(cl2["scope"], "orders:read party-api2:read1 party-api2:read2");
}

#[tokio::test]
async fn resource_accepts_a_name_or_the_absolute_uri() {
    let (app, _, c) = spawn_fixture().await;
    let (_, cl) = ok_claims(&app, &c, "&resource=orders").await;
    assert_eq!(cl["aud"], "orders");
    let uri = format!("{}/orders", app.issuer("t1", "prod"));
    let (_, cl) = ok_claims(&app, &c, &format!("&resource={}", percent_encode(&uri))).await;
    assert_eq!(cl["aud"], "orders");
}

#[tokio::test]
async fn unknown_targets_are_invalid_target() {
    let (app, _, c) = spawn_fixture().await;
    let frag = percent_encode(&format!("{}/orders#x", app.issuer("t1", "prod")));
    for p in [
        "&audience=nope",
        "&resource=nope",
        "&resource=https%3A%2F%2Fevil.example%2Forders",
        &format!("&resource={frag}"),
    ] {
        assert_oauth_error(token(&app, &c, p).await, 400, "invalid_target").await;
    }
}

#[tokio::test]
async fn a_target_with_no_scope_named_gets_all_its_granted_scopes_beside_named_ones() {
    let (_, cl) = fixture_claims("&scope=party-api2:read2&audience=orders").await;
    assert_eq!(cl["aud"], json!(["party-api2", "orders"]));
    assert_eq!(cl["scope"], "party-api2:read2 orders:read");
}

#[tokio::test]
async fn a_client_granted_nothing_gets_its_own_name_as_audience() {
    let (app, admin) = spawn_t1_prod(&[]).await;
    let c = app.client(&admin, "t1", "prod", "lonely", "client_secret_basic", json!([])).await;
    let (b, cl) = ok_claims(&app, &c, "").await;
    assert_eq!(cl["aud"], "lonely");
    assert!(cl.get("scope").is_none());
    assert!(b.get("scope").is_none());
}
