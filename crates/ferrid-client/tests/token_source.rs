//! The token source against test servers: sharing, refresh ahead of expiry, back-off,
//! and the Auth0 and IBM App ID behaviours.

use std::time::Duration;

use ferrid_client::token::{
    AuthStyle, ClientCredentialsConfig, ParamValues, RefreshPolicy, TokenClient, TokenError, TokenSource,
    default_http_client,
};
use ferrid_testkit::fake::*;

fn config(server: &AuthServer) -> ClientCredentialsConfig {
    ClientCredentialsConfig::new(CLIENT_ID, SECRET, server.token_url.clone())
}

fn source(cfg: ClientCredentialsConfig, policy: RefreshPolicy) -> TokenSource {
    TokenSource::with_client(TokenClient::new(cfg, default_http_client().unwrap()).unwrap(), policy)
}

fn fast_backoff() -> RefreshPolicy {
    RefreshPolicy {
        retries: 2,
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_callers_cause_one_token_request() {
    let server = AuthServer::start(Flavor::Standard).await;
    server.set(|b| b.delay = Duration::from_millis(150));
    let src = source(config(&server), RefreshPolicy::default());
    let callers: Vec<_> = (0..100)
        .map(|_| {
            tokio::spawn({
                let s = src.clone();
                async move { s.token().await }
            })
        })
        .collect();
    for c in callers {
        assert_eq!(c.await.unwrap().unwrap().access_token(), "tok-1");
    }
    assert_eq!(server.requests(), 1);
    // and later callers are served from the cache
    for _ in 0..50 {
        assert_eq!(src.token().await.unwrap().access_token(), "tok-1");
    }
    assert_eq!(server.requests(), 1);
}

/// The most requests a source with [`fast_backoff`] can make in `elapsed`: consecutive
/// failures are spaced by at least 25, 50, 100, then 200 ms (half of each ceiling).
fn max_requests(elapsed: Duration) -> usize {
    let (mut t, mut n, mut gap) = (Duration::ZERO, 1, Duration::from_millis(25));
    while t + gap <= elapsed {
        t += gap;
        n += 1;
        gap = (gap * 2).min(Duration::from_millis(200));
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_refreshed_before_expiry_and_never_served_expired() {
    let server = AuthServer::start(Flavor::Standard).await;
    server.set(|b| b.lifetime = Some(3));
    // margin 2 s, clamped to half the lifetime: refresh from 1.5 s into the 3 s lifetime
    let src = source(config(&server), RefreshPolicy { margin: Duration::from_secs(2), ..Default::default() });
    let start = ferrid_client::env::now();
    let mut served = Vec::new();
    while start.elapsed() < Duration::from_millis(1800) || !served.iter().any(|(_, t)| t == "tok-2") {
        assert!(start.elapsed() < Duration::from_secs(10), "no second token");
        // the time before the call: the token was checked after it
        let before = ferrid_client::env::now();
        let t = src.token().await.unwrap();
        served.push((before, t.access_token().to_owned()));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let issued = server.issued();
    let expiry = |tok: &str| {
        let i = issued.iter().find(|i| i.token == tok).unwrap();
        i.at + Duration::from_secs(i.lifetime.unwrap())
    };
    for (at, tok) in &served {
        assert!(*at < expiry(tok), "{tok} served {:?} after its expiry", *at - expiry(tok));
    }
    // tok-2 was in use before tok-1 expired: the refresh came ahead of expiry
    let first_tok2 = served.iter().find(|(_, t)| t == "tok-2").unwrap().0;
    assert!(first_tok2 < expiry("tok-1"));
    assert_eq!(server.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_server_gets_backoff_not_a_storm() {
    let server = AuthServer::start(Flavor::Standard).await;
    server.set(|b| b.failing = true);
    let src = source(config(&server), fast_backoff());
    let start = ferrid_client::env::now();
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let s = src.clone();
            tokio::spawn(async move {
                let (mut calls, mut cooling) = (0, 0);
                while start.elapsed() < Duration::from_millis(1500) {
                    match s.token().await {
                        Err(TokenError::CoolingDown { last, .. }) => {
                            assert_eq!(last.oauth_error(), Some("temporarily_unavailable"));
                            cooling += 1;
                        }
                        Err(e) => assert_eq!(e.oauth_error(), Some("temporarily_unavailable"), "{e}"),
                        Ok(_) => panic!("no token can be issued"),
                    }
                    calls += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (calls, cooling)
            })
        })
        .collect();
    let (mut calls, mut cooling) = (0, 0);
    for c in callers {
        let (a, b) = c.await.unwrap();
        calls += a;
        cooling += b;
    }
    let (requests, elapsed) = (server.requests(), start.elapsed());
    // about 11 in 1.5 s; bounded by the back-off schedule whatever the machine's speed
    assert!(requests >= 3 && requests <= max_requests(elapsed), "{requests} requests in {elapsed:?}");
    assert!(calls >= 5 * requests && cooling > 0, "{calls} calls, {cooling} answered from the back-off");
    // the server recovers: a token comes once the back-off has passed
    server.set(|b| b.failing = false);
    let deadline = ferrid_client::env::now() + Duration::from_secs(5);
    loop {
        match src.token().await {
            Ok(t) => break assert!(t.access_token().starts_with("tok-")),
            Err(_) if ferrid_client::env::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("still failing: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_is_served_while_the_background_refresh_fails_and_never_after_expiry() {
    let server = AuthServer::start(Flavor::Standard).await;
    server.set(|b| b.lifetime = Some(2));
    let src = source(config(&server), RefreshPolicy { margin: Duration::from_secs(1), ..fast_backoff() });
    let first = src.token().await.unwrap();
    server.set(|b| b.failing = true);
    let start = ferrid_client::env::now();
    let (mut stale_served, mut errors) = (0, 0);
    while ferrid_client::env::now() < first.expires_at() + Duration::from_millis(100) {
        let before = ferrid_client::env::now();
        match src.token().await {
            Ok(t) => {
                assert_eq!(t.access_token(), "tok-1");
                assert!(before < first.expires_at(), "served after expiry");
                stale_served += usize::from(before >= first.refresh_at());
            }
            Err(_) => {
                assert!(ferrid_client::env::now() >= first.expires_at(), "refused while tok-1 was valid");
                errors += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(stale_served > 0 && errors > 0, "{stale_served} served during the failing refresh, {errors} refused after");
    // background refreshes: one at a time, a single attempt each, spaced by the back-off
    let (requests, elapsed) = (server.requests(), start.elapsed());
    assert!(requests >= 2, "a background refresh was tried");
    assert!(requests <= 1 + max_requests(elapsed), "{requests} requests in {elapsed:?}");
}

#[tokio::test]
async fn auto_falls_back_to_the_body_once_for_an_auth0_like_server_and_remembers() {
    let server = AuthServer::start(Flavor::Auth0).await;
    let mut cfg = config(&server);
    cfg.endpoint_params.insert("audience".into(), ParamValues::List(vec!["https://api.example".into()]));
    let src = source(cfg, RefreshPolicy::default());
    let t = src.token().await.unwrap();
    assert_eq!(server.requests(), 2, "Basic refused, then the body");
    assert_eq!(src.client().learned_style(), Some(AuthStyle::Post));
    let seen = server.seen();
    assert!(seen[0].basic.is_some() && seen[0].param("client_secret").is_none());
    assert!(seen[1].basic.is_none() && seen[1].param("client_secret") == Some(SECRET));
    assert_eq!(seen[1].param("audience"), Some("https://api.example"));
    src.invalidate(&t);
    src.token().await.unwrap();
    assert_eq!(server.requests(), 3, "the body directly the second time");
    assert!(server.seen()[2].basic.is_none());
}

#[tokio::test]
async fn basic_and_post_styles_put_the_credentials_where_asked() {
    let server = AuthServer::start(Flavor::Standard).await;
    for (style, basic) in [(AuthStyle::Basic, true), (AuthStyle::Post, false), (AuthStyle::Auto, true)] {
        let mut cfg = config(&server);
        cfg.auth = style;
        cfg.scopes = vec!["a".into(), "b".into()];
        source(cfg, RefreshPolicy::default()).token().await.unwrap();
        let seen = server.seen().pop().unwrap();
        // the secret holds + / : %, so the Basic value was form-url-encoded and decoded back
        assert_eq!(seen.basic.is_some(), basic, "{style:?}");
        assert_eq!(seen.param("client_secret").is_some(), !basic, "{style:?}");
        assert_eq!(seen.param("scope"), Some("a b"));
    }
}

#[tokio::test]
async fn a_refusal_is_a_typed_error_and_is_not_retried() {
    let server = AuthServer::start(Flavor::Auth0).await;
    let mut cfg = config(&server);
    cfg.auth = AuthStyle::Basic;
    let src = source(cfg, fast_backoff());
    match src.token().await {
        Err(TokenError::Refused { status: 401, error, .. }) => assert_eq!(error, "invalid_client"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(), 1);
    assert!(matches!(src.token().await, Err(TokenError::CoolingDown { .. })));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn ibm_app_id_sends_expires_in_as_a_string() {
    let server = AuthServer::start(Flavor::IbmAppId).await;
    server.set(|b| b.lifetime = Some(3600));
    let src = source(config(&server), RefreshPolicy::default());
    let before = ferrid_client::env::now();
    let t = src.token().await.unwrap();
    assert_eq!(t.response().raw["expires_in"], "3600");
    assert_eq!(t.response().expires_in, Some(3600));
    let lifetime = t.expires_at() - before;
    assert!(lifetime >= Duration::from_secs(3600) && lifetime < Duration::from_secs(3601), "{lifetime:?}");
    assert_eq!(t.expires_at() - t.refresh_at(), Duration::from_secs(60));
}

#[tokio::test]
async fn a_missing_expires_in_means_the_default_lifetime() {
    let server = AuthServer::start(Flavor::Standard).await;
    server.set(|b| b.lifetime = None);
    let policy = RefreshPolicy { default_lifetime: Duration::from_secs(120), ..Default::default() };
    let src = source(config(&server), policy);
    let before = ferrid_client::env::now();
    let t = src.token().await.unwrap();
    assert_eq!(t.response().expires_in, None);
    let lifetime = t.expires_at() - before;
    assert!(lifetime >= Duration::from_secs(120) && lifetime < Duration::from_secs(121), "{lifetime:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    drop(listener);
    let src = source(ClientCredentialsConfig::new("a", "b", url), RefreshPolicy { retries: 0, ..fast_backoff() });
    let e = src.token().await.unwrap_err();
    assert!(matches!(e, TokenError::Transport(_)), "{e:?}");
    assert!(e.is_retryable());
}
