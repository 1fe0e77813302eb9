//! Client authentication at the token endpoint (RFC 6749 §2.3).
//!
//! [`extract`] reads which credentials a request carries; [`authenticate`] checks them
//! against the client's registration. Every failure of the second step is the same
//! 401 `invalid_client`, so an attacker learns nothing about which part was wrong.

pub mod keys;
pub mod private_key_jwt;
pub mod secret;

use ferrid_oauth::{OAuthError, basic, form::Form};

use crate::{
    model::UnixTime,
    runtime::{ClientRuntime, TrackRuntime},
    store::ReplayGuard,
};

/// The credentials a token request presents.
pub enum Credentials<'a> {
    /// RFC 6749 §2.3.1 `client_secret_basic`.
    Basic { client_id: String, secret: String },
    /// RFC 6749 §2.3.1 `client_secret_post`.
    Post { client_id: &'a str, secret: &'a str },
    /// RFC 7523 §2.2 `private_key_jwt` (`client_id` in the body is optional).
    Assertion { client_id: Option<&'a str>, assertion_type: &'a str, assertion: &'a str },
    /// Only a `client_id` (a public client), or nothing at all.
    None { client_id: Option<&'a str> },
}

impl Credentials<'_> {
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Credentials::Basic { client_id, .. } => Some(client_id),
            Credentials::Post { client_id, .. } => Some(client_id),
            Credentials::None { client_id } | Credentials::Assertion { client_id, .. } => *client_id,
        }
    }
}

/// Reads the credentials of a request, refusing ambiguous ones.
pub fn extract<'f>(authorization: Option<&str>, form: &'f Form<'_>) -> Result<Credentials<'f>, OAuthError> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    // An Authorization header of another scheme is not client authentication; ignore it.
    let header = authorization.filter(|h| basic::is_basic(h));
    let assertion = (form.get("client_assertion_type"), form.get("client_assertion"));
    if assertion != (None, None) {
        // RFC 6749 §2.3 / RFC 7523 §2.2: one authentication method per request.
        if header.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request("a client assertion was sent together with a client secret"));
        }
        return Ok(Credentials::Assertion {
            client_id: body_id,
            assertion_type: assertion.0.unwrap_or_default(),
            assertion: assertion.1.unwrap_or_default(),
        });
    }
    if let Some(h) = header {
        // RFC 6749 §5.2 invalid_request: "utilizes more than one mechanism".
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "client credentials were sent both in the Authorization header and in the body",
            ));
        }
        let creds = basic::parse_basic(h)
            .map_err(|e| OAuthError::invalid_request(format!("malformed Basic credentials: {e}")))?;
        if body_id.is_some_and(|id| id != creds.client_id) {
            return Err(OAuthError::invalid_request("client_id in the body differs from the Authorization header"));
        }
        return Ok(Credentials::Basic { client_id: creds.client_id, secret: creds.secret });
    }
    match (body_id, body_secret) {
        (Some(client_id), Some(secret)) => Ok(Credentials::Post { client_id, secret }),
        (client_id, _) => Ok(Credentials::None { client_id }),
    }
}

/// Authenticates the client named by `creds` in `track` by a client assertion; a client
/// secret goes through [`secret::authenticate`] (with the throttle before its slow
/// check), and a request with neither authenticates no client. Only a client assertion
/// reaches the store, for its `jti` replay guard.
pub async fn authenticate<'t>(
    track: &'t TrackRuntime,
    creds: &Credentials<'_>,
    replay: &dyn ReplayGuard,
    now: UnixTime,
) -> Result<&'t ClientRuntime, OAuthError> {
    let fail = || OAuthError::invalid_client();
    if let Credentials::Assertion { client_id, assertion_type, assertion } = creds {
        let v = private_key_jwt::verify(track, assertion_type, assertion, *client_id, now)?;
        // RFC 7523 §3 item 7: a jti is accepted once while the assertion could be
        // accepted at all (until exp + leeway), across instances.
        let client = track.at().app(v.client.name.clone());
        return match replay.use_jti(&client, &v.jti, v.keep_until, now).await {
            Ok(true) => Ok(v.client),
            Ok(false) => Err(fail()),
            Err(e) => Err(OAuthError::new(ferrid_oauth::ErrorCode::TemporarilyUnavailable, "try again later")
                .with_cause(format_args!("jti replay guard unavailable: {e}"))),
        };
    }
    // RFC 6749 §2.1: a public client identifies itself by `client_id` alone; only a
    // client registered with the method `none` may.
    if let Credentials::None { client_id: Some(id) } = creds
        && let Some(client) = track.clients.get(id)
        && client.method == crate::model::ClientAuthMethod::None
    {
        return Ok(client);
    }
    Err(fail())
}
