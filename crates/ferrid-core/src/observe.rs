//! What the server may watch of the core's background work (docs/operations.md
//! "Metrics"): snapshot reloads and rounds of periodic jobs. The core reports through
//! this trait and knows nothing of how the server counts; the default does nothing.

use std::time::Duration;

/// Which reload of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Every track read again from the store (start-up, a tenant-wide change).
    Full,
    /// One track read again (a change made here or announced by another instance).
    Track,
    /// One app read again and its entry replaced (docs/ARCHITECTURE.md "Snapshot").
    App,
}

impl Reload {
    pub const fn as_str(self) -> &'static str {
        match self {
            Reload::Full => "full",
            Reload::App => "app",
            Reload::Track => "track",
        }
    }
}

/// Receives reports of the core's background work. Every method has a default that
/// ignores the report.
pub trait Observer: Send + Sync + 'static {
    /// A reload of the snapshot ended after `took` (its store reads included); `ok` is
    /// false when the store could not be read and the snapshot was left as it was.
    fn snapshot_reloaded(&self, _kind: Reload, _took: Duration, _ok: bool) {}

    /// One round of the periodic job `name` ended after `took`.
    fn job_round(&self, _name: &'static str, _took: Duration) {}
}

/// The observer of a core that nobody watches.
pub struct Unobserved;

impl Observer for Unobserved {}
