//! Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery 1.0 §3) of a
//! track, track-level or app-scoped. The issuer is the track's in both forms; only the
//! token endpoint moves (`docs/protocol.md` "Discovery").

use ferrid_oauth::{OAuthError, discovery::ProviderMetadata};

use crate::{
    client_auth::private_key_jwt::ASSERTION_ALGS,
    model::ClientAuthMethod,
    runtime::{Registry, TrackRuntime},
    urls::PublicUrl,
};

/// The metadata of `track`, with the endpoints of `app` when app-scoped.
pub fn metadata(track: &TrackRuntime, urls: &PublicUrl, app: Option<&str>) -> ProviderMetadata {
    ProviderMetadata {
        issuer: track.issuer.clone(),
        token_endpoint: urls.token_endpoint(&track.tenant, &track.track, app),
        jwks_uri: urls.jwks_uri(&track.tenant, &track.track),
        response_types_supported: Vec::new(),
        grant_types_supported: vec!["client_credentials".into()],
        token_endpoint_auth_methods_supported: ClientAuthMethod::ALL.iter().map(|m| m.as_str().into()).collect(),
        token_endpoint_auth_signing_alg_values_supported: Some(
            ASSERTION_ALGS.iter().map(|a| a.as_str().into()).collect(),
        ),
        scopes_supported: Vec::new(),
    }
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
    let doc = metadata(&rt, registry.urls(), app);
    Ok(serde_json::to_string(&doc).expect("metadata serializes"))
}
