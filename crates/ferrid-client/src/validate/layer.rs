//! The tower layer, the axum extractor, and the error responses of RFC 6750 §3.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    extract::{FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use ferrid_oauth::{ErrorCode, OAuthError};

use super::{Claims, Validator};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// No bearer token: 401 with a bare `Bearer` challenge (RFC 6750 §3.1 — no error
    /// code when the request carries no credentials).
    #[error("no bearer token")]
    MissingToken,
    /// Several `Authorization` headers: 400 `invalid_request`.
    #[error("more than one Authorization header")]
    AmbiguousToken,
    /// The token failed a check: 401 `invalid_token`.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A required scope is missing: 403 `insufficient_scope` naming the scopes.
    #[error("insufficient scope, needs {scope}")]
    InsufficientScope {
        /// The required scopes, space-separated.
        scope: String,
    },
    /// No required role: 403 `insufficient_scope`.
    #[error("the token has none of the required roles")]
    MissingRole,
    /// The keys could not be fetched: 503, the client is not at fault.
    #[error("verification keys unavailable: {0}")]
    KeysUnavailable(String),
    /// The introspection endpoint could not answer (unreachable, an error status, or
    /// an answer that is not RFC 7662): 503 with `Retry-After`, like
    /// [`ValidationError::KeysUnavailable`] — the request is refused (fail closed).
    #[error("introspection unavailable: {0}")]
    IntrospectionUnavailable(String),
    /// The [`Claims`] extractor found neither a layer nor a [`Validator`] extension: 500.
    #[error("no validator is configured for this route")]
    NotConfigured,
}

impl ValidationError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ValidationError::MissingToken | ValidationError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ValidationError::AmbiguousToken => StatusCode::BAD_REQUEST,
            ValidationError::InsufficientScope { .. } | ValidationError::MissingRole => StatusCode::FORBIDDEN,
            ValidationError::KeysUnavailable(_) | ValidationError::IntrospectionUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ValidationError::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), if one is due.
    pub fn challenge(&self) -> Option<String> {
        let with =
            |code: ErrorCode, desc: &str| format!("Bearer error=\"{}\", error_description=\"{desc}\"", code.as_str());
        match self {
            ValidationError::MissingToken => Some("Bearer".into()),
            ValidationError::AmbiguousToken => {
                Some(with(ErrorCode::InvalidRequest, "more than one Authorization header"))
            }
            ValidationError::InvalidToken(d) => Some(with(ErrorCode::InvalidToken, d)),
            ValidationError::InsufficientScope { scope } => Some(format!(
                "{}, scope=\"{scope}\"",
                with(ErrorCode::InsufficientScope, "the token lacks a required scope")
            )),
            ValidationError::MissingRole => Some(with(ErrorCode::InsufficientScope, "the token lacks a required role")),
            ValidationError::KeysUnavailable(_)
            | ValidationError::IntrospectionUnavailable(_)
            | ValidationError::NotConfigured => None,
        }
    }

    fn body(&self) -> Option<OAuthError> {
        let e = |code, desc: &str| Some(OAuthError::new(code, desc.to_owned()));
        match self {
            ValidationError::MissingToken => None,
            ValidationError::AmbiguousToken => e(ErrorCode::InvalidRequest, "more than one Authorization header"),
            ValidationError::InvalidToken(d) => e(ErrorCode::InvalidToken, d),
            ValidationError::InsufficientScope { .. } => {
                e(ErrorCode::InsufficientScope, "the token lacks a required scope")
            }
            ValidationError::MissingRole => e(ErrorCode::InsufficientScope, "the token lacks a required role"),
            ValidationError::KeysUnavailable(_) | ValidationError::IntrospectionUnavailable(_) => {
                e(ErrorCode::TemporarilyUnavailable, "the token cannot be checked right now")
            }
            ValidationError::NotConfigured => e(ErrorCode::ServerError, "the server could not complete the request"),
        }
    }
}

impl IntoResponse for ValidationError {
    fn into_response(self) -> Response {
        if let ValidationError::KeysUnavailable(why) = &self {
            tracing::warn!(error = %why, "token refused: verification keys unavailable");
        }
        if let ValidationError::IntrospectionUnavailable(why) = &self {
            tracing::warn!(error = %why, "token refused: introspection unavailable");
        }
        let mut resp = match self.body() {
            Some(b) => (self.status(), [(header::CONTENT_TYPE, "application/json")], b.to_json()).into_response(),
            None => self.status().into_response(),
        };
        if let Some(c) = self.challenge().and_then(|c| HeaderValue::try_from(c).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        if matches!(self, ValidationError::KeysUnavailable(_) | ValidationError::IntrospectionUnavailable(_)) {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        }
        resp
    }
}

/// The bearer token of a request (RFC 6750 §2.1: `Authorization: Bearer <token>`, the
/// scheme in any case).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ValidationError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ValidationError::MissingToken);
    };
    if values.next().is_some() {
        return Err(ValidationError::AmbiguousToken);
    }
    let value = value.to_str().map_err(|_| ValidationError::InvalidToken("the token is malformed".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim_matches(' ');
            if token.is_empty() || token.contains(' ') {
                Err(ValidationError::InvalidToken("the token is malformed".into()))
            } else {
                Ok(token)
            }
        }
        // Another scheme: the request has no credentials this server understands.
        _ => Err(ValidationError::MissingToken),
    }
}

/// A tower layer that lets through only requests with a valid bearer token and puts
/// their [`Claims`] in the request extensions.
#[derive(Clone, Debug)]
pub struct ValidateLayer {
    validator: Validator,
}

impl ValidateLayer {
    /// Validates with `validator`.
    pub fn new(validator: Validator) -> ValidateLayer {
        ValidateLayer { validator }
    }
}

impl<S> tower::Layer<S> for ValidateLayer {
    type Service = Validate<S>;

    fn layer(&self, inner: S) -> Validate<S> {
        Validate { inner, validator: self.validator.clone() }
    }
}

/// The service made by [`ValidateLayer`].
#[derive(Clone, Debug)]
pub struct Validate<S> {
    inner: S,
    validator: Validator,
}

impl<S> tower::Service<Request> for Validate<S>
where
    S: tower::Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // The clone that was driven to readiness serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        Box::pin(async move {
            match validator.validate_headers(req.headers()).await {
                Ok(claims) => {
                    req.extensions_mut().insert(claims);
                    inner.call(req).await
                }
                Err(e) => Ok(e.into_response()),
            }
        })
    }
}

/// Takes the claims put there by [`ValidateLayer`]; without the layer, validates with a
/// [`Validator`] found in the request extensions (`axum::Extension(validator)`).
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = ValidationError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Claims, ValidationError> {
        if let Some(c) = parts.extensions.get::<Claims>() {
            return Ok(c.clone());
        }
        let validator = parts.extensions.get::<Validator>().cloned().ok_or(ValidationError::NotConfigured)?;
        let claims = validator.validate_headers(&parts.headers).await?;
        parts.extensions.insert(claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_tokens_are_read_per_rfc6750() {
        assert_eq!(bearer_token(&headers(&["Bearer abc.def.ghi"])), Ok("abc.def.ghi"));
        assert_eq!(bearer_token(&headers(&["bEaReR abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[])), Err(ValidationError::MissingToken));
        assert_eq!(bearer_token(&headers(&["Basic YTpi"])), Err(ValidationError::MissingToken));
        assert_eq!(bearer_token(&headers(&["Bearer a", "Bearer b"])), Err(ValidationError::AmbiguousToken));
        assert!(matches!(bearer_token(&headers(&["Bearer "])), Err(ValidationError::InvalidToken(_))));
        assert!(matches!(bearer_token(&headers(&["Bearer a b"])), Err(ValidationError::InvalidToken(_))));
    }

    #[test]
    fn challenges_follow_rfc6750() {
        assert_eq!(ValidationError::MissingToken.challenge().unwrap(), "Bearer");
        let e = ValidationError::InvalidToken("the token has expired".into());
        assert_eq!(e.status(), 401);
        assert_eq!(
            e.challenge().unwrap(),
            r#"Bearer error="invalid_token", error_description="the token has expired""#
        );
        let e = ValidationError::InsufficientScope { scope: "a b".into() };
        assert_eq!(e.status(), 403);
        assert!(e.challenge().unwrap().ends_with(r#"scope="a b""#));
    }
}
