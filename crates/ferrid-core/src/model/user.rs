//! People of a track (the `login` authentication method, docs/model.md "Users") and
//! their login sessions.

use ferrid_oauth::name::Name;
use serde_json::{Map, Value, json};

use super::UnixTime;

/// A slow password hash as stored: an Argon2id PHC string (`credentials::argon2id`), or
/// a `P2HS512` one imported from elsewhere. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A user of a track. `id` is the OpenID Connect `sub`: 128 random bits, base64url,
/// never derived from the username or the email, which may change (OpenID Connect Core
/// 1.0 §5.7: `sub` is the only stable identifier).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub tenant: Name,
    pub track: Name,
    pub id: String,
    /// Unique in the track (exact match).
    pub username: Option<String>,
    /// Unique in the track, compared without regard to case.
    pub email: Option<String>,
    pub email_verified: bool,
    pub password: PasswordHash,
    /// Extra claims (`name`, `given_name`, …), a JSON object.
    pub claims: Map<String, Value>,
    pub disabled: bool,
    pub version: i64,
    pub created: UnixTime,
    pub updated: UnixTime,
}

impl User {
    /// The email as its uniqueness key: lower case (docs/model.md "Users").
    pub fn email_key(&self) -> Option<String> {
        self.email.as_deref().map(str::to_lowercase)
    }

    /// What the audit log records of a user: everything but the password hash.
    pub fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "email_verified": self.email_verified,
            "claims": self.claims,
            "disabled": self.disabled,
        })
    }
}

/// A login session of a user at a track. The cookie value (256 random bits) is never
/// stored, only its SHA-256 digest; `sid` is the public id ID tokens carry (OpenID
/// Connect Front-Channel Logout 1.0 §3).
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub tenant: Name,
    pub track: Name,
    pub id_digest: [u8; 32],
    pub sid: String,
    pub user_id: String,
    /// When the person last presented their password (OpenID Connect Core §2 `auth_time`).
    pub auth_time: UnixTime,
    pub created: UnixTime,
    /// Moved by every use (the sliding lifetime counts from here).
    pub last_seen: UnixTime,
    /// The absolute end, whatever the use.
    pub expires: UnixTime,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("tenant", &self.tenant)
            .field("track", &self.track)
            .field("sid", &self.sid)
            .field("user_id", &self.user_id)
            .field("auth_time", &self.auth_time)
            .field("last_seen", &self.last_seen)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}
