//! `/metrics` on the metrics port after real traffic: CHP's counters and ours move by what was
//! sent, and the websocket and TCP-bridge gauges follow connections opening and closing.

mod common;
#[path = "common/tls.rs"]
mod tls_kit;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tls_kit::TlsBackend;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Every sample line of a scrape, `name{labels}` to value.
async fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    r.text()
        .await
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn value(m: &HashMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_with_real_traffic() {
    let p = TestProxy::start(TestProxy::config()).await;
    let backend = Backend::start("web").await;
    let before = scrape(p.metrics).await;
    p.add_route("/web", json!({"target": backend.url()})).await;
    for _ in 0..3 {
        let r = p.http.get(p.url("/web/x")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = p
        .http
        .post(p.url("/web/form"))
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = p.http.get(p.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    p.routes("").await;
    let r = p
        .http
        .delete(p.api_url("/missing"))
        .header("Authorization", format!("token {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let after = scrape(p.metrics).await;
    let moved = |k: &str| value(&after, k) - value(&before, k);
    assert_eq!(moved("requests_web"), 5.0);
    assert_eq!(moved("requests_proxy{status=\"200\"}"), 4.0);
    assert_eq!(moved("requests_proxy{status=\"404\"}"), 1.0);
    let responses = |m, c| format!("ferrohub_proxy_responses_total{{method=\"{m}\",code=\"{c}\"}}");
    assert_eq!(moved(&responses("GET", "2xx")), 3.0);
    assert_eq!(moved(&responses("POST", "2xx")), 1.0);
    assert_eq!(moved(&responses("GET", "4xx")), 1.0);
    assert_eq!(moved("ferrohub_proxy_upstream_latency_seconds_count"), 4.0);
    assert_eq!(
        moved("ferrohub_proxy_upstream_latency_seconds_bucket{le=\"+Inf\"}"),
        4.0
    );
    assert!(moved("ferrohub_proxy_upstream_latency_seconds_sum") > 0.0);
    // Five request heads and a body in; five answers (four JSON echoes) out.
    assert!(moved("ferrohub_proxy_received_bytes_total") > 5.0 * 30.0);
    assert!(moved("ferrohub_proxy_sent_bytes_total") > 4.0 * 100.0);
    assert_eq!(moved("api_route_add"), 1.0);
    assert_eq!(moved("api_route_get"), 1.0);
    assert_eq!(moved("api_route_delete"), 1.0);
    assert_eq!(moved("requests_api{status=\"201\"}"), 1.0);
    assert_eq!(moved("requests_api{status=\"404\"}"), 1.0);
    assert_eq!(value(&after, "ferrohub_proxy_routes"), 1.0);
    assert!(value(&after, "process_resident_memory_bytes") > 0.0);
}

#[tokio::test]
async fn websocket_gauges_follow_connections() {
    let p = TestProxy::start(TestProxy::config()).await;
    let ws = TlsBackend::ws_echo(None).await;
    let tcp_echo = RawBackend::start(|mut s: TcpStream| async move {
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
        let _ = w.shutdown().await;
    })
    .await;
    p.add_route("/ws", json!({"target": format!("ws://{}", ws.addr)}))
        .await;
    p.add_route(
        "/vnc",
        json!({"target": tcp_echo.url(), "ws_bridge": "tcp"}),
    )
    .await;

    let url = |path: &str| format!("ws://{}{path}", p.public);
    let connect = |path: &'static str| async move {
        let tcp = TcpStream::connect(p.public).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(url(path), tcp)
            .await
            .unwrap();
        ws
    };
    let mut spliced = connect("/ws/").await;
    spliced.send(Message::text("x")).await.unwrap();
    assert!(spliced.next().await.unwrap().unwrap().is_text());
    let mut bridged = connect("/vnc/").await;
    bridged
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    assert!(bridged.next().await.unwrap().unwrap().is_binary());

    let gauges = |spliced: f64, bridged: f64| {
        let addr = p.metrics;
        async move {
            let m = scrape(addr).await;
            (value(&m, "ferrohub_proxy_websockets_open") == spliced
                && value(&m, "ferrohub_proxy_tcp_bridges_open") == bridged)
                .then_some(m)
        }
    };
    let open = eventually(Duration::from_secs(10), "both gauges at 1", || {
        gauges(1.0, 1.0)
    })
    .await;
    assert_eq!(value(&open, "requests_ws"), 2.0);
    drop(spliced);
    drop(bridged);
    eventually(Duration::from_secs(10), "both gauges back at 0", || {
        gauges(0.0, 0.0)
    })
    .await;
}
