//! Liveness, change subscription and the call counter (`Health`).

#[macro_export]
macro_rules! sql_health {
    ($store:ident) => {
        #[async_trait]
        impl Health for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(self.enter()).await.map(|_| ()).map_err(map_err)
            }

            fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
                self.changes()
            }

            fn calls(&self) -> u64 {
                self.calls.load(std::sync::atomic::Ordering::Relaxed)
            }
        }
    };
}
