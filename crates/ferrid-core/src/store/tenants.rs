use async_trait::async_trait;
use ferrid_oauth::name::Name;

use super::{NewTrack, PageRequest, StoreResult};
use crate::{audit::AuditRecord, model::Tenant};

/// Tenants: the top of every tenant-scoped path.
#[async_trait]
pub trait TenantStore: Send + Sync + 'static {
    async fn has_tenants(&self) -> StoreResult<bool>;
    async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Vec<Tenant>>;
    async fn get_tenant(&self, tenant: &Name) -> StoreResult<Tenant>;
    /// Creates a tenant together with its `master` track, in one transaction.
    async fn create_tenant(&self, tenant: &Tenant, master: &NewTrack, audit: &AuditRecord) -> StoreResult<()>;
    /// Deletes the tenant, everything in it and its own audit log; `audit` goes to the
    /// log of `audit.tenant`.
    async fn delete_tenant(&self, tenant: &Name, audit: &AuditRecord) -> StoreResult<()>;
}
