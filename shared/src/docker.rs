//! Talking to the Docker engine, for the hub's Docker spawner and the manager alike: the
//! [`Engine`] they call (connecting lazily, every call bounded by a deadline so a stuck or
//! absent engine turns into a readable error instead of a hang), and the name escaping
//! DockerSpawner uses. Behind the `docker` feature, so the proxy does not build a Docker
//! client.

use bollard::errors::Error as DockerError;
use bollard::Docker;
use std::future::Future;
use std::time::Duration;

/// How long one ordinary Docker call may take before the request fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect to the engine at `host` (empty: `DOCKER_HOST`, else the local socket) and
/// negotiate the API version, since older engines refuse requests made with a newer one.
/// The error is a sentence naming the engine and what to check; `setting` is the
/// configuration key that names the engine.
async fn connect(host: &str, setting: &str) -> Result<Docker, String> {
    let unreachable = |e: String| {
        format!(
            "cannot reach the Docker engine at {}: {e}. Is Docker running, and may ferrohub \
             use it? ({setting})",
            if host.is_empty() {
                "its default address"
            } else {
                host
            }
        )
    };
    let docker = if host.is_empty() {
        Docker::connect_with_defaults()
    } else {
        Docker::connect_with_host(host)
    }
    .map_err(|e| unreachable(e.to_string()))?
    .with_timeout(CALL_TIMEOUT);
    match tokio::time::timeout(CALL_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} seconds",
            CALL_TIMEOUT.as_secs()
        ))),
    }
}

/// How one Docker call failed.
#[derive(Debug)]
pub enum Call {
    /// The engine answered with an error status (404: no such container or image).
    Docker(u16, String),
    /// The engine could not be reached, or the answer was not understood.
    Transport(String),
    TimedOut(Duration),
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Call::Docker(_, message) => f.write_str(message),
            Call::Transport(message) => {
                write!(f, "the Docker engine could not be reached: {message}")
            }
            Call::TimedOut(limit) => write!(
                f,
                "the Docker engine did not answer within {} seconds",
                limit.as_secs()
            ),
        }
    }
}

impl Call {
    /// Whether the engine said there is no such object.
    fn is_not_found(&self) -> bool {
        matches!(self, Call::Docker(404, _))
    }
}

/// Run one Docker call with a deadline, so a stuck engine fails the request instead of
/// hanging it.
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, DockerError>>,
) -> Result<T, Call> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(DockerError::DockerResponseServerError {
            status_code,
            message,
        })) => Err(Call::Docker(status_code, message)),
        Ok(Err(DockerError::RequestTimeoutError)) | Err(_) => Err(Call::TimedOut(limit)),
        Ok(Err(other)) => Err(Call::Transport(other.to_string())),
    }
}

/// A name escaped for Docker as the `escapism` package DockerSpawner uses does it: letters,
/// digits and `-` stay, any other byte becomes `_XX`.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("_{byte:02X}"));
            }
        }
    }
    out
}

/// A container to create: everything the engine needs, nothing it decides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    /// The command; `None` runs the image's own.
    pub cmd: Option<Vec<String>>,
    pub labels: std::collections::HashMap<String, String>,
    /// `host:container[:mode]` binds (a host path or a volume name).
    pub binds: Vec<String>,
    /// The container's TCP port the program talks to.
    pub port: Option<u16>,
    /// Publish `port` on this host address, at a port the engine picks; `None` publishes
    /// nothing (the container is reached on its network).
    pub publish_on: Option<String>,
    /// The network to join; `None` is the engine's default.
    pub network: Option<String>,
    /// Limits: bytes of memory, and billionths of CPUs.
    pub memory: Option<i64>,
    pub nano_cpus: Option<i64>,
}

/// An image on the engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageInfo {
    pub labels: std::collections::HashMap<String, String>,
    /// Its default command.
    pub cmd: Option<Vec<String>>,
}

/// A published port: the container's, and where the host serves it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    pub container: u16,
    /// As the engine reports it (`0.0.0.0` for every interface).
    pub host_ip: String,
    pub host: u16,
}

/// What ferrohub reads back about a container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub running: bool,
    /// Once it stopped.
    pub exit_code: Option<i64>,
    pub labels: std::collections::HashMap<String, String>,
    /// Published TCP ports.
    pub ports: Vec<Published>,
    /// Its address on each network it joined, by network name.
    pub networks: std::collections::HashMap<String, String>,
    /// It was killed for using more memory than allowed.
    pub oom_killed: bool,
    /// What the engine says went wrong, if anything.
    pub error: String,
    /// Unix seconds; listings give it.
    pub created: Option<i64>,
}

/// What ferrohub asks of a container engine: the real one is [`DockerEngine`], and
/// `FakeEngine` (feature `docker-fake`) stands in for unit tests. Every call is bounded by a
/// deadline ([`CALL_TIMEOUT`]).
#[async_trait::async_trait]
pub trait Engine: Send + Sync {
    /// The image; `None` when the engine has no such image (nothing is pulled).
    async fn image(&self, image: &str) -> Result<Option<ImageInfo>, Call>;
    /// Create a container (not started); its id.
    async fn create(&self, spec: &ContainerSpec) -> Result<String, Call>;
    async fn start(&self, id: &str) -> Result<(), Call>;
    /// The container's state; `None` when there is no such container.
    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, Call>;
    /// Stop it, waiting `grace` after SIGTERM before SIGKILL; a stopped or absent one is fine.
    async fn stop(&self, id: &str, grace: Duration) -> Result<(), Call>;
    /// Remove it, running or not; an absent one is fine.
    async fn remove(&self, id: &str) -> Result<(), Call>;
    /// The containers, running or not, that carry every one of `labels`.
    async fn list(&self, labels: &[(String, String)]) -> Result<Vec<ContainerState>, Call>;
    /// The last `lines` lines the container wrote (stdout and stderr).
    async fn logs(&self, id: &str, lines: usize) -> Result<String, Call>;
}

/// The Docker engine, connected at the first call (so a program starts while Docker is down).
pub struct DockerEngine {
    host: String,
    setting: String,
    docker: tokio::sync::OnceCell<Docker>,
}

impl DockerEngine {
    /// The engine at `host` (empty: `DOCKER_HOST`, else the local socket); `setting` names the
    /// configuration key that sets it, for error messages.
    pub fn new(host: &str, setting: &str) -> DockerEngine {
        DockerEngine {
            host: host.to_owned(),
            setting: setting.to_owned(),
            docker: tokio::sync::OnceCell::new(),
        }
    }

    async fn docker(&self) -> Result<&Docker, Call> {
        self.docker
            .get_or_try_init(|| connect(&self.host, &self.setting))
            .await
            .map_err(Call::Transport)
    }
}

fn state_of(info: bollard::models::ContainerInspectResponse) -> ContainerState {
    let state = info.state.unwrap_or_default();
    let config = info.config.unwrap_or_default();
    let network = info.network_settings.unwrap_or_default();
    let ports = network
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, bindings)| {
            let container = key.strip_suffix("/tcp")?.parse().ok()?;
            let binding = bindings?.into_iter().next()?;
            Some(Published {
                container,
                host_ip: binding.host_ip.unwrap_or_default(),
                host: binding.host_port?.parse().ok()?,
            })
        })
        .collect();
    let networks = network
        .networks
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, endpoint)| {
            Some((name, endpoint.ip_address.filter(|ip| !ip.is_empty())?))
        })
        .collect();
    ContainerState {
        id: info.id.unwrap_or_default(),
        name: info
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        running: state.running == Some(true),
        exit_code: state.exit_code,
        labels: config.labels.unwrap_or_default(),
        ports,
        networks,
        oom_killed: state.oom_killed == Some(true),
        error: state.error.unwrap_or_default(),
        // Read where it is needed (listings carry it as a number).
        created: None,
    }
}

#[async_trait::async_trait]
impl Engine for DockerEngine {
    async fn image(&self, image: &str) -> Result<Option<ImageInfo>, Call> {
        let docker = self.docker().await?;
        match bounded(CALL_TIMEOUT, docker.inspect_image(image)).await {
            Ok(info) => {
                let config = info.config.unwrap_or_default();
                Ok(Some(ImageInfo {
                    labels: config.labels.unwrap_or_default(),
                    cmd: config.cmd,
                }))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, Call> {
        use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
        use bollard::query_parameters::CreateContainerOptionsBuilder;
        let docker = self.docker().await?;
        let port_key = spec.port.map(|port| format!("{port}/tcp"));
        let port_bindings = port_key
            .as_ref()
            .zip(spec.publish_on.as_ref())
            .map(|(key, ip)| {
                // An empty host port asks the engine for a free one.
                let binding = PortBinding {
                    host_ip: Some(ip.clone()),
                    host_port: Some(String::new()),
                };
                std::collections::HashMap::from([(key.clone(), Some(vec![binding]))])
            });
        let host = HostConfig {
            binds: (!spec.binds.is_empty()).then(|| spec.binds.clone()),
            port_bindings,
            network_mode: spec.network.clone(),
            memory: spec.memory,
            nano_cpus: spec.nano_cpus,
            ..HostConfig::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            env: Some(spec.env.clone()),
            cmd: spec.cmd.clone(),
            labels: Some(spec.labels.clone()),
            exposed_ports: port_key.map(|key| vec![key]),
            host_config: Some(host),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = bounded(CALL_TIMEOUT, docker.create_container(Some(options), body)).await?;
        Ok(created.id)
    }

    async fn start(&self, id: &str) -> Result<(), Call> {
        let docker = self.docker().await?;
        bounded(CALL_TIMEOUT, docker.start_container(id, None)).await
    }

    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, Call> {
        let docker = self.docker().await?;
        match bounded(CALL_TIMEOUT, docker.inspect_container(id, None)).await {
            Ok(info) => Ok(Some(state_of(info))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<(), Call> {
        use bollard::query_parameters::StopContainerOptionsBuilder;
        let docker = self.docker().await?;
        let seconds = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(seconds).build();
        match bounded(
            grace + CALL_TIMEOUT,
            docker.stop_container(id, Some(options)),
        )
        .await
        {
            Ok(()) | Err(Call::Docker(304 | 404, _)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn remove(&self, id: &str) -> Result<(), Call> {
        use bollard::query_parameters::RemoveContainerOptionsBuilder;
        let docker = self.docker().await?;
        // `v`: its anonymous volumes go with it.
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match bounded(CALL_TIMEOUT, docker.remove_container(id, Some(options))).await {
            Ok(()) | Err(Call::Docker(404 | 409, _)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, labels: &[(String, String)]) -> Result<Vec<ContainerState>, Call> {
        use bollard::query_parameters::ListContainersOptionsBuilder;
        let docker = self.docker().await?;
        let filters = std::collections::HashMap::from([(
            "label".to_owned(),
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let listed = bounded(CALL_TIMEOUT, docker.list_containers(Some(options))).await?;
        Ok(listed
            .into_iter()
            .map(|c| ContainerState {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned(),
                running: c.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING),
                exit_code: None,
                labels: c.labels.unwrap_or_default(),
                ports: c
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| {
                        Some(Published {
                            container: p.private_port,
                            host_ip: p.ip.unwrap_or_default(),
                            host: p.public_port?,
                        })
                    })
                    .collect(),
                created: c.created,
                ..ContainerState::default()
            })
            .collect())
    }

    async fn logs(&self, id: &str, lines: usize) -> Result<String, Call> {
        use bollard::query_parameters::LogsOptionsBuilder;
        use futures_util::StreamExt;
        let docker = self.docker().await?;
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let chunks = docker
            .logs(id, Some(options))
            .take_while(|chunk| std::future::ready(chunk.is_ok()))
            .filter_map(|chunk| std::future::ready(chunk.ok().map(|c| c.to_string())))
            .collect::<Vec<_>>();
        tokio::time::timeout(CALL_TIMEOUT, chunks)
            .await
            .map(|c| c.concat())
            .map_err(|_| Call::TimedOut(CALL_TIMEOUT))
    }
}

#[cfg(feature = "docker-fake")]
mod fake;
#[cfg(feature = "docker-fake")]
pub use fake::FakeEngine;

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_escaped_as_escapism_does() {
        assert_eq!(super::escape("alice-1"), "alice-1");
        assert_eq!(super::escape("a.b_c"), "a_2Eb_5Fc");
        assert_eq!(super::escape("é"), "_C3_A9");
    }
}
