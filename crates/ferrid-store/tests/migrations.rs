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

/// SHA-256 of each migration as earlier releases shipped it, one file per backend
/// (`migrations/sqlite/*.sql`, `migrations/postgres/*.sql` until issue 13), by version.
const SHIPPED_SQLITE: [&str; 5] = [
    "0e5632df046ea6be18de8faa079a562c0548feb9676018733c573181eea8f091",
    "fc77d6130e0477d252eb809343890a206ea66a977a8afbc911545cb02714f22e",
    "5581b448ceb70602089e2634c939de0d01e81927ab7efb50a081198473031778",
    "331a34bb5a10a4a27e2dfd71377cbc11964d8c52ead9fcec0d516ecfec5cb60d",
    "2833c04bb501abdac6a69e13281764e8df4e2b2394e7b19fd0fae777dbbb09d3",
];
const SHIPPED_POSTGRES: [&str; 5] = [
    "12c9566713fe1285c3db31295925b0adce818cab7198b982de799f3d2d0d8d05",
    "6e53c025fa3893a11d5081208a1d92317c0972188f6ef53dd62d2d7366258039",
    "3dbd0c2ebdc27d7dcae4a19fb714cab7040fd0a85470200525de003a5e10f97b",
    "49d12edde836c7d212b999c2aed2b52cd801ca83cbbb246c8473766cdd79ef4e",
    "eb8df05be50930ada705afb69f859502429672adfb3ca7b905315e04c2b64119",
];

/// Issue 13: one source per migration renders, for each backend, exactly the SQL that
/// backend's file held before.
#[test]
fn each_migration_renders_the_sql_earlier_releases_shipped() {
    use ferrid_store::migrate::{Dialect, checksum};
    for (dialect, shipped) in [(Dialect::Sqlite, SHIPPED_SQLITE), (Dialect::Postgres, SHIPPED_POSTGRES)] {
        let rendered: Vec<String> = dialect.migrations().iter().map(|(_, _, sql)| checksum(sql)).collect();
        // migrations added since (issue 14: 0006 users and sessions, 0007 grants; issue 16:
        // 0008 the deny-list; issue 15: 0009 the login lockout) have not
        // shipped yet
        assert_eq!(rendered[..shipped.len()], shipped, "{dialect:?}");
    }
}

/// The `ferrid_migrations` rows a database migrated by an earlier release holds: every
/// version recorded with the checksum of the file that release shipped.
fn as_shipped(shipped: [&str; 5]) -> String {
    let cases: String = shipped.iter().enumerate().map(|(i, sum)| format!(" WHEN {} THEN '{sum}'", i + 1)).collect();
    format!("UPDATE ferrid_migrations SET checksum = CASE version{cases} END")
}

/// Issue 13: a database migrated by the release before the single migration sources
/// (its checksums are those of the per-backend files) still starts.
#[tokio::test]
async fn a_database_migrated_by_the_previous_release_still_starts() {
    sqlite_reopened_after(&as_shipped(SHIPPED_SQLITE)).await.unwrap();
    if let Some(r) = postgres_reopened_after(&as_shipped(SHIPPED_POSTGRES)).await {
        r.unwrap();
    }
}
