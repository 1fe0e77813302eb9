//! The embedded store's replay guard: one process owns the SQLite file, so the set of
//! used `jti`s is decided in memory (a mutex-guarded map: check-and-insert is atomic)
//! and written behind to the `used_jtis` table in batches, so that a restart still
//! refuses assertions used before it. A batch is written at most 50 ms after its first
//! entry; an entry is lost only if the process dies in that window.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use ferrid_core::model::UnixTime;
use sqlx::SqlitePool;
use tokio::sync::mpsc;

type Key = (String, String, String, String);

pub struct MemoryJtis {
    used: Mutex<HashMap<Key, UnixTime>>,
    writer: mpsc::UnboundedSender<(Key, UnixTime)>,
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
        tokio::spawn(write_behind(pool, rx));
        Ok(Arc::new(MemoryJtis { used: Mutex::new(used), writer }))
    }

    /// Records the jti and answers whether it was unused (or its earlier use expired).
    pub fn record(&self, tenant: &str, track: &str, client: &str, jti: &str, exp: UnixTime, now: UnixTime) -> bool {
        let key = (tenant.to_owned(), track.to_owned(), client.to_owned(), jti.to_owned());
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        match used.get(&key) {
            Some(&old) if old >= now => false,
            _ => {
                used.insert(key.clone(), exp);
                drop(used);
                let _ = self.writer.send((key, exp));
                true
            }
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

async fn write_behind(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<(Key, UnixTime)>) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        if let Err(e) = write(&pool, &batch).await {
            tracing::warn!(error = %e, "could not persist used client-assertion ids");
        }
    }
}

async fn write(pool: &SqlitePool, batch: &[(Key, UnixTime)]) -> Result<(), sqlx::Error> {
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
