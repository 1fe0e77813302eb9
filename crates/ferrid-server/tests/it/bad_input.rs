//! Bad input never yields a 5xx or a panic: malformed and oversize bodies, broken
//! headers, unknown names, over-long names.

use serde_json::json;

use ferrid_testkit::*;

#[tokio::test]
async fn malformed_token_requests_get_4xx_json_errors() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"%%%".to_vec(),
        b"grant_type=\xff\xfe\x80".to_vec(),
        b"=&=&&&=x".to_vec(),
        vec![b'a'; 10_000],
        format!("grant_type=client_credentials&scope={}", "x".repeat(5000)).into_bytes(),
    ];
    for body in bodies {
        let r = app
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", basic(&c.id, &c.secret))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert!((400..500).contains(&s), "{s} for {:?}", String::from_utf8_lossy(&body[..body.len().min(40)]));
        let b: serde_json::Value = r.json().await.unwrap();
        assert!(b["error"].is_string());
    }
}

#[tokio::test]
async fn an_oversize_token_request_is_413() {
    let (app, _, c) = spawn_fixture().await;
    let body = format!("grant_type=client_credentials&x={}", "a".repeat(300 * 1024));
    let r = app.post_form(&app.token_url("t1", "prod"), Some((&c.id, &c.secret)), &body).await;
    assert_oauth_error(r, 413, "invalid_request").await;
}

#[tokio::test]
async fn broken_basic_headers_are_invalid_request() {
    let (app, _, _) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    for h in [
        "Basic",
        "Basic !!!!",
        &format!("Basic {}", b64(b"nocolon")),
        &format!("Basic {}", b64(b"\xff\xfe:x")),
        &format!("Basic {}", b64(b"svc:%zz")),
    ] {
        let r = app
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", h)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert!(s == 400 || s == 401, "{s} for {h}");
        let b: serde_json::Value = r.json().await.unwrap();
        assert!(b["error"] == "invalid_request" || b["error"] == "invalid_client", "{b}");
    }
}

#[tokio::test]
async fn over_long_and_odd_path_names_are_404() {
    let (app, admin) = spawn_admin().await;
    let long = "a".repeat(300);
    for p in [
        format!("/tenants/{long}"),
        format!("/tenants/master/tracks/{long}/apps"),
        "/tenants/ABC".into(),
        "/tenants/%F0%9F%98%80".into(),
    ] {
        let (s, _) = app.get_api(&p, &admin).await;
        assert_eq!(s, 404, "{p}");
    }
    let r =
        app.post_form(&format!("{}/{long}/{long}/oauth/token", app.base), None, "grant_type=client_credentials").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn malformed_management_bodies_are_400_naming_the_body() {
    let (app, admin) = spawn_admin().await;
    let url = format!("{}/api/v1/tenants", app.base);
    for body in ["{", "[]", "\"x\"", "null", "{\"name\": \"\u{0}\"}"] {
        let r = app
            .http
            .post(&url)
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(b["error"], "validation_failed");
    }
    let big = json!({ "name": "x".repeat(2 * 1024 * 1024) }).to_string();
    let r = app.http.post(&url).bearer_auth(&admin).body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
}

/// A request refused before its body arrived must leave the connection usable: the
/// body is read before any check (Python `requests` sends headers and body apart).
#[tokio::test]
async fn an_early_refusal_keeps_the_connection_usable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for path in ["/api/v1/tenants", "/nope/nope/oauth/token"] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let body = "grant_type=client_credentials";
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        s.write_all(body.as_bytes()).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while !String::from_utf8_lossy(&seen).contains("\r\n\r\nok") {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "connection closed after: {}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
        })
        .await
        .expect("second response in time");
        let text = String::from_utf8_lossy(&seen);
        assert!(text.starts_with("HTTP/1.1 40"), "{text}");
        assert_eq!(text.matches("HTTP/1.1 ").count(), 2, "{text}");
    }
}

#[tokio::test]
async fn parameters_have_length_limits() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let auth = Some((c.id.as_str(), c.secret.as_str()));
    let long_scope = format!("grant_type=client_credentials&scope={}", "a".repeat(2001));
    assert_oauth_error(app.post_form(&url, auth, &long_scope).await, 400, "invalid_request").await;
    let long_audience = format!("grant_type=client_credentials&audience={}", "a".repeat(4097));
    assert_oauth_error(app.post_form(&url, auth, &long_audience).await, 400, "invalid_request").await;
    // at the limit, a scope is judged on its content, not its length
    let at_limit = format!("grant_type=client_credentials&scope={}", "a".repeat(2000));
    assert_oauth_error(app.post_form(&url, auth, &at_limit).await, 400, "invalid_scope").await;
}
