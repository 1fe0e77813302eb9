//! The access log (docs/operations.md "Access log"): one JSON line per request, written
//! off the request path. The request's end hands its line to a bounded queue
//! ([`AccessLog::send`], never waiting); one writer thread (plain blocking writes, off
//! the async runtime) writes the lines to standard output or appends them to a file,
//! and flushes whenever the queue is empty. When the writer falls behind and the queue
//! is full, the line is dropped and counted (`ferrid_access_log_dropped_total`). The
//! thread ends, after writing what is queued, when the server is dropped.
//!
//! A line holds the route template and the tenant and track read from the path — never
//! the query string, a header, a body, a secret, a token or a code. The client id is the
//! one the client presented to the token, introspection or revocation endpoint.

use std::{
    borrow::Cow,
    io::{BufWriter, Write},
    net::IpAddr,
    path::PathBuf,
    sync::mpsc,
    time::Duration,
};

use axum::{http::Method, response::Response};
use metrics::Counter;
use serde::Serialize;

/// Lines held for the writer; past this, lines are dropped.
pub const QUEUE: usize = 8192;

/// Where the lines go (`--access-log stdout` or `--access-log FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    /// Appended to, created if missing.
    File(PathBuf),
}

impl Target {
    /// `stdout` (or `-`) is standard output; anything else names a file.
    pub fn parse(s: &str) -> Target {
        match s.trim() {
            "stdout" | "-" | "" => Target::Stdout,
            path => Target::File(PathBuf::from(path)),
        }
    }
}

/// The client id a protocol handler saw, left in the response's extensions for the log.
#[derive(Clone)]
pub struct LoggedClient(pub String);

/// The fields known when the request arrived.
pub(crate) struct Pending {
    pub at_millis: i64,
    pub method: Method,
    pub path: String,
    pub source: Option<IpAddr>,
}

impl Pending {
    /// The record, once the response is known. Only moves and copies happen here, on the
    /// request's end; the text is made by the writer thread ([`Record::line`]).
    pub(crate) fn finish(self, route: Cow<'static, str>, resp: &mut Response, took: Duration) -> Record {
        Record {
            at_millis: self.at_millis,
            method: self.method,
            route,
            status: resp.status().as_u16(),
            took,
            path: self.path,
            client_id: resp.extensions_mut().remove::<LoggedClient>().map(|c| c.0),
            source: self.source,
        }
    }
}

/// What the request's end queues for the writer.
pub(crate) struct Record {
    at_millis: i64,
    method: Method,
    route: Cow<'static, str>,
    status: u16,
    took: Duration,
    path: String,
    client_id: Option<String>,
    source: Option<IpAddr>,
}

impl Record {
    /// The line written for this record.
    fn line(&self) -> Line<'_> {
        let (tenant, track) = tenant_track(&self.route, &self.path);
        Line {
            time: rfc3339(self.at_millis),
            method: self.method.as_str(),
            route: &self.route,
            status: self.status,
            latency_ms: (self.took.as_secs_f64() * 1e6).round() / 1e3,
            tenant,
            track,
            client_id: self.client_id.as_deref(),
            source: self.source.map(|ip| ip.to_string()),
        }
    }
}

/// One line of the log, in this field order.
#[derive(Debug, Serialize)]
struct Line<'a> {
    time: String,
    method: &'a str,
    route: &'a str,
    status: u16,
    latency_ms: f64,
    tenant: Option<&'a str>,
    track: Option<&'a str>,
    client_id: Option<&'a str>,
    source: Option<String>,
}

/// The `{tenant}` and `{track}` segments of `path` under the route template `route`.
fn tenant_track<'p>(route: &str, path: &'p str) -> (Option<&'p str>, Option<&'p str>) {
    let (mut tenant, mut track) = (None, None);
    let segments = route.split('/').zip(path.split('/'));
    for (t, p) in segments {
        match t {
            "{tenant}" => tenant = Some(p),
            "{track}" => track = Some(p),
            _ => {}
        }
    }
    (tenant, track)
}

fn rfc3339(millis: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The sending side: cheap to call from any request's end.
pub struct AccessLog {
    tx: mpsc::SyncSender<Record>,
    dropped: Counter,
}

impl AccessLog {
    /// Opens the target (a file is created or appended to) and starts the writer thread.
    pub fn start(target: &Target, dropped: Counter) -> std::io::Result<AccessLog> {
        let out: Box<dyn Write + Send> = match target {
            Target::Stdout => Box::new(std::io::stdout()),
            Target::File(path) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        };
        AccessLog::writing_to(out, QUEUE, dropped)
    }

    /// A log whose thread writes to `out`, holding at most `queue` lines.
    fn writing_to(out: Box<dyn Write + Send>, queue: usize, dropped: Counter) -> std::io::Result<AccessLog> {
        let (tx, rx) = mpsc::sync_channel(queue);
        std::thread::Builder::new().name("access-log".into()).spawn(move || write(rx, out))?;
        Ok(AccessLog { tx, dropped })
    }

    /// Queues a line, or drops and counts it when the queue is full.
    pub(crate) fn send(&self, record: Record) {
        if self.tx.try_send(record).is_err() {
            self.dropped.increment(1);
        }
    }
}

/// How long the writer lets lines gather while requests keep coming.
const GATHER: Duration = Duration::from_millis(5);

/// Writes the queued lines. Idle, it waits for a line; busy, it writes what is queued,
/// flushes, and lets the next lines gather for [`GATHER`] instead of being woken by each
/// one (a wake-up per request cost the token endpoint about a fifth of its rate). Ends,
/// after writing what is queued, when every sender is gone.
fn write(rx: mpsc::Receiver<Record>, out: Box<dyn Write + Send>) {
    let mut out = BufWriter::new(out);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        loop {
            let mut written = Ok(());
            while let Some(record) = next {
                written = written
                    .and_then(|()| serde_json::to_writer(&mut out, &record.line()).map_err(std::io::Error::from))
                    .and_then(|()| out.write_all(b"\n"));
                next = rx.try_recv().ok();
            }
            if let Err(e) = written.and_then(|()| out.flush()) {
                tracing::warn!(error = %e, "could not write the access log; its lines are lost until it can");
            }
            std::thread::sleep(GATHER);
            match rx.try_recv() {
                Ok(record) => next = Some(record),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_and_track_are_read_from_the_template_positions() {
        let (t, p) = tenant_track("/{tenant}/{track}/oauth/token", "/acme/prod/oauth/token");
        assert_eq!((t, p), (Some("acme"), Some("prod")));
        let inserted = "/.well-known/oauth-authorization-server/{tenant}/{track}";
        let (t, p) = tenant_track(inserted, "/.well-known/oauth-authorization-server/a/b");
        assert_eq!((t, p), (Some("a"), Some("b")));
        assert_eq!(tenant_track("/healthz", "/healthz"), (None, None));
        assert_eq!(tenant_track("unmatched", "/x/y"), (None, None));
    }

    #[test]
    fn a_target_is_standard_output_or_a_file() {
        assert_eq!(Target::parse("stdout"), Target::Stdout);
        assert_eq!(Target::parse("-"), Target::Stdout);
        assert_eq!(Target::parse("/var/log/ferrid.log"), Target::File("/var/log/ferrid.log".into()));
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    /// A writer that holds its first write until released.
    struct Stuck(std::sync::Arc<std::sync::Barrier>, bool);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.1 {
                self.1 = true;
                self.0.wait();
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn line() -> Record {
        Record {
            at_millis: 0,
            method: Method::GET,
            route: Cow::Borrowed("/healthz"),
            status: 200,
            took: Duration::from_micros(100),
            path: "/healthz".into(),
            client_id: None,
            source: None,
        }
    }

    #[test]
    fn a_line_is_dropped_and_counted_when_the_writer_is_behind_never_waited_for() {
        let release = std::sync::Arc::new(std::sync::Barrier::new(2));
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let out = Box::new(BufWriter::with_capacity(1, Stuck(release.clone(), false)));
        let log = AccessLog::writing_to(out, 1, Counter::from_arc(dropped.clone())).unwrap();
        // the writer takes the first line and sticks in its write; one more fits the queue
        log.send(line());
        let mut sent = 1;
        while dropped.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            log.send(line());
            sent += 1;
            assert!(sent < 10_000, "a full queue must drop, not block");
        }
        assert!(sent <= 3, "{sent}");
        release.wait();
    }

    /// A writer that collects what it is given and says when it is dropped (the writer
    /// thread drops it when it ends).
    struct Collect(std::sync::Arc<std::sync::Mutex<Vec<u8>>>, mpsc::Sender<()>);

    impl Write for Collect {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Drop for Collect {
        fn drop(&mut self) {
            let _ = self.1.send(());
        }
    }

    /// The writer gathers lines in batches: every queued line is still written, once, in
    /// the order queued, as the JSON line its record makes, before the thread ends.
    #[test]
    fn every_queued_line_is_written_once_in_order_before_the_writer_ends() {
        let text = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (done_tx, done) = mpsc::channel();
        let out = Box::new(Collect(text.clone(), done_tx));
        let log = AccessLog::writing_to(out, 4096, Counter::noop()).unwrap();
        for n in 0..3000i64 {
            let mut r = line();
            r.at_millis = n;
            r.route = Cow::Borrowed("/{tenant}/{track}/oauth/token");
            r.path = format!("/t{n}/prod/oauth/token");
            r.client_id = Some(format!("c{n}"));
            r.source = Some(IpAddr::from([192, 0, 2, 7]));
            log.send(r);
        }
        drop(log);
        done.recv_timeout(Duration::from_secs(30)).expect("the writer ends once every sender is gone");
        let text = String::from_utf8(text.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3000);
        for (n, l) in lines.iter().enumerate() {
            assert_eq!(l["tenant"], format!("t{n}"));
            assert_eq!((l["track"].as_str(), l["client_id"].as_str()), (Some("prod"), Some(format!("c{n}").as_str())));
            assert_eq!((l["source"].as_str(), l["status"].as_u64()), (Some("192.0.2.7"), Some(200)));
        }
        assert_eq!(lines[0]["time"], "1970-01-01T00:00:00Z");
        assert_eq!(lines[0]["latency_ms"], 0.1);
    }
}
