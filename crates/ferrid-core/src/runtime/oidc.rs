//! What the authorization, token, UserInfo and end-session endpoints read of an
//! `oidc_client`, computed once per snapshot build (docs/model.md "OpenID Connect
//! clients").

use std::collections::{HashMap, HashSet};

use crate::{
    claims::scopes::{STANDARD, standard_claims},
    model::{AuthMethod, OidcClientSpec, ResponseType},
};

/// RFC 7636 as this client must use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PkcePolicy {
    /// A code challenge is required (always for a public client).
    pub required: bool,
    /// `plain` is accepted besides `S256`.
    pub allow_plain: bool,
}

/// An `oidc_client` as the OpenID Provider endpoints see it.
#[derive(Debug)]
pub struct OidcRuntime {
    /// Compared exactly (RFC 9700 §2.1): no prefix, no wildcard, case-sensitive.
    pub redirect_uris: HashSet<String>,
    pub response_types: Vec<ResponseType>,
    pub pkce: PkcePolicy,
    /// Scope → the claims it releases: the client's list, or the standard table.
    pub scopes: HashMap<String, Vec<String>>,
    /// Scope → the claims of it that leave in ID tokens and UserInfo: those of
    /// [`OidcRuntime::scopes`] that the client's `issued_claims` list names (all for `*`;
    /// docs/provider.md "Which claims leave").
    released: HashMap<String, Vec<String>>,
    /// Whether a person's access token names the client in `aud` besides the resources
    /// of its granted scopes (`access_token_audience_includes_client`).
    pub audience_includes_client: bool,
    pub auth_methods: Vec<AuthMethod>,
    pub require_consent: bool,
    pub id_token_lifetime: u32,
    /// Sliding lifetime of a refresh token.
    pub refresh_token_lifetime: u32,
    /// Cap on a refresh grant's whole life.
    pub refresh_token_absolute_lifetime: u32,
    pub post_logout_redirect_uris: HashSet<String>,
    pub frontchannel_logout_uri: Option<String>,
}

impl OidcRuntime {
    pub fn build(spec: &OidcClientSpec, public: bool) -> OidcRuntime {
        let owned = |claims: &[&str]| claims.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        let scopes: HashMap<String, Vec<String>> = match &spec.scopes {
            None => STANDARD.iter().map(|(s, claims)| ((*s).to_owned(), owned(claims))).collect(),
            Some(list) => list
                .iter()
                .map(|s| {
                    let claims = match &s.claims {
                        Some(c) => c.clone(),
                        None => standard_claims(&s.scope).map(owned).unwrap_or_default(),
                    };
                    (s.scope.clone(), claims)
                })
                .collect(),
        };
        let issued = &spec.client.issued_claims;
        let all = issued.iter().any(|i| i == "*");
        let released = scopes
            .iter()
            .map(|(s, claims)| {
                let kept = claims.iter().filter(|c| all || issued.contains(c)).cloned().collect();
                (s.clone(), kept)
            })
            .collect();
        OidcRuntime {
            redirect_uris: spec.redirect_uris.iter().cloned().collect(),
            response_types: spec.response_types.clone(),
            pkce: PkcePolicy { required: spec.require_pkce || public, allow_plain: spec.allow_plain_pkce },
            scopes,
            released,
            audience_includes_client: spec.access_token_audience_includes_client,
            auth_methods: spec.auth_methods.clone(),
            require_consent: spec.require_consent,
            id_token_lifetime: spec.id_token_lifetime,
            refresh_token_lifetime: spec.refresh_token_lifetime,
            refresh_token_absolute_lifetime: spec.refresh_token_absolute_lifetime,
            post_logout_redirect_uris: spec.post_logout_redirect_uris.iter().cloned().collect(),
            frontchannel_logout_uri: spec.frontchannel_logout_uri.clone(),
        }
    }

    /// The claims `scope` releases, if the client may request it.
    pub fn claims_of(&self, scope: &str) -> Option<&[String]> {
        self.scopes.get(scope).map(Vec::as_slice)
    }

    /// The claims `scope` releases that this client's `issued_claims` lets leave (in ID
    /// tokens and UserInfo); none for a scope it may not request.
    pub fn released_claims(&self, scope: &str) -> &[String] {
        self.released.get(scope).map_or(&[], Vec::as_slice)
    }
}
