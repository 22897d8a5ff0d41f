//! The `ferrohub-manager` binary: read the hub's environment, start logging, bind, run.

use anyhow::Context;
use clap::Parser;
use ferrohub_manager::config::ManagerConfig;
use ferrohub_shared::process;
use std::process::ExitCode;

/// The per-user manager of ferrohub. The hub starts it (`spawner_class = "manager"`) with
/// JupyterHub's single-user environment, which says where to listen and whom to trust.
#[derive(Debug, Parser)]
#[command(name = "ferrohub-manager", version)]
struct Cli {
    /// Listen on this address instead of the host in JUPYTERHUB_SERVICE_URL
    #[arg(long)]
    ip: Option<String>,
    /// Listen on this port instead of the port in JUPYTERHUB_SERVICE_URL
    #[arg(long)]
    port: Option<u16>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = process::init_logging("info", process::LogFormat::Human, &[]) {
        eprintln!("ferrohub-manager: {e}");
        return ExitCode::FAILURE;
    }
    match start(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrohub-manager: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn start(cli: Cli) -> anyhow::Result<()> {
    let config = ManagerConfig::from_env(|var| std::env::var(var).ok())?;
    let settings =
        ferrohub_manager::apps::settings::AppSettings::from_env(|var| std::env::var(var).ok())
            .map_err(anyhow::Error::msg)?;
    let address = match (cli.ip, cli.port) {
        (None, None) => config.listen_address(),
        (ip, port) => {
            let default = config
                .service_url
                .host_str()
                .unwrap_or("127.0.0.1")
                .to_owned();
            let ip = ip.unwrap_or(default);
            let port = port.or(config.service_url.port()).unwrap_or(8888);
            if ip.contains(':') {
                format!("[{ip}]:{port}")
            } else {
                format!("{ip}:{port}")
            }
        }
    };
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    ferrohub_manager::run(config, settings, listener, process::shutdown_signal()).await?;
    Ok(())
}
