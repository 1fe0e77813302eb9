//! The JSON the management API returns: one typed view per shape, serialized for the
//! response and described by the same type in the OpenAPI document, so the two cannot
//! drift.

use ferrid_core::{
    keys::rotation::KeyLife,
    model::{self, AppSpec, KeyState, SecretRecord, StoredClientKey, rfc3339},
    urls::PublicUrl,
};
use ferrid_oauth::{jwk::Jwk, jwt::SigningAlg};
use serde::Serialize;
use utoipa::ToSchema;

/// A tenant: an isolated customer space.
#[derive(Serialize, ToSchema)]
pub struct Tenant {
    pub name: String,
    #[schema(format = DateTime)]
    pub created: String,
}

impl Tenant {
    pub fn of(t: &model::Tenant) -> Tenant {
        Tenant { name: t.name.to_string(), created: rfc3339(t.created) }
    }
}

/// A track: an environment of a tenant with its own issuer and signing keys.
#[derive(Serialize, ToSchema)]
pub struct Track {
    pub name: String,
    pub tenant: String,
    pub signing_alg: SigningAlg,
    /// Default access-token lifetime for clients that set none, seconds.
    pub access_token_lifetime: u32,
    /// Longest accepted client-assertion lifetime, seconds.
    pub assertion_max_lifetime: u32,
    /// How long a key signs before the next one takes over, days.
    pub key_rotation_days: u32,
    /// Sliding lifetime of a login session, seconds.
    pub session_lifetime: u32,
    /// Absolute lifetime of a login session, seconds.
    pub session_absolute_lifetime: u32,
    /// The shortest password people of the track may choose, characters.
    pub password_min_length: u32,
    /// Failed logins of one user from one source that lock that pair out.
    pub lockout_failures: u32,
    /// How long the first lockout lasts, seconds (then doubling, at most a day).
    pub lockout_duration: u32,
    #[schema(format = "uri")]
    pub issuer: String,
    #[schema(format = "uri")]
    pub discovery_endpoint: String,
    #[schema(format = "uri")]
    pub token_endpoint: String,
    #[schema(format = "uri")]
    pub jwks_uri: String,
    /// Bumped by every change; also the `ETag`.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created: String,
}

impl Track {
    pub fn of(urls: &PublicUrl, t: &model::Track) -> Track {
        let issuer = urls.issuer(&t.tenant, &t.name);
        Track {
            name: t.name.to_string(),
            tenant: t.tenant.to_string(),
            signing_alg: t.settings.signing_alg,
            access_token_lifetime: t.settings.access_token_lifetime,
            assertion_max_lifetime: t.settings.assertion_max_lifetime,
            key_rotation_days: t.settings.key_rotation_days,
            session_lifetime: t.settings.session_lifetime,
            session_absolute_lifetime: t.settings.session_absolute_lifetime,
            password_min_length: t.settings.password_min_length,
            lockout_failures: t.settings.lockout_failures,
            lockout_duration: t.settings.lockout_duration,
            discovery_endpoint: urls.discovery_endpoint(&t.tenant, &t.name),
            token_endpoint: urls.token_endpoint(&t.tenant, &t.name, None),
            jwks_uri: urls.jwks_uri(&t.tenant, &t.name),
            issuer,
            version: t.version,
            created: rfc3339(t.created),
        }
    }
}

/// An app registration: its name, its `kind` with that kind's fields, and its version.
#[derive(Serialize, ToSchema)]
pub struct App {
    pub name: String,
    #[serde(flatten)]
    pub spec: AppSpec,
    /// The client id (the app's name), for `oauth_client` and `oidc_client` apps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Bumped by every replace; also the `ETag`.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub updated: String,
}

impl App {
    pub fn of(a: &model::App) -> App {
        App {
            name: a.name.to_string(),
            spec: a.spec.clone(),
            client_id: a.spec.as_client().map(|_| a.name.to_string()),
            version: a.version,
            created: rfc3339(a.created),
            updated: rfc3339(a.updated),
        }
    }
}

/// What a developer needs next after registering an app (docs/api.md): its issuer and endpoints.
#[derive(Serialize, ToSchema)]
pub struct AppRegistration {
    #[serde(flatten)]
    pub app: App,
    /// The generated secret of a client that authenticates with one; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[schema(format = "uri")]
    pub issuer: String,
    #[schema(format = "uri")]
    pub token_endpoint: String,
    #[schema(format = "uri")]
    pub discovery_endpoint: String,
    /// For an `oidc_client`: where people are sent to sign in (OpenID Connect Core 1.0 §3.1.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub authorization_endpoint: Option<String>,
    /// For an `oidc_client` (OpenID Connect Core 1.0 §5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub userinfo_endpoint: Option<String>,
    /// For an `oidc_client` (OpenID Connect RP-Initiated Logout 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub end_session_endpoint: Option<String>,
}

impl AppRegistration {
    pub fn of(urls: &PublicUrl, a: &model::App, secret: Option<&str>) -> AppRegistration {
        let (tenant, track) = (&a.tenant, &a.track);
        // an OpenID Connect client also needs the provider's endpoints (docs/api.md)
        let oidc = a.spec.as_oidc().is_some();
        let provider =
            |url: fn(&PublicUrl, &str, &str, Option<&str>) -> String| oidc.then(|| url(urls, tenant, track, None));
        AppRegistration {
            app: App::of(a),
            client_secret: secret.map(str::to_owned),
            token_endpoint: urls.token_endpoint(tenant, track, None),
            discovery_endpoint: urls.discovery_endpoint(tenant, track),
            issuer: urls.issuer(tenant, track),
            authorization_endpoint: provider(PublicUrl::authorization_endpoint),
            userinfo_endpoint: provider(PublicUrl::userinfo_endpoint),
            end_session_endpoint: provider(PublicUrl::end_session_endpoint),
        }
    }
}

/// A client's public key: its kid, public JWK and certificate facts; never private material.
#[derive(Serialize, ToSchema)]
pub struct ClientKey {
    pub kid: String,
    pub jwk: Jwk,
    /// base64url SHA-256 of the certificate, when the key came with one.
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: Option<String>,
    /// The certificate's subject, when the key came with one.
    pub subject: Option<String>,
    #[schema(format = DateTime)]
    pub not_before: Option<String>,
    #[schema(format = DateTime)]
    pub not_after: Option<String>,
    #[schema(format = DateTime)]
    pub created: String,
}

impl ClientKey {
    pub fn of(k: &StoredClientKey) -> ClientKey {
        let key = &k.key;
        ClientKey {
            kid: key.kid.clone(),
            jwk: key.jwk.clone(),
            x5t_s256: key.thumbprint_sha256.clone(),
            subject: key.subject.clone(),
            not_before: key.not_before.map(rfc3339),
            not_after: key.not_after.map(rfc3339),
            created: rfc3339(k.created),
        }
    }
}

/// A track signing key: its kid, state and times (the key itself never leaves).
#[derive(Serialize, ToSchema)]
pub struct TrackKey {
    pub kid: String,
    pub state: KeyState,
    #[schema(format = DateTime)]
    pub created: String,
    /// When the key last changed state.
    #[schema(format = DateTime)]
    pub changed: String,
}

impl TrackKey {
    pub fn of(k: &KeyLife) -> TrackKey {
        TrackKey { kid: k.kid.clone(), state: k.state, created: rfc3339(k.created), changed: rfc3339(k.changed) }
    }
}

/// A client secret as listed: never the secret itself.
#[derive(Serialize, ToSchema)]
pub struct Secret {
    pub id: String,
    /// The first 3 characters of a secret longer than 20 characters.
    pub info: Option<String>,
    #[schema(format = DateTime)]
    pub created: String,
}

impl Secret {
    pub fn of(s: &SecretRecord) -> Secret {
        Secret { id: s.id.clone(), info: s.info.clone(), created: rfc3339(s.created) }
    }
}

/// A secret just added; a generated one is shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewSecret {
    #[serde(flatten)]
    pub record: Secret,
    /// The generated secret (absent when the secret was chosen by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Declares a list view `{"items": [...]}` or, with `paged`, a page of a listing
/// `{"items": [...], "next"}` whose `next` is the `after` cursor of the following page
/// (null on the last page).
macro_rules! lists {
    ($($name:ident($item:ty) $($paged:ident)?;)*) => {$(
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            $(
                /// The `after` cursor of the next page; null on the last page.
                #[schema(required = true)]
                pub $paged: Option<String>,
            )?
        }
    )*};
}

/// A user of a track: never its password or hash.
#[derive(Serialize, ToSchema)]
pub struct User {
    /// The user's stable opaque id: its OpenID Connect `sub`.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub email_verified: bool,
    /// Extra claims.
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub disabled: bool,
    /// Bumped by every change; also the `ETag`.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub updated: String,
}

impl User {
    pub fn of(u: &model::User) -> User {
        User {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            claims: u.claims.clone(),
            disabled: u.disabled,
            version: u.version,
            created: rfc3339(u.created),
            updated: rfc3339(u.updated),
        }
    }
}

/// A login session of a user (never its cookie or the cookie's digest).
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// The session's public id (`sid` in ID tokens).
    pub sid: String,
    #[schema(format = DateTime)]
    pub auth_time: String,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    #[schema(format = DateTime)]
    pub expires: String,
}

impl Session {
    pub fn of(s: &model::Session) -> Session {
        Session {
            sid: s.sid.clone(),
            auth_time: rfc3339(s.auth_time),
            created: rfc3339(s.created),
            last_seen: rfc3339(s.last_seen),
            expires: rfc3339(s.expires),
        }
    }
}

lists! {
    TenantPage(Tenant) next;
    UserPage(User) next;
    SessionList(Session);
    TrackPage(Track) next;
    AppPage(App) next;
    SecretList(Secret);
    ClientKeyList(ClientKey);
    TrackKeyList(TrackKey);
}

/// The cursor of the page after `items`: the last name, when the page is full.
pub fn next_cursor<T>(items: &[T], limit: u32, name_of: impl Fn(&T) -> &str) -> Option<String> {
    (items.len() as u32 >= limit).then(|| items.last().map(|i| name_of(i).to_owned())).flatten()
}
