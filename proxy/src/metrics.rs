//! Counters for `GET /metrics` on the metrics port, in Prometheus' text format.
//!
//! configurable-http-proxy's names are kept where CHP has them (`requests_web`, `requests_ws`,
//! `requests_proxy{status}`, `requests_api{status}`, `api_route_get|add|delete`, and the
//! `process_*` gauges of prom-client's defaults), so existing dashboards keep working. CHP's two
//! summaries (`find_target_for_req`, `last_activity_updating`) time steps that here are an
//! in-memory lookup and one atomic store, so they are left out. What CHP lacks is prefixed
//! `ferrohub_proxy_`.
//!
//! Everything is a relaxed atomic, bumped on the request path without locks; `render` reads
//! them without a consistent snapshot, which scrapes do not need. The counters every request
//! moves are kept per worker thread ([`Traffic`]) and added up when scraped: one shared set
//! had both workers fight over the same cache lines several times per request.

use crate::state::AppState;
use crate::tap::Observer;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode};
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Methods counted by name in `ferrohub_proxy_responses_total`; others count as `other`.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
];
/// Upper bounds (seconds) of the upstream latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    /// Each worker's [`Traffic`] (and any taken elsewhere): the public port's counters.
    traffic: Mutex<Vec<Arc<Traffic>>>,
    /// Websockets spliced to their upstream, open now.
    pub websockets_open: AtomicI64,
    /// Websockets bridged to raw TCP (`"ws_bridge": "tcp"` routes), open now.
    pub tcp_bridges_open: AtomicI64,
    /// Answers of the API port by exact status (CHP's `requests_api`).
    api_by_status: StatusCounters,
    api_route_get: AtomicU64,
    api_route_add: AtomicU64,
    api_route_delete: AtomicU64,
}

/// The public port's counters that requests move, one set per worker thread.
#[derive(Debug, Default)]
pub struct Traffic {
    /// CHP's `requests_web`: HTTP requests on the public port.
    pub requests_web: AtomicU64,
    /// CHP's `requests_ws`: websocket handshakes on the public port.
    pub requests_ws: AtomicU64,
    /// Upstream failures (connect, reset, garbage, timeout).
    pub upstream_errors: AtomicU64,
    /// Bytes read from and written to clients of the public port (after TLS): request and
    /// response heads and bodies, and websocket traffic.
    pub client_bytes_in: AtomicU64,
    pub client_bytes_out: AtomicU64,
    /// Answers of the public port by exact status, 100 to 599 (CHP's `requests_proxy`).
    by_status: StatusCounters,
    /// Answers of the public port by method (index into [`METHODS`], then `other`) and class.
    by_method_class: [[AtomicU64; 5]; METHODS.len() + 1],
    upstream_latency: Histogram,
}

impl Traffic {
    /// One answer of the public port.
    pub fn response(&self, method: &Method, status: StatusCode) {
        self.by_status.inc(status);
        let m = METHODS
            .iter()
            .position(|m| m == method)
            .unwrap_or(METHODS.len());
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        Metrics::inc(&self.by_method_class[m][class]);
    }

    /// How long an upstream took to answer with its response head.
    pub fn upstream_answered(&self, took: Duration) {
        self.upstream_latency.observe(took);
    }

    /// Add these counts to `total`.
    fn add_to(&self, total: &Traffic) {
        let add = |from: &AtomicU64, to: &AtomicU64| {
            to.fetch_add(from.load(Relaxed), Relaxed);
        };
        add(&self.requests_web, &total.requests_web);
        add(&self.requests_ws, &total.requests_ws);
        add(&self.upstream_errors, &total.upstream_errors);
        add(&self.client_bytes_in, &total.client_bytes_in);
        add(&self.client_bytes_out, &total.client_bytes_out);
        for (from, to) in self.by_status.0.iter().zip(&total.by_status.0) {
            add(from, to);
        }
        let rows = self.by_method_class.iter().zip(&total.by_method_class);
        for (from, to) in rows.flat_map(|(f, t)| f.iter().zip(t)) {
            add(from, to);
        }
        let (h, t) = (&self.upstream_latency, &total.upstream_latency);
        for (from, to) in h.buckets.iter().zip(&t.buckets) {
            add(from, to);
        }
        add(&h.count, &t.count);
        add(&h.sum_nanos, &t.sum_nanos);
    }
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// A new set of traffic counters, counted in every scrape: one per worker thread.
    pub fn traffic(&self) -> Arc<Traffic> {
        let shard = Arc::new(Traffic::default());
        let mut all = self.traffic.lock().unwrap_or_else(PoisonError::into_inner);
        all.push(shard.clone());
        shard
    }

    /// Every worker's traffic, added up.
    fn traffic_total(&self) -> Traffic {
        let total = Traffic::default();
        let all = self.traffic.lock().unwrap_or_else(PoisonError::into_inner);
        for shard in all.iter() {
            shard.add_to(&total);
        }
        total
    }

    /// One answer of the API port; `method` and `status` also feed CHP's per-operation counts
    /// (reads and adds that succeeded, every delete).
    pub fn api_response(&self, method: &Method, status: StatusCode) {
        self.api_by_status.inc(status);
        let op = match *method {
            Method::GET if status.is_success() => &self.api_route_get,
            Method::POST if status.is_success() => &self.api_route_add,
            Method::DELETE if status.as_u16() < 500 => &self.api_route_delete,
            _ => return,
        };
        Metrics::inc(op);
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self, routes: usize) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Relaxed);
        let traffic = self.traffic_total();
        counter(
            &mut out,
            "requests_web",
            "Count of web requests",
            get(&traffic.requests_web),
        );
        counter(
            &mut out,
            "requests_ws",
            "Count of websocket requests",
            get(&traffic.requests_ws),
        );
        traffic
            .by_status
            .render(&mut out, "requests_proxy", "Count of proxy requests");
        self.api_by_status
            .render(&mut out, "requests_api", "Count of API requests");
        counter(
            &mut out,
            "api_route_get",
            "Count of API route get requests",
            get(&self.api_route_get),
        );
        counter(
            &mut out,
            "api_route_add",
            "Count of API route add requests",
            get(&self.api_route_add),
        );
        counter(
            &mut out,
            "api_route_delete",
            "Count of API route delete requests",
            get(&self.api_route_delete),
        );

        let name = "ferrohub_proxy_responses_total";
        header(
            &mut out,
            name,
            "counter",
            "Answers of the public port by method and status class",
        );
        for (i, row) in traffic.by_method_class.iter().enumerate() {
            let method = METHODS.get(i).map_or("other", |m| m.as_str());
            for (c, n) in row.iter().enumerate() {
                let n = get(n);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "{name}{{method=\"{method}\",code=\"{}xx\"}} {n}",
                        c + 1
                    );
                }
            }
        }
        traffic.upstream_latency.render(
            &mut out,
            "ferrohub_proxy_upstream_latency_seconds",
            "Time from sending a request upstream to its response head",
        );
        counter(
            &mut out,
            "ferrohub_proxy_upstream_errors_total",
            "Upstream failures: refused, reset, garbage or timed out",
            get(&traffic.upstream_errors),
        );
        counter(
            &mut out,
            "ferrohub_proxy_received_bytes_total",
            "Bytes read from clients of the public port (after TLS)",
            get(&traffic.client_bytes_in),
        );
        counter(
            &mut out,
            "ferrohub_proxy_sent_bytes_total",
            "Bytes written to clients of the public port (after TLS)",
            get(&traffic.client_bytes_out),
        );
        gauge(
            &mut out,
            "ferrohub_proxy_websockets_open",
            "Websockets open to their upstream",
            self.websockets_open.load(Relaxed),
        );
        gauge(
            &mut out,
            "ferrohub_proxy_tcp_bridges_open",
            "Websockets bridged to raw TCP (ws_bridge) open",
            self.tcp_bridges_open.load(Relaxed),
        );
        gauge(
            &mut out,
            "ferrohub_proxy_routes",
            "Routes in the table",
            routes as i64,
        );
        process(&mut out);
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// One counter per status code 100..=599 (hyper allows up to 999; those count as 599).
#[derive(Debug)]
struct StatusCounters([AtomicU64; 500]);

impl Default for StatusCounters {
    fn default() -> Self {
        StatusCounters(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl StatusCounters {
    fn inc(&self, status: StatusCode) {
        let i = usize::from(status.as_u16()).clamp(100, 599) - 100;
        Metrics::inc(&self.0[i]);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, "counter", help);
        for (i, n) in self.0.iter().enumerate() {
            let n = n.load(Relaxed);
            if n > 0 {
                let _ = writeln!(out, "{name}{{status=\"{}\"}} {n}", i + 100);
            }
        }
    }
}

/// A Prometheus histogram over [`LATENCY_BUCKETS`]: per-bucket counts (made cumulative when
/// rendered), the total count and the sum in nanoseconds.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&le| secs <= le) {
            Metrics::inc(&self.buckets[i]);
        }
        Metrics::inc(&self.count);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, "histogram", help);
        let mut cumulative = 0;
        for (le, n) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
    }
}

/// prom-client's default process gauges that CHP exports, read from `/proc/self`.
fn process(out: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the parenthesised command name, which may itself hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    // Clock ticks are 100 a second on every Linux the proxy targets (USER_HZ).
    const TICKS: f64 = 100.0;
    let page = 4096;
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        header(
            out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
        );
        let _ = writeln!(
            out,
            "process_cpu_seconds_total {}",
            (utime + stime) as f64 / TICKS
        );
    }
    if let Some(rss) = field(24) {
        gauge(
            out,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            rss * page,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            out,
            "process_open_fds",
            "Number of open file descriptors.",
            fds.count(),
        );
    }
    let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok())
    });
    if let (Some(boot), Some(start)) = (boot, field(22)) {
        gauge(
            out,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            boot as f64 + start as f64 / TICKS,
        );
    }
}

/// Middleware of the API port: counts every answer by status (and CHP's per-operation counts).
pub async fn count_api(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let resp = next.run(req).await;
    state.metrics.api_response(&method, resp.status());
    resp
}

/// Counts the bytes through a client connection of the public port (see [`Tap`]) in its
/// worker's traffic.
pub struct ClientBytes(pub Arc<Traffic>);

impl Observer for ClientBytes {
    fn read(&self, n: usize) {
        self.0.client_bytes_in.fetch_add(n as u64, Relaxed);
    }

    fn wrote(&self, n: usize) {
        self.0.client_bytes_out.fetch_add(n as u64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chps_names_and_ours() {
        let m = Metrics::default();
        // Two workers' counts add up.
        let (a, b) = (m.traffic(), m.traffic());
        Metrics::inc(&a.requests_web);
        Metrics::inc(&b.requests_web);
        a.response(&Method::GET, StatusCode::OK);
        b.response(&Method::GET, StatusCode::OK);
        a.response(
            &Method::from_bytes(b"PROPFIND").unwrap(),
            StatusCode::NOT_FOUND,
        );
        m.api_response(&Method::POST, StatusCode::CREATED);
        m.api_response(&Method::DELETE, StatusCode::NOT_FOUND);
        b.upstream_answered(Duration::from_millis(3));
        let text = m.render(2);
        for line in [
            "requests_web 2",
            "requests_proxy{status=\"200\"} 2",
            "requests_api{status=\"201\"} 1",
            "api_route_add 1",
            "api_route_delete 1",
            "api_route_get 0",
            "ferrohub_proxy_responses_total{method=\"GET\",code=\"2xx\"} 2",
            "ferrohub_proxy_responses_total{method=\"other\",code=\"4xx\"} 1",
            "ferrohub_proxy_upstream_latency_seconds_bucket{le=\"0.0025\"} 0",
            "ferrohub_proxy_upstream_latency_seconds_bucket{le=\"0.005\"} 1",
            "ferrohub_proxy_upstream_latency_seconds_count 1",
            "ferrohub_proxy_routes 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from\n{text}"
            );
        }
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
    }
}
