//! Client-credentials tokens (RFC 6749 §4.4): configuration, one request, and a shared
//! self-refreshing [`TokenSource`]; with the same client authentication, introspection
//! (RFC 7662) and revocation (RFC 7009) requests ([`TokenClient::introspect`],
//! [`TokenClient::revoke`]).
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use ferrid_client::token::{ClientCredentialsConfig, TokenSource};
//! let source = TokenSource::new(ClientCredentialsConfig::new("svc", "secret", "http://127.0.0.1:8080/t/prod/oauth/token"))?;
//! let token = source.token().await?; // shared by every clone of `source`
//! println!("{}", token.authorization());
//! # Ok(()) }
//! ```

mod assertion;
mod config;
mod endpoints;
mod error;
mod policy;
mod request;
mod response;
mod source;

pub use assertion::ASSERTION_TYPE;
pub use config::{AuthStyle, ClientCredentialsConfig, ParamValues, PrivateKeyJwtConfig};
pub use endpoints::{introspect_token, revoke_token};
pub use error::{ConfigError, TokenError};
pub use policy::RefreshPolicy;
pub(crate) use request::error_chain;
pub use request::{TokenClient, check_url, default_http_client};
pub use response::TokenResponse;
pub use source::{Token, TokenSource};

/// One token request with a fresh client, no caching (what `ferrid token` does).
pub async fn fetch_token(config: ClientCredentialsConfig) -> Result<TokenResponse, FetchError> {
    let client = TokenClient::new(config, default_http_client()?)?;
    Ok(client.request().await?)
}

/// Why [`fetch_token`] failed: before any request, or at the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request failed.
    #[error(transparent)]
    Token(#[from] TokenError),
}
