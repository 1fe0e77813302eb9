//! What an app adds to its tokens: fixed claims and claim transforms, filtered by the
//! issued-claims list, never touching the protocol claims ferrid sets itself.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ClaimSet, ClaimTransform, CompiledTransforms};

/// Claims ferrid sets on an access token and that no configuration may set (RFC 9068
/// §2.2, RFC 7519 §4.1).
pub const PROTECTED: [&str; 10] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "cnf"];

pub fn is_protected(claim: &str) -> bool {
    PROTECTED.contains(&claim)
}

/// A fixed claim with its values (one value is issued as a string, more as an array).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedClaim {
    pub claim: String,
    pub values: Vec<String>,
}

/// Which claims of the fixed claims and transforms reach the token: `*` = all.
pub fn default_issued() -> Vec<String> {
    vec!["*".to_owned()]
}

/// An app's claim configuration, ready for the hot path.
pub struct ClaimPlan {
    fixed: ClaimSet,
    transforms: CompiledTransforms,
    issued_all: bool,
    issued: Vec<String>,
    /// The JSON members to append when there is no transform: the same for every token.
    static_members: Option<String>,
}

impl ClaimPlan {
    /// `None` when the app adds nothing (the common case costs nothing per token).
    pub fn build(fixed: &[FixedClaim], transforms: &[ClaimTransform], issued: &[String]) -> Option<ClaimPlan> {
        if fixed.is_empty() && transforms.is_empty() {
            return None;
        }
        let mut set = ClaimSet::new();
        for c in fixed {
            set.add(&c.claim, c.values.iter().cloned());
        }
        let transforms = CompiledTransforms::compile(transforms.to_vec()).unwrap_or_else(|errors| {
            tracing::error!(?errors, "stored claim transforms do not compile; they are skipped");
            CompiledTransforms::default()
        });
        let mut plan = ClaimPlan {
            fixed: set,
            transforms,
            issued_all: issued.iter().any(|i| i == "*"),
            issued: issued.to_vec(),
            static_members: None,
        };
        if plan.transforms.is_empty() {
            plan.static_members = Some(plan.render(&plan.fixed, &[]));
        }
        Some(plan)
    }

    fn issues(&self, claim: &str) -> bool {
        !is_protected(claim) && (self.issued_all || self.issued.iter().any(|i| i == claim))
    }

    /// `"a":"x","b":["y","z"]` for the claims of `set` that are issued and not `inputs`.
    fn render(&self, set: &ClaimSet, inputs: &[&str]) -> String {
        let mut out = Map::new();
        for (name, values) in set.iter().filter(|(n, _)| self.issues(n) && !inputs.contains(n)) {
            let v = match values {
                [one] => Value::String(one.clone()),
                many => Value::Array(many.iter().cloned().map(Value::String).collect()),
            };
            out.insert(name.to_owned(), v);
        }
        let json = Value::Object(out).to_string();
        json[1..json.len() - 1].to_owned()
    }

    /// The JSON members this app adds to a token whose protocol claims are `protocol`
    /// (`client_id`, `sub`, `scope`, `aud`, … as transform inputs), and the subject when
    /// a transform changed `sub` (docs/model.md "Claim transforms": a transform may replace `sub`).
    pub fn members(&self, protocol: &[(&str, Vec<String>)]) -> Members {
        if let Some(s) = &self.static_members {
            return Members { json: s.clone(), sub: None };
        }
        let mut set = ClaimSet::new();
        for (name, values) in protocol {
            set.add(name, values.iter().cloned());
        }
        for (name, values) in self.fixed.iter() {
            set.add(name, values.iter().cloned());
        }
        self.transforms.apply(&mut set);
        let given = protocol.iter().find(|(n, _)| *n == "sub").and_then(|(_, v)| v.first());
        // a transform that removed `sub` leaves the default: a token always has a subject
        let sub = set.first("sub").filter(|s| Some(*s) != given.map(String::as_str)).map(str::to_owned);
        let inputs: Vec<&str> = protocol.iter().map(|(n, _)| *n).collect();
        Members { json: self.render(&set, &inputs), sub }
    }
}

/// What an app's claim plan adds to one token.
#[derive(Debug, PartialEq, Eq)]
pub struct Members {
    /// JSON members to append (`"a":"x","b":["y"]`), never a protocol claim.
    pub json: String,
    /// The subject a transform set, when it differs from the default.
    pub sub: Option<String>,
}

/// Appends `members` (`"a":1,…`) to a serialized JSON object.
pub fn splice(object: &mut Vec<u8>, members: &str) {
    if members.is_empty() || object.last() != Some(&b'}') {
        return;
    }
    object.pop();
    if object.len() > 1 {
        object.push(b',');
    }
    object.extend_from_slice(members.as_bytes());
    object.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(c: &str, v: &[&str]) -> FixedClaim {
        FixedClaim { claim: c.into(), values: v.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn an_app_without_claims_has_no_plan() {
        assert!(ClaimPlan::build(&[], &[], &default_issued()).is_none());
    }

    #[test]
    fn fixed_claims_render_once_as_string_or_array() {
        let p =
            ClaimPlan::build(&[fixed("role", &["orders.reader"]), fixed("tags", &["a", "b"])], &[], &default_issued())
                .unwrap();
        assert_eq!(p.members(&[]).json, r#""role":"orders.reader","tags":["a","b"]"#);
    }

    #[test]
    fn the_issued_list_filters() {
        let p = ClaimPlan::build(&[fixed("role", &["r"]), fixed("x", &["y"])], &[], &["role".into()]).unwrap();
        assert_eq!(p.members(&[]).json, r#""role":"r""#);
    }

    #[test]
    fn transforms_see_protocol_claims_but_cannot_set_them() {
        let t: Vec<ClaimTransform> = serde_json::from_value(serde_json::json!([
            { "order": 1, "type": "map", "action": "add", "claims_in": ["client_id"], "claim_out": "svc" },
        ]))
        .unwrap();
        let p = ClaimPlan::build(&[], &t, &default_issued()).unwrap();
        let m = p.members(&[("client_id", vec!["c1".into()]), ("iss", vec!["https://real".into()])]);
        assert_eq!(m.json, r#""svc":"c1""#);
        assert_eq!(m.sub, None);
        let evil: Vec<ClaimTransform> = serde_json::from_value(serde_json::json!([
            { "order": 2, "type": "constant", "action": "replace", "claim_out": "iss", "transformation": "evil" },
        ]))
        .unwrap();
        let errors = CompiledTransforms::compile(evil).expect_err("iss is ferrid's");
        assert_eq!(errors[0].0, "claim_transforms[0].claim_out");
    }

    #[test]
    fn a_transform_may_replace_sub() {
        let t: Vec<ClaimTransform> = serde_json::from_value(serde_json::json!([
            { "order": 1, "type": "concatenate", "action": "replace", "claims_in": ["client_id"],
              "claim_out": "sub", "transformation": "svc:{0}" },
        ]))
        .unwrap();
        let p = ClaimPlan::build(&[], &t, &default_issued()).unwrap();
        let m = p.members(&[("client_id", vec!["c1".into()]), ("sub", vec!["c1".into()])]);
        assert_eq!(m, Members { json: String::new(), sub: Some("svc:c1".into()) });
    }

    #[test]
    fn splice_appends_members() {
        let mut o = br#"{"a":1}"#.to_vec();
        splice(&mut o, r#""b":"c""#);
        assert_eq!(o, br#"{"a":1,"b":"c"}"#);
        let mut o = b"{}".to_vec();
        splice(&mut o, r#""b":"c""#);
        assert_eq!(o, br#"{"b":"c"}"#);
    }
}
