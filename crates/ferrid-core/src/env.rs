//! Time and randomness: the one module of ferrid that reads the operating system's
//! clocks and random source (`clippy.toml` forbids it everywhere else, see
//! docs/ARCHITECTURE.md "Time and randomness").
//!
//! The server is given an [`Env`] at start: [`Env::system`] in production, a
//! [`FakeEnv`] in tests, whose clock moves only when told to.

#![allow(clippy::disallowed_methods)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::rand::SecureRandom;

use crate::model::UnixTime;

/// Wall time and a monotonic reading.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch (wall time).
    fn now_millis(&self) -> i64;

    /// Seconds since the Unix epoch (wall time): `iat`, `exp`, audit records.
    fn now(&self) -> UnixTime {
        self.now_millis().div_euclid(1000)
    }

    /// Monotonic time since an arbitrary origin (rate limits, connection timers): it
    /// never goes back.
    fn monotonic(&self) -> Duration;
}

/// Random bytes from a cryptographically secure source.
pub trait Rng: Send + Sync + 'static {
    fn fill(&self, dest: &mut [u8]);
}

impl dyn Rng {
    /// A fixed-size array of random bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }

    /// A random identifier: 16 bytes, base64url (22 characters).
    pub fn id(&self) -> String {
        ferrid_oauth::b64::encode(&self.bytes::<16>())
    }
}

/// The operating system's clocks.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// The operating system's CSPRNG (aws-lc-rs).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, dest: &mut [u8]) {
        aws_lc_rs::rand::SystemRandom::new().fill(dest).expect("the OS random source works");
    }
}

/// Random bytes from the operating system, for the two process-wide values made before
/// any request and never compared by a test: the key of the verified-secret cache and
/// the dummy slow hash a wrong guess is checked against. Everything a request or a
/// management change draws (a token's `jti`, secrets, their salts and ids, the key
/// cipher's nonces) comes from the server's injected [`Env::rng`].
pub fn random_bytes<const N: usize>() -> [u8; N] {
    (&SystemRng as &dyn Rng).bytes()
}

/// What the server reads time and randomness from. Cloning copies two `Arc`s; reading
/// is one virtual call, with no lock and no allocation.
#[derive(Clone)]
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

impl Env {
    /// The operating system's clocks and random source.
    pub fn system() -> Env {
        Env { clock: Arc::new(SystemClock::new()), rng: Arc::new(SystemRng) }
    }

    /// Wall time, seconds since the Unix epoch.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::system()
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("now", &self.clock.now()).finish_non_exhaustive()
    }
}

/// A clock that moves only when told to. Wall time and monotonic time advance together;
/// [`FakeClock::set`] moves wall time anywhere (back too) and the monotonic reading by the
/// forward part only, so it never goes back.
#[derive(Debug)]
pub struct FakeClock {
    wall_ms: AtomicI64,
    mono_ms: AtomicU64,
}

impl FakeClock {
    /// A clock reading `start` (seconds since the epoch), monotonic zero.
    pub fn new(start: UnixTime) -> FakeClock {
        FakeClock { wall_ms: AtomicI64::new(start.saturating_mul(1000)), mono_ms: AtomicU64::new(0) }
    }

    pub fn advance(&self, by: Duration) {
        let ms = by.as_millis().min(i64::MAX as u128) as i64;
        self.wall_ms.fetch_add(ms, Relaxed);
        self.mono_ms.fetch_add(ms as u64, Relaxed);
    }

    /// Sets wall time to `to` (seconds since the epoch).
    pub fn set(&self, to: UnixTime) {
        let before = self.wall_ms.swap(to.saturating_mul(1000), Relaxed);
        let forward = to.saturating_mul(1000).saturating_sub(before).max(0);
        self.mono_ms.fetch_add(forward as u64, Relaxed);
    }
}

impl Clock for FakeClock {
    fn now_millis(&self) -> i64 {
        self.wall_ms.load(Relaxed)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_millis(self.mono_ms.load(Relaxed))
    }
}

/// An [`Env`] for tests: a [`FakeClock`] and the system random source (tests compare
/// what randomness produced with itself, never with fixed values, so it need not be
/// seeded). Clones share the clock.
#[derive(Debug, Clone)]
pub struct FakeEnv {
    clock: Arc<FakeClock>,
}

impl FakeEnv {
    /// Starts at `start` (seconds since the epoch).
    pub fn new(start: UnixTime) -> FakeEnv {
        FakeEnv { clock: Arc::new(FakeClock::new(start)) }
    }

    /// Starts at the real current time, so that tokens it stamps are valid for
    /// verifiers on the real clock.
    pub fn starting_now() -> FakeEnv {
        FakeEnv::new(SystemClock::new().now())
    }

    /// The environment to hand to the code under test.
    pub fn env(&self) -> Env {
        Env { clock: self.clock.clone(), rng: Arc::new(SystemRng) }
    }

    pub fn clock(&self) -> &Arc<FakeClock> {
        &self.clock
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by)
    }

    pub fn set(&self, to: UnixTime) {
        self.clock.set(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_clock_moves_only_when_told_and_both_readings_together() {
        let f = FakeEnv::new(1_700_000_000);
        let env = f.env();
        assert_eq!((env.now(), env.clock.monotonic()), (1_700_000_000, Duration::ZERO));
        f.advance(Duration::from_millis(1500));
        assert_eq!(env.clock.now_millis(), 1_700_000_001_500);
        assert_eq!(env.now(), 1_700_000_001);
        assert_eq!(env.clock.monotonic(), Duration::from_millis(1500));
    }

    #[test]
    fn setting_the_fake_clock_back_leaves_the_monotonic_reading_where_it_was() {
        let f = FakeEnv::new(1000);
        f.set(1010);
        assert_eq!((f.now(), f.env().clock.monotonic()), (1010, Duration::from_secs(10)));
        f.set(900);
        assert_eq!((f.now(), f.env().clock.monotonic()), (900, Duration::from_secs(10)));
        f.clone().advance(Duration::from_secs(1));
        assert_eq!((f.now(), f.env().clock.monotonic()), (901, Duration::from_secs(11)));
    }

    #[test]
    fn wall_seconds_round_down_before_the_epoch_too() {
        let c = FakeClock::new(0);
        c.set(-1);
        c.advance(Duration::from_millis(1));
        assert_eq!((c.now_millis(), c.now()), (-999, -1));
    }

    #[test]
    fn the_system_env_reads_the_real_clock_and_random_source() {
        let env = Env::system();
        assert!(env.now() > 1_600_000_000);
        let a = env.clock.monotonic();
        assert!(env.clock.monotonic() >= a);
        assert_ne!(env.rng.bytes::<16>(), env.rng.bytes::<16>());
        assert_eq!(env.rng.id().len(), 22);
    }
}
