//! Issue 18: the failure throttle stays bounded whatever ids are sent, charges a slow
//! secret check before it runs, makes a wrong guess cost one slow hash, and lets a
//! correct credential through from a held-back source (docs/security.md, "Issue 18").

use std::time::Duration;

use ferrid_core::env::{Clock, SystemClock};

use serde_json::json;

use ferrid_testkit::*;

async fn attempt(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> u16 {
    basic_attempt(http, url, id, secret).await.status().as_u16()
}

/// A `client_secret_basic` client `name` of t1/prod with the chosen `secrets`, its
/// generated secret removed.
async fn chosen_client(app: &TestApp, admin: &str, name: &str, secrets: &[&str]) {
    app.client(admin, "t1", "prod", name, "client_secret_basic", json!([])).await;
    let path = format!("/tenants/t1/tracks/prod/apps/{name}/secrets");
    let (_, listed) = app.get_api(&path, admin).await;
    for s in secrets {
        let (status, b) = app.post_api(&path, admin, json!({ "secret": s })).await;
        assert_eq!(status, 201, "{b}");
    }
    let generated = listed["items"][0]["id"].as_str().unwrap();
    let (status, _) = app.api(reqwest::Method::DELETE, &format!("{path}/{generated}"), admin, None).await;
    assert!(status.is_success(), "{status}");
}

fn throttled(burst: f64) -> impl FnOnce(&mut ferrid_server::ServerConfig) {
    move |c| {
        c.throttle.burst = burst;
        c.throttle.per_second = 0.01;
    }
}

/// Distinct client ids of 250 000 characters from several sources leave the throttle
/// with one bucket per source: an id that is no registered client has no bucket.
#[tokio::test]
async fn a_huge_client_id_does_not_grow_the_throttle() {
    let app = spawn_app().await;
    let _ = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    let sources = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    for (n, ip) in sources.iter().enumerate() {
        let http = client_from(ip);
        for i in 0..10 {
            let id = format!("{n}-{i}-{}", "x".repeat(250_000));
            assert_eq!(attempt(&http, &url, &id, "guess").await, 401);
            // a valid name that is no client is no different
            assert_eq!(attempt(&http, &url, &format!("nobody-{n}-{i}"), "guess").await, 401);
        }
    }
    let buckets = app.metric("ferrid_throttle_buckets").await;
    assert!(buckets <= sources.len() as u64, "{buckets} buckets for {} sources", sources.len());
}

/// ferrid throttling at `burst`, with the standard fixture and the client `horse` whose
/// one secret is chosen: the app, the fixture's client, that secret and the token URL.
async fn horse(burst: f64) -> (TestApp, ClientCreds, &'static str, String) {
    let app = spawn_with(tempfile::tempdir().unwrap(), throttled(burst)).await;
    let (admin, svc) = app.fixture("prod", "ES256").await;
    let chosen = "correct horse battery staple";
    chosen_client(&app, &admin, "horse", &[chosen]).await;
    let url = app.token_url("t1", "prod");
    (app, svc, chosen, url)
}

/// Many concurrent wrong guesses for a client with a chosen secret: each takes a token
/// before its slow check, so no more slow checks run than the burst allows, and a
/// correct request afterwards is answered at once.
#[tokio::test]
async fn wrong_guesses_are_charged_before_the_slow_check() {
    let (app, _, chosen, url) = horse(5.0).await;
    let before = app.metric("ferrid_slow_secret_checks_total").await;
    let attacker = client_from("127.0.0.2");
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let (attacker, url) = (attacker.clone(), url.clone());
            tokio::spawn(async move { attempt(&attacker, &url, "horse", &format!("correct horse guess {i:04}")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    let slow = app.metric("ferrid_slow_secret_checks_total").await - before;
    assert!(slow <= 5, "{slow} slow checks for a burst of 5");
    let started = SystemClock::new(); // real time: the latency a healthy client sees
    assert_eq!(attempt(&client_from("127.0.0.3"), &url, "horse", chosen).await, 200);
    assert!(started.monotonic() < Duration::from_secs(3), "{:?}", started.monotonic());
}

/// A held-back source still gets tokens for correct credentials: a generated secret and
/// a chosen secret verified before. Anything else from it is throttled.
#[tokio::test]
async fn a_known_good_client_is_served_from_a_throttled_source() {
    let (_app, svc, chosen, url) = horse(3.0).await;
    let nat = client_from("127.0.0.2");
    assert_eq!(attempt(&nat, &url, "horse", chosen).await, 200, "verified once");
    // a neighbour behind the same address guesses until the address is held back
    for _ in 0..3 {
        assert_eq!(attempt(&nat, &url, &svc.id, "guess").await, 401);
    }
    assert_eq!(attempt(&nat, &url, "nobody", "guess").await, 429);
    assert_eq!(attempt(&nat, &url, &svc.id, "guess").await, 429);
    // correct credentials are still served from that address
    assert_eq!(attempt(&nat, &url, &svc.id, &svc.secret).await, 200);
    assert_eq!(attempt(&nat, &url, "horse", chosen).await, 200);
    assert_eq!(attempt(&nat, &url, "horse", "correct horse battery stapler").await, 429);
}

/// A client with several chosen secrets: a wrong guess is checked against the one whose
/// `info` it shares, or against a dummy hash, exactly as for an unknown client id.
#[tokio::test]
async fn a_wrong_guess_costs_at_most_one_slow_hash() {
    let (app, admin, _) = spawn_fixture().await;
    let secrets =
        ["alpha chosen secret one", "bravo chosen secret two", "charlie chosen secret 3", "delta chosen secret four"];
    chosen_client(&app, &admin, "many", &secrets).await;
    let url = app.token_url("t1", "prod");
    let http = client_from("127.0.0.2");
    for (id, guess) in [
        ("many", "alpha chosen secret wrong"),
        ("many", "zulu chosen secret wrong"),
        ("many", "sixteen-chars-xx"),
        ("nobody", "alpha chosen secret wrong"),
        ("svc", "alpha chosen secret wrong"),
    ] {
        let before = app.metric("ferrid_slow_secret_checks_total").await;
        assert_eq!(attempt(&http, &url, id, guess).await, 401);
        let slow = app.metric("ferrid_slow_secret_checks_total").await - before;
        assert_eq!(slow, 1, "{id} / {guess}");
    }
    // a secret no chosen secret can be (under 16 characters) costs none
    let before = app.metric("ferrid_slow_secret_checks_total").await;
    assert_eq!(attempt(&http, &url, "many", "guess").await, 401);
    assert_eq!(app.metric("ferrid_slow_secret_checks_total").await, before);
    // each right secret is still found, with one slow hash the first time
    for s in secrets {
        let before = app.metric("ferrid_slow_secret_checks_total").await;
        assert_eq!(attempt(&http, &url, "many", s).await, 200, "{s}");
        assert_eq!(app.metric("ferrid_slow_secret_checks_total").await - before, 1, "{s}");
    }
}
