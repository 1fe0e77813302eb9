//! Versioned migrations, embedded in the binary and applied at start, each in its own
//! transaction and recorded in `ferrid_migrations`.

use sqlx::SqlitePool;

/// `(version, name, sql)` in order. Never edit one that has shipped: add the next.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/sqlite/0002_private_key_jwt.sql")),
];

pub async fn run_sqlite(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ferrid_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    for &(version, name, sql) in SQLITE {
        let mut tx = pool.begin().await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM ferrid_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO ferrid_migrations (version, name, applied) VALUES ($1, $2, strftime('%s','now'))")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
