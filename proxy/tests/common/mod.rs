//! Test harness: the proxy run in-process on `127.0.0.1:0`, small real backends, raw HTTP,
//! and polling with a deadline. Everything started here stops in `Drop`.
#![allow(dead_code)]

use bytes::Bytes;
use ferrohub_proxy::{run, Config, Listeners, ProxyError};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TOKEN: &str = "test-token";

/// A proxy running in this process.
pub struct TestProxy {
    pub public: SocketAddr,
    pub api: SocketAddr,
    /// The metrics port (`GET /metrics`).
    pub metrics: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ProxyError>>>,
    pub http: reqwest::Client,
}

impl TestProxy {
    pub async fn start(config: Config) -> TestProxy {
        Self::try_start(config).await.expect("proxy starts")
    }

    /// Start and wait until the API answers; a start-up error is returned.
    pub async fn try_start(config: Config) -> Result<TestProxy, ProxyError> {
        let public = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (public_addr, api_addr) = (public.local_addr().unwrap(), api.local_addr().unwrap());
        let metrics_addr = metrics.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = Listeners {
            public: public.into(),
            api: api.into(),
            metrics: Some(metrics.into()),
            redirect: None,
        };
        let mut task = tokio::spawn(run(config, listeners, async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("http://{api_addr}/api/routes");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if task.is_finished() {
                return Err((&mut task).await.unwrap().expect_err("run returned early"));
            }
            if http.get(&url).send().await.is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "the proxy API never answered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(TestProxy {
            public: public_addr,
            api: api_addr,
            metrics: metrics_addr,
            stop: Some(stop),
            task: Some(task),
            http,
        })
    }

    pub fn config() -> Config {
        Config {
            auth_token: Some(ferrohub_shared::secret::Secret::new(TOKEN)),
            ..Config::default()
        }
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://{}/api/routes{path}", self.api)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.public)
    }

    pub async fn add_route(&self, spec: &str, body: Value) {
        let r = self
            .http
            .post(self.api_url(spec))
            .header("Authorization", format!("token {TOKEN}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "adding {spec}: {}",
            r.text().await.unwrap()
        );
    }

    pub async fn routes(&self, query: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{query}", self.api_url("")))
            .header("Authorization", format!("token {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Stop gracefully and return what `run` returned.
    pub async fn stop(mut self) -> Result<(), ProxyError> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap()
    }

    /// Stop as a crash would: no graceful anything.
    pub fn kill(mut self) {
        self.task.take().unwrap().abort();
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A real HTTP backend that answers every request with a JSON echo of it:
/// `{"name", "method", "uri", "headers": {...}, "body"}`.
pub struct Backend {
    pub addr: SocketAddr,
    /// How many TCP connections the backend has accepted.
    pub connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Backend {
    pub async fn start(name: &'static str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| echo(name, req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Backend {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(name: &str, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
        .collect();
    let out = json!({
        "name": name,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    let mut resp = Response::new(Full::new(Bytes::from(out.to_string())));
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp.headers_mut()
        .insert("x-backend", name.parse().unwrap());
    Ok(resp)
}

/// A raw TCP backend running `handler` on each connection.
pub struct RawBackend {
    pub addr: SocketAddr,
    /// How many TCP connections the backend has accepted.
    pub connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl RawBackend {
    pub async fn start<F, Fut>(handler: F) -> RawBackend
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handler(stream));
            }
        });
        RawBackend {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An address nothing listens on (bound, then released).
pub async fn dead_address() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

/// Read an HTTP head (up to the blank line) from `stream`; returns the head and any bytes
/// read past it.
pub async fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a head within 10 s")
            .unwrap();
        if n == 0 {
            return (String::from_utf8_lossy(&buf).into_owned(), Vec::new());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The body that follows `head` on `stream`, by its `Content-Length` (none: empty); `rest` is
/// what [`read_head`] read past the head.
pub async fn read_body(stream: &mut TcpStream, head: &str, rest: Vec<u8>) -> Vec<u8> {
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = rest;
    let mut chunk = [0u8; 1024];
    while body.len() < length {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("the body within 5 s")
            .unwrap();
        assert!(n > 0, "the connection ended inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    body
}

/// Send `request` verbatim on a new connection and return the whole answer as text (the
/// request should carry `Connection: close`).
pub async fn raw_request(addr: SocketAddr, request: &str) -> String {
    exchange(TcpStream::connect(addr).await.unwrap(), request).await
}

/// Send `request` verbatim on `s` and return the whole answer as text.
pub async fn exchange(
    mut s: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    request: &str,
) -> String {
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("an answer within 10 s");
    String::from_utf8_lossy(&out).into_owned()
}

/// A new empty directory of the test's own, `ferrohub-proxy-{label}-RANDOM` in the temp dir.
pub fn scratch_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferrohub-proxy-{label}-{}",
        ferrohub_shared::secret::random_hex(4)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The JSON body of an HTTP answer read as text.
pub fn body_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// Poll `check` until it returns `Some`, failing after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until the wall clock has moved past `millis` (so a later touch is distinguishable).
pub async fn clock_past(millis: i64) {
    eventually(Duration::from_secs(2), "the clock to move", || async move {
        (chrono::Utc::now().timestamp_millis() > millis).then_some(())
    })
    .await
}

pub fn millis_of(iso: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso.as_str().expect("a string"))
        .expect("RFC 3339")
        .timestamp_millis()
}

pub fn iso(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
