//! The token endpoint (RFC 6749 §3.2), as an ordered list of checks.

use ferrid_oauth::{OAuthError, discovery::TokenResponse, form::Form, token::TokenRequest};

use crate::{
    client_auth::{self, Credentials, secret::Attempt},
    grant::{
        authorization_code::{self, UserPorts},
        client_credentials, refresh_token,
    },
    model::{GrantType, UnixTime},
    runtime::{ClientRuntime, TrackRuntime},
    store::{GrantStore, ReplayGuard, UserStore},
    throttle::Throttle,
};

/// The parts of the HTTP request the token endpoint reads.
pub struct TokenHttpRequest<'a> {
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
    /// The `{app}` of an app-scoped URL (`…/{app}/oauth/token`).
    pub app: Option<&'a str>,
    /// The peer address, for throttling failed authentication.
    pub source: Option<std::net::IpAddr>,
}

/// What the endpoint needs besides the request: the replay guard (for a client
/// assertion's `jti`), the grants and users (reached only by the user grants: the client
/// credentials grant touches no store), the failure throttle and the time.
pub struct TokenContext<'a> {
    pub replay: &'a dyn ReplayGuard,
    pub grants: &'a dyn GrantStore,
    pub users: &'a dyn UserStore,
    /// Where revoked access tokens go (a reused code or refresh token revokes a grant).
    pub denied: &'a crate::runtime::DenyList,
    pub throttle: &'a Throttle,
    pub now: UnixTime,
    /// The jti of each token (the server's injected `env::Rng`).
    pub rng: &'a dyn crate::env::Rng,
}

pub async fn token(
    track: &TrackRuntime,
    req: TokenHttpRequest<'_>,
    ctx: TokenContext<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = ctx.now;
    // RFC 6749 §3.2: the body is application/x-www-form-urlencoded.
    check_content_type(req.content_type)?;
    // RFC 6749 §3.2: no parameter twice; §3.1: empty means omitted.
    let form = Form::parse(req.body)?;
    // RFC 6749 §4.4.2: grant_type is required; an unknown grant (RFC 9700 §2.4: the
    // password grant among them) is refused before the client authenticates.
    let request = TokenRequest::from_form(&form)?;
    // RFC 6749 §2.3, §3.2.1: the client authenticates.
    let creds = client_auth::extract(req.authorization, &form)?;
    let client = authenticate(track, &creds, &req, ctx.replay, ctx.throttle, now).await?;
    // RFC 6749 §5.2 unauthorized_client: the grant must be one the client registered.
    let grant = match &request {
        TokenRequest::ClientCredentials(_) => GrantType::ClientCredentials,
        TokenRequest::AuthorizationCode(_) => GrantType::AuthorizationCode,
        TokenRequest::RefreshToken(_) => GrantType::RefreshToken,
    };
    // RFC 6749 §4.4: the client credentials grant is for confidential clients only; a
    // public client is never one, whatever it registered.
    let public = client.method == crate::model::ClientAuthMethod::None;
    if !client.allows(grant) || (public && grant == GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ferrid_oauth::ErrorCode::UnauthorizedClient,
            format!("this client is not registered for the {} grant", grant.as_str()),
        ));
    }
    let ports = UserPorts { grants: ctx.grants, users: ctx.users, denied: ctx.denied };
    // RFC 6749 §4.4.3, RFC 9068: issue the token.
    let issued = match &request {
        TokenRequest::ClientCredentials(cc) => client_credentials::issue(track, client, cc, now, ctx.rng)?,
        TokenRequest::AuthorizationCode(ac) => {
            return authorization_code::redeem(track, client, ac, &ports, now, ctx.rng).await;
        }
        TokenRequest::RefreshToken(rt) => return refresh_token::refresh(track, client, rt, &ports, now, ctx.rng).await,
    };
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in.into(),
        scope: issued.scope,
        refresh_token: None,
        id_token: None,
    })
}

/// Authenticates the client of a request by its credentials (docs/protocol.md "The order
/// of the checks", steps 6–7): a secret under the failure throttle, an assertion (or no
/// credential: a public client) after the source's bucket is consulted. Shared by the
/// token, introspection and revocation endpoints.
pub async fn authenticate<'t>(
    track: &'t TrackRuntime,
    creds: &Credentials<'_>,
    req: &TokenHttpRequest<'_>,
    replay: &dyn ReplayGuard,
    throttle: &Throttle,
    now: UnixTime,
) -> Result<&'t ClientRuntime, OAuthError> {
    let secret = match creds {
        Credentials::Basic { secret, .. } => Some(secret.as_str()),
        Credentials::Post { secret, .. } => Some(*secret),
        Credentials::Assertion { .. } | Credentials::None { .. } => None,
    };
    match secret {
        // docs/protocol.md "Throttling of failed client authentication": a secret is checked under the failure throttle.
        Some(secret) => {
            let at = Attempt { throttle, source: req.source, now };
            client_auth::secret::authenticate(track, creds, secret, req.app, &at).await
        }
        None => by_assertion(track, creds, req, replay, throttle, now).await,
    }
}

/// A client assertion (or no credential at all): a held-back source is refused before
/// the assertion is checked, and a failure takes a token afterwards (`docs/protocol.md`
/// "Throttling of failed client authentication").
async fn by_assertion<'t>(
    track: &'t TrackRuntime,
    creds: &Credentials<'_>,
    req: &TokenHttpRequest<'_>,
    replay: &dyn ReplayGuard,
    throttle: &Throttle,
    now: UnixTime,
) -> Result<&'t ClientRuntime, OAuthError> {
    let client_id = creds.client_id();
    let registered = client_id.and_then(|id| track.clients.get(id)).map(|c| c.name.as_str());
    if let Some(ip) = req.source
        && let Some(wait) = throttle.check(registered, ip).wait()
    {
        return Err(OAuthError::throttled(wait.as_secs().saturating_add(1)));
    }
    let authenticated = client_auth::authenticate(track, creds, replay, now)
        .await
        // docs/protocol.md: on an app-scoped URL the client must be that app.
        .and_then(|c| match req.app {
            Some(app) if app != c.name.as_str() => Err(OAuthError::invalid_client()),
            _ => Ok(c),
        });
    if let (Err(e), Some(ip)) = (&authenticated, req.source)
        && e.error == ferrid_oauth::ErrorCode::InvalidClient
    {
        throttle.failed(crate::throttle::Attempt {
            tenant: &track.tenant,
            track: &track.track,
            client: client_id,
            registered: registered.is_some(),
            source: ip,
            at: now,
        });
    }
    authenticated
}

pub(crate) fn check_content_type(content_type: Option<&str>) -> Result<(), OAuthError> {
    let essence = content_type.and_then(|c| c.split(';').next()).map(str::trim);
    match essence {
        Some(e) if e.eq_ignore_ascii_case("application/x-www-form-urlencoded") => Ok(()),
        _ => Err(OAuthError::invalid_request("the request body must be application/x-www-form-urlencoded")),
    }
}
