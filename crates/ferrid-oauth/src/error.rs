//! RFC 6749 §5.2 error responses: the one error shape protocol endpoints answer with.

use std::borrow::Cow;

use serde::Serialize;

/// The `error` codes of RFC 6749 §5.2, RFC 8707 §2 and RFC 6750 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707 §2: an unknown or unusable `resource`/`audience`.
    InvalidTarget,
    /// RFC 6750 §3.1.
    InvalidToken,
    /// RFC 6750 §3.1.
    InsufficientScope,
    ServerError,
    TemporarilyUnavailable,
    /// RFC 6749 §4.1.2.1.
    AccessDenied,
    /// RFC 6749 §4.1.2.1.
    UnsupportedResponseType,
    /// OpenID Connect Core 1.0 §3.1.2.6.
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    /// RFC 7009 §2.2.1.
    UnsupportedTokenType,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
        }
    }

    /// The HTTP status RFC 6749 §5.2 / RFC 6750 §3.1 give this code.
    pub fn default_status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// What a protocol endpoint answers when it refuses a request. The description is
/// written for the client; an internal cause never goes there: it is carried apart
/// ([`OAuthError::with_cause`]), logged once where the error becomes a response, and
/// never serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: ErrorCode,
    #[serde(rename = "error_description", skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'static, str>>,
    #[serde(skip)]
    pub status: u16,
    /// Seconds for a `Retry-After` header (a throttled request, 429).
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Whether the error may be sent to the client's redirect URI (RFC 6749 §4.1.2.1)
    /// rather than answered directly. No endpoint served today redirects.
    #[serde(skip)]
    redirect: bool,
    /// What went wrong inside, for the operator's log only.
    #[serde(skip)]
    cause: Option<Box<str>>,
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            error,
            description: Some(description.into()),
            status: error.default_status(),
            retry_after: None,
            redirect: false,
            cause: None,
        }
    }

    /// The same error answered with another HTTP status (404, 405, 413 …).
    pub fn with_status(self, status: u16) -> Self {
        OAuthError { status, ..self }
    }

    /// Attaches the internal cause: logged once where the error is turned into a
    /// response, never sent. It must not hold a secret or a token.
    pub fn with_cause(self, cause: impl std::fmt::Display) -> Self {
        OAuthError { cause: Some(cause.to_string().into_boxed_str()), ..self }
    }

    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Marks the error as one that may be redirected to the client (RFC 6749 §4.1.2.1:
    /// only once the client and its redirect URI are known to be valid).
    pub fn redirectable(self) -> Self {
        OAuthError { redirect: true, ..self }
    }

    /// Whether the error may be redirected to the client; false unless [`Self::redirectable`].
    pub fn may_redirect(&self) -> bool {
        self.redirect
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// RFC 6749 §5.2 `invalid_client`: always 401 and never a hint of which part failed.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }

    pub fn unsupported_grant_type(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnsupportedGrantType, description)
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "the server could not complete the request")
    }

    /// 429: too many failed attempts from this source; try again after `seconds`.
    pub fn throttled(seconds: u64) -> Self {
        OAuthError {
            status: 429,
            retry_after: Some(seconds.max(1)),
            ..Self::new(ErrorCode::TemporarilyUnavailable, "too many failed client authentications; retry later")
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("OAuthError serializes")
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error.as_str())?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_serializes_as_rfc6749_json() {
        let e = OAuthError::invalid_scope("unknown scope");
        assert_eq!(e.to_json(), r#"{"error":"invalid_scope","error_description":"unknown scope"}"#);
        assert_eq!(e.status, 400);
    }

    #[test]
    fn the_cause_is_never_serialized() {
        let e = OAuthError::server_error().with_cause("signing failed: key 42 rejected");
        assert_eq!(e.cause(), Some("signing failed: key 42 rejected"));
        assert_eq!(e.to_json(), OAuthError::server_error().to_json());
        assert!(!e.to_json().contains("signing"));
        assert_eq!(e.to_string(), "server_error: the server could not complete the request");
    }

    #[test]
    fn no_error_is_redirectable_unless_marked() {
        let e = OAuthError::invalid_scope("unknown scope");
        assert!(!e.may_redirect());
        assert!(e.clone().redirectable().may_redirect());
        assert_eq!(e.clone().redirectable().to_json(), e.to_json());
    }

    #[test]
    fn with_status_keeps_the_body() {
        let e = OAuthError::invalid_request("no such endpoint").with_status(404);
        assert_eq!(e.status, 404);
        assert_eq!(e.to_json(), r#"{"error":"invalid_request","error_description":"no such endpoint"}"#);
    }

    #[test]
    fn invalid_client_is_401() {
        assert_eq!(OAuthError::invalid_client().status, 401);
    }
}
