//! Start-up: data directory, master key, store, bootstrap, snapshot.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
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

use crate::config::{ServerConfig, StartRefused};

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
fn master_key(config: &ServerConfig, env: &Env, create: bool) -> anyhow::Result<KeyCipher> {
    if let Some(k) = &config.master_key {
        return KeyCipher::from_text(k.expose_secret())
            .map_err(|e| StartRefused::Config(format!("FERRID_MASTER_KEY: {e}")).into());
    }
    let path = config.data_dir.join("master.key");
    if !path.exists() && create {
        write_private(&path, &KeyCipher::generate_text(env.rng.as_ref()))
            .with_context(|| format!("creating {}", path.display()))?;
        tracing::info!(path = %path.display(), "generated the master key file");
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .map_err(|e| StartRefused::Config(format!("reading the master key {}: {e}", path.display())))?,
    );
    KeyCipher::from_text(&text)
        .map_err(|_| StartRefused::Config(format!("{} does not hold a valid master key", path.display())).into())
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
            let store = PgStore::connect(url)
                .await
                .map_err(|e| StartRefused::Unreachable(format!("connecting to PostgreSQL: {e}")))?;
            Ok(Stores::of(Arc::new(store)))
        }
        Some(_) => Err(StartRefused::Config("--database-url must start with sqlite: or postgres://".into()).into()),
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
        return Err(StartRefused::Config(
            "FERRID_MASTER_KEY must be set with PostgreSQL: every instance needs the same master key to read the track keys"
                .into(),
        )
        .into());
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
        return Err(StartRefused::Config(format!(
            "the master key does not decrypt the stored keys of {} track(s) ({}{}): start with the master key (FERRID_MASTER_KEY or master.key) that encrypted them",
            unreadable.len(),
            unreadable.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if unreadable.len() > 5 { ", …" } else { "" }
        ))
        .into());
    }
    Ok(())
}

/// Starts everything; `observer` is told of snapshot reloads, background job rounds and
/// the time of each store call.
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
    let cipher = master_key(config, &env, true)?;
    let stores = open_store(config, &env).await?;
    stores.health.observe_calls(observer.clone(), env.clock.clone());
    let registry = Arc::new(Registry::new(cipher, public_url));
    let clock = env.clock.clone();
    let manager = Arc::new(Manager::new(stores.clone(), registry, env));
    manager.observe(observer.clone());
    let (mut admin_secret_file, mut admin_password_file) = (None, None);
    let bootstrap = manager.bootstrap(config.admin_secret.clone(), config.admin_password.clone());
    match bootstrap.await.map_err(|e| anyhow::anyhow!("bootstrap: {e:?}"))? {
        Bootstrap::AlreadyDone if config.admin_secret.is_some() => {
            tracing::warn!(
                "FERRID_ADMIN_SECRET is ignored: the store already has its admin client (it is read on the first \
                 start only; `ferrid recover-admin` adds a secret to it, docs/cli.md)"
            );
        }
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
/// and, when asked and standard output is a terminal (a person is watching), prints it
/// there once. Never through the log, and never into a captured or piped standard
/// output (a service manager's journal, a CI log): there the file is the only copy.
fn show_once(
    config: &ServerConfig,
    name: &str,
    whose: &str,
    what: &str,
    value: &SecretString,
) -> anyhow::Result<PathBuf> {
    let path = config.data_dir.join(name);
    write_private(&path, value.expose_secret()).with_context(|| format!("writing {}", path.display()))?;
    if config.print_admin_secret && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!(
            "ferrid: created {whose} in master/master; its {what} (shown once, also in {}):\n{}",
            path.display(),
            value.expose_secret()
        );
    } else {
        tracing::info!(path = %path.display(), "generated the {what} of {whose}; it is in the file (owner-only)");
    }
    Ok(path)
}

/// `ferrid recover-admin` (docs/cli.md "Recovering the admin secret"): on the store of
/// `config`, without a server, adds a generated secret to the client `admin` of
/// `master/master` and returns it. Refuses a data directory or database that holds no
/// ferrid store instead of creating one, and never creates a master key.
pub async fn recover_admin(config: &ServerConfig, env: Env) -> anyhow::Result<SecretString> {
    check_shared_master_key(config)?;
    if config.database_url.is_none() {
        let db = config.data_dir.join("ferrid.db");
        if !db.exists() {
            return Err(StartRefused::Config(format!(
                "--data-dir {}: no ferrid store there ({} does not exist)",
                config.data_dir.display(),
                db.display()
            ))
            .into());
        }
    }
    let cipher = master_key(config, &env, false)?;
    let stores = open_store(config, &env).await?;
    let public_url = match &config.public_url {
        Some(u) => u.clone(),
        None => {
            ferrid_core::urls::PublicUrl::parse(&format!("http://{}", config.listen)).map_err(anyhow::Error::msg)?
        }
    };
    let manager = Manager::new(stores, Arc::new(Registry::new(cipher, public_url)), env);
    manager.recover_admin().await.map_err(|e| match e {
        ferrid_core::manage::ManageError::NotFound(m) => StartRefused::Config(m).into(),
        ferrid_core::manage::ManageError::Unavailable => {
            StartRefused::Unreachable("the store is unavailable".into()).into()
        }
        e => anyhow::anyhow!("adding the secret: {e}"),
    })
}
