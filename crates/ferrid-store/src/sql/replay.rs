//! The client-assertion replay guard (`ReplayGuard`): the backend decides a `jti`
//! (`record_jti`: the table on PostgreSQL, memory then the table on SQLite).

#[macro_export]
macro_rules! sql_replay {
    ($store:ident) => {
        #[async_trait]
        impl ReplayGuard for $store {
            async fn use_jti(&self, client: &AppRef, jti: &str, exp: UnixTime, now: UnixTime) -> StoreResult<bool> {
                let pool = &*self.enter(StorePort::ReplayGuard);
                self.record_jti(pool, client, jti, exp, now).await
            }

            async fn purge_jtis(&self, now: UnixTime) -> StoreResult<u64> {
                let purged = self.purge(StorePort::ReplayGuard, "DELETE FROM used_jtis WHERE exp < $1", now).await?;
                Ok(self.forget_jtis_before(now).unwrap_or(purged))
            }
        }
    };
}
