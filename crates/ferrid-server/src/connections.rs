//! Limits on connections (issues 9 and 18: bounded input everywhere).
//!
//! - At most `--max-connections` are served at once, and at most
//!   `--max-connections-per-source` from one peer address (the direct peer: a trusted
//!   proxy's `X-Forwarded-For` is a request-level matter, see `proxies.rs`). Past either
//!   limit a connection gets a plain `429 Too Many Requests` with `Retry-After` and is
//!   closed, so a flood of idle connections cannot exhaust memory or file descriptors,
//!   one source cannot take every slot, and the client learns why.
//! - Every served connection carries a [`ConnWatch`]: the phase it is in and since when,
//!   kept by the stream itself and by [`crate::serve`] at the start and end of each request.
//!   One timer per connection (not per request) reads it and closes a connection that
//!   is slow to send its request head, to send a body a handler waits for, or that sits
//!   idle between requests.

use std::{
    collections::HashMap,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll},
    time::Duration,
};

use ferrid_core::env::Clock;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};

/// The answer past a limit: `429`, `Retry-After`, JSON, and the connection closed.
fn refusal(message: &str) -> Vec<u8> {
    let body = format!("{{\"error\":\"too_many_connections\",\"message\":\"{message}\"}}");
    format!(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n\
Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A TCP listener that serves at most `max` connections at once, at most
/// `max_per_source` of them from one peer address.
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    sources: Arc<Sources>,
    /// The monotonic clock of the connections' timers.
    clock: Arc<dyn Clock>,
    /// Counts refused connections: `[at the server's limit, at the source's]`.
    refused: [metrics::Counter; 2],
}

/// The connection slots of a listener, read by `/metrics`.
#[derive(Clone)]
pub struct InUse {
    permits: Arc<Semaphore>,
    max: usize,
}

impl InUse {
    /// Connections being served now.
    pub fn open(&self) -> usize {
        self.max.saturating_sub(self.permits.available_permits())
    }
}

/// Open connections per peer address.
struct Sources {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl Sources {
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<SourceSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(SourceSlot { sources: self.clone(), ip })
    }
}

/// One connection counted against its source; given back on drop.
struct SourceSlot {
    sources: Arc<Sources>,
    ip: IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.sources.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl LimitedListener {
    pub fn new(inner: TcpListener, max: usize, max_per_source: usize, clock: Arc<dyn Clock>) -> LimitedListener {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(max)),
            max,
            sources: Arc::new(Sources { max: max_per_source.max(1), open: Mutex::new(HashMap::new()) }),
            clock,
            refused: [metrics::Counter::noop(), metrics::Counter::noop()],
        }
    }

    /// Counts the connections refused at the server's limit and at a source's.
    pub fn counting(mut self, refused: [metrics::Counter; 2]) -> LimitedListener {
        self.refused = refused;
        self
    }

    /// The listener's slots, for `/metrics`.
    pub fn in_use(&self) -> InUse {
        InUse { permits: self.permits.clone(), max: self.max }
    }

    /// The next connection within the limits; refused ones are answered in the background.
    /// Cancel-safe: the only await points are the accept itself and the back-off.
    pub async fn accept(&mut self) -> (LimitedStream, SocketAddr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(source) = self.sources.take(addr.ip().to_canonical()) else {
                self.refused[1].increment(1);
                tokio::spawn(refuse(stream, "this source has too many connections open"));
                continue;
            };
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let _ = stream.set_nodelay(true);
                    let watch = Arc::new(ConnWatch::new(self.clock.clone()));
                    return (LimitedStream { inner: stream, watch, _permit: permit, _source: source }, addr);
                }
                Err(_) => {
                    self.refused[0].increment(1);
                    tokio::spawn(refuse(stream, "the server is at its limit"));
                }
            }
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Reads what the client sent first (so closing does not reset the connection before
/// the answer is read), answers 429 and closes; gives up after a second.
async fn refuse(mut stream: TcpStream, message: &'static str) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await;
        let _ = stream.write_all(&refusal(message)).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A served connection; its slots are given back when it closes.
pub struct LimitedStream {
    inner: TcpStream,
    watch: Arc<ConnWatch>,
    _permit: OwnedSemaphorePermit,
    _source: SourceSlot,
}

impl LimitedStream {
    pub fn watch(&self) -> Arc<ConnWatch> {
        self.watch.clone()
    }
}

/// How long a connection may take over each phase.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From accept (or from the first byte after an idle spell) to a complete request head.
    pub header: Duration,
    /// From a request's head to the last body byte a handler waits for.
    pub body: Duration,
    /// Between the end of one request and the first byte of the next.
    pub idle: Duration,
}

const AWAITING_FIRST_HEAD: u8 = 0;
const IDLE: u8 = 1;
const HEAD: u8 = 2;
const IN_REQUEST: u8 = 3;

/// A connection's phase and since when (milliseconds from accept). Written by the
/// stream (the first byte of a head after an idle spell), by the request wrapper in
/// [`crate::serve`] (start and end of a request) and by the body wrapper (a handler
/// waiting for body bytes); read by the connection's one watchdog timer. Everything
/// happens on the connection's task, so relaxed atomics suffice. Time is the server
/// environment's monotonic clock.
pub struct ConnWatch {
    clock: Arc<dyn Clock>,
    /// The clock's monotonic reading at accept.
    origin: Duration,
    phase: AtomicU8,
    since_ms: AtomicU64,
    body_waiting: AtomicBool,
}

/// Which limit closed a connection (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    Header,
    Body,
    Idle,
}

impl ConnWatch {
    fn new(clock: Arc<dyn Clock>) -> ConnWatch {
        ConnWatch {
            origin: clock.monotonic(),
            clock,
            phase: AtomicU8::new(AWAITING_FIRST_HEAD),
            since_ms: AtomicU64::new(0),
            body_waiting: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        self.clock.monotonic().saturating_sub(self.origin).as_millis() as u64
    }

    fn enter(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Relaxed);
        self.phase.store(phase, Relaxed);
    }

    fn bytes_read(&self) {
        if self.phase.load(Relaxed) == IDLE {
            self.enter(HEAD);
        }
    }

    pub fn request_started(&self) {
        self.body_waiting.store(false, Relaxed);
        self.enter(IN_REQUEST);
    }

    pub fn request_finished(&self) {
        self.body_waiting.store(false, Relaxed);
        self.enter(IDLE);
    }

    pub fn body_waiting(&self, waiting: bool) {
        self.body_waiting.store(waiting, Relaxed);
    }

    /// The deadline of the current phase (ms from accept), if it has one.
    fn deadline(&self, t: &Timeouts) -> Option<(u64, Expired)> {
        let since = self.since_ms.load(Relaxed);
        let ms = |d: Duration| since.saturating_add(d.as_millis() as u64);
        match self.phase.load(Relaxed) {
            AWAITING_FIRST_HEAD | HEAD => Some((ms(t.header), Expired::Header)),
            IDLE => Some((ms(t.idle), Expired::Idle)),
            _ if self.body_waiting.load(Relaxed) => Some((ms(t.body), Expired::Body)),
            _ => None,
        }
    }

    /// Resolves when the connection has overstayed its current phase. It wakes at the
    /// phase's deadline or after the shortest timeout, whichever is first, so a phase
    /// entered while it sleeps is checked at most that late.
    pub async fn expired(&self, t: &Timeouts) -> Expired {
        let recheck = t.header.min(t.body).min(t.idle).as_millis().max(1) as u64;
        loop {
            let now = self.now_ms();
            let deadline = self.deadline(t);
            if let Some((at, what)) = deadline
                && at <= now
            {
                return what;
            }
            let wake = deadline.map_or(now + recheck, |(at, _)| at.min(now + recheck));
            tokio::time::sleep(Duration::from_millis(wake - now)).await;
        }
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The peer address of a connection (inserted as axum's `ConnectInfo` on each request).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_states_its_own_length() {
        for message in ["the server is at its limit", "this source has too many connections open"] {
            let bytes = super::refusal(message);
            let text = std::str::from_utf8(&bytes).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(head.contains(&format!("Content-Length: {}", body.len())));
            serde_json::from_str::<serde_json::Value>(body).unwrap();
        }
    }
}
