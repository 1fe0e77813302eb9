//! Liveness, change subscription, the call counter and its observer (`Health`).

#[macro_export]
macro_rules! sql_health {
    ($store:ident) => {
        #[async_trait]
        impl Health for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&*self.enter(StorePort::Health)).await.map(|_| ()).map_err(map_err)
            }

            fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
                self.changes()
            }

            fn calls(&self) -> u64 {
                self.calls.count()
            }

            fn observe_calls(
                &self,
                observer: std::sync::Arc<dyn ferrid_core::observe::Observer>,
                clock: std::sync::Arc<dyn ferrid_core::env::Clock>,
            ) {
                self.calls.observe(observer, clock)
            }
        }
    };
}
