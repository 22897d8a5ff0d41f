//! CHP's TLS flags, turned into [`TlsOptions`]. Files are only named here; `run` reads them,
//! so a bad path fails at start-up with the flag and the file in the message.
//!
//! Four of CHP's flags tune OpenSSL and have no rustls counterpart. `--ssl-protocol` is honoured
//! for the versions rustls speaks (TLS 1.2 and 1.3) and refused for older ones. `--ssl-ciphers`,
//! `--ssl-allow-rc4` and `--ssl-dhparam` are accepted with a warning and ignored: rustls offers
//! only modern AEAD suites with ECDHE key exchange, never RC4 nor finite-field DH, which is
//! what those flags exist to approximate. Refusing them would break command lines that only
//! restate CHP's safe defaults.

use crate::config::ConfigError;
use crate::tls::{server_tls, ClientTls, ServerTls, TlsOptions};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Default, Args)]
pub struct TlsArgs {
    /// TLS key (PEM) of the public port
    #[arg(long)]
    pub ssl_key: Option<PathBuf>,
    /// TLS certificate chain (PEM) of the public port
    #[arg(long)]
    pub ssl_cert: Option<PathBuf>,
    /// CA (PEM) that signs client certificates on the public port
    #[arg(long)]
    pub ssl_ca: Option<PathBuf>,
    /// Ask clients of the public port for a certificate (needs --ssl-ca)
    #[arg(long)]
    pub ssl_request_cert: bool,
    /// With --ssl-request-cert: refuse clients without a valid certificate
    #[arg(long)]
    pub ssl_reject_unauthorized: bool,
    /// Speak only this TLS version: TLSv1_2 or TLSv1_3 (TLS or SSLv23: both)
    #[arg(long)]
    pub ssl_protocol: Option<String>,
    /// Ignored with a warning: rustls offers only modern AEAD cipher suites
    #[arg(long)]
    pub ssl_ciphers: Option<String>,
    /// Ignored with a warning: rustls never offers RC4
    #[arg(long)]
    pub ssl_allow_rc4: bool,
    /// Ignored with a warning: rustls uses ECDHE, not finite-field DH
    #[arg(long)]
    pub ssl_dhparam: Option<PathBuf>,
    /// TLS key (PEM) of the API port
    #[arg(long)]
    pub api_ssl_key: Option<PathBuf>,
    /// TLS certificate chain (PEM) of the API port
    #[arg(long)]
    pub api_ssl_cert: Option<PathBuf>,
    /// CA (PEM) that signs client certificates on the API port
    #[arg(long)]
    pub api_ssl_ca: Option<PathBuf>,
    /// Ask API clients for a certificate (needs --api-ssl-ca)
    #[arg(long)]
    pub api_ssl_request_cert: bool,
    /// With --api-ssl-request-cert: refuse API clients without a valid certificate
    #[arg(long)]
    pub api_ssl_reject_unauthorized: bool,
    /// Client key (PEM) the proxy presents to https targets
    #[arg(long)]
    pub client_ssl_key: Option<PathBuf>,
    /// Client certificate (PEM) the proxy presents to https targets
    #[arg(long)]
    pub client_ssl_cert: Option<PathBuf>,
    /// CAs (PEM) trusted for https targets, instead of Mozilla's list
    #[arg(long)]
    pub client_ssl_ca: Option<PathBuf>,
    /// No effect, as in CHP (accepted for compatibility)
    #[arg(long, hide = true)]
    pub client_ssl_request_cert: bool,
    /// No effect, as in CHP (accepted for compatibility)
    #[arg(long, hide = true)]
    pub client_ssl_reject_unauthorized: bool,
}

impl TlsArgs {
    pub fn options(&self) -> Result<TlsOptions, ConfigError> {
        let ignored = [
            (
                "ssl-ciphers",
                self.ssl_ciphers.is_some(),
                "rustls offers only modern AEAD suites",
            ),
            (
                "ssl-allow-rc4",
                self.ssl_allow_rc4,
                "rustls never offers RC4",
            ),
            (
                "ssl-dhparam",
                self.ssl_dhparam.is_some(),
                "rustls uses ECDHE key exchange",
            ),
            (
                "client-ssl-request-cert",
                self.client_ssl_request_cert,
                "it has none in CHP either",
            ),
            (
                "client-ssl-reject-unauthorized",
                self.client_ssl_reject_unauthorized,
                "it has none in CHP either; --insecure turns target verification off",
            ),
        ];
        for (flag, _, why) in ignored.iter().filter(|(_, set, _)| *set) {
            tracing::warn!("--{flag} has no effect: {why}");
        }
        let server = |prefix,
                      key: &Option<PathBuf>,
                      cert: &Option<PathBuf>,
                      ca: &Option<PathBuf>,
                      request_cert,
                      reject_unauthorized| {
            Ok::<_, ConfigError>(server_tls(prefix, key.clone(), cert.clone())?.map(
                |(key, cert)| ServerTls {
                    key,
                    cert,
                    ca: ca.clone(),
                    request_cert,
                    reject_unauthorized,
                },
            ))
        };
        Ok(TlsOptions {
            public: server(
                "ssl",
                &self.ssl_key,
                &self.ssl_cert,
                &self.ssl_ca,
                self.ssl_request_cert,
                self.ssl_reject_unauthorized,
            )?,
            api: server(
                "api-ssl",
                &self.api_ssl_key,
                &self.api_ssl_cert,
                &self.api_ssl_ca,
                self.api_ssl_request_cert,
                self.api_ssl_reject_unauthorized,
            )?,
            client: ClientTls {
                key: self.client_ssl_key.clone(),
                cert: self.client_ssl_cert.clone(),
                ca: self.client_ssl_ca.clone(),
            },
            only_version: match self.ssl_protocol.as_deref() {
                None => None,
                Some(p) => protocol(p)?,
            },
        })
    }
}

/// CHP passes `--ssl-protocol X` to node as `X_method`; these are the names that mean a
/// version rustls speaks.
fn protocol(name: &str) -> Result<Option<&'static rustls::SupportedProtocolVersion>, ConfigError> {
    match name.trim_end_matches("_method") {
        "TLS" | "SSLv23" => Ok(None),
        "TLSv1_2" => Ok(Some(&rustls::version::TLS12)),
        "TLSv1_3" => Ok(Some(&rustls::version::TLS13)),
        _ => Err(ConfigError::Invalid {
            flag: "ssl-protocol",
            value: name.to_owned(),
            reason:
                "ferrohub-proxy speaks TLSv1_2 and TLSv1_3 (rustls has no SSLv3, TLS 1.0 or 1.1)"
                    .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<TlsOptions, ConfigError> {
        crate::cli::Cli::try_parse_from(
            std::iter::once("ferrohub-proxy").chain(args.iter().copied()),
        )
        .unwrap()
        .tls
        .options()
    }

    #[test]
    fn chps_flags_fill_the_options() {
        let o = parse(&[
            "--ssl-key",
            "k.pem",
            "--ssl-cert",
            "c.pem",
            "--ssl-ca",
            "ca.pem",
            "--ssl-request-cert",
            "--ssl-reject-unauthorized",
            "--api-ssl-key",
            "ak.pem",
            "--api-ssl-cert",
            "ac.pem",
            "--client-ssl-ca",
            "tca.pem",
            "--ssl-protocol",
            "TLSv1_2",
            "--ssl-ciphers",
            "HIGH:!RC4",
        ])
        .unwrap();
        let public = o.public.unwrap();
        assert!(public.request_cert && public.reject_unauthorized);
        assert_eq!(public.ca.unwrap(), PathBuf::from("ca.pem"));
        assert_eq!(o.api.unwrap().cert, PathBuf::from("ac.pem"));
        assert_eq!(o.client.ca.unwrap(), PathBuf::from("tca.pem"));
        assert_eq!(o.only_version, Some(&rustls::version::TLS12));
        assert!(parse(&[]).unwrap().public.is_none());
    }

    #[test]
    fn half_a_key_pair_and_old_protocols_are_refused() {
        let err = parse(&["--api-ssl-cert", "c.pem"]).unwrap_err().to_string();
        assert!(err.contains("--api-ssl-key and --api-ssl-cert"), "{err}");
        let err = parse(&["--ssl-protocol", "SSLv3"]).unwrap_err().to_string();
        assert!(err.contains("TLSv1_2"), "{err}");
    }
}
