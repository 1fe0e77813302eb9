//! The accept loop: each connection served by hyper's HTTP/1 connection, raced against
//! its [`ConnWatch`](crate::connections::ConnWatch) timer and the shutdown signal.
//!
//! `axum::serve` offers neither a connection-level timer nor a bound on the graceful
//! drain, hence this loop. What it adds per request is two clock reads and a few relaxed
//! atomic stores (the request and body wrappers below), never a timer: the token hot path
//! stays free of per-request timers (docs/ARCHITECTURE.md).
//!
//! With TLS (docs/deployment.md "TLS") the handshake runs on the connection's own task,
//! under the same watch as a request head (`--header-timeout`), so one accept loop keeps
//! the connection limits, timers and drain for both schemes.
//!
//! At shutdown the listener closes, every connection is asked to finish its request in
//! flight and close, and after the drain deadline whatever is left is dropped.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::{sync::watch, task::JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::connections::{ConnWatch, LimitedListener, LimitedStream, Peer, Timeouts};

/// Serves `app` (over TLS when `tls` is given) until `shutdown` resolves, then drains
/// for at most `drain`.
pub async fn serve(
    mut listener: LimitedListener,
    app: Router,
    timeouts: Timeouts,
    drain: Duration,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            (io, addr) = listener.accept() => {
                conns.spawn(connection(io, addr, app.clone(), timeouts, tls.clone(), stop_rx.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(drain, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(connections = conns.len(), "drain deadline passed; dropping the connections left");
        conns.shutdown().await;
    }
    Ok(())
}

async fn connection(
    io: LimitedStream,
    addr: SocketAddr,
    app: Router,
    timeouts: Timeouts,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let conn_watch = io.watch();
    let Some(acceptor) = tls else {
        return http(io, conn_watch, addr, app, timeouts, stop).await;
    };
    // A client slow to finish its handshake is held to the request-head deadline; at
    // shutdown a handshake under way is simply dropped (no request is in flight).
    let accepted = tokio::select! {
        accepted = acceptor.accept(io) => accepted,
        expired = conn_watch.expired(&timeouts) => {
            tracing::debug!(peer = %addr, ?expired, "closing a connection slow to finish its TLS handshake");
            return;
        }
    };
    match accepted {
        Ok(stream) => http(stream, conn_watch, addr, app, timeouts, stop).await,
        Err(e) => tracing::debug!(peer = %addr, error = %e, "TLS handshake failed"),
    }
}

/// HTTP/1 over `io` (plain TCP or TLS), raced against the connection's timers and the
/// shutdown signal.
async fn http<I>(
    io: I,
    conn_watch: Arc<ConnWatch>,
    addr: SocketAddr,
    app: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let w = conn_watch.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(Peer(addr)));
        w.request_started();
        let body = Body::new(WatchedBody { inner: body, watch: w.clone() });
        let guard = RequestGuard(w.clone());
        let response = app.clone().oneshot(hyper::Request::from_parts(parts, body));
        async move {
            let response = response.await;
            drop(guard);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            expired = conn_watch.expired(&timeouts) => {
                tracing::debug!(peer = %addr, ?expired, "closing a slow connection");
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Marks the end of a request when the handler's future completes or is dropped.
struct RequestGuard(Arc<ConnWatch>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// A request body that tells the connection's watch whether a handler is waiting for it.
struct WatchedBody {
    inner: Incoming,
    watch: Arc<ConnWatch>,
}

impl hyper::body::Body for WatchedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.watch.body_waiting(polled.is_pending());
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.watch.body_waiting(false);
    }
}
