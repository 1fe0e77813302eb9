//! Tenants: isolated customer spaces, each created with its `master` track.

use ferrid_oauth::name::Name;
use serde_json::{Value, json};

use super::{Caller, MASTER, ManageError, ManageResult, Manager, input::Fields, path_name, tracks};
use crate::{
    model::{Tenant, TrackSettings},
    store::PageRequest,
};

impl Manager {
    pub async fn list_tenants(&self, caller: &Caller, page: &PageRequest) -> ManageResult<Vec<Tenant>> {
        match caller {
            Caller::Admin { .. } => self
                .stores
                .tenants
                .list_tenants(page)
                .await
                .map_err(|e| ManageError::from_store(e, || "tenants".into())),
            Caller::Tenant { tenant, .. } => {
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

    pub async fn get_tenant(&self, caller: &Caller, tenant: &str) -> ManageResult<Tenant> {
        caller.check_tenant(tenant)?;
        let name = path_name("tenant", tenant)?;
        self.stores
            .tenants
            .get_tenant(&name)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{tenant}'")))
    }

    /// `POST /tenants` with `{"name"}`: the tenant, its `master` track and that track's
    /// `ferrid-api` resource (scope `tenant`), in one transaction.
    pub async fn create_tenant(&self, caller: &Caller, body: &Value) -> ManageResult<Tenant> {
        caller.require_admin()?;
        let mut f = Fields::of(body)?;
        let name = f.name("name");
        f.finish()?;
        let name: Name = name.ok_or_else(|| ManageError::field("name", "is required"))?;
        let now = self.now();
        let tenant = Tenant { name: name.clone(), created: now };
        let resource = tracks::management_resource(&name, &["tenant"], now);
        let master = tracks::new_track(
            self,
            &name,
            &Name::parse(MASTER).expect("valid"),
            TrackSettings::default(),
            vec![(resource, Vec::new())],
        )
        .await?;
        // creating and deleting tenants is recorded in the master tenant's log
        let audit = self.audit(
            caller,
            MASTER,
            "tenant.create",
            format!("tenants/{name}"),
            json!({ "after": { "name": name } }),
        );
        self.stores
            .tenants
            .create_tenant(&tenant, &master, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{name}'")))?;
        self.refresh_track(&name, MASTER).await?;
        Ok(tenant)
    }

    pub async fn delete_tenant(&self, caller: &Caller, tenant: &str) -> ManageResult<()> {
        caller.require_admin()?;
        let t = self.get_tenant(caller, tenant).await?;
        if t.name.as_str() == MASTER {
            return Err(ManageError::Protected("the master tenant cannot be deleted".into()));
        }
        let audit = self.audit(
            caller,
            MASTER,
            "tenant.delete",
            format!("tenants/{tenant}"),
            json!({ "before": { "name": tenant } }),
        );
        self.stores
            .tenants
            .delete_tenant(&t.name, &audit)
            .await
            .map_err(|e| ManageError::from_store(e, || format!("tenant '{tenant}'")))?;
        self.forget_tenant(&t.name).await;
        Ok(())
    }
}
