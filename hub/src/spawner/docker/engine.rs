//! Talking to the Docker engine: connecting, and bounding every call with a deadline so a
//! stuck or absent engine turns into a readable error instead of a hang.

use crate::spawner::SpawnError;
use bollard::errors::Error as DockerError;
use bollard::Docker;
use std::future::Future;
use std::time::Duration;

/// How long one ordinary Docker call may take before the request fails.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect to the engine at `host` (empty: `DOCKER_HOST`, else the local socket) and
/// negotiate the API version, since older engines refuse requests made with a newer one.
pub(super) async fn connect(host: &str) -> Result<Docker, SpawnError> {
    let unreachable = |e: String| {
        SpawnError::Launch(format!(
            "cannot reach the Docker engine at {}: {e}. Is Docker running, and may the hub \
             use it? (DockerSpawner.docker_host)",
            if host.is_empty() {
                "its default address"
            } else {
                host
            }
        ))
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
pub(super) enum Call {
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
    /// A spawn error saying what was being done, in words a user can act on.
    pub(super) fn launch(&self, doing: &str) -> SpawnError {
        SpawnError::Launch(format!("Docker could not {doing}: {self}"))
    }
}

/// Run one Docker call with a deadline, so a stuck engine fails the request instead of
/// hanging it.
pub(super) async fn bounded<T>(
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
