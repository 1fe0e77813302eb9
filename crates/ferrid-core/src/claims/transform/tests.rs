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
