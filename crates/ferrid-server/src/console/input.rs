//! Posted forms as the JSON bodies the management rules read (`Request::from_json`), so
//! a form is checked by exactly the rules the API applies: text as strings (left out
//! when empty), whole numbers as numbers (anything else kept as text, for the rule to
//! name), checkboxes as booleans, JSON text areas as their value.

use serde_json::{Map, Value};

use super::view::Posted;

/// How a posted field becomes a JSON member.
#[derive(Debug, Clone, Copy)]
pub enum In {
    Text,
    /// Text taken as typed, never trimmed (a password); left out when empty.
    Secret,
    Integer,
    /// A checkbox: `true` when posted, `false` when not.
    Bool,
    /// A JSON value; text that is not JSON is passed on as a string, which the rule
    /// refuses by name.
    Json,
}

/// The JSON object of `fields` of `posted`.
pub fn body(posted: &Posted, fields: &[(&str, In)]) -> Value {
    let mut obj = Map::new();
    for (name, kind) in fields {
        let raw = match kind {
            In::Secret => posted.get(name).filter(|v| !v.is_empty()),
            _ => posted.text(name),
        };
        let v = match (kind, raw) {
            (In::Bool, v) => Some(Value::Bool(v.is_some())),
            (_, None) => None,
            (In::Text | In::Secret, Some(s)) => Some(Value::String(s.to_owned())),
            (In::Integer, Some(s)) => Some(s.parse::<i64>().map_or_else(|_| Value::String(s.to_owned()), Value::from)),
            (In::Json, Some(s)) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))),
        };
        if let Some(v) = v {
            obj.insert((*name).to_owned(), v);
        }
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn posted_fields_become_the_json_the_rules_read() {
        let posted = Posted {
            fields: [
                ("name", " acme "),
                ("password", " spaced "),
                ("lifetime", "300"),
                ("days", "soon"),
                ("claims", "{\"a\":1}"),
                ("bad", "{x"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        };
        let spec = [
            ("name", In::Text),
            ("password", In::Secret),
            ("lifetime", In::Integer),
            ("days", In::Integer),
            ("claims", In::Json),
            ("bad", In::Json),
            ("verified", In::Bool),
            ("missing", In::Text),
        ];
        assert_eq!(
            body(&posted, &spec),
            json!({"name": "acme", "password": " spaced ", "lifetime": 300, "days": "soon", "claims": {"a": 1}, "bad": "{x", "verified": false})
        );
    }
}
