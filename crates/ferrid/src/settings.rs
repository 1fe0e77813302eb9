//! Raw settings from flags, `FERRID_*` variables and an optional TOML file
//! (`--config`), merged in that order of precedence and validated once.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::Args;
use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Args, Serialize, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (flags and variables win over it).
    #[arg(long, env = "FERRID_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "FERRID_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
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
    /// Log format: text or json [default: text].
    #[arg(long, env = "FERRID_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
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

#[derive(Deserialize)]
pub struct Settings {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    #[serde(default = "default_log_format")]
    pub log_format: String,
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
    pub metrics_listen: Option<SocketAddr>,
    pub access_log: Option<String>,
}

fn default_audit_retention_days() -> u32 {
    ferrid_server::config::DEFAULT_AUDIT_RETENTION_DAYS
}
fn default_max_connections() -> usize {
    ferrid_server::config::DEFAULT_MAX_CONNECTIONS
}

fn default_listen() -> SocketAddr {
    "127.0.0.1:8080".parse().expect("valid")
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./ferrid-data")
}
fn default_log_format() -> String {
    "text".into()
}
fn default_log() -> String {
    "info".into()
}

impl Settings {
    pub fn load(args: &ServeArgs) -> anyhow::Result<Settings> {
        let mut fig = Figment::new();
        if let Some(path) = &args.config {
            anyhow::ensure!(path.exists(), "config file {} does not exist", path.display());
            fig = fig.merge(Toml::file(path));
        }
        fig.merge(Serialized::defaults(args)).extract().context("invalid settings")
    }

    pub fn into_config(self) -> anyhow::Result<ferrid_server::ServerConfig> {
        let mut config = ferrid_server::ServerConfig::new(self.listen, self.data_dir);
        config.public_url = self
            .public_url
            .map(|u| ferrid_core::urls::PublicUrl::parse(&u))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--public-url: {e}"))?;
        config.database_url = self.database_url;
        config.audit_retention_days = self.audit_retention_days;
        anyhow::ensure!(self.max_connections > 0, "--max-connections must be at least 1");
        config.max_connections = self.max_connections;
        if let Some(n) = self.max_connections_per_source {
            anyhow::ensure!(n > 0, "--max-connections-per-source must be at least 1");
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
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?;
        if let Some(b) = self.throttle_burst {
            anyhow::ensure!(b.is_finite() && b >= 1.0, "--throttle-burst must be at least 1");
            config.throttle.burst = b;
        }
        if let Some(r) = self.throttle_per_second {
            anyhow::ensure!(r.is_finite() && r > 0.0, "--throttle-per-second must be above 0");
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
fn seconds(flag: &str, secs: f64) -> anyhow::Result<std::time::Duration> {
    anyhow::ensure!(
        secs.is_finite() && secs > 0.0 && secs <= 86_400.0,
        "{flag} must be above 0 and at most 86400 seconds"
    );
    Ok(std::time::Duration::from_secs_f64(secs))
}

pub fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none());
    if settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
