//! How single-user servers are started: the [`Spawner`] trait and its implementations.
//!
//! A spawner is stateless between calls: everything it needs to find a server again (a pid,
//! a container id) goes into the JSON `state` it returns from [`Spawner::start`], which the
//! lifecycle persists with the server. That is what lets a restarted hub poll and stop the
//! servers an earlier hub started.

mod docker;
#[cfg(feature = "test-util")]
mod instant;
mod local;

pub use docker::DockerSpawner;
pub use local::LocalProcessSpawner;

use crate::config::{HubConfig, SpawnerClass};
use ferrohub_shared::env::singleuser;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Why a spawner could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The server could not be launched at all (bad command, unknown image, ...).
    #[error("{0}")]
    Launch(String),
    /// The state saved with a server does not describe one this spawner started.
    #[error("the saved server state is not understood: {0}")]
    BadState(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How a server ended, as [`Spawner::poll`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// The exit code, when the spawner knows it.
    pub code: Option<i32>,
    /// What happened, in words (e.g. "exited with status 1", "was killed by SIGKILL").
    pub reason: String,
}

impl fmt::Display for Exited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What the lifecycle asks a spawner to start.
#[derive(Debug, Clone)]
pub struct SpawnRequest {
    pub user: String,
    /// `""` for the default server.
    pub server_name: String,
    /// The URL prefix the server is served under, e.g. `/user/alice/`.
    pub base_url: String,
    /// JupyterHub's single-user environment, without `JUPYTERHUB_SERVICE_URL` (which depends
    /// on the address the spawner picks: see [`SpawnRequest::env_for`]).
    pub env: BTreeMap<String, String>,
    /// What the user chose in the options form (or the API's body), kept verbatim.
    pub user_options: Value,
}

impl SpawnRequest {
    /// The full environment for a server listening on `ip:port`.
    pub fn env_for(&self, ip: &str, port: u16) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.to_owned()
        };
        env.insert(
            singleuser::SERVICE_URL.into(),
            format!("http://{host}:{port}{}", self.base_url),
        );
        env
    }

    /// `alice` or `alice/lab`, for messages and file names.
    pub fn display_name(&self) -> String {
        if self.server_name.is_empty() {
            self.user.clone()
        } else {
            format!("{}/{}", self.user, self.server_name)
        }
    }
}

/// A launched server: where the proxy should send its traffic, and how to find it again.
#[derive(Debug, Clone)]
pub struct Started {
    /// e.g. `http://127.0.0.1:41234`; the proxy route points here.
    pub url: String,
    /// Saved with the server and handed back to `poll` and `stop`.
    pub state: Value,
}

/// Starts, polls and stops single-user servers.
///
/// Life of a server: `start` launches it and returns at once with its URL and state (the
/// lifecycle then waits until it answers HTTP); `poll` answers `None` while it runs and
/// `Some(Exited)` once it is gone; `stop` ends it and returns when it is gone. Each call
/// gets the state `start` returned, possibly from a hub process that has since restarted.
#[async_trait::async_trait]
pub trait Spawner: Send + Sync {
    /// Launch a server for `req`. Returns once it is launched, not necessarily answering.
    async fn start(&self, req: &SpawnRequest) -> Result<Started, SpawnError>;

    /// `None` while the server `state` describes is running; how it ended otherwise.
    async fn poll(&self, state: &Value) -> Result<Option<Exited>, SpawnError>;

    /// Stop the server and return once it is gone. Stopping one that is already gone is fine.
    async fn stop(&self, state: &Value) -> Result<(), SpawnError>;

    /// The last lines the server wrote, to explain a failed start. None by default.
    async fn recent_output(&self, _state: &Value) -> Option<String> {
        None
    }

    /// An HTML fragment of form fields for `/hub/spawn`; `None` (the default) means the
    /// server starts without asking.
    fn options_form(&self, _user: &str) -> Option<String> {
        None
    }

    /// Turn the submitted form into `user_options`. By default every field becomes a key
    /// holding its list of values, as JupyterHub's default does.
    fn options_from_form(&self, form: &BTreeMap<String, Vec<String>>) -> Value {
        serde_json::to_value(form).unwrap_or_default()
    }
}

/// The spawner `[JupyterHub] spawner_class` names.
pub fn from_config(config: &HubConfig) -> Arc<dyn Spawner> {
    match config.hub.spawner_class {
        // Connects to the engine lazily: the hub starts even while Docker is down.
        SpawnerClass::Docker => Arc::new(DockerSpawner::new(config)),
        SpawnerClass::Manager => Arc::new(LocalProcessSpawner::manager(config)),
        #[cfg(feature = "test-util")]
        SpawnerClass::Instant => Arc::new(instant::InstantSpawner::default()),
        SpawnerClass::Local => Arc::new(LocalProcessSpawner::new(config)),
    }
}
