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

impl PartialSchema for Name {
    fn schema() -> RefOr<Schema> {
        string("A tenant, track or app name.")
            .pattern(Some("^[a-z0-9_][a-z0-9_-]*$"))
            .min_length(Some(1))
            .max_length(Some(Name::MAX_LEN))
            .into()
    }
}

impl ToSchema for Name {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Name")
    }
}

impl PartialSchema for ScopeName {
    fn schema() -> RefOr<Schema> {
        string("A scope of a resource.")
            .pattern(Some("^[A-Za-z0-9_][A-Za-z0-9_-]*$"))
            .min_length(Some(1))
            .max_length(Some(50))
            .into()
    }
}

impl ToSchema for ScopeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ScopeName")
    }
}

impl PartialSchema for SigningAlg {
    fn schema() -> RefOr<Schema> {
        string("A track's signing algorithm (fixed when the track is created).")
            .enum_values(Some(SigningAlg::ALL.iter().map(|a| a.as_str())))
            .into()
    }
}

impl ToSchema for SigningAlg {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SigningAlg")
    }
}
