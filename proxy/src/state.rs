//! What every connection shares: configuration, routes and counters, handed around as
//! [`AppState`] (cloning is shallow); and what only one worker thread's connections share,
//! [`Worker`]: its upstream connection pool.

use crate::config::Config;
use crate::revoked::Revoked;
use crate::routes::Routes;
use crate::upstream::Upstream;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

pub use crate::metrics::{Metrics, Traffic};

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The one body type requests and responses travel in, upstream and downstream.
pub type Body = BoxBody<Bytes, BoxError>;

/// One worker thread's share: the proxy's state and the worker's own upstream client, whose
/// keep-alive connections are reused across requests (CHP opens a new connection per
/// request). A request and the upstream connection it borrows never leave the worker's thread.
///
/// Every task that must finish before the worker stops (client connections, websockets, TCP
/// bridges) holds an `Arc<Worker>`: at shutdown the worker waits until all are gone.
pub struct Worker {
    pub state: AppState,
    pub upstream: Upstream,
    /// This worker's share of the public port's counters.
    pub traffic: Arc<Traffic>,
    /// Closes its channel once the last `Arc<Worker>` is dropped.
    _alive: mpsc::Sender<()>,
}

impl Worker {
    /// Call on the worker's own runtime: connections the pool opens run there.
    pub fn new(state: AppState, alive: mpsc::Sender<()>) -> Arc<Worker> {
        let upstream = Upstream::new(state.upstream_tls.clone());
        let traffic = state.metrics.traffic();
        Arc::new(Worker {
            state,
            upstream,
            traffic,
            _alive: alive,
        })
    }
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
