//! Users' servers while the hub runs: which are starting or stopping, and the one way to
//! start ([`Servers::spawn`]), stop ([`Servers::stop`]) and watch them, used by the API, the
//! pages and start-up alike.
//!
//! The database says which servers run (a server with a `url` is running, one with a saved
//! `state` but no `url` was being started); this module adds what only the live hub knows:
//! spawns and stops in progress, and their progress events.

pub mod contract;
mod lifecycle;
pub mod progress;
mod watch;

pub use lifecycle::{SpawnOutcome, StopOutcome, SLOW_TIMEOUT};
pub use progress::{Progress, ProgressEvent};

use crate::api::models::Urls;
use crate::config::HubConfig;
use crate::proxy::Proxy;
use crate::spawner::Spawner;
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A user's server: `("alice", "")` is alice's default server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerKey {
    pub user: String,
    pub server: String,
}

impl ServerKey {
    pub fn new(user: &str, server: &str) -> Self {
        ServerKey {
            user: user.to_owned(),
            server: server.to_owned(),
        }
    }
}

impl std::fmt::Display for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.server.is_empty() {
            write!(f, "{}'s server", self.user)
        } else {
            write!(f, "{}'s server {}", self.user, self.server)
        }
    }
}

/// What is in progress for a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingKind {
    Spawn,
    Stop,
}

impl PendingKind {
    /// JupyterHub's word for it, in models (`"pending": "spawn"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PendingKind::Spawn => "spawn",
            PendingKind::Stop => "stop",
        }
    }
}

#[derive(Clone)]
struct Pending {
    kind: PendingKind,
    progress: Progress,
    /// Set when a stop interrupts this spawn: the spawn gives up and cleans up after itself.
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

/// Why a server could not be started or stopped. Mapped to HTTP once, in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0} does not exist")]
    NoSuchServer(ServerKey),
    #[error("{0} is already running")]
    AlreadyRunning(ServerKey),
    #[error("{key} is pending {}", kind.as_str())]
    Pending { key: ServerKey, kind: PendingKind },
    #[error("Named servers are not enabled.")]
    NamedServersDisabled,
    #[error("Invalid server name: {0:?}. Names may hold letters, digits, and - _ . only.")]
    BadName(String),
    #[error(
        "User {user} already has the maximum of {limit} named servers. One must be deleted \
         before a new server can be created"
    )]
    NamedServerLimit { user: String, limit: u32 },
    #[error("Too many users trying to start servers right now. Try again in a minute.")]
    TooManySpawns,
    #[error("Active server limit exceeded. Try again in a few minutes.")]
    ActiveServerLimit,
    /// The spawn failed; the message says why and what to look at.
    #[error("{0}")]
    SpawnFailed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users' servers as the running hub sees them. Shared by the API, pages and start-up.
pub struct Servers {
    store: Arc<dyn Store>,
    spawner: Arc<dyn Spawner>,
    /// `None` when the app runs without a proxy (router tests): routes are skipped.
    proxy: Option<Arc<Proxy>>,
    config: Arc<HubConfig>,
    urls: Arc<Urls>,
    /// Mints each server's scoped route credential for the proxy.
    proxy_key: Arc<ferrohub_shared::proxy_key::ProxyKey>,
    pending: Mutex<HashMap<ServerKey, Pending>>,
    /// The progress of each server's last finished spawn, so a page opened after the end
    /// still learns how it went (and a server that died on its own says so).
    finished: Mutex<HashMap<ServerKey, Progress>>,
}

impl Servers {
    pub fn new(
        config: Arc<HubConfig>,
        store: Arc<dyn Store>,
        spawner: Arc<dyn Spawner>,
        proxy: Option<Arc<Proxy>>,
        urls: Arc<Urls>,
        proxy_key: Arc<ferrohub_shared::proxy_key::ProxyKey>,
    ) -> Arc<Servers> {
        Arc::new(Servers {
            store,
            spawner,
            proxy,
            config,
            urls,
            proxy_key,
            pending: Mutex::default(),
            finished: Mutex::default(),
        })
    }

    fn pending_map(&self) -> std::sync::MutexGuard<'_, HashMap<ServerKey, Pending>> {
        self.pending
            .lock()
            .expect("never poisoned: no panics while held")
    }

    /// What is in progress for the server, if anything.
    pub fn pending(&self, user: &str, server: &str) -> Option<PendingKind> {
        self.pending_map()
            .get(&ServerKey::new(user, server))
            .map(|p| p.kind)
    }

    /// Every server with something in progress, for models of many users at once.
    pub fn pending_view(&self) -> PendingView {
        PendingView(
            self.pending_map()
                .iter()
                .map(|(k, p)| (k.clone(), p.kind))
                .collect(),
        )
    }

    /// The progress of the server's spawn in progress, or else of its last one.
    pub fn progress(&self, user: &str, server: &str) -> Option<Progress> {
        let key = ServerKey::new(user, server);
        if let Some(p) = self.pending_map().get(&key) {
            if p.kind == PendingKind::Spawn {
                return Some(p.progress.clone());
            }
        }
        self.finished
            .lock()
            .expect("never poisoned: no panics while held")
            .get(&key)
            .cloned()
    }

    /// The spawner's options form for `user`, if it has one.
    pub fn options_form(&self, user: &str) -> Option<String> {
        self.spawner.options_form(user)
    }

    /// The spawner's reading of a submitted options form.
    pub fn options_from_form(
        &self,
        form: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> serde_json::Value {
        self.spawner.options_from_form(form)
    }

    fn remember_finished(&self, key: ServerKey, progress: Progress) {
        self.finished
            .lock()
            .expect("never poisoned: no panics while held")
            .insert(key, progress);
    }
}

/// A snapshot of what is pending, keyed by server.
#[derive(Debug, Default)]
pub struct PendingView(HashMap<ServerKey, PendingKind>);

impl PendingView {
    pub fn get(&self, user: &str, server: &str) -> Option<PendingKind> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&ServerKey::new(user, server)).copied()
    }
}
