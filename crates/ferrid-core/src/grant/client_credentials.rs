//! The client credentials grant (RFC 6749 §4.4): which resources and scopes the token
//! carries. Minting is `token::access`'s.
//!
//! Everything here reads the in-memory [`TrackRuntime`]; nothing touches the store.

use ferrid_oauth::{OAuthError, scope::ScopeRef, token::ClientCredentials};

use crate::{
    model::UnixTime,
    runtime::{ClientRuntime, Grant, TrackRuntime},
    token::access::{self, AccessToken, Audience},
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
/// (`docs/protocol.md` "Scopes and targets").
fn resolve<'g>(
    client: &'g ClientRuntime,
    req: &ClientCredentials<'_>,
    issuer: &str,
) -> Result<Vec<Selection<'g>>, OAuthError> {
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
    for token in req.scope.unwrap_or("").split(' ').filter(|t| !t.is_empty()) {
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
    let audiences = req.audience.iter().flat_map(|a| a.split(' ')).filter(|a| !a.is_empty());
    for target in audiences.chain(req.resource.iter()) {
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

/// Issues the access token for an authenticated client.
pub fn issue(
    track: &TrackRuntime,
    client: &ClientRuntime,
    req: &ClientCredentials<'_>,
    now: UnixTime,
    rng: &dyn crate::env::Rng,
) -> Result<Issued, OAuthError> {
    let key = access::signing_key(track)?;
    let selections = if req.is_explicit() {
        resolve(client, req, &track.issuer)?
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
    let lifetime = client.token_lifetime;
    let scope = (!scope.is_empty()).then_some(scope);
    let token = AccessToken {
        client,
        subject: &client.name,
        audience: aud,
        scope: scope.as_deref(),
        issued_at: now,
        lifetime,
        person: false,
    };
    let access_token = access::mint(key, track, &token, rng)?;
    Ok(Issued { access_token, expires_in: lifetime, scope })
}
