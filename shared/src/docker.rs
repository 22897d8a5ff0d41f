//! Talking to the Docker engine, for the hub's Docker spawner and the manager alike:
//! connecting, bounding every call with a deadline so a stuck or absent engine turns into a
//! readable error instead of a hang, and the name escaping DockerSpawner uses. Behind the
//! `docker` feature, so the proxy does not build a Docker client.

use bollard::errors::Error as DockerError;
use bollard::Docker;
use std::future::Future;
use std::time::Duration;

/// How long one ordinary Docker call may take before the request fails.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect to the engine at `host` (empty: `DOCKER_HOST`, else the local socket) and
/// negotiate the API version, since older engines refuse requests made with a newer one.
/// The error is a sentence naming the engine and what to check; `setting` is the
/// configuration key that names the engine.
pub async fn connect(host: &str, setting: &str) -> Result<Docker, String> {
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
    pub fn is_not_found(&self) -> bool {
        matches!(self, Call::Docker(404, _))
    }
}

/// Run one Docker call with a deadline, so a stuck engine fails the request instead of
/// hanging it.
pub async fn bounded<T>(
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

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_escaped_as_escapism_does() {
        assert_eq!(super::escape("alice-1"), "alice-1");
        assert_eq!(super::escape("a.b_c"), "a_2Eb_5Fc");
        assert_eq!(super::escape("é"), "_C3_A9");
    }
}
