//! Versioned migrations, embedded in the binary and applied at start, each in its own
//! transaction and recorded in `ferrid_migrations` with a SHA-256 checksum of its SQL.
//!
//! Before applying anything the runner refuses a database it cannot vouch for:
//! - a recorded version this binary does not know (the database was migrated by a newer
//!   ferrid, whose schema this one would misread);
//! - a recorded checksum that differs from the embedded SQL (a migration edited after it
//!   shipped, so databases migrated by different builds differ).
//!
//! Databases migrated before checksums were recorded get the column added by the runner
//! itself (`ferrid_migrations` is the runner's table, not a migration's) and their rows
//! filled with the current checksums on first start.

use sqlx::{PgPool, SqlitePool};

/// `(version, name, sql)` in order. Never edit one that has shipped: add the next.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/sqlite/0002_private_key_jwt.sql")),
    (3, "key_rotation", include_str!("../migrations/sqlite/0003_key_rotation.sql")),
    (4, "audit", include_str!("../migrations/sqlite/0004_audit.sql")),
    (5, "audit_seq", include_str!("../migrations/sqlite/0005_audit_seq.sql")),
];

/// `(version, name, sql)` for PostgreSQL, in the same order as [`SQLITE`].
pub const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/postgres/0002_private_key_jwt.sql")),
    (3, "key_rotation", include_str!("../migrations/postgres/0003_key_rotation.sql")),
    (4, "audit", include_str!("../migrations/postgres/0004_audit.sql")),
    (5, "audit_seq", include_str!("../migrations/postgres/0005_audit_seq.sql")),
];

/// Lowercase hex SHA-256 of a migration's SQL.
pub fn checksum(sql: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, sql.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in d.as_ref() {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Compares what the database recorded, `(version, checksum)`, with the embedded list.
fn check_recorded(known: &[(i64, &str, &str)], recorded: &[(i64, Option<String>)]) -> Result<(), sqlx::Error> {
    let unknown: Vec<String> =
        recorded.iter().filter(|(v, _)| !known.iter().any(|(k, _, _)| k == v)).map(|(v, _)| v.to_string()).collect();
    if !unknown.is_empty() {
        return Err(sqlx::Error::InvalidArgument(format!(
            "the database has migration(s) {} that this ferrid does not know (it knows 1 to {}): it was migrated by a newer ferrid; refusing to start",
            unknown.join(", "),
            known.last().map_or(0, |m| m.0)
        )));
    }
    let edited: Vec<String> = recorded
        .iter()
        .filter(|(v, sum)| {
            let expected = known.iter().find(|(k, _, _)| k == v).map(|(_, _, sql)| checksum(sql));
            matches!((sum, expected), (Some(s), Some(e)) if *s != e)
        })
        .map(|(v, _)| v.to_string())
        .collect();
    if !edited.is_empty() {
        return Err(sqlx::Error::InvalidArgument(format!(
            "applied migration(s) {} differ from this ferrid's (checksum mismatch): the database was migrated by a different build; refusing to start",
            edited.join(", ")
        )));
    }
    Ok(())
}

pub async fn run_sqlite(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ferrid_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL, checksum TEXT)",
    )
    .execute(pool)
    .await?;
    let has_checksum: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pragma_table_info('ferrid_migrations') WHERE name = 'checksum'")
            .fetch_one(pool)
            .await?;
    if has_checksum == 0 {
        sqlx::raw_sql("ALTER TABLE ferrid_migrations ADD COLUMN checksum TEXT").execute(pool).await?;
    }
    let recorded: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT version, checksum FROM ferrid_migrations ORDER BY version").fetch_all(pool).await?;
    check_recorded(SQLITE, &recorded)?;
    for &(version, name, sql) in SQLITE {
        let sum = checksum(sql);
        let mut tx = pool.begin().await?;
        let done: Option<Option<String>> =
            sqlx::query_scalar("SELECT checksum FROM ferrid_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        match done {
            Some(Some(_)) => continue,
            Some(None) => {
                // Applied before checksums were recorded: record this build's.
                sqlx::query("UPDATE ferrid_migrations SET checksum = $1 WHERE version = $2")
                    .bind(&sum)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO ferrid_migrations (version, name, applied, checksum) VALUES ($1, $2, strftime('%s','now'), $3)",
                )
                .bind(version)
                .bind(name)
                .bind(&sum)
                .execute(&mut *tx)
                .await?;
                tracing::info!(version, name, "applied migration");
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

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
        "CREATE TABLE IF NOT EXISTS ferrid_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL);
         ALTER TABLE ferrid_migrations ADD COLUMN IF NOT EXISTS checksum TEXT",
    )
    .execute(&mut *conn)
    .await?;
    let recorded: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT version, checksum FROM ferrid_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    check_recorded(POSTGRES, &recorded)?;
    for &(version, name, sql) in POSTGRES {
        let sum = checksum(sql);
        let mut tx = conn.begin().await?;
        let done: Option<Option<String>> =
            sqlx::query_scalar("SELECT checksum FROM ferrid_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        match done {
            Some(Some(_)) => continue,
            Some(None) => {
                // Applied before checksums were recorded: record this build's.
                sqlx::query("UPDATE ferrid_migrations SET checksum = $1 WHERE version = $2")
                    .bind(&sum)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO ferrid_migrations (version, name, applied, checksum) VALUES ($1, $2, extract(epoch from now())::bigint, $3)",
                )
                .bind(version)
                .bind(name)
                .bind(&sum)
                .execute(&mut *tx)
                .await?;
                tracing::info!(version, name, "applied migration");
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_migration_is_recognised_and_versions_ascend() {
        for list in [SQLITE, POSTGRES] {
            let recorded: Vec<_> = list.iter().map(|(v, _, sql)| (*v, Some(checksum(sql)))).collect();
            check_recorded(list, &recorded).unwrap();
            assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}
