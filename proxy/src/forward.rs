//! HTTP forwarding: route lookup, CHP's prefix rules, `X-Forwarded-*`, hop-by-hop headers,
//! the upstream call through the pool, and which failure becomes which status.

use crate::error_page::{self, Kind};
use crate::outgoing::{Listed, Outgoing, Peer, Rewrite};
use crate::routes::{path, Route};
use crate::state::{AppState, Body, BoxError, Metrics, Worker};
use crate::upstream::{Answer, Head, UpstreamBody};
use crate::{access, location, tcp_bridge, websocket};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// The hyper service of the public port. Never fails: every problem is a response.
pub async fn handle(
    worker: Arc<Worker>,
    peer: Peer,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let resp = proxy(&worker, &peer, req).await;
    worker.traffic.response(&method, resp.status());
    Ok(resp)
}

/// Where a request goes, by its path (and Host, with host routing).
pub enum Destination<'p> {
    /// To this route, with the path normalised (forward this one, not the raw path).
    Route(Arc<Route>, Cow<'p, str>),
    NoRoute,
    /// The path does not decode (400).
    BadPath,
}

pub fn destination<'p>(state: &AppState, path: &'p str, host: Option<&[u8]>) -> Destination<'p> {
    // Look up and forward the same normalised path, so `..` cannot split the two.
    let normalized = path::normalize(path);
    let Ok(decoded) = path::percent_decode(&normalized) else {
        return Destination::BadPath;
    };
    let segments = path::lookup_segments(&decoded);
    let host = match state.config.host_routing {
        true => host.and_then(request_host),
        false => None,
    };
    match state.routes.lookup(host.as_deref(), &segments) {
        Some(route) => Destination::Route(route, normalized),
        None => Destination::NoRoute,
    }
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
        &worker.traffic.requests_ws
    } else {
        &worker.traffic.requests_web
    });

    let host = req.headers().get(header::HOST).map(HeaderValue::as_bytes);
    let (route, normalized) = match destination(state, original.path(), host) {
        Destination::Route(route, normalized) => (route, normalized),
        Destination::BadPath => return error_page::plain(StatusCode::BAD_REQUEST),
        Destination::NoRoute => {
            tracing::warn!(%url, "404: no route");
            return error_page::respond(state, client, StatusCode::NOT_FOUND, kind, url).await;
        }
    };
    if let Some(rule) = &route.access {
        if let Err(refused) = access::check(state, rule, req.headers(), url, kind) {
            return refused;
        }
    }
    if tcp_bridge::is_bridged(&route) {
        return tcp_bridge::handle(worker, route, req).await;
    }
    let client_upgrade = is_ws.then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    // Most requests have no body; they need no timer.
    let mut body: Option<Body> = match state.config.timeout {
        _ if body.is_end_stream() => None,
        Some(t) => Some(IdleTimeoutBody::new(body, t).boxed()),
        None => Some(body.map_err(BoxError::from).boxed()),
    };
    let chunked = body.is_some() && !parts.headers.contains_key(header::CONTENT_LENGTH);
    let rewrite = Rewrite {
        config: &state.config,
        route: &route,
        peer,
        websocket: is_ws,
    };
    let headers = || {
        parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
    };
    let out = rewrite.request(
        &parts.method,
        &normalized,
        original.query(),
        headers,
        chunked,
    );
    tracing::debug!(%url, target = %out.target(), "proxy {}", if is_ws { "WS" } else { "WEB" });

    match send(worker, &out, body.as_mut(), client_upgrade.is_some()).await {
        Ok(Answer::Response(head, body)) => {
            let mut resp = into_client_response(&route, head, body);
            if state.config.rewrites_location() {
                let host = parts.headers.get(header::HOST);
                location::apply(&state.config, &route.target, host, &mut resp);
            }
            resp
        }
        Ok(Answer::Upgraded(head, upstream)) => match client_upgrade {
            Some(client) => websocket::splice(worker, route, client, head, upstream),
            // `send` refuses a 101 to a request that did not ask for one; never forward it.
            None => error_page::plain(StatusCode::BAD_GATEWAY),
        },
        Err(code) => error_page::respond(state, client, code, kind, url).await,
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
fn request_host(host: &[u8]) -> Option<String> {
    let host = std::str::from_utf8(host).ok()?;
    let name = match host.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => host.split(':').next()?.to_owned(),
    };
    Some(name)
}

/// Drop a response's hop-by-hop headers, and any its `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed = Listed::new(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let gone: Vec<HeaderName> = headers
        .keys()
        .filter(|n| listed.is_hop_by_hop(n.as_str(), false))
        .cloned()
        .collect();
    for name in gone {
        headers.remove(name);
    }
}

/// Send upstream, count failures and classify them: nothing listening is 503 (CHP's "target down"), a
/// peer that resets or speaks garbage is 502, no answer within `--proxy-timeout` is 504, and
/// a client that stopped sending its body within `--timeout` is 408.
pub async fn send(
    worker: &Worker,
    req: &Outgoing,
    body: Option<&mut Body>,
    upgrade: bool,
) -> Result<Answer, StatusCode> {
    let started = std::time::Instant::now();
    let fut = worker.upstream.send(req, body, upgrade);
    let result = match worker.state.config.proxy_timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => {
                Metrics::inc(&worker.traffic.upstream_errors);
                let target = req.target();
                tracing::error!(%target, "504: no answer within the proxy timeout");
                return Err(StatusCode::GATEWAY_TIMEOUT);
            }
        },
        None => fut.await,
    };
    if result.is_ok() {
        worker.traffic.upstream_answered(started.elapsed());
    }
    result.map_err(|e| {
        Metrics::inc(&worker.traffic.upstream_errors);
        let code = if e.is_connect() {
            StatusCode::SERVICE_UNAVAILABLE
        } else if caused_by_client_timeout(&e) {
            StatusCode::REQUEST_TIMEOUT
        } else {
            StatusCode::BAD_GATEWAY
        };
        let target = req.target();
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

fn into_client_response(route: &Route, head: Head, body: UpstreamBody) -> Response<Body> {
    answered(route, head.status);
    let mut resp = Response::new(body.boxed());
    *resp.status_mut() = head.status;
    *resp.version_mut() = head.version;
    *resp.headers_mut() = head.headers();
    strip_hop_by_hop(resp.headers_mut());
    resp
}

/// A target answered a request to `route`. As CHP, only successful answers count as
/// activity, so a flood of 404s or 503s does not keep an idle server looking busy.
pub fn answered(route: &Route, status: StatusCode) {
    if status.as_u16() < 300 {
        route.activity.touch();
    }
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
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::COOKIE));
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(
            request_host(b"Alice.example:8000").as_deref(),
            Some("Alice.example")
        );
        assert_eq!(request_host(b"[::1]:8000").as_deref(), Some("[::1]"));
    }
}
