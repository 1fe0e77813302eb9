//! Raw settings from flags, `FERRID_*` variables and an optional TOML file
//! (`--config`), merged in that order of precedence and validated once, strictly: an
//! unknown key, a value that does not parse, a log filter that does not parse or a
//! listen host that does not resolve stops the start with one line naming the key or
//! flag (docs/cli.md "Configuration").

use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::PathBuf,
};

use clap::Args;
use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::exit::{Exit, Failure};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Args, Serialize, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (flags and variables win over it).
    #[arg(long, env = "FERRID_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on, IP:PORT or HOST:PORT [default: 127.0.0.1:8080].
    #[arg(long, env = "FERRID_LISTEN", value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Public origin of the server, e.g. https://id.example.com [default: http://{listen}].
    #[arg(long, env = "FERRID_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Data directory for the embedded store and key files [default: ./ferrid-data].
    #[arg(long, env = "FERRID_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite:… ); the embedded SQLite store when absent.
    #[arg(long, env = "FERRID_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Log format [default: text].
    #[arg(long, env = "FERRID_LOG_FORMAT", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. info or ferrid=debug [default: info].
    #[arg(long, env = "FERRID_LOG")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Days the audit log is kept; 0 keeps it forever [default: 90].
    #[arg(long, env = "FERRID_AUDIT_RETENTION_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_retention_days: Option<u32>,
    /// Connections served at once; more are answered 429 and closed [default: 10000].
    #[arg(long, env = "FERRID_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Connections served at once from one peer address [default: a quarter of --max-connections].
    #[arg(long, env = "FERRID_MAX_CONNECTIONS_PER_SOURCE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_per_source: Option<usize>,
    /// Seconds a connection has to send a complete request head [default: 10].
    #[arg(long, env = "FERRID_HEADER_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout: Option<f64>,
    /// Seconds from a request's head to the end of its body [default: 30].
    #[arg(long, env = "FERRID_BODY_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout: Option<f64>,
    /// Seconds a connection may stay open with no request in flight [default: 60].
    #[arg(long, env = "FERRID_IDLE_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<f64>,
    /// Seconds requests in flight get to finish after SIGTERM before the process exits [default: 10].
    #[arg(long, env = "FERRID_DRAIN_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain_timeout: Option<f64>,
    /// Failed client authentications a source may make at once [default: 100].
    #[arg(long, env = "FERRID_THROTTLE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_burst: Option<f64>,
    /// How many failed authentications a source gets back per second [default: 1].
    #[arg(long, env = "FERRID_THROTTLE_PER_SECOND")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_per_second: Option<f64>,
    /// Load balancers (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For
    /// names the client's address [default: none; the header is ignored].
    #[arg(long, env = "FERRID_TRUSTED_PROXIES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); reloaded when the file
    /// changes or on SIGHUP. Needs --tls-key.
    #[arg(long, env = "FERRID_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "FERRID_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Serve /metrics on this address (e.g. 127.0.0.1:9090) instead of --listen
    /// [default: on --listen].
    #[arg(long, env = "FERRID_METRICS_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// Write one JSON line per request to standard output (`--access-log`, or `stdout`)
    /// or append it to a file [default: off].
    #[arg(long, env = "FERRID_ACCESS_LOG", num_args = 0..=1, default_missing_value = "stdout", value_name = "stdout|FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log: Option<String>,
}

/// The merged settings; a key this does not know is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_listen")]
    pub listen: String,
    pub public_url: Option<String>,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default = "default_log")]
    pub log: String,
    #[serde(default = "default_audit_retention_days")]
    pub audit_retention_days: u32,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    pub max_connections_per_source: Option<usize>,
    pub header_timeout: Option<f64>,
    pub body_timeout: Option<f64>,
    pub idle_timeout: Option<f64>,
    pub drain_timeout: Option<f64>,
    pub throttle_burst: Option<f64>,
    pub throttle_per_second: Option<f64>,
    pub trusted_proxies: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub metrics_listen: Option<SocketAddr>,
    pub access_log: Option<String>,
}

fn default_audit_retention_days() -> u32 {
    ferrid_server::config::DEFAULT_AUDIT_RETENTION_DAYS
}
fn default_max_connections() -> usize {
    ferrid_server::config::DEFAULT_MAX_CONNECTIONS
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./ferrid-data")
}
fn default_log() -> String {
    "info".into()
}

/// A refused setting (exit status 6).
fn refused(message: impl Into<String>) -> Failure {
    Failure::new(Exit::Config, message)
}

/// Like `anyhow::ensure!`, for a refused setting.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(refused(format!($($msg)+)));
        }
    };
}

impl Settings {
    pub fn load(args: &ServeArgs) -> Result<Settings, Failure> {
        let mut fig = Figment::new();
        if let Some(path) = &args.config {
            if let Err(e) = std::fs::metadata(path) {
                return Err(Failure::new(Exit::Usage, format!("--config {}: {e}", path.display())));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        fig.merge(Serialized::defaults(args)).extract().map_err(|e| figment_failure(e, args))
    }

    pub fn into_config(self) -> Result<ferrid_server::ServerConfig, Failure> {
        let listen = resolve_listen(&self.listen)?;
        let mut config = ferrid_server::ServerConfig::new(listen, self.data_dir);
        config.public_url = self
            .public_url
            .map(|u| ferrid_core::urls::PublicUrl::parse(&u))
            .transpose()
            .map_err(|e| refused(format!("--public-url: {e}")))?;
        config.tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(ferrid_server::tls::TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(refused("--tls-cert needs --tls-key")),
            (None, Some(_)) => return Err(refused("--tls-key needs --tls-cert")),
        };
        config.database_url = self.database_url;
        config.audit_retention_days = self.audit_retention_days;
        ensure!(self.max_connections > 0, "--max-connections must be at least 1");
        config.max_connections = self.max_connections;
        if let Some(n) = self.max_connections_per_source {
            ensure!(n > 0, "--max-connections-per-source must be at least 1");
            config.max_connections_per_source = Some(n);
        }
        for (flag, value, target) in [
            ("--header-timeout", self.header_timeout, &mut config.header_timeout),
            ("--body-timeout", self.body_timeout, &mut config.body_timeout),
            ("--idle-timeout", self.idle_timeout, &mut config.idle_timeout),
            ("--drain-timeout", self.drain_timeout, &mut config.drain_timeout),
        ] {
            if let Some(secs) = value {
                *target = seconds(flag, secs)?;
            }
        }
        config.trusted_proxies = self
            .trusted_proxies
            .iter()
            .flat_map(|s| s.split(','))
            .filter(|s| !s.trim().is_empty())
            .map(ferrid_server::proxies::IpRange::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| refused(format!("--trusted-proxies: {e}")))?;
        if let Some(b) = self.throttle_burst {
            ensure!(b.is_finite() && b >= 1.0, "--throttle-burst must be at least 1");
            config.throttle.burst = b;
        }
        if let Some(r) = self.throttle_per_second {
            ensure!(r.is_finite() && r > 0.0, "--throttle-per-second must be above 0");
            config.throttle.per_second = r;
        }
        config.metrics_listen = self.metrics_listen;
        config.access_log = self.access_log.as_deref().map(ferrid_server::access_log::Target::parse);
        // Secrets come from the environment only, never from flags (visible in `ps`).
        config.admin_secret =
            std::env::var("FERRID_ADMIN_SECRET").ok().filter(|s| !s.is_empty()).map(SecretString::from);
        config.admin_password =
            std::env::var("FERRID_ADMIN_PASSWORD").ok().filter(|s| !s.is_empty()).map(SecretString::from);
        config.master_key = std::env::var("FERRID_MASTER_KEY").ok().filter(|s| !s.is_empty()).map(SecretString::from);
        Ok(config)
    }
}

/// A timeout in seconds (fractions allowed): above 0 and at most a day.
fn seconds(flag: &str, secs: f64) -> Result<std::time::Duration, Failure> {
    ensure!(secs.is_finite() && secs > 0.0 && secs <= 86_400.0, "{flag} must be above 0 and at most 86400 seconds");
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// `--listen`: an IP address and port, or a host name resolved now (its first address).
pub fn resolve_listen(listen: &str) -> Result<SocketAddr, Failure> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = listen.rsplit_once(':') else {
        return Err(refused(format!("--listen {listen}: expected HOST:PORT, e.g. 127.0.0.1:8080")));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(refused(format!("--listen {listen}: the port '{port}' is not a number from 0 to 65535")));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let unresolved =
        |why: String| Failure::new(Exit::Network, format!("--listen {listen}: cannot resolve '{host}' ({why})"));
    let mut addrs = (host, port).to_socket_addrs().map_err(|e| unresolved(e.to_string()))?;
    addrs.next().ok_or_else(|| unresolved("no address".into()))
}

/// A figment error as one line naming the file, the key and its flag.
fn figment_failure(e: figment::Error, args: &ServeArgs) -> Failure {
    let from_file = e.metadata.as_ref().is_some_and(|m| m.name.contains("TOML"));
    let source = match (&args.config, from_file) {
        (Some(path), true) => format!("--config {}", path.display()),
        _ => "settings".to_owned(),
    };
    let key = e.path.join(".");
    let flag = |k: &str| format!("--{}", k.replace('_', "-"));
    let message = match &e.kind {
        figment::error::Kind::UnknownField(field, known) => {
            format!("{source}: unknown key '{field}' (known keys: {})", known.join(", "))
        }
        kind if !key.is_empty() => format!("{source}: key '{key}' ({}): {kind}", flag(&key)),
        kind => format!("{source}: {kind}"),
    };
    refused(message.replace('\n', " "))
}

/// The log filter and format, checked before anything is logged.
pub struct Logging {
    filter: tracing_subscriber::EnvFilter,
    json: bool,
}

/// `--log`: a tracing filter (`info`, `ferrid=debug,warn`); one that does not parse is
/// refused, and so is a bare word that is not a level (tracing would take `debg` for a
/// target at `trace` and log nearly nothing): a target's level is `TARGET=LEVEL`.
pub fn log_filter(filter: &str) -> Result<tracing_subscriber::EnvFilter, Failure> {
    let bad = |why: String| refused(format!("--log '{filter}': {why}; e.g. info or ferrid=debug,warn"));
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if !directive.contains(['=', '[']) && directive.parse::<tracing::level_filters::LevelFilter>().is_err() {
            return Err(bad(format!(
                "'{directive}' is not a level (off, error, warn, info, debug, trace); a target's level is TARGET=LEVEL"
            )));
        }
    }
    tracing_subscriber::EnvFilter::builder().parse(filter).map_err(|e| bad(format!("not a log filter ({e})")))
}

impl Settings {
    pub fn logging(&self) -> Result<Logging, Failure> {
        Ok(Logging { filter: log_filter(&self.log)?, json: self.log_format == LogFormat::Json })
    }
}

impl Logging {
    pub fn init(self) {
        let builder = tracing_subscriber::fmt()
            .with_env_filter(self.filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none());
        if self.json {
            builder.json().init();
        } else {
            builder.init();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_filter_that_does_not_parse_or_names_no_level_is_refused() {
        for good in ["info", "warn,ferrid=debug", "ferrid_server=trace", "off", ""] {
            assert!(log_filter(good).is_ok(), "{good}");
        }
        for bad in ["debg", "info,ferrid=loud", "=", "ferrid=debug,verbose"] {
            let e = log_filter(bad).unwrap_err();
            assert_eq!(e.exit, Exit::Config, "{bad}");
            assert!(e.message.starts_with(&format!("--log '{bad}': ")), "{}", e.message);
        }
    }

    #[test]
    fn a_listen_address_is_an_ip_or_a_host_that_resolves() {
        assert_eq!(resolve_listen("127.0.0.1:8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(resolve_listen("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        assert!(resolve_listen("localhost:8080").unwrap().ip().is_loopback());
        let e = resolve_listen("no-such-host.invalid:8080").unwrap_err();
        assert_eq!(e.exit, Exit::Network);
        assert!(e.message.starts_with("--listen no-such-host.invalid:8080: cannot resolve 'no-such-host.invalid'"));
        for (bad, why) in [("8080", "expected HOST:PORT"), ("localhost:http", "the port 'http' is not a number")] {
            let e = resolve_listen(bad).unwrap_err();
            assert_eq!(e.exit, Exit::Config);
            assert!(e.message.contains(why), "{}", e.message);
        }
    }

    fn load_toml(toml: &str) -> Result<Settings, Failure> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferrid.toml");
        std::fs::write(&path, toml).unwrap();
        Settings::load(&ServeArgs { config: Some(path), ..Default::default() })
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_refused_by_name() {
        let e = load_toml("listen = \"127.0.0.1:9000\"\nlisten_adress = \"x\"\n").err().unwrap();
        assert_eq!(e.exit, Exit::Config);
        assert!(e.message.contains("unknown key 'listen_adress'"), "{}", e.message);
        assert!(e.message.contains("ferrid.toml"), "{}", e.message);
        assert!(e.message.contains("known keys: listen,"), "{}", e.message);
    }

    #[test]
    fn a_bad_value_in_the_config_file_names_the_key_and_its_flag() {
        let e = load_toml("log_format = \"xml\"\n").err().unwrap();
        assert_eq!(e.exit, Exit::Config);
        assert!(e.message.contains("key 'log_format' (--log-format)"), "{}", e.message);
        let s = load_toml("log_format = \"json\"\nlisten = \"127.0.0.1:9000\"\n").ok().unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
    }
}
