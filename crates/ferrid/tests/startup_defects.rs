//! Issue 18, real `ferrid serve` processes: start-up refusals (no shared master key with
//! PostgreSQL, stored keys the master key does not open) and a shutdown that a stuck
//! client cannot hold past the drain deadline. PostgreSQL tests read
//! `FERRID_TEST_DATABASE_URL` and are skipped loudly without it.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Command, Output, Stdio},
    time::Duration,
};

use ferrid_core::env::{Clock, SystemClock};
use ferrid_testkit::{
    pg::{PgDb, fresh_database},
    process::{free_port, serve_command, start_serving},
    server::TEST_MASTER_KEY,
};

fn serve(dir: &std::path::Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = serve_command(env!("CARGO_BIN_EXE_ferrid"), dir, port);
    cmd.args(args)
        .env_remove("FERRID_MASTER_KEY")
        .env_remove("FERRID_DATABASE_URL")
        .env("FERRID_ADMIN_SECRET", "startup-admin-secret-0123456789")
        .envs(env.iter().copied());
    cmd
}

/// Runs a command expected to exit by itself within 30 s; kills it (and fails) otherwise.
fn run_to_exit(mut cmd: Command) -> Output {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    // real time: ferrid runs as another process
    let clock = SystemClock::new();
    while child.try_wait().unwrap().is_none() {
        if clock.monotonic() > Duration::from_secs(30) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("ferrid was still running after 30 s: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn pg() -> Option<PgDb> {
    fresh_database("ferrid_s")
}

#[test]
fn postgres_without_a_master_key_refuses_to_start() {
    let Some(db) = pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = run_to_exit(serve(dir.path(), free_port(), &["--database-url", &db.url], &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("FERRID_MASTER_KEY"), "{stderr}");
}

#[tokio::test]
async fn a_store_whose_keys_do_not_decrypt_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    {
        let _running = start_serving(serve(dir.path(), port, &[], &[]), port).await;
    }
    // Another valid master key (32 bytes, base64url) than the one generated at first start.
    let key = dir.path().join("master.key");
    let other = TEST_MASTER_KEY;
    assert_ne!(std::fs::read_to_string(&key).unwrap().trim(), other);
    std::fs::write(&key, other).unwrap();
    let out = run_to_exit(serve(dir.path(), free_port(), &[], &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("does not decrypt"), "{stderr}");
    assert!(stderr.contains("master/master"), "{stderr}");
}

#[tokio::test]
async fn sigterm_with_a_stuck_client_exits_within_the_drain_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let args = ["--drain-timeout", "1", "--body-timeout", "120", "--header-timeout", "120", "--idle-timeout", "120"];
    let (mut running, _) = start_serving(serve(dir.path(), port, &args, &[]), port).await;
    // A request whose body never finishes: in flight until the drain deadline.
    let mut stuck = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stuck
        .write_all(
            b"POST /master/master/oauth/token HTTP/1.1\r\nHost: x\r\n\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = SystemClock::new(); // real time: ferrid runs as another process
    let out = Command::new("kill").args(["-TERM", &running.0.id().to_string()]).output().unwrap();
    assert!(out.status.success());
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.monotonic() < Duration::from_secs(10),
            "still running 10 s after SIGTERM with a 1 s drain deadline"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.monotonic();
    assert!(status.success(), "{status:?}");
    assert!(took >= Duration::from_millis(900), "exited before the drain deadline: {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?} for a 1 s drain deadline");
    // The stuck connection was dropped, not answered.
    let mut rest = Vec::new();
    let _ = stuck.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stuck.read_to_end(&mut rest);
}
