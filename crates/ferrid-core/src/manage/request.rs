//! The request bodies of the management API as types (docs/api.md "Request bodies").
//!
//! Each type is at once the parse target and, with the `openapi` feature, the schema the
//! OpenAPI document shows; its ranges come from the constants the reader checks. A body
//! is read by [`input::Fields`] rather than by serde's derive, so that every bad field is
//! named by its JSON path, all at once, with the messages the API has always given; what
//! needs the stored object (a track's algorithm, an app's name, the granted resources)
//! is checked by the [`super::Manager`].

use base64::Engine;
use ferrid_oauth::{jwt::SigningAlg, name::Name};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use super::{FieldError, ManageError, ManageResult, input::Fields};
use crate::{
    client_auth::keys::OwnedKeyInput,
    credentials::secret::CHOSEN_SECRET_LEN,
    model::{
        ASSERTION_LIFETIME_RANGE, AppSpec, LOCKOUT_DURATION_RANGE, LOCKOUT_FAILURES_RANGE, PASSWORD_MIN_LENGTH_RANGE,
        ROTATION_DAYS_RANGE, SESSION_LIFETIME_RANGE, TrackSettings,
    },
};

/// A request body read from JSON, every bad field named.
pub trait Request: Sized {
    fn from_json(body: &Value) -> ManageResult<Self>;
}

/// `POST /tenants`: a new tenant (its `master` track is created with it).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: Name,
}

impl Request for NewTenant {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let name = f.name("name");
        f.finish()?;
        Ok(NewTenant { name: name.ok_or_else(|| ManageError::field("name", "is required"))? })
    }
}

/// `POST /tenants/{tenant}/tracks`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewTrack {
    pub name: Name,
    /// Fixed at creation; RS256 by default.
    pub signing_alg: Option<SigningAlg>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::token_lifetime))]
    pub access_token_lifetime: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::assertion_lifetime))]
    pub assertion_max_lifetime: Option<u32>,
}

impl Request for NewTrack {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let name = f.name("name");
        let signing_alg = f.opt_signing_alg("signing_alg");
        let access_token_lifetime = f.opt_lifetime("access_token_lifetime");
        let assertion_max_lifetime = f.opt_seconds("assertion_max_lifetime", ASSERTION_LIFETIME_RANGE);
        f.finish()?;
        let name = name.ok_or_else(|| ManageError::field("name", "is required"))?;
        Ok(NewTrack { name, signing_alg, access_token_lifetime, assertion_max_lifetime })
    }
}

impl NewTrack {
    /// The new track's settings: what the body sets, defaults for the rest.
    pub fn settings(&self) -> TrackSettings {
        let d = TrackSettings::default();
        TrackSettings {
            signing_alg: self.signing_alg.unwrap_or(d.signing_alg),
            access_token_lifetime: self.access_token_lifetime.unwrap_or(d.access_token_lifetime),
            assertion_max_lifetime: self.assertion_max_lifetime.unwrap_or(d.assertion_max_lifetime),
            key_rotation_days: d.key_rotation_days,
            session_lifetime: d.session_lifetime,
            session_absolute_lifetime: d.session_absolute_lifetime,
            password_min_length: d.password_min_length,
            lockout_failures: d.lockout_failures,
            lockout_duration: d.lockout_duration,
        }
    }
}

/// `PATCH /tenants/{tenant}/tracks/{track}`: the settings to change; others stay.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrackChanges {
    /// May be sent only unchanged.
    pub name: Option<String>,
    /// May be sent only unchanged: a track's algorithm never changes.
    pub signing_alg: Option<SigningAlg>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::token_lifetime))]
    pub access_token_lifetime: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::assertion_lifetime))]
    pub assertion_max_lifetime: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::rotation_days))]
    pub key_rotation_days: Option<u32>,
    /// Seconds, 60 to 2 592 000.
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2_592_000))]
    pub session_lifetime: Option<u32>,
    /// Seconds, 60 to 2 592 000; at least `session_lifetime`.
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2_592_000))]
    pub session_absolute_lifetime: Option<u32>,
    /// The shortest password people of the track may choose, 8 to 128 characters;
    /// checked when a password is set, not on existing ones.
    #[cfg_attr(feature = "openapi", schema(minimum = 8, maximum = 128))]
    pub password_min_length: Option<u32>,
    /// Failed logins of one user from one source that lock that pair out, 1 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub lockout_failures: Option<u32>,
    /// Seconds the first lockout lasts (then doubling, at most a day), 60 to 86 400.
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 86_400))]
    pub lockout_duration: Option<u32>,
    /// Fields that could not be read. They are reported after the checks against the
    /// current track (a changed algorithm or name is the one error then).
    #[serde(skip)]
    pub invalid: Vec<FieldError>,
}

impl Request for TrackChanges {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let signing_alg = f.opt_signing_alg("signing_alg");
        let access_token_lifetime = f.opt_lifetime("access_token_lifetime");
        let assertion_max_lifetime = f.opt_seconds("assertion_max_lifetime", ASSERTION_LIFETIME_RANGE);
        let key_rotation_days = f.opt_integer("key_rotation_days", ROTATION_DAYS_RANGE, "days");
        let session_lifetime = f.opt_seconds("session_lifetime", SESSION_LIFETIME_RANGE);
        let session_absolute_lifetime = f.opt_seconds("session_absolute_lifetime", SESSION_LIFETIME_RANGE);
        let password_min_length = f.opt_integer("password_min_length", PASSWORD_MIN_LENGTH_RANGE, "characters");
        let lockout_failures = f.opt_integer("lockout_failures", LOCKOUT_FAILURES_RANGE, "failures");
        let lockout_duration = f.opt_seconds("lockout_duration", LOCKOUT_DURATION_RANGE);
        let name = f.opt_str("name").map(str::to_owned);
        let invalid = match f.finish() {
            Ok(()) => Vec::new(),
            Err(ManageError::Invalid(errors)) => errors,
            Err(e) => return Err(e),
        };
        Ok(TrackChanges {
            name,
            signing_alg,
            access_token_lifetime,
            assertion_max_lifetime,
            key_rotation_days,
            session_lifetime,
            session_absolute_lifetime,
            password_min_length,
            lockout_failures,
            lockout_duration,
            invalid,
        })
    }
}

impl TrackChanges {
    /// `current` with these changes: the algorithm and the name may only be repeated.
    pub fn apply(self, current: &crate::model::Track) -> ManageResult<TrackSettings> {
        if self.signing_alg.is_some_and(|a| a != current.settings.signing_alg) {
            return Err(ManageError::field("signing_alg", "is fixed when the track is created"));
        }
        if self.name.as_deref().is_some_and(|n| n != current.name.as_str()) {
            return Err(ManageError::field("name", "cannot be changed"));
        }
        if !self.invalid.is_empty() {
            return Err(ManageError::Invalid(self.invalid));
        }
        let s = &current.settings;
        TrackSettings {
            signing_alg: s.signing_alg,
            access_token_lifetime: self.access_token_lifetime.unwrap_or(s.access_token_lifetime),
            assertion_max_lifetime: self.assertion_max_lifetime.unwrap_or(s.assertion_max_lifetime),
            key_rotation_days: self.key_rotation_days.unwrap_or(s.key_rotation_days),
            session_lifetime: self.session_lifetime.unwrap_or(s.session_lifetime),
            session_absolute_lifetime: self.session_absolute_lifetime.unwrap_or(s.session_absolute_lifetime),
            password_min_length: self.password_min_length.unwrap_or(s.password_min_length),
            lockout_failures: self.lockout_failures.unwrap_or(s.lockout_failures),
            lockout_duration: self.lockout_duration.unwrap_or(s.lockout_duration),
        }
        .checked()
    }
}

impl TrackSettings {
    /// A session's sliding lifetime cannot exceed its absolute one.
    fn checked(self) -> ManageResult<TrackSettings> {
        if self.session_lifetime > self.session_absolute_lifetime {
            return Err(ManageError::field("session_lifetime", "must not exceed session_absolute_lifetime"));
        }
        Ok(self)
    }
}

/// `POST …/apps` and `PUT …/apps/{app}`: the app's name and its `kind` with that kind's
/// fields. Fields the API returns (`version`, `created`, `client_id`, …) may be sent
/// back and are ignored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppBody {
    pub name: Name,
    #[serde(flatten)]
    pub spec: AppSpec,
}

impl Request for AppBody {
    fn from_json(body: &Value) -> ManageResult<Self> {
        super::input::app(body)
    }
}

/// `POST …/secrets`: `{}` generates a secret, returned this once; `{"secret"}` stores a
/// chosen one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 16, max_length = 512))]
    pub secret: Option<SecretString>,
}

fn expose<S: serde::Serializer>(s: &Option<SecretString>, ser: S) -> Result<S::Ok, S::Error> {
    s.as_ref().map(|s| s.expose_secret()).serialize(ser)
}

impl Request for SecretBody {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let secret = f.opt_str("secret").map(|s| SecretString::from(s.to_owned()));
        f.finish()?;
        if let Some(s) = &secret {
            check_chosen_secret("secret", s)?;
        }
        Ok(SecretBody { secret })
    }
}

/// Refuses a chosen secret outside [`CHOSEN_SECRET_LEN`], naming `field`.
pub fn check_chosen_secret(field: &str, s: &SecretString) -> ManageResult<()> {
    if CHOSEN_SECRET_LEN.contains(&s.expose_secret().chars().count()) {
        return Ok(());
    }
    let (min, max) = (CHOSEN_SECRET_LEN.start(), CHOSEN_SECRET_LEN.end());
    Err(ManageError::field(field, format!("must be {min} to {max} characters")))
}

/// `POST …/keys`: exactly one of a PEM certificate or public key, a PFX/PKCS#12 file in
/// base64 with its password, or a public JWK.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum NewClientKey {
    Pem {
        /// A `CERTIFICATE` or `PUBLIC KEY` PEM block.
        pem: String,
    },
    Pfx {
        /// The PFX/PKCS#12 file, base64.
        pfx: String,
        #[serde(serialize_with = "expose")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
        password: Option<SecretString>,
    },
    Jwk {
        #[cfg_attr(feature = "openapi", schema(value_type = ferrid_oauth::jwk::Jwk))]
        jwk: Value,
    },
}

impl Request for NewClientKey {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let pem = f.opt_str("pem");
        let pfx = f.opt_str("pfx");
        let password = f.opt_str("password");
        let jwk = f.opt_value("jwk");
        f.finish()?;
        match (pem, pfx, jwk) {
            (Some(pem), None, None) => Ok(NewClientKey::Pem { pem: pem.to_owned() }),
            (None, Some(pfx), None) => Ok(NewClientKey::Pfx {
                pfx: pfx.to_owned(),
                password: password.map(|p| SecretString::from(p.to_owned())),
            }),
            (None, None, Some(jwk)) => Ok(NewClientKey::Jwk { jwk: jwk.clone() }),
            _ => Err(ManageError::field("body", "must hold exactly one of pem, pfx (with password) or jwk")),
        }
    }
}

impl NewClientKey {
    /// The key material to import, and the body field it came from.
    pub fn into_input(self) -> ManageResult<(OwnedKeyInput, &'static str)> {
        Ok(match self {
            NewClientKey::Pem { pem } => (OwnedKeyInput::Pem(pem), "pem"),
            NewClientKey::Pfx { pfx, password } => {
                let clean: String = pfx.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                let clean = clean.trim_end_matches('=');
                let der = base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean))
                    .map_err(|_| ManageError::field("pfx", "must be the PFX/PKCS#12 file in base64"))?;
                let password = password.map(|p| zeroize::Zeroizing::new(p.expose_secret().to_owned()));
                (OwnedKeyInput::Pfx { der, password }, "pfx")
            }
            NewClientKey::Jwk { jwk } => (OwnedKeyInput::Jwk(jwk), "jwk"),
        })
    }
}

/// Schemas whose ranges are the constants the reader checks.
#[cfg(feature = "openapi")]
pub(crate) mod schema {
    use std::ops::RangeInclusive;

    use utoipa::openapi::{
        KnownFormat, Object, ObjectBuilder, SchemaFormat,
        schema::{SchemaType, Type},
    };

    fn optional_integer(range: RangeInclusive<u32>, unit: &str) -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(*range.start()))
            .maximum(Some(*range.end()))
            .description(Some(unit))
            .build()
    }

    pub fn token_lifetime() -> Object {
        optional_integer(crate::model::TOKEN_LIFETIME_RANGE, "Seconds.")
    }

    pub fn assertion_lifetime() -> Object {
        optional_integer(super::ASSERTION_LIFETIME_RANGE, "Seconds.")
    }

    pub fn rotation_days() -> Object {
        optional_integer(super::ROTATION_DAYS_RANGE, "Days.")
    }
}

#[cfg(test)]
mod tests;
