//! The token response (RFC 6749 §5.1), read leniently where servers differ: `expires_in`
//! may be a number or a numeric string (IBM App ID sends `"3600"`) or be missing, and
//! `token_type` may be missing or in any case.

use serde_json::{Map, Value};

use super::error::TokenError;

/// A successful token response.
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `token_type`, `Bearer` when the server left it out.
    pub token_type: String,
    /// Lifetime in seconds, when the server said.
    pub expires_in: Option<u64>,
    /// The granted scope, when the server said.
    pub scope: Option<String>,
    /// The whole JSON object as received (for `ferrid token --json`).
    pub raw: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenResponse {
    /// Parses a 2xx body.
    pub fn parse(body: &[u8]) -> Result<TokenResponse, TokenError> {
        let bad = |m: &str| TokenError::BadResponse(m.to_owned());
        let raw = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(bad("not a JSON object")),
            Err(_) => return Err(bad("not JSON")),
        };
        let access_token = match raw.get("access_token") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad("no access_token")),
        };
        let token_type = match raw.get("token_type") {
            None | Some(Value::Null) => "Bearer".to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(bad("token_type is not a string")),
        };
        let expires_in = match raw.get("expires_in") {
            None | Some(Value::Null) => None,
            Some(v) => Some(seconds(v).ok_or_else(|| bad("expires_in is neither a number nor a numeric string"))?),
        };
        let scope = raw.get("scope").and_then(Value::as_str).map(str::to_owned);
        Ok(TokenResponse { access_token, token_type, expires_in, scope, raw })
    }
}

/// `3600`, `3600.0` or `"3600"`; never negative.
fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// The `exp` of a JWT access token, read without verification: only used to guess a
/// lifetime when the server sent no `expires_in`.
pub(crate) fn jwt_exp(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&ferrid_oauth::b64::decode(payload)?).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_as_number_string_or_missing() {
        let p = |s: &str| TokenResponse::parse(s.as_bytes()).unwrap().expires_in;
        assert_eq!(p(r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#), Some(3600));
        assert_eq!(p(r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#), Some(3600));
        assert_eq!(p(r#"{"access_token":"a","token_type":"Bearer","expires_in":" 60 "}"#), Some(60));
        assert_eq!(p(r#"{"access_token":"a","token_type":"bearer","expires_in":120.0}"#), Some(120));
        assert_eq!(p(r#"{"access_token":"a","token_type":"Bearer"}"#), None);
        assert_eq!(p(r#"{"access_token":"a"}"#), None);
    }

    #[test]
    fn broken_responses_are_typed_errors() {
        for body in [
            "not json",
            "[]",
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":""}"#,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            r#"{"access_token":"a","expires_in":-5}"#,
        ] {
            assert!(matches!(TokenResponse::parse(body.as_bytes()), Err(TokenError::BadResponse(_))), "{body}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let r = TokenResponse::parse(br#"{"access_token":"s3cr3t-token"}"#).unwrap();
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }

    #[test]
    fn jwt_exp_is_read_from_the_payload() {
        let payload = ferrid_oauth::b64::encode(br#"{"exp":1700000000}"#);
        assert_eq!(jwt_exp(&format!("h.{payload}.s")), Some(1_700_000_000));
        assert_eq!(jwt_exp("opaque"), None);
    }
}
