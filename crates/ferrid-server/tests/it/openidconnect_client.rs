//! The Rust `openidconnect` crate (pinned 4.1.0) as an independent relying party: discovery
//! from the issuer, the authorization code flow with PKCE and a nonce, the login by form
//! posts (the test kit's `Browser`: no redirect followed, cookies kept), the code exchange,
//! the ID token checked by the crate's own verifier (signature through the JWKS, iss, aud,
//! nonce, at_hash) on RS256, ES256 and EdDSA tracks, UserInfo, and the refresh token rotated.

use std::collections::BTreeMap;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenVerifier, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardErrorResponse, TokenResponse,
};
use reqwest::{StatusCode, header};
use serde_json::json;

use ferrid_testkit::browser::{Browser, params_of};
use ferrid_testkit::*;

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const PASSWORD: &str = "a long passphrase 42";

/// The crate's HTTP client interface, served by a reqwest client that follows no redirect
/// (as the crate asks of its clients).
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

/// GET the authorization request and post the login form as a browser would (every
/// field of it, the credentials typed in); the parameters of the 303's Location.
async fn log_in(b: &mut Browser, base: &str, authorize_url: &str, username: &str) -> BTreeMap<String, String> {
    let page = b.get(authorize_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{:?}", page.headers);
    let mut form = page.form();
    assert!(form.get("username").is_some() && form.get("password").is_some(), "{form:?}");
    form.set("username", username).set("password", PASSWORD);
    let r = b.submit(base, &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.cookies.contains_key("ferrid_session"), "{:?}", b.cookies);
    let location = r.location().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    params_of(location)
}

/// The OAuth error code of a refused token request, or what else happened.
fn error_of<T, RE: std::error::Error + 'static>(
    r: Result<T, RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>>,
) -> String {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => e.error().as_ref().to_owned(),
        Ok(_) => "accepted".to_owned(),
        Err(other) => format!("{other:?}"),
    }
}

/// A track with `alg`, a user in it and a `client_secret_basic` oidc_client; the user's id.
async fn provider(app: &TestApp, admin: &str, track: &str, alg: &str) -> (String, ClientCreds) {
    app.tenant_track(admin, "t1", track, alg).await;
    let user = app
        .create(
            &format!("/tenants/t1/tracks/{track}/users"),
            admin,
            json!({ "username": "alice", "email": "alice@example.com", "email_verified": true,
                "password": PASSWORD, "claims": { "name": "Alice Liddell", "given_name": "Alice" } }),
        )
        .await;
    let c = app
        .create(
            &format!("/tenants/t1/tracks/{track}/apps"),
            admin,
            json!({ "name": "web", "kind": "oidc_client", "redirect_uris": [REDIRECT],
                "client_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"] }),
        )
        .await;
    (user["id"].as_str().unwrap().to_owned(), ClientCreds::from_body(&c))
}

#[tokio::test]
async fn the_openidconnect_crate_signs_a_user_in_with_code_and_pkce_and_reads_userinfo() {
    let (app, admin) = spawn_admin().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let h = http.clone();
    let client_http = move |req| send(h.clone(), req);
    for (track, alg) in [("rs", "RS256"), ("ec", "ES256"), ("ed", "EdDSA")] {
        let (sub, creds) = provider(&app, &admin, track, alg).await;
        let issuer = IssuerUrl::new(app.issuer("t1", track)).unwrap();
        // discovery: the crate checks that the document names this issuer exactly
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &client_http).await.expect("discovery");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(creds.id.clone()),
            Some(ClientSecret::new(creds.secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge)
            .url();

        let callback = log_in(&mut Browser::new(), &app.base, url.as_str(), "alice").await;
        assert_eq!(callback.get("state"), Some(state.secret()), "{alg}");
        assert_eq!(callback.get("iss").map(String::as_str), Some(issuer.as_str()), "{alg}: RFC 9207 iss");
        let code = callback["code"].clone();

        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&client_http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: code exchange: {e:?}"));
        let id_token = tokens.id_token().expect("an ID token");
        let id_verifier: CoreIdTokenVerifier = client.id_token_verifier();
        let claims = id_token.claims(&id_verifier, &nonce).unwrap_or_else(|e| panic!("{alg}: ID token: {e:?}"));
        assert_eq!(claims.subject().as_str(), sub, "{alg}");
        assert_eq!(claims.issuer(), &issuer, "{alg}");
        assert!(claims.auth_time().is_some(), "{alg}: auth_time");
        // at_hash: the left half of the alg's hash of the access token (OpenID Connect
        // Core §3.1.3.6), as the crate computes it from the signing key
        let at_hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&id_verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&at_hash), "{alg}: at_hash");
        // the verifier is real: another nonce is refused
        assert!(id_token.claims(&id_verifier, &Nonce::new("other".into())).is_err(), "{alg}");

        let info: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
            .unwrap()
            .request_async(&client_http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: UserInfo: {e:?}"));
        assert_eq!(info.subject().as_str(), sub);
        let name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        assert_eq!(name.as_deref(), Some("Alice Liddell"), "{alg}");
        let given = info.given_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        assert_eq!(given.as_deref(), Some("Alice"), "{alg}");
        assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"), "{alg}");
        assert_eq!(info.email_verified(), Some(true), "{alg}");

        // the refresh token rotates; the old one is refused afterwards
        let old = tokens.refresh_token().expect("a refresh token (offline_access)").clone();
        let next = client
            .exchange_refresh_token(&old)
            .unwrap()
            .request_async(&client_http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: refresh: {e:?}"));
        let new = next.refresh_token().expect("a new refresh token");
        assert_ne!(new.secret(), old.secret(), "{alg}");
        let reused = client
            .exchange_refresh_token(&RefreshToken::new(old.secret().clone()))
            .unwrap()
            .request_async(&client_http)
            .await;
        assert_eq!(error_of(reused), "invalid_grant", "{alg}: the rotated-out refresh token");
    }
}

#[tokio::test]
async fn the_openidconnect_crate_gets_invalid_grant_for_a_wrong_pkce_verifier_and_a_reused_code() {
    let (app, admin) = spawn_admin().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let h = http.clone();
    let client_http = move |req| send(h.clone(), req);
    let (_, creds) = provider(&app, &admin, "rs", "RS256").await;
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer("t1", "rs")).unwrap(), &client_http)
        .await
        .unwrap();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(creds.id), Some(ClientSecret::new(creds.secret)))
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let mut browser = Browser::new();
    let mut codes = Vec::new();
    for _ in 0..2 {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        // the first request shows the login page; the second finds the session
        let callback = if codes.is_empty() {
            log_in(&mut browser, &app.base, url.as_str(), "alice@example.com").await
        } else {
            // a redirect answering a GET: 302 (RFC 6749 §4.1.2) or 303; only a redirect
            // after the login POST must be 303 (RFC 9700 §4.12), checked in log_in
            let page = browser.get(url.as_str()).await;
            assert!(page.status == StatusCode::FOUND || page.status == StatusCode::SEE_OTHER, "{page:?}");
            params_of(page.location().unwrap())
        };
        codes.push((callback["code"].clone(), verifier));
    }
    let [(code_a, verifier_a), (code_b, _)] = <[_; 2]>::try_from(codes).ok().unwrap();
    // code b with a's verifier (RFC 7636 §4.6)
    let wrong = client
        .exchange_code(AuthorizationCode::new(code_b))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier_a.secret().clone()))
        .request_async(&client_http)
        .await;
    assert_eq!(error_of(wrong), "invalid_grant");
    // code a twice
    let first = client
        .exchange_code(AuthorizationCode::new(code_a.clone()))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier_a.secret().clone()))
        .request_async(&client_http)
        .await
        .expect("the first use of a code");
    assert!(first.id_token().is_some());
    let again = client
        .exchange_code(AuthorizationCode::new(code_a))
        .unwrap()
        .set_pkce_verifier(verifier_a)
        .request_async(&client_http)
        .await;
    assert_eq!(error_of(again), "invalid_grant");
}
