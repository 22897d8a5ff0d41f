//! The plain path (requests without a body, forwarded from bytes to bytes) and its hand-over
//! to hyper, seen from raw client connections: pipelined requests of both kinds on one
//! connection, heads arriving in pieces, `Connection: close`, HTTP/1.0, bodies re-framed for
//! the client, and a stop with idle connections open.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn echo_proxy(backend: &Backend) -> TestProxy {
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/t", json!({"target": backend.url()})).await;
    p
}

/// Take one answer with a `Content-Length` body off the front of `buf`, reading from `s` as
/// needed; returns its head and its body as JSON.
async fn answer(s: &mut TcpStream, buf: &mut Vec<u8>) -> (String, Value) {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..end + 4].to_vec()).unwrap();
            let length = content_length(&head);
            if buf.len() >= end + 4 + length {
                let body: Vec<u8> = buf.drain(..end + 4 + length).skip(end + 4).collect();
                return (head, serde_json::from_slice(&body).unwrap());
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "the connection closed before the answer was complete"
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let l = l.to_ascii_lowercase();
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn pipelined_requests_of_both_kinds_are_answered_in_order() {
    let b = Backend::start("b").await;
    let p = echo_proxy(&b).await;
    let mut s = TcpStream::connect(p.public).await.unwrap();
    // A plain GET, a POST with a body (hyper's from here on), then another GET, in one write.
    s.write_all(
        b"GET /t/one HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /t/two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
          GET /t/three HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let mut rest = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (head, body) = answer(&mut s, &mut rest).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        seen.push((
            body["method"].clone(),
            body["uri"].clone(),
            body["body"].clone(),
        ));
    }
    assert_eq!(
        seen,
        [
            (json!("GET"), json!("/t/one"), json!("")),
            (json!("POST"), json!("/t/two"), json!("hello")),
            (json!("GET"), json!("/t/three"), json!("")),
        ]
    );
}

#[tokio::test]
async fn a_head_arriving_in_pieces_is_served_and_the_connection_kept() {
    let b = Backend::start("b").await;
    let p = echo_proxy(&b).await;
    let mut s = TcpStream::connect(p.public).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut rest = Vec::new();
    for path in ["/t/a", "/t/b?x=1"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Piece: yes\r\n\r\n");
        for piece in request.as_bytes().chunks(3) {
            s.write_all(piece).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (head, body) = answer(&mut s, &mut rest).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body["uri"], path);
        assert_eq!(body["headers"]["x-piece"], "yes");
    }
}

#[tokio::test]
async fn connection_close_is_answered_and_honoured() {
    let b = Backend::start("b").await;
    let p = echo_proxy(&b).await;
    // `raw_request` reads to the end: it fails unless the proxy closes the connection.
    let a = raw_request(
        p.public,
        "GET /t/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    assert!(
        a.to_ascii_lowercase().contains("\r\nconnection: close\r\n"),
        "{a}"
    );
    assert_eq!(body_json(&a)["uri"], "/t/c");
    // The hop-by-hop `Connection: close` is the client's; the target does not see it.
    assert!(body_json(&a)["headers"].get("connection").is_none(), "{a}");
}

#[tokio::test]
async fn http_1_0_without_a_host_is_left_to_hyper_and_forwarded() {
    let b = Backend::start("b").await;
    let p = echo_proxy(&b).await;
    let a = raw_request(p.public, "GET /t/old HTTP/1.0\r\n\r\n").await;
    assert!(
        a.starts_with("HTTP/1.0 200") || a.starts_with("HTTP/1.1 200"),
        "{a}"
    );
    let body = body_json(&a);
    assert_eq!(body["uri"], "/t/old");
    assert_eq!(
        body["headers"]["host"],
        b.addr.to_string(),
        "the target's own authority"
    );
}

#[tokio::test]
async fn a_body_of_unknown_length_reaches_the_client_chunked_on_a_kept_connection() {
    // A target that ends its body by closing the connection (HTTP/1.0 style).
    let t = RawBackend::start(|mut s: TcpStream| async move {
        let (head, _) = read_head(&mut s).await;
        if !head.is_empty() {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed until close")
                .await;
        }
    })
    .await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/t", json!({"target": t.url()})).await;
    let mut s = TcpStream::connect(p.public).await.unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /t/x HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (head, mut body) = read_head(&mut s).await;
        let lower = head.to_ascii_lowercase();
        assert!(
            lower.contains("\r\ntransfer-encoding: chunked\r\n"),
            "{head}"
        );
        assert!(
            !lower.contains("connection: close"),
            "the client's connection stays: {head}"
        );
        while !body.ends_with(b"0\r\n\r\n") {
            let mut chunk = [0u8; 256];
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(body, b"14\r\nstreamed until close\r\n0\r\n\r\n");
    }
}

#[tokio::test]
async fn a_stop_does_not_wait_for_idle_keep_alive_connections() {
    let b = Backend::start("b").await;
    let p = echo_proxy(&b).await;
    let mut s = TcpStream::connect(p.public).await.unwrap();
    s.write_all(b"GET /t/idle HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let (head, _) = answer(&mut s, &mut rest).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The connection now waits for its next request; the grace period for busy ones is 10 s.
    tokio::time::timeout(Duration::from_secs(5), p.stop())
        .await
        .expect("the proxy stops without waiting for idle connections")
        .unwrap();
    let mut left = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut left)).await;
    assert!(
        matches!(n, Ok(Ok(0))),
        "the idle connection is closed: {n:?} {left:?}"
    );
}
