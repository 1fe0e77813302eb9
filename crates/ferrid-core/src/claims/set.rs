//! [`ClaimSet`]: the claims being transformed, an ordered multimap from claim name to values.

use serde_json::{Map, Value};

/// Claims during transformation: each name once, in first-insertion order, with its
/// values in order and without duplicates.
///
/// A claim without values does not exist: no entry ever holds an empty list, so
/// "exists" always means "has at least one value".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimSet {
    claims: Vec<(String, Vec<String>)>,
}

impl ClaimSet {
    pub fn new() -> ClaimSet {
        ClaimSet::default()
    }

    /// Reads the claims of a JSON object.
    ///
    /// A string is one value; a number or a boolean becomes its JSON text (`42`, `true`);
    /// an array of those is several values. `null`, empty arrays, objects and arrays
    /// holding anything else are left out: the caller keeps such claims (and the protocol
    /// claims it owns, such as `exp`) beside the set.
    pub fn from_json(map: &Map<String, Value>) -> ClaimSet {
        let mut set = ClaimSet::new();
        for (name, value) in map {
            if let Some(values) = json_values(value) {
                set.add(name, values);
            }
        }
        set
    }

    /// Writes the claims as a JSON object: one value as a string, several as an array.
    pub fn to_json(&self) -> Map<String, Value> {
        self.claims
            .iter()
            .map(|(name, values)| {
                let value = match values.as_slice() {
                    [one] => Value::String(one.clone()),
                    many => Value::Array(many.iter().cloned().map(Value::String).collect()),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The values of a claim, never empty; `None` when the claim does not exist.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.position(name).map(|i| self.claims[i].1.as_slice())
    }

    /// The first value of a claim.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Appends values to a claim, creating it at the end if needed; a value the claim
    /// already has is not added twice.
    pub fn add(&mut self, name: &str, values: impl IntoIterator<Item = String>) {
        let i = match self.position(name) {
            Some(i) => i,
            None => {
                self.claims.push((name.to_owned(), Vec::new()));
                self.claims.len() - 1
            }
        };
        let existing = &mut self.claims[i].1;
        for value in values {
            if !existing.contains(&value) {
                existing.push(value);
            }
        }
        if existing.is_empty() {
            self.claims.remove(i);
        }
    }

    /// Sets a claim's values, keeping its position when it exists; no values removes it.
    pub fn replace(&mut self, name: &str, values: impl IntoIterator<Item = String>) {
        let mut fresh: Vec<String> = Vec::new();
        for value in values {
            if !fresh.contains(&value) {
                fresh.push(value);
            }
        }
        match (self.position(name), fresh.is_empty()) {
            (Some(i), true) => {
                self.claims.remove(i);
            }
            (Some(i), false) => self.claims[i].1 = fresh,
            (None, true) => {}
            (None, false) => self.claims.push((name.to_owned(), fresh)),
        }
    }

    /// Removes a claim, returning its values.
    pub fn remove(&mut self, name: &str) -> Option<Vec<String>> {
        self.position(name).map(|i| self.claims.remove(i).1)
    }

    /// The claims in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.claims.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of claims (not values).
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.claims.iter().position(|(n, _)| n == name)
    }
}

/// The values of one JSON claim, or `None` when it has none the set can hold.
fn json_values(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn from_json_reads_strings_arrays_numbers_and_bools_in_the_objects_order() {
        let map = obj(json!({
            "email": "a@x.org", "role": ["r1", "r2"], "level": 3, "verified": true
        }));
        let set = ClaimSet::from_json(&map);
        let names: Vec<&str> = set.iter().map(|(n, _)| n).collect();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(names, keys);
        assert_eq!(set.get("role"), Some(&strings(&["r1", "r2"])[..]));
        assert_eq!(set.first("level"), Some("3"));
        assert_eq!(set.first("verified"), Some("true"));
    }

    #[test]
    fn from_json_leaves_out_null_empty_objects_and_nested_arrays() {
        let set = ClaimSet::from_json(&obj(json!({
            "a": null, "b": [], "c": {"x": 1}, "d": [["x"]], "e": ["x", null], "f": "kept"
        })));
        assert_eq!(set.len(), 1);
        assert!(set.contains("f"));
    }

    #[test]
    fn to_json_writes_one_value_as_string_and_several_as_array() {
        let mut set = ClaimSet::new();
        set.add("sub", strings(&["u1"]));
        set.add("role", strings(&["a", "b"]));
        assert_eq!(Value::Object(set.to_json()), json!({"sub": "u1", "role": ["a", "b"]}));
    }

    #[test]
    fn add_appends_without_duplicates_and_never_keeps_an_empty_claim() {
        let mut set = ClaimSet::new();
        set.add("role", strings(&["a", "b"]));
        set.add("role", strings(&["b", "c"]));
        assert_eq!(set.get("role"), Some(&strings(&["a", "b", "c"])[..]));
        set.add("none", Vec::new());
        assert!(!set.contains("none"));
    }

    #[test]
    fn replace_keeps_position_and_empty_replace_removes() {
        let mut set = ClaimSet::new();
        set.add("a", strings(&["1"]));
        set.add("b", strings(&["2"]));
        set.replace("a", strings(&["3", "3"]));
        let names: Vec<&str> = set.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(set.get("a"), Some(&strings(&["3"])[..]));
        set.replace("a", Vec::new());
        assert!(!set.contains("a"));
        assert_eq!(set.remove("b"), Some(strings(&["2"])));
        assert!(set.is_empty());
    }
}
