//! How a compiled transform runs on a claim set: the value a rule produces, and how an
//! action (`add`, `replace`, `add_if_not`, …) puts it into the output claim.

use regex::Regex;

use super::{SINGLE_VALUED, TransformAction};
use crate::claims::ClaimSet;

/// A transform checked and ready to run: regexes and format strings parsed once.
#[derive(Debug, Clone)]
pub(in crate::claims) struct Step {
    pub(in crate::claims) order: i32,
    pub(in crate::claims) action: TransformAction,
    pub(in crate::claims) claim_out: String,
    pub(in crate::claims) rule: Rule,
}

#[derive(Debug, Clone)]
pub(in crate::claims) enum Rule {
    Constant {
        value: String,
    },
    MatchClaim {
        claim_in: String,
        output: String,
    },
    Match {
        claim_in: String,
        value: String,
        output: String,
    },
    RegexMatch {
        claim_in: String,
        regex: Regex,
        output: String,
    },
    Map {
        claim_in: String,
    },
    RegexMap {
        claim_in: String,
        regex: Regex,
    },
    Concatenate {
        claims_in: Vec<String>,
        format: Vec<Piece>,
    },
    /// `remove` (FoxIDs' shape): what to take out of `claim_out`. `match_claim` removes
    /// the claim, `match` the values equal to `transformation`, `regex_match` the values
    /// the regex matches; other values stay.
    RemoveClaim,
    RemoveValue {
        value: String,
    },
    RemoveMatching {
        regex: Regex,
    },
}

/// A piece of a `concatenate` format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::claims) enum Piece {
    Text(String),
    /// `{i}`: the first value of `claims_in[i]`.
    Claim(usize),
}

impl Rule {
    /// The values the transform produces when it matches; `None` when it does not.
    /// A match always produces at least one value.
    fn evaluate(&self, claims: &ClaimSet) -> Option<Vec<String>> {
        match self {
            Rule::Constant { value } => Some(vec![value.clone()]),
            Rule::MatchClaim { claim_in, output } => claims.contains(claim_in).then(|| vec![output.clone()]),
            Rule::Match { claim_in, value, output } => {
                let values = claims.get(claim_in)?;
                values.contains(value).then(|| vec![output.clone()])
            }
            Rule::RegexMatch { claim_in, regex, output } => {
                let values = claims.get(claim_in)?;
                values.iter().any(|v| regex.is_match(v)).then(|| vec![output.clone()])
            }
            Rule::Map { claim_in } => claims.get(claim_in).map(<[String]>::to_vec),
            Rule::RegexMap { claim_in, regex } => {
                let mapped: Vec<String> = (claims.get(claim_in)?.iter())
                    .filter_map(|v| regex.captures(v)?.name("map"))
                    .map(|m| m.as_str())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                (!mapped.is_empty()).then_some(mapped)
            }
            Rule::Concatenate { claims_in, format } => {
                let mut out = String::new();
                for piece in format {
                    match piece {
                        Piece::Text(text) => out.push_str(text),
                        Piece::Claim(i) => out.push_str(claims.first(&claims_in[*i])?),
                    }
                }
                Some(vec![out])
            }
            Rule::RemoveClaim | Rule::RemoveValue { .. } | Rule::RemoveMatching { .. } => None,
        }
    }

    /// Takes what a `remove` rule names out of `claims[out]`.
    fn remove_from(&self, claims: &mut ClaimSet, out: &str) {
        let keep: fn(&Rule, &str) -> bool = |rule, v| match rule {
            Rule::RemoveValue { value } => v != value,
            Rule::RemoveMatching { regex } => !regex.is_match(v),
            _ => false,
        };
        if matches!(self, Rule::RemoveClaim) {
            claims.remove(out);
            return;
        }
        let Some(values) = claims.get(out) else { return };
        if values.iter().all(|v| keep(self, v)) {
            return;
        }
        let kept: Vec<String> = values.iter().filter(|v| keep(self, v)).cloned().collect();
        claims.replace(out, kept); // no values left removes the claim
    }

    /// The value `add_if_not` and `replace_if_not` use: the value the transform would
    /// produce had it matched.
    fn fixed_output(&self) -> Option<&str> {
        match self {
            Rule::MatchClaim { output, .. } | Rule::Match { output, .. } | Rule::RegexMatch { output, .. } => {
                Some(output)
            }
            _ => None,
        }
    }
}

impl Step {
    pub(super) fn run(&self, claims: &mut ClaimSet) {
        let out = self.claim_out.as_str();
        if self.action == TransformAction::AddIfNotOut && claims.contains(out) {
            return; // nothing to do: skip the (regex) work
        }
        if self.action == TransformAction::Remove {
            self.rule.remove_from(claims, out);
            return;
        }
        let outcome = self.rule.evaluate(claims);
        match (self.action, outcome) {
            (TransformAction::Add, Some(values)) => put(claims, out, values, false),
            (TransformAction::Replace, Some(values)) => put(claims, out, values, true),
            (TransformAction::AddIfNot, None) => self.put_fixed(claims, false),
            (TransformAction::ReplaceIfNot, None) => self.put_fixed(claims, true),
            (TransformAction::AddIfNotOut, Some(values)) => put(claims, out, values, false),
            _ => {}
        }
    }

    fn put_fixed(&self, claims: &mut ClaimSet, replace: bool) {
        if let Some(value) = self.rule.fixed_output() {
            put(claims, &self.claim_out, vec![value.to_owned()], replace);
        }
    }
}

/// Adds or replaces; a single-valued protocol claim is always replaced and keeps only
/// the first value (`amr`, an array by definition, keeps them all).
fn put(claims: &mut ClaimSet, out: &str, mut values: Vec<String>, replace: bool) {
    if SINGLE_VALUED.contains(&out) {
        if out != "amr" {
            values.truncate(1);
        }
        claims.replace(out, values);
    } else if replace {
        claims.replace(out, values);
    } else {
        claims.add(out, values);
    }
}
