//! Tenants (`TenantStore`).

#[macro_export]
macro_rules! sql_tenants {
    ($store:ident) => {
        #[async_trait]
        impl TenantStore for $store {
            async fn has_tenants(&self) -> StoreResult<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
                    .fetch_one(&*self.enter(StorePort::Tenant))
                    .await
                    .map_err(map_err)?;
                Ok(n > 0)
            }

            async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Vec<Tenant>> {
                const SQL: &str = "SELECT name, created FROM tenants WHERE name > $1 ORDER BY name LIMIT $2";
                self.page(StorePort::Tenant, SQL, &[], page, Self::tenant_row).await
            }

            async fn get_tenant(&self, tenant: &Name) -> StoreResult<Tenant> {
                let r = sqlx::query("SELECT name, created FROM tenants WHERE name = $1")
                    .bind(tenant.as_str())
                    .fetch_one(&*self.enter(StorePort::Tenant))
                    .await
                    .map_err(map_err)?;
                Self::tenant_row(&r)
            }

            async fn create_tenant(&self, tenant: &Tenant, master: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Tenant, Begin::Write).await?;
                sqlx::query("INSERT INTO tenants (name, created) VALUES ($1, $2)")
                    .bind(tenant.name.as_str())
                    .bind(tenant.created)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                Self::insert_track(&mut tx, master).await?;
                Self::commit_change(tx, audit, Touched::Track(&tenant.name, &master.track.name)).await
            }

            async fn delete_tenant(&self, tenant: &Name, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Tenant, Begin::Write).await?;
                // the tenant's own log goes with it; its deletion is recorded in
                // `audit.tenant`'s log
                for (i, sql) in [
                    "DELETE FROM tenants WHERE name = $1",
                    "DELETE FROM audit_log WHERE tenant = $1",
                    "DELETE FROM audit_counters WHERE tenant = $1",
                ]
                .into_iter()
                .enumerate()
                {
                    let r = sqlx::query(sql).bind(tenant.as_str()).execute(&mut *tx).await.map_err(map_err)?;
                    if i == 0 {
                        changed(r.rows_affected())?;
                    }
                }
                Self::commit_change(tx, audit, Touched::Track(tenant, "*")).await
            }
        }
    };
}
