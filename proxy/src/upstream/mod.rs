//! The upstream side of the proxy: a small HTTP/1.1 client that runs inside the request's own
//! task. The request head is written, the response head read and the body streamed from the
//! same task that serves the client, so a proxied request wakes no other task (hyper's pooled
//! client drives each connection from a task of its own, and every request and every body
//! chunk crossed between the two). Each worker has its own [`Upstream`] and pool.
//!
//! - [`wire`]: heads and body framing, without I/O; [`conn`]: connections (TCP, TLS);
//!   [`pool`]: idle connections; [`body`]: the streamed response body.

mod body;
mod conn;
mod pool;
mod wire;

pub use body::UpstreamBody;
pub use conn::{Conn, Key};
pub use wire::Head;

use crate::outgoing::Outgoing;
use crate::state::{Body, BoxError};
use bytes::{BufMut, BytesMut};
use http::Response;
use http_body_util::BodyExt;
use pool::Pool;
use std::io;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsConnector;
use wire::WireError;

/// One worker's client for targets.
pub struct Upstream {
    pool: Arc<Pool>,
    tls: TlsConnector,
}

/// What a target answered.
pub enum Answer {
    /// An ordinary response: its head, and its body, which streams from the target.
    Response(Head, UpstreamBody),
    /// The target accepted an upgrade (101): its head, and the connection, which is now a
    /// byte stream (websocket frames).
    Upgraded(Response<()>, Conn),
}

/// Why a request got no answer to forward; [`UpstreamError::is_connect`] tells "target down"
/// (503) from "target misbehaved" (502). Messages leave the cause to the error's source, so a
/// log line walking the chain says each thing once.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot connect")]
    Connect(#[source] io::Error),
    #[error("the connection failed")]
    Io(#[from] io::Error),
    #[error("the target closed the connection without answering")]
    Closed,
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("the target switched protocols for a request that did not ask to")]
    UnaskedUpgrade,
    #[error("reading the client's request body failed")]
    RequestBody(#[source] BoxError),
}

impl UpstreamError {
    pub fn is_connect(&self) -> bool {
        matches!(self, UpstreamError::Connect(_))
    }
}

/// How one attempt on one connection failed.
enum Failed {
    /// Before the target said anything: a reused connection it had closed meanwhile. A request
    /// without a body can be sent again on a new connection.
    Stale(UpstreamError),
    Other(UpstreamError),
}

impl From<UpstreamError> for Failed {
    fn from(e: UpstreamError) -> Self {
        Failed::Other(e)
    }
}

impl From<io::Error> for Failed {
    fn from(e: io::Error) -> Self {
        Failed::Other(e.into())
    }
}

impl From<WireError> for Failed {
    fn from(e: WireError) -> Self {
        Failed::Other(e.into())
    }
}

impl Upstream {
    /// Call on the worker's runtime: the pool's sweeper runs there. `tls`: the settings of
    /// `--client-ssl-*` and `--insecure`, shared by every worker.
    pub fn new(tls: Arc<rustls::ClientConfig>) -> Upstream {
        let pool = Arc::new(Pool::default());
        tokio::spawn(pool::sweep_until_dropped(Arc::downgrade(&pool)));
        Upstream {
            pool,
            tls: TlsConnector::from(tls),
        }
    }

    /// Send `req` (and `body`, if the request has one) and read the response head. A 101 is
    /// only accepted when `upgrade` is set.
    pub async fn send(
        &self,
        req: &Outgoing,
        mut body: Option<&mut Body>,
        upgrade: bool,
    ) -> Result<Answer, UpstreamError> {
        let has_body = body.is_some();
        // A request with a body cannot be sent twice, so its idle connection is checked first.
        let mut idle = self.pool.take(&req.key, has_body);
        loop {
            let (mut conn, reused) = match idle.take() {
                Some(c) => (c, true),
                None => (
                    Conn::open(req.key.clone(), &self.tls)
                        .await
                        .map_err(UpstreamError::Connect)?,
                    false,
                ),
            };
            match exchange(&mut conn, req, body.as_deref_mut()).await {
                Ok(head) => return self.answer(req, head, conn, upgrade),
                Err(Failed::Stale(e)) if reused && !has_body => {
                    let cause = crate::forward::error_chain(&e);
                    let target = req.target();
                    tracing::debug!(%target, "idle connection was closed ({cause}); retrying");
                }
                Err(Failed::Stale(e) | Failed::Other(e)) => return Err(e),
            }
        }
    }

    fn answer(
        &self,
        req: &Outgoing,
        head: Head,
        conn: Conn,
        upgrade: bool,
    ) -> Result<Answer, UpstreamError> {
        if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            if !upgrade {
                return Err(UpstreamError::UnaskedUpgrade);
            }
            let mut resp = Response::new(());
            *resp.status_mut() = head.status;
            *resp.headers_mut() = head.headers();
            return Ok(Answer::Upgraded(resp, conn));
        }
        let framing = head.framing(&req.method)?;
        let keep_alive = head.keeps_alive();
        let body = UpstreamBody::new(conn, framing, Arc::downgrade(&self.pool), keep_alive);
        Ok(Answer::Response(head, body))
    }
}

/// Write the request (head, then the body as it arrives) and read the response head,
/// skipping interim answers (100 Continue, 103 Early Hints).
async fn exchange(
    conn: &mut Conn,
    req: &Outgoing,
    body: Option<&mut Body>,
) -> Result<Head, Failed> {
    if let Err(e) = conn.write_all(&req.head).await {
        return Err(Failed::Stale(e.into()));
    }
    if let Some(body) = body {
        send_body(conn, body, req.chunked).await?;
    }
    let mut heard = false;
    loop {
        if let Some(h) = wire::parse_head(&mut conn.buf)? {
            if h.status.is_informational() && h.status != http::StatusCode::SWITCHING_PROTOCOLS {
                heard = true;
                continue;
            }
            return Ok(h);
        }
        match conn.fill().await {
            Ok(0) if !heard && conn.buf.is_empty() => {
                return Err(Failed::Stale(UpstreamError::Closed))
            }
            Ok(0) => return Err(Failed::Other(UpstreamError::Closed)),
            Ok(_) => heard = true,
            Err(e) if !heard => return Err(Failed::Stale(e.into())),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Copy the client's body to the target as it arrives, in chunked encoding when the client
/// gave no length.
async fn send_body(conn: &mut Conn, body: &mut Body, chunked: bool) -> Result<(), Failed> {
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(UpstreamError::RequestBody)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers are not forwarded
        };
        if data.is_empty() {
            continue;
        }
        if chunked {
            out.clear();
            out.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
            out.put_slice(&data);
            out.put_slice(b"\r\n");
            conn.write_all(&out).await?;
        } else {
            conn.write_all(&data).await?;
        }
    }
    if chunked {
        conn.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}
