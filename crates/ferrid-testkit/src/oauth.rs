//! RFC 6749 §5.2 error assertions, Basic credentials (§2.3.1) and JWT helpers.

use base64::Engine;
use reqwest::Response;
use serde_json::Value;

use crate::TestApp;

/// `Basic base64(id:secret)`.
pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// Asserts an RFC 6749 §5.2 error: status, `error` code, no-store.
pub async fn assert_oauth_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["content-type"], "application/json");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"], code, "{b}");
    b
}

/// Part `n` of a compact JWS, base64url-decoded as JSON (unverified).
fn part(token: &str, n: usize) -> Value {
    let p = token.split('.').nth(n).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// The payload of a JWT, unverified (verification is tested separately).
pub fn claims(token: &str) -> Value {
    part(token, 1)
}

/// The JOSE header of a JWT.
pub fn header(token: &str) -> Value {
    part(token, 0)
}

/// Verifies a token with the `jsonwebtoken` crate against the track's JWKS.
pub async fn verify_with_jwks(app: &TestApp, token: &str, tenant: &str, track: &str, aud: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(app.jwks(tenant, track).await).unwrap();
    let h = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks.find(h.kid.as_deref().unwrap()).expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(h.alg);
    v.set_issuer(&[app.issuer(tenant, track)]);
    v.set_audience(&[aud]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
    jsonwebtoken::decode::<Value>(token, &key, &v).expect("token verifies").claims
}

/// An HTTP client whose requests come from the local address `ip` (a source of its own
/// for the throttle: 127.0.0.2, 127.0.0.3 …).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().unwrap()).build().unwrap()
}

/// A client-credentials request from `http` to `url` with Basic credentials.
pub async fn basic_attempt(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> Response {
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(id, secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
}

/// Percent-encodes every byte but the unreserved characters (RFC 3986 §2.3), for form
/// values (RFC 6749 Appendix B).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
