//! What can go wrong getting a token. Messages never hold a secret or a token.

use std::time::Duration;

/// A configuration that cannot work, found before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The token URL is not an absolute http(s) URL.
    #[error("token_url {0:?} is not an http:// or https:// URL")]
    BadTokenUrl(String),
    /// Neither a secret nor a key.
    #[error("client {0:?} has neither a client_secret nor a private_key_jwt key")]
    NoCredentials(String),
    /// The private key could not be used.
    #[error("private key {path}: {reason}")]
    Key {
        /// The key file.
        path: String,
        /// Why (never the key itself).
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// A failed token request, typed so callers can tell a refusal from an outage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint could not be reached or did not answer in time.
    #[error("token endpoint unreachable: {0}")]
    Transport(String),
    /// The server refused with an RFC 6749 §5.2 error.
    #[error("token endpoint refused the request (HTTP {status}): {error}{}", fmt_desc(description))]
    Refused {
        /// HTTP status.
        status: u16,
        /// The `error` code, e.g. `invalid_client`.
        error: String,
        /// `error_description`, if sent.
        description: Option<String>,
    },
    /// A non-success status without an OAuth error body.
    #[error("token endpoint answered HTTP {status}")]
    Http {
        /// HTTP status.
        status: u16,
    },
    /// A success status whose body is not a token response.
    #[error("token response not understood: {0}")]
    BadResponse(String),
    /// The client assertion could not be signed.
    #[error("client assertion: {0}")]
    Assertion(String),
    /// A recent attempt failed; no request is made until the back-off has passed.
    #[error("{last} (next attempt in {:.1}s)", retry_in.as_secs_f64())]
    CoolingDown {
        /// Time left before the next request is allowed.
        retry_in: Duration,
        /// The failure that started the back-off.
        last: Box<TokenError>,
    },
}

fn fmt_desc(d: &Option<String>) -> String {
    d.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
}

impl TokenError {
    /// Whether trying again soon may succeed: transport failures, 5xx, 429,
    /// `temporarily_unavailable` and `server_error`.
    pub fn is_retryable(&self) -> bool {
        match self {
            TokenError::Transport(_) => true,
            TokenError::Http { status } => *status >= 500 || *status == 429,
            TokenError::Refused { status, error, .. } => {
                *status >= 500 || *status == 429 || error == "temporarily_unavailable" || error == "server_error"
            }
            TokenError::BadResponse(_) | TokenError::Assertion(_) => false,
            TokenError::CoolingDown { last, .. } => last.is_retryable(),
        }
    }

    /// The OAuth `error` code when the server sent one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            TokenError::Refused { error, .. } => Some(error),
            TokenError::CoolingDown { last, .. } => last.oauth_error(),
            _ => None,
        }
    }
}
