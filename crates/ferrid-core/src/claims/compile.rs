//! The rules one transform must meet, and its compiled form (`Step`): shared by
//! [`parse_transforms`](super::parse_transforms) and
//! [`CompiledTransforms::compile`](super::CompiledTransforms::compile).

use regex::{Regex, RegexBuilder};

use super::FieldErrors;
use super::transform::{ClaimTransform, Piece, Rule, Step, TransformAction, TransformKind};

/// At most this many transforms per app registration.
pub const MAX_TRANSFORMS: usize = 100;
/// At most this many characters in a claim name.
pub const MAX_CLAIM_NAME: usize = 100;
/// At most this many characters in a regular expression.
pub const MAX_REGEX: usize = 1000;
/// At most this many input claims for `concatenate`.
pub const MAX_CONCATENATE_CLAIMS: usize = 20;
/// Compiled size limits of one regex. 64 KiB refuses ordinary patterns such as
/// `^(?<map>\w+)@(\w+\.)+\w+$` (Unicode `\w` is large), 256 KiB does not.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
const REGEX_DFA_SIZE_LIMIT: usize = 256 * 1024;

pub(super) fn too_many(n: usize) -> String {
    format!("must hold at most {MAX_TRANSFORMS} transforms (has {n})")
}

pub(super) fn err(errors: &mut FieldErrors, path: &str, field: &str, message: impl Into<String>) {
    let at = if field.is_empty() { path.to_owned() } else { format!("{path}.{field}") };
    errors.push((at, message.into()));
}

/// Checks one transform and builds what runs; `None` when anything is wrong.
pub(super) fn step(t: &ClaimTransform, path: &str, errors: &mut FieldErrors) -> Option<Step> {
    let before = errors.len();
    check_names(&t.claims_in, Some(&t.claim_out), path, errors);
    check_out(&t.claim_out, path, errors);
    if t.action == TransformAction::Remove && !t.kind.has_fixed_output() {
        let msg = format!("`remove` works with types match_claim, match and regex_match, not `{}`", t.kind.as_str());
        err(errors, path, "action", msg);
    } else {
        check_fields(t, path, errors);
    }
    if matches!(t.action, TransformAction::AddIfNot | TransformAction::ReplaceIfNot) && !t.kind.has_fixed_output() {
        let msg = format!(
            "`{}` is not supported by type `{}`: it has no value to add when it does not match",
            t.action.as_str(),
            t.kind.as_str()
        );
        err(errors, path, "action", msg);
    }
    let rule = rule(t, path, errors);
    let rule = rule.filter(|_| errors.len() == before)?;
    Some(Step { order: t.order, action: t.action, claim_out: t.claim_out.clone(), rule })
}

pub(super) fn check_names(claims_in: &[String], claim_out: Option<&str>, path: &str, errors: &mut FieldErrors) {
    let named = claims_in.iter().enumerate().map(|(j, n)| (format!("claims_in[{j}]"), n.as_str()));
    let out = claim_out.map(|n| ("claim_out".to_owned(), n));
    for (field, name) in named.chain(out) {
        if name.is_empty() {
            err(errors, path, &field, "must not be empty");
        } else if name.chars().count() > MAX_CLAIM_NAME {
            err(errors, path, &field, format!("must be at most {MAX_CLAIM_NAME} characters"));
        }
    }
}

/// A transform may write `sub` (docs/model.md "Claim transforms"), never another protocol
/// claim ferrid sets itself: such an output would be stored and silently discarded.
fn check_out(out: &str, path: &str, errors: &mut FieldErrors) {
    if out != "sub" && super::issue::is_protected(out) {
        err(
            errors,
            path,
            "claim_out",
            format!("`{out}` is set by ferrid; of the protocol claims only `sub` may be changed"),
        );
    }
}

/// Which fields a transform reads: (claims_in min, max, transformation,
/// transformation_extension). `remove` (FoxIDs' shape) reads only the claim it removes
/// from (`claim_out`) and, for `match` and `regex_match`, the value or regex.
fn needs(kind: TransformKind, action: TransformAction) -> (usize, usize, bool, bool) {
    if action == TransformAction::Remove {
        return (0, 0, kind != TransformKind::MatchClaim, false);
    }
    match kind {
        TransformKind::Constant => (0, 0, true, false),
        TransformKind::MatchClaim | TransformKind::RegexMap => (1, 1, true, false),
        TransformKind::Match | TransformKind::RegexMatch => (1, 1, true, true),
        TransformKind::Map => (1, 1, false, false),
        TransformKind::Concatenate => (1, MAX_CONCATENATE_CLAIMS, true, false),
    }
}

fn check_fields(t: &ClaimTransform, path: &str, errors: &mut FieldErrors) {
    let kind = match t.action {
        TransformAction::Remove => format!("{}` with action `remove", t.kind.as_str()),
        _ => t.kind.as_str().to_owned(),
    };
    let (min, max, transformation, extension) = needs(t.kind, t.action);
    let n = t.claims_in.len();
    let claims_msg = match (min, max) {
        (0, 0) if n > 0 => Some(format!("is not used by type `{kind}`")),
        (1, 1) if n != 1 => Some(format!("must name exactly one claim for type `{kind}`")),
        _ if n < min => Some(format!("must name at least {min} claim for type `{kind}`")),
        _ if n > max => Some(format!("must name at most {max} claims for type `{kind}`")),
        _ => None,
    };
    if let Some(msg) = claims_msg {
        err(errors, path, "claims_in", msg);
    }
    let fields = [
        ("transformation", &t.transformation, transformation),
        ("transformation_extension", &t.transformation_extension, extension),
    ];
    for (field, value, needed) in fields {
        match (value.as_deref(), needed) {
            (None, true) => err(errors, path, field, format!("is required for type `{kind}`")),
            (Some(""), true) => err(errors, path, field, "must not be empty"),
            (Some(v), false) if !v.is_empty() => {
                err(errors, path, field, format!("is not used by type `{kind}`"));
            }
            _ => {}
        }
    }
}

/// Builds the rule; reports only regex and format errors (missing fields are reported by
/// [`check_fields`]).
fn rule(t: &ClaimTransform, path: &str, errors: &mut FieldErrors) -> Option<Rule> {
    let claim_in = t.claims_in.first().cloned();
    let transformation = t.transformation.clone().filter(|s| !s.is_empty());
    let output = t.transformation_extension.clone().filter(|s| !s.is_empty());
    if t.action == TransformAction::Remove {
        return Some(match t.kind {
            TransformKind::MatchClaim => Rule::RemoveClaim,
            TransformKind::Match => Rule::RemoveValue { value: transformation? },
            TransformKind::RegexMatch => {
                Rule::RemoveMatching { regex: report(errors, path, build_regex(&transformation?, false))? }
            }
            _ => return None,
        });
    }
    Some(match t.kind {
        TransformKind::Constant => Rule::Constant { value: transformation? },
        TransformKind::MatchClaim => Rule::MatchClaim { claim_in: claim_in?, output: transformation? },
        TransformKind::Match => Rule::Match { claim_in: claim_in?, value: transformation?, output: output? },
        TransformKind::RegexMatch => {
            let regex = report(errors, path, build_regex(&transformation?, false))?;
            Rule::RegexMatch { claim_in: claim_in?, regex, output: output? }
        }
        TransformKind::Map => Rule::Map { claim_in: claim_in? },
        TransformKind::RegexMap => {
            let regex = report(errors, path, build_regex(&transformation?, true))?;
            Rule::RegexMap { claim_in: claim_in?, regex }
        }
        TransformKind::Concatenate => {
            let format = report(errors, path, parse_format(&transformation?, t.claims_in.len()))?;
            Rule::Concatenate { claims_in: t.claims_in.clone(), format }
        }
    })
}

fn report<T>(errors: &mut FieldErrors, path: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|msg| err(errors, path, "transformation", msg)).ok()
}

/// Compiles a pattern with bounded size; the `regex` crate runs in linear time.
fn build_regex(pattern: &str, needs_map: bool) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_REGEX {
        return Err(format!("must be at most {MAX_REGEX} characters"));
    }
    let regex =
        RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_DFA_SIZE_LIMIT).build().map_err(
            |e| match e {
                regex::Error::CompiledTooBig(_) => format!(
                    "is too large once compiled (limit {} KiB): use fewer repetitions or ASCII \
                 classes such as (?-u:\\w)",
                    REGEX_SIZE_LIMIT / 1024
                ),
                regex::Error::Syntax(text) => {
                    let reason = text.lines().rev().find_map(|l| l.strip_prefix("error: "));
                    format!("is not a valid regular expression: {}", reason.unwrap_or(&text))
                }
                other => format!("is not a valid regular expression: {other}"),
            },
        )?;
    if needs_map && !regex.capture_names().any(|n| n == Some("map")) {
        return Err("must have a group named `map`, as in ^(?<map>[^@]+)@".to_owned());
    }
    Ok(regex)
}

/// Parses a `concatenate` format: `{i}` is the first value of `claims_in[i]`; `{{` and
/// `}}` are literal braces.
fn parse_format(format: &str, claims: usize) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' | '}' if chars.next_if(|&(_, n)| n == c).is_some() => text.push(c),
            '{' => {
                let mut digits = String::new();
                while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                }
                let closed = chars.next_if(|&(_, n)| n == '}').is_some();
                let Some(index) = digits.parse::<usize>().ok().filter(|_| closed) else {
                    return Err(format!(
                        "has an invalid placeholder at position {at}: write {{0}}, {{1}}, … \
                         or {{{{ for a brace"
                    ));
                };
                if index >= claims {
                    return Err(format!("refers to {{{index}}}, but claims_in names {claims} claim(s)"));
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Claim(index));
            }
            '}' => {
                return Err(format!("has an unmatched }} at position {at}: write }}}} for a brace"));
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    if !pieces.iter().any(|p| matches!(p, Piece::Claim(_))) {
        return Err("must refer to at least one claim, as in {0}".to_owned());
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transform(kind: TransformKind, ins: &[&str], tr: Option<&str>, ext: Option<&str>) -> ClaimTransform {
        ClaimTransform {
            order: 0,
            kind,
            action: TransformAction::Add,
            claims_in: ins.iter().map(|s| s.to_string()).collect(),
            claim_out: "out".to_owned(),
            transformation: tr.map(str::to_owned),
            transformation_extension: ext.map(str::to_owned),
        }
    }

    fn errors_of(t: &ClaimTransform) -> FieldErrors {
        let mut errors = Vec::new();
        let built = step(t, "t", &mut errors);
        assert_eq!(built.is_some(), errors.is_empty());
        errors
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.iter().map(|(f, _)| f.as_str()).collect()
    }

    #[test]
    fn foxids_example_patterns_compile() {
        for p in [r"^\S+\s(?<map>\S+)$", r"^(?<map>\S+)\s\S+$", r"^(nemlogin\|)(?<map>.+)$"] {
            assert!(build_regex(p, true).is_ok(), "{p}");
        }
        assert!(build_regex(r"^(?<map>\w+)@(\w+\.)+\w+$", true).is_ok());
    }

    #[test]
    fn invalid_regex_is_refused_with_the_reason() {
        let msg = build_regex("(a", false).expect_err("unclosed");
        assert_eq!(msg, "is not a valid regular expression: unclosed group");
    }

    #[test]
    fn regex_longer_than_1000_characters_is_refused() {
        assert!(build_regex(&"a".repeat(MAX_REGEX), false).is_ok());
        let msg = build_regex(&"a".repeat(MAX_REGEX + 1), false).expect_err("too long");
        assert_eq!(msg, "must be at most 1000 characters");
    }

    #[test]
    fn regex_too_large_once_compiled_is_refused() {
        let msg = build_regex(r"\w{50}", false).expect_err("too big");
        assert!(msg.starts_with("is too large once compiled"), "{msg}");
    }

    #[test]
    fn regex_map_needs_a_group_named_map() {
        assert!(build_regex("^(?<other>.+)$", false).is_ok());
        let msg = build_regex("^(?<other>.+)$", true).expect_err("no map group");
        assert!(msg.contains("group named `map`"), "{msg}");
    }

    #[test]
    fn format_splits_text_and_placeholders_and_unescapes_braces() {
        let pieces = parse_format("{{{0}}}-{1}", 2).expect("valid");
        let text = |s: &str| Piece::Text(s.to_owned());
        assert_eq!(pieces, [text("{"), Piece::Claim(0), text("}-"), Piece::Claim(1)]);
    }

    #[test]
    fn format_errors_name_the_problem() {
        let cases = [
            ("{2}", "refers to {2}, but claims_in names 2 claim(s)"),
            ("a}b", "has an unmatched } at position 1: write }} for a brace"),
            ("{x}", "has an invalid placeholder at position 0"),
            ("{0", "has an invalid placeholder at position 0"),
            ("{}", "has an invalid placeholder at position 0"),
            ("plain", "must refer to at least one claim, as in {0}"),
        ];
        for (format, want) in cases {
            let msg = parse_format(format, 2).expect_err(format);
            assert!(msg.starts_with(want), "{format}: {msg}");
        }
    }

    #[test]
    fn each_type_requires_what_it_reads() {
        use TransformKind::*;
        let cases: [(ClaimTransform, &[&str]); 7] = [
            (transform(Constant, &[], None, None), &["t.transformation"]),
            (transform(MatchClaim, &[], Some("v"), None), &["t.claims_in"]),
            (transform(Match, &["a"], Some("v"), None), &["t.transformation_extension"]),
            (transform(RegexMatch, &["a"], None, Some("")), &["t.transformation", "t.transformation_extension"]),
            (transform(Map, &["a", "b"], None, None), &["t.claims_in"]),
            (transform(RegexMap, &["a"], Some(""), None), &["t.transformation"]),
            (transform(Concatenate, &[], Some("{0}"), None), &["t.claims_in", "t.transformation"]),
        ];
        for (t, want) in cases {
            assert_eq!(fields(&errors_of(&t)), want, "{:?}", t.kind);
        }
    }

    #[test]
    fn fields_a_type_does_not_read_are_refused_unless_empty() {
        use TransformKind::*;
        let t = transform(Constant, &["a"], Some("v"), Some("x"));
        assert_eq!(fields(&errors_of(&t)), ["t.claims_in", "t.transformation_extension"]);
        let t = transform(Map, &["a"], Some("v"), Some(""));
        assert_eq!(fields(&errors_of(&t)), ["t.transformation"]);
        assert!(errors_of(&transform(Map, &["a"], Some(""), None)).is_empty());
    }

    #[test]
    fn claim_names_must_be_non_empty_and_short() {
        let mut t = transform(TransformKind::Map, &[""], None, None);
        t.claim_out = "x".repeat(MAX_CLAIM_NAME + 1);
        assert_eq!(fields(&errors_of(&t)), ["t.claims_in[0]", "t.claim_out"]);
        t.claims_in = vec!["in".to_owned()];
        t.claim_out = "x".repeat(MAX_CLAIM_NAME);
        assert!(errors_of(&t).is_empty());
    }

    #[test]
    fn concatenate_takes_up_to_20_claims() {
        let names: Vec<String> = (0..=MAX_CONCATENATE_CLAIMS).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let t = transform(TransformKind::Concatenate, &refs, Some("{0}"), None);
        assert_eq!(fields(&errors_of(&t)), ["t.claims_in"]);
        let t = transform(TransformKind::Concatenate, &refs[1..], Some("{19}"), None);
        assert!(errors_of(&t).is_empty());
    }
}
