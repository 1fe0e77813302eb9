//! The management API's one error shape: `{"error", "message", "errors"?}`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ferrid_core::manage::{FieldError, ManageError};
use serde::Serialize;

/// Every error of the management API.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// What went wrong, for programs.
    #[schema(value_type = String, example = "validation_failed")]
    #[schema(
        pattern = "^(validation_failed|unauthorized|forbidden|not_found|method_not_allowed|conflict|precondition_failed|unavailable)$"
    )]
    pub error: &'a str,
    /// What went wrong, for people.
    pub message: String,
    /// With `validation_failed`: each invalid field, named by its JSON path
    /// (`resource_scopes[1].scopes[0]`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Option<Vec<FieldError>>)]
    pub errors: &'a [FieldError],
}

pub struct ApiError(pub ManageError);

impl From<ManageError> for ApiError {
    fn from(e: ManageError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// The error's body under another status (e.g. 413 for an oversize body).
    pub fn into_response_with(self, status: StatusCode) -> Response {
        let mut resp = self.into_response();
        *resp.status_mut() = status;
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = &self.0;
        let (status, code, errors): (StatusCode, &str, &[FieldError]) = match e {
            ManageError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized", &[]),
            ManageError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", &[]),
            ManageError::Forbidden(_) | ManageError::Protected(_) => (StatusCode::FORBIDDEN, "forbidden", &[]),
            ManageError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", &[]),
            ManageError::Conflict(_) => (StatusCode::CONFLICT, "conflict", &[]),
            ManageError::Invalid(errs) => (StatusCode::BAD_REQUEST, "validation_failed", errs),
            ManageError::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition_failed", &[]),
            ManageError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", &[]),
        };
        let message = match e {
            ManageError::Invalid(errs) => {
                errs.iter().map(|f| format!("{} {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        };
        let body = serde_json::to_string(&ErrorBody { error: code, message, errors }).expect("error serializes");
        let mut resp =
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
        // RFC 6750 §3: a protected resource names the Bearer scheme and what went wrong.
        let challenge = match e {
            ManageError::Unauthenticated => Some("Bearer realm=\"ferrid-api\""),
            ManageError::Unauthorized => Some("Bearer realm=\"ferrid-api\", error=\"invalid_token\""),
            ManageError::Forbidden(_) => Some("Bearer realm=\"ferrid-api\", error=\"insufficient_scope\""),
            _ => None,
        };
        if let Some(c) = challenge {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// 405 for a route of the API called with a method it does not take, in the API's shape
/// (axum adds the `Allow` header).
pub async fn method_not_allowed() -> Response {
    let body =
        ErrorBody { error: "method_not_allowed", message: "this route does not take this method".into(), errors: &[] };
    let body = serde_json::to_string(&body).expect("error serializes");
    (StatusCode::METHOD_NOT_ALLOWED, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
        .into_response()
}

/// 404 for a path that names no route: in the API's shape under `/api/v1`, empty elsewhere
/// (as before, so the protocol endpoints' 404 is unchanged).
pub async fn no_route(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    let api = ferrid_core::routes::API_PREFIX;
    if path.strip_prefix(api).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
        ApiError(ManageError::NotFound("no such route".into())).into_response()
    } else {
        // any other path names no endpoint: answered in the protocol endpoints' shape
        // (RFC 6749 §5.2 JSON), never an empty body
        crate::protocol::oauth_error(&ferrid_oauth::OAuthError::invalid_request("no such endpoint").with_status(404))
    }
}
