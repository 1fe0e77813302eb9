//! Tenants: isolated customer spaces, each created with its `master` track.

use ferrid_oauth::name::Name;
use serde_json::json;

use super::{
    Caller, MASTER, ManageError, ManageResult, Manager, Scope, SystemScope, TenantScope, request::NewTenant, tracks,
};
use crate::{
    model::{Tenant, TrackSettings},
    store::PageRequest,
};

impl Manager {
    /// Every tenant for an administrator; a tenant administrator's own alone.
    pub async fn list_tenants(&self, caller: &Caller, page: &PageRequest) -> ManageResult<Vec<Tenant>> {
        match caller.scope() {
            Scope::System(_) => self
                .stores
                .tenants
                .list_tenants(page)
                .await
                .map_err(|e| ManageError::from_store(e, || "tenants".into())),
            Scope::Tenant(tenant) => {
                let own = self
                    .stores
                    .tenants
                    .get_tenant(tenant)
                    .await
                    .map_err(|e| ManageError::from_store(e, || format!("tenant '{tenant}'")))?;
                let after_own = page.after.as_deref().is_some_and(|a| a >= own.name.as_str());
                Ok(if after_own { Vec::new() } else { vec![own] })
            }
        }
    }

    pub async fn get_tenant(&self, scope: &TenantScope<'_>) -> ManageResult<Tenant> {
        let name = scope.name();
        self.stores
            .tenants
            .get_tenant(name)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{name}'")))
    }

    /// `POST /tenants` with `{"name"}`: the tenant, its `master` track and that track's
    /// `ferrid-api` resource (scope `tenant`), in one transaction.
    pub async fn create_tenant(&self, scope: &SystemScope<'_>, body: ManageResult<NewTenant>) -> ManageResult<Tenant> {
        let name = body?.name;
        let now = self.now();
        let tenant = Tenant { name: name.clone(), created: now };
        let resource = tracks::management_resource(&name, &["tenant"], now);
        let master = tracks::new_track(
            self,
            &name,
            &Name::parse(MASTER).expect("valid"),
            TrackSettings::default(),
            vec![(resource, Vec::new()), (super::bootstrap::console_client(self, &name, now), Vec::new())],
        )
        .await?;
        // creating and deleting tenants is recorded in the master tenant's log
        let details = json!({ "after": { "name": name } });
        let audit = self.audit(scope.caller(), MASTER, "tenant.create", format!("tenants/{name}"), details);
        self.stores
            .tenants
            .create_tenant(&tenant, &master, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{name}'")))?;
        self.refresh_track(&name, MASTER).await?;
        Ok(tenant)
    }

    /// `DELETE /tenants/{tenant}` (administrators only; never the master tenant).
    pub async fn delete_tenant(&self, scope: &SystemScope<'_>, tenant: &str) -> ManageResult<()> {
        let t = self.get_tenant(&scope.tenant(tenant)?).await?;
        if t.name.as_str() == MASTER {
            return Err(ManageError::Protected("the master tenant cannot be deleted".into()));
        }
        let details = json!({ "before": { "name": tenant } });
        let audit = self.audit(scope.caller(), MASTER, "tenant.delete", format!("tenants/{tenant}"), details);
        self.stores
            .tenants
            .delete_tenant(&t.name, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{tenant}'")))?;
        self.forget_tenant(&t.name).await;
        Ok(())
    }
}
