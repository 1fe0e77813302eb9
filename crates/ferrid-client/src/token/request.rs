//! One token request (RFC 6749 §4.4.2) and its answer (§5.1, §5.2), with the client
//! authenticated by Basic, by the body, by "auto" (Basic, then the body once on
//! `invalid_client`, remembered) or by a `private_key_jwt` assertion.

use std::{
    sync::atomic::{AtomicU8, Ordering},
    time::Duration,
};

use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::ExposeSecret;

use super::{
    assertion::{ASSERTION_TYPE, AssertionSigner},
    config::{AuthStyle, ClientCredentialsConfig},
    error::{ConfigError, TokenError},
    response::TokenResponse,
};

/// Largest token response read, bytes.
const MAX_BODY: usize = 64 * 1024;
const UNKNOWN: u8 = 0;
const BASIC: u8 = 1;
const POST: u8 = 2;

/// How the credentials travel in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    Basic,
    Body,
    Assertion,
    /// `endpoint_params` already hold them.
    Params,
    /// No secret and no key: `client_id` alone (a public client, revocation only).
    Public,
}

/// Makes token requests for one client; holds no token (see [`super::TokenSource`]).
#[derive(Debug)]
pub struct TokenClient {
    http: reqwest::Client,
    cfg: ClientCredentialsConfig,
    signer: Option<AssertionSigner>,
    learned: AtomicU8,
}

/// The HTTP client used for token and key requests: no redirects (a token request must
/// not be replayed elsewhere), bounded time.
pub fn default_http_client() -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("ferrid/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Http(e.to_string()))
}

/// Checks that `url` is an absolute `http://` or `https://` URL (HTTPS is verified
/// against the operating system's trust store).
pub fn check_url(url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| ConfigError::BadTokenUrl(url.to_owned()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.has_host() => Ok(()),
        _ => Err(ConfigError::BadTokenUrl(url.to_owned())),
    }
}

impl TokenClient {
    /// Checks the configuration and reads the key, if any.
    pub fn new(cfg: ClientCredentialsConfig, http: reqwest::Client) -> Result<TokenClient, ConfigError> {
        let client = TokenClient::new_public_allowed(cfg, http)?;
        if client.plan() == Carry::Public {
            return Err(ConfigError::NoCredentials(client.cfg.client_id.clone()));
        }
        Ok(client)
    }

    /// Like [`TokenClient::new`], but a client with neither secret nor key is accepted:
    /// it sends its `client_id` alone, as a public client does at a revocation endpoint
    /// (RFC 7009 §2.1). Token requests by such a client are refused by the server.
    pub fn new_public_allowed(cfg: ClientCredentialsConfig, http: reqwest::Client) -> Result<TokenClient, ConfigError> {
        check_url(&cfg.token_url)?;
        let signer = match &cfg.private_key_jwt {
            Some(k) => Some(AssertionSigner::load(k, &cfg.client_id, &cfg.token_url)?),
            None => None,
        };
        Ok(TokenClient { http, cfg, signer, learned: AtomicU8::new(UNKNOWN) })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientCredentialsConfig {
        &self.cfg
    }

    /// With `auth: auto`, the style found to work so far (`None` before the first success).
    pub fn learned_style(&self) -> Option<AuthStyle> {
        match self.learned.load(Ordering::Relaxed) {
            BASIC => Some(AuthStyle::Basic),
            POST => Some(AuthStyle::Post),
            _ => None,
        }
    }

    /// Requests a token. With `auth: auto` a Basic attempt refused as `invalid_client`
    /// (or 401) is repeated once with the credentials in the body, and what worked is kept.
    pub async fn request(&self) -> Result<TokenResponse, TokenError> {
        let mut fields = vec![("grant_type", "client_credentials".to_owned())];
        if !self.cfg.scopes.is_empty() {
            fields.push(("scope", self.cfg.scopes.join(" ")));
        }
        let body = self.exchange(&self.cfg.token_url, &fields, true).await?;
        TokenResponse::parse(&body)
    }

    /// Posts `fields` to `url` with this client's authentication and returns a 2xx body;
    /// any other status is a [`TokenError`]. `token_request` adds `endpoint_params`;
    /// otherwise only the credentials they may hold are sent.
    pub(crate) async fn exchange(
        &self,
        url: &str,
        fields: &[(&str, String)],
        token_request: bool,
    ) -> Result<Vec<u8>, TokenError> {
        let plan = self.plan();
        let first = self.send(url, fields, token_request, plan).await;
        let probing = self.cfg.auth == AuthStyle::Auto && plan == Carry::Basic;
        if !probing || self.learned.load(Ordering::Relaxed) != UNKNOWN {
            return first;
        }
        match first {
            Ok(r) => {
                self.learned.store(BASIC, Ordering::Relaxed);
                Ok(r)
            }
            Err(e) if refuses_client(&e) => {
                let second = self.send(url, fields, token_request, Carry::Body).await;
                if second.is_ok() {
                    tracing::info!(%url, "the server wants the client credentials in the body; remembered");
                    self.learned.store(POST, Ordering::Relaxed);
                }
                second
            }
            Err(e) => Err(e),
        }
    }

    fn plan(&self) -> Carry {
        if self.signer.is_some() {
            return Carry::Assertion;
        }
        if self.cfg.secret_in_params() {
            return Carry::Params;
        }
        if self.cfg.client_secret.is_none() {
            return Carry::Public;
        }
        match self.cfg.auth {
            AuthStyle::Basic => Carry::Basic,
            AuthStyle::Post => Carry::Body,
            AuthStyle::Auto if self.learned.load(Ordering::Relaxed) == POST => Carry::Body,
            AuthStyle::Auto => Carry::Basic,
        }
    }

    async fn send(
        &self,
        url: &str,
        fields: &[(&str, String)],
        token_request: bool,
        how: Carry,
    ) -> Result<Vec<u8>, TokenError> {
        let (req, body) = self.build(url, fields, token_request, how)?;
        let resp = req.body(body).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = read_limited(resp).await?;
        if (200..300).contains(&status) { Ok(body) } else { Err(refusal(status, &body)) }
    }

    /// The request and its form body (RFC 6749 §4.4.2 for a token request).
    fn build(
        &self,
        url: &str,
        fields: &[(&str, String)],
        token_request: bool,
        how: Carry,
    ) -> Result<(reqwest::RequestBuilder, String), TokenError> {
        let cfg = &self.cfg;
        let secret = || cfg.client_secret.as_ref().map(|s| s.expose_secret()).unwrap_or_default();
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        for (k, v) in &cfg.endpoint_params {
            if token_request || (how == Carry::Params && (k == "client_id" || k == "client_secret")) {
                for v in v.values() {
                    form.append_pair(k, v);
                }
            }
        }
        let mut req = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        match how {
            Carry::Basic => req = req.header(AUTHORIZATION, basic(&cfg.client_id, secret())),
            Carry::Body => {
                form.append_pair("client_id", &cfg.client_id);
                form.append_pair("client_secret", secret());
            }
            Carry::Assertion => {
                let signer = self.signer.as_ref().expect("planned only with a signer");
                form.append_pair("client_id", &cfg.client_id);
                form.append_pair("client_assertion_type", ASSERTION_TYPE);
                form.append_pair("client_assertion", &signer.sign()?);
            }
            Carry::Public => {
                form.append_pair("client_id", &cfg.client_id);
            }
            Carry::Params => {}
        }
        Ok((req, form.finish()))
    }
}

/// RFC 6749 §2.3.1: id and secret are form-url-encoded, then joined and base64-encoded.
fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn refuses_client(e: &TokenError) -> bool {
    match e {
        TokenError::Refused { status, error, .. } => *status == 401 || error == "invalid_client",
        TokenError::Http { status } => *status == 401,
        _ => false,
    }
}

fn refusal(status: u16, body: &[u8]) -> TokenError {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => TokenError::Refused { status, error: b.error, description: b.error_description },
        Err(_) => TokenError::Http { status },
    }
}

fn transport(e: reqwest::Error) -> TokenError {
    TokenError::Transport(error_chain(&e))
}

/// The error and its causes, one line; reqwest errors name the URL, never a header or body.
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() { format!("timed out ({e})") } else { e.to_string() };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, TokenError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(TokenError::BadResponse(format!("response larger than {MAX_BODY} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_url_encoded_first() {
        let h = basic("my:client", "s+c r%t");
        let c = ferrid_oauth::basic::parse_basic(&h).unwrap();
        assert_eq!((c.client_id.as_str(), c.secret.as_str()), ("my:client", "s+c r%t"));
        let raw = base64::engine::general_purpose::STANDARD.decode(&h[6..]).unwrap();
        assert_eq!(String::from_utf8(raw).unwrap(), "my%3Aclient:s%2Bc+r%25t");
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("http://127.0.0.1:1/token").is_ok());
        assert!(check_url("ftp://x/token").is_err());
        assert!(check_url("/token").is_err());
        assert!(check_url("https://id.example.com/oauth/token").is_ok());
        assert!(check_url("https://").is_err());
    }

    #[test]
    fn refusals_keep_the_oauth_code() {
        let e = refusal(401, br#"{"error":"invalid_client","error_description":"nope"}"#);
        assert_eq!(e.oauth_error(), Some("invalid_client"));
        assert!(refuses_client(&e));
        assert_eq!(refusal(502, b"<html>"), TokenError::Http { status: 502 });
        assert!(refusal(503, b"").is_retryable());
        assert!(!refusal(400, br#"{"error":"invalid_scope"}"#).is_retryable());
    }
}
