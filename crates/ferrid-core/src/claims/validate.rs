//! Claim transforms read from JSON and checked, every bad field named by its path
//! (`claim_transforms[2].transformation`), all errors at once.

use serde_json::{Map, Value};

use super::FieldErrors;
use super::compile::{MAX_TRANSFORMS, check_names, err, step, too_many};
use super::transform::{ClaimTransform, TransformAction, TransformKind};

const FIELDS: [&str; 7] =
    ["order", "type", "action", "claims_in", "claim_out", "transformation", "transformation_extension"];

/// Reads the JSON array at `field` into transforms, checking everything
/// [`CompiledTransforms::compile`](super::CompiledTransforms::compile) checks.
pub fn parse_transforms(value: &Value, field: &str) -> Result<Vec<ClaimTransform>, FieldErrors> {
    let Value::Array(items) = value else {
        return Err(vec![(field.to_owned(), "must be an array".to_owned())]);
    };
    if items.len() > MAX_TRANSFORMS {
        return Err(vec![(field.to_owned(), too_many(items.len()))]);
    }
    let mut errors = Vec::new();
    let mut transforms = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        if let Some(t) = parse_one(item, &path, &mut errors) {
            step(&t, &path, &mut errors);
            transforms.push(t);
        }
    }
    if errors.is_empty() { Ok(transforms) } else { Err(errors) }
}

/// The JSON shape of one transform; the rules that depend on its type come after, in
/// `compile::step`.
fn parse_one(item: &Value, path: &str, errors: &mut FieldErrors) -> Option<ClaimTransform> {
    let Value::Object(obj) = item else {
        err(errors, path, "", "must be an object");
        return None;
    };
    for key in obj.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        err(errors, path, key, "is not a known field");
    }
    let order = parse_order(obj, path, errors);
    let kind = parse_name(obj, "type", path, errors, &TransformKind::ALL, TransformKind::as_str);
    let action = parse_name(obj, "action", path, errors, &TransformAction::ALL, |a| a.as_str());
    let claims_in = parse_claims_in(obj, path, errors);
    let claim_out = string(obj, "claim_out", true, path, errors);
    let before = errors.len();
    let transformation = string(obj, "transformation", false, path, errors);
    let transformation_extension = string(obj, "transformation_extension", false, path, errors);
    let strings_ok = errors.len() == before; // else `step` would call them missing too
    match (order, kind, action, claims_in, claim_out) {
        (Some(order), Some(kind), Some(action), Some(claims_in), Some(claim_out)) if strings_ok => {
            Some(ClaimTransform { order, kind, action, claims_in, claim_out, transformation, transformation_extension })
        }
        (_, _, _, claims_in, claim_out) => {
            check_names(&claims_in.unwrap_or_default(), claim_out.as_deref(), path, errors);
            None
        }
    }
}

fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn parse_order(obj: &Map<String, Value>, path: &str, errors: &mut FieldErrors) -> Option<i32> {
    let Some(v) = present(obj, "order") else {
        err(errors, path, "order", "is required");
        return None;
    };
    let order = v.as_i64().and_then(|n| i32::try_from(n).ok());
    if order.is_none() {
        err(errors, path, "order", "must be an integer (32 bits)");
    }
    order
}

fn parse_name<T: Copy>(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    errors: &mut FieldErrors,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Option<T> {
    match present(obj, key) {
        None => err(errors, path, key, "is required"),
        Some(Value::String(s)) => match all.iter().find(|v| name(**v) == s) {
            Some(v) => return Some(*v),
            None => {
                let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
                err(errors, path, key, format!("must be one of: {}", names.join(", ")));
            }
        },
        Some(_) => err(errors, path, key, "must be a string"),
    }
    None
}

fn parse_claims_in(obj: &Map<String, Value>, path: &str, errors: &mut FieldErrors) -> Option<Vec<String>> {
    let items = match present(obj, "claims_in") {
        None => return Some(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            err(errors, path, "claims_in", "must be an array of claim names");
            return None;
        }
    };
    let mut names = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => names.push(s.clone()),
            _ => err(errors, path, &format!("claims_in[{j}]"), "must be a string"),
        }
    }
    (names.len() == items.len()).then_some(names)
}

fn string(obj: &Map<String, Value>, key: &str, required: bool, path: &str, errors: &mut FieldErrors) -> Option<String> {
    match present(obj, key) {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(_) => err(errors, path, key, "must be a string"),
        None if required => err(errors, path, key, "is required"),
        None => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{CompiledTransforms, compile::MAX_REGEX};
    use serde_json::json;

    const F: &str = "claim_transforms";

    fn ok(v: Value) -> Vec<ClaimTransform> {
        parse_transforms(&v, F).expect("valid")
    }

    fn errors(v: Value) -> FieldErrors {
        parse_transforms(&v, F).expect_err("invalid")
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.iter().map(|(f, _)| f.as_str()).collect()
    }

    fn constant(order: i64) -> Value {
        json!({"order": order, "type": "constant", "action": "add", "claim_out": "c",
            "transformation": "v"})
    }

    #[test]
    fn reads_every_type_with_what_it_needs() {
        let parsed = ok(json!([
            constant(5),
            {"order": 1, "type": "match_claim", "action": "add_if_not", "claims_in": ["a"],
                "claim_out": "b", "transformation": "yes"},
            {"order": 2, "type": "match", "action": "replace_if_not", "claims_in": ["a"],
                "claim_out": "b", "transformation": "x", "transformation_extension": "y"},
            {"order": 3, "type": "regex_match", "action": "remove", "claim_out": "b", "transformation": "^x"},
            {"order": 4, "type": "map", "action": "add_if_not_out", "claims_in": ["a"],
                "claim_out": "b", "transformation": null},
            {"order": -1, "type": "regex_map", "action": "replace", "claims_in": ["a"],
                "claim_out": "b", "transformation": "^(?<map>.)"},
            {"order": 0, "type": "concatenate", "action": "add", "claims_in": ["a", "b"],
                "claim_out": "c", "transformation": "{0} {1}"}
        ]));
        let kinds: Vec<TransformKind> = parsed.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [TransformKind::Constant].into_iter().chain(TransformKind::ALL[1..].iter().copied()).collect::<Vec<_>>()
        );
        assert_eq!(parsed[5].order, -1);
        assert_eq!(parsed[4].transformation, None);
        assert_eq!(parsed[2].action, TransformAction::ReplaceIfNot);
    }

    #[test]
    fn must_be_an_array_of_objects() {
        assert_eq!(errors(json!({"order": 1})), [(F.to_owned(), "must be an array".to_owned())]);
        assert_eq!(fields(&errors(json!([constant(1), 7]))), ["claim_transforms[1]"]);
        assert!(ok(json!([])).is_empty());
    }

    #[test]
    fn more_than_100_transforms_are_refused() {
        let hundred: Vec<Value> = (0..100).map(constant).collect();
        assert_eq!(ok(Value::Array(hundred.clone())).len(), 100);
        let mut too_many = hundred;
        too_many.push(constant(100));
        let errs = errors(Value::Array(too_many));
        assert_eq!(errs, [(F.to_owned(), "must hold at most 100 transforms (has 101)".to_owned())]);
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let mut t = constant(1);
        t["colour"] = json!("red");
        t["claimOut"] = json!("x");
        let errs = errors(json!([t]));
        let mut named = fields(&errs);
        named.sort_unstable();
        assert_eq!(named, ["claim_transforms[0].claimOut", "claim_transforms[0].colour"]);
        assert!(errs.iter().all(|(_, m)| m == "is not a known field"));
    }

    #[test]
    fn unknown_type_and_action_are_refused_with_the_allowed_names() {
        let errs = errors(json!([{"order": 1, "type": "lookup", "action": "append",
            "claim_out": "c"}]));
        assert_eq!(fields(&errs), ["claim_transforms[0].type", "claim_transforms[0].action"]);
        assert!(errs[0].1.contains("constant, match_claim, match, regex_match, map, regex_map"));
        assert!(errs[1].1.contains("add, replace, add_if_not, replace_if_not, add_if_not_out"));
    }

    #[test]
    fn regex_errors_name_the_transformation_of_the_right_transform() {
        let long = format!("^{}$", "a".repeat(MAX_REGEX));
        let errs = errors(json!([
            constant(1),
            constant(2),
            {"order": 3, "type": "regex_match", "action": "add", "claims_in": ["a"],
                "claim_out": "b", "transformation": "(a", "transformation_extension": "y"},
            {"order": 4, "type": "regex_match", "action": "add", "claims_in": ["a"],
                "claim_out": "b", "transformation": long, "transformation_extension": "y"},
            {"order": 5, "type": "regex_map", "action": "add", "claims_in": ["a"],
                "claim_out": "b", "transformation": "^(?<name>.+)$"}
        ]));
        assert_eq!(
            fields(&errs),
            [
                "claim_transforms[2].transformation",
                "claim_transforms[3].transformation",
                "claim_transforms[4].transformation"
            ]
        );
        assert_eq!(errs[0].1, "is not a valid regular expression: unclosed group");
        assert_eq!(errs[1].1, "must be at most 1000 characters");
        assert!(errs[2].1.contains("group named `map`"), "{}", errs[2].1);
    }

    #[test]
    fn order_must_be_a_32_bit_integer() {
        let cases = [json!(1.5), json!("1"), json!(1_i64 << 40), Value::Null];
        for order in cases {
            let mut t = constant(1);
            t["order"] = order.clone();
            assert_eq!(fields(&errors(json!([t]))), ["claim_transforms[0].order"], "{order}");
        }
    }

    #[test]
    fn claim_out_is_required_non_empty_and_at_most_100_characters() {
        for (out, want) in [
            (Value::Null, "is required"),
            (json!(""), "must not be empty"),
            (json!("x".repeat(101)), "must be at most 100 characters"),
            (json!(["x"]), "must be a string"),
        ] {
            let mut t = constant(1);
            t["claim_out"] = out;
            let errs = errors(json!([t]));
            assert_eq!(errs, [("claim_transforms[0].claim_out".to_owned(), want.to_owned())]);
        }
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let errs = errors(json!([
            {"order": "x", "type": "match", "action": "add", "claims_in": [1, ""],
                "claim_out": "", "transformation": 3, "extra": true},
            {"order": 1, "type": "map", "action": "add_if_not", "claim_out": "c"},
            {"order": 2, "type": "nope", "action": "add", "claims_in": [""], "claim_out": ""}
        ]));
        assert_eq!(
            fields(&errs),
            [
                "claim_transforms[0].extra",
                "claim_transforms[0].order",
                "claim_transforms[0].claims_in[0]",
                "claim_transforms[0].transformation",
                "claim_transforms[0].claim_out",
                "claim_transforms[1].claims_in",
                "claim_transforms[1].action",
                "claim_transforms[2].type",
                "claim_transforms[2].claims_in[0]",
                "claim_transforms[2].claim_out",
            ]
        );
    }

    #[test]
    fn a_wrongly_typed_field_is_reported_once() {
        let mut t = constant(1);
        t["transformation"] = json!(3);
        t["extra"] = json!(1);
        let errs = errors(json!([t]));
        let want = [
            ("claim_transforms[0].extra".to_owned(), "is not a known field".to_owned()),
            ("claim_transforms[0].transformation".to_owned(), "must be a string".to_owned()),
        ];
        assert_eq!(errs, want);
    }

    #[test]
    fn type_rules_are_checked_beside_unknown_fields() {
        let errs = errors(json!([{"order": 1, "type": "map", "action": "add", "claim_out": "c", "x": 1}]));
        assert_eq!(fields(&errs), ["claim_transforms[0].x", "claim_transforms[0].claims_in"]);
    }

    #[test]
    fn parsed_transforms_compile_and_serialize_back() {
        let input = json!([{"order": 1, "type": "regex_map", "action": "replace",
            "claims_in": ["sub"], "claim_out": "sub", "transformation": "^(nemlogin\\|)(?<map>.+)$"}]);
        let parsed = ok(input.clone());
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), input);
        assert!(CompiledTransforms::compile(parsed).is_ok());
    }
}
