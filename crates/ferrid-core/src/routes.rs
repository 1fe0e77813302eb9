//! Every path ferrid serves outside the management API, named once: the router registers
//! [`Route::ALL`], discovery and the management views build URLs from the same suffixes,
//! the management API's prefix is [`API_PREFIX`], and the audit log names objects by
//! their paths below it ([`object`]) (`docs/protocol.md`, `docs/api.md`).
//!
//! Templates use axum's `{name}` captures: `{tenant}`, `{track}` and `{app}` (an app
//! segment may carry a method selection, `{app}(method)`).

/// The suffix of each protocol endpoint after the issuer (or the app-scoped prefix).
macro_rules! suffix {
    (token) => {
        "/oauth/token"
    };
    (jwks) => {
        "/oauth/keys"
    };
    (openid) => {
        "/.well-known/openid-configuration"
    };
    (oauth) => {
        "/.well-known/oauth-authorization-server"
    };
    (authorize) => {
        "/oauth/authorize"
    };
    (userinfo) => {
        "/oauth/userinfo"
    };
    (endsession) => {
        "/oauth/endsession"
    };
    (introspect) => {
        "/oauth/introspect"
    };
    (revoke) => {
        "/oauth/revoke"
    };
    (login) => {
        "/login"
    };
    (consent) => {
        "/consent"
    };
}

/// A track's endpoint (`/{tenant}/{track}` is the issuer's path).
macro_rules! track {
    ($s:tt) => {
        concat!("/{tenant}/{track}", suffix!($s))
    };
}

/// An app-scoped endpoint.
macro_rules! app {
    ($s:tt) => {
        concat!("/{tenant}/{track}/{app}", suffix!($s))
    };
}

/// The token endpoint after the issuer: `{issuer}/oauth/token` (RFC 6749 §3.2).
pub const TOKEN: &str = suffix!(token);
/// The JWKS after the issuer: `{issuer}/oauth/keys` (RFC 8414 §2 `jwks_uri`).
pub const JWKS: &str = suffix!(jwks);
/// OpenID Connect Discovery 1.0 §4 after the issuer.
pub const OPENID_CONFIGURATION: &str = suffix!(openid);
/// RFC 8414 §3 after the issuer.
pub const OAUTH_AUTHORIZATION_SERVER: &str = suffix!(oauth);

/// The authorization endpoint after the issuer (OpenID Connect Core 1.0 §3.1.2).
pub const AUTHORIZE: &str = suffix!(authorize);
/// The UserInfo endpoint after the issuer (OpenID Connect Core 1.0 §5.3).
pub const USERINFO: &str = suffix!(userinfo);
/// The end-session endpoint after the issuer (OpenID Connect RP-Initiated Logout 1.0 §2).
pub const END_SESSION: &str = suffix!(endsession);

/// The OpenID Provider's endpoints, track-level and app-scoped (`docs/provider.md`).
pub mod provider {
    pub const AUTHORIZE: &str = track!(authorize);
    pub const APP_AUTHORIZE: &str = app!(authorize);
    pub const USERINFO: &str = track!(userinfo);
    pub const APP_USERINFO: &str = app!(userinfo);
    pub const END_SESSION: &str = track!(endsession);
    pub const APP_END_SESSION: &str = app!(endsession);
    /// Where the login page posts (docs/provider.md "Pages").
    pub const LOGIN: &str = track!(login);
    /// Where the consent page posts.
    pub const CONSENT: &str = track!(consent);
}

/// RFC 7662 §2 after the issuer (or the app-scoped prefix).
pub const INTROSPECT: &str = suffix!(introspect);
/// RFC 7009 §2 after the issuer (or the app-scoped prefix).
pub const REVOKE: &str = suffix!(revoke);

/// The login form's action after the issuer.
pub const LOGIN: &str = suffix!(login);
/// The consent form's action after the issuer.
pub const CONSENT: &str = suffix!(consent);

/// The management API's prefix (`docs/api.md`); audit targets are paths below it.
pub const API_PREFIX: &str = "/api/v1";

/// Paths of management objects below [`API_PREFIX`], without the leading slash: the
/// `target` of an audit record (`docs/api.md`) and the tail of a `Location`.
pub mod object {
    /// `tenants/{tenant}/tracks/{track}`.
    pub fn track(tenant: &str, track: &str) -> String {
        format!("tenants/{tenant}/tracks/{track}")
    }

    /// `tenants/{tenant}/tracks/{track}/apps/{app}`.
    pub fn app(tenant: &str, track: &str, app: &str) -> String {
        format!("tenants/{tenant}/tracks/{track}/apps/{app}")
    }
}

/// The HTTP method an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// Both (OpenID Connect Core 1.0 §3.1.2.1 and §5.3.1: authorize and UserInfo).
    GetOrPost,
}

/// One endpoint outside the management API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// RFC 6749 §3.2.
    Token,
    /// The token endpoint on an app-scoped URL: only that app may authenticate there.
    AppToken,
    Jwks,
    OpenIdConfiguration,
    OAuthAuthorizationServer,
    /// RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
    OAuthAuthorizationServerInserted,
    AppOpenIdConfiguration,
    AppOAuthAuthorizationServer,
    /// OpenID Connect Core 1.0 §3.1.2.
    Authorize,
    AppAuthorize,
    /// OpenID Connect Core 1.0 §5.3.
    UserInfo,
    AppUserInfo,
    /// OpenID Connect RP-Initiated Logout 1.0 §2.
    EndSession,
    AppEndSession,
    /// RFC 7662.
    Introspect,
    AppIntrospect,
    /// RFC 7009.
    Revoke,
    AppRevoke,
    /// The login page's form.
    Login,
    /// The consent page's form.
    Consent,
    Healthz,
    Readyz,
    Metrics,
    /// Browsers ask for it on every page: an empty answer, not a 404.
    Favicon,
    /// `/`: links to discovery, the console and the API docs (docs/operations.md).
    Landing,
}

impl Route {
    /// Every route, in the order the router registers them.
    pub const ALL: [Route; 25] = [
        Route::Token,
        Route::AppToken,
        Route::Jwks,
        Route::OpenIdConfiguration,
        Route::OAuthAuthorizationServer,
        Route::OAuthAuthorizationServerInserted,
        Route::AppOpenIdConfiguration,
        Route::AppOAuthAuthorizationServer,
        Route::Authorize,
        Route::AppAuthorize,
        Route::UserInfo,
        Route::AppUserInfo,
        Route::EndSession,
        Route::AppEndSession,
        Route::Introspect,
        Route::AppIntrospect,
        Route::Revoke,
        Route::AppRevoke,
        Route::Login,
        Route::Consent,
        Route::Healthz,
        Route::Readyz,
        Route::Metrics,
        Route::Favicon,
        Route::Landing,
    ];

    /// The path template the router matches.
    pub const fn template(self) -> &'static str {
        match self {
            Route::Token => track!(token),
            Route::AppToken => app!(token),
            Route::Jwks => track!(jwks),
            Route::OpenIdConfiguration => track!(openid),
            Route::OAuthAuthorizationServer => track!(oauth),
            Route::OAuthAuthorizationServerInserted => concat!(suffix!(oauth), "/{tenant}/{track}"),
            Route::AppOpenIdConfiguration => app!(openid),
            Route::AppOAuthAuthorizationServer => app!(oauth),
            Route::Authorize => track!(authorize),
            Route::AppAuthorize => app!(authorize),
            Route::UserInfo => track!(userinfo),
            Route::AppUserInfo => app!(userinfo),
            Route::EndSession => track!(endsession),
            Route::AppEndSession => app!(endsession),
            Route::Introspect => track!(introspect),
            Route::AppIntrospect => app!(introspect),
            Route::Revoke => track!(revoke),
            Route::AppRevoke => app!(revoke),
            Route::Login => track!(login),
            Route::Consent => track!(consent),
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::Metrics => "/metrics",
            Route::Favicon => "/favicon.ico",
            Route::Landing => "/",
        }
    }

    pub const fn method(self) -> Method {
        match self {
            Route::Token
            | Route::AppToken
            | Route::Introspect
            | Route::AppIntrospect
            | Route::Revoke
            | Route::AppRevoke
            | Route::Login
            | Route::Consent => Method::Post,
            Route::Authorize
            | Route::AppAuthorize
            | Route::UserInfo
            | Route::AppUserInfo
            | Route::EndSession
            | Route::AppEndSession => Method::GetOrPost,
            _ => Method::Get,
        }
    }

    /// Protocol endpoints answer errors as RFC 6749 §5.2 JSON and carry no middleware;
    /// the operations routes are the others.
    pub const fn is_protocol(self) -> bool {
        !matches!(self, Route::Healthz | Route::Readyz | Route::Metrics | Route::Favicon | Route::Landing)
    }

    /// The template with its captures filled in (for tests and examples).
    pub fn path(self, tenant: &str, track: &str, app: &str) -> String {
        self.template().replace("{tenant}", tenant).replace("{track}", track).replace("{app}", app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_paths_are_below_the_api_prefix() {
        assert_eq!(object::track("t", "p"), "tenants/t/tracks/p");
        assert_eq!(object::app("t", "p", "a"), "tenants/t/tracks/p/apps/a");
    }

    #[test]
    fn templates_are_distinct_and_absolute() {
        for (i, a) in Route::ALL.iter().enumerate() {
            assert!(a.template().starts_with('/'), "{a:?}");
            assert!(!a.template().starts_with(API_PREFIX), "{a:?}");
            for b in &Route::ALL[i + 1..] {
                assert_ne!(a.template(), b.template(), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn the_provider_endpoints_sit_beside_the_token_endpoint() {
        assert_eq!(provider::AUTHORIZE, "/{tenant}/{track}/oauth/authorize");
        assert_eq!(provider::APP_USERINFO, "/{tenant}/{track}/{app}/oauth/userinfo");
        assert_eq!(provider::END_SESSION, "/{tenant}/{track}/oauth/endsession");
        assert!(Route::ALL.iter().any(|r| r.template() == provider::END_SESSION));
    }

    #[test]
    fn the_served_paths_are_the_documented_ones() {
        let paths: Vec<String> = Route::ALL.iter().map(|r| r.path("t", "p", "a")).collect();
        assert_eq!(
            paths,
            [
                "/t/p/oauth/token",
                "/t/p/a/oauth/token",
                "/t/p/oauth/keys",
                "/t/p/.well-known/openid-configuration",
                "/t/p/.well-known/oauth-authorization-server",
                "/.well-known/oauth-authorization-server/t/p",
                "/t/p/a/.well-known/openid-configuration",
                "/t/p/a/.well-known/oauth-authorization-server",
                "/t/p/oauth/authorize",
                "/t/p/a/oauth/authorize",
                "/t/p/oauth/userinfo",
                "/t/p/a/oauth/userinfo",
                "/t/p/oauth/endsession",
                "/t/p/a/oauth/endsession",
                "/t/p/oauth/introspect",
                "/t/p/a/oauth/introspect",
                "/t/p/oauth/revoke",
                "/t/p/a/oauth/revoke",
                "/t/p/login",
                "/t/p/consent",
                "/healthz",
                "/readyz",
                "/metrics",
                "/favicon.ico",
                "/",
            ]
        );
    }
}
