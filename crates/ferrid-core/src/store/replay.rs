use async_trait::async_trait;

use super::{AppRef, StoreResult};
use crate::model::UnixTime;

/// The client-assertion replay guard (RFC 7523 §3 item 7), shared by every instance.
#[async_trait]
pub trait ReplayGuard: Send + Sync + 'static {
    /// Records `jti` for `client` until `exp` and answers whether it was new; the record
    /// is durable before the answer. For an assertion, `exp` is its own `exp` plus the
    /// verifier's leeway, the last moment it could be accepted. Entries past `now` may be
    /// used again.
    async fn use_jti(&self, client: &AppRef, jti: &str, exp: UnixTime, now: UnixTime) -> StoreResult<bool>;
    /// Deletes entries that expired before `now`.
    async fn purge_jtis(&self, now: UnixTime) -> StoreResult<u64>;
}
