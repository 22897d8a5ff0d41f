//! Websocket-to-TCP bridging for routes whose data says `"ws_bridge": "tcp"` (VNC without websockify).
//!
//! # The route-data convention
//! `POST /api/routes/desktop/alice` with `{"target": "http://127.0.0.1:5901", "ws_bridge": "tcp"}`
//! makes the proxy itself accept websocket connections under `/desktop/alice` and bridge each
//! one to a raw TCP connection to the target's host and port (the target's path is unused).
//! The target stays an ordinary `http://` (or `ws://`) URL so every CHP client accepts it, and
//! `ws_bridge`, like any other key, is kept verbatim in the route's data; configurable-http-proxy
//! itself would ignore the key. Any other value of `ws_bridge` is refused with 400 when the
//! route is added, and so is an `https://` target (the TCP side is not encrypted).
//!
//! On such a route:
//! - a websocket handshake is answered by the proxy (RFC 6455). A client offering the `binary`
//!   subprotocol (noVNC does) gets `Sec-WebSocket-Protocol: binary`; one offering none is
//!   accepted too; one offering only others gets 400. The TCP connection is opened *before*
//!   answering, so a dead target is a 503 (504 if it does not answer within 10 s), not a
//!   websocket that closes at once.
//! - each binary message's payload is written to TCP, bytes read from TCP go out as binary
//!   messages; a text message closes the websocket with 1003 (only binary is spoken).
//! - pings are answered; every message either way (pings included) counts as route activity.
//! - when the TCP side ends, the client gets a close frame (1000, or 1011 on an error); when
//!   the client closes, its close is answered and the TCP connection is closed; at proxy
//!   shutdown clients get 1001.
//! - a plain HTTP request (no upgrade) gets 400 with a short explanation: nothing but
//!   websockets is served there. Serve the web client (noVNC) from another route.

use crate::busy_poll::{self, Progress};
use crate::routes::Route;
use crate::state::{AppState, Body, BoxError, Metrics, Worker};
use crate::websocket;
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The subprotocol noVNC (and websockify) use for raw binary payloads.
const SUBPROTOCOL: &str = "binary";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to answer our close frame before the connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// The most read from TCP into one websocket message.
const CHUNK: usize = 64 * 1024;

type ClientSocket = WebSocketStream<TokioIo<Upgraded>>;

/// Whether route data asks for a bridge (`"ws_bridge": "tcp"`, see
/// [`ferrohub_shared::route_data::bridge_requested`]); `Err` for a malformed request.
pub use ferrohub_shared::route_data::bridge_requested as requested;

pub fn is_bridged(route: &Route) -> bool {
    matches!(requested(&route.data), Ok(true))
}

/// Serve one request on a bridged route: a websocket handshake becomes a bridge (after the
/// TCP connection is up); anything else gets an explanatory 400.
pub async fn handle(
    worker: &Arc<Worker>,
    route: Arc<Route>,
    mut req: Request<Incoming>,
) -> Response<Body> {
    if !websocket::is_upgrade(req.headers()) {
        return text(
            StatusCode::BAD_REQUEST,
            "This address bridges websocket connections to a TCP service (such as VNC); \
             connect with a websocket client such as noVNC.\n",
        );
    }
    let handshake = match Handshake::read(req.headers()) {
        Ok(h) => h,
        Err(refusal) => return refusal.response(),
    };
    let addr = route.target.authority.as_str();
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            Metrics::inc(&worker.traffic.upstream_errors);
            tracing::error!(route = %route.spec, %addr, "503: cannot connect to the TCP target: {e}");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "The TCP service behind this address is not accepting connections.\n",
            );
        }
        Err(_) => {
            Metrics::inc(&worker.traffic.upstream_errors);
            tracing::error!(route = %route.spec, %addr, "504: the TCP target did not answer");
            return text(
                StatusCode::GATEWAY_TIMEOUT,
                "The TCP service behind this address did not answer.\n",
            );
        }
    };
    let _ = tcp.set_nodelay(true);
    route.activity.touch();
    let client = hyper::upgrade::on(&mut req);
    tokio::spawn(bridge(worker.clone(), route, client, tcp));
    handshake.accept()
}

/// What the client's handshake asked for, once checked.
struct Handshake {
    accept: String,
    binary: bool,
}

impl Handshake {
    /// Check version, key and subprotocols.
    fn read(headers: &HeaderMap) -> Result<Handshake, Refusal> {
        let version = headers.get(header::SEC_WEBSOCKET_VERSION);
        if version.map(|v| v.as_bytes()) != Some(b"13") {
            return Err(Refusal::Version);
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return Err(Refusal::NoKey);
        };
        let offered: Vec<&str> = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let binary = offered.contains(&SUBPROTOCOL);
        if !offered.is_empty() && !binary {
            return Err(Refusal::Subprotocol);
        }
        Ok(Handshake {
            accept: derive_accept_key(key.as_bytes()),
            binary,
        })
    }

    fn accept(self) -> Response<Body> {
        let mut r = Response::new(Empty::new().map_err(BoxError::from).boxed());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&self.accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        if self.binary {
            h.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(SUBPROTOCOL),
            );
        }
        r
    }
}

/// Why a handshake is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Version,
    NoKey,
    Subprotocol,
}

impl Refusal {
    fn response(self) -> Response<Body> {
        match self {
            Refusal::Version => {
                let mut r = text(
                    StatusCode::UPGRADE_REQUIRED,
                    "Only websocket version 13 is supported.\n",
                );
                r.headers_mut().insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
                r
            }
            Refusal::NoKey => text(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing.\n"),
            Refusal::Subprotocol => text(
                StatusCode::BAD_REQUEST,
                "This bridge speaks only the 'binary' websocket subprotocol (or none).\n",
            ),
        }
    }
}

/// Wait for the client's connection to switch protocols, then relay until either side ends.
/// Holding `worker` makes the worker wait for the bridge at shutdown.
async fn bridge(worker: Arc<Worker>, route: Arc<Route>, client: OnUpgrade, tcp: TcpStream) {
    let state = &worker.state;
    let upgraded = match client.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!(route = %route.spec, "websocket upgrade did not complete: {e}");
            return;
        }
    };
    let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
    let open = &state.metrics.tcp_bridges_open;
    open.fetch_add(1, Ordering::Relaxed);
    let progress = Progress::default();
    let relaying = relay(state, &route, ws, tcp, &progress);
    let end = busy_poll::run(relaying, &progress, state.config.websocket_busy_poll).await;
    open.fetch_sub(1, Ordering::Relaxed);
    tracing::debug!(route = %route.spec, "websocket-to-TCP bridge ended: {end}");
}

/// Copy payloads both ways; returns why it stopped (for the log).
async fn relay(
    state: &AppState,
    route: &Route,
    mut ws: ClientSocket,
    tcp: TcpStream,
    progress: &Progress,
) -> String {
    let moved = || {
        route.activity.touch();
        progress.moved();
    };
    let (mut from_tcp, mut to_tcp) = tcp.into_split();
    let mut buf = BytesMut::with_capacity(CHUNK);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(payload))) => {
                    moved();
                    if let Err(e) = to_tcp.write_all(&payload).await {
                        close(&mut ws, CloseCode::Error, "the TCP service stopped reading").await;
                        return format!("writing to TCP failed: {e}");
                    }
                }
                // tungstenite queues the pong itself; it goes out with the next read or write.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => moved(),
                Some(Ok(Message::Text(_))) => {
                    close(&mut ws, CloseCode::Unsupported, "only binary messages are bridged").await;
                    return "the client sent a text message".into();
                }
                Some(Ok(Message::Close(_))) => {
                    // Our answering close frame is queued; send it, then drop both sides.
                    let _ = ws.flush().await;
                    return "the client closed".into();
                }
                Some(Ok(Message::Frame(_))) => {}
                Some(Err(e)) => return format!("client error: {e}"),
                None => return "the client went away".into(),
            },
            read = from_tcp.read_buf(&mut buf) => match read {
                Ok(0) => {
                    close(&mut ws, CloseCode::Normal, "the TCP service closed the connection").await;
                    return "the TCP service closed".into();
                }
                Ok(_) => {
                    moved();
                    let chunk: Bytes = buf.split().freeze();
                    if let Err(e) = ws.send(Message::Binary(chunk)).await {
                        return format!("sending to the client failed: {e}");
                    }
                    buf.reserve(CHUNK);
                }
                Err(e) => {
                    close(&mut ws, CloseCode::Error, "reading from the TCP service failed").await;
                    return format!("reading from TCP failed: {e}");
                }
            },
            _ = crate::state::stopped(&mut shutdown) => {
                close(&mut ws, CloseCode::Away, "the proxy is shutting down").await;
                return "the proxy stopped".into();
            }
        }
    }
}

/// Send a close frame and give the client [`CLOSE_GRACE`] to answer it.
async fn close(ws: &mut ClientSocket, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if ws.close(Some(frame)).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

fn text(code: StatusCode, message: &'static str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from_static(message.as_bytes()))
            .map_err(BoxError::from)
            .boxed(),
    );
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn handshakes_are_checked() {
        let base = [
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        let h = Handshake::read(&headers(&base)).ok().unwrap();
        // RFC 6455, section 1.3.
        assert_eq!(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert!(!h.binary);
        let mut offered = base.to_vec();
        offered.push(("sec-websocket-protocol", "base64, binary"));
        assert!(Handshake::read(&headers(&offered)).ok().unwrap().binary);
        offered.pop();
        offered.push(("sec-websocket-protocol", "base64"));
        let refused = Handshake::read(&headers(&offered)).err();
        assert_eq!(refused, Some(Refusal::Subprotocol));
        let response = refused.unwrap().response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let old = Handshake::read(&headers(&[("sec-websocket-version", "8")]))
            .err()
            .unwrap();
        assert_eq!(old, Refusal::Version);
        assert_eq!(old.response().status(), StatusCode::UPGRADE_REQUIRED);
    }
}
