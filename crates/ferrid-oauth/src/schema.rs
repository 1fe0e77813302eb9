//! OpenAPI schemas (utoipa) of the validated string types: each states the rule its
//! `parse` enforces, so generated clients and fuzzers send what the server accepts.

use std::borrow::Cow;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, Schema, Type},
    },
};

use crate::{jwt::SigningAlg, name::Name, scope::ScopeName};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

/// A string of 1..=`max` characters matching `pattern`.
fn pattern(description: &str, pattern: &str, max: usize) -> RefOr<Schema> {
    string(description).pattern(Some(pattern)).min_length(Some(1)).max_length(Some(max)).into()
}

/// `PartialSchema` from an expression and `ToSchema` under the type's own name.
macro_rules! schema {
    ($ty:ident, $schema:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }
        }
    };
}

schema!(Name, pattern("A tenant, track or app name.", "^[a-z0-9_][a-z0-9_-]*$", Name::MAX_LEN));
schema!(ScopeName, pattern("A scope of a resource.", "^[A-Za-z0-9_][A-Za-z0-9_-]*$", 50));
schema!(
    SigningAlg,
    string("A track's signing algorithm (fixed when the track is created).")
        .enum_values(Some(SigningAlg::ALL.iter().map(|a| a.as_str())))
        .into()
);
