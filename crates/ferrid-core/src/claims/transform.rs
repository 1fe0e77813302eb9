//! Claim transforms as configured ([`ClaimTransform`]) and as run ([`CompiledTransforms`]).

use serde::{Deserialize, Serialize};

use super::{ClaimSet, FieldErrors, compile};

mod run;

pub(super) use run::{Piece, Rule, Step};

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
mod tests;
