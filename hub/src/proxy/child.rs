//! The proxy as a child process of the hub, started with configurable-http-proxy's command
//! line so either `ferrohub-proxy` or configurable-http-proxy works.

use crate::config::HubConfig;
use ferrohub_shared::proxy_client::ProxyClient;
use ferrohub_shared::proxy_key::ProxyKey;
use ferrohub_shared::secret::Secret;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long a freshly started proxy may take to answer its API.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a proxy may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error(
        "cannot start the proxy command {command:?}: {source}. Install it or set \
         ConfigurableHTTPProxy.command"
    )]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the proxy exited during start-up ({status}); its log above says why")]
    ExitedEarly { status: ExitStatus },
    #[error("the proxy did not answer its API at {api_url} within {secs} s", secs = START_TIMEOUT.as_secs())]
    NotReady { api_url: String },
    #[error("cannot check the proxy process: {0}")]
    Wait(#[source] std::io::Error),
}

/// A proxy process the hub started. Dropping it leaves the process running (so a hub crash
/// does not take the proxy down); [`ProxyChild::stop`] ends it.
pub struct ProxyChild {
    child: Child,
    pid_file: PathBuf,
}

fn host_and_port(url: &url::Url) -> (String, u16) {
    let host = url.host_str().unwrap_or("127.0.0.1");
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    (host, url.port_or_known_default().unwrap_or(80))
}

/// A proxy left behind by an earlier hub (found through the pid file) holds the ports; stop it
/// first, as JupyterHub does. The command line is checked so a recycled pid is left alone.
async fn stop_previous(pid_file: &Path) {
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&cmdline).contains("proxy") {
        return;
    }
    tracing::warn!(pid, "stopping a proxy left running by an earlier hub");
    let pid = Pid::from_raw(pid);
    if kill(pid, Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while kill(pid, None).is_ok() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = kill(pid, Signal::SIGKILL);
}

impl ProxyChild {
    /// Start the proxy and wait until its API answers with `token`.
    pub async fn spawn(
        config: &HubConfig,
        token: &Secret,
        key: &ProxyKey,
        client: &ProxyClient,
    ) -> Result<ProxyChild, ChildError> {
        let pid_file = config.proxy.pid_file.clone();
        stop_previous(&pid_file).await;
        let program = crate::programs::resolve(&config.proxy.command[0]);
        let (ip, port) = host_and_port(&config.public_url());
        let api = url::Url::parse(&config.proxy.api_url).expect("validated at load");
        let (api_ip, api_port) = host_and_port(&api);
        let error_target = format!(
            "{}{}hub/error",
            config.hub_connect_url().as_str().trim_end_matches('/'),
            config.hub.base_url
        );
        let mut cmd = Command::new(&program);
        cmd.args(&config.proxy.command[1..])
            .args(["--ip", &ip, "--port", &port.to_string()])
            .args(["--api-ip", &api_ip, "--api-port", &api_port.to_string()])
            .args(["--error-target", &error_target])
            .args([
                "--log-level",
                if config.proxy.debug { "debug" } else { "info" },
            ])
            .env(ferrohub_shared::env::CONFIGPROXY_AUTH_TOKEN, token.expose())
            .kill_on_drop(false);
        let is_ferrohub_proxy = program
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("ferrohub-proxy"));
        if is_ferrohub_proxy && !config.proxy.routes_file.as_os_str().is_empty() {
            cmd.arg("--routes-file").arg(&config.proxy.routes_file);
        }
        if is_ferrohub_proxy {
            // Only ferrohub-proxy knows private routes; configurable-http-proxy would refuse
            // the flag and has no use for the key.
            let login_url = format!("{}hub/login", config.hub.base_url);
            cmd.args(["--login-url", &login_url])
                .env(ferrohub_shared::env::FERROHUB_PROXY_KEY, key.to_hex());
        }
        tracing::info!(command = %program.display(), %ip, port, "starting the proxy");
        let mut child = cmd.spawn().map_err(|source| ChildError::Spawn {
            command: program.display().to_string(),
            source,
        })?;
        if let Some(pid) = child.id() {
            if let Err(e) = std::fs::write(&pid_file, format!("{pid}\n")) {
                tracing::warn!(path = %pid_file.display(), "cannot write the proxy pid file: {e}");
            }
        }
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(ChildError::Wait)? {
                return Err(ChildError::ExitedEarly { status });
            }
            if client.get_routes().await.is_ok() {
                return Ok(ProxyChild { child, pid_file });
            }
            if Instant::now() > deadline {
                let _ = child.start_kill();
                return Err(ChildError::NotReady {
                    api_url: client.api_url().to_owned(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, ChildError> {
        self.child.try_wait().map_err(ChildError::Wait)
    }

    /// SIGTERM, then SIGKILL after a grace period; removes the pid file.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            if tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
                .await
                .is_err()
            {
                tracing::warn!("the proxy did not stop within {STOP_TIMEOUT:?}; killing it");
                let _ = self.child.kill().await;
            }
        }
        let _ = std::fs::remove_file(&self.pid_file);
        tracing::info!("proxy stopped");
    }
}
