//! Websocket benchmark kit for bench/proxy_ws.sh and bench/proxy_soak.sh (loopback only):
//!
//! - `ws_bench echo`: a websocket echo server on 127.0.0.1 (a free port, printed on stdout).
//! - `ws_bench rtt URL [MESSAGES]`: one connection, MESSAGES sequential 64-byte round trips
//!   after a warm-up; prints `median_us p99_us`.
//! - `ws_bench soak URL CONNS SECONDS [RECONNECT]`: CONNS connections, each sending a 1 KiB
//!   message and waiting for its echo, over and over, for SECONDS; with RECONNECT, each closes
//!   after that many messages and opens a new one (churn). Prints the messages echoed and the
//!   connections opened, and exits non-zero if any connection failed or got back something
//!   else.
//!
//! Build with `cargo build --release -p ferrohub-proxy --example ws_bench`.

use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        Some("echo") => echo().await,
        Some("rtt") => {
            let n = arg(2).map_or(10_000, |n| n.parse().expect("MESSAGES is a number"));
            rtt(arg(1).expect("URL"), n).await
        }
        Some("soak") => {
            let conns = arg(2).expect("CONNS").parse().expect("CONNS is a number");
            let secs = arg(3)
                .expect("SECONDS")
                .parse()
                .expect("SECONDS is a number");
            let reconnect = arg(4).map_or(0, |n| n.parse().expect("RECONNECT is a number"));
            soak(
                arg(1).expect("URL"),
                conns,
                Duration::from_secs(secs),
                reconnect,
            )
            .await
        }
        _ => {
            eprintln!(
                "usage: ws_bench echo | rtt URL [MESSAGES] | soak URL CONNS SECONDS [RECONNECT]"
            );
            std::process::exit(2);
        }
    }
}

async fn echo() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Open a websocket to `url`; what failed, if it did (the URL itself must be usable).
async fn connect(url: &str) -> Result<Ws, String> {
    let u = url::Url::parse(url).expect("a ws:// URL");
    let addr = format!(
        "{}:{}",
        u.host_str().expect("a host"),
        u.port().expect("a port")
    );
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async(url, tcp)
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    Ok(ws)
}

async fn round_trip(ws: &mut Ws, payload: &[u8]) -> Result<(), String> {
    ws.send(Message::binary(payload.to_vec()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) if b[..] == *payload => return Ok(()),
            Some(Ok(Message::Binary(_))) => return Err("a different payload came back".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed".into()),
        }
    }
}

async fn rtt(url: &str, n: usize) {
    let mut ws = connect(url).await.unwrap();
    let payload = [7u8; 64];
    for _ in 0..n / 10 + 100 {
        round_trip(&mut ws, &payload).await.unwrap();
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        round_trip(&mut ws, &payload).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!("{:.1} {:.1}", at(0.5), at(0.99));
}

/// `reconnect`: messages per connection before it closes and a new one opens (0: never).
async fn soak(url: &str, conns: usize, length: Duration, reconnect: u64) {
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for i in 0..conns {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let payload: Vec<u8> = (0..1024).map(|b| (b + i) as u8).collect();
            let (mut messages, mut opened) = (0u64, 0u64);
            while Instant::now() < deadline {
                let mut ws = connect(&url).await?;
                opened += 1;
                let mut on_this = 0;
                while Instant::now() < deadline && (reconnect == 0 || on_this < reconnect) {
                    round_trip(&mut ws, &payload).await?;
                    on_this += 1;
                }
                messages += on_this;
                ws.close(None).await.map_err(|e| format!("closing: {e}"))?;
            }
            Ok::<(u64, u64), String>((messages, opened))
        }));
    }
    let (mut total, mut opened, mut failed) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok((n, o)) => {
                total += n;
                opened += o;
            }
            Err(e) => {
                eprintln!("a connection failed: {e}");
                failed += 1;
            }
        }
    }
    println!("{total} {opened}");
    if failed > 0 {
        std::process::exit(1);
    }
}
