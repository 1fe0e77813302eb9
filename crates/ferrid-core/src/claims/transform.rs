//! Claim transforms as configured ([`ClaimTransform`]) and as run ([`CompiledTransforms`]).

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{ClaimSet, FieldErrors, compile};

/// One claim transform of an app registration, as the management API reads and writes it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimTransform {
    pub order: i32,
    #[serde(rename = "type")]
    pub kind: TransformKind,
    pub action: TransformAction,
    #[serde(default)]
    pub claims_in: Vec<String>,
    pub claim_out: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation_extension: Option<String>,
}

/// What a transform matches and which values it produces.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformKind {
    Constant,
    MatchClaim,
    Match,
    RegexMatch,
    Map,
    RegexMap,
    Concatenate,
}

/// What a transform does to `claim_out`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformAction {
    Add,
    Replace,
    AddIfNot,
    ReplaceIfNot,
    AddIfNotOut,
    Remove,
}

impl TransformKind {
    pub const ALL: [TransformKind; 7] = [
        TransformKind::Constant,
        TransformKind::MatchClaim,
        TransformKind::Match,
        TransformKind::RegexMatch,
        TransformKind::Map,
        TransformKind::RegexMap,
        TransformKind::Concatenate,
    ];

    /// The name on the wire (`regex_map`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransformKind::Constant => "constant",
            TransformKind::MatchClaim => "match_claim",
            TransformKind::Match => "match",
            TransformKind::RegexMatch => "regex_match",
            TransformKind::Map => "map",
            TransformKind::RegexMap => "regex_map",
            TransformKind::Concatenate => "concatenate",
        }
    }

    /// Whether the type has a fixed output value, needed by `add_if_not`/`replace_if_not`.
    pub fn has_fixed_output(self) -> bool {
        matches!(self, TransformKind::MatchClaim | TransformKind::Match | TransformKind::RegexMatch)
    }
}

impl TransformAction {
    pub const ALL: [TransformAction; 6] = [
        TransformAction::Add,
        TransformAction::Replace,
        TransformAction::AddIfNot,
        TransformAction::ReplaceIfNot,
        TransformAction::AddIfNotOut,
        TransformAction::Remove,
    ];

    /// The name on the wire (`add_if_not_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransformAction::Add => "add",
            TransformAction::Replace => "replace",
            TransformAction::AddIfNot => "add_if_not",
            TransformAction::ReplaceIfNot => "replace_if_not",
            TransformAction::AddIfNotOut => "add_if_not_out",
            TransformAction::Remove => "remove",
        }
    }
}

/// Protocol claims that hold one value: `add` on them acts as `replace`.
pub const SINGLE_VALUED: [&str; 12] =
    ["sub", "sid", "auth_time", "acr", "amr", "exp", "nbf", "iat", "nonce", "azp", "at_hash", "c_hash"];

/// A transform checked and ready to run: regexes and format strings parsed once.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) order: i32,
    pub(super) action: TransformAction,
    pub(super) claim_out: String,
    pub(super) rule: Rule,
}

#[derive(Debug, Clone)]
pub(super) enum Rule {
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
pub(super) enum Piece {
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
    fn run(&self, claims: &mut ClaimSet) {
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

/// The transforms of one app registration, checked, sorted by `order` and with their
/// regexes compiled: build once when the configuration loads, apply on every token.
#[derive(Debug, Clone, Default)]
pub struct CompiledTransforms {
    steps: Vec<Step>,
}

impl CompiledTransforms {
    /// Checks and compiles transforms. Errors name the field as
    /// `claim_transforms[i].field`, `i` being the index in `transforms`.
    pub fn compile(transforms: Vec<ClaimTransform>) -> Result<CompiledTransforms, FieldErrors> {
        const FIELD: &str = "claim_transforms";
        if transforms.len() > compile::MAX_TRANSFORMS {
            return Err(vec![(FIELD.to_owned(), compile::too_many(transforms.len()))]);
        }
        let mut errors = Vec::new();
        let mut steps = Vec::with_capacity(transforms.len());
        for (i, t) in transforms.iter().enumerate() {
            if let Some(step) = compile::step(t, &format!("{FIELD}[{i}]"), &mut errors) {
                steps.push(step);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        steps.sort_by_key(|s| s.order); // stable: equal orders keep their listed order
        Ok(CompiledTransforms { steps })
    }

    /// Runs every transform in ascending `order`, each seeing what the earlier ones did.
    pub fn apply(&self, claims: &mut ClaimSet) {
        if self.steps.is_empty() {
            return;
        }
        for step in &self.steps {
            step.run(claims);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransformAction::*;
    use TransformKind::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn t(order: i32, kind: TransformKind, action: TransformAction, ins: &[&str], out: &str) -> ClaimTransform {
        ClaimTransform {
            order,
            kind,
            action,
            claims_in: s(ins),
            claim_out: out.to_owned(),
            transformation: None,
            transformation_extension: None,
        }
    }

    /// A transform of each type that matches [`claims`] (`email` a@x.org, `role` admin
    /// and user), writing to `out`.
    fn fixture(kind: TransformKind, action: TransformAction) -> ClaimTransform {
        let (ins, tr, ext): (&[&str], _, _) = match kind {
            Constant => (&[], Some("c"), None),
            MatchClaim => (&["email"], Some("has-email"), None),
            Match => (&["role"], Some("admin"), Some("is-admin")),
            RegexMatch => (&["email"], Some(r"@x\.org$"), Some("x-user")),
            Map => (&["role"], None, None),
            RegexMap => (&["email"], Some("^(?<map>[^@]+)@"), None),
            Concatenate => (&["email", "role"], Some("{0}/{1}"), None),
        };
        ClaimTransform {
            transformation: tr.map(str::to_owned),
            transformation_extension: ext.map(str::to_owned),
            ..t(1, kind, action, ins, "out")
        }
    }

    /// `Hit`: the inputs are there; `Miss`: they are not; `out` holds `old` unless `NoOut`.
    #[derive(Clone, Copy)]
    enum Input {
        Hit,
        HitNoOut,
        Miss,
    }

    fn claims(input: Input) -> ClaimSet {
        let mut set = ClaimSet::new();
        if !matches!(input, Input::Miss) {
            set.add("email", s(&["a@x.org"]));
            set.add("role", s(&["admin", "user"]));
        }
        if !matches!(input, Input::HitNoOut) {
            set.add("out", s(&["old"]));
        }
        set
    }

    fn out_after(kind: TransformKind, action: TransformAction, input: Input) -> Option<Vec<String>> {
        let compiled = CompiledTransforms::compile(vec![fixture(kind, action)]).expect("valid");
        let mut set = claims(input);
        compiled.apply(&mut set);
        set.get("out").map(<[String]>::to_vec)
    }

    /// One test per meaningful type × action × input: `name: type action input => out`.
    macro_rules! table {
        ($($name:ident: $kind:ident $action:ident $input:ident => $($v:literal)*;)*) => {$(
            #[test]
            fn $name() {
                let want: &[&str] = &[$($v),*];
                let want = (!want.is_empty()).then(|| s(want));
                assert_eq!(out_after($kind, $action, Input::$input), want);
            }
        )*};
    }

    table! {
        constant_add_appends_the_constant: Constant Add Hit => "old" "c";
        constant_replace_sets_the_constant: Constant Replace Hit => "c";
        constant_add_if_not_out_keeps_an_existing_out: Constant AddIfNotOut Hit => "old";
        constant_add_if_not_out_adds_a_missing_out: Constant AddIfNotOut HitNoOut => "c";
        match_claim_add_appends_when_the_claim_exists: MatchClaim Add Hit => "old" "has-email";
        match_claim_add_does_nothing_when_it_is_missing: MatchClaim Add Miss => "old";
        match_claim_replace_sets_when_the_claim_exists: MatchClaim Replace Hit => "has-email";
        match_claim_replace_does_nothing_when_it_is_missing: MatchClaim Replace Miss => "old";
        match_claim_add_if_not_does_nothing_when_it_exists: MatchClaim AddIfNot Hit => "old";
        match_claim_add_if_not_appends_when_it_is_missing: MatchClaim AddIfNot Miss => "old" "has-email";
        match_claim_replace_if_not_does_nothing_when_it_exists: MatchClaim ReplaceIfNot Hit => "old";
        match_claim_replace_if_not_sets_when_it_is_missing: MatchClaim ReplaceIfNot Miss => "has-email";
        match_claim_add_if_not_out_keeps_an_existing_out: MatchClaim AddIfNotOut Hit => "old";
        match_claim_add_if_not_out_adds_a_missing_out: MatchClaim AddIfNotOut HitNoOut => "has-email";
        match_add_appends_when_a_value_equals: Match Add Hit => "old" "is-admin";
        match_add_does_nothing_without_the_value: Match Add Miss => "old";
        match_replace_sets_when_a_value_equals: Match Replace Hit => "is-admin";
        match_replace_does_nothing_without_the_value: Match Replace Miss => "old";
        match_add_if_not_does_nothing_when_a_value_equals: Match AddIfNot Hit => "old";
        match_add_if_not_appends_without_the_value: Match AddIfNot Miss => "old" "is-admin";
        match_replace_if_not_does_nothing_when_a_value_equals: Match ReplaceIfNot Hit => "old";
        match_replace_if_not_sets_without_the_value: Match ReplaceIfNot Miss => "is-admin";
        match_add_if_not_out_keeps_an_existing_out: Match AddIfNotOut Hit => "old";
        match_add_if_not_out_adds_a_missing_out: Match AddIfNotOut HitNoOut => "is-admin";
        regex_match_add_appends_when_a_value_matches: RegexMatch Add Hit => "old" "x-user";
        regex_match_add_does_nothing_without_a_match: RegexMatch Add Miss => "old";
        regex_match_replace_sets_when_a_value_matches: RegexMatch Replace Hit => "x-user";
        regex_match_replace_does_nothing_without_a_match: RegexMatch Replace Miss => "old";
        regex_match_add_if_not_does_nothing_on_a_match: RegexMatch AddIfNot Hit => "old";
        regex_match_add_if_not_appends_without_a_match: RegexMatch AddIfNot Miss => "old" "x-user";
        regex_match_replace_if_not_does_nothing_on_a_match: RegexMatch ReplaceIfNot Hit => "old";
        regex_match_replace_if_not_sets_without_a_match: RegexMatch ReplaceIfNot Miss => "x-user";
        regex_match_add_if_not_out_keeps_an_existing_out: RegexMatch AddIfNotOut Hit => "old";
        regex_match_add_if_not_out_adds_a_missing_out: RegexMatch AddIfNotOut HitNoOut => "x-user";
        map_add_appends_every_value: Map Add Hit => "old" "admin" "user";
        map_add_does_nothing_when_the_claim_is_missing: Map Add Miss => "old";
        map_replace_sets_every_value: Map Replace Hit => "admin" "user";
        map_replace_does_nothing_when_the_claim_is_missing: Map Replace Miss => "old";
        map_add_if_not_out_keeps_an_existing_out: Map AddIfNotOut Hit => "old";
        map_add_if_not_out_adds_a_missing_out: Map AddIfNotOut HitNoOut => "admin" "user";
        regex_map_add_appends_the_map_group: RegexMap Add Hit => "old" "a";
        regex_map_add_does_nothing_without_a_match: RegexMap Add Miss => "old";
        regex_map_replace_sets_the_map_group: RegexMap Replace Hit => "a";
        regex_map_replace_does_nothing_without_a_match: RegexMap Replace Miss => "old";
        regex_map_add_if_not_out_keeps_an_existing_out: RegexMap AddIfNotOut Hit => "old";
        regex_map_add_if_not_out_adds_a_missing_out: RegexMap AddIfNotOut HitNoOut => "a";
        concatenate_add_appends_the_formatted_value: Concatenate Add Hit => "old" "a@x.org/admin";
        concatenate_add_does_nothing_when_a_claim_is_missing: Concatenate Add Miss => "old";
        concatenate_replace_sets_the_formatted_value: Concatenate Replace Hit => "a@x.org/admin";
        concatenate_replace_does_nothing_when_a_claim_is_missing: Concatenate Replace Miss => "old";
        concatenate_add_if_not_out_keeps_an_existing_out: Concatenate AddIfNotOut Hit => "old";
        concatenate_add_if_not_out_adds_a_missing_out: Concatenate AddIfNotOut HitNoOut => "a@x.org/admin";
    }

    fn remove(kind: TransformKind, tr: Option<&str>) -> ClaimTransform {
        ClaimTransform { transformation: tr.map(str::to_owned), ..t(1, kind, Remove, &[], "role") }
    }

    fn roles_after(transform: ClaimTransform) -> Option<Vec<String>> {
        let mut set = claims(Input::Hit);
        run(vec![transform], &mut set);
        set.get("role").map(<[String]>::to_vec)
    }

    #[test]
    fn remove_in_foxids_shape_takes_out_only_what_it_names() {
        // match_claim: the whole claim
        assert_eq!(roles_after(remove(MatchClaim, None)), None);
        // match: one value of a multi-valued claim, the others stay
        assert_eq!(roles_after(remove(Match, Some("admin"))), Some(s(&["user"])));
        assert_eq!(roles_after(remove(Match, Some("nobody"))), Some(s(&["admin", "user"])));
        // regex_match: every value it matches
        assert_eq!(roles_after(remove(RegexMatch, Some("^us"))), Some(s(&["admin"])));
        assert_eq!(roles_after(remove(RegexMatch, Some("."))), None);
    }

    #[test]
    fn remove_is_refused_with_fields_it_does_not_use_or_on_other_types() {
        let mut with_in = remove(Match, Some("admin"));
        with_in.claims_in = s(&["role"]);
        let errors = CompiledTransforms::compile(vec![with_in]).expect_err("claims_in unused by remove");
        assert_eq!(errors[0].0, "claim_transforms[0].claims_in");
        let mut with_ext = remove(RegexMatch, Some("a"));
        with_ext.transformation_extension = Some("x".into());
        let errors = CompiledTransforms::compile(vec![with_ext]).expect_err("extension unused by remove");
        assert_eq!(errors[0].0, "claim_transforms[0].transformation_extension");
        let errors = CompiledTransforms::compile(vec![remove(Match, None)]).expect_err("the value is needed");
        assert_eq!(errors[0].0, "claim_transforms[0].transformation");
        for kind in [Constant, Map, RegexMap, Concatenate] {
            let errors = CompiledTransforms::compile(vec![fixture(kind, Remove)]).expect_err("not for this type");
            assert_eq!(errors[0].0, "claim_transforms[0].action", "{kind:?}");
        }
    }

    #[test]
    fn if_not_actions_are_refused_for_types_without_a_fixed_value() {
        for kind in TransformKind::ALL {
            for action in [AddIfNot, ReplaceIfNot] {
                let result = CompiledTransforms::compile(vec![fixture(kind, action)]);
                assert_eq!(result.is_ok(), kind.has_fixed_output(), "{kind:?} {action:?}");
                if let Err(errors) = result {
                    assert_eq!(errors[0].0, "claim_transforms[0].action");
                }
            }
        }
    }

    fn run(transforms: Vec<ClaimTransform>, set: &mut ClaimSet) {
        CompiledTransforms::compile(transforms).expect("valid").apply(set);
    }

    fn constant(order: i32, action: TransformAction, out: &str, value: &str) -> ClaimTransform {
        let mut c = t(order, Constant, action, &[], out);
        c.transformation = Some(value.to_owned());
        c
    }

    #[test]
    fn transforms_apply_in_ascending_order_stably() {
        let mut set = ClaimSet::new();
        let transforms =
            vec![constant(2, Replace, "x", "second"), constant(1, Add, "x", "first"), constant(2, Add, "x", "third")];
        run(transforms, &mut set);
        assert_eq!(set.get("x"), Some(&s(&["second", "third"])[..]));
    }

    #[test]
    fn a_transform_output_feeds_a_later_transform() {
        let mut set = ClaimSet::new();
        let mut copy = t(2, Map, Add, &["tmp"], "final");
        copy.claims_in = s(&["tmp"]);
        run(vec![copy, constant(1, Add, "tmp", "v")], &mut set);
        assert_eq!(set.first("final"), Some("v"));
    }

    #[test]
    fn add_on_sub_replaces_and_keeps_one_value() {
        let mut set = ClaimSet::new();
        set.add("sub", s(&["user-1"]));
        set.add("role", s(&["a", "b"]));
        run(vec![t(1, Map, Add, &["role"], "sub")], &mut set);
        assert_eq!(set.get("sub"), Some(&s(&["a"])[..]));
        run(vec![t(1, Map, Add, &["role"], "amr")], &mut set);
        assert_eq!(set.get("amr"), Some(&s(&["a", "b"])[..]));
    }

    #[test]
    fn regex_map_outputs_the_named_group_of_each_matching_value() {
        let mut set = ClaimSet::new();
        set.add("name", s(&["Ada Lovelace", "Plato", "Alan Turing"]));
        let mut family = t(1, RegexMap, Add, &["name"], "family_name");
        family.transformation = Some(r"^\S+\s(?<map>\S+)$".to_owned());
        run(vec![family], &mut set);
        assert_eq!(set.get("family_name"), Some(&s(&["Lovelace", "Turing"])[..]));
    }

    #[test]
    fn regex_map_produces_nothing_from_an_empty_group() {
        let mut set = ClaimSet::new();
        set.add("email", s(&["@x.org"]));
        let mut local = t(1, RegexMap, Add, &["email"], "local");
        local.transformation = Some("^(?<map>[^@]*)@".to_owned());
        run(vec![local], &mut set);
        assert!(!set.contains("local"));
    }

    #[test]
    fn concatenate_fills_placeholders_with_first_values_and_keeps_braces() {
        let mut set = ClaimSet::new();
        set.add("given", s(&["Ada", "Augusta"]));
        set.add("family", s(&["Lovelace"]));
        let mut cat = t(1, Concatenate, Add, &["given", "family"], "name");
        cat.transformation = Some("{1}, {0} {{x}}".to_owned());
        run(vec![cat], &mut set);
        assert_eq!(set.first("name"), Some("Lovelace, Ada {x}"));
    }

    #[test]
    fn nested_quantifier_regex_runs_in_linear_time() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut set = ClaimSet::new();
            set.add("x", [format!("{}!", "a".repeat(200_000))]);
            let mut evil = t(1, RegexMatch, Add, &["x"], "hit");
            evil.transformation = Some("^(a+)+$".to_owned());
            evil.transformation_extension = Some("yes".to_owned());
            run(vec![evil], &mut set);
            tx.send(set.contains("hit")).ok();
        });
        let hit = rx.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(hit, Ok(false), "a backtracking engine would not finish");
    }

    #[test]
    fn no_transforms_leave_the_claims_untouched() {
        let compiled = CompiledTransforms::compile(Vec::new()).expect("valid");
        assert!(compiled.is_empty());
        let mut set = claims(Input::Hit);
        compiled.apply(&mut set);
        assert_eq!(set, claims(Input::Hit));
    }

    #[test]
    fn wire_shape_is_snake_case() {
        let json = serde_json::to_value(fixture(RegexMatch, AddIfNotOut)).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"order": 1, "type": "regex_match", "action": "add_if_not_out",
                "claims_in": ["email"], "claim_out": "out", "transformation": "@x\\.org$",
                "transformation_extension": "x-user"})
        );
        let back: ClaimTransform = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, fixture(RegexMatch, AddIfNotOut));
    }
}
