//! The public port: an accept loop that hands each client connection to one of the workers,
//! and the workers, threads that each run a single-threaded tokio runtime serving their
//! connections through their own upstream pool, and a graceful stop. A connection starts on
//! the plain path (`plain`: requests without a body, straight from bytes to bytes) and moves
//! to hyper (with the limits that protect us from bad clients) at its first request that is
//! anything else.
//!
//! Why workers rather than one multi-threaded runtime: a proxied request is several tasks
//! (the client connection, the upstream connection, the response body) waking each other; on
//! one thread those wake-ups are a queue push, across threads each is a futex call and often a
//! context switch. nginx's worker processes are the model.

use crate::forward;
use crate::listen::Listen;
use crate::metrics::ClientBytes;
use crate::outgoing::Peer;
use crate::plain::{self, Replay, MAX_HEADER_BYTES};
use crate::state::{AppState, Worker};
use crate::tap::Tap;
use crate::tls::HANDSHAKE_TIMEOUT;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_rustls::TlsAcceptor;

/// How long connections may take to finish their current request once we stop.
const GRACE: Duration = Duration::from_secs(10);

/// A connection on its way from the accept loop to a worker (a std socket: it is registered
/// with the worker's own runtime on arrival).
enum Handoff {
    Tcp(std::net::TcpStream, SocketAddr),
    Unix(std::os::unix::net::UnixStream),
}

/// The worker threads of the public port, started by [`Workers::start`] and served to by
/// [`serve`].
pub struct Workers(Vec<WorkerHandle>);

struct WorkerHandle {
    conns: mpsc::UnboundedSender<Handoff>,
    /// Connections the worker holds open now; a new one goes to the least loaded worker.
    load: Arc<AtomicUsize>,
    /// Completes (or is dropped) when the worker thread has finished.
    done: oneshot::Receiver<()>,
}

impl Workers {
    /// Start `count` worker threads, each with its own runtime and upstream pool. `tls`: the
    /// public port's TLS (`--ssl-*`); handshakes then run on the worker.
    pub fn start(
        count: usize,
        state: &AppState,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Workers> {
        let mut workers = Vec::with_capacity(count);
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (conns, incoming) = mpsc::unbounded_channel();
            let (finished, done) = oneshot::channel();
            let load = Arc::new(AtomicUsize::new(0));
            let (state, tls, worker_load) = (state.clone(), tls.clone(), load.clone());
            std::thread::Builder::new()
                .name(format!("proxy-worker-{i}"))
                .spawn(move || {
                    runtime.block_on(work(incoming, state, tls, worker_load));
                    // Dropping the runtime ends whatever outlived the grace period.
                    drop(runtime);
                    let _ = finished.send(());
                })?;
            workers.push(WorkerHandle { conns, load, done });
        }
        Ok(Workers(workers))
    }

    fn dispatch(&self, conn: Handoff) {
        let Some(w) = self.0.iter().min_by_key(|w| w.load.load(Ordering::Relaxed)) else {
            return;
        };
        w.load.fetch_add(1, Ordering::Relaxed);
        if w.conns.send(conn).is_err() {
            w.load.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Wait until every worker has stopped (they stop on the proxy's shutdown signal).
    async fn join(self) {
        for w in self.0 {
            drop(w.conns);
            let _ = w.done.await;
        }
    }
}

/// Accept until `shutdown` turns true, handing connections to `workers`; then wait for the
/// workers to let their open connections finish (each up to [`GRACE`]).
pub async fn serve(listener: Listen, workers: Workers, mut shutdown: watch::Receiver<bool>) {
    // Accept errors (such as running out of file descriptors) are logged and backed off from
    // inside `accept`.
    let accepting = async {
        match listener {
            Listen::Tcp(mut tcp) => loop {
                let (stream, remote) = Listener::accept(&mut tcp).await;
                let _ = stream.set_nodelay(true);
                match stream.into_std() {
                    Ok(s) => workers.dispatch(Handoff::Tcp(s, remote)),
                    Err(e) => tracing::debug!(%remote, "cannot hand the connection over: {e}"),
                }
            },
            // The socket file stays until this loop ends.
            Listen::Unix(mut unix, _file) => loop {
                let (stream, _) = Listener::accept(&mut unix).await;
                match stream.into_std() {
                    Ok(s) => workers.dispatch(Handoff::Unix(s)),
                    Err(e) => tracing::debug!("cannot hand the connection over: {e}"),
                }
            },
        }
    };
    tokio::select! {
        _ = crate::state::stopped(&mut shutdown) => {}
        () = accepting => {}
    }
    workers.join().await;
}

/// One worker's life: serve what the accept loop hands over until the proxy stops, then give
/// open connections [`GRACE`] to finish.
async fn work(
    mut incoming: mpsc::UnboundedReceiver<Handoff>,
    state: AppState,
    tls: Option<TlsAcceptor>,
    load: Arc<AtomicUsize>,
) {
    // Every task holding a clone of `worker` holds `alive`; `recv` returns once all are gone.
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    let worker = Worker::new(state.clone(), alive);
    let mut shutdown = state.shutdown.clone();
    // The worker's own copy of the stop signal: connections wait on it between requests, and
    // a signal only this thread's tasks watch costs no cross-thread traffic to wait on.
    let (stop, stopping) = watch::channel(false);
    loop {
        tokio::select! {
            _ = crate::state::stopped(&mut shutdown) => break,
            conn = incoming.recv() => {
                let Some(conn) = conn else { break };
                let held = Held(load.clone());
                let (worker, shutdown) = (worker.clone(), stopping.clone());
                let tls = tls.clone();
                let taken = match conn {
                    Handoff::Tcp(s, remote) => TcpStream::from_std(s).map(|s| {
                        tokio::spawn(client(s, Peer::new(remote), tls, worker, shutdown, held));
                    }),
                    Handoff::Unix(s) => UnixStream::from_std(s).map(|s| {
                        tokio::spawn(client(s, Peer::unix(), tls, worker, shutdown, held));
                    }),
                };
                if let Err(e) = taken {
                    tracing::debug!("cannot take the connection: {e}");
                }
            }
        }
    }
    let _ = stop.send(true);
    drop(incoming);
    drop(worker);
    if tokio::time::timeout(GRACE, all_done.recv()).await.is_err() {
        tracing::warn!("some connections were still open at shutdown");
    }
}

/// Counts a connection in its worker's load until dropped.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One client connection: its TLS handshake (with `--ssl-*`), then its requests.
async fn client<S>(
    stream: S,
    peer: Peer,
    tls: Option<TlsAcceptor>,
    worker: Arc<Worker>,
    shutdown: watch::Receiver<bool>,
    _held: Held,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(acceptor) = tls else {
        return connection(stream, peer, worker, shutdown).await;
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => connection(tls, peer, worker, shutdown).await,
        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

async fn connection(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    peer: Peer,
    worker: Arc<Worker>,
    mut shutdown: watch::Receiver<bool>,
) {
    let state = worker.state.clone();
    let c = &state.config;
    // The header-read timeout also runs while a keep-alive connection waits for its next
    // request, so it is both CHP's keep-alive timeout and the slow-header (slowloris) limit.
    let head_timeout = match c.timeout {
        Some(t) => t.min(c.keep_alive_timeout),
        None => c.keep_alive_timeout,
    };
    let mut stream = Tap::new(stream, ClientBytes(worker.traffic.clone()));
    let mut plain = plain::Conn::new(&worker, &peer, head_timeout);
    let read = match plain.serve(&mut stream, &mut shutdown).await {
        plain::Next::Close => return,
        plain::Next::Hyper => std::mem::take(&mut plain.buf),
    };
    drop(plain);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let svc = {
        let peer = peer.clone();
        service_fn(move |req| forward::handle(worker.clone(), peer.clone(), req))
    };
    let conn = builder
        .serve_connection(TokioIo::new(Replay::new(read, stream)), svc)
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
        tracing::debug!(%peer, "connection ended: {e}");
    }
}
