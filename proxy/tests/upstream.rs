//! The proxy's own HTTP/1.1 client against targets that use the corners of the protocol:
//! chunked and close-delimited bodies, interim answers, connections closed while idle,
//! bodies cut short, and answers that are not allowed.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A target that answers each request on a connection with `answer` (raw bytes), then keeps
/// the connection for the next request.
async fn scripted(answer: &'static [u8]) -> RawBackend {
    RawBackend::start(move |mut s: TcpStream| async move {
        loop {
            let (head, _) = read_head(&mut s).await;
            if head.is_empty() || s.write_all(answer).await.is_err() {
                return;
            }
        }
    })
    .await
}

async fn proxy_to(target: &RawBackend) -> TestProxy {
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/t", json!({"target": target.url()})).await;
    p
}

#[tokio::test]
async fn chunked_answers_arrive_whole_and_the_connection_is_reused() {
    let t = scripted(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;note=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n",
    )
    .await;
    let p = proxy_to(&t).await;
    for _ in 0..3 {
        let r = p.http.get(p.url("/t/a")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "hello, world");
    }
    assert_eq!(t.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_delimited_by_close_arrives_whole() {
    let t = RawBackend::start(|mut s: TcpStream| async move {
        let _ = read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            .await;
    })
    .await;
    let p = proxy_to(&t).await;
    for _ in 0..2 {
        let r = p.http.get(p.url("/t/a")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "until the end");
    }
    assert_eq!(
        t.connections.load(Ordering::SeqCst),
        2,
        "a connection whose body ended with its close cannot be reused"
    );
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let t = scripted(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal",
    )
    .await;
    let p = proxy_to(&t).await;
    let r = p.http.get(p.url("/t/a")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "real");
}

#[tokio::test]
async fn head_answers_have_no_body_and_keep_the_connection() {
    let t = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await;
    let p = proxy_to(&t).await;
    for _ in 0..3 {
        let r = p.http.head(p.url("/t/a")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-length"], "1000");
    }
    assert_eq!(t.connections.load(Ordering::SeqCst), 1);
}

/// A target that closes every connection after one answer without saying so, and reports
/// each close: a pooled connection is then stale by the time the next request comes.
async fn closes_after_each_answer() -> (RawBackend, mpsc::UnboundedReceiver<()>) {
    let (closed, closes) = mpsc::unbounded_channel();
    let t = RawBackend::start(move |mut s: TcpStream| {
        let closed = closed.clone();
        async move {
            let (head, rest) = read_head(&mut s).await;
            let body = read_body(&mut s, &head, rest).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
                body.len() + 2,
                format_args!("ok{}", String::from_utf8_lossy(&body))
            );
            let _ = s.write_all(answer.as_bytes()).await;
            drop(s);
            let _ = closed.send(());
        }
    })
    .await;
    (t, closes)
}

#[tokio::test]
async fn a_request_on_a_connection_the_target_closed_is_sent_again() {
    let (t, mut closes) = closes_after_each_answer().await;
    let p = proxy_to(&t).await;
    for i in 0..3 {
        let r = p.http.get(p.url("/t/a")).send().await.unwrap();
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(r.text().await.unwrap(), "ok");
        closes.recv().await.unwrap();
    }
    // A request with a body cannot be sent twice: the stale connection is noticed first.
    for i in 0..3 {
        let r = p
            .http
            .post(p.url("/t/a"))
            .body(format!("body{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "post {i}");
        assert_eq!(r.text().await.unwrap(), format!("okbody{i}"));
        closes.recv().await.unwrap();
    }
}

#[tokio::test]
async fn a_body_cut_short_fails_the_client_and_others_are_still_served() {
    let t = RawBackend::start(|mut s: TcpStream| async move {
        let _ = read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
            .await;
    })
    .await;
    let good = Backend::start("good").await;
    let p = proxy_to(&t).await;
    p.add_route("/good", json!({"target": good.url()})).await;
    // The head may or may not have left before the body failed (it can still sit in the
    // connection's buffer when the failure comes); either way the client must not get a
    // complete-looking answer.
    match p.http.get(p.url("/t/a")).send().await {
        Ok(r) => {
            assert_eq!(r.status(), 200);
            assert!(
                r.bytes().await.is_err(),
                "the client must see the body fail"
            );
        }
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    let r = p.http.get(p.url("/good/x")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unasked_upgrades_huge_heads_and_bad_lengths_are_502() {
    let upgrade = scripted(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").await;
    let huge = RawBackend::start(|mut s: TcpStream| async move {
        let _ = read_head(&mut s).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n").await;
        let line = format!("X-Big: {}\r\n", "a".repeat(1000));
        for _ in 0..100 {
            if s.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let lengths =
        scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd").await;
    let p = proxy_to(&upgrade).await;
    p.add_route("/huge", json!({"target": huge.url()})).await;
    p.add_route("/lengths", json!({"target": lengths.url()}))
        .await;
    for path in ["/t/a", "/huge/a", "/lengths/a"] {
        let r = p.http.get(p.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 502, "{path}");
    }
}

#[tokio::test]
async fn request_bodies_without_a_length_are_sent_chunked() {
    let b = Backend::start("echo").await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/e", json!({"target": b.url()})).await;
    let answer = raw_request(
        p.public,
        "POST /e/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let echo = body_json(&answer);
    assert_eq!(echo["body"], "one two three");
    assert_eq!(echo["headers"]["transfer-encoding"], "chunked");
    // A body with a length keeps it.
    let r = p
        .http
        .post(p.url("/e/x"))
        .body("0123456789")
        .send()
        .await
        .unwrap();
    let echo: serde_json::Value = r.json().await.unwrap();
    assert_eq!(echo["body"], "0123456789");
    assert_eq!(echo["headers"]["content-length"], "10");
}
