//! Throttling of failed client authentication (DESIGN §3; RFC 9700 §2.5 asks for protection against credential guessing): token buckets
//! per source address and per (client, source address). Only failures take tokens, and
//! only the buckets of the request's own source are consulted, so a client that
//! authenticates correctly from its own address is never slowed by an attacker's
//! failures elsewhere, and no bucket ever locks anyone out for good: each refills.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        RwLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

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
}

/// Sources kept before those with full buckets are dropped.
const MAX_ENTRIES: usize = 100_000;

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle { config, sources: RwLock::new(HashMap::new()), tracked: AtomicUsize::new(0) }
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

    /// Takes one token from the request's buckets after a failed authentication.
    pub fn failed(&self, client: Option<&str>, source: IpAddr) {
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
            t.failed(Some("c"), ip("10.0.0.1"));
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
        t.failed(None, ip("10.0.0.1"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.check(None, ip("10.0.0.1")).is_none());
    }
}
