use super::*;
use crate::env::FakeClock;

fn fail<'a>(
    tenant: &'a str,
    track: &'a str,
    client: Option<&'a str>,
    registered: bool,
    source: IpAddr,
    at: UnixTime,
) -> Attempt<'a> {
    Attempt { tenant, track, client, registered, source, at }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn manual(burst: f64, per_second: f64) -> (Throttle, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(0));
    (Throttle::new(ThrottleConfig { burst, per_second }, clock.clone()), clock)
}

#[test]
fn a_source_is_held_back_after_its_burst_of_failures() {
    let (t, _) = manual(3.0, 1.0);
    for _ in 0..3 {
        assert_eq!(t.check(Some("c"), ip("10.0.0.1")).wait(), None);
        t.failed(fail("t", "k", Some("c"), true, ip("10.0.0.1"), 0));
    }
    let gate = t.check(Some("c"), ip("10.0.0.1"));
    assert!(gate.source.is_some() && gate.client.is_some());
    assert!(gate.wait().unwrap() <= Duration::from_secs(1));
    // another client from that source: the source's bucket is empty, its own is not
    let other = t.check(Some("other"), ip("10.0.0.1"));
    assert!(other.source.is_some() && other.client.is_none());
    // the same client elsewhere is not held back
    assert_eq!(t.check(Some("c"), ip("10.0.0.2")), Gate::default());
}

#[test]
fn buckets_refill() {
    let (t, clock) = manual(1.0, 1.0);
    t.failed(fail("t", "k", None, false, ip("10.0.0.1"), 0));
    assert!(t.check(None, ip("10.0.0.1")).source.is_some());
    clock.advance(Duration::from_millis(1000));
    assert_eq!(t.check(None, ip("10.0.0.1")), Gate::default());
}

#[test]
fn shared_levels_lower_local_buckets_but_never_raise_them() {
    let (t, _) = manual(3.0, 0.001);
    assert_eq!(t.check(Some("c"), ip("10.0.0.1")), Gate::default());
    // another instance has seen this source fail three times
    t.apply_shared(Some("c"), ip("10.0.0.1"), Some(0.0), Some(0.0));
    assert!(t.check(Some("c"), ip("10.0.0.1")).client.is_some());
    assert!(t.check(Some("other"), ip("10.0.0.1")).source.is_some());
    // a fuller shared bucket does not undo local failures
    let (u, _) = manual(1.0, 0.001);
    u.failed(fail("t", "k", None, false, ip("10.0.0.2"), 0));
    u.apply_shared(None, ip("10.0.0.2"), Some(1.0), None);
    assert!(u.check(None, ip("10.0.0.2")).source.is_some());
}

#[test]
fn failures_are_reported_with_where_they_happened() {
    let t = Throttle::new(ThrottleConfig::default(), Arc::new(FakeClock::new(0)));
    let (tx, mut rx) = mpsc::channel(1);
    t.report_to(tx);
    t.failed(fail("acme", "prod", Some(&"x".repeat(500)), false, ip("10.0.0.3"), 7));
    t.failed(fail("acme", "prod", Some("y"), true, ip("10.0.0.3"), 8)); // queue full: dropped, not blocked
    let f = rx.try_recv().expect("reported");
    assert_eq!((f.tenant.as_str(), f.track.as_str(), f.at, f.registered), ("acme", "prod", 7, false));
    assert_eq!(f.client.as_deref().map(str::len), Some(MAX_REPORTED_CLIENT));
    assert_eq!(t.dropped_reports(), 1);
}

#[test]
fn an_unregistered_client_id_of_any_size_gets_no_bucket() {
    let (t, _) = manual(100.0, 1.0);
    for i in 0..50 {
        t.failed(fail("t", "k", Some(&format!("{i}{}", "x".repeat(300_000))), false, ip("10.0.0.1"), 0));
        t.failed(fail("t", "k", Some(&format!("unknown-{i}")), false, ip("10.0.0.1"), 0));
    }
    assert_eq!(t.buckets(), 1, "the source's bucket only");
}

#[test]
fn a_source_keeps_a_bounded_number_of_client_buckets() {
    let (t, _) = manual(100.0, 1.0);
    for i in 0..500 {
        t.failed(fail("t", "k", Some(&format!("client-{i}")), true, ip("10.0.0.1"), 0));
    }
    // the source, MAX_CLIENTS_PER_SOURCE clients and their shared overflow bucket
    assert_eq!(t.buckets(), 1 + MAX_CLIENTS_PER_SOURCE + 1);
    // clients past the cap share the overflow bucket: 468 failures emptied it
    assert!(t.check(Some("client-499"), ip("10.0.0.1")).client.is_some());
    assert!(t.check(Some("client-0"), ip("10.0.0.1")).client.is_none());
}

#[test]
fn buckets_that_refilled_are_swept_away() {
    let (t, clock) = manual(5.0, 1.0);
    for i in 0..20 {
        t.failed(fail("t", "k", Some("c"), true, IpAddr::from([10, 0, 0, i]), 0));
    }
    assert_eq!(t.buckets(), 40);
    // 5 s refill them; the next write after SWEEP_EVERY drops them
    clock.advance(SWEEP_EVERY.max(Duration::from_secs(5)));
    t.failed(fail("t", "k", None, false, ip("10.9.9.9"), 0));
    assert_eq!(t.buckets(), 1);
    clock.advance(SWEEP_EVERY);
    t.refund(None, ip("10.9.9.9"), 1.0);
    assert_eq!(t.buckets(), 0);
    assert_eq!(t.tracked.load(Ordering::Relaxed), 0, "checks are back to one atomic load");
}

#[test]
fn the_number_of_buckets_is_capped_dropping_the_fullest_sources_first() {
    let (t, _) = manual(100.0, 0.0001);
    // one source that failed a lot, then more sources than the cap that failed once
    for _ in 0..50 {
        t.failed(fail("t", "k", None, false, ip("192.0.2.1"), 0));
    }
    for i in 0..(MAX_BUCKETS as u32 + 1000) {
        t.failed(fail("t", "k", None, false, IpAddr::from((i + (1 << 24)).to_be_bytes()), 0));
    }
    assert!(t.buckets() <= MAX_BUCKETS, "{}", t.buckets());
    assert!(t.check(None, ip("192.0.2.1")).wait().is_none());
    assert!(t.state.read().unwrap().sources.contains_key(&ip("192.0.2.1")), "the emptiest source is kept");
}

#[test]
fn a_slow_check_takes_its_token_before_and_gets_it_back_if_right() {
    let (t, _) = manual(2.0, 0.0001);
    let src = ip("10.0.0.1");
    assert!(t.try_take(Some("c"), src, 1.0).is_ok());
    assert!(t.try_take(Some("c"), src, 1.0).is_ok());
    // empty: refused, and nothing more is taken
    assert!(t.try_take(Some("c"), src, 1.0).is_err());
    assert!(t.check(Some("c"), src).wait().is_some());
    t.refund(Some("c"), src, 1.0);
    assert_eq!(t.check(Some("c"), src), Gate::default());
    // two slow hashes cost two tokens
    assert!(t.try_take(Some("d"), src, 2.0).is_err(), "only one token left at the source");
}

#[test]
fn a_held_back_failure_takes_from_the_clients_bucket_only() {
    let (t, _) = manual(1.0, 0.0001);
    let src = ip("10.0.0.1");
    t.failed(fail("t", "k", None, false, src, 0));
    t.held_back("c", src);
    let gate = t.check(Some("c"), src);
    assert!(gate.source.is_some() && gate.client.is_some());
    assert!(t.check(Some("d"), src).client.is_none());
}

#[test]
fn a_user_whose_login_failed_has_a_bucket_of_its_own_at_the_source() {
    let (t, _) = manual(3.0, 0.001);
    let (alice, bob) = ("user:Hs3-k_9QaZ0xYw7LmN2pRt", "user:Q1w2E3r4T5y6U7i8O9p0Aa");
    for _ in 0..3 {
        t.failed(fail("t", "k", Some(alice), true, ip("10.0.0.1"), 0));
    }
    assert!(t.check(Some(alice), ip("10.0.0.1")).client.is_some());
    // another user at that source: held back by the source's bucket, not by alice's
    let gate = t.check(Some(bob), ip("10.0.0.1"));
    assert!(gate.source.is_some() && gate.client.is_none(), "{gate:?}");
    // and a level shared by another instance lowers alice's bucket elsewhere too
    t.apply_shared(Some(alice), ip("10.0.0.2"), None, Some(0.0));
    assert!(t.check(Some(alice), ip("10.0.0.2")).client.is_some());
    assert!(t.check(Some(bob), ip("10.0.0.2")).client.is_none());
}
