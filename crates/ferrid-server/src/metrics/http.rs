//! Request counts and latencies per route template (never per tenant name: the label
//! sets stay bounded), and the access log's line for each request.
//!
//! The protocol routes carry no middleware (the token hot path, docs/ARCHITECTURE.md):
//! their handlers are wrapped in [`Timed`], a handler whose future is the handler's own
//! plus a clock read at each end — no box, no lock, no allocation; the handles it
//! records into were registered with the router ([`RouteTable`]) or, per status, on
//! first use. The other routes (management API, pages of the API docs, operations) go
//! through [`observe`], a middleware that reads axum's `MatchedPath`.

use std::{
    borrow::Cow,
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    handler::Handler,
    middleware::Next,
    response::Response,
};
use ferrid_core::routes::Route;
use metrics::{Counter, Histogram, Label};

use super::{Metrics, Registrar};
use crate::{AppState, access_log, connections::Peer};

/// Statuses counted under their own code; any other under its class (`4xx`).
const STATUSES: [(u16, &str); 22] = [
    (200, "200"),
    (201, "201"),
    (204, "204"),
    (301, "301"),
    (302, "302"),
    (303, "303"),
    (304, "304"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (406, "406"),
    (408, "408"),
    (409, "409"),
    (412, "412"),
    (413, "413"),
    (415, "415"),
    (429, "429"),
    (500, "500"),
    (502, "502"),
    (503, "503"),
];
const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const SLOTS: usize = STATUSES.len() + CLASSES.len();

/// The slot of a status and its label value.
fn status_slot(status: u16) -> (usize, &'static str) {
    match STATUSES.iter().position(|(s, _)| *s == status) {
        Some(i) => (i, STATUSES[i].1),
        None => {
            let class = usize::from(status / 100).wrapping_sub(1).min(CLASSES.len() - 1);
            (STATUSES.len() + class, CLASSES[class])
        }
    }
}

/// The handles of one route template.
pub struct RouteMetrics {
    label: &'static str,
    latency: Histogram,
    requests: [OnceLock<Counter>; SLOTS],
    throttled: OnceLock<Counter>,
}

impl RouteMetrics {
    fn new(reg: &Registrar<'_>, label: &'static str) -> RouteMetrics {
        RouteMetrics {
            label,
            latency: reg
                .histogram("ferrid_http_request_duration_seconds", vec![Label::from_static_parts("route", label)]),
            requests: std::array::from_fn(|_| OnceLock::new()),
            throttled: OnceLock::new(),
        }
    }

    fn record(&self, metrics: &Metrics, status: u16, took: Duration) {
        self.latency.record(took.as_secs_f64());
        let (slot, code) = status_slot(status);
        let reg = || metrics.registrar();
        self.requests[slot]
            .get_or_init(|| {
                let labels =
                    vec![Label::from_static_parts("route", self.label), Label::from_static_parts("status", code)];
                reg().counter("ferrid_http_requests_total", labels)
            })
            .increment(1);
        if status == 429 {
            self.throttled
                .get_or_init(|| {
                    reg()
                        .counter("ferrid_throttled_requests_total", vec![Label::from_static_parts("route", self.label)])
                })
                .increment(1);
        }
    }
}

/// The label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The handles of every route of [`Route::ALL`], in its order, then [`UNMATCHED`].
pub struct RouteTable(Vec<RouteMetrics>);

impl RouteTable {
    pub(super) fn new(reg: &Registrar<'_>) -> RouteTable {
        let labels = Route::ALL.iter().map(|r| r.template()).chain([UNMATCHED]);
        RouteTable(labels.map(|l| RouteMetrics::new(reg, l)).collect())
    }

    /// The slot of `route`.
    pub fn slot(route: Route) -> u8 {
        Route::ALL.iter().position(|r| *r == route).expect("every route is in Route::ALL") as u8
    }

    /// The slot of [`UNMATCHED`].
    pub const fn unmatched() -> u8 {
        Route::ALL.len() as u8
    }
}

/// What a request's start left for its end: when it started, and its access-log line in
/// the making (only with the access log on).
struct Probe {
    metrics: Arc<Metrics>,
    started: Duration,
    line: Option<access_log::Pending>,
}

impl Probe {
    fn start(state: &AppState, req: &Request) -> Probe {
        let metrics = Arc::clone(&state.metrics);
        let started = metrics.clock.monotonic();
        let line = metrics.access_log().map(|_| pending(state, req));
        Probe { metrics, started, line }
    }

    fn took(&self) -> Duration {
        self.metrics.clock.monotonic().saturating_sub(self.started)
    }

    fn log(self, route: Cow<'static, str>, took: Duration, resp: &mut Response) {
        if let (Some(log), Some(line)) = (self.metrics.access_log(), self.line) {
            log.send(line.finish(route, resp, took));
        }
    }
}

/// The access-log fields known from the request alone.
fn pending(state: &AppState, req: &Request) -> access_log::Pending {
    let source: Option<IpAddr> = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|c| crate::proxies::source(c.0.0.ip(), req.headers(), &state.trusted_proxies));
    access_log::Pending {
        at_millis: state.env.clock.now_millis(),
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        source,
    }
}

/// A protocol handler with its request counted and timed under its route's slot.
#[derive(Clone)]
pub struct Timed<H> {
    handler: H,
    slot: u8,
}

impl<H> Timed<H> {
    pub fn new(handler: H, slot: u8) -> Timed<H> {
        Timed { handler, slot }
    }
}

impl<H, T> Handler<T, AppState> for Timed<H>
where
    H: Handler<T, AppState>,
    H::Future: Unpin,
    T: 'static,
{
    type Future = TimedFuture<H::Future>;

    fn call(self, req: Request, state: AppState) -> Self::Future {
        let probe = Probe::start(&state, &req);
        TimedFuture { inner: self.handler.call(req, state), probe: Some(probe), slot: self.slot }
    }
}

/// The handler's future, and the probe read when it completes.
pub struct TimedFuture<F> {
    inner: F,
    probe: Option<Probe>,
    slot: u8,
}

impl<F: Future<Output = Response> + Unpin> Future for TimedFuture<F> {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let mut resp = ready!(Pin::new(&mut self.inner).poll(cx));
        if let Some(probe) = self.probe.take() {
            let took = probe.took();
            let route = &probe.metrics.routes.0[usize::from(self.slot)];
            route.record(&probe.metrics, resp.status().as_u16(), took);
            let label = route.label;
            probe.log(Cow::Borrowed(label), took, &mut resp);
        }
        Poll::Ready(resp)
    }
}

/// The middleware of the routes that are not protocol routes: counted and timed under
/// their matched template (registered per request: these are not hot paths).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let probe = Probe::start(&state, &req);
    let template = req.extensions().get::<MatchedPath>().map(|m| Cow::Owned(m.as_str().to_owned()));
    let mut resp = next.run(req).await;
    let took = probe.took();
    let route = template.unwrap_or(Cow::Borrowed(UNMATCHED));
    let status = resp.status().as_u16();
    let reg = probe.metrics.registrar();
    let route_label = || Label::new("route", route.clone().into_owned());
    let labels = vec![route_label(), Label::from_static_parts("status", status_slot(status).1)];
    reg.counter("ferrid_http_requests_total", labels).increment(1);
    reg.histogram("ferrid_http_request_duration_seconds", vec![route_label()]).record(took.as_secs_f64());
    probe.log(route, took, &mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_outside_the_list_are_counted_by_class() {
        assert_eq!(status_slot(200), (0, "200"));
        assert_eq!(status_slot(429).1, "429");
        assert_eq!(status_slot(418).1, "4xx");
        assert_eq!(status_slot(599).1, "5xx");
        assert_eq!(status_slot(100).1, "1xx");
        assert_eq!(status_slot(999).1, "other");
        assert_eq!(status_slot(42).1, "other");
    }
}
