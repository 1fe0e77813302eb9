//! Claims an app issues and claim transforms (docs/model.md "Claim transforms").
//!
//! # Layout
//! - [`set`]: [`ClaimSet`], the claims being transformed (name → values, in order), and
//!   its JSON form.
//! - [`transform`]: [`ClaimTransform`] as configured (the management API's wire shape)
//!   and [`CompiledTransforms`], checked, sorted and with regexes compiled once, which
//!   [`CompiledTransforms::apply`] runs on every token.
//! - [`compile`]: the rules one transform must meet (per type) and the limits, checked
//!   while it is compiled; shared by [`CompiledTransforms::compile`] and
//!   [`parse_transforms`].
//! - [`issue`]: [`issue::ClaimPlan`]: fixed claims, transforms and the issued-claims filter,
//!   prepared once per app; protocol claims ([`issue::PROTECTED`]) are never set by them,
//!   except `sub` by a transform.
//! - [`validate`]: [`parse_transforms`] reads transforms from JSON with field-named errors
//!   (`claim_transforms[2].transformation`), every error at once.
//!
//! The engine is pure: no I/O, no clock; regexes use the `regex` crate (linear time, no
//! backtracking) with bounded compiled size; an empty list costs nothing to apply.
//!
//! # Semantics
//! Transforms run in ascending `order` (equal orders keep their listed order); each sees
//! the claims as the earlier ones left them. A transform *matches* and, when it does,
//! *produces* values:
//!
//! | type | matches when | produces |
//! |---|---|---|
//! | `constant` | always | `transformation` |
//! | `match_claim` | `claims_in[0]` exists | `transformation` |
//! | `match` | a value of `claims_in[0]` equals `transformation` (case-sensitive) | `transformation_extension` |
//! | `regex_match` | a value of `claims_in[0]` matches the regex `transformation` | `transformation_extension` |
//! | `map` | `claims_in[0]` exists | its values |
//! | `regex_map` | some value of `claims_in[0]` has a non-empty `map` group | each such group's text |
//! | `concatenate` | every claim the format refers to exists | the format with `{i}` = first value of `claims_in[i]` |
//!
//! | action | does |
//! |---|---|
//! | `add` | when it matches, appends the produced values to `claim_out` |
//! | `replace` | when it matches, sets `claim_out` to the produced values |
//! | `add_if_not` | when it does **not** match, appends the type's fixed value (as produced on a match) |
//! | `replace_if_not` | when it does **not** match, sets `claim_out` to that fixed value |
//! | `add_if_not_out` | when it matches and `claim_out` does not exist yet, adds the produced values |
//! | `remove` | takes out of `claim_out` what the type names (below) |
//!
//! `remove` has FoxIDs' shape: it reads only `claim_out` and, for `match` and
//! `regex_match`, `transformation`. `match_claim` removes `claim_out` with all its values;
//! `match` removes the values of `claim_out` equal to `transformation`, `regex_match` those
//! the regex matches; the other values stay, and a claim left with none is gone. Other
//! types, and `claims_in` or `transformation_extension` on a `remove`, are refused.
//!
//! A transform may write `sub` (the token's subject then becomes its first value); it
//! may not write another protocol claim ferrid sets (`iss`, `aud`, `exp`, … in
//! [`issue::PROTECTED`]): such a transform is refused rather than stored and ignored.
//!
//! Choices where FoxIDs' documentation leaves room:
//! - `add_if_not`/`replace_if_not` exist only for the types with a fixed value
//!   (`match_claim`, `match`, `regex_match`); other types are refused at validation.
//!   `add_if_not_out` works with every type.
//! - Regexes are unanchored (a match anywhere in the value); write `^…$` to anchor.
//! - A claim holds each value once: adding a value it already has does nothing, and a
//!   claim without values does not exist. Empty `map` groups produce nothing.
//! - `add` on a single-valued protocol claim ([`SINGLE_VALUED`]: `sub`, `sid`, …) acts as
//!   `replace`, and those claims keep only the first produced value (except `amr`,
//!   an array by definition).
//! - `concatenate` uses the first value of a multi-valued claim; `{{`/`}}` are literal
//!   braces; the format must refer to at least one claim, and to no index beyond
//!   `claims_in`.
//! - Fields a type does not use must be absent, `null` (or empty for strings);
//!   `claims_in` names exactly one claim, except for `constant` (none) and
//!   `concatenate` (1 to 20).
//! - [`ClaimSet::from_json`] turns numbers and booleans into their JSON text, so
//!   [`ClaimSet::to_json`] writes them back as strings; `null`, objects and nested arrays
//!   are left out. Protocol claims with a JSON type (`exp`, `iat`, …) and structured
//!   claims (`address`) stay with the caller.
//! - Regexes may be up to 1000 characters and 256 KiB compiled (64 KiB refuses common
//!   Unicode patterns such as `^(?<map>\w+)@(\w+\.)+\w+$`).

pub mod compile;
pub mod issue;
pub mod scopes;
pub mod set;
pub mod transform;
pub mod validate;

pub use set::ClaimSet;
pub use transform::{ClaimTransform, CompiledTransforms, SINGLE_VALUED, TransformAction, TransformKind};
pub use validate::parse_transforms;

/// Errors named by their JSON path: `(field, message)`, e.g.
/// `("claim_transforms[2].transformation", "is not a valid regular expression: …")`.
pub type FieldErrors = Vec<(String, String)>;
