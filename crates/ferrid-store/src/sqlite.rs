//! The embedded default: SQLite in the data directory (WAL, foreign keys on).

use std::{path::Path, str::FromStr, time::Duration};

use ferrid_core::env::{Clock, SystemClock};
use ferrid_core::model::UnixTime;
use sqlx::{
    Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous},
};

use crate::{migrate, sql::prelude::*};

pub struct SqliteStore {
    pool: SqlitePool,
    /// Port method calls (`Health::calls`), counted and timed where each enters
    /// ([`crate::sql::tx`]).
    calls: crate::sql::tx::Calls,
    /// The replay guard (see [`crate::jti_memory`]).
    jtis: std::sync::Arc<crate::jti_memory::MemoryJtis>,
}

impl SqliteStore {
    /// Opens (creating if missing) `ferrid.db` in `dir` and runs the migrations.
    /// The directory is created owner-only (0700) and the database file is made
    /// owner-only (0600) before SQLite opens it; SQLite gives its `-wal` and `-shm`
    /// files the database file's permissions.
    pub async fn open_dir(dir: &Path) -> Result<SqliteStore, sqlx::Error> {
        Self::open_dir_at(dir, &SystemClock::new()).await
    }

    /// [`SqliteStore::open_dir`], loading the replay guard's unexpired entries as of
    /// `clock`'s time.
    pub async fn open_dir_at(dir: &Path, clock: &dyn Clock) -> Result<SqliteStore, sqlx::Error> {
        private_dir(dir).map_err(sqlx::Error::Io)?;
        private_file(&dir.join("ferrid.db")).map_err(sqlx::Error::Io)?;
        let opts = SqliteConnectOptions::new()
            .filename(dir.join("ferrid.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::open(opts, clock).await
    }

    /// Opens a database URL such as `sqlite://path/ferrid.db`.
    pub async fn open_url(url: &str) -> Result<SqliteStore, sqlx::Error> {
        Self::open_url_at(url, &SystemClock::new()).await
    }

    /// [`SqliteStore::open_url`] as of `clock`'s time (see [`SqliteStore::open_dir_at`]).
    pub async fn open_url_at(url: &str, clock: &dyn Clock) -> Result<SqliteStore, sqlx::Error> {
        let opts = SqliteConnectOptions::from_str(url)?;
        let file = opts.get_filename();
        if !file.as_os_str().is_empty() && file != Path::new(":memory:") {
            private_file(file).map_err(sqlx::Error::Io)?;
        }
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::open(opts, clock).await
    }

    async fn open(opts: SqliteConnectOptions, clock: &dyn Clock) -> Result<SqliteStore, sqlx::Error> {
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        migrate::run_sqlite(&pool).await?;
        // One connection: replay-guard inserts queue in the pool instead of contending
        // for SQLite's write lock (whose busy handler sleeps).
        let jtis = crate::jti_memory::MemoryJtis::load(pool.clone(), clock.now()).await?;
        Ok(SqliteStore { pool, calls: Default::default(), jtis })
    }

    async fn record_jti(
        &self,
        _pool: &SqlitePool,
        client: &AppRef,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let (tenant, track) = (client.tenant().as_str(), client.track.track.as_str());
        self.jtis.record(tenant, track, client.app.as_str(), jti, exp, now).await.map_err(StoreError::Unavailable)
    }

    /// How many in-memory entries expired (the table may lag by one write-behind batch).
    fn forget_jtis_before(&self, now: UnixTime) -> Option<u64> {
        Some(self.jtis.forget_before(now))
    }

    const LOCK_APP: &str = "SELECT 1 FROM apps WHERE tenant = $1 AND track = $2 AND name = $3";
    /// SQLite has one writer at a time: the first write of the transaction takes the lock.
    const LOCK_TRACK: &str = "SELECT 1 FROM tracks WHERE tenant = $1 AND name = $2";

    /// A read transaction: in WAL mode every read in it sees one state of the database.
    /// A write that counts before it inserts (`Begin::Exclusive`) takes `BEGIN IMMEDIATE`:
    /// the write lock at once, so the count and the insert see the same state.
    async fn begin_on(pool: &SqlitePool, kind: Begin) -> Result<Transaction<'_, Sqlite>, sqlx::Error> {
        match kind {
            Begin::Write | Begin::Read => pool.begin().await,
            Begin::Exclusive => pool.begin_with("BEGIN IMMEDIATE").await,
        }
    }

    /// One process owns an SQLite file: no one to tell about its deny-list either.
    async fn notify_denied(_tx: &mut Transaction<'_, Sqlite>, _tenant: &str, _track: &str) -> StoreResult<()> {
        Ok(())
    }

    /// One process owns an SQLite file: no other instance announces changes.
    fn changes(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
        None
    }

    /// One process owns an SQLite file: there is no other instance to tell.
    async fn notify(_tx: &mut Transaction<'_, Sqlite>, _touched: Touched<'_>) -> StoreResult<()> {
        Ok(())
    }
}

/// Creates `dir` (and missing parents) readable only by its owner.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes the database file, and its `-wal`/`-shm` companions when present, readable and
/// writable by the owner only, creating the database file if it is missing.
fn private_file(db: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let mut companions = Vec::new();
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            companions.push(std::path::PathBuf::from(name));
        }
        for path in std::iter::once(db.to_path_buf()).chain(companions) {
            match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

crate::sql_store!(SqliteStore, Sqlite, SqliteRow);
