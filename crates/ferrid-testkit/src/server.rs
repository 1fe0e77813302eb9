//! ferrid in-process on 127.0.0.1:0 with a fresh store.

use std::path::{Path, PathBuf};

use ferrid_server::{AppState, ServerConfig};
use reqwest::Client;
use secrecy::ExposeSecret;

use crate::pg::PgDb;

/// A running in-process server and what the tests reach it with.
pub struct TestApp {
    pub base: String,
    /// Follows no redirect, so that tests see them.
    pub http: Client,
    pub admin_secret: String,
    pub data_dir: PathBuf,
    /// The server's state (its store, snapshot and metrics).
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDb>,
}

type Adjust = Box<dyn FnOnce(&mut ServerConfig)>;

/// How a [`TestApp`] is started: `TestServer::builder().config(|c| …).spawn()`.
pub struct TestServer {
    dir: Option<tempfile::TempDir>,
    data_dir: Option<PathBuf>,
    pg: Option<PgDb>,
    adjust: Vec<Adjust>,
    env: Option<ferrid_core::env::Env>,
}

/// The master key PostgreSQL instances share (base64url of 32 bytes 0..=31).
pub const TEST_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

impl TestServer {
    /// A server on embedded SQLite in a fresh temporary directory.
    pub fn builder() -> TestServer {
        TestServer { dir: None, data_dir: None, pg: None, adjust: Vec::new(), env: None }
    }

    /// A server on a fresh PostgreSQL database; `None` (after a loud `SKIPPED` line) when
    /// `FERRID_TEST_DATABASE_URL` is not set.
    pub fn postgres() -> Option<TestServer> {
        let db = crate::pg::fresh_database("ferrid_t")?;
        Some(TestServer { pg: Some(db), ..TestServer::builder() })
    }

    /// Uses `dir` (kept alive with the server) as the data directory.
    pub fn dir(mut self, dir: tempfile::TempDir) -> Self {
        self.dir = Some(dir);
        self
    }

    /// Uses an existing data directory the caller keeps alive (a restart).
    pub fn data_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(path.into());
        self
    }

    /// Adjusts the configuration before start (after the test defaults).
    pub fn config(mut self, adjust: impl FnOnce(&mut ServerConfig) + 'static) -> Self {
        self.adjust.push(Box::new(adjust));
        self
    }

    /// Runs the server on `env` (a `FakeEnv`'s, for tests that wait on time) instead of
    /// the system clock and random source.
    pub fn env(mut self, env: ferrid_core::env::Env) -> Self {
        self.env = Some(env);
        self
    }

    /// Starts the server and reads its admin secret.
    pub async fn spawn(self) -> TestApp {
        let dir = match (&self.data_dir, self.dir) {
            (Some(_), _) => None,
            (None, Some(d)) => Some(d),
            (None, None) => Some(tempfile::tempdir().expect("tempdir")),
        };
        let data_dir = self.data_dir.unwrap_or_else(|| dir.as_ref().expect("a directory").path().to_path_buf());
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), data_dir.clone());
        config.print_admin_secret = false;
        if let Some(db) = &self.pg {
            config.database_url = Some(db.url.clone());
            config.master_key = Some(TEST_MASTER_KEY.into());
        }
        for adjust in self.adjust {
            adjust(&mut config);
        }
        let env = self.env.unwrap_or_else(ferrid_core::env::Env::system);
        let (addr, state) = ferrid_server::spawn_with_env(&config, env).await.expect("server starts");
        TestApp {
            base: format!("http://{addr}"),
            http: Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            admin_secret: admin_secret(&config, &data_dir),
            data_dir,
            state,
            _dir: dir,
            _pg: self.pg,
        }
    }
}

/// The chosen admin secret, else the generated one from the data directory's file.
fn admin_secret(config: &ServerConfig, data_dir: &Path) -> String {
    match &config.admin_secret {
        Some(s) => s.expose_secret().to_owned(),
        None => std::fs::read_to_string(data_dir.join("admin-secret")).expect("admin secret file"),
    }
}

/// Starts ferrid on 127.0.0.1:0 with a fresh data directory.
pub async fn spawn_app() -> TestApp {
    TestServer::builder().spawn().await
}

/// Starts ferrid on the data directory `dir`.
pub async fn spawn_in(dir: tempfile::TempDir) -> TestApp {
    TestServer::builder().dir(dir).spawn().await
}

/// Starts ferrid on `dir` with a configuration adjusted by `adjust`.
pub async fn spawn_with(dir: tempfile::TempDir, adjust: impl FnOnce(&mut ServerConfig) + 'static) -> TestApp {
    TestServer::builder().dir(dir).config(adjust).spawn().await
}

/// Starts ferrid on `dir` and `env` with a configuration adjusted by `adjust`.
pub async fn spawn_with_env(
    dir: tempfile::TempDir,
    env: ferrid_core::env::Env,
    adjust: impl FnOnce(&mut ServerConfig) + 'static,
) -> TestApp {
    TestServer::builder().dir(dir).env(env).config(adjust).spawn().await
}

/// Polls `check` until it holds, for up to 5 s: for work done off the request path (a
/// reporter task, a background job), so a wait for a condition, not for a fixed time.
pub async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..250 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    check().await
}
