//! Throttling of failed client authentication (DESIGN §3; RFC 9700 §2.5 asks for protection against credential guessing): token buckets
//! per source address and per (client, source address). Only failures take tokens, and
//! only the buckets of the request's own source are consulted, so a client that
//! authenticates correctly from its own address is never slowed by an attacker's
//! failures elsewhere, and no bucket ever locks anyone out for good: each refills.
//!
//! Each instance decides from its own buckets (no store call on the request path). A
//! failure is also reported to [`super::failures`], which counts it in the store's shared
//! buckets and brings the shared level back here, so that failures spread over several
//! instances behind one load balancer add up (DESIGN §7).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        OnceLock, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use crate::model::UnixTime;

/// Failures allowed in a burst, and how fast the allowance comes back.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    pub burst: f64,
    pub per_second: f64,
}

impl Default for ThrottleConfig {
    /// 100 failures at once, then one a second.
    fn default() -> Self {
        ThrottleConfig { burst: 100.0, per_second: 1.0 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one source address: its own, and one per client id used from it.
#[derive(Debug, Default)]
struct Source {
    bucket: Option<Bucket>,
    clients: HashMap<String, Bucket>,
}

/// The failure throttle of one instance. Checking costs one atomic load while no source
/// has failed, and a read lock without allocation otherwise.
pub struct Throttle {
    config: ThrottleConfig,
    sources: RwLock<HashMap<IpAddr, Source>>,
    tracked: AtomicUsize,
    /// Where failures are reported for the shared buckets and the audit log.
    reporter: OnceLock<mpsc::Sender<Failure>>,
    dropped: AtomicU64,
}

/// One failed client authentication, as reported to [`super::failures`].
#[derive(Debug, Clone)]
pub struct Failure {
    pub tenant: String,
    pub track: String,
    /// The client id the request named, if any (not necessarily a registered one).
    pub client: Option<String>,
    pub source: IpAddr,
    pub at: UnixTime,
}

/// Sources kept before those with full buckets are dropped.
const MAX_ENTRIES: usize = 100_000;
/// A reported client id is cut to this many characters (a registered one is at most 50).
const MAX_REPORTED_CLIENT: usize = 100;

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            sources: RwLock::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
            reporter: OnceLock::new(),
            dropped: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> ThrottleConfig {
        self.config
    }

    /// Sends every later failure to `reporter` as well (set once, at start-up).
    pub fn report_to(&self, reporter: mpsc::Sender<Failure>) {
        let _ = self.reporter.set(reporter);
    }

    fn level(&self, b: Bucket, now: Instant) -> f64 {
        (b.tokens + now.duration_since(b.at).as_secs_f64() * self.config.per_second).min(self.config.burst)
    }

    /// `Some(wait)` when this source (or this client at this source) has used up its
    /// failures: the request is refused before any secret is checked.
    pub fn check(&self, client: Option<&str>, source: IpAddr) -> Option<Duration> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = Instant::now();
        let sources = self.sources.read().unwrap_or_else(|e| e.into_inner());
        let entry = sources.get(&source)?;
        let client_bucket = client.and_then(|c| entry.clients.get(c)).copied();
        [entry.bucket, client_bucket]
            .into_iter()
            .flatten()
            .map(|b| self.level(b, now))
            .filter(|level| *level < 1.0)
            .map(|level| Duration::from_secs_f64((1.0 - level) / self.config.per_second))
            .max()
    }

    /// Takes one token from the request's buckets after a failed authentication at
    /// `tenant/track`, and reports it. A full report queue drops the report (counted),
    /// never delays the response.
    pub fn failed(&self, tenant: &str, track: &str, client: Option<&str>, source: IpAddr, at: UnixTime) {
        self.take_local(client, source);
        if let Some(tx) = self.reporter.get() {
            let client = client.map(|c| c.chars().take(MAX_REPORTED_CLIENT).collect());
            let failure = Failure { tenant: tenant.to_owned(), track: track.to_owned(), client, source, at };
            if tx.try_send(failure).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Failures not reported because the queue was full.
    pub fn dropped_reports(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Lowers this source's buckets to the levels the shared store reports (failures at
    /// other instances included); `None` leaves a bucket as it is.
    pub fn apply_shared(
        &self,
        client: Option<&str>,
        source: IpAddr,
        source_level: Option<f64>,
        client_level: Option<f64>,
    ) {
        let now = Instant::now();
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        let entry = sources.entry(source).or_default();
        let lower = |b: Option<Bucket>, shared: f64| Bucket {
            tokens: b.map(|b| self.level(b, now)).unwrap_or(self.config.burst).min(shared).max(0.0),
            at: now,
        };
        if let Some(level) = source_level {
            entry.bucket = Some(lower(entry.bucket, level));
        }
        if let (Some(c), Some(level)) = (client, client_level) {
            let b = lower(entry.clients.get(c).copied(), level);
            entry.clients.insert(c.to_owned(), b);
        }
        self.tracked.store(sources.len(), Ordering::Relaxed);
    }

    fn take_local(&self, client: Option<&str>, source: IpAddr) {
        let now = Instant::now();
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if sources.len() >= MAX_ENTRIES {
            let full = |b: &Bucket| self.level(*b, now) >= self.config.burst;
            sources.retain(|_, s| !(s.bucket.as_ref().is_none_or(full) && s.clients.values().all(full)));
        }
        let entry = sources.entry(source).or_default();
        let take = |b: Option<Bucket>| Bucket {
            tokens: (b.map(|b| self.level(b, now)).unwrap_or(self.config.burst) - 1.0).max(0.0),
            at: now,
        };
        entry.bucket = Some(take(entry.bucket));
        if let Some(c) = client {
            let b = take(entry.clients.get(c).copied());
            entry.clients.insert(c.to_owned(), b);
        }
        self.tracked.store(sources.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_source_is_held_back_after_its_burst_of_failures() {
        let t = Throttle::new(ThrottleConfig { burst: 3.0, per_second: 1.0 });
        for _ in 0..3 {
            assert!(t.check(Some("c"), ip("10.0.0.1")).is_none());
            t.failed("t", "k", Some("c"), ip("10.0.0.1"), 0);
        }
        let wait = t.check(Some("c"), ip("10.0.0.1")).expect("throttled");
        assert!(wait <= Duration::from_secs(1));
        // any client from that source is held back, not the same client elsewhere
        assert!(t.check(Some("other"), ip("10.0.0.1")).is_some());
        assert!(t.check(Some("c"), ip("10.0.0.2")).is_none());
    }

    #[test]
    fn buckets_refill() {
        let t = Throttle::new(ThrottleConfig { burst: 1.0, per_second: 1000.0 });
        t.failed("t", "k", None, ip("10.0.0.1"), 0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.check(None, ip("10.0.0.1")).is_none());
    }

    #[test]
    fn shared_levels_lower_local_buckets_but_never_raise_them() {
        let t = Throttle::new(ThrottleConfig { burst: 3.0, per_second: 0.001 });
        assert!(t.check(Some("c"), ip("10.0.0.1")).is_none());
        // another instance has seen this source fail three times
        t.apply_shared(Some("c"), ip("10.0.0.1"), Some(0.0), Some(0.0));
        assert!(t.check(Some("c"), ip("10.0.0.1")).is_some());
        assert!(t.check(Some("other"), ip("10.0.0.1")).is_some());
        // a fuller shared bucket does not undo local failures
        let u = Throttle::new(ThrottleConfig { burst: 1.0, per_second: 0.001 });
        u.failed("t", "k", None, ip("10.0.0.2"), 0);
        u.apply_shared(None, ip("10.0.0.2"), Some(1.0), None);
        assert!(u.check(None, ip("10.0.0.2")).is_some());
    }

    #[test]
    fn failures_are_reported_with_where_they_happened() {
        let t = Throttle::new(ThrottleConfig::default());
        let (tx, mut rx) = mpsc::channel(1);
        t.report_to(tx);
        t.failed("acme", "prod", Some(&"x".repeat(500)), ip("10.0.0.3"), 7);
        t.failed("acme", "prod", Some("y"), ip("10.0.0.3"), 8); // queue full: dropped, not blocked
        let f = rx.try_recv().expect("reported");
        assert_eq!((f.tenant.as_str(), f.track.as_str(), f.at), ("acme", "prod", 7));
        assert_eq!(f.client.as_deref().map(str::len), Some(MAX_REPORTED_CLIENT));
        assert_eq!(t.dropped_reports(), 1);
    }
}
