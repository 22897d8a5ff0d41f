//! TLS for tests: a private CA and a server certificate for `localhost` and `127.0.0.1`, made
//! with Debian's `openssl`, and a TLS front (`support/tls_front.py`, Python's `ssl`) that
//! serves a plain-HTTP server over https, since ferrohub-proxy does not terminate TLS yet.

use crate::{venv_bin, Running};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA made for one test, and a server certificate it signed.
pub struct TestCa {
    /// The CA's certificate (PEM): what a client must trust.
    pub ca_cert: PathBuf,
    /// The server's certificate (PEM), for `localhost` and `127.0.0.1`.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// Make the CA and the server certificate in `dir`.
    pub fn new(dir: &Path) -> TestCa {
        let ca_config =
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = ferrohub test CA\n\
                         [ext]\nbasicConstraints = critical, CA:TRUE\n\
                         keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n";
        let server_ext = "basicConstraints = critical, CA:FALSE\n\
                          keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n\
                          subjectAltName = DNS:localhost, IP:127.0.0.1\n";
        std::fs::write(dir.join("ca.cnf"), ca_config).unwrap();
        std::fs::write(dir.join("server.cnf"), server_ext).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            dir,
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-config",
                    "ca.cnf",
                    "-extensions",
                    "ext",
                ],
            ]
            .concat(),
        );
        openssl(
            dir,
            &[
                &["req", "-new"],
                &ec[..],
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.cnf",
            ],
        );
        TestCa {
            ca_cert: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }
    }

    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_cert).unwrap()
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("Debian's openssl is installed (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// https on 127.0.0.1:`port` with `ca`'s server certificate, forwarded to a plain-HTTP
/// server. Dropping it stops the front.
pub struct TlsFront {
    pub process: Running,
    pub port: u16,
}

impl TlsFront {
    /// Serve `127.0.0.1:upstream` over https; waits until the front listens.
    pub async fn start(ca: &TestCa, upstream: u16, dir: &Path) -> TlsFront {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/tls_front.py");
        let (cert, key) = (ca.cert.display().to_string(), ca.key.display().to_string());
        let script = script.display().to_string();
        let upstream = upstream.to_string();
        let process = Running::start(
            &venv_bin("python"),
            &[&script, &cert, &key, &upstream],
            dir,
            &[],
        );
        let port = process.listening_port().await;
        TlsFront { process, port }
    }
}
