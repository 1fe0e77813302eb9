//! The embedded store's replay guard: one process owns the SQLite file, so the set of
//! used `jti`s is decided in memory (a mutex-guarded map: check-and-insert is atomic)
//! and written to the `used_jtis` table before the answer, so that a restart still
//! refuses every assertion accepted before it. One writer task commits the entries in
//! batches (group commit): whatever arrived while one transaction was committing goes
//! into the next, so a burst costs one commit per batch, not one per assertion.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use ferrid_core::model::UnixTime;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

type Key = (String, String, String, String);
/// One entry to write, and who waits for its commit.
type Pending = (Key, UnixTime, oneshot::Sender<bool>);

pub struct MemoryJtis {
    used: Mutex<HashMap<Key, UnixTime>>,
    writer: mpsc::UnboundedSender<Pending>,
}

impl MemoryJtis {
    /// Loads the unexpired entries and starts the write-behind task.
    pub async fn load(pool: SqlitePool, now: UnixTime) -> Result<Arc<MemoryJtis>, sqlx::Error> {
        let rows: Vec<(String, String, String, String, i64)> =
            sqlx::query_as("SELECT tenant, track, client, jti, exp FROM used_jtis WHERE exp >= $1")
                .bind(now)
                .fetch_all(&pool)
                .await?;
        let used = rows.into_iter().map(|(a, b, c, d, exp)| ((a, b, c, d), exp)).collect();
        let (writer, rx) = mpsc::unbounded_channel();
        tokio::spawn(commit_batches(pool, rx));
        Ok(Arc::new(MemoryJtis { used: Mutex::new(used), writer }))
    }

    /// Records the jti until `exp` and answers whether it was unused (or its earlier use
    /// expired): `Ok(true)` only once the entry is committed to the table. `Err` when
    /// the write failed; the jti then stays refused in memory (a retry needs a new one).
    pub async fn record(
        &self,
        tenant: &str,
        track: &str,
        client: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<bool, String> {
        let key = (tenant.to_owned(), track.to_owned(), client.to_owned(), jti.to_owned());
        let (done, committed) = oneshot::channel();
        {
            let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
            match used.get(&key) {
                Some(&old) if old >= now => return Ok(false),
                _ => used.insert(key.clone(), exp),
            };
        }
        self.writer.send((key, exp, done)).map_err(|_| "the replay-guard writer stopped".to_owned())?;
        match committed.await {
            Ok(true) => Ok(true),
            _ => Err("could not persist a used client-assertion id".to_owned()),
        }
    }

    /// Drops expired entries and answers how many.
    pub fn forget_before(&self, now: UnixTime) -> u64 {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let before = used.len();
        used.retain(|_, exp| *exp >= now);
        (before - used.len()) as u64
    }
}

async fn commit_batches(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let entries: Vec<(&Key, UnixTime)> = batch.iter().map(|(k, exp, _)| (k, *exp)).collect();
        let ok = match write(&pool, &entries).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not persist used client-assertion ids");
                false
            }
        };
        for (_, _, done) in batch {
            let _ = done.send(ok);
        }
    }
}

async fn write(pool: &SqlitePool, batch: &[(&Key, UnixTime)]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for ((tenant, track, client, jti), exp) in batch {
        sqlx::query(
            "INSERT INTO used_jtis (tenant, track, client, jti, exp) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, track, client, jti) DO UPDATE SET exp = excluded.exp",
        )
        .bind(tenant)
        .bind(track)
        .bind(client)
        .bind(jti)
        .bind(exp)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
