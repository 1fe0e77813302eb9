//! Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery 1.0 §3) of a
//! track, track-level or app-scoped. The issuer is the track's in both forms; only the
//! endpoints move (`docs/protocol.md` "Discovery", which gives each list and why). The
//! track-level document is rendered once per snapshot build.

use ferrid_oauth::{OAuthError, discovery::ProviderMetadata};

use crate::{
    claims::scopes::STANDARD,
    client_auth::private_key_jwt::ASSERTION_ALGS,
    model::ClientAuthMethod,
    runtime::{Registry, TrackRuntime},
    urls::PublicUrl,
};

/// Claims of an ID token that ferrid sets itself (OpenID Connect Core 1.0 §2).
const ID_TOKEN_CLAIMS: [&str; 9] = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp"];

/// Adds `item` to `list` unless it is there already, keeping the order.
fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_owned());
    }
}

/// The metadata of `track`, with the endpoints of `app` when app-scoped. A document
/// never advertises what is not served
/// (`it::discovery::discovery_issuer_equals_the_prefix_and_lists_exactly_what_is_supported`).
pub fn metadata(track: &TrackRuntime, urls: &PublicUrl, app: Option<&str>) -> ProviderMetadata {
    provider_metadata(track, urls, app)
}

/// The OpenID Connect Discovery 1.0 document of the provider.
fn provider_metadata(track: &TrackRuntime, urls: &PublicUrl, app: Option<&str>) -> ProviderMetadata {
    let (tenant, name) = (&track.tenant, &track.track);
    let strings = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let mut scopes: Vec<String> = STANDARD.iter().map(|(s, _)| (*s).to_owned()).collect();
    let mut claims: Vec<String> = strings(&ID_TOKEN_CLAIMS);
    for (_, c) in STANDARD {
        c.iter().for_each(|c| push_new(&mut claims, c));
    }
    // The clients' own scopes and claims, sorted so that the document is stable.
    let mut own: Vec<(&String, &Vec<String>)> =
        track.clients.values().filter_map(|c| c.oidc.as_deref()).flat_map(|o| o.scopes.iter()).collect();
    own.sort();
    for (scope, cs) in own {
        push_new(&mut scopes, scope);
        cs.iter().for_each(|c| push_new(&mut claims, c));
    }
    ProviderMetadata {
        issuer: track.issuer.clone(),
        token_endpoint: urls.token_endpoint(tenant, name, app),
        jwks_uri: urls.jwks_uri(tenant, name),
        // OpenID Connect Core 1.0 §3: the code, implicit and hybrid flows, in the spelling
        // of the Discovery examples (ferrid reads the words in any order).
        response_types_supported: strings(&[
            "code",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ]),
        grant_types_supported: strings(&["authorization_code", "client_credentials", "implicit", "refresh_token"]),
        token_endpoint_auth_methods_supported: ClientAuthMethod::OIDC.iter().map(|m| m.as_str().into()).collect(),
        token_endpoint_auth_signing_alg_values_supported: Some(
            ASSERTION_ALGS.iter().map(|a| a.as_str().into()).collect(),
        ),
        scopes_supported: scopes,
        authorization_endpoint: Some(urls.authorization_endpoint(tenant, name, app)),
        userinfo_endpoint: Some(urls.userinfo_endpoint(tenant, name, app)),
        end_session_endpoint: Some(urls.end_session_endpoint(tenant, name, app)),
        response_modes_supported: strings(&["query", "fragment", "form_post"]),
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: vec![track.settings.signing_alg.as_str().into()],
        claims_supported: claims,
        code_challenge_methods_supported: strings(&["S256", "plain"]),
        claims_parameter_supported: Some(false),
        request_parameter_supported: Some(false),
        request_uri_parameter_supported: Some(false),
        authorization_response_iss_parameter_supported: Some(true),
        frontchannel_logout_supported: Some(true),
        frontchannel_logout_session_supported: Some(true),
        introspection_endpoint: Some(urls.introspection_endpoint(tenant, name, app)),
        // RFC 7662 §2.1: the caller authenticates; a public client cannot introspect.
        introspection_endpoint_auth_methods_supported: Some(
            ClientAuthMethod::ALL.iter().map(|m| m.as_str().into()).collect(),
        ),
        introspection_endpoint_auth_signing_alg_values_supported: Some(assertion_algs()),
        revocation_endpoint: Some(urls.revocation_endpoint(tenant, name, app)),
        // RFC 7009 §2.1: a public client revokes its own tokens by client_id.
        revocation_endpoint_auth_methods_supported: Some(
            ClientAuthMethod::OIDC.iter().map(|m| m.as_str().into()).collect(),
        ),
        revocation_endpoint_auth_signing_alg_values_supported: Some(assertion_algs()),
    }
}

fn assertion_algs() -> Vec<String> {
    ASSERTION_ALGS.iter().map(|a| a.as_str().into()).collect()
}

/// The JSON of [`metadata`].
pub fn render(track: &TrackRuntime, urls: &PublicUrl, app: Option<&str>) -> String {
    serde_json::to_string(&metadata(track, urls, app)).expect("metadata serializes")
}

/// The JSON document served at the track's (or the app segment's) well-known URLs.
pub fn document(
    registry: &Registry,
    tenant: &str,
    track: &str,
    app_segment: Option<&str>,
) -> Result<String, OAuthError> {
    let app = app_segment.map(super::app_name);
    let rt = super::track_with_app(registry, tenant, track, app)?;
    Ok(match app {
        None => rt.discovery_json.to_string(),
        Some(app) => render(&rt, registry.urls(), Some(app)),
    })
}
