//! The public port's accept loop: one hyper HTTP/1 connection per client, with the limits
//! that protect us from bad clients, and a graceful stop.

use crate::forward;
use crate::metrics::CountingIo;
use crate::state::AppState;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

/// Request heads larger than this get 431 (node, and so CHP, allow 16 KiB; JupyterHub's
/// cookies can be large, so we allow more).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// How long connections may take to finish their current request once we stop.
const GRACE: Duration = Duration::from_secs(10);

/// Accept until `shutdown` turns true, then let open connections finish (up to [`GRACE`]).
/// `listener` yields plain TCP or, with `--ssl-key`, connections whose TLS handshake is done.
pub async fn serve<L>(mut listener: L, state: AppState, mut shutdown: watch::Receiver<bool>)
where
    L: Listener<Addr = SocketAddr>,
{
    // Each connection task holds a clone of `alive`; `recv` returns once all are dropped.
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            _ = crate::state::stopped(&mut shutdown) => break,
            // Accept errors (such as running out of file descriptors) are logged and
            // backed off from inside `accept`.
            (stream, remote) = listener.accept() => {
                let conn = connection(stream, remote, state.clone(), shutdown.clone(), alive.clone());
                tokio::spawn(conn);
            }
        }
    }
    drop(listener);
    drop(alive);
    if tokio::time::timeout(GRACE, all_done.recv()).await.is_err() {
        tracing::warn!("some connections were still open at shutdown");
    }
}

async fn connection(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    remote: SocketAddr,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let c = &state.config;
    // hyper's header-read timeout also runs while a keep-alive connection waits for its next
    // request, so it is both CHP's keep-alive timeout and the slow-header (slowloris) limit.
    let head_timeout = match c.timeout {
        Some(t) => t.min(c.keep_alive_timeout),
        None => c.keep_alive_timeout,
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let svc_state = state.clone();
    let svc = service_fn(move |req| forward::handle(svc_state.clone(), remote, req));
    let stream = CountingIo::new(stream, state.clone());
    let conn = builder
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = crate::state::stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%remote, "connection ended: {e}");
    }
}
