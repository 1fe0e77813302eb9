use async_trait::async_trait;

use super::{StoreResult, TrackRef};
use crate::{
    audit::AuditRecord,
    model::{TrackKey, UnixTime},
};

/// The steps of a track's signing-key rotation. Each is a conditional transaction, so
/// any number of instances running the same planner make each step once.
#[async_trait]
pub trait TrackKeyStore: Send + Sync + 'static {
    /// Adds a `next` key unless the track already has one; answers whether it did.
    async fn add_next_key(&self, track: &TrackRef, key: &TrackKey, audit: &AuditRecord) -> StoreResult<bool>;
    /// Makes the `next` key `kid` active and the active key retired, in one transaction;
    /// false when `kid` is no longer the next key (another instance promoted it).
    async fn promote_next_key(
        &self,
        track: &TrackRef,
        kid: &str,
        now: UnixTime,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Deletes keys retired before `before`; the audit record is written only if any was.
    async fn delete_retired_keys(&self, track: &TrackRef, before: UnixTime, audit: &AuditRecord) -> StoreResult<u64>;
}
