//! Issue 18: the migration runner refuses a database it cannot vouch for — one migrated
//! by a newer ferrid (a version this build does not know) or one whose applied migrations
//! differ from this build's (checksum mismatch) — on SQLite and on PostgreSQL. A database
//! migrated before checksums were recorded keeps working.
//!
//! PostgreSQL is reached through `FERRID_TEST_DATABASE_URL`; without it that half is
//! skipped, loudly.

use ferrid_store::{PgStore, SqliteStore};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection, sqlite::SqliteConnectOptions};

/// Opens a fresh SQLite store, changes its database with `edit`, and opens it again.
async fn sqlite_reopened_after(edit: &str) -> Result<(), sqlx::Error> {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open_dir(dir.path()).await.unwrap());
    let opts = SqliteConnectOptions::new().filename(dir.path().join("ferrid.db"));
    let mut c = SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(edit.to_owned())).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    SqliteStore::open_dir(dir.path()).await.map(|_| ())
}

/// The same on a fresh PostgreSQL database; `None` without `FERRID_TEST_DATABASE_URL`.
async fn postgres_reopened_after(edit: &str) -> Option<Result<(), sqlx::Error>> {
    let Ok(admin_url) = std::env::var("FERRID_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED (PostgreSQL): FERRID_TEST_DATABASE_URL is not set");
        return None;
    };
    let db = format!("ferrid_m_{}_{}", std::process::id(), rand_u32());
    let mut admin = PgConnection::connect(&admin_url).await.expect("FERRID_TEST_DATABASE_URL is reachable");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
    let url = format!("{}/{db}", admin_url.rsplit_once('/').expect("URL with a database").0);
    let store = PgStore::connect(&url).await.unwrap();
    store.pool().close().await;
    let mut c = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(edit.to_owned())).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    let result = match PgStore::connect(&url).await {
        Ok(store) => {
            store.pool().close().await;
            Ok(())
        }
        Err(e) => Err(e),
    };
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
    Some(result)
}

fn rand_u32() -> u32 {
    u32::from_le_bytes(ferrid_core::env::random_bytes())
}

fn refused(result: Result<(), sqlx::Error>, backend: &str, needles: &[&str]) {
    let e = result.err().unwrap_or_else(|| panic!("{backend}: the store opened"));
    let text = e.to_string();
    for n in needles {
        assert!(text.contains(n), "{backend}: {text}");
    }
}

#[tokio::test]
async fn a_database_from_a_newer_ferrid_is_refused() {
    let edit =
        "INSERT INTO ferrid_migrations (version, name, applied) VALUES (9001, 'from_the_future', 0), (9002, 'more', 0)";
    refused(sqlite_reopened_after(edit).await, "sqlite", &["9001, 9002", "newer ferrid"]);
    if let Some(r) = postgres_reopened_after(edit).await {
        refused(r, "postgres", &["9001, 9002", "newer ferrid"]);
    }
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let edit = "UPDATE ferrid_migrations SET checksum = 'not-this-build' WHERE version = 2";
    refused(sqlite_reopened_after(edit).await, "sqlite", &["2", "checksum"]);
    if let Some(r) = postgres_reopened_after(edit).await {
        refused(r, "postgres", &["2", "checksum"]);
    }
}

#[tokio::test]
async fn a_database_migrated_before_checksums_keeps_working() {
    sqlite_reopened_after("ALTER TABLE ferrid_migrations DROP COLUMN checksum").await.unwrap();
    if let Some(r) = postgres_reopened_after("ALTER TABLE ferrid_migrations DROP COLUMN checksum").await {
        r.unwrap();
    }
}
