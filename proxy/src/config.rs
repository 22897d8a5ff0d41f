//! The proxy's typed configuration, and its checks. The command line that fills it is
//! [`crate::cli`]; tests build a [`Config`] directly.

use crate::tls::{TlsError, TlsOptions};
use ferrohub_shared::proxy_key::ProxyKey;
use ferrohub_shared::secret::Secret;
use http::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

/// Everything `run` needs besides its sockets. `Default` is CHP's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Added as the route `/` at start-up (CHP's `--default-target`), after the routes file.
    pub default_target: Option<String>,
    /// Error pages come from `GET {error_target}/{code}?url={request url}`.
    pub error_target: Option<url::Url>,
    /// Error pages come from `{error_path}/{code}.html`, else `{error_path}/error.html`.
    pub error_path: Option<PathBuf>,
    /// A client that sends nothing for this long while we read its request body is dropped.
    pub timeout: Option<Duration>,
    /// An upstream that has not answered (headers) within this long gets the request a 504.
    pub proxy_timeout: Option<Duration>,
    /// How long an idle client keep-alive connection, or a client still sending its request
    /// headers, is kept (CHP's default: 5 s).
    pub keep_alive_timeout: Duration,
    /// Add `X-Forwarded-For/-Port/-Proto/-Host` (off with `--no-x-forward`).
    pub x_forward: bool,
    /// Put the target's own path in front of the forwarded path (off with `--no-prepend-path`).
    pub prepend_path: bool,
    /// Forward the matched route prefix as part of the path (off with `--no-include-prefix`).
    pub include_prefix: bool,
    /// The first segment of every route spec is a host name matched against `Host`.
    pub host_routing: bool,
    /// Send `Host` as the target's authority rather than the client's (`--change-origin`).
    pub change_origin: bool,
    /// Do not verify the certificates of https targets (`--insecure`).
    pub insecure: bool,
    /// TLS for the public and API listeners and for https targets; files are read by `run`.
    pub tls: TlsOptions,
    /// Headers added to every proxied request (`--custom-header k:v`).
    pub custom_headers: Vec<(HeaderName, HeaderValue)>,
    /// `CONFIGPROXY_AUTH_TOKEN`. `None` leaves the API open, as CHP does (with a warning).
    pub auth_token: Option<Secret>,
    /// Where the route table is kept across restarts.
    pub routes_file: Option<PathBuf>,
    /// A file to hold our pid while we run.
    pub pid_file: Option<PathBuf>,
    /// The key shared with the hub (`--proxy-key-file`, `FERROHUB_PROXY_KEY`): checks proxy
    /// sessions on private routes and scoped route credentials. Without it private routes
    /// answer 503 and the API takes only the admin token.
    pub proxy_key: Option<ProxyKey>,
    /// Where private routes send browsers without a session (`--login-url`); `?next=` is added.
    pub login_url: String,
    /// Threads serving the public port (`--workers`); `None`: one per CPU core.
    pub workers: Option<usize>,
    /// How long a worker keeps polling a websocket after traffic instead of sleeping
    /// (`--websocket-busy-poll`, see [`crate::busy_poll`]); zero turns it off.
    pub websocket_busy_poll: Duration,
    /// The HTTPS port a `--redirect-port` listener sends browsers to (`--redirect-to`); the
    /// public port when unset.
    pub redirect_to: Option<u16>,
    /// `--auto-rewrite`: a redirect to the target's own address points at the client's `Host`
    /// instead ([`crate::location`]).
    pub auto_rewrite: bool,
    /// `--protocol-rewrite`: such a redirect gets this scheme (`http` or `https`).
    pub protocol_rewrite: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_target: None,
            error_target: None,
            error_path: None,
            timeout: None,
            proxy_timeout: None,
            keep_alive_timeout: Duration::from_millis(5000),
            x_forward: true,
            prepend_path: true,
            include_prefix: true,
            host_routing: false,
            change_origin: false,
            insecure: false,
            tls: TlsOptions::default(),
            custom_headers: Vec::new(),
            auth_token: None,
            routes_file: None,
            pid_file: None,
            proxy_key: None,
            login_url: "/hub/login".into(),
            // Off: spinning costs CPU that other users of a shared server need more than a few
            // microseconds per message; `--websocket-busy-poll` turns it on.
            websocket_busy_poll: Duration::ZERO,
            redirect_to: None,
            auto_rewrite: false,
            protocol_rewrite: None,
            workers: None,
        }
    }
}

/// A configuration that cannot run, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("--{flag} is not implemented in ferrohub-proxy yet")]
    NotImplemented { flag: &'static str },
    #[error("cannot specify both --error-target and --error-path; pick one")]
    BothErrorPages,
    #[error(
        "HTTPS redirection (--redirect-port) needs the proxy to serve HTTPS: \
         give --ssl-key and --ssl-cert as well"
    )]
    RedirectWithoutTls,
    #[error(
        "HTTPS redirection (--redirect-port) from a proxy on a unix socket (--socket) needs \
         --redirect-to: the HTTPS port browsers reach it on"
    )]
    RedirectNeedsPort,
    #[error(
        "the API cannot serve TLS (--api-ssl-*) on a unix socket (--api-socket): the socket \
         file's permissions guard it; drop one of the two"
    )]
    ApiTlsOnUnixSocket,
    #[error("--{flag} {value:?}: {reason}")]
    Invalid {
        flag: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    /// Whether redirects from targets may need their `Location` rewritten.
    pub fn rewrites_location(&self) -> bool {
        self.auto_rewrite || self.protocol_rewrite.is_some()
    }

    /// Checks that need no I/O. `run` calls it; the command line calls it before binding.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.error_target.is_some() && self.error_path.is_some() {
            return Err(ConfigError::BothErrorPages);
        }
        if let Some(t) = &self.default_target {
            crate::routes::Target::parse(t).map_err(|e| ConfigError::Invalid {
                flag: "default-target",
                value: t.clone(),
                reason: e.to_string(),
            })?;
        }
        if let Some(p) = &self.protocol_rewrite {
            if p != "http" && p != "https" {
                return Err(ConfigError::Invalid {
                    flag: "protocol-rewrite",
                    value: p.clone(),
                    reason: "expected http or https".into(),
                });
            }
        }
        if self.workers == Some(0) {
            return Err(ConfigError::Invalid {
                flag: "workers",
                value: "0".into(),
                reason: "at least one worker is needed".into(),
            });
        }
        if let Some(u) = &self.error_target {
            // Fetched through the upstream client, so https uses `--client-ssl-*` as in CHP.
            if !matches!(u.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid {
                    flag: "error-target",
                    value: u.to_string(),
                    reason: "expected an http:// or https:// URL".into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_chps() {
        let c = Config::default();
        assert!(c.x_forward && c.prepend_path && c.include_prefix && !c.host_routing);
        assert_eq!(c.keep_alive_timeout, Duration::from_secs(5));
        c.validate().unwrap();
    }

    #[test]
    fn contradictions_are_refused() {
        let c = Config {
            error_target: Some("http://hub/error".parse().unwrap()),
            error_path: Some("/tmp".into()),
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::BothErrorPages)));
        let c = Config {
            default_target: Some("nope".into()),
            ..Config::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("default-target"));
        let c = Config {
            workers: Some(0),
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("--workers"));
    }
}
