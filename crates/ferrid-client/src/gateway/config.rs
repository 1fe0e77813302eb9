//! The gateway file: the part of KrakenD's configuration ferrid understands — top-level
//! `port`, `listen_ip`, `host`, `timeout`, `endpoints[]` with `endpoint`, `method`,
//! `timeout`, `input_headers`, `input_query_strings`, `backend[]` (`host`, `url_pattern`,
//! `method`) and the `extra_config` namespaces `auth/validator` (endpoint) and
//! `auth/client-credentials` (backend), plus ferrid's own top-level `ferrid/gateway`
//! ([`FerridNamespace`]). Anything else is collected into `unknown` maps and reported by
//! name.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayConfig {
    /// KrakenD's format version (2 or 3); not checked.
    #[serde(default)]
    pub version: Option<u32>,
    /// The JSON schema reference; not used.
    #[serde(default, rename = "$schema")]
    pub schema: Option<String>,
    /// The service name; not used.
    #[serde(default)]
    pub name: Option<String>,
    /// Port to listen on; KrakenD's default 8080. `0` picks a free port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Address to listen on; default `0.0.0.0`, as KrakenD.
    #[serde(default)]
    pub listen_ip: Option<String>,
    /// Default backend hosts, used by backends that name none.
    #[serde(default, deserialize_with = "one_or_many")]
    pub host: Vec<String>,
    /// Default backend timeout (Go duration: `2s`, `1500ms`); default 2 s, as KrakenD.
    #[serde(default)]
    pub timeout: Option<String>,
    /// The endpoints.
    #[serde(default)]
    pub endpoints: Vec<EndpointConfig>,
    /// Service-wide namespaces; only `ferrid/gateway` is understood, the others are
    /// reported (or refused when they carry security, see the module `gateway`).
    #[serde(default)]
    pub extra_config: BTreeMap<String, Value>,
    /// Other settings, reported and ignored.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
    /// Security-bearing namespaces to run without rather than refuse, given outside the
    /// file (`ferrid gateway --allow-unimplemented NAMESPACE`); added to those of
    /// `ferrid/gateway`'s `allow_unimplemented`.
    #[serde(skip)]
    pub allow_unimplemented: Vec<String>,
}

/// ferrid's own top-level namespace, `ferrid/gateway` (KrakenD ignores namespaces it
/// does not know, so the file stays usable there).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FerridNamespace {
    /// Security-bearing `extra_config` namespaces ferrid does not implement that the
    /// gateway may start without (reported, then ignored) instead of refusing to start.
    #[serde(default)]
    pub allow_unimplemented: Vec<String>,
}

/// One endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct EndpointConfig {
    /// The public path, with `{param}` placeholders.
    pub endpoint: String,
    /// The public method; default GET.
    #[serde(default = "default_method")]
    pub method: String,
    /// This endpoint's backend timeout (Go duration); the top-level one when absent.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Client headers forwarded to the backend (case-insensitive); `["*"]` forwards all.
    /// KrakenD's default: none.
    #[serde(default)]
    pub input_headers: Vec<String>,
    /// Query-string parameters forwarded to the backend (case-sensitive); `["*"]`
    /// forwards all. KrakenD's default: none.
    #[serde(default)]
    pub input_query_strings: Vec<String>,
    /// Exactly one backend (ferrid proxies, it does not merge).
    #[serde(default)]
    pub backend: Vec<BackendConfig>,
    /// `auth/validator` and others.
    #[serde(default)]
    pub extra_config: BTreeMap<String, Value>,
    /// Other settings, reported and ignored.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

/// One backend.
#[derive(Debug, Clone, Deserialize)]
pub struct BackendConfig {
    /// Hosts (`http://host:port`), used in turn; the top-level `host` when empty.
    #[serde(default, deserialize_with = "one_or_many")]
    pub host: Vec<String>,
    /// The backend path, with the endpoint's `{param}` placeholders.
    pub url_pattern: String,
    /// The backend method; the endpoint's when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// `auth/client-credentials` and others.
    #[serde(default)]
    pub extra_config: BTreeMap<String, Value>,
    /// Other settings, reported and ignored.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

/// KrakenD's `auth/validator` object.
#[derive(Debug, Clone, Deserialize)]
pub struct ValidatorNamespace {
    /// The one accepted algorithm; KrakenD's default RS256.
    #[serde(default = "default_alg")]
    pub alg: String,
    /// The JWKS URL (`jwk-url` in older files). Without it, the keys are found by
    /// discovery from `issuer` (a ferrid addition).
    #[serde(default, alias = "jwk-url")]
    pub jwk_url: Option<String>,
    /// Required `iss`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Accepted audiences (any of).
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// Required scopes.
    #[serde(default, deserialize_with = "one_or_many")]
    pub scopes: Vec<String>,
    /// Claim holding the scopes; default `scope`.
    #[serde(default)]
    pub scopes_key: Option<String>,
    /// `any` (default) or `all`.
    #[serde(default)]
    pub scopes_matcher: Option<String>,
    /// Roles, any of which is required.
    #[serde(default, deserialize_with = "one_or_many")]
    pub roles: Vec<String>,
    /// Claim holding the roles; dotted paths are followed either way.
    #[serde(default)]
    pub roles_key: Option<String>,
    /// Accepted for compatibility (ferrid always follows dotted paths).
    #[serde(default)]
    pub roles_key_is_nested: Option<bool>,
    /// Keep keys for `cache_duration`; without it they are still kept, for 60 s.
    #[serde(default)]
    pub cache: bool,
    /// Seconds; default 900.
    #[serde(default)]
    pub cache_duration: Option<u64>,
    /// Clock skew allowed on `exp`/`nbf` (Go duration or seconds); default 30 s.
    #[serde(default)]
    pub leeway: Option<Value>,
    /// Required header `typ` (a ferrid addition), e.g. `at+jwt`.
    #[serde(default)]
    pub typ: Option<String>,
    /// How many verified tokens to remember (a ferrid addition; docs/client.md "Verified
    /// tokens"): default 10 000, `0` verifies every token's signature every time, at most
    /// [`MAX_VERIFIED_TOKENS`].
    #[serde(default)]
    pub verified_tokens: Option<usize>,
    /// `[["claim", "header"], …]`: claims copied into backend request headers.
    #[serde(default)]
    pub propagate_claims: Vec<(String, String)>,
    /// Accepted for compatibility: ferrid reads keys over plain HTTP too.
    #[serde(default)]
    pub disable_jwk_security: Option<bool>,
    /// Other settings, reported and ignored.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

/// The largest `verified_tokens` accepted: each entry holds a token's claims, so the
/// setting bounds the memory callers can make the gateway hold.
pub const MAX_VERIFIED_TOKENS: usize = 1_000_000;

fn default_port() -> u16 {
    8080
}
fn default_method() -> String {
    "GET".into()
}
fn default_alg() -> String {
    "RS256".into()
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// Why the file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not JSON of the expected shape (with line and column).
    #[error("configuration: {0}")]
    Parse(#[from] serde_json::Error),
    /// A setting that cannot work.
    #[error("{place}: {reason}")]
    Invalid {
        /// Where: `endpoint GET /x`, `endpoint GET /x, backend`, `listen address`.
        place: String,
        /// What is wrong.
        reason: String,
    },
}

impl GatewayConfig {
    /// Parses JSON text.
    pub fn from_json(text: &str) -> Result<GatewayConfig, GatewayError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Reads and parses a file.
    pub fn from_file(path: &Path) -> Result<GatewayConfig, GatewayError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| GatewayError::Read { path: path.display().to_string(), source })?;
        GatewayConfig::from_json(&text)
    }
}

/// A Go duration (`300ms`, `2s`, `1m30s`, `1h`); a bare number is seconds.
pub fn parse_duration(v: &Value) -> Option<Duration> {
    let s = match v {
        Value::Number(n) => return n.as_u64().map(Duration::from_secs),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').filter(|&i| i > 0)?;
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += Duration::from_secs_f64(n * secs);
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// A URL pattern split into literal text and `{param}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(String),
    Param(String),
}

/// Splits `/users/{id}/x` into pieces; `None` when braces do not pair up.
pub(crate) fn pieces(pattern: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        if open > 0 {
            out.push(Piece::Lit(rest[..open].to_owned()));
        }
        let name = &rest[open + 1..close];
        if name.is_empty() || name.contains('{') {
            return None;
        }
        out.push(Piece::Param(name.to_owned()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest.to_owned()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_durations() {
        let d = |v: Value| parse_duration(&v);
        assert_eq!(d(json!("2s")), Some(Duration::from_secs(2)));
        assert_eq!(d(json!("1500ms")), Some(Duration::from_millis(1500)));
        assert_eq!(d(json!("1m30s")), Some(Duration::from_secs(90)));
        assert_eq!(d(json!("1.5h")), Some(Duration::from_secs(5400)));
        assert_eq!(d(json!(3)), Some(Duration::from_secs(3)));
        assert_eq!(d(json!("3")), Some(Duration::from_secs(3)));
        for bad in [json!("2 s"), json!("s"), json!("2x"), json!(true), json!("")] {
            assert_eq!(d(bad.clone()), None, "{bad}");
        }
    }

    #[test]
    fn url_patterns_split_into_pieces() {
        use Piece::*;
        assert_eq!(
            pieces("/u/{id}/x{n}").unwrap(),
            [Lit("/u/".into()), Param("id".into()), Lit("/x".into()), Param("n".into())]
        );
        assert_eq!(pieces("/plain").unwrap(), [Lit("/plain".into())]);
        for bad in ["/u/{id", "/u/}", "/u/{}", "/u/{{a}}"] {
            assert!(pieces(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn unknown_settings_are_collected_not_refused() {
        let c = GatewayConfig::from_json(
            r#"{"version":3,"output_encoding":"json","endpoints":[{"endpoint":"/a","concurrent_calls":2,
                "backend":[{"url_pattern":"/b","host":"http://x","encoding":"json"}]}]}"#,
        )
        .unwrap();
        assert!(c.unknown.contains_key("output_encoding"));
        assert!(c.endpoints[0].unknown.contains_key("concurrent_calls"));
        assert_eq!(c.endpoints[0].backend[0].host, ["http://x"]);
        assert!(c.endpoints[0].backend[0].unknown.contains_key("encoding"));
        assert_eq!((c.port, c.endpoints[0].method.as_str()), (8080, "GET"));
    }
}
