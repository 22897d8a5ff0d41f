//! What every connection shares: configuration, routes, the upstream connection pool and
//! counters. Handed around as [`AppState`]; cloning is shallow.

use crate::config::Config;
use crate::revoked::Revoked;
use crate::routes::Routes;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The one body type requests and responses travel in, upstream and downstream.
pub type Body = BoxBody<Bytes, BoxError>;
/// The pooled upstream client: keep-alive connections are reused across requests, where CHP
/// opens a new connection per request.
pub type UpstreamClient = Client<HttpConnector, Body>;

pub type AppState = Arc<Shared>;

pub struct Shared {
    pub config: Config,
    pub routes: Routes,
    /// Proxy sessions the hub ended before their expiry.
    pub revoked: Revoked,
    pub client: UpstreamClient,
    pub metrics: Metrics,
    /// Becomes `true` when the proxy shuts down; long-lived tasks (websockets) watch it.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(
        config: Config,
        routes: Routes,
        revoked: Revoked,
        shutdown: watch::Receiver<bool>,
    ) -> AppState {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Arc::new(Shared {
            config,
            routes,
            revoked,
            client,
            metrics: Metrics::default(),
            shutdown,
        })
    }
}

/// Counters for `/metrics`. Relaxed atomics: exactness across threads is not needed.
#[derive(Debug, Default)]
pub struct Metrics {
    pub requests_web: AtomicU64,
    pub requests_ws: AtomicU64,
    pub requests_api: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub websockets_open: AtomicI64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text format.
    pub fn render(&self, routes: usize) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "# TYPE ferrohub_proxy_requests_total counter\n\
             ferrohub_proxy_requests_total{{kind=\"web\"}} {}\n\
             ferrohub_proxy_requests_total{{kind=\"ws\"}} {}\n\
             ferrohub_proxy_requests_total{{kind=\"api\"}} {}\n\
             # TYPE ferrohub_proxy_upstream_errors_total counter\n\
             ferrohub_proxy_upstream_errors_total {}\n\
             # TYPE ferrohub_proxy_websockets_open gauge\n\
             ferrohub_proxy_websockets_open {}\n\
             # TYPE ferrohub_proxy_routes gauge\n\
             ferrohub_proxy_routes {}\n",
            get(&self.requests_web),
            get(&self.requests_ws),
            get(&self.requests_api),
            get(&self.upstream_errors),
            self.websockets_open.load(Ordering::Relaxed),
            routes,
        )
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone). Does not hold the channel's
/// read guard across the await, so futures using it stay `Send`.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}
