//! Protocol endpoints, framework-free: each takes the parts of an HTTP request it needs
//! and answers with a value or an [`ferrid_oauth::OAuthError`]. Their paths are in
//! [`crate::routes`].

pub mod discovery;
pub mod introspect;
pub mod jwks;
pub mod token;

use std::sync::Arc;

use ferrid_oauth::OAuthError;

use crate::runtime::{Registry, TrackRuntime};

/// 404 for a tenant, track or app that does not exist: there is no such endpoint
/// (`docs/protocol.md`), answered in the RFC 6749 §5.2 shape.
pub fn unknown_track() -> OAuthError {
    OAuthError::invalid_request("no such tenant, track or app").with_status(404)
}

/// The track of a protocol URL.
pub fn track(registry: &Registry, tenant: &str, track: &str) -> Result<Arc<TrackRuntime>, OAuthError> {
    registry.track(tenant, track).ok_or_else(unknown_track)
}

/// The track of a protocol URL whose app segment, if any, must name an app of it.
pub fn track_with_app(
    registry: &Registry,
    tenant: &str,
    track_name: &str,
    app: Option<&str>,
) -> Result<Arc<TrackRuntime>, OAuthError> {
    let rt = track(registry, tenant, track_name)?;
    match app {
        Some(a) if !rt.has_app(a) => Err(unknown_track()),
        _ => Ok(rt),
    }
}

/// The app name of an app segment: `{app}` or `{app}(method)`, the method selection
/// being for login endpoints to come (`docs/protocol.md`).
pub fn app_name(segment: &str) -> &str {
    match segment.split_once('(') {
        Some((name, rest)) if rest.ends_with(')') => name,
        _ => segment,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn app_segment_may_carry_a_method_selection() {
        assert_eq!(super::app_name("web(login)"), "web");
        assert_eq!(super::app_name("web(*)"), "web");
        assert_eq!(super::app_name("web"), "web");
    }
}
