//! Client authentication at the token endpoint (RFC 6749 §2.3).
//!
//! [`extract`] reads which credentials a request carries; [`authenticate`] checks them
//! against the client's registration. Every failure of the second step is the same
//! 401 `invalid_client`, so an attacker learns nothing about which part was wrong.

pub mod secret;

use ferrid_oauth::{OAuthError, basic, form::Form};

use crate::runtime::{ClientRuntime, TrackRuntime};

/// The credentials a token request presents.
pub enum Credentials<'a> {
    /// RFC 6749 §2.3.1 `client_secret_basic`.
    Basic { client_id: String, secret: String },
    /// RFC 6749 §2.3.1 `client_secret_post`.
    Post { client_id: &'a str, secret: &'a str },
    /// Only a `client_id` (a public client), or nothing at all.
    None { client_id: Option<&'a str> },
}

impl Credentials<'_> {
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Credentials::Basic { client_id, .. } => Some(client_id),
            Credentials::Post { client_id, .. } => Some(client_id),
            Credentials::None { client_id } => *client_id,
        }
    }

    pub fn used_basic(&self) -> bool {
        matches!(self, Credentials::Basic { .. })
    }
}

/// Reads the credentials of a request, refusing ambiguous ones.
pub fn extract<'f>(
    authorization: Option<&str>,
    form: &'f Form<'_>,
) -> Result<Credentials<'f>, OAuthError> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    // An Authorization header of another scheme is not client authentication; ignore it.
    let header = authorization.filter(|h| basic::is_basic(h));
    if let Some(h) = header {
        // RFC 6749 §5.2 invalid_request: "utilizes more than one mechanism".
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "client credentials were sent both in the Authorization header and in the body",
            ));
        }
        let creds = basic::parse_basic(h).map_err(|e| {
            OAuthError::invalid_request(format!("malformed Basic credentials: {e}"))
        })?;
        if body_id.is_some_and(|id| id != creds.client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Authorization header",
            ));
        }
        return Ok(Credentials::Basic {
            client_id: creds.client_id,
            secret: creds.secret,
        });
    }
    match (body_id, body_secret) {
        (Some(client_id), Some(secret)) => Ok(Credentials::Post { client_id, secret }),
        (client_id, _) => Ok(Credentials::None { client_id }),
    }
}

/// Authenticates the client named by `creds` in `track`.
pub async fn authenticate<'t>(
    track: &'t TrackRuntime,
    creds: &Credentials<'_>,
) -> Result<&'t ClientRuntime, OAuthError> {
    let fail = || OAuthError::invalid_client().with_basic_challenge(true);
    let client = creds
        .client_id()
        .and_then(|id| track.clients.get(id))
        .ok_or_else(fail)?;
    let presented: Option<&str> = match creds {
        Credentials::Basic { secret, .. } => Some(secret),
        Credentials::Post { secret, .. } => Some(secret),
        Credentials::None { .. } => None,
    };
    let ok = match presented {
        Some(secret) => {
            secret::method_allows(client.method, creds) && secret::verify(client, secret).await
        }
        None => false,
    };
    if ok { Ok(client) } else { Err(fail()) }
}
