//! The background tasks of an instance, in one place, with one shutdown signal.
//!
//! Every periodic or long-running task (key rotation, audit retention, the replay-guard
//! purge, the change watcher, the failed-authentication reporter) is started through one
//! [`Jobs`] handle. [`Jobs::shutdown`] raises the signal and waits for the tasks to end:
//! a periodic task finishes the round it is in and runs no other; any other task is
//! stopped at its next await point. A task still running after [`JOIN_TIMEOUT`] is
//! aborted, so a stuck store call cannot hold the process.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{sync::watch, task::JoinHandle};

use crate::{env::Clock, observe::Observer};

/// How long [`Jobs::shutdown`] waits for each task before aborting it.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The handle that starts background tasks and stops them together.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    /// Told of every round of a periodic task, timed on the clock (`/metrics`).
    observer: Option<(Arc<dyn Observer>, Arc<dyn Clock>)>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs { stop: watch::Sender::new(false), tasks: Mutex::default(), observer: None }
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.lock().iter().map(|(n, _)| *n).collect();
        f.debug_struct("Jobs").field("tasks", &names).field("stopping", &*self.stop.borrow()).finish()
    }
}

/// Resolves once shutdown is signalled (never, if the [`Jobs`] handle is dropped
/// without signalling: tasks then live as long as the runtime, as before).
async fn stopped(mut rx: watch::Receiver<bool>) {
    if rx.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Jobs {
    /// Jobs whose periodic rounds are reported to `observer`, timed on `clock`.
    pub fn observed(observer: Arc<dyn Observer>, clock: Arc<dyn Clock>) -> Jobs {
        Jobs { observer: Some((observer, clock)), ..Jobs::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, JoinHandle<()>)>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `task` until it ends or shutdown is signalled.
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.subscribe();
        let handle = tokio::spawn(async move {
            tokio::select! {
                () = task => {}
                () = stopped(stop) => {}
            }
        });
        self.lock().push((name, handle));
    }

    /// Runs `round` every `period` (the first at once) until shutdown is signalled; a
    /// round in progress is finished, not cut.
    pub fn every<F, Fut>(&self, name: &'static str, period: Duration, mut round: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.subscribe();
        let observer = self.observer.clone();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            let stop = stopped(stop);
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let started = observer.as_ref().map(|(_, clock)| clock.monotonic());
                        round().await;
                        if let (Some((o, clock)), Some(started)) = (&observer, started) {
                            o.job_round(name, clock.monotonic().saturating_sub(started));
                        }
                    }
                    () = &mut stop => return,
                }
            }
        });
        self.lock().push((name, handle));
    }

    /// A receiver that turns `true` when shutdown is signalled, for a task that stops
    /// itself at a point of its choosing.
    pub fn signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Whether shutdown has been signalled.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// The names of the tasks started and not yet joined.
    pub fn names(&self) -> Vec<&'static str> {
        self.lock().iter().map(|(n, _)| *n).collect()
    }

    /// Signals shutdown and waits for every task to end ([`JOIN_TIMEOUT`] each, then it
    /// is aborted). Tasks started afterwards stop at once.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.lock());
        for (name, mut handle) in tasks {
            match tokio::time::timeout(JOIN_TIMEOUT, &mut handle).await {
                Ok(Ok(())) => tracing::debug!(job = name, "background task stopped"),
                Ok(Err(e)) => tracing::warn!(job = name, error = %e, "background task failed"),
                Err(_) => {
                    handle.abort();
                    tracing::warn!(job = name, "background task did not stop in time; aborted");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    /// A round that waits `busy` and then counts itself.
    fn counting(count: &Arc<AtomicUsize>, busy: Duration) -> impl FnMut() -> BoxedRound + Send + 'static {
        let count = Arc::clone(count);
        move || {
            let count = Arc::clone(&count);
            Box::pin(async move {
                tokio::time::sleep(busy).await;
                count.fetch_add(1, Ordering::Relaxed);
            })
        }
    }

    type BoxedRound = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_periodic_and_long_running_tasks_and_joins_them() {
        let jobs = Jobs::default();
        let rounds = Arc::new(AtomicUsize::new(0));
        jobs.every("count", Duration::from_secs(10), counting(&rounds, Duration::ZERO));
        jobs.spawn("forever", std::future::pending());
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(rounds.load(Ordering::Relaxed), 3, "at 0 s, 10 s and 20 s");
        assert_eq!(jobs.names(), ["count", "forever"]);
        jobs.shutdown().await;
        assert!(jobs.is_stopping() && jobs.names().is_empty());
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(rounds.load(Ordering::Relaxed), 3, "no round after shutdown");
    }

    #[tokio::test(start_paused = true)]
    async fn a_round_in_progress_finishes_before_shutdown_returns() {
        let jobs = Jobs::default();
        let done = Arc::new(AtomicUsize::new(0));
        jobs.every("slow", Duration::from_secs(60), counting(&done, Duration::from_secs(1)));
        tokio::task::yield_now().await;
        jobs.shutdown().await;
        assert_eq!(done.load(Ordering::Relaxed), 1);
    }

    /// Remembers each reported round.
    #[derive(Default)]
    struct Rounds(Mutex<Vec<(&'static str, Duration)>>);

    impl Observer for Rounds {
        fn job_round(&self, name: &'static str, took: Duration) {
            self.0.lock().unwrap().push((name, took));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_round_of_a_periodic_job_is_reported_with_its_duration() {
        let clock = Arc::new(crate::env::FakeClock::new(0));
        let observer = Arc::new(Rounds::default());
        let jobs = Jobs::observed(observer.clone(), clock.clone());
        let advancing = {
            let clock = clock.clone();
            move || {
                let clock = clock.clone();
                Box::pin(async move { clock.advance(Duration::from_millis(40)) }) as BoxedRound
            }
        };
        jobs.every("tick", Duration::from_secs(10), advancing);
        jobs.spawn("forever", std::future::pending());
        tokio::time::sleep(Duration::from_secs(15)).await;
        jobs.shutdown().await;
        let seen = observer.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            [("tick", Duration::from_millis(40)); 2],
            "rounds at 0 s and 10 s; none for a long-running task"
        );
    }
}
