//! Where one of the proxy's servers listens: a TCP address, or a unix socket path
//! (configurable-http-proxy's `--socket`, `--api-socket` and `--metrics-socket`, which
//! JupyterHub passes when `bind_url` or `ConfigurableHTTPProxy.api_url` is `http+unix://`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use tokio::net::{TcpListener, UnixListener};

pub enum Listen {
    Tcp(TcpListener),
    Unix(UnixListener, SocketFile),
}

impl From<TcpListener> for Listen {
    fn from(l: TcpListener) -> Self {
        Listen::Tcp(l)
    }
}

impl Listen {
    /// Listen on a unix socket at `path`. A socket file left behind by a proxy that is gone
    /// (nothing accepts on it) is replaced; a socket in use, or a file that is no socket, is
    /// an error.
    pub fn unix(path: &Path) -> io::Result<Listen> {
        let listener = match UnixListener::bind(path) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && is_stale_socket(path) => {
                std::fs::remove_file(path)?;
                UnixListener::bind(path)?
            }
            other => other?,
        };
        Ok(Listen::Unix(listener, SocketFile(path.to_owned())))
    }

    /// The TCP port, if this is a TCP listener.
    pub fn tcp_port(&self) -> Option<u16> {
        match self {
            Listen::Tcp(l) => l.local_addr().ok().map(|a| a.port()),
            Listen::Unix(..) => None,
        }
    }
}

/// `ip:port`, or `unix:PATH`, for logs.
impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(l) => match l.local_addr() {
                Ok(a) => write!(f, "{a}"),
                Err(_) => f.write_str("(unknown address)"),
            },
            Listen::Unix(_, file) => write!(f, "unix:{}", file.0.display()),
        }
    }
}

fn is_stale_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    is_socket && std::os::unix::net::UnixStream::connect(path).is_err()
}

/// A unix socket's file, removed when its server stops (as node removes it on close), so the
/// next start finds the path free.
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
        let dir = std::env::temp_dir().join(format!(
            "ferrohub-listen-{}",
            ferrohub_shared::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("proxy.sock");
        // Left behind: bound, then the listener gone without removing the file.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let live = Listen::unix(&path).expect("a stale socket file is replaced");
        assert_eq!(live.to_string(), format!("unix:{}", path.display()));
        let err = Listen::unix(&path).err().expect("a socket in use is kept");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(live);
        assert!(!path.exists(), "the socket file goes with its server");

        let file = dir.join("not-a-socket");
        std::fs::write(&file, "data").unwrap();
        assert!(Listen::unix(&file).is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
