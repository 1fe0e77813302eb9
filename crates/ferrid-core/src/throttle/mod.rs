//! Throttling of failed authentication (RFC 9700 §2.5 asks for protection against
//! credential guessing; docs/security.md): token buckets per source address and per
//! (holder, source address), where a holder is a registered client of the track or a
//! user whose login failed (`user:{id}`, see [`buckets`]). Only failures keep
//! tokens (a slow secret check takes one before it runs and gives it back when the
//! secret was right), only the buckets of the request's own source are consulted, and
//! every bucket refills, so no bucket ever locks anyone out for good.
//!
//! Memory is bounded whatever requests arrive (docs/security.md, "Issue 18"): only a
//! client registered in the request's track gets a bucket of its own (any other id is
//! counted in its source's bucket alone), a source keeps at most
//! [`MAX_CLIENTS_PER_SOURCE`] client buckets (more share one overflow bucket), all
//! buckets together are capped at [`MAX_BUCKETS`] (the fullest sources are dropped
//! first), and buckets that have refilled to full — which carry no information — are
//! swept away every [`SWEEP_EVERY`].
//!
//! Each instance decides from its own buckets (no store call on the request path). A
//! failure is also reported to [`failures`], which counts it in the store's shared
//! buckets and brings the shared level back here, so that failures spread over several
//! instances behind one load balancer add up (docs/security.md, "Issue 18").

pub mod failures;
pub mod slow;

mod buckets;

use std::{
    net::IpAddr,
    sync::{
        Arc, OnceLock, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::mpsc;

use crate::{env::Clock, model::UnixTime};
use buckets::{Bucket, State, client_slot, find, slot_key};
use slow::SlowGate;

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

/// All buckets (sources and clients at sources) kept at once.
pub const MAX_BUCKETS: usize = 100_000;
/// Client buckets kept per source; further clients share the source's overflow bucket.
pub const MAX_CLIENTS_PER_SOURCE: usize = 32;
/// How often buckets that have refilled to full are dropped.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// A reported client id is cut to this many characters (a registered one is at most 50).
const MAX_REPORTED_CLIENT: usize = 100;

/// Whether a request's source, and its client at that source, have failures left:
/// `Some(wait)` for a bucket that is empty.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub source: Option<Duration>,
    pub client: Option<Duration>,
}

impl Gate {
    /// How long until both buckets have a failure to give, if either is empty.
    pub fn wait(&self) -> Option<Duration> {
        self.source.max(self.client)
    }
}

/// The failure throttle of one instance. Checking costs one atomic load while no source
/// has failed, and a read lock without allocation otherwise.
pub struct Throttle {
    config: ThrottleConfig,
    time: Arc<dyn Clock>,
    state: RwLock<State>,
    tracked: AtomicUsize,
    /// Where failures are reported for the shared buckets and the audit log.
    reporter: OnceLock<mpsc::Sender<Failure>>,
    dropped: AtomicU64,
    slow: SlowGate,
}

/// A failed authentication as the request saw it, before it is reported.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub tenant: &'a str,
    pub track: &'a str,
    /// The client id the request named, if any.
    pub client: Option<&'a str>,
    /// Whether `client` is registered in the track (only then has it a bucket).
    pub registered: bool,
    pub source: IpAddr,
    pub at: UnixTime,
}

/// One failed client authentication, as reported to [`failures`].
#[derive(Debug, Clone)]
pub struct Failure {
    pub tenant: String,
    pub track: String,
    /// The client id the request named, if any (not necessarily a registered one), cut
    /// to 100 characters.
    pub client: Option<String>,
    /// Whether `client` is registered in the track (only then has it a bucket).
    pub registered: bool,
    pub source: IpAddr,
    pub at: UnixTime,
    /// Set for a login the lockout refused (no password was checked): it is only
    /// written to the audit log, never counted in a bucket.
    pub locked: Option<LockedOut>,
}

/// Why the lockout refused a login (docs/provider.md "Lockout"): which counter, and
/// when its lockout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockedOut {
    /// `source` (the user at this source), `ceiling` (the per-user ceiling) or
    /// `device` (the browser's device cookie).
    pub counter: &'static str,
    pub until: UnixTime,
}

impl Throttle {
    /// Buckets refill on `time`'s monotonic reading.
    pub fn new(config: ThrottleConfig, time: Arc<dyn Clock>) -> Throttle {
        Throttle {
            config,
            time,
            state: RwLock::new(State::default()),
            tracked: AtomicUsize::new(0),
            reporter: OnceLock::new(),
            dropped: AtomicU64::new(0),
            slow: SlowGate::default(),
        }
    }

    pub fn config(&self) -> ThrottleConfig {
        self.config
    }

    /// The bounds on slow secret checks of this instance.
    pub fn slow(&self) -> &SlowGate {
        &self.slow
    }

    /// Sends every later failure to `reporter` as well (set once, at start-up).
    pub fn report_to(&self, reporter: mpsc::Sender<Failure>) {
        let _ = self.reporter.set(reporter);
    }

    /// Buckets held (sources plus clients at sources), for `/metrics`.
    pub fn buckets(&self) -> usize {
        self.state.read().unwrap_or_else(|e| e.into_inner()).buckets
    }

    fn now(&self) -> u64 {
        self.time.monotonic().as_millis() as u64
    }

    fn level(&self, b: Bucket, now: u64) -> f64 {
        let secs = now.saturating_sub(b.at) as f64 / 1000.0;
        (b.tokens + secs * self.config.per_second).min(self.config.burst)
    }

    fn full(&self) -> Bucket {
        Bucket { tokens: self.config.burst, at: 0 }
    }

    fn wait_for(&self, level: f64, want: f64) -> Option<Duration> {
        (level < want).then(|| Duration::from_secs_f64((want - level) / self.config.per_second))
    }

    /// Which of this source's buckets (and `client`'s at this source) are empty.
    /// `client` is the name of a registered client; any other id is counted in the
    /// source's bucket alone.
    pub fn check(&self, client: Option<&str>, source: IpAddr) -> Gate {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return Gate::default();
        }
        let now = self.now();
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = state.sources.get(&source) else { return Gate::default() };
        Gate {
            source: self.wait_for(self.level(entry.bucket, now), 1.0),
            client: client.and_then(|c| find(entry, c)).and_then(|b| self.wait_for(self.level(b, now), 1.0)),
        }
    }

    /// Takes `n` tokens from the source's and the client's buckets if both have them
    /// (before a slow check); otherwise takes nothing and tells how long to wait.
    pub fn try_take(&self, client: Option<&str>, source: IpAddr, n: f64) -> Result<(), Duration> {
        let n = n.min(self.config.burst);
        let now = self.now();
        let mut state = self.write(now);
        let levels = state.sources.get(&source).map(|s| {
            let c = client.and_then(|c| find(s, c));
            (self.level(s.bucket, now), c.map(|b| self.level(b, now)))
        });
        let (source_level, client_level) = levels.unwrap_or((self.config.burst, None));
        let client_level = client_level.unwrap_or(self.config.burst);
        if let Some(wait) = self.wait_for(source_level.min(client_level), n) {
            return Err(wait);
        }
        self.take_in(&mut state, client, source, n, now, true);
        Ok(())
    }

    /// Gives back `n` tokens taken by [`Throttle::try_take`] (the secret was right).
    pub fn refund(&self, client: Option<&str>, source: IpAddr, n: f64) {
        let now = self.now();
        let mut state = self.write(now);
        let Some(entry) = state.sources.get_mut(&source) else { return };
        let give = |b: &mut Bucket| {
            *b = Bucket { tokens: (self.level(*b, now) + n).min(self.config.burst), at: now };
        };
        give(&mut entry.bucket);
        if let Some(c) = client {
            let k = slot_key(entry, c);
            if let Some((_, b)) = entry.clients.iter_mut().find(|(x, _)| **x == *k) {
                give(b);
            }
        }
    }

    /// Takes one token from the request's buckets after a failed authentication at
    /// `tenant/track` and reports it. `registered` says whether `client` is a client of
    /// the track. A full report queue drops the report (counted), never delays the
    /// response.
    pub fn failed(&self, f: Attempt<'_>) {
        let now = self.now();
        let mut state = self.write(now);
        self.take_in(&mut state, f.client.filter(|_| f.registered), f.source, 1.0, now, true);
        drop(state);
        self.report(f);
    }

    /// A failure whose tokens were already taken (by [`Throttle::try_take`]): only
    /// reported.
    pub fn report(&self, f: Attempt<'_>) {
        self.send(f, None);
    }

    /// A login the lockout refused: takes nothing from any bucket, only reported for the
    /// audit log (`login.locked`, once per lockout and source, [`failures`]).
    pub fn report_locked(&self, f: Attempt<'_>, locked: LockedOut) {
        self.send(f, Some(locked));
    }

    fn send(&self, f: Attempt<'_>, locked: Option<LockedOut>) {
        if let Some(tx) = self.reporter.get() {
            let Attempt { tenant, track, client, registered, source, at } = f;
            let client = client.map(|c| c.chars().take(MAX_REPORTED_CLIENT).collect());
            let failure =
                Failure { tenant: tenant.to_owned(), track: track.to_owned(), client, registered, source, at, locked };
            if tx.try_send(failure).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A wrong credential from a held-back source: takes a token from the client's
    /// bucket only (the source's is already empty), so that the cheap checks still made
    /// for such a source cannot be used to guess one client's secret faster than its
    /// own bucket allows. Not reported: the request was throttled.
    pub fn held_back(&self, client: &str, source: IpAddr) {
        let now = self.now();
        let mut state = self.write(now);
        self.take_in(&mut state, Some(client), source, 1.0, now, false);
    }

    /// Failures not reported because the queue was full.
    pub fn dropped_reports(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Lowers this source's buckets to the levels the shared store reports (failures at
    /// other instances included); `None` leaves a bucket as it is. `client` is a
    /// registered client's name.
    pub fn apply_shared(
        &self,
        client: Option<&str>,
        source: IpAddr,
        source_level: Option<f64>,
        client_level: Option<f64>,
    ) {
        let now = self.now();
        let mut state = self.write(now);
        let lower = |b: Bucket, shared: f64| Bucket { tokens: self.level(b, now).min(shared).max(0.0), at: now };
        self.make_room(&mut state, now);
        let full = self.full();
        let (entry, buckets) = state.source(source, full);
        if let Some(level) = source_level {
            entry.bucket = lower(entry.bucket, level);
        }
        if let (Some(c), Some(level)) = (client, client_level) {
            let b = client_slot(entry, c, full, buckets);
            *b = lower(*b, level);
        }
        self.tracked.store(state.sources.len(), Ordering::Relaxed);
    }

    /// The write lock, after sweeping away full buckets when [`SWEEP_EVERY`] has passed.
    fn write(&self, now: u64) -> std::sync::RwLockWriteGuard<'_, State> {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if now.saturating_sub(state.swept) >= SWEEP_EVERY.as_millis() as u64 {
            self.sweep(&mut state, now);
        }
        state
    }

    /// Drops every bucket that has refilled to full, and sources left with nothing.
    fn sweep(&self, state: &mut State, now: u64) {
        let burst = self.config.burst;
        let mut buckets = 0;
        state.sources.retain(|_, s| {
            s.clients.retain(|(_, b)| self.level(*b, now) < burst);
            let keep = !s.clients.is_empty() || self.level(s.bucket, now) < burst;
            if keep {
                buckets += 1 + s.clients.len();
            }
            keep
        });
        state.buckets = buckets;
        state.swept = now;
        self.tracked.store(state.sources.len(), Ordering::Relaxed);
    }

    /// Keeps the total under [`MAX_BUCKETS`]: sweeps, and if that is not enough drops the
    /// tenth of the sources whose buckets are fullest (they carry the least).
    fn make_room(&self, state: &mut State, now: u64) {
        if state.buckets < MAX_BUCKETS {
            return;
        }
        self.sweep(state, now);
        if state.buckets < MAX_BUCKETS * 9 / 10 {
            return;
        }
        let mut levels: Vec<(f64, IpAddr)> =
            state.sources.iter().map(|(ip, s)| (self.level(s.bucket, now), *ip)).collect();
        let drop = (levels.len() / 10).max(1);
        let cut = levels.len() - drop;
        levels.select_nth_unstable_by(cut, |a, b| a.0.total_cmp(&b.0));
        for (_, ip) in &levels[cut..] {
            state.sources.remove(ip);
        }
        state.buckets = state.sources.values().map(|s| 1 + s.clients.len()).sum();
    }

    fn take_in(&self, state: &mut State, client: Option<&str>, source: IpAddr, n: f64, now: u64, from_source: bool) {
        self.make_room(state, now);
        let full = self.full();
        let (entry, buckets) = state.source(source, full);
        let take = |b: Bucket| Bucket { tokens: (self.level(b, now) - n).max(0.0), at: now };
        if from_source {
            entry.bucket = take(entry.bucket);
        }
        if let Some(c) = client {
            let b = client_slot(entry, c, full, buckets);
            *b = take(*b);
        }
        self.tracked.store(state.sources.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
