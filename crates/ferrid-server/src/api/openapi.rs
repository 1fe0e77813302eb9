//! The management API's OpenAPI 3.1 document (utoipa).
//!
//! Paths come from the `#[utoipa::path]` annotations of the handlers that
//! [`super::routes`] registers through `utoipa_axum::routes!`: the router and the
//! document are built from the same list. Response bodies are the typed views of
//! [`super::views`]; request bodies are the types the handlers parse
//! (`ferrid_core::manage::request`), path parameters those they extract
//! ([`super::paths`]). [`finish`] adds the security scheme and the error responses by
//! rule, so that no authenticated operation can miss them.

use utoipa::{
    IntoParams, OpenApi,
    openapi::{
        ContentBuilder, HttpMethod, OpenApi as Document, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        path::Operation,
        schema::{ObjectBuilder, Type},
        security::{
            ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
        },
    },
};

use super::error::ErrorBody;

/// The name of the security scheme every authenticated operation requires.
pub const BEARER: &str = "bearer";

/// The same token, obtained by Swagger UI's Authorize with the client credentials grant
/// (RFC 6749 §4.4) from ferrid's own token endpoint: an alternative to [`BEARER`] on
/// every authenticated operation.
pub const OAUTH2: &str = "oauth2";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ferrid management API",
        description = "Tenants, tracks, app registrations, their secrets and keys, users and their sessions, and track signing keys. \
            Callers present a ferrid access token for the resource `ferrid-api` (scope `admin` of the master \
            tenant's master track for every tenant, scope `tenant` of a tenant's master track for that tenant). \
            Every change and every failed client authentication is recorded in the tenant's audit log. \
            Every error answers with one shape, `Error`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "tenants", description = "Isolated customer spaces"),
        (name = "tracks", description = "Environments of a tenant, each with its issuer and signing keys"),
        (name = "apps", description = "App registrations: resources and clients"),
        (name = "secrets", description = "Client secrets"),
        (name = "client keys", description = "Public keys of private_key_jwt clients"),
        (name = "users", description = "People of a track (the login method) and their login sessions"),
        (name = "audit", description = "Per-tenant audit log: management changes and failed client authentications"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Pagination of a listing, ordered by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; `page_request` reads it
pub struct PageQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page: items after this name.
    pub after: Option<String>,
}

/// `If-Match` of a conditional update.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documents the header; `if_match` reads it
pub struct IfMatch {
    /// The `ETag` of the version read (`"3"`); the update fails with 412 if the resource
    /// changed since. `*` or no header updates unconditionally.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The error responses, each `Error`-shaped: (status, component name, description).
const ERRORS: [(&str, &str, &str); 8] = [
    ("400", "ValidationFailed", "`validation_failed`: the request is invalid; `errors` names each bad field"),
    ("401", "Unauthorized", "`unauthorized`: no bearer token, or not a valid ferrid-api access token"),
    ("403", "Forbidden", "`forbidden`: the token's scope does not allow this"),
    ("404", "NotFound", "`not_found`: no such resource, or one in a tenant the caller does not manage"),
    ("409", "Conflict", "`conflict`: the resource already exists, or a limit is reached"),
    ("412", "PreconditionFailed", "`precondition_failed`: `If-Match` does not match the current version"),
    ("413", "PayloadTooLarge", "`validation_failed` on `body`: the body is larger than 1 MiB"),
    ("503", "Unavailable", "`unavailable`: the store cannot be reached; retry later"),
];

/// The `oauth2` scheme: client credentials at `token_url` (the master track's token
/// endpoint), with the management API's two scopes (docs/api.md).
fn oauth2(token_url: &str) -> SecurityScheme {
    let scopes = Scopes::from_iter([
        ("ferrid-api:admin", "every tenant (a client of the master tenant's master track)"),
        ("ferrid-api:tenant", "one tenant (a client of that tenant's master track)"),
    ]);
    SecurityScheme::OAuth2(OAuth2::with_description(
        [Flow::ClientCredentials(ClientCredentials::new(token_url, scopes))],
        "Client credentials at this server's master track, e.g. the bootstrap client `admin` and its secret, with scope `ferrid-api:admin`.",
    ))
}

/// Completes the document built from the annotations: the bearer and oauth2 schemes,
/// the shared error responses, and on each authenticated operation the oauth2
/// alternative and the errors it can answer: 401, 403, 404 and 503 always; 400 and
/// 413 with a body; 400 with `limit`; 409 on a create (`201`); 412 with `If-Match`.
pub fn finish(doc: &mut Document, token_url: &str) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(OAUTH2.into(), RefOr::T(oauth2(token_url)));
    components.security_schemes.insert(
        BEARER.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A ferrid access token (client credentials) whose audience is the resource `ferrid-api`.",
                ))
                .build(),
        )),
    );
    for (status, name, description) in ERRORS {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build();
        let mut response = ResponseBuilder::new().description(description).content("application/json", content);
        if status == "401" || status == "403" {
            let header = HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("RFC 6750 §3 challenge, e.g. `Bearer realm=\"ferrid-api\"`"));
            response = response.header("WWW-Authenticate", header.build());
        }
        components.responses.insert(name.into(), RefOr::T(response.build()));
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                add_errors(method, op);
            }
        }
    }
}

fn add_errors(method: HttpMethod, op: &mut Operation) {
    let authenticated =
        op.security.as_ref().is_some_and(|s| !s.is_empty() && s.iter().any(|r| *r != Default::default()));
    if !authenticated {
        return;
    }
    let security = op.security.get_or_insert_with(Vec::new);
    security.push(SecurityRequirement::new(OAUTH2, Vec::<String>::new()));
    let has_param = |name: &str| op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == name));
    let mut statuses = vec!["401", "403", "404", "503"];
    if op.request_body.is_some() {
        statuses.extend(["400", "413"]);
    }
    if has_param("limit") {
        statuses.push("400");
    }
    if method == HttpMethod::Post && op.responses.responses.contains_key("201") {
        statuses.push("409");
    }
    if has_param("If-Match") {
        statuses.push("412");
    }
    for status in statuses {
        let (_, name, _) = ERRORS.iter().find(|(s, ..)| *s == status).expect("a listed status");
        op.responses.responses.entry(status.into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}
