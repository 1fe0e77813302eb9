use std::sync::Arc;

use async_trait::async_trait;

use super::{Change, StoreResult};
use crate::{env::Clock, observe::Observer};

/// The store as a whole: liveness, changes made by other instances, how many port
/// method calls this process has made (`ferrid_store_calls_total`) and whom to tell how
/// long each took (`ferrid_store_call_duration_seconds`).
#[async_trait]
pub trait Health: Send + Sync + 'static {
    /// Liveness of the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Changes made by any instance sharing this store, for keeping the snapshot fresh.
    /// `None` when this process is the only writer (the embedded store).
    fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
        None
    }

    /// Port method calls made so far through this store, every port counted (`ping`
    /// included, `subscribe` and this one not). Counted where each call enters the SQL
    /// layer, so the token hot path can be shown to make none.
    fn calls(&self) -> u64;

    /// Reports the time of every later port method call to `observer`
    /// ([`Observer::store_call`]), timed on `clock`'s monotonic reading where the call
    /// is counted (the first observer set wins; `calls` is counted either way).
    fn observe_calls(&self, observer: Arc<dyn Observer>, clock: Arc<dyn Clock>);
}
