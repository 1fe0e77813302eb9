//! Prometheus metrics (docs/operations.md "Metrics").
//!
//! One [`Metrics`] per server and no global recorder: a `metrics-exporter-prometheus`
//! recorder is built, never installed, and rendered by our own `/metrics` handler
//! ([`Metrics::render`]). Every handle a request touches is registered ahead, or on its
//! first use behind a `OnceLock`, so that recording on the request path is an atomic
//! increment or a histogram push (lock-free): never a registry lookup, a lock or a label
//! string built per request (docs/ARCHITECTURE.md "Invariants"). Values that live
//! elsewhere already (the count of store calls, throttle buckets, open connections, the
//! process's figures) are read when scraped; the store reports each call's time as an
//! [`Observer`].
//!
//! # Layout
//! - [`http`]: request counts and latencies per route template, the [`http::Timed`]
//!   handler wrapper of the protocol routes and the middleware of the others.
//! - `process`: CPU, memory and descriptors from `/proc/self`.

pub mod http;
mod process;

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicI64, Ordering::Relaxed},
    },
    time::Duration,
};

use ferrid_core::{
    env::Clock,
    observe::{Observer, Reload, StorePort},
};
use ferrid_oauth::ErrorCode;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::{AppState, access_log::AccessLog, connections::InUse};

/// Buckets (seconds) of every latency histogram: from a cached signature to a slow store.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const METADATA: Metadata<'static> = Metadata::new("ferrid", Level::INFO, None);

/// The `grant` label of the token endpoint's outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
    /// Missing, unsupported, or not readable.
    Other,
}

impl Grant {
    const ALL: [Grant; 4] = [Grant::ClientCredentials, Grant::AuthorizationCode, Grant::RefreshToken, Grant::Other];

    pub const fn as_str(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::Other => "other",
        }
    }

    /// The `grant_type` of a token request's form body, read without decoding or
    /// allocating (the grants ferrid supports need no percent-encoding, RFC 6749 §A.10).
    pub fn of_body(body: &[u8]) -> Grant {
        let value = body.split(|b| *b == b'&').find_map(|pair| pair.strip_prefix(b"grant_type="));
        match value {
            Some(b"client_credentials") => Grant::ClientCredentials,
            Some(b"authorization_code") => Grant::AuthorizationCode,
            Some(b"refresh_token") => Grant::RefreshToken,
            _ => Grant::Other,
        }
    }
}

/// More than the RFC error codes `ErrorCode` has; a code past it is counted as `other`.
const ERROR_SLOTS: usize = 32;

struct GrantMetrics {
    issued: Counter,
    errors: [OnceLock<Counter>; ERROR_SLOTS],
}

/// Values copied in at each scrape from where they live.
struct Scraped {
    store_calls: Counter,
    tracks: Gauge,
    reports_dropped: Counter,
    throttle_buckets: Gauge,
    slow_checks: Counter,
    open_connections: Gauge,
    snapshot_age: Gauge,
}

/// The server's metrics: the recorder, its handles, and what the scrape reads.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    clock: Arc<dyn Clock>,
    pub(crate) routes: http::RouteTable,
    grants: [GrantMetrics; 4],
    /// Connections answered 429 and closed: `[at the server's limit, at the source's]`.
    pub(crate) refused: [Counter; 2],
    in_use: OnceLock<InUse>,
    last_reload: AtomicI64,
    scraped: Scraped,
    /// `/metrics` is served on its own listener (`--metrics-listen`), not the public one.
    pub(crate) apart: bool,
    access_log: OnceLock<AccessLog>,
    /// `ferrid_store_call_duration_seconds` by port, registered on first use.
    store_calls: [OnceLock<Histogram>; StorePort::ALL.len()],
}

impl Metrics {
    pub fn new(clock: Arc<dyn Clock>, apart: bool) -> Metrics {
        let recorder = PrometheusBuilder::new().set_buckets(&BUCKETS).expect("buckets are not empty").build_recorder();
        let handle = recorder.handle();
        describe(&recorder);
        let reg = Registrar(&recorder);
        let grants = Grant::ALL.map(|g| GrantMetrics {
            issued: reg.counter("ferrid_tokens_issued_total", vec![Label::from_static_parts("grant", g.as_str())]),
            errors: std::array::from_fn(|_| OnceLock::new()),
        });
        let refused = ["server", "source"]
            .map(|l| reg.counter("ferrid_connections_refused_total", vec![Label::from_static_parts("limit", l)]));
        let scraped = Scraped {
            store_calls: reg.counter("ferrid_store_calls_total", vec![]),
            tracks: reg.gauge("ferrid_tracks", vec![]),
            reports_dropped: reg.counter("ferrid_auth_failure_reports_dropped_total", vec![]),
            throttle_buckets: reg.gauge("ferrid_throttle_buckets", vec![]),
            slow_checks: reg.counter("ferrid_slow_secret_checks_total", vec![]),
            open_connections: reg.gauge("ferrid_open_connections", vec![]),
            snapshot_age: reg.gauge("ferrid_snapshot_age_seconds", vec![]),
        };
        reg.gauge("ferrid_build_info", vec![Label::from_static_parts("version", env!("CARGO_PKG_VERSION"))]).set(1.0);
        let routes = http::RouteTable::new(&reg);
        Metrics {
            grants,
            refused,
            scraped,
            routes,
            clock,
            apart,
            in_use: OnceLock::new(),
            last_reload: AtomicI64::new(0),
            access_log: OnceLock::new(),
            store_calls: std::array::from_fn(|_| OnceLock::new()),
            recorder,
            handle,
        }
    }

    fn registrar(&self) -> Registrar<'_> {
        Registrar(&self.recorder)
    }

    /// Counts a token request's outcome: issued, or refused with an RFC 6749 §5.2 code.
    pub fn token_outcome(&self, grant: Grant, outcome: Result<(), ErrorCode>) {
        let g = &self.grants[grant as usize];
        match outcome {
            Ok(()) => g.issued.increment(1),
            Err(code) => {
                let (slot, label) = match g.errors.get(code as usize) {
                    Some(slot) => (slot, code.as_str()),
                    None => (&g.errors[ERROR_SLOTS - 1], "other"),
                };
                slot.get_or_init(|| {
                    let labels = vec![
                        Label::from_static_parts("grant", grant.as_str()),
                        Label::from_static_parts("error", label),
                    ];
                    self.registrar().counter("ferrid_token_errors_total", labels)
                })
                .increment(1);
            }
        }
    }

    /// The listener's connection slots, read at each scrape.
    pub(crate) fn watch_connections(&self, in_use: InUse) {
        let _ = self.in_use.set(in_use);
    }

    /// Starts writing the access log (once; a second call is ignored).
    pub(crate) fn set_access_log(&self, log: AccessLog) {
        let _ = self.access_log.set(log);
    }

    pub(crate) fn access_log(&self) -> Option<&AccessLog> {
        self.access_log.get()
    }

    /// The counter of access-log lines dropped because the writer fell behind.
    pub(crate) fn access_log_dropped(&self) -> Counter {
        self.registrar().counter("ferrid_access_log_dropped_total", vec![])
    }

    /// Histograms are drained into their buckets here as well as at each scrape, so that
    /// samples do not pile up when nobody scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition text (Prometheus text format 0.0.4), with the scraped values read now.
    pub fn render(&self, state: &AppState) -> String {
        let s = &self.scraped;
        s.store_calls.absolute(state.stores.health.calls());
        s.tracks.set(state.manager.registry().track_count() as f64);
        s.reports_dropped.absolute(state.throttle.dropped_reports());
        s.throttle_buckets.set(state.throttle.buckets() as f64);
        s.slow_checks.absolute(state.throttle.slow().checks());
        if let Some(in_use) = self.in_use.get() {
            s.open_connections.set(in_use.open() as f64);
        }
        let last = self.last_reload.load(Relaxed);
        if last > 0 {
            s.snapshot_age.set((state.clock_now() - last).max(0) as f64);
        }
        process::record(&self.registrar());
        self.handle.render()
    }
}

impl Observer for Metrics {
    fn snapshot_reloaded(&self, kind: Reload, took: Duration, ok: bool) {
        let reg = self.registrar();
        let kind_label = Label::from_static_parts("kind", kind.as_str());
        let result = Label::from_static_parts("result", if ok { "ok" } else { "failed" });
        reg.counter("ferrid_snapshot_reloads_total", vec![kind_label.clone(), result]).increment(1);
        reg.histogram("ferrid_snapshot_reload_duration_seconds", vec![kind_label]).record(took.as_secs_f64());
        if ok {
            self.last_reload.store(self.clock.now(), Relaxed);
        }
    }

    fn job_round(&self, name: &'static str, took: Duration) {
        let reg = self.registrar();
        reg.counter("ferrid_job_runs_total", vec![Label::from_static_parts("job", name)]).increment(1);
        reg.histogram("ferrid_job_duration_seconds", vec![Label::from_static_parts("job", name)])
            .record(took.as_secs_f64());
    }

    fn store_call(&self, port: StorePort, took: Duration) {
        self.store_calls[port as usize]
            .get_or_init(|| {
                let labels = vec![Label::from_static_parts("port", port.as_str())];
                self.registrar().histogram("ferrid_store_call_duration_seconds", labels)
            })
            .record(took.as_secs_f64());
    }
}

/// Registers handles (each registration looks the key up under the registry's lock:
/// done ahead or once, never per request on the protocol routes).
pub(crate) struct Registrar<'a>(&'a PrometheusRecorder);

impl Registrar<'_> {
    pub fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.0.register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.0.register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.0.register_histogram(&Key::from_parts(name, labels), &METADATA)
    }
}

/// The `# HELP` line of every metric (docs/operations.md lists the same).
const HELP: [(&str, &str); 27] = [
    ("ferrid_http_requests_total", "HTTP requests answered, by route template and status."),
    ("ferrid_http_request_duration_seconds", "Time from a request's head to its response, by route template."),
    ("ferrid_throttled_requests_total", "Requests refused by the failed-authentication throttle (429), by route."),
    ("ferrid_tokens_issued_total", "Access tokens issued by the token endpoint, by grant type."),
    ("ferrid_token_errors_total", "Token requests refused, by grant type and RFC 6749 error code."),
    ("ferrid_connections_refused_total", "Connections answered 429 and closed at the server's or a source's limit."),
    ("ferrid_open_connections", "Connections being served."),
    ("ferrid_snapshot_reloads_total", "Reloads of the in-memory snapshot from the store, by kind and result."),
    ("ferrid_snapshot_reload_duration_seconds", "Time a snapshot reload took, its store reads included."),
    ("ferrid_snapshot_age_seconds", "Seconds since the snapshot was last reloaded from the store."),
    ("ferrid_job_runs_total", "Rounds of periodic background jobs, by job."),
    ("ferrid_job_duration_seconds", "Time a round of a periodic background job took, by job."),
    ("ferrid_store_calls_total", "Calls made to the store (none per client-credentials token)."),
    ("ferrid_store_call_duration_seconds", "Time a store call took, by store port (a transaction to its commit)."),
    ("ferrid_tracks", "Tracks loaded in the snapshot."),
    (
        "ferrid_auth_failure_reports_dropped_total",
        "Failed authentications not counted in the store or audit log (queue full).",
    ),
    ("ferrid_throttle_buckets", "Failed-authentication buckets held (sources and clients at sources)."),
    ("ferrid_slow_secret_checks_total", "Slow (PBKDF2) secret hashes computed, dummy ones included."),
    ("ferrid_access_log_dropped_total", "Access-log lines dropped because the writer fell behind."),
    ("ferrid_build_info", "The running build: always 1, with the version as a label."),
    ("process_cpu_seconds_total", "User and system CPU time spent by the process, in seconds."),
    ("process_resident_memory_bytes", "Resident memory of the process, in bytes."),
    ("process_virtual_memory_bytes", "Virtual memory of the process, in bytes."),
    ("process_open_fds", "Open file descriptors."),
    ("process_max_fds", "The limit on open file descriptors."),
    ("process_start_time_seconds", "Start time of the process, in seconds since the Unix epoch."),
    ("process_threads", "Threads of the process."),
];

/// Adds the help texts (the exporter keeps one table of them whatever the metric's type).
fn describe(recorder: &PrometheusRecorder) {
    for (name, help) in HELP {
        recorder.describe_counter(KeyName::from_const_str(name), None, SharedString::const_str(help));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grant_label_is_read_from_the_body_and_unknown_grants_are_other() {
        assert_eq!(Grant::of_body(b"grant_type=client_credentials&scope=a"), Grant::ClientCredentials);
        assert_eq!(Grant::of_body(b"code=x&grant_type=authorization_code"), Grant::AuthorizationCode);
        assert_eq!(Grant::of_body(b"grant_type=refresh_token"), Grant::RefreshToken);
        assert_eq!(Grant::of_body(b"grant_type=password"), Grant::Other);
        assert_eq!(Grant::of_body(b"scope=a"), Grant::Other);
        assert_eq!(Grant::of_body(b"xgrant_type=client_credentials"), Grant::Other);
    }

    #[test]
    fn every_rfc_error_code_has_its_own_slot() {
        assert!((ErrorCode::UnsupportedTokenType as usize) < ERROR_SLOTS - 1);
    }
}
