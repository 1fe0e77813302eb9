//! Forwarding one request: validate the caller's token if the endpoint asks, build the
//! backend URL from the pattern, drop hop-by-hop headers (RFC 9110 §7.6.1), add the
//! backend's token, stream both bodies. A backend that cannot be reached gives 502 (504
//! after the timeout) with a fixed body: no cause, no token, no secret.

use std::{
    net::SocketAddr,
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
    pub method: Method,
    pub hosts: Vec<String>,
    pub next: AtomicUsize,
    pub pattern: Vec<Piece>,
    pub token: Option<TokenSource>,
    pub validator: Option<Validator>,
    pub propagate: Vec<(String, HeaderName)>,
    pub timeout: Duration,
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
            _ => "bad_gateway",
        }
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl Route {
    fn backend_uri(&self, params: &RawPathParams, query: Option<&str>) -> Option<Uri> {
        let host = &self.hosts[self.next.fetch_add(1, Ordering::Relaxed) % self.hosts.len()];
        let mut uri = host.clone();
        for piece in &self.pattern {
            match piece {
                Piece::Lit(s) => uri.push_str(s),
                // Values stay percent-encoded as the client sent them.
                Piece::Param(name) => uri.push_str(params.iter().find(|(k, _)| k == name)?.1),
            }
        }
        if let Some(q) = query {
            uri.push('?');
            uri.push_str(q);
        }
        uri.parse().ok()
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
        let Some(uri) = self.backend_uri(&params, parts.uri.query()) else {
            return failure(StatusCode::BAD_GATEWAY, "the backend URL could not be built");
        };
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let mut headers = std::mem::take(&mut parts.headers);
        strip_hop_by_hop(&mut headers);
        forwarded(&mut headers, peer);
        if let Some(c) = &claims {
            self.propagate_claims(c, &mut headers);
        }
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

/// `X-Forwarded-For` (appended), `X-Forwarded-Host`.
fn forwarded(headers: &mut HeaderMap, peer: Option<std::net::IpAddr>) {
    if let Some(ip) = peer {
        let v = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prev) => format!("{prev}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(v) = HeaderValue::try_from(v) {
            headers.insert("x-forwarded-for", v);
        }
    }
    if let Some(host) = headers.remove(header::HOST) {
        headers.insert("x-forwarded-host", host);
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
        h.insert(header::HOST, HeaderValue::from_static("gw.example"));
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        forwarded(&mut h, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(h["x-forwarded-host"], "gw.example");
        assert!(h.get(header::HOST).is_none());
    }
}
