//! configurable-http-proxy's command line, parsed into a [`Config`] and listen addresses.
//! Options CHP has and we do not implement yet are still accepted by name, so that using one
//! fails at start-up with a sentence saying so instead of "unexpected argument".

mod tls;

pub use tls::TlsArgs;

use crate::config::{Config, ConfigError};
use clap::Parser;
use ferrohub_shared::proxy_key::{ProxyKey, ProxyKeyError};
use ferrohub_shared::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "ferrohub-proxy",
    version,
    about = "A drop-in replacement for configurable-http-proxy"
)]
pub struct Cli {
    /// Public-facing IP of the proxy (all interfaces when empty or `*`)
    #[arg(long, default_value = "")]
    pub ip: String,
    /// Public-facing port of the proxy
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Inward-facing IP for API requests
    #[arg(long, default_value = "localhost")]
    pub api_ip: String,
    /// Inward-facing port for API requests (defaults to --port + 1)
    #[arg(long)]
    pub api_port: Option<u16>,
    /// Default proxy target (proto://host[:port]), added as the route `/`
    #[arg(long)]
    pub default_target: Option<String>,
    /// Server for error pages: GET {error-target}/{code}?url={request url}
    #[arg(long)]
    pub error_target: Option<String>,
    /// Directory of error pages: {code}.html, else error.html
    #[arg(long)]
    pub error_path: Option<PathBuf>,
    /// Log level (debug, info, warn, error)
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Timeout (ms) after which a silent client's request is dropped
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Timeout (ms) for the target to start answering
    #[arg(long)]
    pub proxy_timeout: Option<u64>,
    /// Timeout (ms) for idle keep-alive client connections
    #[arg(long)]
    pub keep_alive_timeout: Option<u64>,
    /// Don't add X-Forwarded-* headers to proxied requests
    #[arg(long)]
    pub no_x_forward: bool,
    /// Don't prepend the target's path to proxied requests
    #[arg(long)]
    pub no_prepend_path: bool,
    /// Don't include the routing prefix in proxied requests
    #[arg(long)]
    pub no_include_prefix: bool,
    /// Use host routing (host as first level of path)
    #[arg(long)]
    pub host_routing: bool,
    /// Disable TLS certificate verification of targets
    #[arg(long)]
    pub insecure: bool,
    /// Send the target's host as Host
    #[arg(long)]
    pub change_origin: bool,
    /// Header added to proxied requests, `name:value` (repeatable)
    #[arg(long = "custom-header")]
    pub custom_header: Vec<String>,
    /// IP of the metrics server
    #[arg(long, default_value = "")]
    pub metrics_ip: String,
    /// Port of the metrics server (none unless given)
    #[arg(long)]
    pub metrics_port: Option<u16>,
    /// Write our pid to this file while running
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Keep the route table in this file across restarts (ferrohub-proxy only)
    #[arg(long)]
    pub routes_file: Option<PathBuf>,
    /// File holding the key shared with the hub, as `ferrohub proxy-key` prints it; enables
    /// private routes and scoped route credentials (ferrohub-proxy only; the environment
    /// variable FERROHUB_PROXY_KEY works too)
    #[arg(long)]
    pub proxy_key_file: Option<PathBuf>,
    /// Where private routes send browsers that are not logged in (ferrohub-proxy only)
    #[arg(long, default_value = "/hub/login")]
    pub login_url: String,
    /// Threads serving the public port, each with its own upstream connections (ferrohub-proxy
    /// only; default: one per CPU core)
    #[arg(long)]
    pub workers: Option<usize>,
    /// Microseconds a worker keeps polling a websocket after traffic instead of sleeping:
    /// lower message latency for at most this much CPU per burst; 0 (the default) turns it
    /// off, which suits a shared server (ferrohub-proxy only)
    #[arg(long, default_value_t = 0)]
    pub websocket_busy_poll: u64,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Redirect plain HTTP requests on this port to HTTPS (needs --ssl-key and --ssl-cert)
    #[arg(long)]
    pub redirect_port: Option<u16>,
    /// The HTTPS port --redirect-port sends requests to [default: --port]
    #[arg(long)]
    pub redirect_to: Option<u16>,

    /// Point redirects to a target's own address at the host the client asked for
    #[arg(long)]
    pub auto_rewrite: bool,
    /// Give redirects to a target's own address this scheme (http or https)
    #[arg(long)]
    pub protocol_rewrite: Option<String>,

    /// Listen on this unix socket instead of --ip and --port
    #[arg(long, conflicts_with_all = ["ip", "port"])]
    pub socket: Option<PathBuf>,
    /// Serve the API on this unix socket instead of --api-ip and --api-port
    #[arg(long, conflicts_with_all = ["api_ip", "api_port"])]
    pub api_socket: Option<PathBuf>,
    /// Serve metrics on this unix socket instead of --metrics-ip and --metrics-port
    #[arg(long, conflicts_with_all = ["metrics_ip", "metrics_port"])]
    pub metrics_socket: Option<PathBuf>,

    // --- Accepted by name, refused at start-up until implemented. ---
    #[arg(long, hide = true)]
    pub storage_backend: Option<String>,
}

fn ms(v: Option<u64>) -> Option<Duration> {
    v.filter(|&n| n > 0).map(Duration::from_millis)
}

impl Cli {
    /// The configuration, with the API token read by the caller from `CONFIGPROXY_AUTH_TOKEN`.
    pub fn config(&self, auth_token: Option<String>) -> Result<Config, ConfigError> {
        self.refuse_unimplemented()?;
        let error_target = match &self.error_target {
            Some(t) => Some(url::Url::parse(t).map_err(|e| ConfigError::Invalid {
                flag: "error-target",
                value: t.clone(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        let mut custom_headers = Vec::new();
        for h in &self.custom_header {
            let invalid = |reason: &str| ConfigError::Invalid {
                flag: "custom-header",
                value: h.clone(),
                reason: reason.into(),
            };
            let (k, v) = h
                .split_once(':')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| invalid("expected name:value"))?;
            custom_headers.push((
                k.trim().parse().map_err(|_| invalid("bad header name"))?,
                v.trim().parse().map_err(|_| invalid("bad header value"))?,
            ));
        }
        let defaults = Config::default();
        let config = Config {
            default_target: self.default_target.clone(),
            error_target,
            error_path: self.error_path.clone(),
            timeout: ms(self.timeout),
            proxy_timeout: ms(self.proxy_timeout),
            keep_alive_timeout: ms(self.keep_alive_timeout).unwrap_or(defaults.keep_alive_timeout),
            x_forward: !self.no_x_forward,
            prepend_path: !self.no_prepend_path,
            include_prefix: !self.no_include_prefix,
            host_routing: self.host_routing,
            change_origin: self.change_origin,
            insecure: self.insecure,
            tls: self.tls.options()?,
            custom_headers,
            auth_token: auth_token.filter(|t| !t.is_empty()).map(Secret::new),
            routes_file: self.routes_file.clone(),
            pid_file: self.pid_file.clone(),
            proxy_key: None,
            login_url: self.login_url.clone(),
            workers: self.workers,
            websocket_busy_poll: Duration::from_micros(self.websocket_busy_poll),
            redirect_to: self.redirect_to,
            auto_rewrite: self.auto_rewrite,
            // node's url module takes the scheme with or without its colon
            protocol_rewrite: self
                .protocol_rewrite
                .as_deref()
                .map(|p| p.trim_end_matches(':').to_ascii_lowercase()),
        };
        config.validate()?;
        Ok(config)
    }

    fn refuse_unimplemented(&self) -> Result<(), ConfigError> {
        if self.storage_backend.is_some() {
            return Err(ConfigError::NotImplemented {
                flag: "storage-backend (use --routes-file to keep routes)",
            });
        }
        Ok(())
    }

    /// The proxy key from `--proxy-key-file`, else from `from_env` (`FERROHUB_PROXY_KEY`).
    pub fn proxy_key(&self, from_env: Option<String>) -> Result<Option<ProxyKey>, ProxyKeyError> {
        if let Some(path) = &self.proxy_key_file {
            return ProxyKey::read_file(path).map(Some);
        }
        from_env
            .filter(|v| !v.trim().is_empty())
            .map(|v| ProxyKey::from_hex(&v, ferrohub_shared::env::FERROHUB_PROXY_KEY))
            .transpose()
    }

    /// The API port: `--api-port`, else the public port + 1, as CHP computes it.
    pub fn api_port(&self) -> u16 {
        self.api_port.unwrap_or(self.port.wrapping_add(1))
    }
}

/// Bind `ip:port` as CHP's listen options mean it: an empty IP or `*` is every interface
/// (IPv6 and IPv4 where the host has IPv6, else IPv4); a name such as `localhost` is resolved.
pub async fn bind(ip: &str, port: u16) -> std::io::Result<TcpListener> {
    match ip {
        "" | "*" => match TcpListener::bind(("::", port)).await {
            Ok(l) => Ok(l),
            Err(_) => TcpListener::bind(("0.0.0.0", port)).await,
        },
        ip => TcpListener::bind((ip.trim_matches(['[', ']']), port)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("ferrohub-proxy").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn jupyterhubs_command_line_parses() {
        let cli = parse(&[
            "--ip",
            "127.0.0.1",
            "--port",
            "8000",
            "--api-ip",
            "127.0.0.1",
            "--api-port",
            "8001",
            "--error-target",
            "http://127.0.0.1:8081/hub/error",
            "--log-level",
            "info",
        ]);
        let c = cli.config(Some("secret".into())).unwrap();
        assert_eq!(c.error_target.unwrap().path(), "/hub/error");
        assert_eq!(c.auth_token.unwrap().expose(), "secret");
    }

    #[test]
    fn chps_defaults_and_switches() {
        let cli = parse(&["--port", "9000"]);
        assert_eq!(cli.api_port(), 9001);
        assert_eq!(cli.api_ip, "localhost");
        let c = cli.config(None).unwrap();
        assert!(c.auth_token.is_none() && c.x_forward && c.include_prefix);
        let c = parse(&[
            "--no-x-forward",
            "--no-prepend-path",
            "--no-include-prefix",
            "--host-routing",
            "--timeout",
            "1500",
            "--custom-header",
            " X-A : b ",
        ])
        .config(Some(String::new()))
        .unwrap();
        assert!(!c.x_forward && !c.prepend_path && !c.include_prefix && c.host_routing);
        assert_eq!(c.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(c.custom_headers[0].0.as_str(), "x-a");
        assert!(c.auth_token.is_none(), "an empty token is no token");
    }
}
