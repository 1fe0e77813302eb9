//! PostgreSQL opt-in: a fresh database on the server `FERRID_TEST_DATABASE_URL` names,
//! dropped when its guard goes. Without the variable, tests say so loudly and skip.

use std::process::Command;

/// A fresh database; dropped (connections forced out) with the guard.
pub struct PgDb {
    admin: String,
    name: String,
    pub url: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([&self.admin, "-qc", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// Creates a database named `{prefix}_{pid}_{n}`; `None` after printing
/// `SKIPPED (PostgreSQL)` when `FERRID_TEST_DATABASE_URL` is not set.
pub fn fresh_database(prefix: &str) -> Option<PgDb> {
    let Ok(admin) = std::env::var("FERRID_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED (PostgreSQL): FERRID_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = format!("{prefix}_{}_{}", std::process::id(), crate::process::free_port());
    let out = Command::new("psql").args([&admin, "-qc", &format!("CREATE DATABASE {name}")]).output().expect("psql");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    Some(PgDb { admin, name, url })
}
