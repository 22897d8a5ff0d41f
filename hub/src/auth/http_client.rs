//! The HTTP client authenticators call their external services with (the OAuth provider's
//! token and userdata endpoints, the REST login service), and what a failed call means.
//!
//! TLS is rustls with webpki's root certificates (the public web's CAs, compiled in, so the
//! hub does not depend on the system's store) plus, when configured, the certificates of a
//! `tls_ca_file` for services signed by a private CA.

use crate::config::ConfigError;
use std::path::Path;
use std::time::Duration;

/// A client for one external service: trusts webpki's roots and the CAs in `ca_file` (none
/// when empty), gives up after `timeout`, and follows no redirects, so a service that
/// redirects is an error, never a way to send a password, code or token elsewhere.
///
/// `ca_file` was checked by [`read_ca_file`] at load; if it has become unreadable since, the
/// error is logged and the client trusts the public roots only (calls to the private service
/// then fail as "not trusted", which the pages explain).
pub fn build(ca_file: &Path, timeout: Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout);
    if !ca_file.as_os_str().is_empty() {
        match read_ca_file(ca_file) {
            Ok(certs) => {
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            Err(e) => tracing::error!("{e}; trusting the public CAs only"),
        }
    }
    builder
        .build()
        .expect("a rustls client with valid roots builds")
}

/// The certificates in the PEM file `path` (one or more `BEGIN CERTIFICATE` blocks); an error
/// names the file.
pub fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Check a `tls_ca_file` setting at load: empty, or a readable file of PEM certificates.
pub fn validate_ca_file(key: &str, path: &Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    read_ca_file(path).map(drop).map_err(|e| {
        ConfigError::invalid(
            key,
            format!(
                "{e}; give the CA certificate(s) that signed the service's certificate, in PEM"
            ),
        )
    })
}

/// Whether `err` failed because the server's certificate is not trusted (unknown issuer,
/// expired, wrong name, ...), as opposed to the service being down or slow.
pub fn is_untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = err.downcast_ref::<rustls::Error>() {
            return true;
        }
        // `io::Error::source` skips the error it wraps; look at that one too.
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if is_untrusted_certificate(inner) {
                return true;
            }
        }
        next = err.source();
    }
    false
}

/// `err` with its causes, for the log (reqwest's own message omits them: "error sending
/// request" says nothing of a refused connection or a bad certificate).
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("ferrohub-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = validate_ca_file("X.tls_ca_file", &empty)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("X.tls_ca_file") && err.contains("no PEM"),
            "{err}"
        );
        let missing = dir.join("missing.pem");
        let err = validate_ca_file("X.tls_ca_file", &missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
        validate_ca_file("X.tls_ca_file", Path::new("")).expect("empty means none");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_certificate_errors_count_as_untrusted() {
        let bad = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, bad);
        assert!(is_untrusted_certificate(&wrapped));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_untrusted_certificate(&refused));
    }
}
