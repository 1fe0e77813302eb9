//! The limit on connections served at once (issue 9): one past it is answered `429` with
//! `Retry-After` and closed; a closed connection gives its slot back.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use ferrid_testkit::*;

async fn raw_get(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await.unwrap().unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_connection_past_the_limit_gets_429_and_a_freed_slot_serves_again() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.max_connections = 2;
        c.max_connections_per_source = Some(2);
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let held: Vec<TcpStream> = vec![TcpStream::connect(&addr).await.unwrap(), TcpStream::connect(&addr).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = raw_get(&addr).await;
    assert!(refused.starts_with("HTTP/1.1 429 "), "{refused}");
    assert!(refused.contains("Retry-After: 1"), "{refused}");
    assert!(refused.contains("too_many_connections"), "{refused}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served = raw_get(&addr).await;
    assert!(served.starts_with("HTTP/1.1 200 "), "{served}");
}

/// Header size is bounded by the HTTP layer: a request head past the limit is answered
/// `431 Request Header Fields Too Large`, not read on forever.
#[tokio::test]
async fn an_oversize_request_head_gets_431() {
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let big = "a".repeat(1024 * 1024);
    let req = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(req.as_bytes()).await; // the server may stop reading early
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
}
