//! The shared failed-authentication buckets (`FailureBuckets`).

/// Takes tokens from one shared failure bucket and answers its level, in one statement
/// (atomic on both backends). `$1` bucket, `$2` level of a new bucket, `$3` now (ms),
/// `$4` refill per ms, `$5` burst, `$6` tokens taken. A clock behind the stored time
/// refills nothing; the level never goes below zero or above the burst.
pub static TAKE_AUTH_FAILURES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let elapsed = "(CASE WHEN $3 > auth_failures.at THEN $3 - auth_failures.at ELSE 0 END)";
    let refilled = format!("(auth_failures.tokens + {elapsed} * $4)");
    let capped = format!("(CASE WHEN {refilled} > $5 THEN $5 ELSE {refilled} END)");
    format!(
        "INSERT INTO auth_failures (bucket, tokens, at) VALUES ($1, $2, $3) \
         ON CONFLICT (bucket) DO UPDATE SET \
         tokens = (CASE WHEN {capped} - $6 < 0.0 THEN 0.0 ELSE {capped} - $6 END), \
         at = (CASE WHEN $3 > auth_failures.at THEN $3 ELSE auth_failures.at END) \
         RETURNING tokens"
    )
});

#[macro_export]
macro_rules! sql_failures {
    ($store:ident) => {
        #[async_trait]
        impl FailureBuckets for $store {
            async fn take_auth_failures(
                &self,
                buckets: &[(String, u32)],
                burst: f64,
                refill_per_ms: f64,
                now_ms: i64,
            ) -> StoreResult<Vec<f64>> {
                let pool = &*self.enter(StorePort::FailureBuckets);
                let mut levels = Vec::with_capacity(buckets.len());
                for (bucket, count) in buckets {
                    let count = f64::from(*count);
                    let level: f64 = sqlx::query_scalar($crate::sql::failures::TAKE_AUTH_FAILURES.as_str())
                        .bind(bucket)
                        .bind((burst - count).max(0.0))
                        .bind(now_ms)
                        .bind(refill_per_ms)
                        .bind(burst)
                        .bind(count)
                        .fetch_one(pool)
                        .await
                        .map_err(map_err)?;
                    levels.push(level);
                }
                Ok(levels)
            }

            async fn purge_auth_failures(&self, before_ms: i64) -> StoreResult<u64> {
                self.purge(StorePort::FailureBuckets, "DELETE FROM auth_failures WHERE at < $1", before_ms).await
            }
        }
    };
}
