use async_trait::async_trait;

use super::{StoreResult, TrackRef};
use crate::model::UnixTime;

/// How one login failure counter locks (docs/provider.md "Login"): `threshold` failures
/// lock it for `lock` seconds, each further lockout for twice as long up to `cap`, and
/// a counter without a failure for `forget` seconds starts afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRule {
    pub threshold: u32,
    pub lock: i64,
    pub cap: i64,
    pub forget: i64,
}

/// The login lockout's failure counters, shared by every instance (docs/model.md
/// "Login lockout"). A counter is named by the caller (`p:` a user at a source, `u:` a
/// user from anywhere, `d:` a device cookie); the store only counts and locks.
#[async_trait]
pub trait LoginGuard: Send + Sync + 'static {
    /// The latest end of a lockout among `counters` that is still running at `now`.
    async fn login_locked(&self, track: &TrackRef, counters: &[String], now: UnixTime)
    -> StoreResult<Option<UnixTime>>;
    /// Counts a failure on each counter under its rule (one statement per counter,
    /// atomic on its own) and answers the latest lockout end that is still running.
    async fn login_failed(
        &self,
        track: &TrackRef,
        counters: &[(String, LockRule)],
        now: UnixTime,
    ) -> StoreResult<Option<UnixTime>>;
    /// Forgets the counters (a successful login).
    async fn login_succeeded(&self, track: &TrackRef, counters: &[String]) -> StoreResult<()>;
    /// Deletes counters whose last failure is before `before` and that lock nothing at
    /// `now`; how many.
    async fn purge_login_guard(&self, before: UnixTime, now: UnixTime) -> StoreResult<u64>;
}
