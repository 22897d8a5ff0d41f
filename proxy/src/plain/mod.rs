//! Plain requests, straight from bytes to bytes.
//!
//! Most traffic through a hub's proxy is requests without a body to routes without an access
//! rule: pages, static files, API polls. For those, the head is parsed where it was read, the
//! target's head written from it (`outgoing`), and the answer written back (`respond`),
//! without building request and response objects or running hyper's dispatcher: on small
//! responses that cut the proxy's CPU per request by about a quarter (`bench/proxy.sh`).
//!
//! Everything else goes to hyper, which serves the rest of the connection: bodies, upgrades,
//! HTTP/1.0, private and bridged routes, the health check, and any input that is odd or
//! wrong (hyper answers it: 400, 431, ...). The hand-over happens before the request is
//! used, with the bytes read so far replayed ([`Replay`]), so hyper sees the connection as if
//! it had read it from the start.
//!
//! - [`respond`]: writing an answer; [`replay`]: the hand-over stream.

mod replay;
mod respond;

pub use replay::Replay;

use crate::error_page::{self, Kind};
use crate::forward::{self, Destination};
use crate::outgoing::{tokens, Outgoing, Peer, Rewrite};
use crate::routes::Route;
use crate::state::{Metrics, Worker};
use crate::tcp_bridge;
use crate::upstream::Answer;
use bytes::{Buf, BytesMut};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;

/// Request heads larger than this get 431, here and on hyper's path (node, and so CHP, allow
/// 16 KiB; JupyterHub's cookies can be large, so we allow more).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Header lines a plain request may have; one with more goes to hyper.
const MAX_HEADERS: usize = 64;
/// Room for a typical request head in one read.
const READ_CHUNK: usize = 4096;

/// What becomes of the connection when the plain path lets go of it.
pub enum Next {
    /// It is done: closed by the client, timed out, failed, or the proxy is stopping.
    Close,
    /// Hyper serves it from here, starting with the bytes in the read buffer.
    Hyper,
}

/// The connection's settings and scratch space.
pub struct Conn<'a> {
    pub worker: &'a Arc<Worker>,
    pub peer: &'a Peer,
    /// How long the next request's head may take to arrive (also the keep-alive timeout).
    pub head_timeout: Duration,
    /// What has been read and not yet used; hyper gets it on hand-over.
    pub buf: BytesMut,
    out: Vec<u8>,
}

impl<'a> Conn<'a> {
    pub fn new(worker: &'a Arc<Worker>, peer: &'a Peer, head_timeout: Duration) -> Self {
        Conn {
            worker,
            peer,
            head_timeout,
            buf: BytesMut::new(),
            out: Vec::new(),
        }
    }

    /// Serve plain requests on `io` until one is not plain or the connection ends.
    /// `shutdown`: the worker's stop signal; a connection waiting for a request then closes.
    pub async fn serve<S>(&mut self, io: &mut S, shutdown: &mut watch::Receiver<bool>) -> Next
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        loop {
            let deadline = Instant::now() + self.head_timeout;
            let plan = loop {
                match self.plan() {
                    Parsed::Plain(plan, len) => {
                        self.buf.advance(len);
                        break plan;
                    }
                    Parsed::Other => return Next::Hyper,
                    Parsed::Partial => {}
                }
                self.buf.reserve(READ_CHUNK);
                tokio::select! {
                    _ = crate::state::stopped(shutdown) => return Next::Close,
                    read = tokio::time::timeout_at(deadline, io.read_buf(&mut self.buf)) => {
                        if !matches!(read, Ok(Ok(n)) if n > 0) {
                            return Next::Close; // closed, failed or timed out
                        }
                    }
                }
            };
            let close = plan.close;
            if self.run(io, plan).await.is_err() || close || *shutdown.borrow() {
                return Next::Close;
            }
        }
    }

    /// What to do with the request at the front of the buffer.
    fn plan(&self) -> Parsed {
        if self.buf.is_empty() {
            return Parsed::Partial;
        }
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut slots);
        let len = match req.parse(&self.buf) {
            Ok(httparse::Status::Complete(len)) if len <= MAX_HEADER_BYTES => len,
            Ok(httparse::Status::Partial) if self.buf.len() < MAX_HEADER_BYTES => {
                return Parsed::Partial
            }
            // Malformed, too large, too many headers: hyper answers.
            _ => return Parsed::Other,
        };
        match self.plain(&req) {
            Some(plan) => Parsed::Plain(plan, len),
            None => Parsed::Other,
        }
    }

    /// The plan for `req` if it is a plain request.
    fn plain(&self, req: &httparse::Request<'_, '_>) -> Option<Plan> {
        let state = &self.worker.state;
        if state.config.rewrites_location() {
            return None; // rewritten on hyper's path only (crate::location)
        }
        let (method, target) = (req.method?, req.path?);
        if req.version != Some(1) || method == "CONNECT" || !target.bytes().all(plain_target_byte) {
            return None;
        }
        let mut host = None;
        let mut close = false;
        for h in req.headers.iter() {
            let name = h.name;
            if name.eq_ignore_ascii_case("host") {
                host = Some(h.value);
            } else if name.eq_ignore_ascii_case("connection") {
                close |= tokens(h.value).any(|t| t.eq_ignore_ascii_case(b"close"));
            } else if name.eq_ignore_ascii_case("content-length") {
                if h.value.trim_ascii() != b"0" {
                    return None;
                }
            } else if NOT_PLAIN.iter().any(|n| name.eq_ignore_ascii_case(n)) {
                return None;
            }
        }
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        if !path.starts_with('/') || path == "/_chp_healthz" {
            return None;
        }
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        let action = match forward::destination(state, path, host) {
            Destination::Route(route, _)
                if route.access.is_some() || tcp_bridge::is_bridged(&route) =>
            {
                return None;
            }
            Destination::Route(route, normalized) => {
                let rewrite = Rewrite {
                    config: &state.config,
                    route: &route,
                    peer: self.peer,
                    websocket: false,
                };
                let headers = || req.headers.iter().map(|h| (h.name, h.value));
                let out = rewrite.request(&method, &normalized, query, headers, false);
                Action::Forward(route, out)
            }
            Destination::NoRoute => Action::NoRoute,
            Destination::BadPath => Action::BadPath,
        };
        Some(Plan {
            method,
            url: target.to_owned(),
            close,
            action,
        })
    }

    /// Answer a planned request. An error leaves the connection unusable.
    async fn run<S>(&mut self, io: &mut S, plan: Plan) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let worker = self.worker;
        let (state, client) = (&worker.state, &worker.upstream);
        Metrics::inc(&worker.traffic.requests_web);
        let head_only = plan.method == Method::HEAD;
        let url = plan.url.as_str();
        let page_for = |code| error_page::respond(state, client, code, Kind::Web, url);
        let page = match plan.action {
            Action::Forward(route, out) => {
                tracing::debug!(%url, target = %out.target(), "proxy WEB");
                match forward::send(worker, &out, None, false).await {
                    Ok(Answer::Response(head, body)) => {
                        forward::answered(&route, head.status);
                        worker.traffic.response(&plan.method, head.status);
                        let answer = respond::Answer {
                            status: head.status,
                            lines: head.lines(),
                            head_only,
                            close: plan.close,
                        };
                        return respond::write(io, &mut self.out, answer, body).await;
                    }
                    // `send` refuses a 101 to a request that did not ask for one.
                    Ok(Answer::Upgraded(..)) => page_for(StatusCode::BAD_GATEWAY).await,
                    Err(code) => page_for(code).await,
                }
            }
            Action::NoRoute => {
                tracing::warn!(%url, "404: no route");
                page_for(StatusCode::NOT_FOUND).await
            }
            Action::BadPath => error_page::plain(StatusCode::BAD_REQUEST),
        };
        worker.traffic.response(&plan.method, page.status());
        let (parts, body) = page.into_parts();
        let lines: Vec<_> = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let answer = respond::Answer {
            status: parts.status,
            lines: lines.iter().copied(),
            head_only,
            close: plan.close,
        };
        respond::write(io, &mut self.out, answer, body.boxed()).await
    }
}

/// A plain request, checked and rewritten, its head no longer needed.
struct Plan {
    method: Method,
    /// The path and query as the client sent them, for error pages and logs.
    url: String,
    /// The client asked to close the connection after this request.
    close: bool,
    action: Action,
}

enum Action {
    Forward(Arc<Route>, Outgoing),
    NoRoute,
    /// The path does not decode.
    BadPath,
}

enum Parsed {
    /// A plain request, whose head was this many bytes.
    Plain(Plan, usize),
    /// A request for hyper.
    Other,
    /// The head is not complete yet.
    Partial,
}

/// Headers that announce a body or an upgrade: such requests go to hyper.
const NOT_PLAIN: [&str; 3] = ["transfer-encoding", "upgrade", "expect"];

/// The bytes of a request target this path forwards as they are: RFC 3986's path and query
/// characters. A target with anything else goes to hyper, whose URI parser decides.
fn plain_target_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)
}
