//! What every connection shares: configuration, routes and counters, handed around as
//! [`AppState`] (cloning is shallow); and what only one worker thread's connections share,
//! [`Worker`]: its upstream connection pool.

use crate::config::Config;
use crate::revoked::Revoked;
use crate::routes::Routes;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

pub use crate::metrics::Metrics;

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The one body type requests and responses travel in, upstream and downstream.
pub type Body = BoxBody<Bytes, BoxError>;
/// The pooled upstream client: keep-alive connections are reused across requests, where CHP
/// opens a new connection per request. https targets go through rustls.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// One worker thread's share: the proxy's state and the worker's own upstream pool. The pool's
/// connections are driven by tasks on the worker's single-threaded runtime, so a request and
/// the upstream connection it borrows never wake another thread.
///
/// Every task that must finish before the worker stops (client connections, websockets, TCP
/// bridges) holds an `Arc<Worker>`: at shutdown the worker waits until all are gone.
pub struct Worker {
    pub state: AppState,
    pub client: UpstreamClient,
    /// Closes its channel once the last `Arc<Worker>` is dropped.
    _alive: mpsc::Sender<()>,
}

impl Worker {
    /// Call on the worker's own runtime: connections the pool opens run there.
    pub fn new(state: AppState, alive: mpsc::Sender<()>) -> Arc<Worker> {
        let client = upstream_client(state.upstream_tls.clone());
        Arc::new(Worker {
            state,
            client,
            _alive: alive,
        })
    }
}

fn upstream_client(tls: Arc<rustls::ClientConfig>) -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    connector.set_keepalive(Some(Duration::from_secs(60)));
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build(
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(Arc::unwrap_or_clone(tls))
                .https_or_http()
                .enable_http1()
                .wrap_connector(connector),
        )
}

pub type AppState = Arc<Shared>;

pub struct Shared {
    pub config: Config,
    pub routes: Routes,
    /// Proxy sessions the hub ended before their expiry.
    pub revoked: Revoked,
    /// For https targets; each [`Worker`] builds its pool with it.
    pub upstream_tls: Arc<rustls::ClientConfig>,
    pub metrics: Metrics,
    /// Becomes `true` when the proxy shuts down; long-lived tasks (websockets) watch it.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(
        config: Config,
        routes: Routes,
        upstream_tls: Arc<rustls::ClientConfig>,
        revoked: Revoked,
        shutdown: watch::Receiver<bool>,
    ) -> AppState {
        Arc::new(Shared {
            config,
            routes,
            revoked,
            upstream_tls,
            metrics: Metrics::default(),
            shutdown,
        })
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone). Does not hold the channel's
/// read guard across the await, so futures using it stay `Send`.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}
