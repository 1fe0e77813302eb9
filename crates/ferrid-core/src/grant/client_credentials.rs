//! The client credentials grant (RFC 6749 §4.4) and its RFC 9068 access token.
//!
//! Everything here reads the in-memory [`TrackRuntime`]; nothing touches the store.

use ferrid_oauth::{OAuthError, form::Form, scope::ScopeRef};
use serde::Serialize;

use crate::{
    env::random_bytes,
    model::UnixTime,
    runtime::{ClientRuntime, Grant, TrackRuntime},
};

/// An issued access token and what the response reports of it.
pub struct Issued {
    pub access_token: String,
    pub expires_in: u32,
    pub scope: Option<String>,
}

/// One selected resource: the scopes named for it, or all that are granted.
struct Selection<'g> {
    grant: &'g Grant,
    named: Vec<&'g str>,
    all: bool,
}

/// Resolves `scope`, `audience` and `resource` into the token's audiences and scopes
/// (DESIGN §3 "Token endpoint").
fn resolve<'g>(client: &'g ClientRuntime, form: &Form<'_>, issuer: &str) -> Result<Vec<Selection<'g>>, OAuthError> {
    let mut sel: Vec<Selection<'g>> = Vec::new();
    let mut select = |grant: &'g Grant| -> usize {
        match sel.iter().position(|s| std::ptr::eq(s.grant, grant)) {
            Some(i) => i,
            None => {
                sel.push(Selection { grant, named: Vec::new(), all: false });
                sel.len() - 1
            }
        }
    };
    let mut picks: Vec<(usize, Option<&'g str>)> = Vec::new();
    // RFC 6749 §3.3: space-delimited scope tokens. Unknown or not granted → invalid_scope.
    for token in form.get("scope").unwrap_or("").split(' ').filter(|t| !t.is_empty()) {
        let r = ScopeRef::parse(token)
            .map_err(|_| OAuthError::invalid_scope(format!("'{}' is not a scope reference", clip(token))))?;
        let not_granted = || OAuthError::invalid_scope(format!("scope '{r}' is unknown or not granted to this client"));
        let grant = client.grant(r.resource).ok_or_else(not_granted)?;
        let scope = match r.scope {
            Some(s) => Some(grant.scopes.iter().find(|g| *g == s).ok_or_else(not_granted)?.as_str()),
            None => None,
        };
        picks.push((select(grant), scope));
    }
    // Auth0's `audience` (repeated or space-separated) and RFC 8707 `resource`.
    let audiences = form.all("audience").flat_map(|a| a.split(' ')).filter(|a| !a.is_empty());
    for target in audiences.chain(form.all("resource")) {
        let name = target_name(target, issuer)?;
        let grant = client.grant(name).ok_or_else(|| {
            OAuthError::invalid_target(format!("resource '{}' is unknown or not granted to this client", clip(target)))
        })?;
        select(grant);
    }
    for (i, scope) in picks {
        match scope {
            Some(s) if !sel[i].named.contains(&s) => sel[i].named.push(s),
            Some(_) => {}
            None => sel[i].all = true,
        }
    }
    Ok(sel)
}

/// A `resource`/`audience` value names a resource by its name, or (RFC 8707 §2) by an
/// absolute URI: `{issuer}/{name}`. A fragment is not allowed.
fn target_name<'t>(target: &'t str, issuer: &str) -> Result<&'t str, OAuthError> {
    let malformed =
        || OAuthError::invalid_target(format!("'{}' is not a resource name or URI of this track", clip(target)));
    if target.contains('#') {
        return Err(malformed());
    }
    if target.contains("://") {
        return target
            .strip_prefix(issuer)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|n| !n.contains('/'))
            .ok_or_else(malformed);
    }
    Ok(target)
}

/// Keeps echoed input short in error descriptions.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

/// RFC 9068 §2.2 claims.
#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    iat: UnixTime,
    nbf: UnixTime,
    exp: UnixTime,
    jti: &'a str,
}

/// Issues the access token for an authenticated client.
pub fn issue(
    track: &TrackRuntime,
    client: &ClientRuntime,
    form: &Form<'_>,
    now: UnixTime,
) -> Result<Issued, OAuthError> {
    let key = track.signing.as_ref().ok_or_else(OAuthError::server_error)?;
    let explicit = form.contains("scope") || form.contains("audience") || form.contains("resource");
    let selections = if explicit {
        resolve(client, form, &track.issuer)?
    } else {
        // Neither scope nor target: every resource and scope the client is granted, except
        // ferrid's own management API, which a token carries only when asked for by
        // scope, audience or resource (issue 18: a default token for another API must
        // not also manage ferrid).
        client
            .grants
            .iter()
            .filter(|grant| grant.resource != crate::manage::MANAGEMENT_RESOURCE)
            .map(|grant| Selection { grant, named: Vec::new(), all: true })
            .collect()
    };
    let mut scope = String::new();
    for s in &selections {
        let scopes: Box<dyn Iterator<Item = &str>> = if s.all || s.named.is_empty() {
            Box::new(s.grant.scopes.iter().map(String::as_str))
        } else {
            Box::new(s.named.iter().copied())
        };
        for name in scopes {
            if !scope.is_empty() {
                scope.push(' ');
            }
            scope.push_str(&s.grant.resource);
            scope.push(':');
            scope.push_str(name);
        }
    }
    let aud = match selections.as_slice() {
        // A client granted nothing gets its own name as audience.
        [] => Audience::One(&client.name),
        [one] => Audience::One(&one.grant.resource),
        many => Audience::Many(many.iter().map(|s| s.grant.resource.as_str()).collect()),
    };
    let jti = ferrid_oauth::b64::encode(&random_bytes::<16>());
    let lifetime = client.token_lifetime;
    let scope = (!scope.is_empty()).then_some(scope);
    // Transforms read the protocol claims; what they and the fixed claims produce is
    // appended, never replacing a protocol claim (claims::issue::PROTECTED) except `sub`,
    // which a transform may replace (DESIGN §3 "Access tokens").
    let members = client.claims.as_ref().map(|plan| {
        let aud_values: Vec<String> = match &aud {
            Audience::One(a) => vec![(*a).to_owned()],
            Audience::Many(m) => m.iter().map(|a| (*a).to_owned()).collect(),
        };
        let scope_values = scope.iter().cloned().collect();
        let protocol = [
            ("client_id", vec![client.name.to_string()]),
            ("sub", vec![client.name.to_string()]),
            ("iss", vec![track.issuer.clone()]),
            ("aud", aud_values),
            ("scope", scope_values),
        ];
        plan.members(&protocol)
    });
    let sub = members.as_ref().and_then(|m| m.sub.as_deref()).unwrap_or(&client.name);
    let claims = AccessTokenClaims {
        iss: &track.issuer,
        sub,
        aud,
        client_id: &client.name,
        scope: scope.as_deref(),
        iat: now,
        nbf: now,
        exp: now + i64::from(lifetime),
        jti: &jti,
    };
    let mut json = serde_json::to_vec(&claims).map_err(|_| OAuthError::server_error())?;
    if let Some(m) = &members {
        crate::claims::issue::splice(&mut json, &m.json);
    }
    let access_token = key.sign_access_token(&json).map_err(|_| OAuthError::server_error())?;
    Ok(Issued { access_token, expires_in: lifetime, scope })
}
