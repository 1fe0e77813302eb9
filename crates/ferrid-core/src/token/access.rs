//! RFC 9068 JWT access tokens: the claims of §2.2, the client's claim plan applied to
//! them, and the signature by the track's active key (the JOSE header is pre-encoded
//! with the key, `jwt::SigningKey`). A grant decides what the token carries
//! ([`AccessToken`]); this module turns that into the compact JWS. Nothing here reads
//! the store.

use ferrid_oauth::{OAuthError, jwt::SigningKey};
use serde::Serialize;

use crate::{
    env::Rng,
    model::UnixTime,
    runtime::{ClientRuntime, TrackRuntime},
};

/// `aud`: a string for one audience, an array for more (RFC 7519 §4.1.3).
#[derive(Serialize)]
#[serde(untagged)]
pub enum Audience<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

impl Audience<'_> {
    fn values(&self) -> Vec<String> {
        match self {
            Audience::One(a) => vec![(*a).to_owned()],
            Audience::Many(m) => m.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

/// What a grant decided the token carries.
pub struct AccessToken<'a> {
    /// The client the token is issued to (`client_id`, and whose claim plan applies).
    pub client: &'a ClientRuntime,
    /// `sub` before the claim plan: the client itself for client credentials (RFC 9068 §2.2).
    pub subject: &'a str,
    pub audience: Audience<'a>,
    /// Space-separated `resource:scope` references; `None` omits the claim.
    pub scope: Option<&'a str>,
    /// `iat` and `nbf`.
    pub issued_at: UnixTime,
    /// Seconds from `iat` to `exp`.
    pub lifetime: u32,
    /// Issued for a person: `sub` is the person's id, which ID tokens and UserInfo
    /// answer too and UserInfo finds the person by, so a claim transform does not
    /// replace it (docs/provider.md "Which claims leave").
    pub person: bool,
}

/// RFC 9068 §2.2 claims.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a Audience<'a>,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    iat: UnixTime,
    nbf: UnixTime,
    exp: UnixTime,
    jti: &'a str,
}

/// The track's active signing key; a track without one cannot issue (its key did not
/// decrypt, see `runtime::TrackRuntime::build`).
pub fn signing_key(track: &TrackRuntime) -> Result<&SigningKey, OAuthError> {
    track.signing.as_ref().ok_or_else(|| OAuthError::server_error().with_cause("the track has no usable signing key"))
}

/// Signs the access token.
pub fn mint(
    key: &SigningKey,
    track: &TrackRuntime,
    token: &AccessToken<'_>,
    rng: &dyn Rng,
) -> Result<String, OAuthError> {
    mint_with_jti(key, track, token, rng).map(|(t, _)| t)
}

/// Signs the access token; also answers its `jti` (a user grant records it).
pub fn mint_with_jti(
    key: &SigningKey,
    track: &TrackRuntime,
    token: &AccessToken<'_>,
    rng: &dyn Rng,
) -> Result<(String, String), OAuthError> {
    let (client, now) = (token.client, token.issued_at);
    let jti = ferrid_oauth::b64::encode(&rng.bytes::<16>());
    // Transforms read the protocol claims; what they and the fixed claims produce is
    // appended, never replacing a protocol claim (claims::issue::PROTECTED) except `sub`,
    // which a transform may replace (docs/protocol.md "Access tokens").
    let members = client.claims.as_ref().map(|plan| {
        let protocol = [
            ("client_id", vec![client.name.to_string()]),
            ("sub", vec![token.subject.to_owned()]),
            ("iss", vec![track.issuer.clone()]),
            ("aud", token.audience.values()),
            ("scope", token.scope.iter().map(|s| (*s).to_owned()).collect()),
        ];
        plan.members(&protocol)
    });
    let claims = Claims {
        iss: &track.issuer,
        sub: members.as_ref().and_then(|m| m.sub.as_deref()).filter(|_| !token.person).unwrap_or(token.subject),
        aud: &token.audience,
        client_id: &client.name,
        scope: token.scope,
        iat: now,
        nbf: now,
        exp: now + i64::from(token.lifetime),
        jti: &jti,
    };
    let mut json =
        serde_json::to_vec(&claims).map_err(|e| OAuthError::server_error().with_cause(format_args!("claims: {e}")))?;
    if let Some(m) = &members {
        crate::claims::issue::splice(&mut json, &m.json);
    }
    let signed = key
        .sign_access_token(&json)
        .map_err(|e| OAuthError::server_error().with_cause(format_args!("signing: {e}")))?;
    Ok((signed, jti))
}
