//! Start-up: data directory, master key, store, bootstrap, snapshot.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use ferrid_core::{
    env::Env,
    jobs::Jobs,
    keys::KeyCipher,
    manage::{Manager, bootstrap::Bootstrap},
    runtime::Registry,
    store::Stores,
};
use ferrid_store::{PgStore, SqliteStore};
use secrecy::{ExposeSecret, SecretString};

use crate::config::ServerConfig;

/// Writes `contents` to a new file readable only by its owner.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// The master key: `FERRID_MASTER_KEY`, or `master.key` in the data directory
/// (created owner-only on first start).
fn master_key(config: &ServerConfig, env: &Env) -> anyhow::Result<KeyCipher> {
    if let Some(k) = &config.master_key {
        return KeyCipher::from_text(k.expose_secret()).context("FERRID_MASTER_KEY");
    }
    let path = config.data_dir.join("master.key");
    if !path.exists() {
        write_private(&path, &KeyCipher::generate_text(env.rng.as_ref()))
            .with_context(|| format!("creating {}", path.display()))?;
        tracing::info!(path = %path.display(), "generated the master key file");
    }
    let text =
        zeroize::Zeroizing::new(std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?);
    KeyCipher::from_text(&text).with_context(|| format!("{} does not hold a valid master key", path.display()))
}

async fn open_store(config: &ServerConfig, env: &Env) -> anyhow::Result<Stores> {
    let clock = env.clock.as_ref();
    match config.database_url.as_deref() {
        None => Ok(Stores::of(Arc::new(
            SqliteStore::open_dir_at(&config.data_dir, clock).await.context("opening the embedded SQLite store")?,
        ))),
        Some(url) if url.starts_with("sqlite:") => {
            Ok(Stores::of(Arc::new(SqliteStore::open_url_at(url, clock).await.context("opening the SQLite store")?)))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Stores::of(Arc::new(PgStore::connect(url).await.context("connecting to PostgreSQL")?)))
        }
        Some(_) => bail!("--database-url must start with sqlite: or postgres://"),
    }
}

/// Everything the server needs, ready.
pub struct Started {
    pub manager: Arc<Manager>,
    /// Every port of the store; each counts its calls where it enters the SQL layer.
    pub stores: Stores,
    /// Where a generated admin secret was written, if one was generated.
    pub admin_secret_file: Option<PathBuf>,
    /// Where a generated admin user password was written.
    pub admin_password_file: Option<PathBuf>,
    /// The background tasks, stopped when the server stops.
    pub jobs: Arc<Jobs>,
}

/// Instances sharing a PostgreSQL database must share the master key that encrypts the
/// track keys; a key file in each instance's own data directory would differ per instance.
fn check_shared_master_key(config: &ServerConfig) -> anyhow::Result<()> {
    let postgres =
        config.database_url.as_deref().is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"));
    if postgres && config.master_key.is_none() {
        bail!(
            "FERRID_MASTER_KEY must be set with PostgreSQL: every instance needs the same master key to read the track keys"
        );
    }
    Ok(())
}

/// Refuses to serve with a master key that does not open every stored track key: such
/// tracks would have no signing key and answer every token request with an error.
fn check_keys_decrypt(registry: &Registry) -> anyhow::Result<()> {
    let unreadable: Vec<String> = registry
        .tracks()
        .iter()
        // The snapshot keeps every key's life but parses only the keys that decrypt.
        .filter(|t| t.verifying.len() < t.key_states.len())
        .map(|t| format!("{}/{}", t.tenant, t.track))
        .collect();
    if !unreadable.is_empty() {
        bail!(
            "the master key does not decrypt the stored keys of {} track(s) ({}{}): start with the master key (FERRID_MASTER_KEY or master.key) that encrypted them",
            unreadable.len(),
            unreadable.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if unreadable.len() > 5 { ", …" } else { "" }
        );
    }
    Ok(())
}

/// Starts everything; `observer` is told of snapshot reloads and background job rounds.
pub async fn start(
    config: &ServerConfig,
    public_url: ferrid_core::urls::PublicUrl,
    env: Env,
    observer: Arc<dyn ferrid_core::observe::Observer>,
) -> anyhow::Result<Started> {
    check_shared_master_key(config)?;
    // Owner-only (0700): it holds the database, the master key and the admin secret.
    ferrid_store::sqlite::private_dir(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let cipher = master_key(config, &env)?;
    let stores = open_store(config, &env).await?;
    let registry = Arc::new(Registry::new(cipher, public_url));
    let clock = env.clock.clone();
    let manager = Arc::new(Manager::new(stores.clone(), registry, env));
    manager.observe(observer.clone());
    let (mut admin_secret_file, mut admin_password_file) = (None, None);
    let bootstrap = manager.bootstrap(config.admin_secret.clone(), config.admin_password.clone());
    match bootstrap.await.map_err(|e| anyhow::anyhow!("bootstrap: {e:?}"))? {
        Bootstrap::AlreadyDone => {}
        Bootstrap::Created { secret, password } => {
            if secret.is_none() {
                tracing::info!("bootstrapped tenant 'master' with the admin secret from FERRID_ADMIN_SECRET");
            }
            tracing::info!("created the user 'admin' in master/master");
            if let Some(secret) = secret {
                admin_secret_file = Some(show_once(config, "admin-secret", "client 'admin'", "secret", &secret)?);
            }
            if let Some(password) = password {
                admin_password_file = Some(show_once(config, "admin-password", "user 'admin'", "password", &password)?);
            }
        }
    }
    // Listen before loading, so that no change falls between the two.
    let jobs = Arc::new(Jobs::observed(observer, clock));
    manager.watch_changes(&jobs);
    manager.load_snapshot().await.map_err(|e| anyhow::anyhow!("loading the snapshot: {e:?}"))?;
    check_keys_decrypt(manager.registry())?;
    manager.spawn_expiry_purge(&jobs, std::time::Duration::from_secs(600));
    manager.spawn_rotation(&jobs, config.rotation);
    manager.spawn_audit_retention(&jobs, config.audit_retention_days);
    Ok(Started { manager, stores, admin_secret_file, admin_password_file, jobs })
}

/// Writes a generated credential to the owner-only file `name` in the data directory
/// and, when asked, prints it once on standard output — never through the log.
fn show_once(
    config: &ServerConfig,
    name: &str,
    whose: &str,
    what: &str,
    value: &SecretString,
) -> anyhow::Result<PathBuf> {
    let path = config.data_dir.join(name);
    write_private(&path, value.expose_secret()).with_context(|| format!("writing {}", path.display()))?;
    if config.print_admin_secret {
        println!(
            "ferrid: created {whose} in master/master; its {what} (shown once, also in {}):\n{}",
            path.display(),
            value.expose_secret()
        );
    }
    Ok(path)
}
