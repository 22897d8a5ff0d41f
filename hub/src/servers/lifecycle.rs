//! Starting and stopping one server: spawn -> wait until it answers -> add the proxy route ->
//! persist, and the reverse. Each runs as its own task, so a client that goes away does not
//! cancel it halfway; callers wait a little and otherwise report it as pending.

use super::{
    contract, Pending, PendingKind, Progress, ProgressEvent, ServerError, ServerKey, Servers,
};
use crate::auth::tokens::{self, TokenRequest};
use crate::config::SpawnerClass;
use crate::spawner::{SpawnRequest, Started};
use crate::store::{Server, TokenOwner, User};
use chrono::Utc;
use ferrohub_shared::route_data::AppRoute;
use ferrohub_shared::routes::RouteSpec;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an API start or stop request waits before answering "pending" (JupyterHub's
/// `slow_spawn_timeout` and `slow_stop_timeout`).
pub const SLOW_TIMEOUT: Duration = Duration::from_secs(10);

/// How a start request ended within [`SLOW_TIMEOUT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnOutcome {
    Ready,
    Pending,
}

/// How a stop request ended within [`SLOW_TIMEOUT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    Stopped,
    Pending,
}

impl Servers {
    /// The server's environment: JupyterHub's contract, plus the proxy API and a route
    /// credential for the server's own prefix.
    fn environment(
        &self,
        key: &ServerKey,
        prefix: &str,
        token: &ferrohub_shared::secret::Secret,
    ) -> std::collections::BTreeMap<String, String> {
        let api_url = match &self.proxy {
            Some(p) => p.client().api_url().to_owned(),
            None => self.config.proxy.api_url.clone(),
        };
        let proxy = contract::ProxyAccess {
            api_url: &api_url,
            key: &self.proxy_key,
        };
        contract::environment(&self.config, &key.user, &key.server, prefix, token, &proxy)
    }

    /// Start `user`'s server called `server` (`""`: the default one) with `user_options`,
    /// creating its record if needed. Answers once it is ready, or `Pending` if that takes
    /// longer than `wait` (the spawn goes on; its progress tells how it ends).
    pub async fn spawn(
        self: &Arc<Self>,
        user: &User,
        server: &str,
        user_options: Option<Value>,
        wait: Duration,
    ) -> Result<SpawnOutcome, ServerError> {
        self.check_server_name(user, server)?;
        let key = ServerKey::new(&user.name, server);
        let record = user.servers.iter().find(|s| s.name == server);
        if let Some(running) = record.filter(|s| s.url.is_some()) {
            // Notice a server that died since the last poll before refusing to start it.
            if self.pending(&user.name, server).is_none()
                && !self.reap_if_gone(&key, running).await?
            {
                return Err(ServerError::AlreadyRunning(key));
            }
        }
        // What is kept of the record (its display name) with the options of this start.
        let mut base = record
            .cloned()
            .unwrap_or_else(|| Server::stopped(server, json!({})));
        if let Some(options) = user_options {
            base.user_options = options;
        }
        let pending = {
            let mut map = self.pending_map();
            if let Some(p) = map.get(&key) {
                return match p.kind {
                    PendingKind::Spawn => Ok(SpawnOutcome::Pending),
                    kind => Err(ServerError::Pending { key, kind }),
                };
            }
            let limit = self.config.hub.concurrent_spawn_limit as usize;
            let spawning = map
                .values()
                .filter(|p| p.kind == PendingKind::Spawn)
                .count();
            if limit > 0 && spawning >= limit {
                tracing::warn!(
                    "{spawning} spawns pending (concurrent_spawn_limit); refusing {key}"
                );
                return Err(ServerError::TooManySpawns);
            }
            let pending = Pending {
                kind: PendingKind::Spawn,
                progress: Progress::default(),
                cancel: Arc::default(),
            };
            map.insert(key.clone(), pending.clone());
            pending
        };
        if let Err(e) = self.check_active_limit().await {
            self.pending_map().remove(&key);
            return Err(e);
        }
        // The record exists before this returns, so the server shows up (pending) at once.
        if record.is_none() {
            if let Err(e) = self.store.save_server(&user.name, &base).await {
                self.pending_map().remove(&key);
                return Err(e.into());
            }
        }
        let this = self.clone();
        let mut task = tokio::spawn(async move { this.run_spawn(key, base, pending).await });
        match tokio::time::timeout(wait, &mut task).await {
            Err(_) => Ok(SpawnOutcome::Pending),
            Ok(Ok(Ok(()))) => Ok(SpawnOutcome::Ready),
            Ok(Ok(Err(message))) => Err(ServerError::SpawnFailed(message)),
            Ok(Err(join)) => Err(ServerError::SpawnFailed(format!(
                "the spawn task failed: {join}"
            ))),
        }
    }

    /// Stop `user`'s server `server`; with `remove`, forget its record too. Stopping a server
    /// that is not running is fine. A spawn in progress is cancelled (it cleans up after
    /// itself) and reported as pending.
    pub async fn stop(
        self: &Arc<Self>,
        user: &str,
        server: &str,
        remove: bool,
    ) -> Result<StopOutcome, ServerError> {
        let key = ServerKey::new(user, server);
        let record = self
            .store
            .get_user(user)
            .await?
            .and_then(|u| u.servers.into_iter().find(|s| s.name == server))
            .ok_or_else(|| ServerError::NoSuchServer(key.clone()))?;
        let stopped = record.url.is_none() && is_empty(&record.state);
        {
            let mut map = self.pending_map();
            match map.get(&key) {
                Some(p) if p.kind == PendingKind::Spawn => {
                    tracing::warn!("{key}: stop requested while starting; cancelling the start");
                    p.cancel.store(true, Ordering::SeqCst);
                    return Ok(StopOutcome::Pending);
                }
                Some(_) => return Ok(StopOutcome::Pending),
                None if stopped => {}
                None => {
                    map.insert(
                        key.clone(),
                        Pending {
                            kind: PendingKind::Stop,
                            progress: Progress::default(),
                            cancel: Arc::default(),
                        },
                    );
                }
            }
        }
        if stopped {
            if remove {
                self.store.delete_server(user, server).await?;
            }
            return Ok(StopOutcome::Stopped);
        }
        let this = self.clone();
        let mut task = tokio::spawn(async move {
            let result = this.stop_now(&key, record, remove).await;
            this.pending_map().remove(&key);
            result
        });
        match tokio::time::timeout(SLOW_TIMEOUT, &mut task).await {
            Err(_) => Ok(StopOutcome::Pending),
            Ok(Ok(result)) => result.map(|()| StopOutcome::Stopped),
            Ok(Err(join)) => Err(ServerError::SpawnFailed(format!(
                "the stop task failed: {join}"
            ))),
        }
    }

    /// Stop all of a user's servers and wait until they are stopped (before deleting the
    /// user). A start or stop in progress is refused: the caller should try again.
    pub async fn stop_user(self: &Arc<Self>, user: &User) -> Result<(), ServerError> {
        for record in &user.servers {
            let key = ServerKey::new(&user.name, &record.name);
            if let Some(kind) = self.pending(&user.name, &record.name) {
                return Err(ServerError::Pending { key, kind });
            }
            if record.url.is_some() || !is_empty(&record.state) {
                self.stop_now(&key, record.clone(), false).await?;
            }
        }
        Ok(())
    }

    /// Named-server rules, as JupyterHub's `_check_named_server_request`.
    pub fn check_server_name(&self, user: &User, server: &str) -> Result<(), ServerError> {
        self.check_named_server(user, server, true)
    }

    /// The rules for a named server; `check_limit` is off when renaming one (the count
    /// stays the same).
    pub fn check_named_server(
        &self,
        user: &User,
        server: &str,
        check_limit: bool,
    ) -> Result<(), ServerError> {
        if server.is_empty() {
            return Ok(());
        }
        if !self.config.hub.allow_named_servers {
            return Err(ServerError::NamedServersDisabled);
        }
        let valid = server.len() <= 255
            && server
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(ServerError::BadName(server.to_owned()));
        }
        let limit = self.config.hub.named_server_limit_per_user;
        let named = user.servers.iter().filter(|s| !s.name.is_empty()).count();
        let exists = user.servers.iter().any(|s| s.name == server);
        if check_limit && limit > 0 && !exists && named >= limit as usize {
            return Err(ServerError::NamedServerLimit {
                user: user.name.clone(),
                limit,
            });
        }
        Ok(())
    }

    async fn check_active_limit(&self) -> Result<(), ServerError> {
        let limit = self.config.hub.active_server_limit as usize;
        if limit == 0 {
            return Ok(());
        }
        let running = self.store.live_servers().await?.len();
        let spawning = self
            .pending_map()
            .values()
            .filter(|p| p.kind == PendingKind::Spawn)
            .count();
        // The spawn being checked is already counted among the pending ones.
        if running + spawning > limit {
            tracing::warn!(
                "{running} servers running (active_server_limit = {limit}); refusing a spawn"
            );
            return Err(ServerError::ActiveServerLimit);
        }
        Ok(())
    }

    /// The spawn task: run the steps, report the end, release the server.
    async fn run_spawn(
        self: Arc<Self>,
        key: ServerKey,
        base: Server,
        pending: Pending,
    ) -> Result<(), String> {
        let started = Instant::now();
        let result = self.spawn_steps(&key, base, &pending).await;
        self.remember_finished(key.clone(), pending.progress.clone());
        self.pending_map().remove(&key);
        match &result {
            Ok(url) => {
                tracing::info!(
                    "{key} is ready at {url} after {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                pending.progress.report(ProgressEvent::ready(url));
            }
            Err(message) => {
                tracing::error!("{key} failed to start: {message}");
                pending
                    .progress
                    .report(ProgressEvent::failed(format!("Spawn failed: {message}")));
            }
        }
        result.map(|_| ())
    }

    /// Start the server and return its public URL prefix, or say why it could not start.
    /// Whatever was set up before a failure is undone.
    async fn spawn_steps(
        &self,
        key: &ServerKey,
        base: Server,
        pending: &Pending,
    ) -> Result<String, String> {
        let progress = &pending.progress;
        progress.report(ProgressEvent::step(0, "Server requested"));
        let prefix = self.urls.server(&key.user, &key.server);
        let token = self
            .new_server_token(key, &prefix)
            .await
            .map_err(internal)?;
        // A fresh attempt: nothing of an earlier run is kept but the name and display name.
        let mut record = Server {
            display_name: base.display_name,
            ..Server::stopped(&key.server, base.user_options)
        };
        self.store
            .save_server(&key.user, &record)
            .await
            .map_err(internal)?;
        let req = SpawnRequest {
            user: key.user.clone(),
            server_name: key.server.clone(),
            base_url: prefix.clone(),
            env: self.environment(key, &prefix, &token),
            user_options: record.user_options.clone(),
        };
        progress.report(ProgressEvent::step(10, "Starting the server"));
        let start_timeout = Duration::from_secs(self.config.spawner.start_timeout);
        let launched = tokio::time::timeout(start_timeout, self.spawner.start(&req)).await;
        let started = match launched {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => {
                self.forget_attempt(key, &mut record).await;
                return Err(e.to_string());
            }
            Err(_) => {
                self.forget_attempt(key, &mut record).await;
                return Err(format!(
                    "the spawner did not start the server within {} seconds (Spawner.start_timeout)",
                    start_timeout.as_secs()
                ));
            }
        };
        // Saved before waiting, so a hub that dies now finds (and cleans up) the process.
        record.state = started.state.clone();
        self.store
            .save_server(&key.user, &record)
            .await
            .map_err(internal)?;
        progress.report(ProgressEvent::step(
            50,
            format!(
                "Server started; waiting for it to answer at {}",
                started.url
            ),
        ));
        let result = async {
            self.wait_up(&started, &prefix, &pending.cancel).await?;
            progress.report(ProgressEvent::step(
                90,
                "Server answers; adding its route to the proxy",
            ));
            self.add_route(key, &prefix, &started.url).await?;
            let now = Utc::now();
            record.url = Some(started.url.clone());
            record.started = Some(now);
            record.last_activity = Some(now);
            self.store
                .save_server(&key.user, &record)
                .await
                .map_err(internal)
        }
        .await;
        if let Err(message) = result {
            let output = self.spawner.recent_output(&started.state).await;
            if let Err(e) = self.spawner.stop(&started.state).await {
                tracing::error!("{key}: could not stop the failed server: {e}");
            }
            self.remove_route(key, &prefix).await;
            self.forget_attempt(key, &mut record).await;
            return Err(match output {
                Some(tail) => format!("{message}. Its last output:\n{tail}"),
                None => message,
            });
        }
        Ok(prefix)
    }

    /// Wait until the server answers HTTP at its prefix (any status counts, as in
    /// JupyterHub), giving up if it exits, a stop cancels the spawn, or `http_timeout` passes.
    async fn wait_up(
        &self,
        started: &Started,
        prefix: &str,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        let url = format!("{}{prefix}", started.url);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(internal)?;
        let timeout = Duration::from_secs(self.config.spawner.http_timeout);
        let deadline = Instant::now() + timeout;
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err("Spawn cancelled: a stop was requested".into());
            }
            if let Ok(Some(exited)) = self.spawner.poll(&started.state).await {
                return Err(format!("the server {exited} before answering at {url}"));
            }
            if client.get(&url).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the server did not answer at {url} within {} seconds (Spawner.http_timeout)",
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stop a server now: route first (so no request reaches a dying server), then the
    /// process or container, then the record.
    pub(super) async fn stop_now(
        &self,
        key: &ServerKey,
        mut record: Server,
        remove: bool,
    ) -> Result<(), ServerError> {
        let prefix = self.urls.server(&key.user, &key.server);
        self.remove_route(key, &prefix).await;
        if !is_empty(&record.state) {
            if let Err(e) = self.spawner.stop(&record.state).await {
                tracing::error!("{key}: could not stop the server: {e}");
                return Err(ServerError::SpawnFailed(format!(
                    "could not stop {key}: {e}"
                )));
            }
        }
        tracing::info!("{key} stopped");
        self.forget_attempt(key, &mut record).await;
        if remove {
            self.store.delete_server(&key.user, &key.server).await?;
        }
        Ok(())
    }

    /// Mark the server stopped in the store and revoke its API token.
    pub(super) async fn forget_attempt(&self, key: &ServerKey, record: &mut Server) {
        record.url = None;
        record.state = json!({});
        if let Err(e) = self.store.save_server(&key.user, record).await {
            tracing::error!("{key}: could not record that the server stopped: {e}");
        }
        let prefix = self.urls.server(&key.user, &key.server);
        if let Err(e) = self.revoke_server_tokens(key, &prefix).await {
            tracing::error!("{key}: could not revoke the server's token: {e}");
        }
    }

    async fn new_server_token(
        &self,
        key: &ServerKey,
        prefix: &str,
    ) -> Result<ferrohub_shared::secret::Secret, crate::store::StoreError> {
        self.revoke_server_tokens(key, prefix).await?;
        let (secret, _) = tokens::mint(
            self.store.as_ref(),
            TokenRequest {
                owner: TokenOwner::User(key.user.clone()),
                scopes: contract::server_token_scopes(&key.user, &key.server),
                note: server_token_note(prefix),
                expires_in: None,
                session_id: None,
                oauth_client: None,
            },
        )
        .await?;
        // The server logs its users in through the hub's OAuth provider, with its token as
        // the client secret (as JupyterHub does).
        self.store
            .put_oauth_client(&crate::store::OAuthClient {
                identifier: contract::oauth_client_id(&key.user, &key.server),
                description: format!("Server at {prefix}"),
                secret_hash: tokens::hash_token(secret.expose()),
                redirect_uri: format!("{prefix}oauth_callback"),
                access_scopes: vec![format!("access:servers!server={}/{}", key.user, key.server)],
                owner: Some(key.user.clone()),
            })
            .await?;
        Ok(secret)
    }

    async fn revoke_server_tokens(
        &self,
        key: &ServerKey,
        prefix: &str,
    ) -> Result<(), crate::store::StoreError> {
        let note = server_token_note(prefix);
        for t in self.store.list_user_tokens(&key.user).await? {
            if t.note == note {
                match self.store.delete_user_token(&key.user, t.id).await {
                    Ok(()) | Err(crate::store::StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    pub(super) async fn add_route(
        &self,
        key: &ServerKey,
        prefix: &str,
        target: &str,
    ) -> Result<(), String> {
        let Some(proxy) = &self.proxy else {
            return Ok(());
        };
        let spec = RouteSpec::parse(prefix).map_err(|e| format!("bad route {prefix}: {e}"))?;
        let mut data = Map::new();
        data.insert("user".into(), Value::String(key.user.clone()));
        data.insert("server_name".into(), Value::String(key.server.clone()));
        data.insert(crate::proxy::JUPYTERHUB_MARK.into(), Value::Bool(true));
        proxy
            .client()
            .add_route(&spec, target, data)
            .await
            .map_err(|e| format!("the proxy refused the route {prefix}: {e}"))
    }

    /// Remove the server's route, and the routes its manager registered for app containers
    /// (marked [`AppRoute`]): no app route outlives the server that owns it, even when the
    /// manager could not remove them itself (it was killed).
    pub(super) async fn remove_route(&self, key: &ServerKey, prefix: &str) {
        let Some(proxy) = &self.proxy else { return };
        let Ok(spec) = RouteSpec::parse(prefix) else {
            return;
        };
        if let Err(e) = proxy.client().delete_route(&spec).await {
            tracing::error!("{key}: could not remove the route {prefix}: {e}");
        }
        // Only managers add app routes; other servers' stops skip reading the whole table.
        if self.config.hub.spawner_class == SpawnerClass::Manager {
            self.remove_app_routes(|owner| owner.user == key.user && owner.server == key.server)
                .await;
        }
    }

    /// Remove every app route whose [`AppRoute`] marker `doomed` picks.
    pub(super) async fn remove_app_routes(&self, doomed: impl Fn(&AppRoute) -> bool) {
        let Some(proxy) = &self.proxy else { return };
        let routes = match proxy.client().get_routes().await {
            Ok(routes) => routes,
            Err(e) => return tracing::error!("cannot read the proxy's routes: {e}"),
        };
        for (path, entry) in routes {
            let Some(app) = AppRoute::from_data(&entry.data).filter(|a| doomed(a)) else {
                continue;
            };
            let Ok(spec) = RouteSpec::parse(&path) else {
                continue;
            };
            tracing::info!(
                "removing the route {path} to {}'s app {}: its server does not run",
                app.user,
                app.url_id
            );
            if let Err(e) = proxy.client().delete_route(&spec).await {
                tracing::error!("could not remove the app route {path}: {e}");
            }
        }
    }
}

/// The note that marks a server's own token, so the next spawn replaces it.
fn server_token_note(prefix: &str) -> String {
    format!("Server at {prefix}")
}

pub(super) fn is_empty(state: &Value) -> bool {
    match state {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn internal(e: impl std::fmt::Display) -> String {
    format!("internal error: {e}")
}
