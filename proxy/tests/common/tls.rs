//! TLS test kit: a throwaway CA with server and client certificates made by the `openssl`
//! command, rustls configurations from them, an https backend and a websocket echo backend
//! (plain or TLS), and an https client.
#![allow(dead_code)]

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::tungstenite::Message;

/// A CA and certificates it signed, in a directory removed on drop. The server certificate
/// names `localhost` and `127.0.0.1`.
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("ferrohub-proxy-tls-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ferrohub test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        pki.leaf(
            "server",
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        );
        pki.leaf("client", "/CN=test client", "extendedKeyUsage=clientAuth\n");
        pki
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("the openssl command runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn leaf(&self, name: &str, subject: &str, ext: &str) {
        std::fs::write(
            self.dir.join(format!("{name}.ext")),
            format!("basicConstraints=CA:FALSE\n{ext}"),
        )
        .unwrap();
        let (key, csr, pem, extfile) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ]);
        let serial = format!("{}", 1000 + name.len());
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            &serial,
            "-days",
            "2",
            "-out",
            &pem,
            "-extfile",
            &extfile,
        ]);
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The proxy's `--ssl-*` options with the server certificate.
    pub fn server_tls(&self) -> ferrohub_proxy::tls::ServerTls {
        ferrohub_proxy::tls::ServerTls {
            key: self.path("server.key"),
            cert: self.path("server.pem"),
            ..Default::default()
        }
    }

    /// A rustls server configuration for test backends.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                certs(&self.path("server.pem")),
                key(&self.path("server.key")),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }

    /// A client trusting the test CA, presenting the client certificate if `with_cert`.
    pub fn client_config(&self, with_cert: bool) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        for c in certs(&self.path("ca.pem")) {
            roots.add(c).unwrap();
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_cert {
            builder
                .with_client_auth_cert(
                    certs(&self.path("client.pem")),
                    key(&self.path("client.key")),
                )
                .unwrap()
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn key(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).unwrap()
}

/// Any byte stream a backend may be handed: plain TCP or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A backend on `127.0.0.1:0` that runs `handler` on every connection, after a TLS handshake
/// when `tls` is given.
pub struct TlsBackend {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsBackend {
    pub async fn start<F, Fut>(tls: Option<TlsAcceptor>, handler: F) -> TlsBackend
    where
        F: Fn(Box<dyn Io>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tls, handler) = (tls.clone(), handler.clone());
                tokio::spawn(async move {
                    let io: Box<dyn Io> = match tls {
                        Some(a) => match a.accept(stream).await {
                            Ok(s) => Box::new(s),
                            Err(_) => return,
                        },
                        None => Box::new(stream),
                    };
                    handler(io).await;
                });
            }
        });
        TlsBackend { addr, task }
    }

    /// Answers every HTTP request with `{"uri", "headers"}` as JSON.
    pub async fn http(tls: Option<TlsAcceptor>) -> TlsBackend {
        TlsBackend::start(tls, |io| async move {
            let svc = service_fn(|req: Request<hyper::body::Incoming>| async move {
                let headers: serde_json::Map<String, Value> = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
                    .collect();
                let body = json!({"uri": req.uri().to_string(), "headers": headers}).to_string();
                Ok::<_, Infallible>(Response::new(http_body_util::Full::new(Bytes::from(body))))
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(io), svc)
                .await;
        })
        .await
    }

    /// Completes websocket handshakes and echoes every message back.
    pub async fn ws_echo(tls: Option<TlsAcceptor>) -> TlsBackend {
        TlsBackend::start(tls, |io| async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(io).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                    return;
                }
            }
        })
        .await
    }
}

impl Drop for TlsBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `GET url` with a client using `config` (https) and no proxy; the status and the body.
pub async fn get(
    config: Arc<ClientConfig>,
    url: &str,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(Arc::unwrap_or_clone(config))
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let mut req = Request::get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("token {t}"));
    }
    let resp = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Open a websocket to `addr` at `path` (over TLS when `tls` is given), send `text` and
/// return what comes back.
pub async fn ws_echo_once(
    addr: SocketAddr,
    path: &str,
    tls: Option<Arc<ClientConfig>>,
    text: &str,
) -> String {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (scheme, io): (&str, Box<dyn Io>) = match tls {
        Some(config) => {
            let name = ServerName::try_from("localhost").unwrap();
            (
                "wss",
                Box::new(TlsConnector::from(config).connect(name, tcp).await.unwrap()),
            )
        }
        None => ("ws", Box::new(tcp)),
    };
    let url = format!("{scheme}://localhost:{}{path}", addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, io)
        .await
        .expect("the websocket opens");
    ws.send(Message::text(text)).await.unwrap();
    let back = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .expect("an echo within 10 s")
        .expect("a message")
        .unwrap();
    back.into_text().unwrap().to_string()
}
