//! Forwarding one request: validate the caller's token if the endpoint asks, build the
//! backend URL from the pattern (each path parameter one segment), keep only the listed
//! headers and query parameters, drop hop-by-hop headers (RFC 9110 §7.6.1), set the
//! propagated claims and the backend's token, stream both bodies. A backend that cannot
//! be reached gives 502 (504 after the timeout) with a fixed body: no cause, no token, no
//! secret.

use std::{
    fmt::Write as _,
    net::{IpAddr, SocketAddr},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, RawPathParams, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use hyper_util::client::legacy::{Client, connect::HttpConnector};

use super::config::Piece;
use crate::{
    token::TokenSource,
    validate::{Claims, Validator},
};

/// The HTTP client for backends.
pub(crate) type BackendClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

/// Everything needed to forward one endpoint's requests.
pub(crate) struct Route {
    pub endpoint: String,
    pub input_headers: Pass<HeaderName>,
    pub input_query: Pass<String>,
    pub method: Method,
    pub hosts: Vec<String>,
    pub next: AtomicUsize,
    pub pattern: Vec<Piece>,
    pub token: Option<TokenSource>,
    pub validator: Option<Validator>,
    pub propagate: Vec<(String, HeaderName)>,
    pub timeout: Duration,
}

/// What of the client's request may reach the backend: everything (`["*"]`) or only the
/// names listed (KrakenD's `input_headers` / `input_query_strings`; none by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pass<T> {
    All,
    Only(Vec<T>),
}

impl Pass<String> {
    /// A configured list: one `*` among the names means all.
    pub(crate) fn of(list: &[String]) -> Pass<String> {
        if list.iter().any(|n| n == "*") {
            return Pass::All;
        }
        let mut names: Vec<String> = Vec::new();
        for n in list {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        Pass::Only(names)
    }
}

/// Client headers that describe the forwarded body, kept whatever `input_headers` says:
/// without them the body could not be read.
const BODY_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_ENCODING];

/// Keeps the listed headers (and [`BODY_HEADERS`]) with all their values.
fn filter_headers(pass: &Pass<HeaderName>, headers: HeaderMap) -> HeaderMap {
    let Pass::Only(names) = pass else {
        return headers;
    };
    let mut out = HeaderMap::new();
    for name in BODY_HEADERS.iter().chain(names.iter().filter(|n| !BODY_HEADERS.contains(n))) {
        for v in headers.get_all(name) {
            out.append(name.clone(), v.clone());
        }
    }
    out
}

/// Keeps the `name=value` pairs whose (decoded, RFC 3986 §3.4 / form-urlencoded) name is
/// listed, as the client encoded them; `None` when nothing is left.
fn filter_query(pass: &Pass<String>, query: Option<&str>) -> Option<String> {
    let query = query.filter(|q| !q.is_empty())?;
    let Pass::Only(names) = pass else {
        return Some(query.to_owned());
    };
    let listed = |pair: &&str| {
        let raw = pair.split('=').next().unwrap_or_default();
        form_urlencoded::parse(raw.as_bytes()).next().is_some_and(|(k, _)| names.iter().any(|n| *n == k))
    };
    let kept: Vec<&str> = query.split('&').filter(listed).collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

/// A path parameter as exactly one segment (RFC 3986 §3.3): every byte but the
/// unreserved characters (§2.3) and the sub-delims `!$'()*,` is percent-encoded (§2.1),
/// so `/`, `\`, `?`, `#`, `%`, `;`, `&`, `=`, `+`, `:`, `@` reach the backend as data.
/// `None` for the dot-segments `.` and `..` (§5.2.4), which would leave the segment.
pub(crate) fn encode_segment(value: &str) -> Option<String> {
    if value == "." || value == ".." {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*,".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Some(out)
}

/// Why the backend URL was not built.
enum UriError {
    /// A parameter is `.` or `..`: the client's fault.
    DotSegment,
    /// The pieces do not make a URI: the configuration's.
    Unbuildable,
}

/// Headers that concern one connection only (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    for n in HOP_BY_HOP.iter().copied().chain(named.iter().map(String::as_str)) {
        headers.remove(n);
    }
}

fn failure(status: StatusCode, description: &'static str) -> Response {
    let body = format!(
        r#"{{"error":"{}","error_description":"{description}"}}"#,
        match status {
            StatusCode::GATEWAY_TIMEOUT => "gateway_timeout",
            StatusCode::BAD_REQUEST => "invalid_request",
            _ => "bad_gateway",
        }
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl Route {
    fn backend_uri(&self, params: &RawPathParams, query: Option<&str>) -> Result<Uri, UriError> {
        let mut uri = String::new();
        for piece in &self.pattern {
            match piece {
                Piece::Lit(s) => uri.push_str(s),
                // axum hands the value percent-decoded: encode it again, as one segment.
                Piece::Param(name) => {
                    let value = params.iter().find(|(k, _)| k == name).ok_or(UriError::Unbuildable)?.1;
                    uri.push_str(&encode_segment(value).ok_or(UriError::DotSegment)?);
                }
            }
        }
        if let Some(q) = filter_query(&self.input_query, query) {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&q);
        }
        let host = &self.hosts[self.next.fetch_add(1, Ordering::Relaxed) % self.hosts.len()];
        format!("{host}{uri}").parse().map_err(|_| UriError::Unbuildable)
    }

    /// Forwards `req` to the backend and streams the answer back.
    pub(crate) async fn forward(&self, client: &BackendClient, params: RawPathParams, req: Request) -> Response {
        let claims = match &self.validator {
            Some(v) => match v.validate_headers(req.headers()).await {
                Ok(c) => Some(c),
                Err(e) => return e.into_response(),
            },
            None => None,
        };
        let (mut parts, body) = req.into_parts();
        let uri = match self.backend_uri(&params, parts.uri.query()) {
            Ok(uri) => uri,
            Err(UriError::DotSegment) => {
                return failure(StatusCode::BAD_REQUEST, "a path parameter cannot be . or ..");
            }
            Err(UriError::Unbuildable) => {
                return failure(StatusCode::BAD_GATEWAY, "the backend URL could not be built");
            }
        };
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let mut headers = self.backend_headers(std::mem::take(&mut parts.headers), peer, claims.as_ref());
        let token = match &self.token {
            None => None,
            Some(source) => match source.token().await {
                Ok(t) => {
                    let Ok(v) = HeaderValue::try_from(t.authorization()) else {
                        tracing::warn!(endpoint = %self.endpoint, "the token endpoint sent a token unfit for a header");
                        return failure(StatusCode::BAD_GATEWAY, "the backend could not be called");
                    };
                    headers.insert(header::AUTHORIZATION, v);
                    Some(t)
                }
                Err(e) => {
                    tracing::warn!(endpoint = %self.endpoint, error = %e, "no token for the backend");
                    return failure(StatusCode::BAD_GATEWAY, "the backend could not be called");
                }
            },
        };
        let mut out = axum::http::Request::new(body);
        *out.method_mut() = self.method.clone();
        *out.uri_mut() = uri;
        *out.headers_mut() = headers;
        let resp = match tokio::time::timeout(self.timeout, client.request(out)).await {
            Err(_) => {
                tracing::warn!(endpoint = %self.endpoint, timeout = ?self.timeout, "backend timed out");
                return failure(StatusCode::GATEWAY_TIMEOUT, "the backend did not answer in time");
            }
            Ok(Err(e)) => {
                tracing::warn!(endpoint = %self.endpoint, error = %e, "backend unreachable");
                return failure(StatusCode::BAD_GATEWAY, "the backend could not be called");
            }
            Ok(Ok(r)) => r,
        };
        if resp.status() == StatusCode::UNAUTHORIZED
            && let (Some(source), Some(t)) = (&self.token, &token)
        {
            source.invalidate(t); // perhaps revoked: the next call fetches another
        }
        let (mut rparts, rbody) = resp.into_parts();
        strip_hop_by_hop(&mut rparts.headers);
        Response::from_parts(rparts, Body::new(rbody))
    }

    /// The client's headers as the backend may see them, before the backend's token.
    fn backend_headers(&self, mut headers: HeaderMap, peer: Option<IpAddr>, claims: Option<&Claims>) -> HeaderMap {
        strip_hop_by_hop(&mut headers);
        let host = headers.remove(header::HOST);
        let mut headers = filter_headers(&self.input_headers, headers);
        forwarded(&mut headers, peer, host);
        // Set only from the validated token: the client's own never passes, even when
        // the claim is missing.
        for (_, name) in &self.propagate {
            headers.remove(name);
        }
        if let Some(c) = claims {
            self.propagate_claims(c, &mut headers);
        }
        if self.token.is_some() {
            // The backend has its own credentials: the client's never reach it.
            headers.remove(header::AUTHORIZATION);
        }
        headers
    }

    fn propagate_claims(&self, claims: &Claims, headers: &mut HeaderMap) {
        for (claim, name) in &self.propagate {
            let text = match claims.lookup(claim) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                Some(v) => v.to_string(),
                None => continue,
            };
            if let Ok(v) = HeaderValue::try_from(text) {
                headers.insert(name.clone(), v);
            }
        }
    }
}

/// `X-Forwarded-For` (appended to the client's when `input_headers` lets it through),
/// `X-Forwarded-Host` (the client's `Host`).
fn forwarded(headers: &mut HeaderMap, peer: Option<IpAddr>, host: Option<HeaderValue>) {
    if let Some(ip) = peer {
        let v = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prev) => format!("{prev}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(v) = HeaderValue::try_from(v) {
            headers.insert("x-forwarded-for", v);
        }
    }
    match host {
        Some(host) => {
            headers.insert("x-forwarded-host", host);
        }
        None => {
            headers.remove("x-forwarded-host");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_by_connection_go() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "close, X-Custom"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic x"),
            ("x-custom", "1"),
            ("x-kept", "2"),
            ("content-type", "text/plain"),
        ] {
            h.append(k, HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, ["content-type", "x-kept"]);
    }

    #[test]
    fn forwarded_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        forwarded(&mut h, Some("127.0.0.1".parse().unwrap()), Some(HeaderValue::from_static("gw.example")));
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(h["x-forwarded-host"], "gw.example");
        assert!(h.get(header::HOST).is_none());
    }

    #[test]
    fn a_parameter_is_encoded_as_one_segment_and_dot_segments_are_refused() {
        assert_eq!(
            encode_segment("a/../b\\c?d#e%f;g&h=i+j:k@l m").unwrap(),
            "a%2F..%2Fb%5Cc%3Fd%23e%25f%3Bg%26h%3Di%2Bj%3Ak%40l%20m"
        );
        assert_eq!(encode_segment("Az09-._~!$'()*,").unwrap(), "Az09-._~!$'()*,");
        assert_eq!(encode_segment("é").unwrap(), "%C3%A9");
        assert_eq!(encode_segment("...").unwrap(), "...");
        assert_eq!(encode_segment("..;").unwrap(), "..%3B");
        assert!(encode_segment(".").is_none() && encode_segment("..").is_none());
    }

    #[test]
    fn only_listed_query_parameters_are_kept_as_sent() {
        let only = |names: &[&str]| Pass::of(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>());
        let q = Some("a=1&b=2&A=3&c%20d=4&a=5&=6&e");
        assert_eq!(filter_query(&only(&["a", "c d", "e"]), q).as_deref(), Some("a=1&c%20d=4&a=5&e"));
        assert_eq!(filter_query(&only(&[]), q), None);
        assert_eq!(filter_query(&only(&["x"]), q), None);
        assert_eq!(filter_query(&only(&["b", "*"]), q).as_deref(), q);
        assert_eq!(filter_query(&Pass::All, Some("")), None);
    }
}
