//! The track's JWK Set (RFC 7517 §5, RFC 8414 §2 `jwks_uri`): every published key,
//! rendered once when the snapshot of the track is built.

use ferrid_oauth::{
    OAuthError,
    jwk::{Jwk, Jwks},
};

use crate::runtime::Registry;

/// Renders the published keys (at snapshot build, not per request).
pub fn render(keys: Vec<Jwk>) -> String {
    serde_json::to_string(&Jwks { keys }).expect("JWKS serializes")
}

/// The pre-rendered document of a track.
pub fn document(registry: &Registry, tenant: &str, track: &str) -> Result<String, OAuthError> {
    Ok(super::track(registry, tenant, track)?.jwks_json.clone())
}
