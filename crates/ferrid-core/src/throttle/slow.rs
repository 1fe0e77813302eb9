//! Bounds on slow (PBKDF2) secret checks of one instance (docs/security.md, "Issue 18"): at most [`RUNNING`] run at once, and at most
//! [`PER_SOURCE`] per source address, [`PER_CLIENT`] per client and [`IN_FLIGHT`] in
//! all are running or waiting. A check past these bounds is refused at once (the caller
//! answers 429 with `Retry-After`) instead of joining an unbounded queue, so a flood of
//! guesses cannot make a correct request wait behind it.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::Semaphore;

use crate::model::SecretHash;

/// Slow hashes computed at once (on the blocking pool).
pub const RUNNING: usize = 2;
/// Slow checks running or waiting per source address.
pub const PER_SOURCE: u8 = 2;
/// Slow checks running or waiting per client (tenant, track, client id).
pub const PER_CLIENT: u8 = 2;
/// Slow checks running or waiting in all.
pub const IN_FLIGHT: usize = 16;

#[derive(Default)]
struct InFlight {
    sources: HashMap<IpAddr, u8>,
    clients: HashMap<String, u8>,
    total: usize,
}

pub struct SlowGate {
    running: Semaphore,
    in_flight: Mutex<InFlight>,
    checks: AtomicU64,
    dummy: SecretHash,
}

impl Default for SlowGate {
    fn default() -> Self {
        SlowGate {
            running: Semaphore::new(RUNNING),
            in_flight: Mutex::default(),
            checks: AtomicU64::new(0),
            dummy: crate::credentials::secret::dummy_slow_hash(),
        }
    }
}

/// The right to run slow checks for one request; released when dropped.
pub struct Slot<'g> {
    gate: &'g SlowGate,
    source: Option<IpAddr>,
    client: String,
}

impl SlowGate {
    /// A slot for a slow check from `source` for `client`, or `None` when a bound is
    /// reached. The maps hold only what is in flight, so they never exceed [`IN_FLIGHT`]
    /// entries.
    pub fn enter(&self, source: Option<IpAddr>, client: &str) -> Option<Slot<'_>> {
        let mut f = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let at_source = source.and_then(|s| f.sources.get(&s).copied()).unwrap_or(0);
        let for_client = f.clients.get(client).copied().unwrap_or(0);
        if f.total >= IN_FLIGHT || at_source >= PER_SOURCE || for_client >= PER_CLIENT {
            return None;
        }
        f.total += 1;
        if let Some(s) = source {
            *f.sources.entry(s).or_default() += 1;
        }
        *f.clients.entry(client.to_owned()).or_default() += 1;
        Some(Slot { gate: self, source, client: client.to_owned() })
    }

    /// Runs one slow check (a password hash) on the blocking pool under one of the
    /// [`RUNNING`] permits; call it holding a [`Slot`]. `None` if it could not run.
    pub async fn run(&self, check: impl FnOnce() -> bool + Send + 'static) -> Option<bool> {
        let _permit = self.running.acquire().await.ok()?;
        self.checks.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(check).await.ok()
    }

    /// Slow hashes computed so far (dummy ones included), for `/metrics`.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

impl Slot<'_> {
    /// Checks `presented` against `hashes` one after another, each on the blocking pool
    /// under one of the [`RUNNING`] permits; the index of the one that matched. With no
    /// hash to check, a dummy one is checked, so the answer takes as long.
    pub async fn verify(&self, hashes: Vec<SecretHash>, presented: &str) -> Option<usize> {
        let real = !hashes.is_empty();
        let checks = if real { hashes } else { vec![self.gate.dummy.clone()] };
        for (i, hash) in checks.into_iter().enumerate() {
            let Ok(_permit) = self.gate.running.acquire().await else { return None };
            self.gate.checks.fetch_add(1, Ordering::Relaxed);
            let secret = presented.to_owned();
            let ok = tokio::task::spawn_blocking(move || hash.verify(secret.as_bytes())).await.unwrap_or(false);
            if ok && real {
                return Some(i);
            }
        }
        None
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut f = self.gate.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        f.total -= 1;
        if let Some(s) = self.source
            && let Some(n) = f.sources.get_mut(&s)
        {
            *n -= 1;
            if *n == 0 {
                f.sources.remove(&s);
            }
        }
        if let Some(n) = f.clients.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                f.clients.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn slow_checks_are_bounded_per_source_per_client_and_in_all() {
        let g = SlowGate::default();
        let a = g.enter(ip("10.0.0.1"), "t/k/c").expect("first");
        let _b = g.enter(ip("10.0.0.1"), "t/k/d").expect("second from the source");
        assert!(g.enter(ip("10.0.0.1"), "t/k/e").is_none(), "third from the source");
        let _c = g.enter(ip("10.0.0.2"), "t/k/c").expect("second for the client");
        assert!(g.enter(ip("10.0.0.3"), "t/k/c").is_none(), "third for the client");
        drop(a);
        assert!(g.enter(ip("10.0.0.1"), "t/k/c").is_some(), "a released slot serves again");
        let held: Vec<_> = (0..IN_FLIGHT)
            .filter_map(|i| g.enter(Some(IpAddr::from([10, 1, 0, i as u8])), &format!("t/k/{i}")))
            .collect();
        assert_eq!(held.len(), IN_FLIGHT - 2, "two slots were still held");
        assert!(g.enter(ip("10.9.9.9"), "t/k/z").is_none(), "all slots taken");
        drop(held);
        let f = g.in_flight.lock().unwrap();
        assert_eq!((f.total, f.sources.len(), f.clients.len()), (2, 2, 2));
    }

    #[tokio::test]
    async fn with_no_candidate_a_dummy_hash_is_checked_and_matches_nothing() {
        let g = SlowGate::default();
        let slot = g.enter(None, "t/k/").unwrap();
        assert_eq!(slot.verify(Vec::new(), "sixteen-chars-or-more").await, None);
        assert_eq!(g.checks(), 1);
    }
}
