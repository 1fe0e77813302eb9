//! Issue 18, client assertions (RFC 7523 §3): replay inside the `exp` leeway, lifetime
//! arithmetic on hostile `iat`/`nbf`, and `crit` (RFC 7515 §4.1.11).

use jsonwebtoken::{Algorithm, Header};
use serde_json::json;

use ferrid_testkit::*;

use crate::private_key_jwt::{claims, jti, now, present, setup, signer};

#[tokio::test]
async fn an_assertion_cannot_be_replayed_inside_the_exp_leeway() {
    let app = spawn_app().await;
    let state = &app.state;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    // exp 5 s ago: still inside the verifier's 60 s leeway, so it is accepted once…
    let t = now();
    let mut c = claims(&app);
    c["iat"] = json!(t - 30);
    c["exp"] = json!(t - 5);
    let a = s.sign(&c);
    assert_eq!(present(&app, &a).await.status(), 200);
    // …and never again while the leeway lasts, neither at once nor after the periodic
    // purge (which runs with the time of day; it must not forget the jti at its exp).
    assert_oauth_error(present(&app, &a).await, 401, "invalid_client").await;
    state.stores.replay.purge_jtis(now()).await.unwrap();
    assert_oauth_error(present(&app, &a).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn an_assertion_with_an_overflowing_iat_or_nbf_is_refused() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let ten_years = now() + 10 * 365 * 86_400;
    let hostile = [
        ("iat", json!(i64::MIN)),
        ("nbf", json!(i64::MIN)),
        ("iat", json!(-1e300)),
        ("nbf", json!(-1e300)),
        ("iat", json!(-9.2e18)),
        // older than any assertion may live (the cap is 60 min, leeway 60 s)
        ("iat", json!(now() - 2 * 3600)),
    ];
    for (claim, value) in hostile {
        let mut c = claims(&app);
        c.as_object_mut().unwrap().remove("iat");
        c[claim] = value.clone();
        c["exp"] = json!(ten_years);
        let r = present(&app, &s.sign(&c)).await;
        assert_oauth_error(r, 401, "invalid_client").await;
        // the same with a short, valid exp: a start time this old is refused by itself
        c["exp"] = json!(now() + 60);
        c["jti"] = json!(jti());
        let r = present(&app, &s.sign(&c)).await;
        assert_oauth_error(r, 401, "invalid_client").await;
        eprintln!("{claim} = {value} refused");
    }
    // a huge exp cannot overflow `exp + leeway` either
    let mut c = claims(&app);
    c["exp"] = json!(i64::MAX);
    assert_oauth_error(present(&app, &s.sign(&c)).await, 401, "invalid_client").await;
    // fractional NumericDates (RFC 7519 §2) still work
    let mut c = claims(&app);
    c["iat"] = json!(now() as f64 + 0.25);
    c["exp"] = json!(now() as f64 + 120.5);
    assert_eq!(present(&app, &s.sign(&c)).await.status(), 200);
}

#[tokio::test]
async fn an_assertion_with_an_unknown_crit_is_refused() {
    let app = spawn_app().await;
    let s = signer(Algorithm::ES256);
    setup(&app, &s).await;
    let mut header = Header::new(Algorithm::ES256);
    header.crit = Some(vec!["urn:example:unknown".into()]);
    let a = jsonwebtoken::encode(&header, &claims(&app), &s.key()).unwrap();
    assert_oauth_error(present(&app, &a).await, 401, "invalid_client").await;
    // the same assertion without `crit` is fine
    assert_eq!(present(&app, &s.sign(&claims(&app))).await.status(), 200);
}
