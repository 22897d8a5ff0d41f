//! HTTP forwarding: route lookup, CHP's prefix rules, `X-Forwarded-*`, hop-by-hop headers,
//! the upstream call through the pool, and which failure becomes which status.

use crate::error_page::{self, Kind};
use crate::routes::{path, Route};
use crate::state::{AppState, Body, BoxError, Metrics, Worker};
use crate::upstream::{Answer, Upstream};
use crate::{access, tcp_bridge, websocket};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// The client at the other end of a connection, as `X-Forwarded-For` names it: worked out
/// once per connection rather than per request.
#[derive(Clone)]
pub struct Peer {
    forwarded_for: HeaderValue,
}

impl Peer {
    pub fn new(addr: SocketAddr) -> Peer {
        let ip = addr.ip().to_canonical().to_string();
        Peer {
            forwarded_for: HeaderValue::from_str(&ip).unwrap_or(HeaderValue::from_static("")),
        }
    }
}

/// The hyper service of the public port. Never fails: every problem is a response.
pub async fn handle(
    worker: Arc<Worker>,
    peer: Peer,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let resp = proxy(&worker, &peer, req).await;
    worker.state.metrics.response(&method, resp.status());
    Ok(resp)
}

async fn proxy(worker: &Arc<Worker>, peer: &Peer, mut req: Request<Incoming>) -> Response<Body> {
    let (state, client) = (&worker.state, &worker.upstream);
    // The URL as the client asked for it, for error pages and logs.
    let original = req.uri().clone();
    let url = original.path_and_query().map_or("/", |p| p.as_str());
    if req.uri().path() == "/_chp_healthz" {
        return health();
    }
    let is_ws = websocket::is_upgrade(req.headers());
    let kind = if is_ws { Kind::Ws } else { Kind::Web };
    Metrics::inc(if is_ws {
        &state.metrics.requests_ws
    } else {
        &state.metrics.requests_web
    });

    // Look up and forward the same normalised path, so `..` cannot split the two.
    let normalized = path::normalize(original.path());
    let Ok(decoded) = path::percent_decode(&normalized) else {
        return error_page::plain(StatusCode::BAD_REQUEST);
    };
    let segments = path::lookup_segments(&decoded);
    let host = state
        .config
        .host_routing
        .then(|| request_host(req.headers()))
        .flatten();
    let Some(route) = state.routes.lookup(host.as_deref(), &segments) else {
        tracing::warn!(%url, "404: no route");
        return error_page::respond(state, client, StatusCode::NOT_FOUND, kind, url).await;
    };
    if let Some(rule) = &route.access {
        if let Err(refused) = access::check(state, rule, req.headers(), url, kind) {
            return refused;
        }
    }
    if tcp_bridge::is_bridged(&route) {
        return tcp_bridge::handle(worker, route, req).await;
    }
    let Some(uri) = outgoing_uri(state, &route, &normalized, req.uri().query()) else {
        return error_page::plain(StatusCode::BAD_REQUEST);
    };
    let client_upgrade = is_ws.then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    // Most requests have no body; they need no timer.
    let body: Body = match state.config.timeout {
        Some(t) if !body.is_end_stream() => IdleTimeoutBody::new(body, t).boxed(),
        _ => body.map_err(BoxError::from).boxed(),
    };
    let mut out = Request::new(body);
    *out.method_mut() = parts.method;
    *out.uri_mut() = uri;
    *out.version_mut() = Version::HTTP_11;
    *out.headers_mut() = outgoing_headers(state, &route, parts.headers, peer, is_ws);
    tracing::debug!(%url, target = %out.uri(), "proxy {}", if is_ws { "WS" } else { "WEB" });

    match send(state, client, out, client_upgrade.is_some()).await {
        Ok(Answer::Response(resp)) => into_client_response(&route, resp),
        Ok(Answer::Upgraded(head, upstream)) => match client_upgrade {
            Some(client) => websocket::splice(worker, route, client, head, upstream),
            // `send` refuses a 101 to a request that did not ask for one; never forward it.
            None => error_page::plain(StatusCode::BAD_GATEWAY),
        },
        Err(code) => {
            Metrics::inc(&state.metrics.upstream_errors);
            error_page::respond(state, client, code, kind, url).await
        }
    }
}

fn health() -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from_static(br#"{"status": "OK"}"#))
            .map_err(BoxError::from)
            .boxed(),
    );
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The request's host without its port, for host routing.
fn request_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => host.split(':').next()?.to_owned(),
    };
    Some(name)
}

/// The upstream URI: the target's path (unless `--no-prepend-path`), then the request's path
/// (less the route's prefix with `--no-include-prefix`), then the queries of both.
fn outgoing_uri(
    state: &AppState,
    route: &Route,
    normalized: &str,
    query: Option<&str>,
) -> Option<Uri> {
    let c = &state.config;
    let rest = if c.include_prefix {
        normalized.to_owned()
    } else {
        path::strip_segments(normalized, route.path_depth(c.host_routing))
    };
    let (base, base_query) = if c.prepend_path {
        (route.target.path.as_str(), route.target.query.as_deref())
    } else {
        ("/", None)
    };
    let mut pq = path::join(base, &rest);
    let queries: Vec<&str> = [base_query, query]
        .into_iter()
        .flatten()
        .filter(|q| !q.is_empty())
        .collect();
    if !queries.is_empty() {
        pq.push('?');
        pq.push_str(&queries.join("&"));
    }
    Uri::builder()
        .scheme(route.target.scheme.clone())
        .authority(route.target.authority.clone())
        .path_and_query(pq)
        .build()
        .ok()
}

/// Headers that describe one connection, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Drop hop-by-hop headers, and any the `Connection` header names. A websocket handshake keeps
/// `Connection: upgrade` and `Upgrade`, which are its point; otherwise `Upgrade` goes too.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::try_from(n.trim()).ok())
        .collect();
    for n in named.iter().chain(&HOP_BY_HOP) {
        if keep_upgrade && n == header::UPGRADE {
            continue;
        }
        headers.remove(n);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

fn outgoing_headers(
    state: &AppState,
    route: &Route,
    mut headers: HeaderMap,
    peer: &Peer,
    is_ws: bool,
) -> HeaderMap {
    let c = &state.config;
    let tls = c.tls.public.is_some();
    strip_hop_by_hop(&mut headers, is_ws);
    access::strip_session_cookie(&mut headers);
    if c.x_forward {
        let host = headers.get(header::HOST).cloned();
        let port = host
            .as_ref()
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                h.rsplit_once(':')
                    .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            })
            .and_then(|(_, p)| HeaderValue::from_str(p).ok())
            .unwrap_or(HeaderValue::from_static(if tls { "443" } else { "80" }));
        let proto = match (is_ws, tls) {
            (false, false) => "http",
            (false, true) => "https",
            (true, false) => "ws",
            (true, true) => "wss",
        };
        // Append to what earlier proxies said, comma-separated, as http-proxy does.
        append_forwarded(&mut headers, "x-forwarded-for", peer.forwarded_for.clone());
        append_forwarded(&mut headers, "x-forwarded-port", port);
        append_forwarded(
            &mut headers,
            "x-forwarded-proto",
            HeaderValue::from_static(proto),
        );
        if let (false, Some(h)) = (headers.contains_key("x-forwarded-host"), host) {
            headers.insert(HeaderName::from_static("x-forwarded-host"), h);
        }
    }
    for (k, v) in &c.custom_headers {
        headers.insert(k.clone(), v.clone());
    }
    if c.change_origin {
        let a = &route.target.authority;
        let default_port = if route.target.is_https() { 443 } else { 80 };
        let host = if a.port_u16() == Some(default_port) {
            a.host()
        } else {
            a.as_str()
        };
        if let Ok(v) = HeaderValue::from_str(host) {
            headers.insert(header::HOST, v);
        }
    }
    headers
}

fn append_forwarded(headers: &mut HeaderMap, name: &'static str, value: HeaderValue) {
    let name = HeaderName::from_static(name);
    if !headers.contains_key(&name) {
        headers.insert(name, value);
        return;
    }
    let before: Vec<&str> = headers
        .get_all(&name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let joined = format!("{},{}", before.join(", "), value.to_str().unwrap_or(""));
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(name, v);
    }
}

/// Send upstream and classify failures: nothing listening is 503 (CHP's "target down"), a
/// peer that resets or speaks garbage is 502, no answer within `--proxy-timeout` is 504, and
/// a client that stopped sending its body within `--timeout` is 408.
async fn send(
    state: &AppState,
    client: &Upstream,
    req: Request<Body>,
    upgrade: bool,
) -> Result<Answer, StatusCode> {
    let target = req.uri().clone();
    let started = std::time::Instant::now();
    let fut = client.send(req, upgrade);
    let result = match state.config.proxy_timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => {
                tracing::error!(%target, "504: no answer within the proxy timeout");
                return Err(StatusCode::GATEWAY_TIMEOUT);
            }
        },
        None => fut.await,
    };
    if result.is_ok() {
        state.metrics.upstream_answered(started.elapsed());
    }
    result.map_err(|e| {
        let code = if e.is_connect() {
            StatusCode::SERVICE_UNAVAILABLE
        } else if caused_by_client_timeout(&e) {
            StatusCode::REQUEST_TIMEOUT
        } else {
            StatusCode::BAD_GATEWAY
        };
        tracing::error!(%target, "{}: {}", code.as_u16(), error_chain(&e));
        code
    })
}

fn caused_by_client_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<ClientTimedOut>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// An error and its sources, joined with ": ", for one log line.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        s.push_str(": ");
        s.push_str(&err.to_string());
        cur = err.source();
    }
    s
}

fn into_client_response(route: &Arc<Route>, resp: Response<Body>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers, false);
    // As CHP: only successful answers count as activity, so a flood of 404s or 503s does not
    // keep an idle server looking busy.
    if parts.status.as_u16() < 300 {
        route.activity.touch();
    }
    Response::from_parts(parts, body)
}

/// The client went quiet for longer than `--timeout` while sending its request body.
#[derive(Debug, thiserror::Error)]
#[error("the client sent nothing for {0:?}")]
pub struct ClientTimedOut(Duration);

/// A request body that fails when no frame arrives within the idle timeout.
struct IdleTimeoutBody {
    inner: Incoming,
    idle: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimeoutBody {
    fn new(inner: Incoming, idle: Duration) -> Self {
        IdleTimeoutBody {
            inner,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl hyper::body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            let deadline = tokio::time::Instant::now() + this.idle;
            this.sleep.as_mut().reset(deadline);
            return Poll::Ready(frame.map(|r| r.map_err(BoxError::from)));
        }
        ready!(this.sleep.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(ClientTimedOut(this.idle)))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_and_named_ones_too() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::COOKIE));
    }

    #[test]
    fn a_websocket_handshake_keeps_its_upgrade() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h[header::CONNECTION], "upgrade");
        assert_eq!(h[header::UPGRADE], "websocket");
    }

    #[test]
    fn forwarded_values_append() {
        let mut h = HeaderMap::new();
        append_forwarded(
            &mut h,
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.1"),
        );
        append_forwarded(
            &mut h,
            "x-forwarded-for",
            HeaderValue::from_static("127.0.0.1"),
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1,127.0.0.1");
    }

    #[test]
    fn hosts_lose_their_port() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("Alice.example:8000"));
        assert_eq!(request_host(&h).as_deref(), Some("Alice.example"));
        h.insert(header::HOST, HeaderValue::from_static("[::1]:8000"));
        assert_eq!(request_host(&h).as_deref(), Some("[::1]"));
    }
}
