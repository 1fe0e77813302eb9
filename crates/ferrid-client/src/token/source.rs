//! A shared, self-refreshing token (the token-source model of Go's `x/oauth2`).
//!
//! - One token serves every caller until `refresh_at` (its lifetime minus the margin).
//! - Between `refresh_at` and expiry callers still get it at once while one background
//!   task fetches the next; if that fails the old token is served until it expires.
//! - Without a usable token callers wait on one request (single flight): a caller that
//!   waited on someone else's request gets that request's outcome, never a new request.
//! - A failure starts a jittered, doubling back-off: until it passes, callers get
//!   [`TokenError::CoolingDown`] without a request. A refresh callers wait on retries
//!   retryable failures `policy.retries` times along the same back-off; a background
//!   refresh makes one attempt (the current token still serves).
//! - A token is never served at or after its expiry.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::time::{Duration, Instant};

use super::{
    config::ClientCredentialsConfig,
    error::{ConfigError, TokenError},
    policy::RefreshPolicy,
    request::{TokenClient, default_http_client},
    response::{TokenResponse, jwt_exp},
};

/// An access token held by a [`TokenSource`].
pub struct Token {
    response: TokenResponse,
    expires_at: Instant,
    refresh_at: Instant,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token").field("expires_at", &self.expires_at).field("refresh_at", &self.refresh_at).finish()
    }
}

impl Token {
    fn new(response: TokenResponse, sent: Instant, policy: &RefreshPolicy) -> Token {
        let lifetime = match response.expires_in {
            Some(s) => Duration::from_secs(s.max(1)),
            None => jwt_lifetime(&response.access_token).unwrap_or(policy.default_lifetime),
        };
        // Counted from when the request was sent: the server's clock started no earlier.
        Token { expires_at: sent + lifetime, refresh_at: sent + policy.refresh_after(lifetime), response }
    }

    /// The access token.
    pub fn access_token(&self) -> &str {
        &self.response.access_token
    }

    /// The `Authorization` header value: `Bearer <token>`.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.response.access_token)
    }

    /// When the token stops being served.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// When a refresh starts.
    pub fn refresh_at(&self) -> Instant {
        self.refresh_at
    }

    /// The token response it came from.
    pub fn response(&self) -> &TokenResponse {
        &self.response
    }
}

fn jwt_lifetime(token: &str) -> Option<Duration> {
    let now = crate::env::unix_now();
    jwt_exp(token).filter(|exp| *exp > now).map(|exp| Duration::from_secs(exp - now))
}

#[derive(Default)]
struct State {
    token: Option<Arc<Token>>,
    /// Bumped when a refresh ends, successful or not.
    round: u64,
    failure: Option<Failure>,
}

struct Failure {
    error: TokenError,
    streak: u32,
    retry_at: Instant,
}

struct Inner {
    client: TokenClient,
    policy: RefreshPolicy,
    state: Mutex<State>,
    flight: Arc<tokio::sync::Mutex<()>>,
}

/// One cached token shared by all clones; see the module documentation.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

enum Peek {
    Fresh(Arc<Token>),
    Stale(Arc<Token>),
    Cooling(TokenError),
    Need(u64),
}

impl TokenSource {
    /// A source with its own HTTP client and the default policy.
    pub fn new(config: ClientCredentialsConfig) -> Result<TokenSource, ConfigError> {
        Ok(TokenSource::with_client(TokenClient::new(config, default_http_client()?)?, RefreshPolicy::default()))
    }

    /// A source over an existing client, with `policy`.
    pub fn with_client(client: TokenClient, policy: RefreshPolicy) -> TokenSource {
        let inner = Inner { client, policy, state: Mutex::default(), flight: Arc::default() };
        TokenSource { inner: Arc::new(inner) }
    }

    /// The client making the requests.
    pub fn client(&self) -> &TokenClient {
        &self.inner.client
    }

    /// A token valid now; see the module documentation for when this makes a request.
    pub async fn token(&self) -> Result<Arc<Token>, TokenError> {
        let round = match self.peek(crate::env::now()) {
            Peek::Fresh(t) => return Ok(t),
            Peek::Stale(t) => {
                self.refresh_in_background();
                return Ok(t);
            }
            Peek::Cooling(e) => return Err(e),
            Peek::Need(round) => round,
        };
        let _flight = self.inner.flight.lock().await;
        {
            let s = self.state();
            if s.round != round {
                // A refresh ended while we waited: share its outcome.
                if let Some(t) = s.token.as_ref().filter(|t| crate::env::now() < t.expires_at) {
                    return Ok(t.clone());
                }
                if let Some(f) = &s.failure {
                    return Err(f.error.clone());
                }
            }
        }
        self.refresh_locked(self.inner.policy.retries).await
    }

    /// Drops `token` if it is still the current one (e.g. a resource server refused it),
    /// so that the next call fetches another.
    pub fn invalidate(&self, token: &Arc<Token>) {
        let mut s = self.state();
        if s.token.as_ref().is_some_and(|t| Arc::ptr_eq(t, token)) {
            s.token = None;
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn peek(&self, now: Instant) -> Peek {
        let s = self.state();
        if let Some(t) = &s.token {
            if now < t.refresh_at {
                return Peek::Fresh(t.clone());
            }
            if now < t.expires_at {
                return Peek::Stale(t.clone());
            }
        }
        match &s.failure {
            Some(f) if now < f.retry_at => {
                Peek::Cooling(TokenError::CoolingDown { retry_in: f.retry_at - now, last: Box::new(f.error.clone()) })
            }
            _ => Peek::Need(s.round),
        }
    }

    fn refresh_in_background(&self) {
        let Ok(guard) = self.inner.flight.clone().try_lock_owned() else {
            return; // a refresh is already running
        };
        let now = crate::env::now();
        {
            let s = self.state();
            let fresh = s.token.as_ref().is_some_and(|t| now < t.refresh_at);
            let cooling = s.failure.as_ref().is_some_and(|f| now < f.retry_at);
            if fresh || cooling {
                return;
            }
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _flight = guard;
            // One attempt: the current token still serves, the back-off spaces the next.
            if let Err(e) = this.refresh_locked(0).await {
                tracing::warn!(error = %e, "background token refresh failed; the current token is served until it expires");
            }
        });
    }

    /// Fetches a token, retrying retryable failures `retries` times; the caller holds the
    /// flight lock.
    async fn refresh_locked(&self, retries: u32) -> Result<Arc<Token>, TokenError> {
        let policy = &self.inner.policy;
        let mut streak = self.state().failure.as_ref().map_or(0, |f| f.streak);
        let mut attempt = 0;
        loop {
            let sent = crate::env::now();
            let result = self.inner.client.request().await;
            let mut s = self.state();
            match result {
                Ok(resp) => {
                    let token = Arc::new(Token::new(resp, sent, policy));
                    s.token = Some(token.clone());
                    s.failure = None;
                    s.round += 1;
                    return Ok(token);
                }
                Err(error) => {
                    streak += 1;
                    let delay = policy.backoff(streak);
                    if error.is_retryable() && attempt < retries {
                        attempt += 1;
                        drop(s);
                        tracing::debug!(%error, ?delay, "token request failed; retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    s.failure = Some(Failure { error: error.clone(), streak, retry_at: crate::env::now() + delay });
                    s.round += 1;
                    return Err(error);
                }
            }
        }
    }
}
