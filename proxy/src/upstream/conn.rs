//! One connection to a target: plain TCP or TLS, opened with the options CHP's node agent
//! uses (no Nagle delay, TCP keep-alive), with the bytes read but not yet consumed.

use bytes::{Buf, BytesMut};
use http::uri::Authority;
use rustls::pki_types::ServerName;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

/// How long opening a connection (TCP and TLS) may take before the target counts as down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Probes find targets that vanished without closing (a killed container's address).
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Room for a typical response head and a small body in one read.
const READ_CHUNK: usize = 16 * 1024;

/// Which pool a connection belongs to: scheme and authority (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub https: bool,
    pub authority: Authority,
}

/// Plain TCP, or TLS over it.
type Stream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// A connection and what has been read from it but not yet used.
pub struct Conn {
    pub key: Key,
    stream: Stream,
    pub buf: BytesMut,
}

impl Conn {
    /// Connect to `key`'s authority, through TLS for https. Fails with the I/O error that
    /// names why (refused, unreachable, timed out, certificate).
    pub async fn open(key: Key, tls: &TlsConnector) -> io::Result<Conn> {
        let opening = async {
            let tcp = connect_tcp(&key.authority, if key.https { 443 } else { 80 }).await?;
            let stream = if key.https {
                let name = ServerName::try_from(host(&key.authority).to_owned())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                Either::Right(Box::new(tls.connect(name, tcp).await?))
            } else {
                Either::Left(tcp)
            };
            Ok::<_, io::Error>(stream)
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, opening)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))??;
        Ok(Conn {
            key,
            stream,
            buf: BytesMut::new(),
        })
    }

    /// Whether an idle connection may still be used: the target has neither closed it nor
    /// sent anything unasked. Costs a system call, so only requests that cannot be retried
    /// (they have a body) ask.
    pub fn is_usable(&self) -> bool {
        let tcp = match &self.stream {
            Either::Left(s) => s,
            Either::Right(s) => s.get_ref().0,
        };
        let mut probe = [0u8; 1];
        matches!(tcp.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Free the read buffer of a connection going idle; the next read allocates one again.
    pub fn release_buffer(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// Read more into `buf`. `Ok(0)`: the target closed the connection.
    pub fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(READ_CHUNK);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buf)
    }

    pub async fn fill(&mut self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

async fn connect_tcp(authority: &Authority, default_port: u16) -> io::Result<TcpStream> {
    let port = authority.port_u16().unwrap_or(default_port);
    let host = host(authority);
    // Addresses need no resolver (and no trip through the blocking pool).
    let stream = match host.parse::<IpAddr>() {
        Ok(ip) => TcpStream::connect(SocketAddr::new(ip, port)).await?,
        Err(_) => TcpStream::connect((host, port)).await?,
    };
    stream.set_nodelay(true)?;
    let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
    socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
    Ok(stream)
}

/// The host of an authority without the brackets of an IPv6 address.
fn host(authority: &Authority) -> &str {
    let h = authority.host();
    h.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h)
}

/// After an upgrade (101) the connection is a byte stream: what the target sent right after
/// its 101 is read first.
impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.buf.is_empty() {
            let n = this.buf.len().min(out.remaining());
            out.put_slice(&this.buf[..n]);
            this.buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, out)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
