//! The reader behind [`super::request`]: a JSON body read field by field into domain
//! values, every bad field named by its JSON path (`resource_scopes[1].scopes[0]`), all
//! at once rather than one per attempt (docs/api.md "Request bodies").

use ferrid_oauth::{jwt::SigningAlg, name::Name, scope::ScopeName};
use serde_json::{Map, Value};

use super::{FieldError, ManageError, ManageResult, request::AppBody};
use crate::model::{AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, ResourceSpec, TOKEN_LIFETIME_RANGE};

mod oidc;

pub use oidc::check_uri;

/// Fields the API returns that a client may send back unchanged on a replace.
const READ_ONLY: [&str; 7] =
    ["created", "updated", "version", "client_id", "issuer", "token_endpoint", "discovery_endpoint"];

/// A JSON object being read field by field, collecting errors.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    known: Vec<&'static str>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn of(body: &'a Value) -> ManageResult<Fields<'a>> {
        match body {
            Value::Object(obj) => Ok(Fields { obj, known: Vec::new(), errors: Vec::new() }),
            _ => Err(ManageError::field("body", "must be a JSON object")),
        }
    }

    fn err(&mut self, field: impl Into<String>, msg: impl Into<String>) {
        self.errors.push(FieldError::new(field, msg));
    }

    fn get(&mut self, field: &'static str) -> Option<&'a Value> {
        self.known.push(field);
        self.obj.get(field).filter(|v| !v.is_null())
    }

    pub fn name(&mut self, field: &'static str) -> Option<Name> {
        match self.get(field) {
            None => self.err(field, "is required"),
            Some(Value::String(s)) => match Name::parse(s) {
                Ok(n) => return Some(n),
                Err(e) => self.err(field, e.to_string()),
            },
            Some(_) => self.err(field, "must be a string"),
        }
        None
    }

    pub fn opt_str(&mut self, field: &'static str) -> Option<&'a str> {
        match self.get(field)? {
            Value::String(s) => Some(s),
            _ => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    pub fn opt_bool(&mut self, field: &'static str) -> Option<bool> {
        match self.get(field)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.err(field, "must be true or false");
                None
            }
        }
    }

    /// Any JSON value (null counts as absent).
    pub fn opt_value(&mut self, field: &'static str) -> Option<&'a Value> {
        self.get(field)
    }

    pub fn opt_lifetime(&mut self, field: &'static str) -> Option<u32> {
        self.opt_seconds(field, TOKEN_LIFETIME_RANGE)
    }

    pub fn opt_seconds(&mut self, field: &'static str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        self.opt_integer(field, range, "seconds")
    }

    pub fn opt_integer(
        &mut self,
        field: &'static str,
        range: std::ops::RangeInclusive<u32>,
        unit: &str,
    ) -> Option<u32> {
        let v = self.get(field)?;
        match v.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                self.err(
                    field,
                    format!("must be an integer number of {unit} from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    pub fn opt_signing_alg(&mut self, field: &'static str) -> Option<SigningAlg> {
        let s = self.opt_str(field)?;
        match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(field, "must be one of RS256, PS256, ES256, EdDSA");
                None
            }
        }
    }

    /// An element of an array that must be an object with exactly `fields`; others are
    /// named as unknown.
    fn element<'v>(&mut self, path: &str, item: &'v Value, fields: [&str; 2]) -> Option<&'v Map<String, Value>> {
        let Value::Object(obj) = item else {
            self.err(path, format!("must be an object with {} and {}", fields[0], fields[1]));
            return None;
        };
        for k in obj.keys().filter(|k| !fields.contains(&k.as_str())) {
            self.err(format!("{path}.{k}"), "is not a field of this object");
        }
        Some(obj)
    }

    fn scope_list(&mut self, field: &str, v: &Value, max: usize) -> Vec<ScopeName> {
        let Value::Array(items) = v else {
            self.err(field, "must be an array of scope names");
            return Vec::new();
        };
        if items.is_empty() || items.len() > max {
            self.err(field, format!("must hold 1 to {max} scopes"));
        }
        let mut out: Vec<ScopeName> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{field}[{i}]");
            match item.as_str().map(ScopeName::parse) {
                None => self.err(path, "must be a string"),
                Some(Err(e)) => self.err(path, e.to_string()),
                Some(Ok(s)) if out.contains(&s) => self.err(path, "is listed twice"),
                Some(Ok(s)) => out.push(s),
            }
        }
        out
    }

    /// Reports fields this body does not define; read-only fields are tolerated.
    pub fn finish(mut self) -> ManageResult<()> {
        let unknown: Vec<String> = self
            .obj
            .keys()
            .filter(|k| !self.known.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.err(k, "is not a field of this object");
        }
        if self.errors.is_empty() { Ok(()) } else { Err(ManageError::Invalid(self.errors)) }
    }
}

/// Parses an app body. Existence of granted resources is checked by the caller, which
/// knows the track.
pub fn app(body: &Value) -> ManageResult<AppBody> {
    let mut f = Fields::of(body)?;
    let name = f.name("name");
    let kind = f.opt_str("kind");
    let spec = match kind {
        Some("oauth_resource") => {
            let scopes = match f.get("scopes") {
                Some(v) => f.scope_list("scopes", v, 100),
                None => {
                    f.err("scopes", "is required");
                    Vec::new()
                }
            };
            Some(AppSpec::OauthResource(ResourceSpec { scopes }))
        }
        Some("oauth_client") => Some(AppSpec::OauthClient(client_spec(&mut f, &ClientAuthMethod::ALL))),
        Some("oidc_client") => Some(AppSpec::OidcClient(Box::new(oidc::oidc_spec(&mut f)))),
        Some(_) => {
            f.err("kind", "must be oauth_resource, oauth_client or oidc_client");
            None
        }
        None => {
            f.err("kind", "is required");
            None
        }
    };
    f.finish()?;
    match (name, spec) {
        (Some(name), Some(spec)) => Ok(AppBody { name, spec }),
        _ => Err(ManageError::field("body", "is invalid")),
    }
}

/// The fields of a client; `methods` are the kind's client authentication methods.
fn client_spec(f: &mut Fields<'_>, methods: &[ClientAuthMethod]) -> ClientSpec {
    let client_auth_method = match f.opt_str("client_auth_method") {
        None => ClientAuthMethod::default(),
        Some(s) => ClientAuthMethod::parse(s).filter(|m| methods.contains(m)).unwrap_or_else(|| {
            let names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
            let (last, rest) = names.split_last().expect("a kind has methods");
            f.err("client_auth_method", format!("must be {} or {last}", rest.join(", ")));
            ClientAuthMethod::default()
        }),
    };
    let access_token_lifetime = f.opt_lifetime("access_token_lifetime");
    let mut resource_scopes: Vec<ResourceScopes> = Vec::new();
    match f.get("resource_scopes") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("resource_scopes[{i}]");
                let Some(obj) = f.element(&path, item, ["resource", "scopes"]) else { continue };
                let resource = match obj.get("resource").and_then(Value::as_str).map(Name::parse) {
                    Some(Ok(n)) => Some(n),
                    Some(Err(e)) => {
                        f.err(format!("{path}.resource"), e.to_string());
                        None
                    }
                    None => {
                        f.err(format!("{path}.resource"), "is required and must be a string");
                        None
                    }
                };
                let scopes = match obj.get("scopes") {
                    Some(v) => f.scope_list(&format!("{path}.scopes"), v, 100),
                    None => {
                        f.err(format!("{path}.scopes"), "is required");
                        Vec::new()
                    }
                };
                if let Some(resource) = resource {
                    if resource_scopes.iter().any(|r| r.resource == resource) {
                        f.err(format!("{path}.resource"), "is listed twice");
                    }
                    resource_scopes.push(ResourceScopes { resource, scopes });
                }
            }
        }
        Some(_) => f.err("resource_scopes", "must be an array"),
    }
    let claims = fixed_claims(f);
    let issued_claims = issued_claims(f);
    let claim_transforms = match f.get("claim_transforms") {
        None => Vec::new(),
        Some(v) => crate::claims::parse_transforms(v, "claim_transforms").unwrap_or_else(|errors| {
            for (field, message) in errors {
                f.err(field, message);
            }
            Vec::new()
        }),
    };
    ClientSpec { client_auth_method, resource_scopes, access_token_lifetime, claims, issued_claims, claim_transforms }
}

/// A claim name an app may set: 1–100 characters, not a protocol claim.
fn check_claim_name(f: &mut Fields<'_>, path: String, name: &str) -> bool {
    if name.is_empty() || name.chars().count() > 100 {
        f.err(path, "must be 1 to 100 characters");
        false
    } else if crate::claims::issue::is_protected(name) {
        f.err(path, format!("'{name}' is a protocol claim that ferrid sets itself"));
        false
    } else {
        true
    }
}

/// `claims: [{"claim": "role", "values": ["orders.reader"]}]`, at most 100.
fn fixed_claims(f: &mut Fields<'_>) -> Vec<crate::claims::issue::FixedClaim> {
    let mut out: Vec<crate::claims::issue::FixedClaim> = Vec::new();
    let items = match f.get("claims") {
        None => return out,
        Some(Value::Array(items)) if items.len() <= 100 => items,
        Some(_) => {
            f.err("claims", "must be an array of at most 100 {claim, values} objects");
            return out;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("claims[{i}]");
        let Some(obj) = f.element(&path, item, ["claim", "values"]) else { continue };
        let name = obj.get("claim").and_then(Value::as_str);
        let ok = match name {
            Some(n) => check_claim_name(f, format!("{path}.claim"), n),
            None => {
                f.err(format!("{path}.claim"), "is required and must be a string");
                false
            }
        };
        if ok && out.iter().any(|c| Some(c.claim.as_str()) == name) {
            f.err(format!("{path}.claim"), "is listed twice");
        }
        let values: Option<Vec<String>> = obj
            .get("values")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().map(|v| v.as_str().filter(|s| s.len() <= 1000).map(str::to_owned)).collect());
        match values {
            Some(vs) if !vs.is_empty() && vs.len() <= 100 => {
                if let (true, Some(n)) = (ok, name) {
                    out.push(crate::claims::issue::FixedClaim { claim: n.to_owned(), values: vs });
                }
            }
            _ => f.err(format!("{path}.values"), "must be an array of 1 to 100 strings of at most 1000 characters"),
        }
    }
    out
}

/// `issued_claims: ["*"]` (the default) or a list of claim names.
fn issued_claims(f: &mut Fields<'_>) -> Vec<String> {
    match f.get("issued_claims") {
        None => crate::claims::issue::default_issued(),
        Some(Value::Array(items)) if items.len() <= 1000 => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match v.as_str() {
                    Some(s) if !s.is_empty() && s.len() <= 100 => out.push(s.to_owned()),
                    _ => f.err(format!("issued_claims[{i}]"), "must be a claim name or \"*\""),
                }
            }
            out
        }
        Some(_) => {
            f.err("issued_claims", "must be an array of claim names (\"*\" for all)");
            Vec::new()
        }
    }
}
