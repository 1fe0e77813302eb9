//! Issued claims and claim transforms (docs/protocol.md, "Claim transforms").

use serde_json::{Value, json};

use ferrid_testkit::*;

async fn client_with(app: &TestApp, extra: Value) -> (StatusCodeOr, Value) {
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    app.resource(&admin, "t1", "prod", "orders", &["read"]).await;
    let mut body = json!({ "name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                           "resource_scopes": [{ "resource": "orders", "scopes": ["read"] }] });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, b) = app.post_api("/tenants/t1/tracks/prod/apps", &admin, body).await;
    (s.as_u16(), b)
}

type StatusCodeOr = u16;

async fn token_claims(app: &TestApp, secret: &str) -> Value {
    let r = app.post_form(&app.token_url("t1", "prod"), Some(("svc", secret)), "grant_type=client_credentials").await;
    assert_eq!(r.status(), 200);
    claims(r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap())
}

#[tokio::test]
async fn fixed_claims_and_transforms_shape_the_token_in_order() {
    let app = spawn_app().await;
    let (s, b) = client_with(
        &app,
        json!({
            "claims": [{ "claim": "role", "values": ["orders.reader"] }, { "claim": "team", "values": ["a", "b"] }],
            "claim_transforms": [
                // runs second: sees the output of the first
                { "order": 2, "type": "match", "action": "add", "claims_in": ["tier"], "claim_out": "premium",
                  "transformation": "gold", "transformation_extension": "yes" },
                { "order": 1, "type": "constant", "action": "add", "claim_out": "tier", "transformation": "gold" },
                { "order": 3, "type": "concatenate", "action": "add", "claims_in": ["client_id", "role"],
                  "claim_out": "label", "transformation": "{0}/{1}" },
                { "order": 4, "type": "regex_map", "action": "add", "claims_in": ["role"], "claim_out": "area",
                  "transformation": "^(?<map>[a-z]+)\\." }
            ]
        }),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let cl = token_claims(&app, b["client_secret"].as_str().unwrap()).await;
    assert_eq!(cl["role"], "orders.reader");
    assert_eq!(cl["team"], json!(["a", "b"]));
    assert_eq!(cl["tier"], "gold");
    assert_eq!(cl["premium"], "yes");
    assert_eq!(cl["label"], "svc/orders.reader");
    assert_eq!(cl["area"], "orders");
    // protocol claims stay ferrid's
    assert_eq!(cl["iss"], app.issuer("t1", "prod"));
    assert_eq!(cl["sub"], "svc");
    assert_eq!(cl["aud"], "orders");
    let mut keys: Vec<&str> = cl.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "area",
            "aud",
            "client_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "label",
            "nbf",
            "premium",
            "role",
            "scope",
            "sub",
            "team",
            "tier"
        ]
    );
}

#[tokio::test]
async fn the_issued_claims_list_decides_what_reaches_the_token() {
    let app = spawn_app().await;
    let (s, b) = client_with(
        &app,
        json!({
            "claims": [{ "claim": "role", "values": ["r"] }, { "claim": "internal", "values": ["x"] }],
            "issued_claims": ["role"]
        }),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let cl = token_claims(&app, b["client_secret"].as_str().unwrap()).await;
    assert_eq!(cl["role"], "r");
    assert!(cl.get("internal").is_none());
}

#[tokio::test]
async fn invalid_claims_and_transforms_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "claims": [{ "claim": "iss", "values": ["x"] }] }), "claims[0].claim"),
        // a transform may write `sub`, never another protocol claim (it would be discarded)
        (
            json!({ "claim_transforms": [{ "order": 5, "type": "constant", "action": "replace", "claim_out": "iss", "transformation": "https://evil" }] }),
            "claim_transforms[0].claim_out",
        ),
        (json!({ "claims": [{ "claim": "role", "values": [] }] }), "claims[0].values"),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "magic", "action": "add", "claim_out": "x" }] }),
            "claim_transforms[0].type",
        ),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "constant", "action": "explode", "claim_out": "x", "transformation": "v" }] }),
            "claim_transforms[0].action",
        ),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "regex_match", "action": "add", "claims_in": ["a"], "claim_out": "x",
                                         "transformation": "(unclosed", "transformation_extension": "y" }] }),
            "claim_transforms[0].transformation",
        ),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "regex_map", "action": "add", "claims_in": ["a"], "claim_out": "x",
                                         "transformation": "no-map-group" }] }),
            "claim_transforms[0].transformation",
        ),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "regex_match", "action": "add", "claims_in": ["a"], "claim_out": "x",
                                         "transformation": "a".repeat(1001), "transformation_extension": "y" }] }),
            "claim_transforms[0].transformation",
        ),
        (
            json!({ "claim_transforms": [{ "order": 1, "type": "match", "action": "add", "claims_in": ["a"], "claim_out": "x" }] }),
            "claim_transforms[0].transformation",
        ),
    ];
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "t1", "prod", "ES256").await;
    for (extra, field) in cases {
        let mut body = json!({ "name": "svc", "kind": "oauth_client" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, b) = app.post_api("/tenants/t1/tracks/prod/apps", &admin, body).await;
        assert_eq!(s, 400, "{extra}");
        let fields: Vec<&str> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }
    // more than 100 transforms
    let many: Vec<Value> = (0..101)
        .map(|i| json!({ "order": i, "type": "constant", "action": "add", "claim_out": "x", "transformation": "v" }))
        .collect();
    let (s, b) = app
        .post_api(
            "/tenants/t1/tracks/prod/apps",
            &admin,
            json!({ "name": "svc", "kind": "oauth_client", "claim_transforms": many }),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"][0]["field"], "claim_transforms");
}

#[tokio::test]
async fn transforms_round_trip_through_the_api() {
    let app = spawn_app().await;
    let t = json!([{ "order": 1, "type": "constant", "action": "add", "claim_out": "x", "transformation": "v" }]);
    let (s, b) = client_with(&app, json!({ "claim_transforms": t })).await;
    assert_eq!(s, 201, "{b}");
    let admin = app.admin_token().await;
    let (_, got) = app.get_api("/tenants/t1/tracks/prod/apps/svc", &admin).await;
    let mut canonical = t.clone();
    canonical[0]["claims_in"] = json!([]);
    assert_eq!(got["claim_transforms"], canonical);
    assert_eq!(got["issued_claims"], json!(["*"]));
}
