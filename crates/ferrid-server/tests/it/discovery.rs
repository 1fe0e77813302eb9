//! Discovery (RFC 8414, OIDC Discovery) and the JWKS.

use serde_json::Value;

use ferrid_testkit::*;

async fn get_json(app: &TestApp, url: &str) -> (u16, Value) {
    let r = app.http.get(url).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn discovery_issuer_equals_the_prefix_and_lists_exactly_what_is_supported() {
    let (app, _, _) = spawn_fixture().await;
    let issuer = app.issuer("t1", "prod");
    for url in [
        format!("{issuer}/.well-known/openid-configuration"),
        format!("{issuer}/.well-known/oauth-authorization-server"),
        format!("{}/.well-known/oauth-authorization-server/t1/prod", app.base),
    ] {
        let (s, d) = get_json(&app, &url).await;
        assert_eq!(s, 200, "{url}");
        assert_eq!(d["issuer"], issuer);
        assert_eq!(d["token_endpoint"], format!("{issuer}/oauth/token"));
        assert_eq!(d["jwks_uri"], format!("{issuer}/oauth/keys"));
        assert_eq!(
            d["grant_types_supported"],
            serde_json::json!(["authorization_code", "client_credentials", "implicit", "refresh_token"])
        );
        assert_eq!(
            d["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_post", "client_secret_basic", "private_key_jwt", "none"])
        );
        assert_eq!(d["authorization_endpoint"], format!("{issuer}/oauth/authorize"));
        assert_eq!(d["end_session_endpoint"], format!("{issuer}/oauth/endsession"));
    }
}

#[tokio::test]
async fn app_scoped_discovery_keeps_the_issuer_and_scopes_the_token_endpoint() {
    let (app, _, _) = spawn_fixture().await;
    let issuer = app.issuer("t1", "prod");
    for seg in ["svc", "svc(*)", "svc(login)"] {
        let (s, d) = get_json(&app, &format!("{issuer}/{seg}/.well-known/openid-configuration")).await;
        assert_eq!(s, 200);
        assert_eq!(d["issuer"], issuer);
        assert_eq!(d["token_endpoint"], format!("{issuer}/svc/oauth/token"));
    }
    let (s, _) = get_json(&app, &format!("{issuer}/nope/.well-known/openid-configuration")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn jwks_publishes_the_signing_key_with_its_kid_and_alg() {
    let (app, _, c) = spawn_fixture().await;
    let (s, jwks) = get_json(&app, &format!("{}/oauth/keys", app.issuer("t1", "prod"))).await;
    assert_eq!(s, 200);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "EC");
    assert_eq!(k["crv"], "P-256");
    assert_eq!(k["alg"], "ES256");
    assert_eq!(k["use"], "sig");
    assert!(k.get("d").is_none(), "no private member");
    let r = app.token("t1", "prod", &c, "").await;
    let tok: Value = r.json().await.unwrap();
    assert_eq!(header(tok["access_token"].as_str().unwrap())["kid"], k["kid"]);
    // tracks have their own keys
    let (_, master) = get_json(&app, &format!("{}/oauth/keys", app.issuer("master", "master"))).await;
    assert_ne!(master["keys"][0]["kid"], k["kid"]);
    assert_eq!(master["keys"][0]["kty"], "RSA");
}

#[tokio::test]
async fn unknown_tracks_have_no_documents() {
    let app = spawn_app().await;
    for p in ["/nope/prod/.well-known/openid-configuration", "/master/nope/oauth/keys"] {
        let (s, _) = get_json(&app, &format!("{}{p}", app.base)).await;
        assert_eq!(s, 404, "{p}");
    }
}

#[tokio::test]
async fn every_listed_route_is_served() {
    use ferrid_core::routes::{Method, Route};
    let app = spawn_app().await;
    let (_, c) = app.fixture("prod", "ES256").await;
    for route in Route::ALL {
        let url = format!("{}{}", app.base, route.path("t1", "prod", &c.id));
        let get = || async { app.http.get(&url).send().await.unwrap().status().as_u16() };
        let post = || async {
            app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=client_credentials").await.status().as_u16()
        };
        let provider = route.template().contains("/oauth/authorize")
            || route.template().contains("/oauth/userinfo")
            || route.template().contains("/oauth/introspect")
            || route.template().contains("/oauth/revoke")
            || route.template().contains("/oauth/endsession")
            || matches!(route, Route::Login | Route::Consent);
        let statuses = match route.method() {
            Method::Get => vec![get().await],
            Method::Post => vec![post().await],
            Method::GetOrPost => vec![get().await, post().await],
        };
        for s in statuses {
            if provider {
                // a request without its parameters: answered by the endpoint (an error
                // page, a bearer challenge), never as an unknown path or method
                assert!(s != 404 && s != 405, "{route:?} at {url}: {s}");
            } else if route == Route::Favicon {
                assert_eq!(s, 204, "{route:?} at {url}");
            } else {
                assert_eq!(s, 200, "{route:?} at {url}");
            }
        }
    }
}
