//! The `oidc_client` fields of an app body (docs/api.md "oidc_client"): each field read
//! and named by its JSON path, then the rules between fields.

use serde_json::Value;

use super::Fields;
use crate::model::{
    AuthMethod, ClientAuthMethod, DEFAULT_ID_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME,
    DEFAULT_REFRESH_TOKEN_LIFETIME, GrantType, ID_TOKEN_LIFETIME_RANGE, OidcClientSpec, OidcScope,
    REFRESH_LIFETIME_RANGE, ResourceSpec, ResponseType,
};

/// Fields of the registration response that a replace may send back unchanged.
const READ_ONLY: [&str; 3] = ["authorization_endpoint", "userinfo_endpoint", "end_session_endpoint"];
/// The longest URI accepted in any URI field.
const MAX_URI_LEN: usize = 2000;
/// Schemes that are never a place to send a person back to.
const REFUSED_SCHEMES: [&str; 6] = ["javascript", "data", "file", "vbscript", "about", "blob"];

pub(super) fn oidc_spec(f: &mut Fields<'_>) -> OidcClientSpec {
    let client = super::client_spec(f, &ClientAuthMethod::OIDC);
    for field in READ_ONLY {
        f.get(field);
    }
    let redirect_uris = uri_list(f, "redirect_uris", true);
    let grant_types = list(
        f,
        "grant_types",
        GrantType::parse,
        "a grant type: authorization_code, implicit, refresh_token or client_credentials",
    )
    .unwrap_or_else(crate::model::default_grant_types);
    if sent_empty(f, "grant_types") {
        f.err("grant_types", "must hold at least one grant type");
    }
    let response_types = list(
        f,
        "response_types",
        ResponseType::parse,
        "a response type: code, code id_token, code token, code token id_token, token id_token or id_token",
    )
    .unwrap_or_else(|| {
        if grant_types.contains(&GrantType::AuthorizationCode) { vec![ResponseType::Code] } else { Vec::new() }
    });
    let require_pkce = f.opt_bool("require_pkce").unwrap_or(true);
    let allow_plain_pkce = f.opt_bool("allow_plain_pkce").unwrap_or(false);
    let post_logout_redirect_uris = uri_list(f, "post_logout_redirect_uris", true);
    let frontchannel_logout_uri = f.opt_str("frontchannel_logout_uri").and_then(|s| match check_uri(s, false) {
        Ok(()) => Some(s.to_owned()),
        Err(m) => {
            f.err("frontchannel_logout_uri", m);
            None
        }
    });
    let scopes = scopes(f);
    let auth_methods =
        list(f, "auth_methods", |s| (s == "login").then_some(AuthMethod::Login), "an authentication method: login")
            .unwrap_or_else(crate::model::default_auth_methods);
    if sent_empty(f, "auth_methods") {
        f.err("auth_methods", "must hold at least one authentication method");
    }
    let require_consent = f.opt_bool("require_consent").unwrap_or(false);
    let access_token_audience_includes_client = f.opt_bool("access_token_audience_includes_client").unwrap_or(true);
    let id_token_lifetime =
        f.opt_seconds("id_token_lifetime", ID_TOKEN_LIFETIME_RANGE).unwrap_or(DEFAULT_ID_TOKEN_LIFETIME);
    let refresh_token_lifetime =
        f.opt_seconds("refresh_token_lifetime", REFRESH_LIFETIME_RANGE).unwrap_or(DEFAULT_REFRESH_TOKEN_LIFETIME);
    let refresh_token_absolute_lifetime = f
        .opt_seconds("refresh_token_absolute_lifetime", REFRESH_LIFETIME_RANGE)
        .unwrap_or(DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME);
    let resource = resource(f);
    let spec = OidcClientSpec {
        client,
        redirect_uris,
        response_types,
        require_pkce,
        allow_plain_pkce,
        grant_types,
        post_logout_redirect_uris,
        frontchannel_logout_uri,
        scopes,
        auth_methods,
        require_consent,
        access_token_audience_includes_client,
        id_token_lifetime,
        refresh_token_lifetime,
        refresh_token_absolute_lifetime,
        resource,
    };
    // The rules between fields hold only between fields that read well.
    if f.errors.is_empty() {
        consistency(f, &spec);
    }
    spec
}

/// Whether `field` was sent as an empty array (a list whose elements were all refused
/// has its errors already).
fn sent_empty(f: &Fields<'_>, field: &str) -> bool {
    matches!(f.obj.get(field), Some(Value::Array(a)) if a.is_empty())
}

/// An optional array of distinct words, each parsed by `parse`; `None` when absent.
fn list<T: PartialEq>(
    f: &mut Fields<'_>,
    field: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Option<Vec<T>> {
    let Value::Array(items) = f.get(field)? else {
        f.err(field, format!("must be an array, each element {what}"));
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(&parse) {
            None => f.err(format!("{field}[{i}]"), format!("must be {what}")),
            Some(v) if out.contains(&v) => f.err(format!("{field}[{i}]"), "is listed twice"),
            Some(v) => out.push(v),
        }
    }
    Some(out)
}

/// An array of at most 100 distinct URIs meeting [`check_uri`].
fn uri_list(f: &mut Fields<'_>, field: &'static str, custom_schemes: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let items = match f.get(field) {
        None => return out,
        Some(Value::Array(items)) if items.len() <= 100 => items,
        Some(_) => {
            f.err(field, "must be an array of at most 100 URIs");
            return out;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        match item.as_str().map(|s| (s, check_uri(s, custom_schemes))) {
            None => f.err(path, "must be a string"),
            Some((_, Err(m))) => f.err(path, m),
            Some((s, Ok(()))) if out.iter().any(|o| o == s) => f.err(path, "is listed twice"),
            Some((s, Ok(()))) => out.push(s.to_owned()),
        }
    }
    out
}

/// A URI a person's browser is sent to (docs/api.md "Redirect URIs"): absolute, no
/// fragment (RFC 6749 §3.1.2), `https`, or `http` on a loopback host (RFC 8252 §7.3), or
/// (where `custom_schemes`) a native app's own scheme (RFC 8252 §7.1).
pub fn check_uri(s: &str, custom_schemes: bool) -> Result<(), String> {
    if s.is_empty() || s.len() > MAX_URI_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("must be an absolute URI of at most {MAX_URI_LEN} characters without spaces"));
    }
    if s.contains('#') {
        return Err("must not contain a fragment".into());
    }
    let (scheme, rest) = s.split_once(':').ok_or("must be an absolute URI")?;
    let valid_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme || rest.is_empty() {
        return Err("must be an absolute URI".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    let web = "must use https (http only on localhost, 127.0.0.1 or [::1])";
    match scheme.as_str() {
        "https" | "http" => {
            let authority = rest.strip_prefix("//").ok_or("must be an absolute URI with a host")?;
            let authority = authority.split(['/', '?']).next().unwrap_or("");
            if authority.contains('@') {
                return Err("must not contain user information".into());
            }
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")).unwrap_or_default(),
                None => authority.split(':').next().unwrap_or("").to_ascii_lowercase(),
            };
            if host.is_empty() || host == "[]" {
                return Err("must be an absolute URI with a host".into());
            }
            let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
            if scheme == "http" && !loopback { Err(web.into()) } else { Ok(()) }
        }
        s if REFUSED_SCHEMES.contains(&s) => Err(format!("must not use the {s} scheme")),
        _ if custom_schemes => Ok(()),
        _ => Err(web.into()),
    }
}

/// A scope name as RFC 6749 §3.3 spells one, without `:` (which names a resource scope).
fn scope_name_ok(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.chars().all(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e') && c != ':')
}

/// `scopes: [{"scope", "claims"?}]`; absent keeps the standard table.
fn scopes(f: &mut Fields<'_>) -> Option<Vec<OidcScope>> {
    let items = match f.get("scopes")? {
        Value::Array(items) if items.len() <= 100 => items,
        _ => {
            f.err("scopes", "must be an array of at most 100 {scope, claims} objects");
            return Some(Vec::new());
        }
    };
    let errors_before = f.errors.len();
    let mut out: Vec<OidcScope> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("scopes[{i}]");
        let Some(obj) = f.element(&path, item, ["scope", "claims"]) else { continue };
        let scope = match obj.get("scope").and_then(Value::as_str) {
            Some(s) if scope_name_ok(s) => Some(s.to_owned()),
            _ => {
                f.err(
                    format!("{path}.scope"),
                    "must be a scope name of 1 to 100 printable characters, without spaces, quotes, backslashes or ':'",
                );
                None
            }
        };
        if let Some(s) = &scope
            && out.iter().any(|o| &o.scope == s)
        {
            f.err(format!("{path}.scope"), "is listed twice");
        }
        let claims = match obj.get("claims") {
            None | Some(Value::Null) => None,
            Some(Value::Array(cs)) if cs.len() <= 100 => {
                let mut names: Vec<String> = Vec::new();
                for (j, c) in cs.iter().enumerate() {
                    match c.as_str() {
                        Some(n) if (1..=100).contains(&n.chars().count()) && !names.iter().any(|x| x == n) => {
                            names.push(n.to_owned())
                        }
                        _ => {
                            f.err(format!("{path}.claims[{j}]"), "must be a distinct claim name of 1 to 100 characters")
                        }
                    }
                }
                Some(names)
            }
            Some(_) => {
                f.err(format!("{path}.claims"), "must be an array of at most 100 claim names");
                None
            }
        };
        if let Some(scope) = scope {
            out.push(OidcScope { scope, claims });
        }
    }
    if !out.iter().any(|s| s.scope == "openid") && f.errors.len() == errors_before {
        f.err("scopes", "must include openid (OpenID Connect Core 1.0 §3.1.2.1)");
    }
    Some(out)
}

/// `resource: {"scopes": [...]}`: the registration is also a resource.
fn resource(f: &mut Fields<'_>) -> Option<ResourceSpec> {
    let Value::Object(obj) = f.get("resource")? else {
        f.err("resource", "must be an object with scopes");
        return None;
    };
    for k in obj.keys().filter(|k| k.as_str() != "scopes") {
        f.err(format!("resource.{k}"), "is not a field of this object");
    }
    match obj.get("scopes") {
        Some(v) => Some(ResourceSpec { scopes: f.scope_list("resource.scopes", v, 100) }),
        None => {
            f.err("resource.scopes", "is required");
            None
        }
    }
}

/// The rules between fields (docs/api.md "oidc_client", "Consistency").
fn consistency(f: &mut Fields<'_>, s: &OidcClientSpec) {
    let public = s.client.client_auth_method == ClientAuthMethod::None;
    let has = |g: GrantType| s.grant_types.contains(&g);
    if public && !s.require_pkce {
        f.err("require_pkce", "must be true for a public client (client_auth_method none, RFC 9700 §2.1.1)");
    }
    for (i, t) in s.response_types.iter().enumerate() {
        if t.has_code() && !has(GrantType::AuthorizationCode) {
            f.err(format!("response_types[{i}]"), "needs the authorization_code grant in grant_types (RFC 7591 §2.1)");
        }
        if t.returns_tokens() && !has(GrantType::Implicit) {
            f.err(format!("response_types[{i}]"), "needs the implicit grant in grant_types (RFC 7591 §2.1)");
        }
    }
    for (i, g) in s.grant_types.iter().enumerate() {
        let path = format!("grant_types[{i}]");
        match g {
            GrantType::AuthorizationCode if !s.response_types.iter().any(|t| t.has_code()) => {
                f.err(path, "needs a response type with code in response_types")
            }
            GrantType::Implicit if !s.response_types.iter().any(|t| t.returns_tokens()) => {
                f.err(path, "needs a response type that returns an ID token in response_types")
            }
            GrantType::RefreshToken if !has(GrantType::AuthorizationCode) => {
                f.err(path, "needs the authorization_code grant: refresh tokens come from codes")
            }
            GrantType::ClientCredentials if public => {
                f.err(path, "needs a client that authenticates (RFC 6749 §4.4): not with client_auth_method none")
            }
            _ => {}
        }
    }
    if (has(GrantType::AuthorizationCode) || has(GrantType::Implicit)) && s.redirect_uris.is_empty() {
        f.err("redirect_uris", "must hold at least one URI for the authorization_code and implicit grants");
    }
    if s.refresh_token_absolute_lifetime < s.refresh_token_lifetime {
        f.err("refresh_token_absolute_lifetime", "must be at least refresh_token_lifetime");
    }
}

#[cfg(test)]
mod tests;
