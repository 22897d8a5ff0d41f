//! Websocket upgrades through the proxy: a raw handshake to an echoing backend, bytes both
//! ways, activity from websocket data, and a dead target.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers a websocket handshake with 101, then echoes every byte back. The proxy does not
/// parse frames, so raw bytes are what it must carry.
async fn ws_echo_backend() -> RawBackend {
    RawBackend::start(|mut s: TcpStream| async move {
        let (head, rest) = read_head(&mut s).await;
        let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
        let upgraded = head.to_ascii_lowercase().contains("upgrade: websocket");
        if !upgraded {
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        }
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Accept: test\r\nX-Path: {path}\r\n\r\n"
        );
        s.write_all(answer.as_bytes()).await.unwrap();
        s.write_all(&rest).await.unwrap();
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

async fn handshake(p: &TestProxy, path: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(p.public).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let (head, rest) = read_head(&mut s).await;
    assert!(rest.is_empty());
    (s, head)
}

async fn echo_round_trip(s: &mut TcpStream, payload: &[u8]) {
    s.write_all(payload).await.unwrap();
    let mut back = vec![0u8; payload.len()];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut back))
        .await
        .expect("the echo came back")
        .unwrap();
    assert_eq!(back, payload);
}

#[tokio::test]
async fn upgrades_are_forwarded_both_ways() {
    let b = ws_echo_backend().await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/alice", json!({"target": b.url()})).await;
    let (mut s, head) = handshake(&p, "/user/alice/api/kernels/1/channels?session_id=x").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("upgrade: websocket") && lower.contains("sec-websocket-accept: test"),
        "{head}"
    );
    assert!(
        lower.contains("x-path: /user/alice/api/kernels/1/channels?session_id=x"),
        "{head}"
    );
    echo_round_trip(&mut s, b"\x81\x05hello").await;
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    echo_round_trip(&mut s, &big).await;
}

#[tokio::test]
async fn websocket_data_is_activity() {
    let b = ws_echo_backend().await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/alice", json!({"target": b.url()})).await;
    let (mut s, head) = handshake(&p, "/user/alice/ws").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let before = millis_of(&p.routes("").await["/user/alice"]["last_activity"]);
    clock_past(before).await;
    echo_round_trip(&mut s, b"tick").await;
    // The echo reached us, so the proxy already relayed it and touched the route.
    let after = millis_of(&p.routes("").await["/user/alice"]["last_activity"]);
    assert!(
        after > before,
        "websocket data moved last_activity ({before} -> {after})"
    );
}

#[tokio::test]
async fn a_dead_websocket_target_is_a_bare_503() {
    let dead = dead_address().await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/gone", json!({"target": format!("ws://{dead}")}))
        .await;
    let (_s, head) = handshake(&p, "/user/gone/ws").await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let (_s, head) = handshake(&p, "/nowhere").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}

#[tokio::test]
async fn a_refused_upgrade_is_passed_back() {
    let b = ws_echo_backend().await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/", json!({"target": b.url()})).await;
    // Not a websocket handshake: the backend says 400 and the proxy relays it as HTTP.
    let answer = raw_request(
        p.public,
        "GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}
