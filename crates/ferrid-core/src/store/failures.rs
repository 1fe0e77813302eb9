use async_trait::async_trait;

use super::StoreResult;

/// The failed-authentication buckets shared by every instance, so that instances behind
/// one load balancer throttle together (`docs/ARCHITECTURE.md`, "Invariants").
#[async_trait]
pub trait FailureBuckets: Send + Sync + 'static {
    /// Takes `count` tokens from each named bucket, which refills at `refill_per_ms` up
    /// to `burst`, and answers each bucket's level afterwards, in order. One statement
    /// per bucket, atomic on its own.
    async fn take_auth_failures(
        &self,
        buckets: &[(String, u32)],
        burst: f64,
        refill_per_ms: f64,
        now_ms: i64,
    ) -> StoreResult<Vec<f64>>;
    /// Deletes buckets untouched since `before_ms` (full again by then).
    async fn purge_auth_failures(&self, before_ms: i64) -> StoreResult<u64>;
}
