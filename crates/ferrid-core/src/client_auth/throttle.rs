//! Throttling of failed client authentication (DESIGN §3; RFC 9700 §2.5 asks for protection against credential guessing): token buckets
//! per source address and per (client, source address). Only failures take tokens, and
//! only the buckets of the request's own source are consulted, so a client that
//! authenticates correctly from its own address is never slowed by an attacker's
//! failures elsewhere, and no bucket ever locks anyone out for good: each refills.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
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

/// Where a bucket belongs: a source address, or a client at a source address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Source(IpAddr),
    ClientAt(String, IpAddr),
}

/// The failure throttle of one instance.
pub struct Throttle {
    config: ThrottleConfig,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

/// Entries kept before full buckets are dropped.
const MAX_ENTRIES: usize = 100_000;

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle { config, buckets: Mutex::new(HashMap::new()) }
    }

    fn level(&self, b: Bucket, now: Instant) -> f64 {
        (b.tokens + now.duration_since(b.at).as_secs_f64() * self.config.per_second).min(self.config.burst)
    }

    fn keys(client: Option<&str>, source: IpAddr) -> impl Iterator<Item = Key> {
        std::iter::once(Key::Source(source)).chain(client.map(|c| Key::ClientAt(c.to_owned(), source)))
    }

    /// `Some(wait)` when this source (or this client at this source) has used up its
    /// failures: the request is refused before any secret is checked.
    pub fn check(&self, client: Option<&str>, source: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(client, source)
            .filter_map(|k| buckets.get(&k).copied())
            .map(|b| self.level(b, now))
            .filter(|level| *level < 1.0)
            .map(|level| Duration::from_secs_f64((1.0 - level) / self.config.per_second))
            .max()
    }

    /// Takes one token from the request's buckets after a failed authentication.
    pub fn failed(&self, client: Option<&str>, source: IpAddr) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_ENTRIES {
            let burst = self.config.burst;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * self.config.per_second < burst);
        }
        for k in Self::keys(client, source) {
            let level = buckets.get(&k).map(|b| self.level(*b, now)).unwrap_or(self.config.burst);
            buckets.insert(k, Bucket { tokens: (level - 1.0).max(0.0), at: now });
        }
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
