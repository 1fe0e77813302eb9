//! What the OpenID Provider keeps between requests (docs/model.md "Codes, grants and
//! refresh tokens"): authorization codes, user grants with their refresh tokens, the
//! access tokens issued under a grant, and remembered consent. Codes and refresh tokens
//! are stored by the SHA-256 digest of their value only.

use ferrid_oauth::name::Name;

use super::UnixTime;

/// An authorization code (OpenID Connect Core 1.0 §3.1.2.5, RFC 6749 §4.1.2): single-use,
/// bound to the client, the redirect URI, the PKCE challenge, the nonce and the session.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub tenant: Name,
    pub track: Name,
    /// SHA-256 of the code's value.
    pub digest: [u8; 32],
    pub client: Name,
    pub user_id: String,
    /// The session's public id (`sid`).
    pub sid: String,
    /// Exactly as the authorization request sent it.
    pub redirect_uri: String,
    /// RFC 7636 §4.2 `code_challenge`, if one was sent.
    pub code_challenge: Option<String>,
    /// `S256` or `plain`, with a challenge.
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// The granted scope: space-separated OpenID scopes and `resource:scope` references.
    pub scope: String,
    /// When the person last presented their password.
    pub auth_time: UnixTime,
    pub created: UnixTime,
    pub expires: UnixTime,
    /// The grant its first redemption created (set by `GrantStore::redeem_code`).
    pub grant_id: Option<String>,
}

impl std::fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCode")
            .field("client", &self.client)
            .field("user_id", &self.user_id)
            .field("scope", &self.scope)
            .field("expires", &self.expires)
            .field("grant_id", &self.grant_id)
            .finish_non_exhaustive()
    }
}

/// A user grant: what one authorization (one code) gave one client, the root of every
/// token descended from it (RFC 6749 §10.4, RFC 9700 §4.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub tenant: Name,
    pub track: Name,
    /// 128 random bits, base64url.
    pub id: String,
    pub client: Name,
    pub user_id: String,
    pub sid: String,
    /// Fixed for the grant's life (RFC 6749 §6: a refresh narrows only the access token).
    pub scope: String,
    pub auth_time: UnixTime,
    pub created: UnixTime,
    /// The absolute end of the grant and of every refresh token in it.
    pub expires: UnixTime,
    pub revoked: bool,
}

/// A refresh token as stored: its digest, its grant and its sliding end.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub digest: [u8; 32],
    pub grant_id: String,
    pub created: UnixTime,
    /// `min(created + sliding lifetime, grant.expires)`.
    pub expires: UnixTime,
    /// Rotated out: presenting it again is reuse (RFC 9700 §4.14.2).
    pub used: bool,
}

impl std::fmt::Debug for RefreshRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRecord")
            .field("grant_id", &self.grant_id)
            .field("expires", &self.expires)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// An access token issued under a grant, by its `jti`, kept until its `exp` so that
/// revoking the grant revokes it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub jti: String,
    pub grant_id: String,
    pub expires: UnixTime,
}
