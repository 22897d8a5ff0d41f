//! Websocket forwarding: once the upstream answers the handshake with 101, both upgraded
//! connections are spliced together and every chunk either way counts as route activity.

use crate::busy_poll::{self, Progress};
use crate::routes::activity::Activity;
use crate::routes::Route;
use crate::state::{Body, BoxError, Worker};
use crate::tap::{Observer, Tap};
use crate::upstream::Conn;
use http::header::{self, HeaderMap};
use http::Response;
use http_body_util::{BodyExt, Empty};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A websocket handshake: `Connection` lists `upgrade` and `Upgrade` names `websocket`.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let has_token = |name, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has_token(header::CONNECTION, "upgrade") && has_token(header::UPGRADE, "websocket")
}

/// Answer the client with the upstream's 101 and, in the background, copy bytes both ways
/// until either side closes or the proxy shuts down.
pub fn splice(
    worker: &Arc<Worker>,
    route: Arc<Route>,
    client: OnUpgrade,
    upstream_head: Response<()>,
    mut upstream: Conn,
) -> Response<Body> {
    let (parts, ()) = upstream_head.into_parts();
    // Holding the worker makes it wait for this websocket at shutdown.
    let worker = worker.clone();
    tokio::spawn(async move {
        let state = &worker.state;
        let client = match client.await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(route = %route.spec, "websocket upgrade did not complete: {e}");
                return;
            }
        };
        let progress = Arc::new(Progress::default());
        let traffic = RouteTraffic {
            activity: route.activity.clone(),
            progress: progress.clone(),
        };
        let mut client = Tap::new(TokioIo::new(client), traffic);
        let mut shutdown = state.shutdown.clone();
        state
            .metrics
            .websockets_open
            .fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            r = busy_poll::run(
                tokio::io::copy_bidirectional(&mut client, &mut upstream),
                &progress,
                state.config.websocket_busy_poll,
            ) => {
                if let Err(e) = r {
                    tracing::debug!(route = %route.spec, "websocket closed: {e}");
                }
            }
            _ = crate::state::stopped(&mut shutdown) => {}
        }
        state
            .metrics
            .websockets_open
            .fetch_sub(1, Ordering::Relaxed);
    });
    Response::from_parts(parts, Empty::new().map_err(BoxError::from).boxed())
}

/// Watches the client side of a websocket: data either way touches the route's activity
/// ([`Activity::touch`] is a relaxed load per chunk and a store at most once a millisecond)
/// and keeps the worker polling ([`busy_poll`]).
struct RouteTraffic {
    activity: Arc<Activity>,
    progress: Arc<Progress>,
}

impl RouteTraffic {
    fn moved(&self) {
        self.activity.touch();
        self.progress.moved();
    }
}

impl Observer for RouteTraffic {
    fn read(&self, _: usize) {
        self.moved();
    }

    fn wrote(&self, _: usize) {
        self.moved();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn recognises_handshakes() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(is_upgrade(&h));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!is_upgrade(&h));
        h.remove(header::CONNECTION);
        assert!(!is_upgrade(&h));
    }

    #[tokio::test]
    async fn data_either_way_is_activity() {
        let (a, mut b) = tokio::io::duplex(64);
        let activity = Arc::new(Activity::at(0));
        let traffic = RouteTraffic {
            activity: activity.clone(),
            progress: Arc::default(),
        };
        let mut io = Tap::new(a, traffic);
        io.write_all(b"ping").await.unwrap();
        assert!(activity.millis() > 0, "writing touched");
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();

        let activity2 = Arc::new(Activity::at(0));
        io.observer.activity = activity2.clone();
        b.write_all(b"pong").await.unwrap();
        io.read_exact(&mut buf).await.unwrap();
        assert!(activity2.millis() > 0, "reading touched");
    }
}
