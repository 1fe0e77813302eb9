//! Which claims leave for a person (docs/provider.md "Which claims leave"; issue 15): the
//! client's issued-claims list filters the scope-released claims of ID tokens and
//! UserInfo and the fixed and transformed claims of access tokens; protocol claims are
//! never filtered; a person's `sub` is never changed by a transform; client-defined
//! scopes release their own claims and a removed default scope is refused; a client may
//! leave itself out of its access tokens' `aud`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrid_testkit::{
    browser::{Browser, params_of},
    *,
};

use crate::provider::{CB, Op, VERIFIER, op, register};

const APPS: &str = "/tenants/t1/tracks/prod/apps";

impl Op {
    /// Code flow for `client` (logging in first if the browser has no session): the
    /// token response.
    async fn tokens_of(&self, b: &mut Browser, client: &ClientCreds, scope: &str) -> Value {
        let code = self.code(b, &self.code_url(&client.id, &[("scope", scope)])).await;
        let r = self.redeem(client, &code, Some(VERIFIER)).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// The lone ID token of an implicit `id_token` request (the browser has a session).
    async fn lone_id_token(&self, b: &mut Browser, client: &str, scope: &str) -> Value {
        let url = self.code_url(
            client,
            &[("response_type", "id_token"), ("scope", scope), ("code_challenge", ""), ("code_challenge_method", "")],
        );
        let page = b.get(&url).await;
        let loc = page.location().unwrap_or_else(|| panic!("a redirect ({}): {}", page.status, page.body));
        assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
        claims(&params_of(loc)["id_token"])
    }

    async fn userinfo_json(&self, access_token: &Value) -> Value {
        let r = self.userinfo(access_token.as_str().unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

/// Both flows for a client: the code flow and the implicit `id_token`.
fn both_flows(extra: Value) -> Value {
    let mut body = json!({ "grant_types": ["authorization_code", "implicit"], "response_types": ["code", "id_token"] });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn the_issued_claims_list_filters_userinfo_the_id_token_and_the_access_token_but_never_protocol_claims() {
    let op = op().await;
    let fixed = json!([{ "claim": "role", "values": ["buyer"] }, { "claim": "team", "values": ["blue"] }]);
    let c = register(
        &op.app,
        &op.admin,
        "narrow",
        both_flows(json!({ "issued_claims": ["email", "role"], "claims": fixed })),
    )
    .await;
    let mut b = Browser::new();
    let t = op.tokens_of(&mut b, &c, "openid profile email").await;
    // UserInfo: the granted scopes release name, email, email_verified, …; only email leaves
    assert_eq!(op.userinfo_json(&t["access_token"]).await, json!({ "sub": op.user_id, "email": "Alice@Example.com" }));
    // the access token: the fixed claims the list names, with every protocol claim
    let a = claims(t["access_token"].as_str().unwrap());
    assert_eq!(a["role"], "buyer");
    assert!(a.get("team").is_none(), "{a}");
    for protocol in ["iss", "sub", "aud", "client_id", "scope", "iat", "nbf", "exp", "jti"] {
        assert!(a.get(protocol).is_some(), "{protocol} in {a}");
    }
    // the ID token of the code flow: protocol claims only; fixed claims never go there
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(id.get("role").is_none() && id.get("email").is_none(), "{id}");
    // a lone ID token carries the released claims the list names, and all protocol claims
    let id = op.lone_id_token(&mut b, "narrow", "openid profile email").await;
    assert_eq!(id["email"], "Alice@Example.com");
    for gone in ["name", "given_name", "email_verified", "preferred_username", "role", "team"] {
        assert!(id.get(gone).is_none(), "{gone} in {id}");
    }
    for protocol in ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid"] {
        assert!(id.get(protocol).is_some(), "{protocol} in {id}");
    }
    // `*` (the default, the client `web`) lets every released claim leave
    let t = op.tokens_of(&mut b, &op.client, "openid profile email").await;
    let u = op.userinfo_json(&t["access_token"]).await;
    assert_eq!((&u["name"], &u["email_verified"]), (&json!("Alice Liddell"), &json!(true)));
}

#[tokio::test]
async fn a_transform_reads_a_persons_token_but_never_changes_its_sub() {
    let op = op().await;
    let transforms = json!([
        { "order": 1, "type": "concatenate", "action": "replace", "claims_in": ["sub"], "claim_out": "sub",
          "transformation": "svc:{0}" },
        { "order": 2, "type": "map", "action": "add", "claims_in": ["client_id"], "claim_out": "app" },
    ]);
    let grants = json!(["authorization_code", "client_credentials"]);
    let c =
        register(&op.app, &op.admin, "xform", json!({ "claim_transforms": transforms, "grant_types": grants })).await;
    let mut b = Browser::new();
    let t = op.tokens_of(&mut b, &c, "openid email").await;
    let a = claims(t["access_token"].as_str().unwrap());
    assert_eq!(a["sub"], op.user_id.as_str(), "a person's sub stays their id");
    assert_eq!(a["app"], "xform", "the transform ran");
    assert_eq!(claims(t["id_token"].as_str().unwrap())["sub"], op.user_id.as_str());
    let u = op.userinfo_json(&t["access_token"]).await;
    assert_eq!(u["sub"], op.user_id.as_str(), "UserInfo finds the person by the token's sub");
    // the same client's own client-credentials token: the transform does write its sub
    let cc = op.app.token_for("t1", "prod", &c, "").await;
    assert_eq!(claims(&cc)["sub"], "svc:xform");
}

#[tokio::test]
async fn a_client_defined_scope_releases_its_claims_and_a_removed_default_scope_is_invalid_scope() {
    let op = op().await;
    let users = format!("/tenants/t1/tracks/prod/users/{}", op.user_id);
    let claims_now = json!({ "claims": { "name": "Alice Liddell", "department": "Research", "given_name": "Alice" } });
    let (s, _) = op.app.api(reqwest::Method::PATCH, &users, &op.admin, Some(claims_now)).await;
    assert_eq!(s, StatusCode::OK);
    let scopes =
        json!([{ "scope": "openid" }, { "scope": "email" }, { "scope": "staff", "claims": ["department", "name"] }]);
    let c = register(&op.app, &op.admin, "custom", both_flows(json!({ "scopes": scopes }))).await;
    let mut b = Browser::new();
    let t = op.tokens_of(&mut b, &c, "openid staff").await;
    assert_eq!(t["scope"], "openid staff");
    assert_eq!(
        op.userinfo_json(&t["access_token"]).await,
        json!({ "sub": op.user_id, "department": "Research", "name": "Alice Liddell" })
    );
    let id = op.lone_id_token(&mut b, "custom", "openid staff email").await;
    assert_eq!((&id["department"], &id["name"]), (&json!("Research"), &json!("Alice Liddell")));
    assert_eq!((&id["email"], &id["email_verified"]), (&json!("Alice@Example.com"), &json!(true)));
    assert!(id.get("given_name").is_none(), "profile is not among its scopes: {id}");
    // profile, a default scope the client's list leaves out, is refused
    let p = params_of(b.get(&op.code_url("custom", &[("scope", "openid profile")])).await.location().unwrap());
    assert_eq!((p["error"].as_str(), p["state"].as_str()), ("invalid_scope", "st-1"));
    // and another client (standard scopes) may not ask for `staff`
    let p = params_of(b.get(&op.code_url("web", &[("scope", "openid staff")])).await.location().unwrap());
    assert_eq!(p["error"], "invalid_scope");
}

#[tokio::test]
async fn a_client_may_leave_itself_out_of_its_access_tokens_audience() {
    let op = op().await;
    let body = json!({ "access_token_audience_includes_client": false });
    let c = register(&op.app, &op.admin, "apionly", body).await;
    let (s, got) = op.app.get_api(&format!("{APPS}/apionly"), &op.admin).await;
    assert_eq!((s, &got["access_token_audience_includes_client"]), (StatusCode::OK, &json!(false)));
    let (_, web) = op.app.get_api(&format!("{APPS}/web"), &op.admin).await;
    assert_eq!(web["access_token_audience_includes_client"], true, "the default");
    let mut b = Browser::new();
    let t = op.tokens_of(&mut b, &c, "openid orders:read").await;
    assert_eq!(claims(t["access_token"].as_str().unwrap())["aud"], "orders");
    // without a resource the client is the audience all the same: a token needs one
    let t = op.tokens_of(&mut b, &c, "openid").await;
    assert_eq!(claims(t["access_token"].as_str().unwrap())["aud"], "apionly");
    // the default: the resource, then the client
    let t = op.tokens_of(&mut b, &op.client, "openid orders:read").await;
    assert_eq!(claims(t["access_token"].as_str().unwrap())["aud"], json!(["orders", "web"]));
    // a bad type is named
    let bad = json!({ "name": "bad", "kind": "oidc_client", "redirect_uris": [CB],
                      "access_token_audience_includes_client": "no" });
    let (s, err) = op.app.post_api(APPS, &op.admin, bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["errors"],
        json!([{ "field": "access_token_audience_includes_client", "message": "must be true or false" }])
    );
    // the OpenAPI document describes it
    let d: Value =
        op.app.http.get(format!("{}/api/v1/openapi.json", op.app.base)).send().await.unwrap().json().await.unwrap();
    let oidc = &d["components"]["schemas"]["OidcClientSpec"]["allOf"][1]["properties"];
    assert_eq!(oidc["access_token_audience_includes_client"]["type"], "boolean", "{oidc}");
}
