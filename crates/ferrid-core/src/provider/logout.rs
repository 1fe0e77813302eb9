//! RP-Initiated Logout 1.0 and Front-Channel Logout 1.0 (docs/provider.md "Logout"), and
//! the `id_token_hint` both they and the authorization endpoint read.

use ferrid_oauth::{form::Form, jwt::verify_compact};
use serde_json::Value;

use crate::runtime::{ClientRuntime, TrackRuntime};

/// What an `id_token_hint` says, once its signature is this track's (its `exp` is not
/// looked at: RP-Initiated Logout 1.0 §2 accepts an expired hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub sub: String,
    pub aud: Vec<String>,
    pub sid: Option<String>,
}

/// Reads an ID token of this track as a hint; `None` when it is not one.
pub fn read_hint(track: &TrackRuntime, token: &str) -> Option<Hint> {
    let (header, claims) = verify_compact(token, |h| {
        let kid = h.kid.as_deref()?;
        track.verifying.iter().find(|k| k.kid.as_deref() == Some(kid))
    })
    .ok()?;
    // An ID token (typ JWT), never an access token (at+jwt).
    if header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return None;
    }
    if claims.get("iss").and_then(Value::as_str) != Some(track.issuer.as_str()) {
        return None;
    }
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return None,
    };
    Some(Hint {
        sub: claims.get("sub").and_then(Value::as_str)?.to_owned(),
        aud,
        sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
    })
}

/// A checked end-session request.
pub struct EndSession<'t> {
    /// The client that asks (`client_id`, or the hint's audience).
    pub client: Option<&'t ClientRuntime>,
    pub hint: Option<Hint>,
    /// `post_logout_redirect_uri`, only when registered for the client.
    pub redirect: Option<String>,
    pub state: Option<String>,
}

impl EndSession<'_> {
    /// Without a valid hint the person is asked to confirm (docs/provider.md "Logout").
    pub fn needs_confirmation(&self) -> bool {
        self.hint.is_none()
    }

    /// Where the person goes afterwards: the registered URI with `state`, if any.
    pub fn redirect_location(&self) -> Option<String> {
        let uri = self.redirect.as_ref()?;
        Some(match &self.state {
            None => uri.clone(),
            Some(s) => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                format!("{uri}{sep}{}", ferrid_oauth::form::encode([("state", s.as_str())]))
            }
        })
    }
}

/// Checks an end-session request (RP-Initiated Logout 1.0 §2, §3): a hint that is not an
/// ID token of this track, an unknown `client_id`, or a `client_id` the hint was not
/// issued to is an error page (`Err` with its message); an unregistered
/// `post_logout_redirect_uri` is not followed (the signed-out page instead).
pub fn check<'t>(track: &'t TrackRuntime, form: &Form<'_>, app: Option<&str>) -> Result<EndSession<'t>, String> {
    let hint = match form.get("id_token_hint") {
        None => None,
        Some(t) => Some(read_hint(track, t).ok_or("The id_token_hint is not an ID token of this issuer.")?),
    };
    let named = match form.get("client_id") {
        None => None,
        Some(id) => Some(
            track
                .clients
                .get(id)
                .filter(|c| c.oidc.is_some())
                .ok_or("The client of this request (client_id) is not registered here.")?,
        ),
    };
    if let (Some(c), Some(h)) = (named, &hint)
        && !h.aud.iter().any(|a| a == c.name.as_str())
    {
        return Err("The id_token_hint was not issued to this client.".into());
    }
    let client = named.or_else(|| {
        hint.as_ref()
            .and_then(|h| h.aud.iter().find_map(|a| track.clients.get(a.as_str())))
            .filter(|c| c.oidc.is_some())
    });
    if let Some(app) = app
        && client.is_some_and(|c| c.name.as_str() != app)
    {
        return Err("This logout URL belongs to another application.".into());
    }
    let redirect = form.get("post_logout_redirect_uri").and_then(|uri| {
        let registered =
            client.and_then(|c| c.oidc.as_deref()).is_some_and(|o| o.post_logout_redirect_uris.contains(uri));
        registered.then(|| uri.to_owned())
    });
    Ok(EndSession { client: client.map(|c| &**c), hint, redirect, state: form.get("state").map(str::to_owned) })
}

/// The front-channel logout URL of a client for a session (Front-Channel Logout 1.0 §2:
/// `iss` and `sid` added to its query).
pub fn frontchannel_url(uri: &str, issuer: &str, sid: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", ferrid_oauth::form::encode([("iss", issuer), ("sid", sid)]))
}
