//! Introspection (RFC 7662) and revocation (RFC 7009) requests, made by a
//! [`TokenClient`] with the same client authentication as its token requests.
//!
//! Both are a form POST of `token` (and `token_type_hint` when given). Introspection
//! answers a JSON object whose boolean `active` says whether the token is usable; any
//! other member is only meaningful when `active` is `true`. Revocation answers 200 for
//! a revoked token and for one the server does not know (RFC 7009 §2.2), so success
//! says nothing about whether the token existed.

use serde_json::{Map, Value};

use super::{
    FetchError, TokenClient,
    config::ClientCredentialsConfig,
    error::TokenError,
    request::{check_url, default_http_client},
};

impl TokenClient {
    /// Asks the introspection endpoint `url` about `token` (RFC 7662 §2.1); returns the
    /// answer, which has a boolean `active`.
    pub async fn introspect(
        &self,
        url: &str,
        token: &str,
        hint: Option<&str>,
    ) -> Result<Map<String, Value>, TokenError> {
        let body = self.exchange(url, &fields(token, hint), false).await?;
        parse_introspection(&body)
    }

    /// Asks the revocation endpoint `url` to revoke `token` (RFC 7009 §2.1).
    pub async fn revoke(&self, url: &str, token: &str, hint: Option<&str>) -> Result<(), TokenError> {
        self.exchange(url, &fields(token, hint), false).await.map(drop)
    }
}

fn fields(token: &str, hint: Option<&str>) -> Vec<(&'static str, String)> {
    let mut f = vec![("token", token.to_owned())];
    if let Some(h) = hint {
        f.push(("token_type_hint", h.to_owned()));
    }
    f
}

/// A 2xx introspection body: a JSON object with a boolean `active` (RFC 7662 §2.2).
fn parse_introspection(body: &[u8]) -> Result<Map<String, Value>, TokenError> {
    let bad = |m: &str| TokenError::BadResponse(m.to_owned());
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) if m.get("active").is_some_and(Value::is_boolean) => Ok(m),
        Ok(Value::Object(_)) => Err(bad("no boolean \"active\"")),
        _ => Err(bad("not a JSON object")),
    }
}

/// One introspection request with a fresh client (what `ferrid token --introspect`
/// does). `config.token_url` is the default `aud` of a `private_key_jwt` assertion.
pub async fn introspect_token(
    config: ClientCredentialsConfig,
    url: &str,
    token: &str,
    hint: Option<&str>,
) -> Result<Map<String, Value>, FetchError> {
    check_url(url)?;
    let client = TokenClient::new(config, default_http_client()?)?;
    Ok(client.introspect(url, token, hint).await?)
}

/// One revocation request with a fresh client (`ferrid token --revoke`); a client with
/// neither secret nor key sends its `client_id` alone (a public client).
pub async fn revoke_token(
    config: ClientCredentialsConfig,
    url: &str,
    token: &str,
    hint: Option<&str>,
) -> Result<(), FetchError> {
    check_url(url)?;
    let client = TokenClient::new_public_allowed(config, default_http_client()?)?;
    Ok(client.revoke(url, token, hint).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_introspection_answer_needs_a_boolean_active() {
        assert_eq!(parse_introspection(br#"{"active":false}"#).unwrap()["active"], false);
        assert_eq!(parse_introspection(br#"{"active":true,"sub":"a"}"#).unwrap()["sub"], "a");
        for body in [&br#"{"active":"true"}"#[..], br#"{"sub":"a"}"#, b"[]", b"nope"] {
            assert!(matches!(parse_introspection(body), Err(TokenError::BadResponse(_))));
        }
    }
}
