//! ferrid's HTTP server.
//!
//! # Layout
//! - [`config`]: the validated [`config::ServerConfig`].
//! - [`startup`]: data directory, master key, store, bootstrap, snapshot.
//! - [`protocol`]: token, JWKS and discovery endpoints (thin adapters over `ferrid-core`).
//! - [`api`]: the management API under `/api/v1`.
//! - [`console`]: the web console under `/console/` (server-rendered pages).
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`; [`landing`]: `/`.
//! - [`metrics`]: the Prometheus metrics and the handler wrapper that times protocol
//!   requests; [`access_log`]: one JSON line per request, written off the request path.
//! - [`connections`] and [`serve`]: connection limits and timeouts, the accept loop,
//!   graceful shutdown with a drain deadline; [`tls`]: HTTPS with a reloadable certificate.
//!
//! [`serve`] runs until a shutdown signal; [`spawn`] starts a server in the background
//! (tests use it on port 0).

pub mod access_log;
pub mod api;
pub mod config;
pub mod connections;
pub mod console;
pub mod landing;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod protocol;
pub mod provider;
pub mod proxies;
pub mod serve;
pub mod startup;
pub mod tls;

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    handler::Handler,
    http::{HeaderValue, header},
    routing::{MethodRouter, get, post},
};
use ferrid_core::{
    env::Env,
    manage::{MASTER, Manager},
    routes::{Method, Route},
};
use tower_http::{set_header::SetResponseHeaderLayer, timeout::TimeoutLayer};

pub use config::ServerConfig;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub manager: Arc<Manager>,
    /// The store's ports (the same ones the manager holds); `health.calls()` feeds `/metrics`.
    /// Behind one `Arc`, like every field: axum clones the state for each request, and
    /// each `Arc` clone is an atomic on a cache line all cores share (ten port `Arc`s
    /// cloned per token request cost ~15 % of ES256 throughput at c=64).
    pub stores: Arc<ferrid_core::store::Stores>,
    /// Every metric, and the access log when it is on.
    pub metrics: Arc<metrics::Metrics>,
    /// Time and randomness, given at start (docs/ARCHITECTURE.md "Time and randomness").
    pub env: Arc<Env>,
    /// Failed client authentications per source address (this instance's view).
    pub throttle: Arc<ferrid_core::throttle::Throttle>,
    /// `Cache-Control` of the JWKS and discovery documents (the rotation's premise).
    pub documents_cache_control: axum::http::HeaderValue,
    /// Proxies whose `X-Forwarded-For` names the source of a request.
    pub trusted_proxies: Arc<[proxies::IpRange]>,
}

impl AppState {
    pub fn clock_now(&self) -> i64 {
        self.env.clock.now()
    }
}

/// The handler of each route of `ferrid_core::routes` (a new route does not compile
/// until it has one here). Protocol handlers are wrapped in [`metrics::http::Timed`];
/// the other routes are counted by the middleware of [`router`].
fn handler(route: Route) -> MethodRouter<AppState> {
    fn on<H, T>(route: Route, h: H) -> MethodRouter<AppState>
    where
        H: Handler<T, AppState>,
        H::Future: Unpin,
        T: 'static,
    {
        if route.is_protocol() {
            let timed = metrics::http::Timed::new(h, metrics::http::RouteTable::slot(route));
            return method(route, timed);
        }
        method(route, h)
    }
    fn method<H: Handler<T, AppState>, T: 'static>(route: Route, h: H) -> MethodRouter<AppState> {
        match route.method() {
            Method::Get => get(h),
            Method::Post => post(h),
            Method::GetOrPost => get(h.clone()).post(h),
        }
    }
    match route {
        Route::Token => on(route, protocol::token),
        Route::AppToken => on(route, protocol::token_app),
        Route::Jwks => on(route, protocol::jwks),
        Route::OpenIdConfiguration | Route::OAuthAuthorizationServer | Route::OAuthAuthorizationServerInserted => {
            on(route, protocol::discovery)
        }
        Route::AppOpenIdConfiguration | Route::AppOAuthAuthorizationServer => on(route, protocol::discovery_app),
        Route::Authorize => on(route, provider::authorize),
        Route::AppAuthorize => on(route, provider::authorize_app),
        Route::UserInfo => on(route, provider::userinfo),
        Route::AppUserInfo => on(route, provider::userinfo_app),
        Route::EndSession => on(route, provider::end_session),
        Route::AppEndSession => on(route, provider::end_session_app),
        Route::Introspect => on(route, protocol::introspect),
        Route::AppIntrospect => on(route, protocol::introspect_app),
        Route::Revoke => on(route, protocol::revoke),
        Route::AppRevoke => on(route, protocol::revoke_app),
        Route::Login => on(route, provider::login),
        Route::Consent => on(route, provider::consent),
        Route::Healthz => on(route, ops::healthz),
        Route::Readyz => on(route, ops::readyz),
        Route::Metrics => on(route, ops::metrics),
        Route::Favicon => on(route, ops::favicon),
        Route::Landing => on(route, landing::landing),
    }
}

/// Whether a browser script of another origin may call the route (docs/provider.md
/// "Browsers and CORS"): the endpoints a single-page app calls with `fetch`, not the
/// ones it navigates to.
fn cors(route: Route) -> bool {
    !matches!(
        route,
        Route::Authorize
            | Route::AppAuthorize
            | Route::Login
            | Route::Consent
            | Route::EndSession
            | Route::AppEndSession
    )
}

/// The route table.
pub fn router(state: AppState) -> Router {
    let (mut protocol, mut ops) = (Router::new(), Router::new());
    for route in Route::ALL {
        // `--metrics-listen`: served on its own listener only.
        if route == Route::Metrics && state.metrics.apart {
            continue;
        }
        if route.is_protocol() {
            let mut h = handler(route);
            if cors(route) {
                h = h.options(protocol::preflight);
            }
            protocol = protocol.route(route.template(), h);
        } else {
            ops = ops.route(route.template(), handler(route));
        }
    }
    let protocol = protocol.method_not_allowed_fallback(protocol::method_not_allowed);
    // Protocol responses set their own headers (nosniff included) and need no timer per
    // request: the token hot path stays free of middleware.
    let token_url = state.manager.registry().urls().token_endpoint(MASTER, MASTER, None);
    let managed = Router::new()
        .merge(api::routes(&token_url))
        .merge(console::routes())
        .merge(ops)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::http::observe));
    let unmatched = metrics::http::Timed::new(api::no_route, metrics::http::RouteTable::unmatched());
    Router::new().merge(protocol).merge(managed).fallback(unmatched).with_state(state)
}

/// The router of the `--metrics-listen` listener: `/metrics` alone.
fn metrics_router(state: AppState) -> Router {
    Router::new().route(Route::Metrics.template(), get(ops::metrics)).fallback(api::no_route).with_state(state)
}

/// A server bound to its address, ready to serve.
pub struct Server {
    pub addr: SocketAddr,
    /// Where `/metrics` is served apart from the public listener (`--metrics-listen`).
    pub metrics_addr: Option<SocketAddr>,
    metrics_listener: Option<tokio::net::TcpListener>,
    pub state: AppState,
    pub admin_secret_file: Option<PathBuf>,
    /// Where a generated password of the bootstrap user `admin` was written.
    pub admin_password_file: Option<PathBuf>,
    listener: tokio::net::TcpListener,
    max_connections: usize,
    max_connections_per_source: usize,
    timeouts: connections::Timeouts,
    drain_timeout: Duration,
    /// The background tasks, signalled and joined once the server has drained.
    jobs: Arc<ferrid_core::jobs::Jobs>,
    /// The certificate of an HTTPS listener; [`tls::TlsReloader::reload`] swaps it.
    pub tls: Option<Arc<tls::TlsReloader>>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
}

impl Server {
    /// Binds the listener, opens the store, bootstraps and loads the snapshot, on the
    /// operating system's clocks and random source.
    pub async fn bind(config: &ServerConfig) -> anyhow::Result<Server> {
        Server::bind_with_env(config, Env::system()).await
    }

    /// [`Server::bind`] reading time and randomness from `env` only (tests pass a fake).
    pub async fn bind_with_env(config: &ServerConfig, env: Env) -> anyhow::Result<Server> {
        let refused = |e: tls::TlsError| config::StartRefused::Config(e.to_string());
        let tls = config.tls.clone().map(tls::TlsReloader::load).transpose().map_err(refused)?;
        let acceptor = tls.as_ref().map(|t| t.acceptor()).transpose().map_err(refused)?;
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|io| config::StartRefused::Bind {
            flag: "--listen",
            addr: config.listen,
            io,
        })?;
        let addr = listener.local_addr()?;
        let public_url = match &config.public_url {
            Some(u) => u.clone(),
            // Secure cookies and https URLs follow the listener's scheme (docs/deployment.md "TLS").
            None => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                ferrid_core::urls::PublicUrl::parse(&format!("{scheme}://{addr}")).map_err(anyhow::Error::msg)?
            }
        };
        let metrics_listener = match config.metrics_listen {
            Some(at) => {
                let bound = tokio::net::TcpListener::bind(at).await;
                Some(bound.map_err(|io| config::StartRefused::Bind { flag: "--metrics-listen", addr: at, io })?)
            }
            None => None,
        };
        let metrics = Arc::new(metrics::Metrics::new(env.clock.clone(), metrics_listener.is_some()));
        let started = startup::start(config, public_url, env.clone(), metrics.clone()).await?;
        if let Some(t) = &tls {
            t.spawn(&started.jobs, config.tls_reload_interval);
        }
        start_metrics_jobs(config, &metrics, &started.jobs)?;
        let throttle = Arc::new(ferrid_core::throttle::Throttle::new(config.throttle, env.clock.clone()));
        let failure_ports = ferrid_core::throttle::failures::FailurePorts {
            buckets: started.stores.failures.clone(),
            audit: started.stores.audit.clone(),
        };
        ferrid_core::throttle::failures::spawn(&started.jobs, failure_ports, throttle.clone(), env.clock.clone());
        let state = AppState {
            manager: started.manager,
            stores: Arc::new(started.stores),
            metrics,
            env: Arc::new(env),
            throttle,
            trusted_proxies: config.trusted_proxies.clone().into(),
            documents_cache_control: axum::http::HeaderValue::from_str(&format!(
                "public, max-age={}",
                config.rotation.jwks_max_age
            ))?,
        };
        Ok(Server {
            addr,
            metrics_addr: metrics_listener.as_ref().map(|l| l.local_addr()).transpose()?,
            metrics_listener,
            state,
            admin_secret_file: started.admin_secret_file,
            admin_password_file: started.admin_password_file,
            listener,
            max_connections: config.max_connections,
            max_connections_per_source: config.connections_per_source(),
            timeouts: connections::Timeouts {
                header: config.header_timeout,
                body: config.body_timeout,
                idle: config.idle_timeout,
            },
            drain_timeout: config.drain_timeout,
            jobs: started.jobs,
            tls,
            acceptor,
        })
    }

    /// Serves until `shutdown` resolves, then gives in-flight requests the drain
    /// timeout to finish before their connections are dropped, and then stops the
    /// background tasks.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let listener = connections::LimitedListener::new(
            self.listener,
            self.max_connections,
            self.max_connections_per_source,
            self.state.env.clock.clone(),
        )
        .counting(self.state.metrics.refused.clone());
        self.state.metrics.watch_connections(listener.in_use());
        if let Some(l) = self.metrics_listener {
            let app = metrics_router(self.state.clone());
            self.jobs.spawn("metrics-listener", async move {
                if let Err(e) = axum::serve(l, app).await {
                    tracing::warn!(error = %e, "the metrics listener stopped");
                }
            });
        }
        let app = router(self.state);
        let served = serve::serve(listener, app, self.timeouts, self.drain_timeout, self.acceptor, shutdown).await;
        self.jobs.shutdown().await;
        served
    }
}

/// Starts the access log (`--access-log`) and the metrics' upkeep.
fn start_metrics_jobs(
    config: &ServerConfig,
    metrics: &Arc<metrics::Metrics>,
    jobs: &ferrid_core::jobs::Jobs,
) -> anyhow::Result<()> {
    if let Some(target) = &config.access_log {
        let log = access_log::AccessLog::start(target, metrics.access_log_dropped())
            .with_context(|| format!("--access-log {target:?}"))?;
        metrics.set_access_log(log);
    }
    let m = Arc::clone(metrics);
    jobs.every("metrics-upkeep", Duration::from_secs(5), move || {
        m.upkeep();
        std::future::ready(())
    });
    Ok(())
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
    spawn_with_env(config, Env::system()).await
}

/// [`spawn`] on the given environment (tests pass a fake clock).
pub async fn spawn_with_env(config: &ServerConfig, env: Env) -> anyhow::Result<(SocketAddr, AppState)> {
    let server = Server::bind_with_env(config, env).await?;
    let (addr, state) = (server.addr, server.state.clone());
    tokio::spawn(server.run(std::future::pending()));
    Ok((addr, state))
}
