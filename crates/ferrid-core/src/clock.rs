//! Time comes in through a trait so tests control it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::UnixTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// RFC 3339 in UTC, for the management API.
pub fn rfc3339(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Monotonic time since an arbitrary start, for rate limits (the failure throttle): it
/// never goes back, and tests move it by hand.
pub trait Monotonic: Send + Sync + 'static {
    fn elapsed(&self) -> std::time::Duration;
}

/// The process's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemMonotonic(std::time::Instant);

impl Default for SystemMonotonic {
    fn default() -> Self {
        SystemMonotonic(std::time::Instant::now())
    }
}

impl Monotonic for SystemMonotonic {
    fn elapsed(&self) -> std::time::Duration {
        self.0.elapsed()
    }
}

/// A monotonic clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualMonotonic(std::sync::atomic::AtomicU64);

impl ManualMonotonic {
    pub fn advance(&self, by: std::time::Duration) {
        self.0.fetch_add(by.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Monotonic for ManualMonotonic {
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}
