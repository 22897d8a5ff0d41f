//! TLS, as configurable-http-proxy's `--ssl-*` (public port), `--api-ssl-*` (API port) and
//! `--client-ssl-*`/`--insecure` (connections to https targets) mean it: PEM files loaded into
//! rustls configurations at start-up, and a listener that completes handshakes off the accept
//! loop so one slow client cannot hold up the others.

use axum::serve::Listener;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    SupportedProtocolVersion,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not finished its TLS handshake by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS listener's files and client-certificate policy (`--ssl-*` or `--api-ssl-*`).
#[derive(Debug, Clone, Default)]
pub struct ServerTls {
    /// `--ssl-key`: the private key (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted).
    pub key: PathBuf,
    /// `--ssl-cert`: the certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// `--ssl-ca`: the CAs that sign client certificates; needed by `request_cert`.
    pub ca: Option<PathBuf>,
    /// `--ssl-request-cert`: ask clients for a certificate, verified against `ca`.
    pub request_cert: bool,
    /// `--ssl-reject-unauthorized`: with `request_cert`, refuse clients without a valid one.
    /// Without it a client may present none; one that presents an invalid certificate is
    /// refused anyway (rustls has no "verify but let through", unlike node).
    pub reject_unauthorized: bool,
}

/// What the proxy presents to and trusts of https targets (`--client-ssl-*`).
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// `--client-ssl-key` and `--client-ssl-cert`: a client certificate for targets that ask.
    pub key: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    /// `--client-ssl-ca`: trust only these CAs for targets, instead of Mozilla's list.
    pub ca: Option<PathBuf>,
}

/// Every TLS setting of the proxy.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub public: Option<ServerTls>,
    pub api: Option<ServerTls>,
    pub client: ClientTls,
    /// `--ssl-protocol TLSv1_2` or `TLSv1_3`: speak only that version (all three sides, as
    /// in CHP). `None`: TLS 1.2 and 1.3.
    pub only_version: Option<&'static SupportedProtocolVersion>,
}

/// A TLS file or setting that cannot be used, naming the flag and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--{flag} {}: {error}", path.display())]
    Read {
        flag: String,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("--{flag} {}: {what}", path.display())]
    Pem {
        flag: String,
        path: PathBuf,
        what: String,
    },
    #[error("--{prefix}-key and --{prefix}-cert go together; give both")]
    KeyWithoutCert { prefix: &'static str },
    #[error(
        "--{prefix}-request-cert needs --{prefix}-ca naming the CA that signs client certificates"
    )]
    RequestCertWithoutCa { prefix: &'static str },
    #[error("{what}: {error}")]
    Rustls {
        what: &'static str,
        error: rustls::Error,
    },
    #[error("--{prefix}-ca: {reason}")]
    ClientVerifier {
        prefix: &'static str,
        reason: String,
    },
}

/// The TLS configurations `run` uses, built once at start-up.
pub struct Loaded {
    pub public: Option<TlsAcceptor>,
    pub api: Option<TlsAcceptor>,
    /// For https targets (and a https error target); always present, since any route may
    /// point at https.
    pub upstream: Arc<ClientConfig>,
}

impl Loaded {
    pub fn load(options: &TlsOptions, insecure: bool) -> Result<Loaded, TlsError> {
        let versions = versions(options.only_version);
        let acceptor = |tls: &Option<ServerTls>, prefix| {
            tls.as_ref()
                .map(|t| server_config(t, prefix, versions).map(TlsAcceptor::from))
                .transpose()
        };
        Ok(Loaded {
            public: acceptor(&options.public, "ssl")?,
            api: acceptor(&options.api, "api-ssl")?,
            upstream: client_config(&options.client, insecure, versions)?,
        })
    }
}

type Versions = &'static [&'static SupportedProtocolVersion];

fn versions(only: Option<&'static SupportedProtocolVersion>) -> Versions {
    static TLS12: Versions = &[&rustls::version::TLS12];
    static TLS13: Versions = &[&rustls::version::TLS13];
    match only {
        Some(v) if v.version == rustls::version::TLS12.version => TLS12,
        Some(_) => TLS13,
        None => rustls::DEFAULT_VERSIONS,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Whether both halves of a key pair were given: CHP turns TLS on with either flag, but
/// a listener needs both.
pub fn server_tls(
    prefix: &'static str,
    key: Option<PathBuf>,
    cert: Option<PathBuf>,
) -> Result<Option<(PathBuf, PathBuf)>, TlsError> {
    match (key, cert) {
        (Some(k), Some(c)) => Ok(Some((k, c))),
        (None, None) => Ok(None),
        _ => Err(TlsError::KeyWithoutCert { prefix }),
    }
}

fn server_config(
    tls: &ServerTls,
    prefix: &'static str,
    versions: Versions,
) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(&format!("{prefix}-cert"), &tls.cert)?;
    let key = read_key(&format!("{prefix}-key"), &tls.key)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|error| TlsError::Rustls {
            what: "TLS versions",
            error,
        })?;
    let builder = if tls.request_cert {
        let ca = tls
            .ca
            .as_ref()
            .ok_or(TlsError::RequestCertWithoutCa { prefix })?;
        let roots = root_store(&format!("{prefix}-ca"), ca)?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
        let verifier = if tls.reject_unauthorized {
            verifier
        } else {
            verifier.allow_unauthenticated()
        };
        let verifier = verifier.build().map_err(|e| TlsError::ClientVerifier {
            prefix,
            reason: e.to_string(),
        })?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|error| TlsError::Rustls {
            what: "the key does not fit the certificate",
            error,
        })?;
    // Both listeners speak HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn client_config(
    tls: &ClientTls,
    insecure: bool,
    versions: Versions,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|error| TlsError::Rustls {
            what: "TLS versions",
            error,
        })?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCert(provider())))
    } else {
        let roots = match &tls.ca {
            Some(ca) => root_store("client-ssl-ca", ca)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        builder.with_root_certificates(roots)
    };
    let config = match server_tls("client-ssl", tls.key.clone(), tls.cert.clone())? {
        Some((key, cert)) => builder
            .with_client_auth_cert(
                read_certs("client-ssl-cert", &cert)?,
                read_key("client-ssl-key", &key)?,
            )
            .map_err(|error| TlsError::Rustls {
                what: "--client-ssl-key does not fit --client-ssl-cert",
                error,
            })?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        flag: flag.to_owned(),
        path: path.to_owned(),
        error,
    })
}

fn pem_error(flag: &str, path: &Path, what: impl Into<String>) -> TlsError {
    TlsError::Pem {
        flag: flag.to_owned(),
        path: path.to_owned(),
        what: what.into(),
    }
}

fn read_certs(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(flag, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(flag, path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error(flag, path, "no certificate found (expected PEM)"));
    }
    Ok(certs)
}

fn read_key(flag: &str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(flag, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        pem_error(
            flag,
            path,
            format!(
                "no usable private key ({e}); expected an unencrypted PEM key \
                 (decrypt one with `openssl pkey -in KEY -out KEY.plain`)"
            ),
        )
    })
}

fn root_store(flag: &str, path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(flag, path)? {
        roots
            .add(cert)
            .map_err(|e| pem_error(flag, path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// `--insecure`: any certificate is accepted, but the handshake's signatures are still
/// checked, so the connection is encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TCP listener whose connections come out with their TLS handshake done. Handshakes run
/// in their own tasks (each limited to [`HANDSHAKE_TIMEOUT`]); dropping the listener stops
/// accepting and closes the socket.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(mut tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, remote) = tokio::select! {
                    _ = tx.closed() => return,
                    accepted = Listener::accept(&mut tcp) => accepted,
                };
                let _ = stream.set_nodelay(true);
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, remote)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%remote, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task only ends once we are dropped, so this does not happen.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
