//! The token request (RFC 6749 §4.4.2), typed: one variant per grant the server offers,
//! read from a form that has already passed the content-type and duplicate-parameter
//! checks (RFC 6749 §3.2). An unknown grant is refused here, before any client is
//! authenticated.
//!
//! Client-authentication parameters (`client_id`, `client_secret`, `client_assertion*`)
//! are not part of the request: the server reads them from the same form.

use crate::{error::OAuthError, form::Form};

/// A token request, by grant.
#[derive(Debug, Clone, Copy)]
pub enum TokenRequest<'f> {
    /// RFC 6749 §4.4.2 `grant_type=client_credentials`.
    ClientCredentials(ClientCredentials<'f>),
    /// RFC 6749 §4.1.3 `grant_type=authorization_code`, with RFC 7636 §4.5's verifier.
    AuthorizationCode(AuthorizationCode<'f>),
    /// RFC 6749 §6 `grant_type=refresh_token`.
    RefreshToken(RefreshToken<'f>),
}

/// The parameters of an authorization-code request.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationCode<'f> {
    pub code: &'f str,
    /// Required when the authorization request carried one (RFC 6749 §4.1.3); ferrid
    /// always requires one there, so here too.
    pub redirect_uri: Option<&'f str>,
    /// RFC 7636 §4.5.
    pub code_verifier: Option<&'f str>,
}

/// The parameters of a refresh request.
#[derive(Debug, Clone, Copy)]
pub struct RefreshToken<'f> {
    pub refresh_token: &'f str,
    /// A scope no wider than the grant's (RFC 6749 §6).
    pub scope: Option<&'f str>,
}

/// The parameters of a client-credentials request.
#[derive(Debug, Clone, Copy)]
pub struct ClientCredentials<'f> {
    /// RFC 6749 §3.3: space-delimited scope tokens.
    pub scope: Option<&'f str>,
    /// Auth0's `audience`: repeated, or several values separated by spaces.
    pub audience: Repeated<'f>,
    /// RFC 8707 §2 `resource`: repeatable.
    pub resource: Repeated<'f>,
}

impl ClientCredentials<'_> {
    /// Whether the request names what it wants (scope, audience or resource); without
    /// any of them the grant decides.
    pub fn is_explicit(&self) -> bool {
        self.scope.is_some() || !self.audience.is_empty() || !self.resource.is_empty()
    }
}

/// Every value of a repeatable parameter, read from the form without copying.
#[derive(Clone, Copy)]
pub struct Repeated<'f> {
    form: &'f Form<'f>,
    name: &'static str,
}

impl<'f> Repeated<'f> {
    /// The values in the order sent (empty values were dropped as omitted, §3.1).
    pub fn iter(self) -> impl Iterator<Item = &'f str> + 'f {
        self.form.all(self.name)
    }

    pub fn is_empty(&self) -> bool {
        !self.form.contains(self.name)
    }
}

impl std::fmt::Debug for Repeated<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'f> TokenRequest<'f> {
    /// Reads `grant_type` and the parameters of that grant.
    pub fn from_form(form: &'f Form<'f>) -> Result<TokenRequest<'f>, OAuthError> {
        match form.get("grant_type") {
            // RFC 6749 §4.4.2: grant_type is required.
            None => Err(OAuthError::invalid_request("grant_type is required")),
            Some("client_credentials") => Ok(TokenRequest::ClientCredentials(ClientCredentials {
                scope: form.get("scope"),
                audience: Repeated { form, name: "audience" },
                resource: Repeated { form, name: "resource" },
            })),
            Some("authorization_code") => Ok(TokenRequest::AuthorizationCode(AuthorizationCode {
                code: form.get("code").ok_or_else(|| OAuthError::invalid_request("code is required"))?,
                redirect_uri: form.get("redirect_uri"),
                code_verifier: form.get("code_verifier"),
            })),
            Some("refresh_token") => Ok(TokenRequest::RefreshToken(RefreshToken {
                refresh_token: form
                    .get("refresh_token")
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?,
                scope: form.get("scope"),
            })),
            // RFC 9700 §2.4: the resource owner password credentials grant is not offered.
            Some("password") => Err(OAuthError::unsupported_grant_type("the password grant is not supported")),
            // RFC 6749 §5.2 unsupported_grant_type.
            Some(_) => Err(OAuthError::unsupported_grant_type("this grant type is not supported")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn refused(body: &[u8]) -> OAuthError {
        let form = Form::parse(body).expect("form parses");
        TokenRequest::from_form(&form).expect_err("refused")
    }

    #[test]
    fn a_missing_grant_type_is_invalid_request() {
        let e = refused(b"scope=a");
        assert_eq!((e.error, e.description.as_deref()), (ErrorCode::InvalidRequest, Some("grant_type is required")));
        // an empty value counts as omitted (RFC 6749 §3.1)
        assert_eq!(refused(b"grant_type=").error, ErrorCode::InvalidRequest);
    }

    #[test]
    fn the_password_grant_is_refused_by_name() {
        let e = refused(b"grant_type=password&username=u&password=p");
        assert_eq!(e.error, ErrorCode::UnsupportedGrantType);
        assert_eq!(e.description.as_deref(), Some("the password grant is not supported"));
    }

    #[test]
    fn any_other_grant_is_unsupported() {
        for grant in ["implicit", "urn:x", "CLIENT_CREDENTIALS"] {
            let e = refused(format!("grant_type={grant}").as_bytes());
            assert_eq!(e.error, ErrorCode::UnsupportedGrantType, "{grant}");
            assert_eq!(e.description.as_deref(), Some("this grant type is not supported"));
        }
    }

    #[test]
    fn client_credentials_reads_scope_audience_and_resource() {
        let form =
            Form::parse(b"grant_type=client_credentials&scope=a:b&audience=x+y&audience=z&resource=r1&resource=r2")
                .unwrap();
        let TokenRequest::ClientCredentials(cc) = TokenRequest::from_form(&form).unwrap() else { panic!() };
        assert_eq!(cc.scope, Some("a:b"));
        assert_eq!(cc.audience.iter().collect::<Vec<_>>(), ["x y", "z"]);
        assert_eq!(cc.resource.iter().collect::<Vec<_>>(), ["r1", "r2"]);
        assert!(cc.is_explicit());
    }

    #[test]
    fn client_credentials_without_a_target_is_not_explicit() {
        let form = Form::parse(b"grant_type=client_credentials&client_id=c&scope=&resource=").unwrap();
        let TokenRequest::ClientCredentials(cc) = TokenRequest::from_form(&form).unwrap() else { panic!() };
        assert!(!cc.is_explicit());
        assert!(cc.audience.is_empty() && cc.resource.is_empty());
    }

    #[test]
    fn authorization_code_requires_the_code() {
        let e = refused(b"grant_type=authorization_code&redirect_uri=x");
        assert_eq!((e.error, e.description.as_deref()), (ErrorCode::InvalidRequest, Some("code is required")));
        let form = Form::parse(b"grant_type=authorization_code&code=c&redirect_uri=r&code_verifier=v").unwrap();
        let TokenRequest::AuthorizationCode(ac) = TokenRequest::from_form(&form).unwrap() else { panic!() };
        assert_eq!((ac.code, ac.redirect_uri, ac.code_verifier), ("c", Some("r"), Some("v")));
    }

    #[test]
    fn refresh_requires_the_refresh_token() {
        let e = refused(b"grant_type=refresh_token&scope=openid");
        assert_eq!(e.description.as_deref(), Some("refresh_token is required"));
    }
}
