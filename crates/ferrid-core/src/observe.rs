//! What the server may watch of the core's background work and of the store
//! (docs/operations.md "Metrics"): snapshot reloads, rounds of periodic jobs and the time
//! each store call took. The core and the store report through this trait and know
//! nothing of how the server counts; the default does nothing.

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

/// The port of `crate::store` a store call was made through: the `port` label of the
/// store's call latency, a fixed set (never a tenant, a name or SQL text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorePort {
    Tenant,
    Track,
    Snapshot,
    App,
    Credential,
    TrackKey,
    AuditLog,
    ReplayGuard,
    FailureBuckets,
    Health,
    User,
    Session,
    Grant,
    LoginGuard,
}

impl StorePort {
    pub const ALL: [StorePort; 14] = [
        StorePort::Tenant,
        StorePort::Track,
        StorePort::Snapshot,
        StorePort::App,
        StorePort::Credential,
        StorePort::TrackKey,
        StorePort::AuditLog,
        StorePort::ReplayGuard,
        StorePort::FailureBuckets,
        StorePort::Health,
        StorePort::User,
        StorePort::Session,
        StorePort::Grant,
        StorePort::LoginGuard,
    ];

    /// The label value: the port trait's name in snake case, without `Store`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StorePort::Tenant => "tenant",
            StorePort::Track => "track",
            StorePort::Snapshot => "snapshot",
            StorePort::App => "app",
            StorePort::Credential => "credential",
            StorePort::TrackKey => "track_key",
            StorePort::AuditLog => "audit_log",
            StorePort::ReplayGuard => "replay_guard",
            StorePort::FailureBuckets => "failure_buckets",
            StorePort::Health => "health",
            StorePort::User => "user",
            StorePort::Session => "session",
            StorePort::Grant => "grant",
            StorePort::LoginGuard => "login_guard",
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

    /// One call of a store port method ended after `took` (a transaction's whole span,
    /// its commit included; a failed call too).
    fn store_call(&self, _port: StorePort, _took: Duration) {}
}

/// The observer of a core that nobody watches.
pub struct Unobserved;

impl Observer for Unobserved {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_port_has_its_own_label_in_its_own_slot() {
        for (i, port) in StorePort::ALL.iter().enumerate() {
            assert_eq!(*port as usize, i, "{port:?}");
        }
        let mut labels: Vec<&str> = StorePort::ALL.iter().map(|p| p.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), StorePort::ALL.len());
    }
}
