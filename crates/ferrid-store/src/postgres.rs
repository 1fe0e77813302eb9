//! PostgreSQL: the store for several ferrid instances behind one load balancer.
//!
//! Every write announces the changed track with `pg_notify('ferrid_changes',
//! 'tenant/track')` inside its transaction, so the notice is sent exactly when the
//! change commits. Each instance listens ([`Store::subscribe`]) and reloads that track;
//! after a lost connection it asks for a full reload, since notices may have been missed.

use std::time::Duration;

use async_trait::async_trait;
use ferrid_core::{
    audit::{AuditEntry, AuditQuery, AuditRecord},
    model::{
        App, AppRow, KeyState, SecretHash, SecretRecord, StoredClientKey, Tenant, Track, TrackData, TrackKey,
        TrackSettings, UnixTime,
    },
    store::{Change, NewTrack, PageRequest, Store, StoreError, StoreResult},
};
use sqlx::{
    PgPool, Postgres, Row, Transaction,
    postgres::{PgListener, PgPoolOptions, PgRow},
};

use crate::{
    migrate,
    sql_store::{changed, corrupt, limit, map_err},
};

/// The notification channel all instances listen on.
pub const CHANNEL: &str = "ferrid_changes";

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and runs the migrations (serialised across instances by an advisory lock).
    pub async fn connect(url: &str) -> Result<PgStore, sqlx::Error> {
        let pool = PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        migrate::run_postgres(&pool).await?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The replay guard: an insert that conflicts changes nothing, so the first use wins
    /// at whichever instance; a known jti counts again only once expired.
    async fn record_jti(
        &self,
        tenant: &str,
        track: &str,
        client: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query("INSERT INTO used_jtis (tenant, track, client, jti, exp) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(tenant)
            .bind(track)
            .bind(client)
            .bind(jti)
            .bind(exp)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 1 {
            return Ok(true);
        }
        let r = sqlx::query(
            "UPDATE used_jtis SET exp = $1 WHERE tenant = $2 AND track = $3 AND client = $4 AND jti = $5 AND exp < $6",
        )
        .bind(exp)
        .bind(tenant)
        .bind(track)
        .bind(client)
        .bind(jti)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    /// The database is the guard: nothing is kept in memory.
    fn forget_jtis_before(&self, _now: UnixTime) -> Option<u64> {
        None
    }

    const LOCK_APP: &str = "SELECT 1 FROM apps WHERE tenant = $1 AND track = $2 AND name = $3 FOR UPDATE";
    const LOCK_TRACK: &str = "SELECT 1 FROM tracks WHERE tenant = $1 AND name = $2 FOR UPDATE";

    /// A read transaction on one snapshot (REPEATABLE READ): the default READ COMMITTED
    /// would let each statement see a different state.
    async fn begin_read(&self) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
    }

    /// Limits are made safe by locking the parent row (`LOCK_APP`), not the transaction mode.
    async fn begin_exclusive(&self) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn notify(tx: &mut Transaction<'_, Postgres>, tenant: &str, track: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{tenant}/{track}"))
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    fn changes(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Self::spawn_listener(self.pool.clone(), tx);
        Some(rx)
    }

    /// Listens on [`CHANNEL`] until the receiver is dropped, reconnecting with backoff.
    fn spawn_listener(pool: PgPool, tx: tokio::sync::mpsc::UnboundedSender<Change>) {
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            let mut listened_before = false;
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            backoff = Duration::from_millis(100);
                            // Anything committed while we were not listening is unknown.
                            if listened_before && tx.send(Change::Resync).is_err() {
                                return;
                            }
                            listened_before = true;
                            // Ok(None) or an error: the connection was lost.
                            while let Ok(Some(n)) = listener.try_recv().await {
                                if let Some(change) = Change::parse(n.payload())
                                    && tx.send(change).is_err()
                                {
                                    return;
                                }
                            }
                        }
                        tracing::warn!("lost the change-notification connection; reconnecting");
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for changes; retrying"),
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }
}

crate::sql_store!(PgStore, Postgres, PgRow);
