//! Signing-key rotation (docs/security.md, "Keys and secrets at rest, and in logs"):
//! pre-published next key, retired key kept.

use std::time::Duration;

use serde_json::{Value, json};

use ferrid_testkit::*;

async fn jwks(app: &TestApp) -> (Value, String) {
    let r = app.http.get(format!("{}/oauth/keys", app.issuer("t1", "prod"))).send().await.unwrap();
    let cc = r.headers()["cache-control"].to_str().unwrap().to_owned();
    (r.json().await.unwrap(), cc)
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

async fn token(app: &TestApp, c: &ClientCreds) -> String {
    app.token_for("t1", "prod", c, "").await
}

/// Verifies `token` against a JWKS document fetched earlier (a validator's cache).
fn verify_with(cached: &Value, token: &str) -> bool {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(cached.clone()).unwrap();
    let h = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = set.find(h.kid.as_deref().unwrap()) else { return false };
    let mut v = jsonwebtoken::Validation::new(h.alg);
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &v).is_ok()
}

#[tokio::test]
async fn rotation_pre_publishes_the_next_key_and_keeps_the_retired_one() {
    // the clock moves only when told: the window passes by `advance`, not by waiting
    let time = ferrid_core::env::FakeEnv::starting_now();
    let app = spawn_with_env(tempfile::tempdir().unwrap(), time.env(), |c| {
        c.rotation.jwks_max_age = 1;
        c.rotation.interval = Duration::from_millis(100);
    })
    .await;
    let (admin, c) = app.fixture("prod", "ES256").await;
    let (before, cache_control) = jwks(&app).await;
    assert_eq!(cache_control, "public, max-age=1");
    let old = kids(&before);
    assert_eq!(old.len(), 1);
    let t1 = token(&app, &c).await;

    let (s, b) = app.post_api("/tenants/t1/tracks/prod/keys/rotate", &admin, json!({})).await;
    assert_eq!(s, 202, "{b}");
    let mut states: Vec<&str> = b["items"].as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap()).collect();
    states.sort();
    assert_eq!(states, ["active", "next"]);
    // published at once, signing not yet: a validator caches this document now
    let (cached, _) = jwks(&app).await;
    assert_eq!(kids(&cached).len(), 2);
    let next = kids(&cached).into_iter().find(|k| *k != old[0]).unwrap();
    assert_eq!(header(&token(&app, &c).await)["kid"], old[0]);

    // after the pre-publication window (2 × max-age) the next key signs, once the
    // planner has run
    time.advance(Duration::from_secs(2));
    eventually(|| async { header(&token(&app, &c).await)["kid"] == next }).await;
    let t3 = token(&app, &c).await;
    assert_eq!(header(&t3)["kid"], next, "the next key never started signing");
    // the validator's cache from before the switch validates the new token
    assert!(verify_with(&cached, &t3));
    // the retired key is still published: a token it signed still verifies
    let (after, _) = jwks(&app).await;
    assert!(kids(&after).contains(&old[0]));
    assert!(verify_with(&after, &t1));
    let (_, keys) = app.get_api("/tenants/t1/tracks/prod/keys", &admin).await;
    let mut states: Vec<String> =
        keys["items"].as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap().to_owned()).collect();
    states.sort();
    assert_eq!(states, ["active", "retired"]);
    // the algorithm stayed
    assert_eq!(header(&t3)["alg"], "ES256");
}

#[tokio::test]
async fn the_rotation_period_is_a_track_setting() {
    let (app, admin, _) = spawn_fixture().await;
    let (_, t) = app.get_api("/tenants/t1/tracks/prod", &admin).await;
    assert_eq!(t["key_rotation_days"], 90);
    let (s, t) = app
        .api(reqwest::Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "key_rotation_days": 30 })))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t["key_rotation_days"], 30);
    let (s, b) = app
        .api(reqwest::Method::PATCH, "/tenants/t1/tracks/prod", &admin, Some(json!({ "key_rotation_days": 0 })))
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"][0]["field"], "key_rotation_days");
}
