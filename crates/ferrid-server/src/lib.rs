//! ferrid's HTTP server.
//!
//! # Layout
//! - [`config`]: the validated [`config::ServerConfig`].
//! - [`startup`]: data directory, master key, store, bootstrap, snapshot.
//! - [`protocol`]: token, JWKS and discovery endpoints (thin adapters over `ferrid-core`).
//! - [`api`]: the management API under `/api/v1`.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`.
//! - [`connections`] and [`serve`]: connection limits and timeouts, the accept loop,
//!   graceful shutdown with a drain deadline.
//!
//! [`serve`] runs until a shutdown signal; [`spawn`] starts a server in the background
//! (tests use it on port 0).

pub mod api;
pub mod config;
pub mod connections;
pub mod ops;
pub mod protocol;
pub mod proxies;
pub mod serve;
pub mod startup;

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};
use ferrid_core::{clock::Clock, manage::Manager};
use tower_http::{set_header::SetResponseHeaderLayer, timeout::TimeoutLayer};

pub use config::ServerConfig;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub manager: Arc<Manager>,
    /// The store's ports (the same ones the manager holds); `health.calls()` feeds `/metrics`.
    pub stores: ferrid_core::store::Stores,
    pub metrics: Arc<ops::Metrics>,
    pub clock: Arc<dyn Clock>,
    /// Failed client authentications per source address (this instance's view).
    pub throttle: Arc<ferrid_core::client_auth::throttle::Throttle>,
    /// `Cache-Control` of the JWKS and discovery documents (the rotation's premise).
    pub documents_cache_control: axum::http::HeaderValue,
    /// Proxies whose `X-Forwarded-For` names the source of a request.
    pub trusted_proxies: Arc<[proxies::IpRange]>,
}

impl AppState {
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }
}

/// The route table.
pub fn router(state: AppState) -> Router {
    let protocol = Router::new()
        .route("/{tenant}/{track}/oauth/token", post(protocol::token))
        .route("/{tenant}/{track}/{app}/oauth/token", post(protocol::token_app))
        .route("/{tenant}/{track}/oauth/keys", get(protocol::jwks))
        .route("/{tenant}/{track}/.well-known/openid-configuration", get(protocol::discovery))
        .route("/{tenant}/{track}/.well-known/oauth-authorization-server", get(protocol::discovery))
        // RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
        .route("/.well-known/oauth-authorization-server/{tenant}/{track}", get(protocol::discovery))
        .route("/{tenant}/{track}/{app}/.well-known/openid-configuration", get(protocol::discovery_app))
        .route("/{tenant}/{track}/{app}/.well-known/oauth-authorization-server", get(protocol::discovery_app))
        .method_not_allowed_fallback(protocol::method_not_allowed);
    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics));
    // Protocol responses set their own headers (nosniff included) and need no timer per
    // request: the token hot path stays free of middleware.
    let managed = Router::new()
        .merge(api::routes())
        .merge(ops)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)));
    Router::new().merge(protocol).merge(managed).fallback(api::no_route).with_state(state)
}

/// A server bound to its address, ready to serve.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    pub admin_secret_file: Option<PathBuf>,
    listener: tokio::net::TcpListener,
    max_connections: usize,
    max_connections_per_source: usize,
    timeouts: connections::Timeouts,
    drain_timeout: Duration,
}

impl Server {
    /// Binds the listener, opens the store, bootstraps and loads the snapshot.
    pub async fn bind(config: &ServerConfig) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let public_url = match &config.public_url {
            Some(u) => u.clone(),
            None => ferrid_core::urls::PublicUrl::parse(&format!("http://{addr}")).map_err(anyhow::Error::msg)?,
        };
        let started = startup::start(config, public_url).await?;
        let throttle = Arc::new(ferrid_core::client_auth::throttle::Throttle::new(config.throttle));
        let failure_ports = ferrid_core::client_auth::failures::FailurePorts {
            buckets: started.stores.failures.clone(),
            audit: started.stores.audit.clone(),
        };
        ferrid_core::client_auth::failures::spawn(failure_ports, throttle.clone());
        let state = AppState {
            manager: started.manager,
            stores: started.stores,
            metrics: Arc::new(ops::Metrics::default()),
            clock: Arc::new(ferrid_core::clock::SystemClock),
            throttle,
            trusted_proxies: config.trusted_proxies.clone().into(),
            documents_cache_control: axum::http::HeaderValue::from_str(&format!(
                "public, max-age={}",
                config.rotation.jwks_max_age
            ))?,
        };
        Ok(Server {
            addr,
            state,
            admin_secret_file: started.admin_secret_file,
            listener,
            max_connections: config.max_connections,
            max_connections_per_source: config.connections_per_source(),
            timeouts: connections::Timeouts {
                header: config.header_timeout,
                body: config.body_timeout,
                idle: config.idle_timeout,
            },
            drain_timeout: config.drain_timeout,
        })
    }

    /// Serves until `shutdown` resolves, then gives in-flight requests the drain
    /// timeout to finish before their connections are dropped.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let app = router(self.state);
        let listener =
            connections::LimitedListener::new(self.listener, self.max_connections, self.max_connections_per_source);
        serve::serve(listener, app, self.timeouts, self.drain_timeout, shutdown).await
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Starts a server in the background and returns it bound (for tests and embedding).
pub async fn spawn(config: &ServerConfig) -> anyhow::Result<(SocketAddr, AppState)> {
    let server = Server::bind(config).await?;
    let (addr, state) = (server.addr, server.state.clone());
    tokio::spawn(server.run(std::future::pending()));
    Ok((addr, state))
}
