use async_trait::async_trait;
use ferrid_oauth::name::Name;

use super::StoreResult;
use crate::{
    audit::{AuditEntry, AuditQuery, AuditRecord},
    model::UnixTime,
};

/// The per-tenant audit log. Changes write their record through their own port method,
/// inside their transaction; this port appends records outside any change and reads.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends records outside any change (failed client authentications).
    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()>;
    /// One page of a tenant's log.
    async fn list_audit(&self, tenant: &Name, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes records older than `before` (retention).
    async fn purge_audit(&self, before: UnixTime) -> StoreResult<u64>;
}
