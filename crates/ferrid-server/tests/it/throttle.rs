//! Failed client authentication is throttled per source address (docs/protocol.md,
//! "Throttling of failed client authentication"): an attacker's failures hold back the
//! attacker, never a healthy client elsewhere.

use ferrid_testkit::*;

use ferrid_testkit::basic_attempt as attempt;

#[tokio::test]
async fn an_attackers_failures_hold_back_the_attacker_not_another_client() {
    let (app, _, c) = spawn_fixture().await;
    let url = app.token_url("t1", "prod");
    let attacker = client_from("127.0.0.2");
    let mut statuses = Vec::new();
    // the default burst is 100 failures, refilled at one a second
    for _ in 0..105 {
        statuses.push(attempt(&attacker, &url, &c.id, "guess").await.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[101..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = attempt(&attacker, &url, &c.id, "guess").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // the right (generated) secret is served even there: only failures are throttled
    // (issue 18; a_known_good_client_is_served_from_a_throttled_source)
    assert_eq!(attempt(&attacker, &url, &c.id, &c.secret).await.status(), 200);
    // the real client, from its own address, is served at once, every time
    let healthy = client_from("127.0.0.3");
    for _ in 0..5 {
        assert_eq!(attempt(&healthy, &url, &c.id, &c.secret).await.status(), 200);
    }
}

async fn attempt_via(app: &TestApp, url: &str, forwarded_for: &str, id: &str, secret: &str) -> u16 {
    let r = app
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(id, secret))
        .header("x-forwarded-for", forwarded_for)
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// Behind a trusted load balancer each client keeps its own bucket: the source is the
/// address the balancer appended to X-Forwarded-For, not the balancer.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_source() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.throttle.burst = 3.0;
        c.throttle.per_second = 0.01;
        c.trusted_proxies = vec![ferrid_server::proxies::IpRange::parse("127.0.0.0/8").unwrap()];
    })
    .await;
    let (admin, c) = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    // the attacker prepends a spoofed hop; the balancer's own entry is what counts
    let attacker = "198.51.100.1, 203.0.113.9";
    let statuses: Vec<u16> = repeat_via(&app, &url, attacker, &c.id, "guess", 4).await;
    assert_eq!(statuses, [401, 401, 401, 429]);
    // another client behind the same balancer is served
    assert_eq!(attempt_via(&app, &url, "203.0.113.10", &c.id, &c.secret).await, 200);
    // the audit log names the forwarded source
    let failed = || app.get_api("/tenants/t1/audit?action=client_auth.failed", &admin);
    eventually(|| async { failed().await.1["items"].as_array().is_some_and(|a| !a.is_empty()) }).await;
    let (_, page) = failed().await;
    assert_eq!(page["items"][0]["source"], "203.0.113.9", "{page}");
}

/// Without trusted proxies X-Forwarded-For is ignored: a client cannot leave its bucket
/// by naming another address.
#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.throttle.burst = 3.0;
        c.throttle.per_second = 0.01;
    })
    .await;
    let (_, c) = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    for i in 0..3 {
        assert_eq!(attempt_via(&app, &url, &format!("203.0.113.{i}"), &c.id, "guess").await, 401);
    }
    assert_eq!(attempt_via(&app, &url, "203.0.113.99", &c.id, "guess").await, 429);
}

async fn repeat_via(app: &TestApp, url: &str, xff: &str, id: &str, secret: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(attempt_via(app, url, xff, id, secret).await);
    }
    out
}
