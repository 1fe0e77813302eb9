//! The management API seen from the command line: one bearer token, JSON in and out,
//! every failure turned into a [`Failure`] that knows its exit status.

use std::time::Duration;

use ferrid_client::token::{AuthStyle, ClientCredentialsConfig, FetchError, TokenError, fetch_token};
use reqwest::{Method, StatusCode, Url, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::Connection;
use crate::exit::Exit;

/// Why a command failed; [`Failure::exit_code`] is the process status (docs/cli.md).
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or an unreadable local file (exit 2).
    Usage(String),
    /// No token could be obtained (exit 3).
    Auth(String),
    /// The API answered with an error (exit 3, 4 or 1 by status).
    Api { status: u16, error: String, message: String, fields: Vec<(String, String)> },
    /// The server could not be reached (exit 5).
    Unreachable(String),
    /// Anything else (exit 1).
    Other(String),
}

impl Failure {
    pub fn exit_code(&self) -> Exit {
        match self {
            Failure::Usage(_) => Exit::Usage,
            Failure::Auth(_) => Exit::Auth,
            Failure::Api { status, .. } => crate::exit::for_http_status(*status),
            Failure::Unreachable(_) => Exit::Network,
            Failure::Other(_) => Exit::Failed,
        }
    }

    /// The lines printed on standard error.
    pub fn report(&self) -> String {
        match self {
            Failure::Usage(m) | Failure::Auth(m) | Failure::Unreachable(m) | Failure::Other(m) => m.clone(),
            Failure::Api { status, error, message, fields } => {
                let headline = if fields.is_empty() { message.as_str() } else { "the request has invalid fields" };
                let mut out = format!("{headline} (HTTP {status} {error})");
                for (field, msg) in fields {
                    out.push_str(&format!("\n  {field}: {msg}"));
                }
                if *status == 412 {
                    out.push_str("\n  someone changed it after it was read: get it again, then retry the update");
                }
                out
            }
        }
    }
}

/// One successful answer.
pub struct Reply {
    pub etag: Option<String>,
    pub body: Value,
}

/// An authenticated connection to the management API.
pub struct Api {
    http: reqwest::Client,
    base: Url,
    bearer: SecretString,
    page_size: u32,
}

/// `base` with `segments` appended (each percent-encoded), keeping any path prefix.
pub fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

fn parse_base(s: &str) -> Result<Url, Failure> {
    let url = Url::parse(s).map_err(|e| Failure::Usage(format!("--url {s:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Failure::Usage(format!("--url {s:?} must be an http:// or https:// URL")));
    }
    Ok(url)
}

impl Api {
    /// Parses the URL and obtains the bearer token (given, or by client credentials).
    pub async fn connect(conn: &Connection) -> Result<Api, Failure> {
        let base = parse_base(&conn.url)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("ferrid-admin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::Other(format!("HTTP client: {e}")))?;
        let bearer = match &conn.token {
            Some(t) => SecretString::from(t.trim().to_owned()),
            None => client_credentials(conn, &base).await?,
        };
        Ok(Api { http, base, bearer, page_size: conn.page_size })
    }

    /// `{url}/api/v1/{segments…}`.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        join(&self.base, &all)
    }

    pub async fn get(&self, segments: &[&str]) -> Result<Reply, Failure> {
        self.call(Method::GET, self.url(segments), None, None).await
    }

    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Reply, Failure> {
        self.call(Method::POST, self.url(segments), Some(body), None).await
    }

    pub async fn delete(&self, segments: &[&str]) -> Result<Reply, Failure> {
        self.call(Method::DELETE, self.url(segments), None, None).await
    }

    /// PATCH or PUT with `If-Match: "{version}"`.
    pub async fn write(&self, method: Method, segments: &[&str], body: &Value, etag: &str) -> Result<Reply, Failure> {
        self.call(method, self.url(segments), Some(body), Some(etag)).await
    }

    /// Every item of a listing, following the `next` cursor to the end.
    pub async fn list_all(&self, segments: &[&str]) -> Result<Vec<Value>, Failure> {
        self.list_filtered(segments, &[]).await
    }

    /// [`Api::list_all`] with query filters (`username=al`).
    pub async fn list_filtered(&self, segments: &[&str], filters: &[(&str, &str)]) -> Result<Vec<Value>, Failure> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = self.url(segments);
            url.query_pairs_mut().extend_pairs(filters).append_pair("limit", &self.page_size.to_string());
            if let Some(a) = &after {
                url.query_pairs_mut().append_pair("after", a);
            }
            let mut body = self.call(Method::GET, url, None, None).await?.body;
            if let Some(Value::Array(page)) = body.get_mut("items").map(Value::take) {
                items.extend(page);
            }
            match body.get("next").and_then(Value::as_str) {
                Some(next) if after.as_deref() != Some(next) => after = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut req = self.http.request(method, url.clone()).bearer_auth(self.bearer.expose_secret());
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(tag) = if_match {
            req = req.header(header::IF_MATCH, tag);
        }
        let resp = req.send().await.map_err(|e| unreachable(&url, &e))?;
        let status = resp.status();
        let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = resp.text().await.map_err(|e| unreachable(&url, &e))?;
        let body =
            if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(Reply { etag, body });
        }
        Err(api_failure(status, &body, &text))
    }
}

fn unreachable(url: &Url, e: &reqwest::Error) -> Failure {
    let mut msg = format!("cannot reach {}://{}", url.scheme(), url.authority());
    // reqwest's own message repeats the URL; its causes say what happened.
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e).or(Some(e));
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    Failure::Unreachable(msg)
}

fn api_failure(status: StatusCode, body: &Value, text: &str) -> Failure {
    let str_of = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let fields = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    (s("field"), s("message"))
                })
                .collect()
        })
        .unwrap_or_default();
    let fallback = || {
        let snippet: String = text.chars().take(200).collect();
        if snippet.trim().is_empty() { "the server refused the request".to_owned() } else { snippet }
    };
    Failure::Api {
        status: status.as_u16(),
        error: str_of("error").unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        message: str_of("message").unwrap_or_else(fallback),
        fields,
    }
}

/// The token endpoint and scope the credentials are used at: the `master` tenant's
/// `master` track for `ferrid-api:admin`, or a tenant's `master` track for
/// `ferrid-api:tenant` (`--auth-tenant`).
pub fn token_endpoint(base: &Url, auth_tenant: &str) -> (Url, &'static str) {
    let url = join(base, &[auth_tenant, "master", "oauth", "token"]);
    (url, if auth_tenant == "master" { "ferrid-api:admin" } else { "ferrid-api:tenant" })
}

async fn client_credentials(conn: &Connection, base: &Url) -> Result<SecretString, Failure> {
    let secret =
        conn.client_secret.clone().or_else(|| std::env::var("FERRID_ADMIN_SECRET").ok()).filter(|s| !s.is_empty());
    let Some(secret) = secret else {
        return Err(Failure::Usage(
            "no credentials: give --token (FERRID_TOKEN), or --client-secret (FERRID_CLIENT_SECRET or \
             FERRID_ADMIN_SECRET) for client --client-id"
                .into(),
        ));
    };
    let (token_url, scope) = token_endpoint(base, &conn.auth_tenant);
    let mut cfg = ClientCredentialsConfig::new(conn.client_id.clone(), secret, token_url.to_string());
    cfg.auth = AuthStyle::Basic;
    cfg.scopes = vec![scope.to_owned()];
    match fetch_token(cfg).await {
        Ok(r) => Ok(SecretString::from(r.access_token)),
        Err(FetchError::Config(e)) => Err(Failure::Usage(format!("{e}"))),
        Err(FetchError::Token(TokenError::Transport(e))) => Err(Failure::Unreachable(format!("{token_url}: {e}"))),
        Err(FetchError::Token(e)) => Err(Failure::Auth(format!(
            "could not get a management token for client '{}' at {token_url}: {e}",
            conn.client_id
        ))),
    }
}
