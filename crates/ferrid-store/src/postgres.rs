//! PostgreSQL: the store for several ferrid instances behind one load balancer.
//!
//! Every write announces what it changed with `pg_notify('ferrid_changes', …)` inside its
//! transaction (`tenant/track`, `app:tenant/track/app`, `user:tenant/track`), so the
//! notice is sent exactly when the change commits. Each instance listens
//! ([`Health::subscribe`]) and reloads that track or that app;
//! after a lost connection it asks for a full reload, since notices may have been missed.

use std::time::Duration;

use sqlx::{
    PgPool, Postgres,
    postgres::{PgListener, PgPoolOptions, PgRow},
};

use crate::{migrate, sql::prelude::*};

/// The notification channel all instances listen on.
pub const CHANNEL: &str = "ferrid_changes";

pub struct PgStore {
    pool: PgPool,
    /// Port method calls (`Health::calls`), counted and timed where each enters
    /// ([`crate::sql::tx`]).
    calls: crate::sql::tx::Calls,
}

impl PgStore {
    /// Connects and runs the migrations (serialised across instances by an advisory lock).
    pub async fn connect(url: &str) -> Result<PgStore, sqlx::Error> {
        let pool = PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        migrate::run_postgres(&pool).await?;
        Ok(PgStore { pool, calls: Default::default() })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The replay guard: an insert that conflicts changes nothing, so the first use wins
    /// at whichever instance; a known jti counts again only once expired.
    async fn record_jti(
        &self,
        pool: &PgPool,
        client: &AppRef,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let (tenant, track, client) = (client.tenant().as_str(), client.track.track.as_str(), client.app.as_str());
        let r = sqlx::query("INSERT INTO used_jtis (tenant, track, client, jti, exp) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(tenant)
            .bind(track)
            .bind(client)
            .bind(jti)
            .bind(exp)
            .execute(pool)
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
        .execute(pool)
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
    /// would let each statement see a different state. Limits are made safe by locking
    /// the parent row (`LOCK_APP`), not by the transaction mode.
    async fn begin_on(pool: &PgPool, kind: Begin) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        match kind {
            Begin::Write | Begin::Exclusive => pool.begin().await,
            Begin::Read => pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
        }
    }

    /// Announces what a write touched ([`Touched::payload`]): a track, or one app so that
    /// the others reload that app alone (docs/ARCHITECTURE.md "Snapshot").
    async fn notify(tx: &mut Transaction<'_, Postgres>, touched: Touched<'_>) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(touched.payload())
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn notify_denied(tx: &mut Transaction<'_, Postgres>, tenant: &str, track: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("deny:{tenant}/{track}"))
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
