//! Failed client authentication is throttled per source address (DESIGN §3): an
//! attacker's failures hold back the attacker, never a healthy client elsewhere.

use crate::helpers::*;

fn from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().unwrap()).build().unwrap()
}

async fn attempt(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> reqwest::Response {
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(id, secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_attackers_failures_hold_back_the_attacker_not_another_client() {
    let app = spawn_app().await;
    let (_, c) = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    let attacker = from("127.0.0.2");
    let mut statuses = Vec::new();
    // the default burst is 100 failures, refilled at one a second
    for _ in 0..105 {
        statuses.push(attempt(&attacker, &url, &c.id, "guess").await.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[101..].iter().all(|s| *s == 429), "{statuses:?}");
    // held back even with the right secret: the source is refused before any check
    let r = attempt(&attacker, &url, &c.id, &c.secret).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // the real client, from its own address, is served at once, every time
    let healthy = from("127.0.0.3");
    for _ in 0..5 {
        assert_eq!(attempt(&healthy, &url, &c.id, &c.secret).await.status(), 200);
    }
}
