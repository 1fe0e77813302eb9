//! Validated server configuration, built once by the binary and passed explicitly.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ferrid_core::urls::PublicUrl;
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `None` = `http://{the bound address}` (what `--public-url` defaults to).
    pub public_url: Option<PublicUrl>,
    pub data_dir: PathBuf,
    /// `None` = embedded SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// `FERRID_ADMIN_SECRET`: the bootstrap admin's chosen secret.
    pub admin_secret: Option<SecretString>,
    /// `FERRID_ADMIN_PASSWORD`: the bootstrap admin user's chosen password.
    pub admin_password: Option<SecretString>,
    /// `FERRID_MASTER_KEY`: encrypts private keys at rest; else a key file in `data_dir`.
    pub master_key: Option<SecretString>,
    /// Print a generated admin secret and admin password to standard output (off in tests).
    pub print_admin_secret: bool,
    /// How many failed client authentications a source may make, and how fast that
    /// allowance refills.
    pub throttle: ferrid_core::throttle::ThrottleConfig,
    /// Key rotation timing and the JWKS cache lifetime it is built on.
    pub rotation: ferrid_core::keys::rotation::RotationConfig,
    /// Audit records older than this many days are deleted; 0 keeps them all.
    pub audit_retention_days: u32,
    /// Connections served at once; one more is answered `429` and closed.
    pub max_connections: usize,
    /// Connections served at once from one peer address; `None` = a quarter of
    /// [`Self::max_connections`] (at least 1).
    pub max_connections_per_source: Option<usize>,
    /// A connection must deliver a complete request head within this long of being
    /// accepted, or of the first byte after an idle spell.
    pub header_timeout: Duration,
    /// A request body a handler waits for must have arrived this long after the head.
    pub body_timeout: Duration,
    /// A connection with no request in flight is closed after this long.
    pub idle_timeout: Duration,
    /// After a shutdown signal, requests in flight get this long before their
    /// connections are dropped and the server returns.
    pub drain_timeout: Duration,
    /// Load balancers whose `X-Forwarded-For` names a request's source (empty: the
    /// header is ignored).
    pub trusted_proxies: Vec<crate::proxies::IpRange>,
    /// Serve HTTPS with this certificate and key (docs/deployment.md "TLS"); `None`
    /// serves plain HTTP (TLS terminated in front).
    pub tls: Option<crate::tls::TlsFiles>,
    /// How often the TLS files are checked for a change (`SIGHUP` reloads at once).
    pub tls_reload_interval: Duration,
    /// Serve `/metrics` on this address instead of the public listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Write one JSON line per request there (docs/operations.md "Access log").
    pub access_log: Option<crate::access_log::Target>,
}

/// Default of [`ServerConfig::audit_retention_days`].
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 90;
/// Default of [`ServerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default of [`ServerConfig::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`ServerConfig::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ServerConfig::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default of [`ServerConfig::drain_timeout`].
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

impl ServerConfig {
    /// Defaults for a data directory, listening on `listen`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            listen,
            public_url: None,
            data_dir,
            database_url: None,
            admin_secret: None,
            admin_password: None,
            master_key: None,
            print_admin_secret: true,
            throttle: Default::default(),
            rotation: Default::default(),
            audit_retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_source: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            trusted_proxies: Vec::new(),
            tls: None,
            tls_reload_interval: crate::tls::DEFAULT_TLS_RELOAD_INTERVAL,
            metrics_listen: None,
            access_log: None,
        }
    }

    /// [`Self::max_connections_per_source`] with its default applied.
    pub fn connections_per_source(&self) -> usize {
        self.max_connections_per_source.unwrap_or(self.max_connections / 4).max(1)
    }
}

/// Why the server refused to start, so that the binary can tell the operator's mistake
/// from a failure (docs/cli.md "Exit status"). Carried inside the `anyhow::Error` that
/// [`crate::Server::bind`] returns; anything else is a failure.
#[derive(Debug, thiserror::Error)]
pub enum StartRefused {
    /// The listen address cannot be bound (in use, not on this machine, privileged).
    #[error("{flag} {addr}: {}", bind_reason(.io))]
    Bind { flag: &'static str, addr: SocketAddr, io: std::io::Error },
    /// A setting is refused: inconsistent settings, a TLS file that does not load, a
    /// master key that does not open the stored keys.
    #[error("{0}")]
    Config(String),
    /// The database could not be reached or refused the connection.
    #[error("{0}")]
    Unreachable(String),
}

/// What an operator reads for a bind error (the OS message is less plain, and
/// `ErrorKind`'s own says "address in use").
pub fn bind_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address already in use".into(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_failure_names_the_flag_the_address_and_the_reason() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let e = StartRefused::Bind { flag: "--listen", addr, io: std::io::ErrorKind::AddrInUse.into() };
        assert_eq!(e.to_string(), "--listen 127.0.0.1:8080: address already in use");
    }
}
