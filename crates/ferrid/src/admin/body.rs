//! Request bodies built from flags and files.

use std::{io::Read, path::Path};

use base64::Engine;
use serde_json::{Map, Value, json};

use super::api::Failure;

/// Reads a file, or standard input for `-`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::read(path).map(|b| buf = b)
    };
    result.map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(buf)
}

pub fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read_bytes(path)?).map_err(|_| Failure::Usage(format!("{}: is not UTF-8 text", path.display())))
}

/// A JSON object from a file (`-` for standard input).
pub fn read_object(path: &Path) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_str(&read_text(path)?) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Failure::Usage(format!("{}: must hold a JSON object", path.display()))),
        Err(e) => Err(Failure::Usage(format!("{}: is not valid JSON ({e})", path.display()))),
    }
}

/// Splits repeated and comma- or space-separated values: `--scope a,b --scope c`.
pub fn split_list(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| v.split([',', ' '])).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `party-api2:read1 party-api2:write other:x` → `resource_scopes` grouped by resource,
/// in first-seen order.
pub fn resource_scopes(grants: &[String]) -> Result<Value, Failure> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for g in grants {
        let Some((resource, scope)) = g.split_once(':').filter(|(r, s)| !r.is_empty() && !s.is_empty()) else {
            return Err(Failure::Usage(format!(
                "--scope {g:?}: a client's scopes are grants RESOURCE:SCOPE, e.g. orders-api:read"
            )));
        };
        match grouped.iter_mut().find(|(r, _)| r == resource) {
            Some((_, scopes)) => scopes.push(scope.to_owned()),
            None => grouped.push((resource.to_owned(), vec![scope.to_owned()])),
        }
    }
    Ok(Value::Array(grouped.into_iter().map(|(r, s)| json!({ "resource": r, "scopes": s })).collect()))
}

/// What `app create`/`app update` flags set on an app body.
#[derive(Default)]
pub struct AppFlags<'a> {
    pub kind: Option<&'a str>,
    pub scopes: &'a [String],
    pub client_auth_method: Option<&'a str>,
    pub access_token_lifetime: Option<u32>,
    /// An `oidc_client`'s `redirect_uris`.
    pub redirect_uris: &'a [String],
}

/// Applies the flags to `body`: `--scope` means `scopes` for a resource and
/// `resource_scopes` for a client.
pub fn apply_app_flags(body: &mut Map<String, Value>, flags: &AppFlags<'_>) -> Result<(), Failure> {
    if let Some(kind) = flags.kind {
        body.insert("kind".into(), json!(kind));
    }
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
    let scopes = split_list(flags.scopes);
    if !scopes.is_empty() {
        match kind.as_str() {
            "oauth_resource" => {
                body.insert("scopes".into(), json!(scopes));
            }
            "oauth_client" | "oidc_client" => {
                body.insert("resource_scopes".into(), resource_scopes(&scopes)?);
            }
            _ => return Err(Failure::Usage("--scope needs --kind oauth_resource, oauth_client or oidc_client".into())),
        }
    }
    if let Some(m) = flags.client_auth_method {
        body.insert("client_auth_method".into(), json!(m));
    }
    if let Some(l) = flags.access_token_lifetime {
        body.insert("access_token_lifetime".into(), json!(l));
    }
    if !flags.redirect_uris.is_empty() {
        body.insert("redirect_uris".into(), json!(flags.redirect_uris));
    }
    Ok(())
}

/// The body of `key add`: exactly one of PEM, PFX (base64, with its password) or JWK.
pub fn key_body(
    pem: Option<&Path>,
    pfx: Option<&Path>,
    password: Option<&str>,
    jwk: Option<&Path>,
) -> Result<Value, Failure> {
    match (pem, pfx, jwk) {
        (Some(p), None, None) => Ok(json!({ "pem": read_text(p)? })),
        (None, Some(p), None) => {
            let der = base64::engine::general_purpose::STANDARD.encode(read_bytes(p)?);
            Ok(json!({ "pfx": der, "password": password.unwrap_or_default() }))
        }
        (None, None, Some(p)) => Ok(json!({ "jwk": Value::Object(read_object(p)?) })),
        _ => Err(Failure::Usage("give exactly one of --pem, --pfx or --jwk".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn client_grants_group_by_resource_in_order() {
        let v = resource_scopes(&split_list(&strings(&["party-api2:read1,party-api2:write", "other:x"]))).unwrap();
        assert_eq!(
            v,
            json!([{ "resource": "party-api2", "scopes": ["read1", "write"] }, { "resource": "other", "scopes": ["x"] }])
        );
    }

    #[test]
    fn a_client_grant_without_a_resource_is_a_usage_error() {
        for bad in ["read", ":read", "api:"] {
            assert!(matches!(resource_scopes(&strings(&[bad])), Err(Failure::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn scope_flags_follow_the_kind() {
        let mut body = Map::new();
        let scopes = strings(&["read", "write"]);
        let flags = AppFlags { kind: Some("oauth_resource"), scopes: &scopes, ..AppFlags::default() };
        apply_app_flags(&mut body, &flags).unwrap();
        assert_eq!(Value::Object(body), json!({ "kind": "oauth_resource", "scopes": ["read", "write"] }));

        let mut body = Map::new();
        let grants = strings(&["api:read"]);
        let flags = AppFlags {
            kind: Some("oauth_client"),
            scopes: &grants,
            client_auth_method: Some("client_secret_post"),
            access_token_lifetime: Some(600),
            ..AppFlags::default()
        };
        apply_app_flags(&mut body, &flags).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "kind": "oauth_client",
                "resource_scopes": [{ "resource": "api", "scopes": ["read"] }],
                "client_auth_method": "client_secret_post",
                "access_token_lifetime": 600
            })
        );
    }

    #[test]
    fn an_oidc_client_takes_grants_and_redirect_uris_from_flags() {
        let mut body = Map::new();
        let (grants, uris) = (strings(&["api:read"]), strings(&["https://app.example/cb", "com.example.app:/cb"]));
        let flags =
            AppFlags { kind: Some("oidc_client"), scopes: &grants, redirect_uris: &uris, ..AppFlags::default() };
        apply_app_flags(&mut body, &flags).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "kind": "oidc_client",
                "resource_scopes": [{ "resource": "api", "scopes": ["read"] }],
                "redirect_uris": ["https://app.example/cb", "com.example.app:/cb"]
            })
        );
    }

    #[test]
    fn key_body_needs_exactly_one_source() {
        assert!(matches!(key_body(None, None, None, None), Err(Failure::Usage(_))));
        let p = Path::new("x");
        assert!(matches!(key_body(Some(p), Some(p), None, None), Err(Failure::Usage(_))));
    }
}
