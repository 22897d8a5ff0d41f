//! Websockets bridged to raw TCP (`"ws_bridge": "tcp"`): a real TCP echo service behind the
//! proxy, a real websocket client (tungstenite) in front, and every way a bridge can end.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Client = WebSocketStream<TcpStream>;

/// A raw TCP service that echoes every byte back, as a VNC server would talk: no HTTP.
async fn tcp_echo() -> RawBackend {
    RawBackend::start(|mut s: TcpStream| async move {
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

async fn bridged_proxy(target: String) -> TestProxy {
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route(
        "/desktop/alice",
        json!({"target": target, "ws_bridge": "tcp"}),
    )
    .await;
    p
}

/// Connect through the proxy, offering `protocols`; returns the client and the subprotocol
/// the proxy chose.
async fn connect(p: &TestProxy, path: &str, protocols: &[&str]) -> (Client, Option<String>) {
    let uri = format!("ws://{}{path}", p.public).parse().unwrap();
    let mut req = ClientRequestBuilder::new(uri);
    for proto in protocols {
        req = req.with_sub_protocol(*proto);
    }
    let stream = TcpStream::connect(p.public).await.unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("the bridge accepts the handshake");
    let chosen = resp
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    (ws, chosen)
}

/// The next message that is not a ping or pong, within 5 s.
async fn next(ws: &mut Client) -> Option<Message> {
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a message within 5 s");
    msg.map(|m| m.expect("a well-formed message"))
}

/// Send `payload` in binary messages of `frame` bytes and read until as many bytes came back.
async fn round_trip(ws: &mut Client, payload: &[u8], frame: usize) {
    for chunk in payload.chunks(frame) {
        ws.send(Message::binary(chunk.to_vec())).await.unwrap();
    }
    let mut back = Vec::new();
    while back.len() < payload.len() {
        match next(ws).await {
            Some(Message::Binary(b)) => back.extend_from_slice(&b),
            other => panic!("expected binary data, got {other:?}"),
        }
    }
    assert_eq!(back, payload);
}

/// A handshake written by hand, for answers a well-behaved client library would refuse;
/// returns the answer's head and body (by its `Content-Length`).
async fn raw_handshake(p: &TestProxy, path: &str, extra: &str) -> String {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    );
    let mut s = TcpStream::connect(p.public).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let (head, rest) = read_head(&mut s).await;
    let body = read_body(&mut s, &head, rest).await;
    format!("{head}{}", String::from_utf8_lossy(&body))
}

#[tokio::test]
async fn binary_messages_reach_the_tcp_service_and_come_back() {
    let echo = tcp_echo().await;
    let p = bridged_proxy(echo.url()).await;
    let (mut ws, chosen) = connect(&p, "/desktop/alice/websockify", &["binary"]).await;
    assert_eq!(chosen.as_deref(), Some("binary"));
    round_trip(&mut ws, b"RFB 003.008\n", 1024).await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    round_trip(&mut ws, &big, 16 * 1024).await;
    // The route's data is kept verbatim, the bridge key included.
    let route = &p.routes("").await["/desktop/alice"];
    assert_eq!(route["ws_bridge"], "tcp");
}

#[tokio::test]
async fn subprotocols_binary_or_none() {
    let echo = tcp_echo().await;
    let p = bridged_proxy(echo.url()).await;
    let (mut ws, chosen) = connect(&p, "/desktop/alice", &[]).await;
    assert_eq!(chosen, None, "no subprotocol offered, none chosen");
    round_trip(&mut ws, b"no protocol", 4).await;
    let (_, chosen) = connect(&p, "/desktop/alice", &["base64", "binary"]).await;
    assert_eq!(chosen.as_deref(), Some("binary"));
    let answer = raw_handshake(&p, "/desktop/alice", "Sec-WebSocket-Protocol: base64\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("'binary'"), "{answer}");
}

#[tokio::test]
async fn pings_are_answered_and_count_as_activity() {
    let echo = tcp_echo().await;
    let p = bridged_proxy(echo.url()).await;
    let (mut ws, _) = connect(&p, "/desktop/alice", &["binary"]).await;
    let before = millis_of(&p.routes("").await["/desktop/alice"]["last_activity"]);
    clock_past(before).await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a pong within 5 s");
    assert!(
        matches!(&pong, Some(Ok(Message::Pong(b))) if &b[..] == b"are you there"),
        "{pong:?}"
    );
    let after_ping = millis_of(&p.routes("").await["/desktop/alice"]["last_activity"]);
    assert!(after_ping > before, "a ping moved last_activity");
    clock_past(after_ping).await;
    round_trip(&mut ws, b"tick", 4).await;
    let after_data = millis_of(&p.routes("").await["/desktop/alice"]["last_activity"]);
    assert!(
        after_data > after_ping,
        "data moved last_activity ({after_ping} -> {after_data})"
    );
}

#[tokio::test]
async fn a_client_close_is_answered_and_closes_the_tcp_connection() {
    let (closed_tx, mut closed) = mpsc::unbounded_channel::<Vec<u8>>();
    let service = RawBackend::start(move |mut s: TcpStream| {
        let closed_tx = closed_tx.clone();
        async move {
            let mut got = Vec::new();
            let _ = s.read_to_end(&mut got).await;
            let _ = closed_tx.send(got);
        }
    })
    .await;
    let p = bridged_proxy(service.url()).await;
    let (mut ws, _) = connect(&p, "/desktop/alice", &["binary"]).await;
    ws.send(Message::binary(b"last words".to_vec()))
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    // The proxy answers our close, and the stream ends.
    loop {
        match next(&mut ws).await {
            Some(Message::Close(_)) => {}
            None => break,
            other => panic!("expected the close handshake, got {other:?}"),
        }
    }
    let got = tokio::time::timeout(Duration::from_secs(5), closed.recv())
        .await
        .expect("the TCP service saw its connection end")
        .unwrap();
    assert_eq!(got, b"last words");
}

#[tokio::test]
async fn the_tcp_service_closing_sends_a_close_frame() {
    // Like a VNC server refusing a client: a greeting, then it hangs up.
    let service = RawBackend::start(|mut s: TcpStream| async move {
        let _ = s.write_all(b"RFB 003.008\n").await;
    })
    .await;
    let p = bridged_proxy(service.url()).await;
    let (mut ws, _) = connect(&p, "/desktop/alice", &["binary"]).await;
    match next(&mut ws).await {
        Some(Message::Binary(b)) => assert_eq!(&b[..], b"RFB 003.008\n"),
        other => panic!("expected the greeting, got {other:?}"),
    }
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Normal),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn proxy_shutdown_says_going_away() {
    let echo = tcp_echo().await;
    let p = bridged_proxy(echo.url()).await;
    let (mut ws, _) = connect(&p, "/desktop/alice", &["binary"]).await;
    round_trip(&mut ws, b"hello", 5).await;
    let stopping = tokio::spawn(p.stop());
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    drop(ws);
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_dead_tcp_service_is_a_503_before_any_upgrade() {
    let dead = dead_address().await;
    let p = bridged_proxy(format!("http://{dead}")).await;
    let answer = raw_handshake(&p, "/desktop/alice", "").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("not accepting connections"), "{answer}");
}

#[tokio::test]
async fn plain_http_on_a_bridged_route_is_a_400_that_says_why() {
    let echo = tcp_echo().await;
    let p = bridged_proxy(echo.url()).await;
    let r = p.http.get(p.url("/desktop/alice/")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("websocket"));
}

#[tokio::test]
async fn the_api_refuses_bridges_it_cannot_make() {
    let p = TestProxy::start(TestProxy::config()).await;
    for body in [
        json!({"target": "http://127.0.0.1:5901", "ws_bridge": "udp"}),
        json!({"target": "http://127.0.0.1:5901", "ws_bridge": true}),
        json!({"target": "https://127.0.0.1:5901", "ws_bridge": "tcp"}),
    ] {
        let r = p
            .http
            .post(p.api_url("/desktop/bob"))
            .header("Authorization", format!("token {TOKEN}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let message = r.json::<serde_json::Value>().await.unwrap()["message"].clone();
        assert!(message.as_str().unwrap().contains("ws_bridge"), "{message}");
    }
}
