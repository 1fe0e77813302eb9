//! The login lockout (docs/provider.md "Login", issue 15): failures of a user at a
//! source lock that source out for that user (5 → 5 minutes, doubling); past the
//! per-user ceiling (20 failures) only a browser with a device cookie of that user from
//! an earlier successful login may try; a device cookie is judged by its own counter.
//! Browsers on "other machines" send from other loopback addresses (`Browser::from`);
//! time comes from a FakeEnv.

use std::time::Duration;

use ferrid_core::env::FakeEnv;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use ferrid_testkit::{
    browser::{Browser, Page, params_of},
    *,
};

use crate::provider::{CB, Op, PASSWORD, op_on};

const USERS: &str = "/tenants/t1/tracks/prod/users";
const DEVICE: &str = "ferrid_device";
const BOBS: &str = "a second long passphrase 7";

async fn op_with_clock() -> (FakeEnv, Op) {
    let env = FakeEnv::starting_now();
    let op = op_on(TestServer::builder().env(env.env()).spawn().await).await;
    (env, op)
}

/// The login page of a fresh authorization request (the browser's session, if any,
/// forgotten first, as after a logout).
async fn login_page(op: &Op, b: &mut Browser) -> Page {
    b.cookies.remove("ferrid_session");
    let page = b.get(&op.code_url("web", &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Logs in on a fresh login page.
async fn attempt(op: &Op, b: &mut Browser, user: &str, password: &str) -> Page {
    let page = login_page(op, b).await;
    op.log_in(b, &page, user, password).await
}

fn logged_in(page: &Page) -> bool {
    page.location().is_some_and(|l| l.starts_with(CB) && params_of(l).contains_key("code"))
}

fn assert_logged_in(page: &Page) {
    assert!(logged_in(page), "a code ({}): {}", page.status, page.body);
}

/// Refused by the lockout: the login page again with 429, no session, nothing about the
/// password.
fn assert_locked(page: &Page) {
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.body.contains("Too many attempts. Try again in"), "{}", page.body);
    assert!(page.body.contains("name=\"password\""), "the login page again: {}", page.body);
    assert!(!page.body.contains("Wrong username or password"), "{}", page.body);
    assert!(page.headers.contains_key(header::RETRY_AFTER));
}

fn assert_wrong(page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("Wrong username or password."), "{}", page.body);
}

/// `n` wrong passwords for `user` from `b`, each answered "wrong".
async fn fail(op: &Op, b: &mut Browser, user: &str, n: usize) {
    for i in 0..n {
        assert_wrong(&attempt(op, b, user, &format!("guess {i}")).await);
    }
}

/// A browser on the person's own machine that has logged in as alice once.
async fn own_browser(op: &Op) -> Browser {
    let mut b = Browser::from("127.0.0.1");
    assert_logged_in(&attempt(op, &mut b, "alice", PASSWORD).await);
    assert!(b.cookies.contains_key(DEVICE), "a device cookie after the login");
    b
}

#[tokio::test]
async fn five_failures_from_one_source_lock_it_for_that_user_for_five_minutes_and_the_next_lockout_for_ten() {
    let (env, op) = op_with_clock().await;
    let mut b = Browser::from("127.0.0.2");
    fail(&op, &mut b, "alice", 5).await;
    // the sixth attempt is refused before the password is looked at, even the right one
    let r = attempt(&op, &mut b, "alice", PASSWORD).await;
    assert_locked(&r);
    assert!(r.body.contains("Try again in 5 minutes."), "{}", r.body);
    assert_eq!(r.headers[header::RETRY_AFTER], "300");
    assert!(!b.cookies.contains_key("ferrid_session"));
    env.advance(Duration::from_secs(299));
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    env.advance(Duration::from_secs(1));
    // five more failures: the next lockout lasts twice as long
    fail(&op, &mut b, "alice", 5).await;
    let r = attempt(&op, &mut b, "alice", PASSWORD).await;
    assert_locked(&r);
    assert_eq!(r.headers[header::RETRY_AFTER], "600");
    env.advance(Duration::from_secs(599));
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    env.advance(Duration::from_secs(1));
    assert_logged_in(&attempt(&op, &mut b, "alice", PASSWORD).await);
}

#[tokio::test]
async fn the_lockout_follows_the_tracks_failures_and_duration() {
    let (env, op) = op_with_clock().await;
    let changes = json!({ "lockout_failures": 2, "lockout_duration": 120 });
    let (s, b) = op.app.api(reqwest::Method::PATCH, "/tenants/t1/tracks/prod", &op.admin, Some(changes)).await;
    assert_eq!((s, &b["lockout_failures"], &b["lockout_duration"]), (StatusCode::OK, &json!(2), &json!(120)), "{b}");
    let mut b = Browser::from("127.0.0.2");
    fail(&op, &mut b, "alice", 2).await;
    let r = attempt(&op, &mut b, "alice", PASSWORD).await;
    assert_locked(&r);
    assert_eq!(r.headers[header::RETRY_AFTER], "120");
    env.advance(Duration::from_secs(119));
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    env.advance(Duration::from_secs(1));
    assert_logged_in(&attempt(&op, &mut b, "alice", PASSWORD).await);
    // the per-user ceiling is four times the threshold: with the 2 above (a login does
    // not forget the ceiling), 6 more from three sources reach 8
    for i in 3..6 {
        fail(&op, &mut Browser::from(&format!("127.0.0.{i}")), "alice", 2).await;
    }
    let r = attempt(&op, &mut Browser::from("127.0.0.9"), "alice", PASSWORD).await;
    assert_locked(&r);
    assert_eq!(r.headers[header::RETRY_AFTER], "360", "three times the duration");
    // out of range: named, nothing changed
    for bad in
        [json!({ "lockout_failures": 0 }), json!({ "lockout_duration": 59 }), json!({ "lockout_duration": 86_401 })]
    {
        let (s, body) =
            op.app.api(reqwest::Method::PATCH, "/tenants/t1/tracks/prod", &op.admin, Some(bad.clone())).await;
        let field = bad.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!((s, &body["errors"][0]["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{body}");
    }
}

#[tokio::test]
async fn after_five_minutes_the_locked_source_logs_in() {
    let (env, op) = op_with_clock().await;
    let mut b = Browser::from("127.0.0.2");
    fail(&op, &mut b, "alice", 5).await;
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    env.advance(Duration::from_secs(300));
    assert_logged_in(&attempt(&op, &mut b, "alice", PASSWORD).await);
}

#[tokio::test]
async fn another_source_is_not_locked_out_by_the_failures_of_the_first() {
    let (_env, op) = op_with_clock().await;
    let mut attacker = Browser::from("127.0.0.2");
    fail(&op, &mut attacker, "alice", 5).await;
    assert_locked(&attempt(&op, &mut attacker, "alice", PASSWORD).await);
    // a new browser (no device cookie) elsewhere
    let mut other = Browser::from("127.0.0.3");
    assert_logged_in(&attempt(&op, &mut other, "alice", PASSWORD).await);
    // and the lock is for that user only: bob at the attacker's source is not locked
    op.app.create(USERS, &op.admin, json!({ "username": "bob", "password": BOBS })).await;
    assert_logged_in(&attempt(&op, &mut attacker, "bob", BOBS).await);
}

#[tokio::test]
async fn a_success_resets_the_counter_of_the_user_at_that_source() {
    let (_env, op) = op_with_clock().await;
    let mut b = Browser::from("127.0.0.2");
    fail(&op, &mut b, "alice", 4).await;
    assert_logged_in(&attempt(&op, &mut b, "alice", PASSWORD).await);
    // four more failures would have been the ninth without the reset
    fail(&op, &mut b, "alice", 4).await;
    assert_logged_in(&attempt(&op, &mut b, "alice", PASSWORD).await);
    // and the fifth in a row still locks
    fail(&op, &mut b, "alice", 5).await;
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
}

#[tokio::test]
async fn an_attacker_fails_a_thousand_passwords_while_the_user_logs_in_from_their_own_browser_without_waiting() {
    let (_env, op) = op_with_clock().await;
    let mut own = own_browser(&op).await;
    // The attacker's browsers at ten sources, each with the login page loaded.
    let mut attackers = Vec::new();
    for i in 2..12 {
        let mut b = Browser::from(&format!("127.0.0.{i}"));
        let page = login_page(&op, &mut b).await;
        attackers.push((b, page));
    }
    let mut checked = 0;
    for i in 0..1000 {
        let (b, page) = &mut attackers[i % 10];
        let r = op.log_in(b, page, "alice", &format!("guess {i}")).await;
        match r.status {
            StatusCode::BAD_REQUEST => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => assert_locked(&r),
            s => panic!("attempt {i}: {s}: {}", r.body),
        }
        if i % 100 == 99 {
            // the person logs in from their own browser, at once
            assert_logged_in(&attempt(&op, &mut own, "alice", PASSWORD).await);
        }
    }
    // Only the failures up to the per-user ceiling reached the password check; every
    // other guess was refused before the slow hash.
    assert_eq!(checked, 20);
    // a new browser at a fresh source is held back, the person's own browser is not
    let mut fresh = Browser::from("127.0.0.99");
    assert_locked(&attempt(&op, &mut fresh, "alice", PASSWORD).await);
    assert_logged_in(&attempt(&op, &mut own, "alice", PASSWORD).await);
}

#[tokio::test]
async fn a_new_browser_is_held_back_once_the_per_user_ceiling_is_reached_while_the_device_cookie_browser_logs_in() {
    let (env, op) = op_with_clock().await;
    let mut own = own_browser(&op).await;
    // 19 failures from four sources: under the ceiling, a new browser still logs in
    for (i, n) in [(2, 5), (3, 5), (4, 5), (5, 4)] {
        fail(&op, &mut Browser::from(&format!("127.0.0.{i}")), "alice", n).await;
    }
    assert_logged_in(&attempt(&op, &mut Browser::from("127.0.0.20"), "alice", PASSWORD).await);
    // the twentieth
    fail(&op, &mut Browser::from("127.0.0.5"), "alice", 1).await;
    let mut fresh = Browser::from("127.0.0.21");
    let r = attempt(&op, &mut fresh, "alice", PASSWORD).await;
    assert_locked(&r);
    assert_eq!(r.headers[header::RETRY_AFTER], "900");
    assert!(!fresh.cookies.contains_key("ferrid_session"));
    // the browser the person logged in from before is not held back
    assert_logged_in(&attempt(&op, &mut own, "alice", PASSWORD).await);
    // the ceiling's lockout ends after 15 minutes
    env.advance(Duration::from_secs(900));
    assert_logged_in(&attempt(&op, &mut fresh, "alice", PASSWORD).await);
}

/// Alice's ceiling reached from four sources.
async fn reach_ceiling(op: &Op) {
    for i in 2..6 {
        fail(op, &mut Browser::from(&format!("127.0.0.{i}")), "alice", 5).await;
    }
}

#[tokio::test]
async fn a_forged_or_another_users_device_cookie_does_not_help() {
    let (_env, op) = op_with_clock().await;
    op.app.create(USERS, &op.admin, json!({ "username": "bob", "password": BOBS })).await;
    let own = own_browser(&op).await;
    let alices = own.cookies[DEVICE].clone();
    let mut bobs = Browser::from("127.0.0.30");
    assert_logged_in(&attempt(&op, &mut bobs, "bob", BOBS).await);
    reach_ceiling(&op).await;
    // bob's browser with bob's device cookie tries alice's right password
    assert_locked(&attempt(&op, &mut bobs, "alice", PASSWORD).await);
    // alice's cookie with its user, time, nonce or tag changed
    let parts: Vec<&str> = alices.split('.').collect();
    assert_eq!(parts.len(), 4, "{alices}");
    let mut forgeries = Vec::new();
    for (i, with) in [(0, "Ym9i"), (1, "1"), (2, "AAAAAAAAAAAAAAAAAAAAAA"), (3, "AAAA")] {
        let mut p = parts.clone();
        p[i] = with;
        forgeries.push(p.join("."));
    }
    forgeries.push("garbage".to_owned());
    for (i, forged) in forgeries.into_iter().enumerate() {
        let mut b = Browser::from(&format!("127.0.0.{}", 40 + i));
        b.cookies.insert(DEVICE.to_owned(), forged.clone());
        assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    }
    // the genuine cookie, copied to a browser at yet another source, works
    let mut copy = Browser::from("127.0.0.60");
    copy.cookies.insert(DEVICE.to_owned(), alices);
    assert_logged_in(&attempt(&op, &mut copy, "alice", PASSWORD).await);
}

#[tokio::test]
async fn a_device_cookie_is_locked_out_by_its_own_failures() {
    let (env, op) = op_with_clock().await;
    let mut own = own_browser(&op).await;
    reach_ceiling(&op).await;
    fail(&op, &mut own, "alice", 5).await;
    let r = attempt(&op, &mut own, "alice", PASSWORD).await;
    assert_locked(&r);
    assert_eq!(r.headers[header::RETRY_AFTER], "300");
    env.advance(Duration::from_secs(300));
    assert_logged_in(&attempt(&op, &mut own, "alice", PASSWORD).await);
}

#[tokio::test]
async fn an_unknown_user_is_locked_out_exactly_like_a_known_one() {
    let (env, op) = op_with_clock().await;
    let mut b = Browser::from("127.0.0.2");
    for user in ["nobody", "nobody@example.com"] {
        fail(&op, &mut b, user, 5).await;
        let r = attempt(&op, &mut b, user, PASSWORD).await;
        assert_locked(&r);
        assert_eq!(r.headers[header::RETRY_AFTER], "300", "{user}");
    }
    // an email is one name in any case, as for known users
    assert_locked(&attempt(&op, &mut b, "NoBody@Example.COM", PASSWORD).await);
    // another source is not locked for that name
    assert_wrong(&attempt(&op, &mut Browser::from("127.0.0.3"), "nobody", PASSWORD).await);
    env.advance(Duration::from_secs(300));
    assert_wrong(&attempt(&op, &mut b, "nobody", PASSWORD).await);
}

#[tokio::test]
async fn the_device_cookie_is_http_only_same_site_lax_on_the_issuer_path_for_a_year() {
    let (_env, op) = op_with_clock().await;
    let b = own_browser(&op).await;
    let set = b.set_cookies.iter().find(|c| c.starts_with("ferrid_device=")).unwrap();
    let path = op.issuer().split_once("://").unwrap().1.split_once('/').unwrap().1.to_owned();
    for attr in ["HttpOnly", "SameSite=Lax", "Max-Age=31536000", &format!("Path=/{path}")] {
        assert!(set.split("; ").any(|a| a == attr), "{attr} in {set}");
    }
}

/// The tenant's audit records of `action`, oldest first, once `n` are there.
async fn audited(op: &Op, action: &str, n: usize) -> Vec<Value> {
    let url = format!("/tenants/t1/audit?action={action}&order=asc");
    let items = || async { op.app.get_api(&url, &op.admin).await.1["items"].as_array().cloned().unwrap_or_default() };
    assert!(eventually(|| async { items().await.len() >= n }).await, "{n} {action}: {:?}", items().await);
    items().await
}

#[tokio::test]
async fn a_login_refused_by_the_lockout_or_the_ceiling_is_audited_once_per_lockout_without_the_password() {
    let (env, op) = op_with_clock().await;
    let mut b = Browser::from("127.0.0.2");
    fail(&op, &mut b, "alice", 5).await;
    let start = env.now();
    assert_locked(&attempt(&op, &mut b, "alice", PASSWORD).await);
    assert_locked(&attempt(&op, &mut b, "alice", "knocking again 1").await);
    let locked = audited(&op, "login.locked", 1).await;
    let r = &locked[0];
    assert_eq!(r["actor"], format!("user:t1/prod/{}", op.user_id));
    assert_eq!(r["target"], format!("tenants/t1/tracks/prod/users/{}", op.user_id));
    assert_eq!(r["source"], "127.0.0.2");
    assert_eq!(r["details"], json!({ "user_id": op.user_id, "counter": "source", "until": start + 300 }));
    // the per-user ceiling, reached from three more sources, refuses a new browser
    for i in 3..6 {
        fail(&op, &mut Browser::from(&format!("127.0.0.{i}")), "alice", 5).await;
    }
    assert_locked(&attempt(&op, &mut Browser::from("127.0.0.21"), "alice", PASSWORD).await);
    let locked = audited(&op, "login.locked", 2).await;
    assert_eq!(locked.len(), 2, "the second refusal of the first lockout is not recorded again: {locked:?}");
    assert_eq!(locked[1]["details"]["counter"], "ceiling");
    assert_eq!(locked[1]["source"], "127.0.0.21");
    // a name no user has: its failures and its lockout are logins of no user
    let mut c = Browser::from("127.0.0.30");
    fail(&op, &mut c, "nobody", 5).await;
    assert_locked(&attempt(&op, &mut c, "nobody", "knocking again 2").await);
    let locked = audited(&op, "login.locked", 3).await;
    assert_eq!(locked[2]["details"]["user_id"], Value::Null);
    assert_eq!(locked[2]["target"], "tenants/t1/tracks/prod");
    let failed = audited(&op, "login.failed", 25).await;
    assert_eq!(failed.len(), 25, "{failed:?}");
    assert_eq!(failed[24]["details"], json!({ "user_id": null }));
    // no password, right or wrong, anywhere in the log
    let (_, all) = op.app.get_api("/tenants/t1/audit?limit=1000", &op.admin).await;
    let text = all.to_string();
    for secret in [PASSWORD, "guess 0", "knocking again"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}
