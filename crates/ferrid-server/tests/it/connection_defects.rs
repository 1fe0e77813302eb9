//! Issue 18: slow clients cannot hold connection slots (header, body and idle timeouts,
//! a cap per source), protocol routes answer malformed paths and wrong methods in the
//! RFC 6749 §5.2 shape, and the data directory is owner-only.
//!
//! The timeouts are network behaviour that cannot be faked: they are set to 300 ms here
//! and each test waits at most a few seconds of wall time.

use std::time::Duration;

use ferrid_core::env::{Clock, SystemClock};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use ferrid_testkit::*;

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(60);

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or resets it); `None` if it is still
/// open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut out)).await {
        Ok(_) => Some(out),
        Err(_) => None,
    }
}

async fn raw_get_from(addr: &str, source: Option<&str>) -> String {
    let mut s = match source {
        Some(ip) => {
            let sock = TcpSocket::new_v4().unwrap();
            sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
            sock.connect(addr.parse().unwrap()).await.unwrap()
        }
        None => TcpStream::connect(addr).await.unwrap(),
    };
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// ferrid with the given header, idle and body timeouts.
async fn with_timeouts(header: Duration, idle: Duration, body: Duration) -> TestApp {
    spawn_with(tempfile::tempdir().unwrap(), move |c| {
        c.header_timeout = header;
        c.idle_timeout = idle;
        c.body_timeout = body;
    })
    .await
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let app = with_timeouts(SHORT, LONG, LONG).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let start = SystemClock::new(); // real time: the timeouts act on real sockets
    let out = closed_within(&mut s, Duration::from_secs(5)).await.expect("the silent connection is closed");
    assert!(out.is_empty() || String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408"), "{out:?}");
    assert!(start.monotonic() >= Duration::from_millis(250), "closed too early: {:?}", start.monotonic());
}

#[tokio::test]
async fn a_half_sent_head_does_not_hold_a_slot() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.max_connections = 1;
        c.header_timeout = SHORT;
        c.idle_timeout = LONG;
        c.body_timeout = LONG;
    })
    .await;
    let mut held = TcpStream::connect(addr(&app)).await.unwrap();
    held.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(
        closed_within(&mut held, Duration::from_secs(5)).await.is_some(),
        "the half-sent head still holds its slot"
    );
    let served = raw_get_from(&addr(&app), None).await;
    assert!(served.starts_with("HTTP/1.1 200 "), "{served}");
}

#[tokio::test]
async fn a_trickled_body_is_cut_off() {
    let app = with_timeouts(LONG, LONG, SHORT).await;
    let s = TcpStream::connect(addr(&app)).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(
        b"POST /master/master/oauth/token HTTP/1.1\r\nHost: x\r\n\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    let start = SystemClock::new(); // real time: the timeouts act on real sockets
    let trickle = async {
        for _ in 0..40 {
            if wr.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::future::pending::<()>().await
    };
    let closed = async {
        let mut out = Vec::new();
        let _ = rd.read_to_end(&mut out).await;
    };
    tokio::select! {
        _ = closed => {}
        _ = trickle => unreachable!(),
        _ = tokio::time::sleep(Duration::from_secs(4)) => panic!("a body trickled for 4 s was not cut off"),
    }
    assert!(start.monotonic() >= Duration::from_millis(250), "cut off too early: {:?}", start.monotonic());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = with_timeouts(LONG, SHORT, LONG).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    // Keep-alive is HTTP/1.1's default: the connection stays open after the answer.
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let start = SystemClock::new(); // real time: the timeouts act on real sockets
    let out = closed_within(&mut s, Duration::from_secs(5)).await.expect("the idle connection is closed");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(start.monotonic() >= Duration::from_millis(250), "closed too early: {:?}", start.monotonic());
}

#[tokio::test]
async fn one_source_cannot_take_every_slot() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.max_connections = 8;
        c.max_connections_per_source = Some(2);
    })
    .await;
    let a = addr(&app);
    let held = vec![TcpStream::connect(&a).await.unwrap(), TcpStream::connect(&a).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = raw_get_from(&a, None).await;
    assert!(refused.starts_with("HTTP/1.1 429 "), "{refused}");
    assert!(refused.contains("Retry-After: 1"), "{refused}");
    assert!(refused.contains("too_many_connections"), "{refused}");
    // Another source is still served.
    let other = raw_get_from(&a, Some("127.0.0.2")).await;
    assert!(other.starts_with("HTTP/1.1 200 "), "{other}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served = raw_get_from(&a, None).await;
    assert!(served.starts_with("HTTP/1.1 200 "), "{served}");
}

#[tokio::test]
async fn an_undecodable_protocol_path_answers_oauth_json() {
    let app = spawn_app().await;
    let r = app.post_form(&format!("{}/%FF/x/oauth/token", app.base), None, "grant_type=client_credentials").await;
    assert_oauth_error(r, 404, "invalid_request").await;
    for path in ["/%FF/x/oauth/keys", "/t/%C3%28/.well-known/openid-configuration", "/t/x/%FF/oauth/token"] {
        let r = if path.ends_with("token") {
            app.post_form(&format!("{}{path}", app.base), None, "grant_type=client_credentials").await
        } else {
            app.http.get(format!("{}{path}", app.base)).send().await.unwrap()
        };
        let b = assert_oauth_error(r, 404, "invalid_request").await;
        assert!(b["error_description"].is_string(), "{path}: {b}");
    }
}

#[tokio::test]
async fn a_wrong_method_on_a_protocol_route_answers_oauth_json_with_allow() {
    let app = spawn_app().await;
    let cases = [
        (reqwest::Method::GET, "/master/master/oauth/token", "POST"),
        (reqwest::Method::PUT, "/master/master/some-app/oauth/token", "POST"),
        (reqwest::Method::DELETE, "/master/master/oauth/keys", "GET"),
        (reqwest::Method::POST, "/master/master/.well-known/openid-configuration", "GET"),
    ];
    for (method, path, allowed) in cases {
        let r = app.http.request(method.clone(), format!("{}{path}", app.base)).send().await.unwrap();
        let allow = r.headers().get("allow").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(allow.contains(allowed), "{method} {path}: Allow {allow:?}");
        let b = assert_oauth_error(r, 405, "invalid_request").await;
        assert!(b["error_description"].is_string(), "{method} {path}: {b}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _app = TestServer::builder().data_dir(data.clone()).spawn().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    for name in ["ferrid.db", "ferrid.db-wal", "ferrid.db-shm", "master.key", "admin-secret"] {
        let path = data.join(name);
        assert!(path.exists(), "{name} exists while the server runs");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
}

/// Issue 18 item 17: a path that names no endpoint answers RFC 6749 §5.2 JSON too, never
/// an empty body.
#[tokio::test]
async fn a_path_naming_no_endpoint_answers_oauth_json() {
    let app = ferrid_testkit::spawn_app().await;
    for path in ["/nope", "/master/master/oauth/nothing", "/a/b/c/d/e/f"] {
        let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        let b = ferrid_testkit::assert_oauth_error(r, 404, "invalid_request").await;
        assert!(b["error_description"].is_string(), "{path}: {b}");
    }
}
