//! The `ferrohub-proxy` binary: parse CHP's command line, start logging, bind, run.

use anyhow::Context;
use clap::Parser;
use ferrohub_proxy::cli::{bind, Cli};
use ferrohub_proxy::listen::Listen;
use ferrohub_proxy::{run, Listeners};
use ferrohub_shared::process;
use std::path::Path;
use std::process::ExitCode;

// The public port has its own worker threads (see `server`); this runtime only runs the
// REST API, the metrics port and the accept loop, so one thread is enough and keeps the
// process small (each extra thread brings its own allocator arena).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // CHP's levels are debug, info, warn and error; RUST_LOG, when set, wins.
    if let Err(e) = process::init_logging(&cli.log_level, process::LogFormat::Human, &[]) {
        eprintln!("ferrohub-proxy: --log-level: {e}");
        return ExitCode::from(2);
    }
    match start(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrohub-proxy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn start(cli: Cli) -> anyhow::Result<()> {
    let token = std::env::var(ferrohub_shared::env::CONFIGPROXY_AUTH_TOKEN).ok();
    let mut config = cli.config(token)?;
    config.proxy_key =
        cli.proxy_key(std::env::var(ferrohub_shared::env::FERROHUB_PROXY_KEY).ok())?;
    let public = listen(cli.socket.as_deref(), &cli.ip, cli.port, "the proxy").await?;
    let api_port = cli.api_port();
    let api = listen(cli.api_socket.as_deref(), &cli.api_ip, api_port, "the API").await?;
    let metrics = match (&cli.metrics_socket, cli.metrics_port) {
        (None, None) => None,
        (path, port) => {
            let port = port.unwrap_or_default();
            Some(listen(path.as_deref(), &cli.metrics_ip, port, "metrics").await?)
        }
    };
    let redirect = match cli.redirect_port {
        Some(port) => Some(bind(&cli.ip, port).await.with_context(|| {
            format!(
                "cannot listen for HTTPS redirection on {:?} port {port}",
                cli.ip
            )
        })?),
        None => {
            if cli.redirect_to.is_some() {
                tracing::warn!("--redirect-to has no effect without --redirect-port");
            }
            None
        }
    };
    let listeners = Listeners {
        public,
        api,
        metrics,
        redirect,
    };
    run(config, listeners, process::shutdown_signal()).await?;
    Ok(())
}

/// Listen on the unix socket `path` if given, else on `ip:port`.
async fn listen(path: Option<&Path>, ip: &str, port: u16, what: &str) -> anyhow::Result<Listen> {
    match path {
        Some(path) => Listen::unix(path)
            .with_context(|| format!("cannot listen for {what} on the unix socket {path:?}")),
        None => bind(ip, port)
            .await
            .map(Listen::from)
            .with_context(|| format!("cannot listen for {what} on {ip:?} port {port}")),
    }
}
