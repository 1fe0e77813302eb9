//! Issue 19, a real `ferrid serve` process: `--metrics-listen` serves `/metrics` apart
//! and takes it off the public listener; `--access-log FILE` writes JSON lines there
//! (docs/operations.md).

use std::time::Duration;

use ferrid_core::env::{Clock, SystemClock};
use ferrid_testkit::process::{free_port, serve_command, start_serving};
use serde_json::Value;

const SECRET: &str = "operations-admin-secret-0123456789";

#[tokio::test]
async fn metrics_listen_moves_metrics_off_the_public_listener_and_the_access_log_goes_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let (port, metrics_port) = (free_port(), free_port());
    let mut cmd = serve_command(env!("CARGO_BIN_EXE_ferrid"), &dir.path().join("data"), port);
    cmd.args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}"), "--access-log"])
        .arg(&log)
        .env_remove("FERRID_MASTER_KEY")
        .env_remove("FERRID_DATABASE_URL")
        .env("FERRID_ADMIN_SECRET", SECRET);
    let (_child, base) = start_serving(cmd, port).await;
    let http = reqwest::Client::new();

    let public = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let token = http
        .post(format!("{base}/master/master/oauth/token"))
        .basic_auth("admin", Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "ferrid-api:admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let access_token = token.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();

    let apart = http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(apart.status(), 200);
    let text = apart.text().await.unwrap();
    assert!(text.contains("ferrid_build_info{version="), "{text}");
    assert!(text.contains("ferrid_tokens_issued_total{grant=\"client_credentials\"} 1"), "{text}");

    // the writer runs off the request path: wait (real time, another process) for the line
    let clock = SystemClock::new();
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().any(|l| l.contains("/oauth/token")) {
            break text;
        }
        assert!(clock.monotonic() < Duration::from_secs(10), "no token line in the access log: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!lines.contains(SECRET) && !lines.contains(&access_token));
    let token_line: Value = serde_json::from_str(lines.lines().find(|l| l.contains("/oauth/token")).unwrap()).unwrap();
    assert_eq!(token_line["client_id"], "admin");
    assert_eq!(token_line["tenant"], "master");
    assert_eq!(token_line["status"], 200);
}
