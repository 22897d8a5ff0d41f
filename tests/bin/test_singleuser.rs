//! A stand-in single-user server for container tests, baked into the
//! `ferrohub-test-singleuser` image by `scripts/build-test-images.sh`: it listens where
//! `JUPYTERHUB_SERVICE_URL` says (as the spawner contract requires), answers every path with
//! 200 and its user's name, and any path under its prefix ending in `/env` with its
//! environment as JSON, so a test can check the contract arrived inside the container. The
//! `ferrohub-test-webapp` image runs it as a manager's web app (prefix `/`, so it answers
//! under the full path the proxy passes, as an app must).

use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let service_url = std::env::var("JUPYTERHUB_SERVICE_URL")
        .expect("JUPYTERHUB_SERVICE_URL is set by the spawner");
    let (addr, prefix) = split_url(&service_url);
    let listener = TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    println!("ferrohub-test-singleuser listening on {addr} under {prefix}");
    // PID 1 in a container gets no default signal handling: without this, `docker stop`
    // would wait its whole timeout and then kill.
    let mut term = signal(SignalKind::terminate()).expect("signal handler");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(answer(stream, prefix.clone()));
                }
            }
            _ = term.recv() => {
                println!("SIGTERM: exiting");
                return;
            }
        }
    }
}

/// `http://0.0.0.0:8888/user/alice/` -> (`0.0.0.0:8888`, `/user/alice/`).
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let prefix = if path.is_empty() { "/" } else { path };
    (authority.to_owned(), prefix.to_owned())
}

async fn answer(mut stream: TcpStream, prefix: String) {
    let mut buf = vec![0; 8192];
    let mut len = 0;
    // Read the request head; bodies are ignored.
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let (kind, body) = if path.starts_with(&prefix) && path.ends_with("/env") {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        (
            "application/json",
            serde_json::to_string(&env).expect("strings"),
        )
    } else {
        (
            "text/plain",
            std::env::var("JUPYTERHUB_USER").unwrap_or_default(),
        )
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
