//! The claims of a validated token, and the scope and role lookups the checks use.

use std::sync::Arc;

use serde_json::{Map, Value};

/// The payload of a token that passed every check. Cheap to clone.
///
/// With [`super::ValidateLayer`] in front, handlers take it as an axum extractor
/// (`async fn h(claims: Claims)`); it is also in the request extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Arc<Map<String, Value>>);

impl Claims {
    /// Wraps a JSON object.
    pub fn new(map: Map<String, Value>) -> Claims {
        Claims(Arc::new(map))
    }

    /// The whole payload.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// A top-level claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A claim by name, or, if no claim has that exact name and it contains dots, by
    /// path through nested objects (`resource_access.api.roles`, KrakenD's notation).
    pub fn lookup(&self, key: &str) -> Option<&Value> {
        if let Some(v) = self.0.get(key) {
            return Some(v);
        }
        let mut parts = key.split('.');
        let mut v = self.0.get(parts.next()?)?;
        for p in parts {
            v = v.as_object()?.get(p)?;
        }
        Some(v)
    }

    /// `sub`, if a string.
    pub fn sub(&self) -> Option<&str> {
        self.get("sub").and_then(Value::as_str)
    }

    /// `iss`, if a string.
    pub fn iss(&self) -> Option<&str> {
        self.get("iss").and_then(Value::as_str)
    }

    /// The values under `key` as a list of words: a space-separated string (RFC 8693
    /// `scope`) or an array of strings (`scp`, roles).
    pub fn words(&self, key: &str) -> Vec<&str> {
        match self.lookup(key) {
            Some(Value::String(s)) => s.split_ascii_whitespace().collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// Whether `required` are present: every one (`all`) or at least one (`any`).
pub(crate) fn matches(have: &[&str], required: &[String], all: bool) -> bool {
    if required.is_empty() {
        return true;
    }
    let has = |r: &String| have.contains(&r.as_str());
    if all { required.iter().all(has) } else { required.iter().any(has) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Claims {
        Claims::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn lookup_prefers_the_exact_name_then_the_dotted_path() {
        let c = claims(json!({
            "http://api.example.com/roles": ["admin"],
            "resource_access": { "api": { "roles": ["reader"] } }
        }));
        assert_eq!(c.words("http://api.example.com/roles"), ["admin"]);
        assert_eq!(c.words("resource_access.api.roles"), ["reader"]);
        assert!(c.words("resource_access.nope.roles").is_empty());
    }

    #[test]
    fn scopes_as_string_or_array() {
        assert_eq!(claims(json!({ "scope": "a  b c" })).words("scope"), ["a", "b", "c"]);
        assert_eq!(claims(json!({ "scp": ["a", "b", 3] })).words("scp"), ["a", "b"]);
    }

    #[test]
    fn any_and_all() {
        let req = vec!["a".to_owned(), "z".to_owned()];
        assert!(matches(&["a", "b"], &req, false));
        assert!(!matches(&["a", "b"], &req, true));
        assert!(matches(&["z", "a"], &req, true));
        assert!(!matches(&[], &req, false));
        assert!(matches(&[], &[], true));
    }
}
