//! The Rust `openidconnect` crate (pinned 4.1.0) as an independent relying party: discovery
//! from the issuer, the authorization code flow with PKCE and a nonce, the login by form
//! posts (no redirect followed, cookies kept), the code exchange, the ID token checked by
//! the crate's own verifier (signature through the JWKS, iss, aud, nonce, at_hash) on RS256,
//! ES256 and EdDSA tracks, UserInfo, and the refresh token rotated.

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

/// A user agent for the login: one cookie jar by name (every request stays below one
/// issuer, the cookies' path), no redirect followed.
struct UserAgent {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl UserAgent {
    fn new(http: &reqwest::Client) -> Self {
        UserAgent { http: http.clone(), cookies: BTreeMap::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, header::HeaderMap, String) {
        let mut req = req;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        let resp = req.send().await.unwrap();
        for sc in resp.headers().get_all(header::SET_COOKIE) {
            let pair = sc.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap())
    }
}

/// Entities of an HTML attribute value.
fn unescape(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The attributes of one start tag's source (`a="v"`, `a='v'`, `a=v`, bare `a`).
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag.trim_start();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c.is_whitespace() || c == '=' || c == '/' || c == '>').unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(r) = rest.strip_prefix('=') {
            let r = r.trim_start();
            let (v, after) = match r.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = r[1..].find(q).expect("a closed attribute value") + 1;
                    (&r[1..close], &r[close + 1..])
                }
                _ => {
                    let e = r.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(r.len());
                    (&r[..e], &r[e..])
                }
            };
            value = unescape(v);
            rest = after.trim_start();
        } else if name.is_empty() {
            rest = rest.get(1..).unwrap_or("").trim_start();
        }
        if !name.is_empty() {
            out.insert(name, value);
        }
    }
    out
}

/// The start tags `<name …>` in `html`, as attribute maps.
fn tags(html: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name}");
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&open) {
        let start = at + i + open.len();
        let end = start + lower[start..].find('>').expect("a closed tag");
        if lower[start..].starts_with(|c: char| c.is_whitespace() || c == '>') {
            out.push(attributes(&html[start..end]));
        }
        at = end;
    }
    out
}

/// The login page's one POST form: its action and every control a browser submits, the
/// credentials typed in.
fn login_form(page: &str, username: &str) -> (String, Vec<(String, String)>) {
    let forms: Vec<_> =
        tags(page, "form").into_iter().filter(|f| f.get("method").map(String::as_str) == Some("post")).collect();
    assert_eq!(forms.len(), 1, "one POST form on the login page: {page}");
    let mut fields = Vec::new();
    for input in tags(page, "input") {
        let kind = input.get("type").map(|t| t.to_ascii_lowercase()).unwrap_or_else(|| "text".into());
        let Some(name) = input.get("name") else { continue };
        if ["submit", "image", "reset", "button", "file"].contains(&kind.as_str()) || input.contains_key("disabled") {
            continue;
        }
        let value = match name.as_str() {
            "username" => username.to_owned(),
            "password" => PASSWORD.to_owned(),
            _ => input.get("value").cloned().unwrap_or_default(),
        };
        fields.push((name.clone(), value));
    }
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"username") && names.contains(&"password"), "{names:?}");
    (forms[0].get("action").cloned().unwrap_or_default(), fields)
}

/// Absolute URL of a form action: absolute already, or a path on the origin of `page_url`.
fn resolve(page_url: &str, action: &str) -> String {
    let page = reqwest::Url::parse(page_url).unwrap();
    page.join(if action.is_empty() { page_url } else { action }).unwrap().to_string()
}

/// GET the authorization request and post the login form; the 303's Location.
async fn log_in(ua: &mut UserAgent, authorize_url: &str, username: &str) -> reqwest::Url {
    let (s, h, page) = ua.send(ua.http.get(authorize_url)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{h:?}");
    let (action, fields) = login_form(&page, username);
    let (s, h, body) = ua.send(ua.http.post(resolve(authorize_url, &action)).form(&fields)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert!(ua.cookies.contains_key("ferrid_session"), "{:?}", ua.cookies);
    let location = h[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    reqwest::Url::parse(location).unwrap()
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

fn query(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
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

        let callback = log_in(&mut UserAgent::new(&http), url.as_str(), "alice").await;
        assert_eq!(query(&callback, "state").as_deref(), Some(state.secret().as_str()), "{alg}");
        assert_eq!(query(&callback, "iss").as_deref(), Some(issuer.as_str()), "{alg}: RFC 9207 iss");
        let code = query(&callback, "code").expect("a code");

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
    let mut ua = UserAgent::new(&http);
    let mut codes = Vec::new();
    for _ in 0..2 {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        // the first request shows the login page; the second finds the session
        let callback = if codes.is_empty() {
            log_in(&mut ua, url.as_str(), "alice@example.com").await
        } else {
            // a redirect answering a GET: 302 (RFC 6749 §4.1.2) or 303; only a redirect
            // after the login POST must be 303 (RFC 9700 §4.12), checked in log_in
            let (s, h, body) = ua.send(ua.http.get(url.as_str())).await;
            assert!(s == StatusCode::FOUND || s == StatusCode::SEE_OTHER, "{s} {body}");
            reqwest::Url::parse(h[header::LOCATION].to_str().unwrap()).unwrap()
        };
        codes.push((query(&callback, "code").unwrap(), verifier));
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
