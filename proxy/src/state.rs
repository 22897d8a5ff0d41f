//! What every connection shares: configuration, routes, the upstream connection pool and
//! counters. Handed around as [`AppState`]; cloning is shallow.

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
use tokio::sync::watch;

pub use crate::metrics::Metrics;

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The one body type requests and responses travel in, upstream and downstream.
pub type Body = BoxBody<Bytes, BoxError>;
/// The pooled upstream client: keep-alive connections are reused across requests, where CHP
/// opens a new connection per request. https targets go through rustls.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

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
        upstream_tls: Arc<rustls::ClientConfig>,
        revoked: Revoked,
        shutdown: watch::Receiver<bool>,
    ) -> AppState {
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(Arc::unwrap_or_clone(upstream_tls))
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(connector),
            );
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

/// Resolves once `shutdown` turns true (or its sender is gone). Does not hold the channel's
/// read guard across the await, so futures using it stay `Send`.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}
