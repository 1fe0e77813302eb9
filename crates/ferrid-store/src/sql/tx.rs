//! Where every port method enters the SQL layer, and the step every write ends with.
//!
//! Each port method calls [`enter`](crate::sql_tx) or `begin` exactly once, first, naming
//! its port: that is where `ferrid_store_calls_total` counts (a call is one port method
//! call), so no wrapper repeats the ports to count them, and where the call's timer
//! starts ([`Call`]). The timer stops when the method lets go of what `enter` or `begin`
//! handed out — the pool at the end of its statement or block, the transaction's
//! [`Call`] at the end of the method, after the commit — and the time is reported to
//! the observer, if any (`ferrid_store_call_duration_seconds`, docs/operations.md).
//! Every write then ends with `commit_change`: the change's audit record in the same
//! transaction (one transaction holds a change and its record), the notification of the
//! track it touched, and the commit.

use std::{
    ops::Deref,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use ferrid_core::{
    env::Clock,
    observe::{Observer, StorePort},
};

/// Whom a store tells how long its calls took, and the clock it times them on.
type Watch = (Arc<dyn Observer>, Arc<dyn Clock>);

/// The port method calls of a store: counted always (`Health::calls`), timed once
/// observed (`Health::observe_calls`).
#[derive(Default)]
pub struct Calls {
    count: AtomicU64,
    watch: OnceLock<Watch>,
}

impl Calls {
    /// Counts one call through `port` and starts its timer.
    pub fn start(&self, port: StorePort) -> Call<'_> {
        self.count.fetch_add(1, Relaxed);
        Call { port, timer: self.watch.get().map(|w| (w, w.1.monotonic())) }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Times every later call and reports it to `observer` (the first one set wins).
    pub fn observe(&self, observer: Arc<dyn Observer>, clock: Arc<dyn Clock>) {
        let _ = self.watch.set((observer, clock));
    }
}

/// One port method call under way: reported to the observer, with the time since it
/// was counted, when dropped.
#[must_use = "the call's time is taken when this is dropped"]
pub struct Call<'a> {
    port: StorePort,
    timer: Option<(&'a Watch, Duration)>,
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if let Some(((observer, clock), started)) = self.timer {
            observer.store_call(self.port, clock.monotonic().saturating_sub(started));
        }
    }
}

/// The pool, handed to one port method call: the call is timed until this is dropped.
pub struct Entered<'a, DB: sqlx::Database> {
    pool: &'a sqlx::Pool<DB>,
    _call: Call<'a>,
}

impl<'a, DB: sqlx::Database> Entered<'a, DB> {
    pub fn new(pool: &'a sqlx::Pool<DB>, call: Call<'a>) -> Self {
        Entered { pool, _call: call }
    }
}

impl<DB: sqlx::Database> Deref for Entered<'_, DB> {
    type Target = sqlx::Pool<DB>;

    fn deref(&self) -> &sqlx::Pool<DB> {
        self.pool
    }
}

#[macro_export]
macro_rules! sql_tx {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Counts one call through `port` and hands out the pool, timed until dropped:
            /// `&*self.enter(port)` in the call's one statement, or bound for its block.
            fn enter(&self, port: StorePort) -> $crate::sql::tx::Entered<'_, $db> {
                $crate::sql::tx::Entered::new(&self.pool, self.calls.start(port))
            }

            /// Counts one call through `port` and runs one retention `DELETE` (`sql` with
            /// the cut-off as `$1`), answering how many rows went.
            async fn purge(&self, port: StorePort, sql: &'static str, before: i64) -> StoreResult<u64> {
                let r = sqlx::query(sql).bind(before).execute(&*self.enter(port)).await.map_err(map_err)?;
                Ok(r.rows_affected())
            }

            /// Counts one call through `port` and begins its transaction; the call is
            /// timed until the [`Call`](crate::sql::tx::Call) is dropped, so the method
            /// binds it for its whole body: `let (mut tx, _call) = self.begin(…)`.
            async fn begin(
                &self,
                port: StorePort,
                kind: Begin,
            ) -> StoreResult<(Transaction<'_, $db>, $crate::sql::tx::Call<'_>)> {
                let call = self.calls.start(port);
                let tx = Self::begin_on(&self.pool, kind).await.map_err(map_err)?;
                Ok((tx, call))
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
