//! Where every port method enters the SQL layer, and the step every write ends with.
//!
//! Each port method calls [`enter`](crate::sql_tx) or `begin` exactly once, first: that
//! is where `ferrid_store_calls_total` counts (a call is one port method call), so no
//! wrapper repeats the ports to count them. Every write then ends with `commit_change`:
//! the change's audit record in the same transaction (one transaction holds a change and
//! its record), the notification of the track it touched, and the commit.

#[macro_export]
macro_rules! sql_tx {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Counts one port method call and hands out the pool.
            fn enter(&self) -> &sqlx::Pool<$db> {
                self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                &self.pool
            }

            /// Counts one port method call and runs one retention `DELETE` (`sql` with the
            /// cut-off as `$1`), answering how many rows went.
            async fn purge(&self, sql: &'static str, before: i64) -> StoreResult<u64> {
                let r = sqlx::query(sql).bind(before).execute(self.enter()).await.map_err(map_err)?;
                Ok(r.rows_affected())
            }

            /// Counts one port method call and begins its transaction.
            async fn begin(&self, kind: Begin) -> StoreResult<Transaction<'_, $db>> {
                let pool = self.enter();
                Self::begin_on(pool, kind).await.map_err(map_err)
            }

            /// Ends a write: appends its audit record, tells other instances what it
            /// touched (a track, `*` for every track of the tenant, one app, or a user),
            /// and commits all three together.
            async fn commit_change(
                mut tx: Transaction<'_, $db>,
                audit: &AuditRecord,
                touched: Touched<'_>,
            ) -> StoreResult<()> {
                Self::insert_audit(&mut tx, audit).await?;
                Self::notify(&mut tx, touched).await?;
                tx.commit().await.map_err(map_err)
            }

            /// Appends a record with the next number of its tenant's log (ids are per
            /// tenant). On PostgreSQL the counter row is locked until commit, so numbers
            /// are given in commit order within a tenant.
            async fn insert_audit(tx: &mut Transaction<'_, $db>, r: &AuditRecord) -> StoreResult<()> {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO audit_counters (tenant, last) VALUES ($1, 1) \
                     ON CONFLICT (tenant) DO UPDATE SET last = audit_counters.last + 1 RETURNING last",
                )
                .bind(&r.tenant)
                .fetch_one(&mut **tx)
                .await
                .map_err(map_err)?;
                sqlx::query(
                    "INSERT INTO audit_log (seq, tenant, at, actor, action, target, source, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(seq)
                .bind(&r.tenant)
                .bind(r.at)
                .bind(&r.actor)
                .bind(&r.action)
                .bind(&r.target)
                .bind(r.source.as_deref())
                .bind(r.details.to_string())
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            /// Locks the track row for the rest of the transaction (key rotation steps by
            /// several instances serialise here); NotFound when the track is gone.
            async fn lock_track(tx: &mut Transaction<'_, $db>, at: &TrackRef) -> StoreResult<()> {
                sqlx::query(Self::LOCK_TRACK)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .fetch_one(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            /// Locks the app row for the rest of the transaction (limits are counted then
            /// inserted); NotFound when the app does not exist.
            async fn lock_app(tx: &mut Transaction<'_, $db>, at: &AppRef) -> StoreResult<()> {
                sqlx::query(Self::LOCK_APP)
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .fetch_one(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }
        }
    };
}
