//! A minimal websocket client for the end-to-end tests, enough to drive a Jupyter kernel
//! through a proxy.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Just enough of a websocket client (RFC 6455) to talk to a Jupyter kernel in the JSON
/// message format: the handshake, masked text frames out, unfragmented frames in.
pub struct WebSocket {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl WebSocket {
    pub async fn connect(port: u16, path: &str, token: &str) -> WebSocket {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut ws = WebSocket {
            stream,
            buf: vec![],
        };
        // The key and its accept value are the example of RFC 6455, section 1.3.
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: token {token}\r\n\r\n"
        );
        ws.stream.write_all(request.as_bytes()).await.unwrap();
        let end = loop {
            if let Some(i) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            ws.fill().await;
        };
        let head = String::from_utf8_lossy(&ws.buf[..end]).into_owned();
        let accept = "sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=";
        let ok = head.starts_with("HTTP/1.1 101") && head.to_lowercase().contains(accept);
        assert!(ok, "websocket handshake for GET {path}:\n{head}");
        ws.buf.drain(..end);
        ws
    }

    /// Run `code` with an `execute_request` on the shell channel; returns the text of the first
    /// iopub `stream` message answering it.
    pub async fn execute(&mut self, code: &str) -> String {
        let request = json!({
            "channel": "shell",
            "header": {"msg_id": "e2e-1", "msg_type": "execute_request", "username": "alice",
                       "session": "e2e", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "buffers": [],
            "content": {"code": code, "silent": false, "store_history": false,
                        "user_expressions": {}, "allow_stdin": false, "stop_on_error": true},
        });
        self.send_text(&request.to_string()).await;
        let mut seen = vec![];
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(msg) = tokio::time::timeout(left, self.next_text()).await else {
                panic!("no iopub stream for {code:?} within 60 s; seen: {seen:#?}");
            };
            let msg: Value = serde_json::from_str(&msg).expect("kernel messages are JSON");
            let ours = msg["parent_header"]["msg_id"] == "e2e-1" && msg["channel"] == "iopub";
            if ours && msg["msg_type"] == "stream" {
                return msg["content"]["text"].as_str().unwrap_or("").to_owned();
            }
            seen.push(format!("{} {}", msg["channel"], msg["msg_type"]));
        }
    }

    async fn send_text(&mut self, text: &str) {
        let len = u16::try_from(text.len()).expect("short messages only");
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        // FIN + text; masked, 16-bit length.
        let mut frame = vec![0x81, 0x80 | 126];
        frame.extend(len.to_be_bytes().into_iter().chain(mask));
        frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }

    /// The next text message, skipping pings and other control frames.
    async fn next_text(&mut self) -> String {
        loop {
            let head = self.take(2).await;
            assert!(head[0] & 0x80 != 0, "a fragmented frame: {head:?}");
            let len = match head[1] & 0x7f {
                126 => u16::from_be_bytes(self.take(2).await.try_into().unwrap()) as usize,
                127 => u64::from_be_bytes(self.take(8).await.try_into().unwrap()) as usize,
                n => n as usize,
            };
            let payload = self.take(len).await;
            match head[0] & 0x0f {
                0x1 => return String::from_utf8(payload).expect("text frames are UTF-8"),
                0x8 => panic!("the kernel websocket was closed: {payload:?}"),
                _ => continue,
            }
        }
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill().await;
        }
        self.buf.drain(..n).collect()
    }

    async fn fill(&mut self) {
        let n = self.stream.read_buf(&mut self.buf).await.unwrap();
        let got = String::from_utf8_lossy(&self.buf);
        assert!(
            n > 0,
            "the websocket connection was closed; unread: {got:?}"
        );
    }
}
