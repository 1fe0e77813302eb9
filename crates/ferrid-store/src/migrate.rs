//! Versioned migrations, embedded in the binary and applied at start, each in its own
//! transaction and recorded in `ferrid_migrations`.

use sqlx::{PgPool, SqlitePool};

/// `(version, name, sql)` in order. Never edit one that has shipped: add the next.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/sqlite/0002_private_key_jwt.sql")),
    (3, "key_rotation", include_str!("../migrations/sqlite/0003_key_rotation.sql")),
    (4, "audit", include_str!("../migrations/sqlite/0004_audit.sql")),
    (5, "audit_seq", include_str!("../migrations/sqlite/0005_audit_seq.sql")),
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

/// `(version, name, sql)` for PostgreSQL, in the same order as [`SQLITE`].
pub const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/postgres/0002_private_key_jwt.sql")),
    (3, "key_rotation", include_str!("../migrations/postgres/0003_key_rotation.sql")),
    (4, "audit", include_str!("../migrations/postgres/0004_audit.sql")),
    (5, "audit_seq", include_str!("../migrations/postgres/0005_audit_seq.sql")),
];

/// Any fixed number: the advisory lock that serialises migrations across instances.
const MIGRATION_LOCK: i64 = 0x6665_7272_6964; // "ferrid"

pub async fn run_postgres(pool: &PgPool) -> Result<(), sqlx::Error> {
    // One connection holds the session lock for the whole run; instances starting at
    // once wait here, then find the migrations applied.
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await?;
    let result = apply_postgres(&mut conn).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await;
    result.and(unlock.map(|_| ()))
}

async fn apply_postgres(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ferrid_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    for &(version, name, sql) in POSTGRES {
        let mut tx = conn.begin().await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM ferrid_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO ferrid_migrations (version, name, applied) VALUES ($1, $2, extract(epoch from now())::bigint)",
        )
        .bind(version)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
