//! The login lockout's failure counters (`LoginGuard`).

/// Counts one failure on a counter and answers its `locked_until`, in one statement
/// (atomic on both backends). `$1` tenant, `$2` track, `$3` counter, `$4` now, `$5`
/// threshold, `$6` first lockout (s), `$7` forget after (s), `$8` longest lockout (s);
/// `$9`..`$11` the row of a new counter (failures, locked_until, next_lock). A counter
/// quiet for `$7` starts afresh (failures and lockout length); reaching the threshold
/// locks it for `next_lock` from now and doubles `next_lock` up to `$8`.
pub static LOGIN_FAILED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let fresh = "($4 - login_guard.last >= $7)";
    let failures = format!("((CASE WHEN {fresh} THEN 0 ELSE login_guard.failures END) + 1)");
    let next = format!("(CASE WHEN {fresh} THEN $6 ELSE login_guard.next_lock END)");
    let locks = format!("({failures} >= $5)");
    format!(
        "INSERT INTO login_guard (tenant, track, counter, failures, locked_until, next_lock, last) \
         VALUES ($1, $2, $3, $9, $10, $11, $4) \
         ON CONFLICT (tenant, track, counter) DO UPDATE SET \
         failures = (CASE WHEN {locks} THEN 0 ELSE {failures} END), \
         locked_until = (CASE WHEN {locks} THEN $4 + {next} ELSE login_guard.locked_until END), \
         next_lock = (CASE WHEN {locks} THEN (CASE WHEN {next} * 2 > $8 THEN $8 ELSE {next} * 2 END) ELSE {next} END), \
         last = $4 \
         RETURNING locked_until"
    )
});

#[macro_export]
macro_rules! sql_login_guard {
    ($store:ident) => {
        #[async_trait]
        impl LoginGuard for $store {
            async fn login_locked(
                &self,
                at: &TrackRef,
                counters: &[String],
                now: UnixTime,
            ) -> StoreResult<Option<UnixTime>> {
                let pool = &*self.enter(StorePort::LoginGuard);
                let mut until = None;
                for counter in counters {
                    let row: Option<i64> = sqlx::query_scalar(
                        "SELECT locked_until FROM login_guard WHERE tenant = $1 AND track = $2 AND counter = $3",
                    )
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(counter)
                    .fetch_optional(pool)
                    .await
                    .map_err(map_err)?;
                    until = until.max(row.filter(|u| *u > now));
                }
                Ok(until)
            }

            async fn login_failed(
                &self,
                at: &TrackRef,
                counters: &[(String, LockRule)],
                now: UnixTime,
            ) -> StoreResult<Option<UnixTime>> {
                let pool = &*self.enter(StorePort::LoginGuard);
                let mut until = None;
                for (counter, rule) in counters {
                    let first_locks = rule.threshold <= 1;
                    let locked: i64 = sqlx::query_scalar($crate::sql::login_guard::LOGIN_FAILED.as_str())
                        .bind(at.tenant.as_str())
                        .bind(at.track.as_str())
                        .bind(counter)
                        .bind(now)
                        .bind(i64::from(rule.threshold))
                        .bind(rule.lock)
                        .bind(rule.forget)
                        .bind(rule.cap)
                        .bind(if first_locks { 0_i64 } else { 1 })
                        .bind(if first_locks { now + rule.lock } else { 0 })
                        .bind(if first_locks { (rule.lock * 2).min(rule.cap) } else { rule.lock })
                        .fetch_one(pool)
                        .await
                        .map_err(map_err)?;
                    until = until.max(Some(locked).filter(|u| *u > now));
                }
                Ok(until)
            }

            async fn login_succeeded(&self, at: &TrackRef, counters: &[String]) -> StoreResult<()> {
                let pool = &*self.enter(StorePort::LoginGuard);
                for counter in counters {
                    sqlx::query("DELETE FROM login_guard WHERE tenant = $1 AND track = $2 AND counter = $3")
                        .bind(at.tenant.as_str())
                        .bind(at.track.as_str())
                        .bind(counter)
                        .execute(pool)
                        .await
                        .map_err(map_err)?;
                }
                Ok(())
            }

            async fn purge_login_guard(&self, before: UnixTime, now: UnixTime) -> StoreResult<u64> {
                let pool = &*self.enter(StorePort::LoginGuard);
                let r = sqlx::query("DELETE FROM login_guard WHERE last < $1 AND locked_until <= $2")
                    .bind(before)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map_err(map_err)?;
                Ok(r.rows_affected())
            }
        }
    };
}
