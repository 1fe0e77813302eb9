//! The Rust `oauth2` crate (pinned 5.0.0) as an independent client: client credentials
//! with Basic and with body authentication, and its error parsing of `invalid_scope`.

use oauth2::{
    AuthType, ClientId, ClientSecret, HttpRequest, HttpResponse, Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use serde_json::{Value, json};

use ferrid_testkit::*;

/// oauth2's HTTP client interface, served by this test's reqwest.
async fn send(http: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let mut r = http.request(parts.method, parts.uri.to_string()).body(body);
    for (k, v) in parts.headers.iter() {
        r = r.header(k, v);
    }
    let resp = r.send().await?;
    let mut out = http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        out = out.header(k, v);
    }
    Ok(out.body(resp.bytes().await?.to_vec()).expect("a response"))
}

#[tokio::test]
async fn the_rust_oauth2_crate_gets_tokens_with_basic_and_body_credentials() {
    let (app, admin, basic_client) = spawn_fixture().await;
    let post_client = app
        .client(
            &admin,
            "t1",
            "prod",
            "svc-post",
            "client_secret_post",
            json!([{ "resource": "orders", "scopes": ["read"] }]),
        )
        .await;
    let http = reqwest::Client::new();
    let token_url = TokenUrl::new(app.token_url("t1", "prod")).unwrap();
    for (c, auth, scope, aud) in [
        (&basic_client, AuthType::BasicAuth, "party-api2:read1", "party-api2"),
        (&post_client, AuthType::RequestBody, "orders:read", "orders"),
    ] {
        let client = BasicClient::new(ClientId::new(c.id.clone()))
            .set_client_secret(ClientSecret::new(c.secret.clone()))
            .set_auth_type(auth)
            .set_token_uri(token_url.clone());
        let h = http.clone();
        let t = client
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.into()))
            .request_async(&move |req| send(h.clone(), req))
            .await
            .expect("token");
        assert_eq!(t.token_type().as_ref(), "bearer");
        assert_eq!(t.expires_in().unwrap().as_secs(), 3600);
        assert_eq!(t.scopes().unwrap()[0].as_str(), scope);
        let cl = verify_with_jwks(&app, t.access_token().secret(), "t1", "prod", aud).await;
        assert_eq!(cl["client_id"], Value::String(c.id.clone()));
    }
    // an unknown scope comes back as the RFC 6749 error the crate understands
    let client = BasicClient::new(ClientId::new(basic_client.id.clone()))
        .set_client_secret(ClientSecret::new(basic_client.secret.clone()))
        .set_token_uri(token_url);
    let h = http.clone();
    let err = client
        .exchange_client_credentials()
        .add_scope(Scope::new("nope:read".into()))
        .request_async(&move |req| send(h.clone(), req))
        .await
        .unwrap_err();
    match err {
        oauth2::RequestTokenError::ServerResponse(r) => assert_eq!(r.error().as_ref(), "invalid_scope"),
        other => panic!("{other:?}"),
    }
}
