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

use std::sync::LazyLock;

use sqlx::{PgPool, SqlitePool};

/// `(version, name, source)` in order. Never edit one that has shipped: add the next.
/// Each source is written once for both backends with type tokens (`{int}`, `{blob}`,
/// `{real}`, `{serial_pk}`) and lines only one backend runs (`--sqlite:`,
/// `--postgres:`), rendered by [`Dialect::render`]. The rendering is byte-identical to
/// the per-backend files earlier releases shipped, so their recorded checksums still
/// match (`tests/migrations.rs` holds them).
const SOURCES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "private_key_jwt", include_str!("../migrations/0002_private_key_jwt.sql")),
    (3, "key_rotation", include_str!("../migrations/0003_key_rotation.sql")),
    (4, "audit", include_str!("../migrations/0004_audit.sql")),
    (5, "audit_seq", include_str!("../migrations/0005_audit_seq.sql")),
    (6, "users_sessions", include_str!("../migrations/0006_users_sessions.sql")),
    (7, "grants", include_str!("../migrations/0007_grants.sql")),
    (8, "denied_tokens", include_str!("../migrations/0008_denied_tokens.sql")),
    (9, "login_guard", include_str!("../migrations/0009_login_guard.sql")),
];

/// The SQL dialects migrations are rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn line_prefix(self) -> &'static str {
        match self {
            Dialect::Sqlite => "--sqlite:",
            Dialect::Postgres => "--postgres:",
        }
    }

    fn types(self) -> [(&'static str, &'static str); 4] {
        match self {
            Dialect::Sqlite => [
                ("{serial_pk}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
                ("{int}", "INTEGER"),
                ("{blob}", "BLOB"),
                ("{real}", "REAL"),
            ],
            Dialect::Postgres => [
                ("{serial_pk}", "BIGSERIAL PRIMARY KEY"),
                ("{int}", "BIGINT"),
                ("{blob}", "BYTEA"),
                ("{real}", "DOUBLE PRECISION"),
            ],
        }
    }

    /// A migration source as this dialect runs it.
    pub fn render(self, source: &str) -> String {
        let others: Vec<&str> =
            [Dialect::Sqlite, Dialect::Postgres].into_iter().filter(|d| *d != self).map(|d| d.line_prefix()).collect();
        let lines = source.split('\n').filter(|l| !others.iter().any(|p| l.starts_with(p)));
        let mut out: Vec<String> = Vec::new();
        for line in lines {
            let mut line = line.strip_prefix(self.line_prefix()).unwrap_or(line).to_owned();
            for (token, ty) in self.types() {
                line = line.replace(token, ty);
            }
            out.push(line);
        }
        out.join("\n")
    }

    /// `(version, name, sql)` of every migration, rendered for this dialect.
    pub fn migrations(self) -> &'static [(i64, &'static str, String)] {
        static SQLITE: LazyLock<Vec<(i64, &str, String)>> = LazyLock::new(|| rendered(Dialect::Sqlite));
        static POSTGRES: LazyLock<Vec<(i64, &str, String)>> = LazyLock::new(|| rendered(Dialect::Postgres));
        match self {
            Dialect::Sqlite => &SQLITE,
            Dialect::Postgres => &POSTGRES,
        }
    }

    /// How many `checksum` columns `ferrid_migrations` has (0 or 1).
    fn has_checksum_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT COUNT(*) FROM pragma_table_info('ferrid_migrations') WHERE name = 'checksum'",
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM information_schema.columns \
                 WHERE table_name = 'ferrid_migrations' AND column_name = 'checksum' AND table_schema = current_schema()"
            }
        }
    }

    /// The time of day in seconds, as SQL.
    fn now_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "strftime('%s','now')",
            Dialect::Postgres => "extract(epoch from now())::bigint",
        }
    }
}

fn rendered(d: Dialect) -> Vec<(i64, &'static str, String)> {
    SOURCES.iter().map(|(v, name, src)| (*v, *name, d.render(src))).collect()
}

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
fn check_recorded(known: &[(i64, &str, String)], recorded: &[(i64, Option<String>)]) -> Result<(), sqlx::Error> {
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

/// Applies what is missing on `$conn` (a `&mut` connection of `$dialect`): the
/// runner's own table first, then each migration in its own transaction. One body for
/// both backends; only the dialect's SQL differs.
macro_rules! apply_on {
    ($conn:expr, $dialect:expr) => {{
        use sqlx::Connection;
        let (conn, dialect) = ($conn, $dialect);
        let create = dialect.render(
            "CREATE TABLE IF NOT EXISTS ferrid_migrations (version {int} PRIMARY KEY, name TEXT NOT NULL, applied {int} NOT NULL)",
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut *conn).await?;
        let has_checksum: i64 = sqlx::query_scalar(dialect.has_checksum_sql()).fetch_one(&mut *conn).await?;
        if has_checksum == 0 {
            sqlx::raw_sql("ALTER TABLE ferrid_migrations ADD COLUMN checksum TEXT").execute(&mut *conn).await?;
        }
        let recorded: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT version, checksum FROM ferrid_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await?;
        let known = dialect.migrations();
        check_recorded(known, &recorded)?;
        let record = format!(
            "INSERT INTO ferrid_migrations (version, name, applied, checksum) VALUES ($1, $2, {}, $3)",
            dialect.now_sql()
        );
        for (version, name, sql) in known {
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
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str())).execute(&mut *tx).await?;
                    sqlx::query(sqlx::AssertSqlSafe(record.as_str()))
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
    }};
}

pub async fn run_sqlite(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    apply_on!(&mut *conn, Dialect::Sqlite)
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
    apply_on!(conn, Dialect::Postgres)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_migration_is_recognised_and_versions_ascend() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let list = d.migrations();
            let recorded: Vec<_> = list.iter().map(|(v, _, sql)| (*v, Some(checksum(sql)))).collect();
            check_recorded(list, &recorded).unwrap();
            assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}
