//! The `oidc_client` registration: an OpenID Connect relying party (OpenID Connect Core
//! 1.0 §2, RFC 7591 §2 metadata names), also an OAuth 2.0 client and optionally a
//! resource (docs/model.md "OpenID Connect clients"; docs/api.md "oidc_client").

use serde::{Deserialize, Serialize};

use super::{ClientSpec, ResourceSpec};

/// An ID token's lifetime, seconds (docs/api.md "oidc_client").
pub const DEFAULT_ID_TOKEN_LIFETIME: u32 = 300;
pub const ID_TOKEN_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// A refresh token's sliding lifetime, seconds.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: u32 = 86_400;
/// A refresh grant's absolute lifetime (however often it is used), seconds: 30 days.
pub const DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME: u32 = 30 * 86_400;
/// Both refresh lifetimes: one minute to one year.
pub const REFRESH_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 60..=365 * 86_400;

/// A response type (OAuth 2.0 Multiple Response Type Encoding Practices §5), kept as the
/// set of its words: `id_token code` is read as `code id_token`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseType {
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "code id_token")]
    CodeIdToken,
    #[serde(rename = "code token")]
    CodeToken,
    #[serde(rename = "code token id_token")]
    CodeTokenIdToken,
    #[serde(rename = "token id_token")]
    TokenIdToken,
    #[serde(rename = "id_token")]
    IdToken,
}

impl ResponseType {
    pub const ALL: [ResponseType; 6] =
        [Self::Code, Self::CodeIdToken, Self::CodeToken, Self::CodeTokenIdToken, Self::TokenIdToken, Self::IdToken];

    /// The stored spelling: the words in the order `code`, `token`, `id_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::CodeIdToken => "code id_token",
            Self::CodeToken => "code token",
            Self::CodeTokenIdToken => "code token id_token",
            Self::TokenIdToken => "token id_token",
            Self::IdToken => "id_token",
        }
    }

    /// Reads space-separated words in any order, each once.
    pub fn parse(s: &str) -> Option<ResponseType> {
        let words: Vec<&str> = s.split(' ').collect();
        let has = |w: &str| words.contains(&w);
        let count = words.len();
        let distinct = ["code", "token", "id_token"].iter().filter(|w| has(w)).count();
        if distinct != count {
            return None;
        }
        Self::ALL.into_iter().find(|t| {
            let want: Vec<&str> = t.as_str().split(' ').collect();
            want.len() == count && want.iter().all(|w| has(w))
        })
    }

    /// Whether the authorization endpoint returns a code.
    pub fn has_code(self) -> bool {
        matches!(self, Self::Code | Self::CodeIdToken | Self::CodeToken | Self::CodeTokenIdToken)
    }

    /// Whether the authorization endpoint returns an access token (`token`).
    pub fn has_access_token(self) -> bool {
        matches!(self, Self::CodeToken | Self::CodeTokenIdToken | Self::TokenIdToken)
    }

    /// Whether the authorization endpoint returns an ID token (`id_token`).
    pub fn has_id_token(self) -> bool {
        matches!(self, Self::CodeIdToken | Self::CodeTokenIdToken | Self::TokenIdToken | Self::IdToken)
    }

    /// Whether the authorization endpoint returns an access token or an ID token (the
    /// implicit grant's part, RFC 7591 §2.1).
    pub fn returns_tokens(self) -> bool {
        self != Self::Code
    }
}

/// A grant type an `oidc_client` may use (RFC 7591 §2 `grant_types`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    Implicit,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 4] =
        [Self::AuthorizationCode, Self::Implicit, Self::RefreshToken, Self::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// How a person authenticates for this client (docs/model.md "OpenID Connect clients").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// The track's own user store.
    Login,
}

/// A scope the client may request and the claims it releases (OpenID Connect Core §5.4).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcScope {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub scope: String,
    /// Absent: the standard claims of a standard scope, none for another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub claims: Option<Vec<String>>,
}

/// An OpenID Connect client: the `oauth_client` fields plus the relying party's.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcClientSpec {
    #[serde(flatten)]
    pub client: ClientSpec,
    /// Absolute URIs without a fragment, matched exactly (docs/api.md "Redirect URIs").
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub redirect_uris: Vec<String>,
    #[serde(default = "default_response_types")]
    pub response_types: Vec<ResponseType>,
    #[serde(default = "yes")]
    pub require_pkce: bool,
    #[serde(default)]
    pub allow_plain_pkce: bool,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Absent: the standard scopes of OpenID Connect Core 1.0 §5.4 and `offline_access`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub scopes: Option<Vec<OidcScope>>,
    #[serde(default = "default_auth_methods")]
    pub auth_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub require_consent: bool,
    /// Whether a person's access token also names this client in `aud`, besides the
    /// resources its granted scopes select (default true, as FoxIDs does;
    /// docs/provider.md "Tokens for people").
    #[serde(default = "yes")]
    pub access_token_audience_includes_client: bool,
    /// Seconds.
    #[serde(default = "default_id_token_lifetime")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 86400))]
    pub id_token_lifetime: u32,
    /// Sliding lifetime of a refresh token, seconds.
    #[serde(default = "default_refresh_lifetime")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 31536000))]
    pub refresh_token_lifetime: u32,
    /// Absolute lifetime of a refresh grant, seconds.
    #[serde(default = "default_refresh_absolute_lifetime")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 31536000))]
    pub refresh_token_absolute_lifetime: u32,
    /// Set: the registration is also a resource (API) of this name with these scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceSpec>,
}

pub fn default_response_types() -> Vec<ResponseType> {
    vec![ResponseType::Code]
}

pub fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode]
}

pub fn default_auth_methods() -> Vec<AuthMethod> {
    vec![AuthMethod::Login]
}

fn yes() -> bool {
    true
}

fn default_id_token_lifetime() -> u32 {
    DEFAULT_ID_TOKEN_LIFETIME
}

fn default_refresh_lifetime() -> u32 {
    DEFAULT_REFRESH_TOKEN_LIFETIME
}

fn default_refresh_absolute_lifetime() -> u32 {
    DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_are_sets_of_words() {
        assert_eq!(ResponseType::parse("id_token token code"), Some(ResponseType::CodeTokenIdToken));
        assert_eq!(ResponseType::parse("id_token code"), Some(ResponseType::CodeIdToken));
        assert_eq!(ResponseType::parse("code"), Some(ResponseType::Code));
        assert_eq!(ResponseType::parse("token code"), Some(ResponseType::CodeToken));
        for bad in ["code code", "token", "token token", "", "code  id_token", "CODE"] {
            assert_eq!(ResponseType::parse(bad), None, "{bad}");
        }
        for t in ResponseType::ALL {
            assert_eq!(ResponseType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
