//! The per-tenant audit log (`AuditLog`); a change's own record is written by
//! `commit_change` ([`super::tx`]).

#[macro_export]
macro_rules! sql_audit {
    ($store:ident, $db:ty) => {
        #[async_trait]
        impl AuditLog for $store {
            async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
                // Counter rows are locked in tenant order, so two batches never wait on
                // each other in a cycle; the sort is stable, keeping each tenant's records
                // in order.
                let mut sorted: Vec<&AuditRecord> = records.iter().collect();
                sorted.sort_by(|a, b| a.tenant.cmp(&b.tenant));
                let (mut tx, _call) = self.begin(StorePort::AuditLog, Begin::Write).await?;
                for r in sorted {
                    Self::insert_audit(&mut tx, r).await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn list_audit(&self, tenant: &Name, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
                let mut sql = sqlx::QueryBuilder::<$db>::new("SELECT * FROM audit_log WHERE tenant = ");
                sql.push_bind(tenant.as_str());
                if let Some(a) = &q.action {
                    sql.push(" AND action = ").push_bind(a);
                }
                if let Some(a) = &q.actor {
                    sql.push(" AND actor = ").push_bind(a);
                }
                if let Some(t) = &q.target {
                    // a prefix match that needs no LIKE escaping
                    sql.push(" AND substr(target, 1, ")
                        .push_bind(i32::try_from(t.chars().count()).unwrap_or(i32::MAX))
                        .push(") = ")
                        .push_bind(t);
                }
                if let Some(t) = q.since {
                    sql.push(" AND at >= ").push_bind(t);
                }
                if let Some(t) = q.until {
                    sql.push(" AND at < ").push_bind(t);
                }
                let (cmp, order) = match q.order {
                    ferrid_core::audit::Order::Desc => (" < ", " ORDER BY seq DESC"),
                    ferrid_core::audit::Order::Asc => (" > ", " ORDER BY seq ASC"),
                };
                if let Some(id) = q.after {
                    sql.push(" AND seq").push(cmp).push_bind(id);
                }
                sql.push(order).push(" LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
                sql.build()
                    .fetch_all(&*self.enter(StorePort::AuditLog))
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(Self::audit_row)
                    .collect()
            }

            async fn purge_audit(&self, before: UnixTime) -> StoreResult<u64> {
                self.purge(StorePort::AuditLog, "DELETE FROM audit_log WHERE at < $1", before).await
            }
        }
    };
}
