//! The public URLs of a deployment, derived from `--public-url`: each track is an issuer
//! `{base}/{tenant}/{track}` and its endpoints sit below it ([`crate::routes`]).

use crate::routes;

/// The public origin, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Accepts an `http` or `https` origin, optionally with a path prefix.
    pub fn parse(s: &str) -> Result<PublicUrl, String> {
        let t = s.trim().trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or_else(|| format!("public URL '{s}' must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains(['?', '#', ' ']) {
            return Err(format!("public URL '{s}' must be an origin with an optional path"));
        }
        Ok(PublicUrl(t.to_owned()))
    }

    pub fn base(&self) -> &str {
        &self.0
    }

    /// `{base}/{tenant}/{track}`: the issuer of a track.
    pub fn issuer(&self, tenant: &str, track: &str) -> String {
        format!("{}/{tenant}/{track}", self.0)
    }

    /// The prefix of protocol endpoints: the issuer, or the app-scoped form `{issuer}/{app}`.
    pub fn endpoint_prefix(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        match app {
            Some(app) => format!("{}/{tenant}/{track}/{app}", self.0),
            None => self.issuer(tenant, track),
        }
    }

    /// `{issuer}/oauth/token`, or its app-scoped form.
    pub fn token_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::TOKEN
    }

    /// `{issuer}/oauth/authorize`, or its app-scoped form.
    pub fn authorization_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::AUTHORIZE
    }

    /// `{issuer}/oauth/userinfo`, or its app-scoped form.
    pub fn userinfo_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::USERINFO
    }

    /// `{issuer}/oauth/introspect`, or its app-scoped form (RFC 7662).
    pub fn introspection_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::INTROSPECT
    }

    /// `{issuer}/oauth/revoke`, or its app-scoped form (RFC 7009).
    pub fn revocation_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::REVOKE
    }

    /// `{issuer}/oauth/endsession`, or its app-scoped form.
    pub fn end_session_endpoint(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        self.endpoint_prefix(tenant, track, app) + routes::END_SESSION
    }

    /// `{issuer}/oauth/keys`.
    pub fn jwks_uri(&self, tenant: &str, track: &str) -> String {
        self.issuer(tenant, track) + routes::JWKS
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_endpoint(&self, tenant: &str, track: &str) -> String {
        self.issuer(tenant, track) + routes::OPENID_CONFIGURATION
    }

    /// Maps an issuer URL back to its tenant and track.
    pub fn split_issuer<'a>(&self, issuer: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = issuer.strip_prefix(self.0.as_str())?.strip_prefix('/')?;
        let (tenant, track) = rest.split_once('/')?;
        (!track.contains('/')).then_some((tenant, track))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_round_trips() {
        let u = PublicUrl::parse("http://127.0.0.1:8080/").unwrap();
        let iss = u.issuer("t1", "prod");
        assert_eq!(iss, "http://127.0.0.1:8080/t1/prod");
        assert_eq!(u.split_issuer(&iss), Some(("t1", "prod")));
        assert_eq!(u.split_issuer("http://127.0.0.1:8080/t1/prod/x"), None);
        assert_eq!(u.split_issuer("http://evil/t1/prod"), None);
    }

    #[test]
    fn endpoints_sit_below_the_issuer() {
        let u = PublicUrl::parse("https://id.example/base").unwrap();
        assert_eq!(u.token_endpoint("t", "p", None), "https://id.example/base/t/p/oauth/token");
        assert_eq!(u.token_endpoint("t", "p", Some("a")), "https://id.example/base/t/p/a/oauth/token");
        assert_eq!(u.jwks_uri("t", "p"), "https://id.example/base/t/p/oauth/keys");
        assert_eq!(u.authorization_endpoint("t", "p", None), "https://id.example/base/t/p/oauth/authorize");
        assert_eq!(u.userinfo_endpoint("t", "p", Some("a")), "https://id.example/base/t/p/a/oauth/userinfo");
        assert_eq!(u.end_session_endpoint("t", "p", None), "https://id.example/base/t/p/oauth/endsession");
        assert_eq!(u.discovery_endpoint("t", "p"), "https://id.example/base/t/p/.well-known/openid-configuration");
    }

    #[test]
    fn public_url_must_be_http() {
        assert!(PublicUrl::parse("ftp://x").is_err());
        assert!(PublicUrl::parse("http://").is_err());
    }
}
