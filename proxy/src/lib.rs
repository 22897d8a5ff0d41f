//! `ferrohub-proxy`: a drop-in replacement for configurable-http-proxy (CHP), with routes that
//! survive restarts.
//!
//! # Layout
//! - [`cli`]: CHP's command line; [`config`]: the typed [`Config`] it produces.
//! - [`routes`]: the route table (longest-prefix by segment, host routing), request path
//!   normalisation, targets, activity clocks, and [`routes::Routes`], the one handle that edits it.
//! - [`persist`]: `--routes-file`, written atomically on every change.
//! - [`api`]: CHP's REST API on the API port (and `/metrics` on the metrics port).
//! - [`server`]: the public port's connections; [`plain`]: requests without a body, from
//!   bytes to bytes; [`forward`]: HTTP forwarding through hyper (everything else);
//!   [`outgoing`]: the request a target receives;
//!   [`websocket`]: upgrades; [`tcp_bridge`]: websockets bridged to raw TCP (VNC) for routes
//!   with `"ws_bridge": "tcp"`; [`error_page`]: what failed requests get.
//! - [`tls`]: `--ssl-*`, `--api-ssl-*` and `--client-ssl-*`; [`metrics`]: `/metrics`.
//! - [`access`]: private routes (an access rule in the route's data, checked against the
//!   hub's signed proxy session cookie); [`revoked`]: sessions ended at logout.
//! - [`state`]: what all of them share.
//!
//! A request flows: `server` → `plain` or `forward` (normalise, look up, rewrite with
//! `outgoing`, send through the pool)
//! → `access` on a private route → `websocket` when the upstream switches protocols (or `tcp_bridge` on a bridged route)
//! → activity on the route.

pub mod access;
pub mod api;
pub mod busy_poll;
pub mod cli;
pub mod config;
pub mod error_page;
pub mod forward;
pub mod listen;
pub mod location;
pub mod metrics;
pub mod outgoing;
pub mod persist;
pub mod plain;
pub mod redirect;
pub mod revoked;
pub mod routes;
pub mod server;
pub mod state;
pub mod tap;
pub mod tcp_bridge;
pub mod tls;
pub mod upstream;
pub mod websocket;

pub use config::{Config, ConfigError};

use axum::serve::Listener;
use listen::Listen;
use persist::{PersistError, Persister};
use routes::{RouteTable, Routes, Target};
use serde_json::{Map, Value};
use std::future::Future;
use std::path::PathBuf;
use tls::TlsListener;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the proxy could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Persist(#[from] PersistError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot write the pid file {path}: {source}")]
    PidFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the {which} server failed: {source}")]
    Serve {
        which: &'static str,
        source: std::io::Error,
    },
}

/// The sockets `run` serves, bound by the caller (so tests can use port 0).
pub struct Listeners {
    pub public: Listen,
    pub api: Listen,
    pub metrics: Option<Listen>,
    /// `--redirect-port`: plain HTTP redirected to HTTPS ([`redirect`]); needs public TLS.
    pub redirect: Option<TcpListener>,
}

/// Serve until `shutdown` completes, then stop accepting, let requests in flight finish and
/// return. Routes come from `--routes-file` (if any), then `--default-target` as `/`.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProxyError> {
    config.validate()?;
    let tls = tls::Loaded::load(&config.tls, config.insecure)?;
    // The redirect port, and where it sends browsers: `--redirect-to`, else the public port.
    let redirect = match listeners.redirect {
        Some(_) if tls.public.is_none() => return Err(ConfigError::RedirectWithoutTls.into()),
        Some(l) => {
            let to = (config.redirect_to).or(listeners.public.tcp_port());
            Some((l, to.ok_or(ConfigError::RedirectNeedsPort)?))
        }
        None => None,
    };
    let routes = initial_routes(&config)?;
    if config.auth_token.is_none() {
        tracing::warn!("REST API is not authenticated.");
    }
    let _pid_file = match &config.pid_file {
        Some(p) => Some(PidFile::create(p.clone())?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let revoked = revoked::Revoked::load(
        config.routes_file.as_deref().map(revoked::file_beside),
        chrono::Utc::now().timestamp(),
    )?;
    if config.proxy_key.is_none() {
        tracing::info!(
            "no proxy key (--proxy-key-file or {}): private routes will answer 503 and only \
             the admin token is accepted on the API",
            ferrohub_shared::env::FERROHUB_PROXY_KEY
        );
    }
    let state = state::Shared::new(config, routes, tls.upstream, revoked, stopped.clone());
    let scheme = |tls: &Option<_>| if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "Proxying {}://{} to {}",
        scheme(&tls.public),
        listeners.public,
        state
            .config
            .default_target
            .as_deref()
            .unwrap_or("(no default)")
    );
    tracing::info!(
        "Proxy API at {}://{}/api/routes",
        scheme(&tls.api),
        listeners.api
    );

    let workers = state
        .config
        .workers
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    let api_router = api::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        metrics::count_api,
    ));
    let api = match (tls.api, listeners.api) {
        (Some(acceptor), Listen::Tcp(l)) => tokio::spawn(serve_axum(
            TlsListener::new(l, acceptor).map_err(serve_error("API"))?,
            api_router,
            stopped.clone(),
        )),
        (Some(_), Listen::Unix(..)) => return Err(ConfigError::ApiTlsOnUnixSocket.into()),
        (None, l) => spawn_axum(l, api_router, stopped.clone()),
    };
    let workers =
        server::Workers::start(workers, &state, tls.public).map_err(serve_error("public"))?;
    let public = tokio::spawn(server::serve(listeners.public, workers, stopped.clone()));
    let metrics = listeners.metrics.map(|l| {
        tracing::info!("Serve metrics at http://{l}/metrics");
        spawn_axum(l, api::metrics_router(state.clone()), stopped.clone())
    });

    let redirect = redirect.map(|(l, to)| {
        let from = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!("Added HTTP to HTTPS redirection from {from} to {to}");
        tokio::spawn(serve_axum(l, redirect::router(to), stopped.clone()))
    });

    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    let _ = public.await;
    // Every server is waited for; the first failure is reported.
    let mut result = Ok(());
    for (which, server) in [
        ("API", Some(api)),
        ("redirect", redirect),
        ("metrics", metrics),
    ] {
        if let Some(server) = server {
            let served = server.await.unwrap_or(Ok(())).map_err(serve_error(which));
            result = result.and(served);
        }
    }
    result
}

fn serve_error(which: &'static str) -> impl FnOnce(std::io::Error) -> ProxyError {
    move |source| ProxyError::Serve { which, source }
}

/// Serve `router` on `listen` until stopped; a unix socket's file is removed after.
fn spawn_axum(
    listen: Listen,
    router: axum::Router,
    stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    match listen {
        Listen::Tcp(l) => tokio::spawn(serve_axum(l, router, stopped)),
        Listen::Unix(l, file) => tokio::spawn(async move {
            let served = serve_axum(l, router, stopped).await;
            drop(file);
            served
        }),
    }
}

async fn serve_axum<L>(
    listener: L,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            state::stopped(&mut stopped).await;
        })
        .await
}

fn initial_routes(config: &Config) -> Result<Routes, ProxyError> {
    let persister = config.routes_file.clone().map(Persister::new);
    let routes = Routes::new(RouteTable::new(config.host_routing), persister);
    if let Some(path) = &config.routes_file {
        let stored = persist::load(path)?;
        tracing::info!(path = %path.display(), "loaded {} routes", stored.len());
        routes.load(stored);
    }
    if let Some(t) = &config.default_target {
        let target = Target::parse(t).map_err(|e| ConfigError::Invalid {
            flag: "default-target",
            value: t.clone(),
            reason: e.to_string(),
        })?;
        let mut data = Map::new();
        data.insert("target".into(), Value::String(t.clone()));
        let root = ferrohub_shared::routes::RouteSpec::parse("/").expect("`/` is a spec");
        routes.load(vec![persist::StoredRoute {
            spec: root,
            target,
            data,
            last_activity: routes::activity::now_millis(),
        }]);
    }
    Ok(routes)
}

/// Our pid in a file for as long as we run (CHP's `--pid-file`), removed on the way out.
struct PidFile(PathBuf);

impl PidFile {
    fn create(path: PathBuf) -> Result<Self, ProxyError> {
        std::fs::write(&path, std::process::id().to_string()).map_err(|source| {
            ProxyError::PidFile {
                path: path.clone(),
                source,
            }
        })?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
