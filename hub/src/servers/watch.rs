//! Keeping the record true: at start-up, find the servers an earlier hub left (and the
//! routes it set); while running, notice servers that die on their own and carry the
//! proxy's activity into the database; at shutdown, stop everything if asked.

use super::lifecycle::is_empty;
use super::{Progress, ProgressEvent, ServerKey, Servers};
use crate::store::{Server, StoreError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

impl Servers {
    /// Poll a server the store calls running; if it is gone, clean up after it (route,
    /// record, token), tell its user through its progress, and answer `true`.
    pub(super) async fn reap_if_gone(
        &self,
        key: &ServerKey,
        record: &Server,
    ) -> Result<bool, StoreError> {
        let reason = match self.spawner.poll(&record.state).await {
            Ok(None) => return Ok(false),
            Ok(Some(exited)) => exited.reason,
            Err(e) => e.to_string(),
        };
        tracing::warn!("{key} {reason}; removing its route");
        let prefix = self.urls.server(&key.user, &key.server);
        self.remove_route(key, &prefix).await;
        // As JupyterHub's `User.stop`, the spawner still cleans up after a server that ended
        // on its own (an exited container is removed, leftover kernels are killed).
        if let Err(e) = self.spawner.stop(&record.state).await {
            tracing::warn!("{key}: cleaning up after the ended server failed: {e}");
        }
        let mut record = record.clone();
        self.forget_attempt(key, &mut record).await;
        let progress = Progress::default();
        progress.report(ProgressEvent::failed(format!(
            "Your server stopped: it {reason}"
        )));
        self.remember_finished(key.clone(), progress);
        Ok(true)
    }

    /// At start-up: servers that still run get their route back (the proxy may have
    /// restarted too), servers that died are marked stopped, spawns an earlier hub left
    /// halfway are undone, and routes to servers that no longer run are removed.
    pub async fn reconcile(self: &Arc<Self>) -> Result<(), StoreError> {
        let live = self.store.live_servers().await?;
        let mut tasks = JoinSet::new();
        for (user, record) in live {
            let this = self.clone();
            tasks.spawn(async move {
                let key = ServerKey::new(&user, &record.name);
                let prefix = this.urls.server(&user, &record.name);
                match &record.url {
                    None => {
                        tracing::warn!("{key} was starting when the hub stopped; cleaning it up");
                        if let Err(e) = this.stop_now(&key, record, false).await {
                            tracing::error!("{key}: {e}");
                        }
                        None
                    }
                    Some(url) => match this.reap_if_gone(&key, &record).await {
                        Ok(false) => {
                            if let Err(e) = this.add_route(&key, &prefix, url).await {
                                tracing::error!("{key}: {e}");
                            }
                            Some(prefix)
                        }
                        Ok(true) => None,
                        Err(e) => {
                            tracing::error!("{key}: {e}");
                            None
                        }
                    },
                }
            });
        }
        let mut running = BTreeSet::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(Some(prefix)) = done {
                running.insert(prefix);
            }
        }
        tracing::info!("{} servers found running", running.len());
        self.remove_stale_routes(&running).await;
        Ok(())
    }

    async fn remove_stale_routes(&self, running: &BTreeSet<String>) {
        let Some(proxy) = &self.proxy else { return };
        let routes = match proxy.get_all_routes().await {
            Ok(r) => r,
            Err(e) => return tracing::error!("cannot read the proxy's routes: {e}"),
        };
        for (spec, route) in routes {
            let Some(user) = route["data"]["user"].as_str() else {
                continue;
            };
            if running.contains(&spec) {
                continue;
            }
            let server = route["data"]["server_name"].as_str().unwrap_or("");
            tracing::warn!("removing the route {spec}: no such server runs");
            self.remove_route(&ServerKey::new(user, server), &spec)
                .await;
        }
        // App routes of servers that do not run (their manager is gone with them).
        self.remove_app_routes(|app| !running.contains(&self.urls.server(&app.user, &app.server)))
            .await;
    }

    /// Until `stop` turns true: poll running servers every `Spawner.poll_interval` seconds
    /// and copy the proxy's activity into the database every `last_activity_interval`.
    pub async fn watch(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut poll = interval(self.config.spawner.poll_interval);
        let mut activity = interval(self.config.hub.last_activity_interval);
        loop {
            tokio::select! {
                _ = poll.tick() => self.poll_all().await,
                _ = activity.tick() => self.activity_from_proxy().await,
                _ = async { let _ = stop.wait_for(|s| *s).await; } => return,
            }
        }
    }

    async fn poll_all(&self) {
        let live = match self.store.live_servers().await {
            Ok(live) => live,
            Err(e) => return tracing::error!("cannot list servers to poll: {e}"),
        };
        for (user, record) in live {
            if record.url.is_none() || self.pending(&user, &record.name).is_some() {
                continue;
            }
            let key = ServerKey::new(&user, &record.name);
            if let Err(e) = self.reap_if_gone(&key, &record).await {
                tracing::error!("{key}: {e}");
            }
        }
    }

    /// The proxy counts traffic per route; JupyterHub copies it into users' and servers'
    /// `last_activity` periodically, and so does this.
    pub async fn activity_from_proxy(&self) {
        let Some(proxy) = &self.proxy else { return };
        let routes = match proxy.get_all_routes().await {
            Ok(r) => r,
            Err(e) => return tracing::warn!("cannot read activity from the proxy: {e}"),
        };
        let mut by_user: BTreeMap<String, BTreeMap<String, DateTime<Utc>>> = BTreeMap::new();
        for route in routes.values() {
            let data = &route["data"];
            let (Some(user), Some(at)) = (data["user"].as_str(), data["last_activity"].as_str())
            else {
                continue;
            };
            let Ok(at) = DateTime::parse_from_rfc3339(at) else {
                continue;
            };
            let server = data["server_name"].as_str().unwrap_or("").to_owned();
            by_user
                .entry(user.to_owned())
                .or_default()
                .insert(server, at.with_timezone(&Utc));
        }
        for (user, servers) in by_user {
            let Some(latest) = servers.values().max().copied() else {
                continue;
            };
            match self.store.record_activity(&user, latest, &servers).await {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => tracing::warn!("cannot record {user}'s activity: {e}"),
            }
        }
    }

    /// Stop every server (at shutdown with `cleanup_servers`).
    pub async fn stop_all(self: &Arc<Self>) {
        let live = match self.store.live_servers().await {
            Ok(live) => live,
            Err(e) => return tracing::error!("cannot list servers to stop: {e}"),
        };
        if live.is_empty() {
            return;
        }
        tracing::info!("stopping {} servers (cleanup_servers is true)", live.len());
        let mut tasks = JoinSet::new();
        for (user, record) in live {
            if record.url.is_none() && is_empty(&record.state) {
                continue;
            }
            let this = self.clone();
            tasks.spawn(async move {
                let key = ServerKey::new(&user, &record.name);
                if let Err(e) = this.stop_now(&key, record, false).await {
                    tracing::error!("{key}: {e}");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

fn interval(seconds: u64) -> tokio::time::Interval {
    let period = Duration::from_secs(seconds.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}
