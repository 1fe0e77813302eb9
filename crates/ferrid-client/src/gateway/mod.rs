//! `ferrid gateway`: a reverse proxy whose configuration is KrakenD's, for what it covers
//! (see [`config`]). Each endpoint forwards to one backend; a backend with
//! `auth/client-credentials` gets a token from a [`TokenSource`] shared by every backend
//! with the same credentials; an endpoint with `auth/validator` lets through only valid
//! bearer tokens. Namespaces and settings it does not know are reported once, by name,
//! and ignored — except security-bearing namespaces (below).
//!
//! What reaches a backend, as KrakenD (zero trust):
//! - only the client headers listed in the endpoint's `input_headers` and the query
//!   parameters listed in `input_query_strings` (none by default, `["*"]` for all), plus
//!   the headers describing the forwarded body (`Content-Type`, `Content-Length`,
//!   `Content-Encoding`) and those the gateway sets (`X-Forwarded-For`,
//!   `X-Forwarded-Host`); hop-by-hop headers never (RFC 9110 §7.6.1);
//! - never the client's `Authorization` when the backend has its own credentials
//!   (`auth/client-credentials`), whatever `input_headers` says;
//! - the headers named in `propagate_claims` only as set from the validated token: a
//!   client's header of that name is always removed, also when the claim is missing;
//! - a path parameter stays one path segment (RFC 3986 §3.3): it is percent-encoded
//!   again (§2.1) except for unreserved characters and `!$'()*,`, so `/`, `\`, `?`, `#`,
//!   `%`, `;`, `&`, `=`, `:`, `@` cannot act; `.` and `..` (dot-segments, §5.2.4) are
//!   answered 400 without calling the backend.
//!
//! Security-bearing `extra_config` namespaces the gateway does not implement — `qos/*`,
//! `security/*`, `validation/*` and `auth/*` other than `auth/validator` on an endpoint
//! and `auth/client-credentials` on a backend — stop the start with an error naming the
//! namespace and the endpoint: running without a rate limit, CORS policy or
//! authentication the file asks for would be silently unsafe. Each may be allowed
//! explicitly (`ferrid gateway --allow-unimplemented NAMESPACE`, or
//! `"extra_config": {"ferrid/gateway": {"allow_unimplemented": [NAMESPACE, …]}}` at the top
//! level); it is then reported and ignored like the others.
//!
//! Where it differs from KrakenD, on purpose:
//! - it is a pass-through proxy (KrakenD's `no-op` encoding): status, headers and body of
//!   the backend come back as they are, streamed; several backends per endpoint (merging)
//!   are refused at start;
//! - a backend that cannot be reached gives 502 (504 after `timeout`) with a fixed body;
//! - backends, token endpoints and JWKS URLs are `http://` or `https://` (see the crate's HTTPS note);
//! - `auth/validator` keys are always cached (`cache: false` keeps them 60 s) and may come
//!   from discovery (`issuer` without `jwk_url`); `typ` is an addition.

pub mod config;
mod proxy;
mod report;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::SocketAddr,
    sync::{Arc, atomic::AtomicUsize},
    time::Duration,
};

use axum::{
    Router,
    extract::{RawPathParams, Request},
    http::{HeaderName, Method},
    routing::{MethodFilter, MethodRouter},
};
pub use config::{
    BackendConfig, EndpointConfig, FerridNamespace, GatewayConfig, GatewayError, ValidatorNamespace, parse_duration,
};
use hyper_util::{client::legacy::connect::HttpConnector, rt::TokioExecutor};
pub use report::Report;
use serde_json::Value;

use self::{
    config::{Piece, pieces},
    proxy::{BackendClient, Pass, Route},
    report::security_bearing,
};
use crate::{
    token::{ClientCredentialsConfig, RefreshPolicy, TokenClient, TokenSource, default_http_client},
    validate::{Algorithm, JwksCache, KeySource, ScopeMatch, Validator, ValidatorConfig},
};

const CLIENT_CREDENTIALS: &str = "auth/client-credentials";
const VALIDATOR: &str = "auth/validator";
const FERRID: &str = "ferrid/gateway";

/// A gateway ready to serve.
pub struct Gateway {
    router: Router,
    listen: String,
    report: Report,
}

struct Builder {
    http: reqwest::Client,
    backends: BackendClient,
    sources: HashMap<String, TokenSource>,
    caches: HashMap<KeySource, JwksCache>,
    report: Report,
    allowed: BTreeSet<String>,
    default_hosts: Vec<String>,
    default_timeout: Duration,
}

fn invalid(place: &str, reason: impl Into<String>) -> GatewayError {
    GatewayError::Invalid { place: place.to_owned(), reason: reason.into() }
}

impl Gateway {
    /// Checks the configuration and builds every route, token source and validator.
    pub fn new(cfg: GatewayConfig) -> Result<Gateway, GatewayError> {
        let http = default_http_client().map_err(|e| invalid("HTTP client", e.to_string()))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        // https:// backends are verified against the operating system's trust store.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(|e| invalid("TLS", e.to_string()))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let backends = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        let default_timeout = match &cfg.timeout {
            Some(t) => parse_duration(&Value::String(t.clone())).ok_or_else(|| invalid("timeout", "not a duration"))?,
            None => Duration::from_secs(2),
        };
        let ferrid: FerridNamespace = match cfg.extra_config.get(FERRID) {
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| invalid("extra_config", format!("{FERRID}: {e}")))?
            }
            None => FerridNamespace::default(),
        };
        let mut b = Builder {
            http,
            backends,
            sources: HashMap::new(),
            caches: HashMap::new(),
            report: Report::default(),
            allowed: ferrid.allow_unimplemented.iter().chain(&cfg.allow_unimplemented).cloned().collect(),
            default_hosts: cfg.host.iter().map(|h| normalize_host(h)).collect(),
            default_timeout,
        };
        b.report.settings("", &cfg.unknown);
        for ns in cfg.extra_config.keys().filter(|ns| *ns != FERRID) {
            b.unimplemented(ns, "top-level extra_config")?;
        }
        let mut paths: BTreeMap<String, (String, MethodRouter)> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for ep in &cfg.endpoints {
            let place = format!("endpoint {} {}", ep.method, ep.endpoint);
            let route = Arc::new(b.route(ep, &place)?);
            if !seen.insert((ep.endpoint.clone(), ep.method.to_ascii_uppercase())) {
                return Err(invalid(&place, "defined twice"));
            }
            let filter = MethodFilter::try_from(parse_method(&ep.method, &place)?)
                .map_err(|_| invalid(&place, "this method cannot be routed"))?;
            let client = b.backends.clone();
            let handler = move |params: RawPathParams, req: Request| {
                let (route, client) = (route.clone(), client.clone());
                async move { route.forward(&client, params, req).await }
            };
            let shape = ep.endpoint.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>();
            let entry = paths.entry(shape.join("/")).or_insert_with(|| (ep.endpoint.clone(), MethodRouter::new()));
            if entry.0 != ep.endpoint {
                return Err(invalid(&place, format!("overlaps {}; give the parameters the same names", entry.0)));
            }
            entry.1 = std::mem::take(&mut entry.1).on(filter, handler);
        }
        let mut router = Router::new();
        for (_, (path, methods)) in paths {
            let r = std::mem::take(&mut router);
            router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.route(&path, methods)))
                .map_err(|_| invalid(&format!("endpoint {path}"), "not a valid route path"))?;
        }
        let ip = cfg.listen_ip.as_deref().unwrap_or("0.0.0.0");
        let listen = if ip.contains(':') { format!("[{ip}]:{}", cfg.port) } else { format!("{ip}:{}", cfg.port) };
        Ok(Gateway { router, listen, report: b.report })
    }

    /// What was ignored.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// `listen_ip:port` from the configuration.
    pub fn listen_addr(&self) -> &str {
        &self.listen
    }

    /// The routes, for serving or embedding.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves on `listener` until `shutdown` completes, then drains open requests.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await
    }
}

fn parse_method(m: &str, place: &str) -> Result<Method, GatewayError> {
    Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| invalid(place, format!("method {m:?}")))
}

/// `host:port` → `http://host:port`, no trailing slash.
fn normalize_host(h: &str) -> String {
    let h = h.trim().trim_end_matches('/');
    if h.contains("://") { h.to_owned() } else { format!("http://{h}") }
}

impl Builder {
    /// An `extra_config` namespace not implemented at `place`: reported, or refused when
    /// it carries security and was not allowed.
    fn unimplemented(&mut self, ns: &str, place: &str) -> Result<(), GatewayError> {
        if security_bearing(ns) && !self.allowed.contains(ns) {
            return Err(invalid(
                place,
                format!(
                    "extra_config namespace {ns} carries security that ferrid gateway does not implement here; \
                     remove it, or allow running without it (--allow-unimplemented {ns})"
                ),
            ));
        }
        *self.report.ignored_namespaces.entry(ns.to_owned()).or_default() += 1;
        Ok(())
    }

    fn route(&mut self, ep: &EndpointConfig, place: &str) -> Result<Route, GatewayError> {
        if !ep.endpoint.starts_with('/') {
            return Err(invalid(place, "the endpoint must start with /"));
        }
        let params: BTreeSet<String> = pieces(&ep.endpoint)
            .ok_or_else(|| invalid(place, "unbalanced { } in the endpoint"))?
            .into_iter()
            .filter_map(|p| if let Piece::Param(n) = p { Some(n) } else { None })
            .collect();
        self.report.settings("endpoints[].", &ep.unknown);
        let [be] = ep.backend.as_slice() else {
            return Err(invalid(place, "exactly one backend is supported (ferrid proxies; it does not merge)"));
        };
        let bplace = format!("{place}, backend");
        self.report.settings("endpoints[].backend[].", &be.unknown);
        if !be.url_pattern.starts_with('/') {
            return Err(invalid(&bplace, "url_pattern must start with /"));
        }
        let pattern = pieces(&be.url_pattern).ok_or_else(|| invalid(&bplace, "unbalanced { } in url_pattern"))?;
        for p in &pattern {
            if let Piece::Param(n) = p
                && !params.contains(n)
            {
                return Err(invalid(&bplace, format!("url_pattern uses {{{n}}}, which the endpoint does not define")));
            }
        }
        let hosts: Vec<String> = if be.host.is_empty() {
            self.default_hosts.clone()
        } else {
            be.host.iter().map(|h| normalize_host(h)).collect()
        };
        if hosts.is_empty() {
            return Err(invalid(&bplace, "no host (set backend host or the top-level host)"));
        }
        if let Some(h) = hosts.iter().find(|h| !(h.starts_with("http://") || h.starts_with("https://"))) {
            return Err(invalid(&bplace, format!("{h}: a backend host is an http:// or https:// URL")));
        }
        let mut token = None;
        let mut validator = None;
        let mut propagate = Vec::new();
        for (ns, v) in &be.extra_config {
            match ns.as_str() {
                CLIENT_CREDENTIALS => token = Some(self.token_source(v, &bplace)?),
                _ => self.unimplemented(ns, &bplace)?,
            }
        }
        for (ns, v) in &ep.extra_config {
            match ns.as_str() {
                VALIDATOR => {
                    let (val, prop) = self.validator(v, place)?;
                    validator = Some(val);
                    propagate = prop;
                }
                _ => self.unimplemented(ns, place)?,
            }
        }
        let timeout = match &ep.timeout {
            Some(t) => {
                parse_duration(&Value::String(t.clone())).ok_or_else(|| invalid(place, "timeout is not a duration"))?
            }
            None => self.default_timeout,
        };
        let method = match &be.method {
            Some(m) => parse_method(m, &bplace)?,
            None => parse_method(&ep.method, place)?,
        };
        let input_headers = match Pass::of(&ep.input_headers) {
            Pass::All => Pass::All,
            Pass::Only(names) => {
                let mut headers: Vec<HeaderName> = Vec::new();
                for n in names {
                    let h = HeaderName::try_from(n.as_str())
                        .map_err(|_| invalid(place, format!("input_headers: {n:?} is not a header name")))?;
                    if !headers.contains(&h) {
                        headers.push(h);
                    }
                }
                Pass::Only(headers)
            }
        };
        Ok(Route {
            endpoint: ep.endpoint.clone(),
            input_headers,
            input_query: Pass::of(&ep.input_query_strings),
            method,
            hosts,
            next: AtomicUsize::new(0),
            pattern,
            token,
            validator,
            propagate,
            timeout,
        })
    }

    /// One source per distinct credentials object: backends sharing credentials share
    /// one token.
    fn token_source(&mut self, v: &Value, place: &str) -> Result<TokenSource, GatewayError> {
        let key = v.to_string();
        if let Some(s) = self.sources.get(&key) {
            return Ok(s.clone());
        }
        let cfg: ClientCredentialsConfig =
            serde_json::from_value(v.clone()).map_err(|e| invalid(place, format!("{CLIENT_CREDENTIALS}: {e}")))?;
        self.report.settings(&format!("{CLIENT_CREDENTIALS}."), &cfg.unknown);
        let client = TokenClient::new(cfg, self.http.clone()).map_err(|e| invalid(place, e.to_string()))?;
        let source = TokenSource::with_client(client, RefreshPolicy::default());
        self.sources.insert(key, source.clone());
        Ok(source)
    }

    fn validator(&mut self, v: &Value, place: &str) -> Result<(Validator, Vec<(String, HeaderName)>), GatewayError> {
        let err = |e: String| invalid(place, format!("{VALIDATOR}: {e}"));
        let ns: ValidatorNamespace = serde_json::from_value(v.clone()).map_err(|e| err(e.to_string()))?;
        self.report.settings(&format!("{VALIDATOR}."), &ns.unknown);
        let keys = match (&ns.jwk_url, &ns.issuer) {
            (Some(u), _) => KeySource::JwksUrl(u.clone()),
            (None, Some(iss)) => KeySource::Discovery(iss.clone()),
            (None, None) => return Err(err("needs jwk_url or issuer".into())),
        };
        let alg: Algorithm = ns.alg.parse().map_err(|_| err(format!("unknown alg {:?}", ns.alg)))?;
        let mut cfg = ValidatorConfig::new(keys.clone(), vec![alg]);
        cfg.issuer = ns.issuer.clone();
        cfg.audiences = ns.audience.clone();
        cfg.scopes = ns.scopes.clone();
        cfg.scopes_key = ns.scopes_key.clone().unwrap_or_else(|| "scope".into());
        cfg.scopes_match = match ns.scopes_matcher.as_deref() {
            None | Some("any") => ScopeMatch::Any,
            Some("all") => ScopeMatch::All,
            Some(other) => return Err(err(format!("scopes_matcher {other:?} (any or all)"))),
        };
        cfg.roles = ns.roles.clone();
        if let Some(k) = &ns.roles_key {
            cfg.roles_key = k.clone();
        }
        cfg.typ = ns.typ.clone();
        if let Some(n) = ns.verified_tokens {
            if n > config::MAX_VERIFIED_TOKENS {
                return Err(err(format!("verified_tokens {n} is above {}", config::MAX_VERIFIED_TOKENS)));
            }
            cfg.verified_cache_size = n;
        }
        if let Some(l) = &ns.leeway {
            cfg.leeway = parse_duration(l).ok_or_else(|| err("leeway is not a duration".into()))?;
        }
        cfg.cache_duration =
            if ns.cache { Duration::from_secs(ns.cache_duration.unwrap_or(900)) } else { Duration::from_secs(60) };
        let cache = self
            .caches
            .entry(keys.clone())
            .or_insert_with(|| JwksCache::new(self.http.clone(), keys, cfg.cache_duration, cfg.refetch_interval))
            .clone();
        let validator = Validator::with_cache(cfg, cache).map_err(|e| err(e.to_string()))?;
        let mut propagate = Vec::new();
        for (claim, header) in &ns.propagate_claims {
            let name = HeaderName::try_from(header.as_str()).map_err(|_| err(format!("header name {header:?}")))?;
            propagate.push((claim.clone(), name));
        }
        Ok((validator, propagate))
    }
}
