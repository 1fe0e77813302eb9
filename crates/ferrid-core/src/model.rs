//! The domain: tenants, tracks, app registrations, secrets and track keys, as stored.

use ferrid_oauth::{jwt::SigningAlg, name::Name, scope::ScopeName};
use serde::{Deserialize, Serialize};

mod app_row;
mod grant;
mod oidc;
mod user;

pub use app_row::{AppRow, CorruptColumn};
pub use grant::{AuthCode, IssuedToken, RefreshRecord, UserGrant};
pub use oidc::*;
pub use user::{PasswordHash, Session, User};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// RFC 3339 in UTC, for the management API.
pub fn rfc3339(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub name: Name,
    pub created: UnixTime,
}

/// Per-track settings (docs/api.md "Request bodies" for their ranges). Stored as JSON so later settings need no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSettings {
    /// Fixed at creation: the algorithm of a track never changes silently.
    pub signing_alg: SigningAlg,
    /// Default access-token lifetime for clients that set none, seconds.
    #[serde(default = "default_token_lifetime")]
    pub access_token_lifetime: u32,
    /// Longest accepted client-assertion lifetime (`exp` − `iat`), seconds. Common
    /// client libraries sign assertions valid for one hour.
    #[serde(default = "default_assertion_lifetime")]
    pub assertion_max_lifetime: u32,
    /// How long a key signs before the next one takes over, days.
    #[serde(default = "default_rotation_days")]
    pub key_rotation_days: u32,
    /// A login session ends this long after its last use, seconds (the sliding lifetime).
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime: u32,
    /// A login session ends this long after the login whatever its use, seconds.
    #[serde(default = "default_session_absolute_lifetime")]
    pub session_absolute_lifetime: u32,
    /// The shortest password a person of the track may choose, characters
    /// (credentials::password_policy; NIST SP 800-63B: never below 8).
    #[serde(default = "default_password_min_length")]
    pub password_min_length: u32,
    /// Failed logins of one user from one source (or one device cookie) that lock that
    /// pair out (provider::login; the per-user ceiling is four times this).
    #[serde(default = "default_lockout_failures")]
    pub lockout_failures: u32,
    /// How long the first lockout of a pair lasts, seconds; each next one doubles, up
    /// to a day (the per-user ceiling's lockout is three times this).
    #[serde(default = "default_lockout_duration")]
    pub lockout_duration: u32,
}

pub const DEFAULT_PASSWORD_MIN_LENGTH: u32 = 8;
/// At least NIST SP 800-63B's 8; at most the longest password accepted.
pub const PASSWORD_MIN_LENGTH_RANGE: std::ops::RangeInclusive<u32> = 8..=128;

fn default_password_min_length() -> u32 {
    DEFAULT_PASSWORD_MIN_LENGTH
}

pub const DEFAULT_LOCKOUT_FAILURES: u32 = 5;
pub const LOCKOUT_FAILURES_RANGE: std::ops::RangeInclusive<u32> = 1..=100;

fn default_lockout_failures() -> u32 {
    DEFAULT_LOCKOUT_FAILURES
}

pub const DEFAULT_LOCKOUT_DURATION: u32 = 300;
/// One minute to a day (a day is also the longest lockout).
pub const LOCKOUT_DURATION_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;

fn default_lockout_duration() -> u32 {
    DEFAULT_LOCKOUT_DURATION
}

pub const DEFAULT_SESSION_LIFETIME: u32 = 3600;
pub const DEFAULT_SESSION_ABSOLUTE_LIFETIME: u32 = 86_400;
/// Both session lifetimes: one minute to 30 days.
pub const SESSION_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 60..=30 * 86_400;

fn default_session_lifetime() -> u32 {
    DEFAULT_SESSION_LIFETIME
}

fn default_session_absolute_lifetime() -> u32 {
    DEFAULT_SESSION_ABSOLUTE_LIFETIME
}

pub const DEFAULT_ROTATION_DAYS: u32 = 90;
pub const ROTATION_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=3650;

fn default_rotation_days() -> u32 {
    DEFAULT_ROTATION_DAYS
}

pub const DEFAULT_ASSERTION_LIFETIME: u32 = 3600;
pub const ASSERTION_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;

fn default_assertion_lifetime() -> u32 {
    DEFAULT_ASSERTION_LIFETIME
}

pub const DEFAULT_TOKEN_LIFETIME: u32 = 3600;
pub const TOKEN_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 300..=86_400;

fn default_token_lifetime() -> u32 {
    DEFAULT_TOKEN_LIFETIME
}

impl Default for TrackSettings {
    fn default() -> Self {
        TrackSettings {
            signing_alg: SigningAlg::RS256,
            access_token_lifetime: DEFAULT_TOKEN_LIFETIME,
            assertion_max_lifetime: DEFAULT_ASSERTION_LIFETIME,
            key_rotation_days: DEFAULT_ROTATION_DAYS,
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            session_absolute_lifetime: DEFAULT_SESSION_ABSOLUTE_LIFETIME,
            password_min_length: DEFAULT_PASSWORD_MIN_LENGTH,
            lockout_failures: DEFAULT_LOCKOUT_FAILURES,
            lockout_duration: DEFAULT_LOCKOUT_DURATION,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub tenant: Name,
    pub name: Name,
    pub settings: TrackSettings,
    pub version: i64,
    pub created: UnixTime,
}

/// How a client authenticates at the token endpoint (RFC 6749 §2.3, RFC 7591 §2 names).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
    /// RFC 7523 §2.2: a JWT signed with a key whose public half the client registered.
    PrivateKeyJwt,
    /// A public client (RFC 6749 §2.1): no client authentication; `oidc_client` only.
    None,
}

impl ClientAuthMethod {
    /// The methods of an `oauth_client`.
    pub const ALL: [ClientAuthMethod; 3] = [Self::ClientSecretPost, Self::ClientSecretBasic, Self::PrivateKeyJwt];
    /// The methods of an `oidc_client`: also `none`, for a public client.
    pub const OIDC: [ClientAuthMethod; 4] =
        [Self::ClientSecretPost, Self::ClientSecretBasic, Self::PrivateKeyJwt, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<ClientAuthMethod> {
        Self::OIDC.into_iter().find(|m| m.as_str() == s)
    }

    pub fn uses_secret(self) -> bool {
        !matches!(self, ClientAuthMethod::PrivateKeyJwt | ClientAuthMethod::None)
    }
}

/// Scopes of one resource granted to a client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScopes {
    pub resource: Name,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub scopes: Vec<ScopeName>,
}

/// An OAuth 2.0 resource (API).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSpec {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub scopes: Vec<ScopeName>,
}

/// An OAuth 2.0 client using the client credentials grant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSpec {
    pub client_auth_method: ClientAuthMethod,
    #[serde(default)]
    pub resource_scopes: Vec<ResourceScopes>,
    /// Seconds; `None` takes the track's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::manage::request::schema::token_lifetime))]
    pub access_token_lifetime: Option<u32>,
    /// Fixed claims issued in every token.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub claims: Vec<crate::claims::issue::FixedClaim>,
    /// Which claims of `claims` and `claim_transforms` reach the token (`*` = all).
    #[serde(default = "crate::claims::issue::default_issued")]
    pub issued_claims: Vec<String>,
    #[serde(default)]
    pub claim_transforms: Vec<crate::claims::ClaimTransform>,
}

/// What an app registration is: an RFC 6749 §1.1 resource server or client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppSpec {
    OauthResource(ResourceSpec),
    OauthClient(ClientSpec),
    OidcClient(Box<OidcClientSpec>),
}

impl AppSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            AppSpec::OauthResource(_) => "oauth_resource",
            AppSpec::OauthClient(_) => "oauth_client",
            AppSpec::OidcClient(_) => "oidc_client",
        }
    }

    pub fn as_client(&self) -> Option<&ClientSpec> {
        match self {
            AppSpec::OauthClient(c) => Some(c),
            AppSpec::OidcClient(o) => Some(&o.client),
            AppSpec::OauthResource(_) => None,
        }
    }

    /// The resource this app is: an `oauth_resource`, or an `oidc_client` with `resource`.
    pub fn as_resource(&self) -> Option<&ResourceSpec> {
        match self {
            AppSpec::OauthResource(r) => Some(r),
            AppSpec::OidcClient(o) => o.resource.as_ref(),
            AppSpec::OauthClient(_) => None,
        }
    }

    pub fn as_oidc(&self) -> Option<&OidcClientSpec> {
        match self {
            AppSpec::OidcClient(o) => Some(o),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub tenant: Name,
    pub track: Name,
    pub name: Name,
    pub spec: AppSpec,
    /// Bumped by every replace; the management API's ETag.
    pub version: i64,
    pub created: UnixTime,
    pub updated: UnixTime,
}

impl App {
    /// A new registration at version 1, created and updated `now`.
    pub fn new(tenant: Name, track: Name, name: Name, spec: AppSpec, now: UnixTime) -> App {
        App { tenant, track, name, spec, version: 1, created: now, updated: now }
    }
}

/// How a stored client secret is hashed (docs/security.md "Keys and secrets at rest, and
/// in logs").
#[derive(Clone, PartialEq, Eq)]
pub enum SecretHash {
    /// A generated 256-bit secret: SHA-256 over `salt || secret`.
    SaltedSha256 { salt: Vec<u8>, digest: Vec<u8> },
    /// A chosen secret: PBKDF2-HMAC-SHA512, `iterations`, stored as FoxIDs' `P2HS512:10`.
    Pbkdf2Sha512 { iterations: u32, salt: Vec<u8>, hash: Vec<u8> },
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretHash::SaltedSha256 { .. } => "SaltedSha256([redacted])",
            SecretHash::Pbkdf2Sha512 { .. } => "Pbkdf2Sha512([redacted])",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub id: String,
    /// The first 3 characters of a secret longer than 20 characters.
    pub info: Option<String>,
    pub created: UnixTime,
    pub hash: SecretHash,
}

pub const MAX_SECRETS_PER_CLIENT: usize = 10;
pub const MAX_KEYS_PER_CLIENT: usize = 4;

/// A public key registered for a `private_key_jwt` client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClientKey {
    pub key: crate::client_auth::keys::ClientKey,
    pub created: UnixTime,
}

/// Where a track key is in its life (docs/security.md "Keys and secrets at rest, and in
/// logs").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signs new tokens.
    Active,
    /// Published so that tokens it signed still verify; signs nothing.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<KeyState> {
        [KeyState::Next, KeyState::Active, KeyState::Retired].into_iter().find(|k| k.as_str() == s)
    }
}

/// A track signing key; the private key is encrypted at rest (see [`crate::keys::cipher`]).
#[derive(Clone, PartialEq, Eq)]
pub struct TrackKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub encrypted_pkcs8: Vec<u8>,
    pub created: UnixTime,
    /// When the key last changed state (its creation, promotion or retirement).
    pub changed: UnixTime,
}

impl std::fmt::Debug for TrackKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Everything about one track that the runtime snapshot is built from.
#[derive(Debug, Clone)]
pub struct TrackData {
    pub track: Track,
    pub keys: Vec<TrackKey>,
    pub apps: Vec<App>,
    /// Secrets per app name.
    pub secrets: Vec<(Name, SecretRecord)>,
    /// Public keys per app name.
    pub client_keys: Vec<(Name, StoredClientKey)>,
}

/// One app with its credentials, as the snapshot reloads it after a change to that app
/// alone (docs/ARCHITECTURE.md "Snapshot").
#[derive(Debug, Clone)]
pub struct AppData {
    pub app: App,
    pub secrets: Vec<SecretRecord>,
    pub client_keys: Vec<StoredClientKey>,
}
