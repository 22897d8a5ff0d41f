//! The user's applications: what they may launch (grants from the hub, images from Docker),
//! the containers running them, and their routes at the proxy. [`Apps`] is the one way to
//! start, find and stop them; the API and the pages call it.
//!
//! - [`settings`]: the `[Manager]` settings from the environment.
//! - [`image`]: what an image's labels say about the app.
//! - [`launch`]: the container a start makes, and how to tell the app answers.

pub mod image;
pub mod launch;
pub mod settings;

use crate::config::ManagerConfig;
use chrono::{DateTime, Utc};
use ferrohub_shared::apps::GrantModel;
use ferrohub_shared::docker::{Call, ContainerState, DockerEngine, Engine};
use ferrohub_shared::labels::runinfo;
use ferrohub_shared::proxy_client::ProxyClient;
use ferrohub_shared::route_data::{AccessRule, AppRoute, BRIDGE, BRIDGE_TCP};
use ferrohub_shared::routes::RouteSpec;
use image::AppImage;
use launch::{Configurables, Owner, Plan};
use serde::Serialize;
use serde_json::{Map, Value};
use settings::AppSettings;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why an app could not be listed, started or stopped; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request names something this user has no grant for, or is malformed.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A start for this grant is under way or its app runs already.
    #[error("{0}")]
    Busy(String),
    /// Docker, the hub or the proxy failed, or the app did not come up.
    #[error("{0}")]
    Unable(String),
    /// The container engine cannot be reached at all.
    #[error("{0}")]
    Unreachable(String),
}

/// One grant the user may launch, with its image and, if running, its container.
#[derive(Debug, Clone, Serialize)]
pub struct Launchable {
    pub mapping_id: String,
    pub image: ImageView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerView>,
}

/// simphony-remote's `image` object: the labels, plus the grant's policy.
#[derive(Debug, Clone, Serialize)]
pub struct ImageView {
    #[serde(flatten)]
    pub image: AppImage,
    pub policy: ferrohub_shared::apps::Policy,
}

/// A running app container as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerView {
    pub name: String,
    pub image_name: String,
    pub url_id: String,
    pub mapping_id: String,
    /// Where the user opens it, e.g. `/user/alice/containers/URL_ID/`.
    pub url: String,
    pub started: DateTime<Utc>,
}

/// A container this manager started (or found again), and where the proxy reaches it.
#[derive(Debug, Clone)]
struct Running {
    view: ContainerView,
    container_id: String,
    /// `host:port` of the published port.
    address: String,
    vnc: bool,
}

/// A handle to the user's apps. Cloning is shallow.
#[derive(Clone)]
pub struct Apps {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<ManagerConfig>,
    settings: AppSettings,
    http: reqwest::Client,
    /// Where containers run: the Docker engine, or a fake in unit tests.
    engine: Arc<dyn Engine>,
    proxy: Option<ProxyClient>,
    /// Running containers by url_id.
    running: Mutex<BTreeMap<String, Running>>,
    /// Grants (mapping ids) whose start is under way.
    starting: Mutex<HashSet<String>>,
    /// Containers (url_ids) being started or stopped: [`Apps::sync`] leaves them alone, so it
    /// neither adopts a container before its app answers nor one on its way out.
    in_flight: Mutex<HashSet<String>>,
}

impl Apps {
    pub fn new(config: Arc<ManagerConfig>, settings: AppSettings, http: reqwest::Client) -> Apps {
        let engine = Arc::new(DockerEngine::new(
            &settings.docker_host,
            "[Manager] docker_host",
        ));
        Apps::with_engine(config, settings, http, engine)
    }

    /// The same over another engine (a fake in unit tests).
    pub fn with_engine(
        config: Arc<ManagerConfig>,
        settings: AppSettings,
        http: reqwest::Client,
        engine: Arc<dyn Engine>,
    ) -> Apps {
        let proxy = settings
            .proxy
            .as_ref()
            .map(|p| ProxyClient::new(&p.api_url, p.token.clone()));
        Apps {
            inner: Arc::new(Inner {
                config,
                settings,
                http,
                engine,
                proxy,
                running: Mutex::default(),
                starting: Mutex::default(),
                in_flight: Mutex::default(),
            }),
        }
    }

    fn engine(&self) -> &dyn Engine {
        self.inner.engine.as_ref()
    }

    /// The grants the hub says this user holds now (a new or revoked grant is seen at once).
    async fn grants(&self) -> Result<Vec<GrantModel>, AppError> {
        let config = &self.inner.config;
        let url = format!(
            "{}/users/{}/applications",
            config.api_url,
            url_escape(&config.user)
        );
        let unable = |e: String| {
            tracing::error!(
                "cannot read {}'s applications from the hub: {e}",
                config.user
            );
            AppError::Unable(
                "The hub did not say which applications you may use; try again in a moment.".into(),
            )
        };
        let resp = self
            .inner
            .http
            .get(&url)
            .header(
                "Authorization",
                format!("token {}", config.api_token.expose()),
            )
            .send()
            .await
            .map_err(|e| unable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(unable(format!("{url} answered {}", resp.status())));
        }
        resp.json().await.map_err(|e| unable(e.to_string()))
    }

    /// The image's labels; `None` when the engine has no such image (it is skipped).
    async fn image(&self, name: &str) -> Result<Option<AppImage>, AppError> {
        match self.engine().image(name).await {
            Ok(Some(info)) => AppImage::from_labels(name, &info.labels)
                .map(Some)
                .map_err(AppError::Unable),
            Ok(None) => Ok(None),
            Err(e) => Err(docker_failed(&format!("inspect {name}"), &e)),
        }
    }

    /// What the user may launch: one entry per grant whose image is on the engine, in the
    /// hub's order, each with its container if one runs.
    pub async fn catalog(&self) -> Result<Vec<Launchable>, AppError> {
        let grants = self.grants().await?;
        let names: HashSet<&str> = grants.iter().map(|g| g.image.as_str()).collect();
        // Images are inspected concurrently: one slow answer does not hold up the rest.
        let looked_up = futures_util::future::join_all(
            names
                .into_iter()
                .map(|name| async move { (name.to_owned(), self.image(name).await) }),
        )
        .await;
        // An engine that cannot be reached is an error to show, not an empty list.
        if let Some((_, Err(e))) = looked_up
            .iter()
            .find(|(_, found)| matches!(found, Err(AppError::Unreachable(_))))
        {
            return Err(AppError::Unreachable(e.to_string()));
        }
        let mut images = HashMap::new();
        for (name, found) in looked_up {
            match found {
                Ok(Some(image)) => {
                    images.insert(name, image);
                }
                Ok(None) => tracing::warn!("image {name} is granted but not on the engine"),
                Err(e) => tracing::warn!("image {name} skipped: {e}"),
            }
        }
        let running = self
            .inner
            .running
            .lock()
            .expect("no panics while held")
            .clone();
        Ok(grants
            .into_iter()
            .filter_map(|g| {
                let image = images.get(&g.image)?.clone();
                let container = running
                    .values()
                    .find(|r| r.view.mapping_id == g.mapping_id)
                    .map(|r| r.view.clone());
                Some(Launchable {
                    mapping_id: g.mapping_id,
                    image: ImageView {
                        image,
                        policy: g.policy,
                    },
                    container,
                })
            })
            .collect())
    }

    /// The running containers, by url_id.
    pub fn containers(&self) -> Vec<ContainerView> {
        let running = self.inner.running.lock().expect("no panics while held");
        running.values().map(|r| r.view.clone()).collect()
    }

    pub fn container(&self, url_id: &str) -> Option<ContainerView> {
        let running = self.inner.running.lock().expect("no panics while held");
        running.get(url_id).map(|r| r.view.clone())
    }

    /// Where noVNC's files are (`[Manager] novnc_path`).
    pub fn novnc_path(&self) -> &std::path::Path {
        &self.inner.settings.novnc_path
    }

    /// Whether `url_id` is a running desktop (whose page is noVNC).
    pub fn is_desktop(&self, url_id: &str) -> bool {
        let running = self.inner.running.lock().expect("no panics while held");
        running.get(url_id).is_some_and(|r| r.vnc)
    }

    /// Start the app of grant `mapping_id` with `chosen`, wait until it answers, and route it
    /// (private to the owner). A failed start leaves no container and no route behind.
    pub async fn start(
        &self,
        mapping_id: &str,
        chosen: &Configurables,
    ) -> Result<ContainerView, AppError> {
        let Some(proxy) = &self.inner.proxy else {
            return Err(AppError::Unable(
                "This server was not given access to the proxy, so it cannot publish apps; \
                 the hub's spawner passes it (spawner_class = \"manager\")."
                    .into(),
            ));
        };
        let grants = self.grants().await?;
        let Some(grant) = grants.into_iter().find(|g| g.mapping_id == mapping_id) else {
            return Err(AppError::BadRequest(format!(
                "unrecognized mapping_id {mapping_id:?}: you hold no such grant"
            )));
        };
        if let Some(r) = self
            .containers()
            .into_iter()
            .find(|c| c.mapping_id == mapping_id)
        {
            return Err(AppError::Busy(format!(
                "{} already runs at {}",
                grant.image, r.url
            )));
        }
        if !self
            .inner
            .starting
            .lock()
            .expect("no panics while held")
            .insert(mapping_id.to_owned())
        {
            return Err(AppError::Busy(format!(
                "{} is being started already",
                grant.image
            )));
        }
        let started = self.start_claimed(proxy, &grant, chosen).await;
        self.inner
            .starting
            .lock()
            .expect("no panics while held")
            .remove(mapping_id);
        started
    }

    async fn start_claimed(
        &self,
        proxy: &ProxyClient,
        grant: &GrantModel,
        chosen: &Configurables,
    ) -> Result<ContainerView, AppError> {
        let Some(image) = self.image(&grant.image).await? else {
            return Err(AppError::BadRequest(format!(
                "unrecognized image {}: it is not on the engine",
                grant.image
            )));
        };
        let config = &self.inner.config;
        let settings = &self.inner.settings;
        // Unguessable and unique across users and grants (simphony-remote's were neither).
        let url_id = ferrohub_shared::secret::random_hex(16);
        let _in_flight = InFlight::new(&self.inner.in_flight, &url_id);
        let owner = Owner {
            user: &config.user,
            server: &config.server_name,
            prefix: &config.prefix,
            realm: &settings.realm,
            home: settings.home.as_deref(),
            host_ip: &settings.host_ip,
        };
        let plan =
            launch::plan(&owner, grant, &image, chosen, &url_id).map_err(AppError::BadRequest)?;
        let container_id =
            self.engine().create(&plan.spec).await.map_err(|e| {
                docker_failed(&format!("create a container from {}", grant.image), &e)
            })?;
        let running = match self.bring_up(&container_id, &plan).await {
            Ok(address) => Running {
                view: ContainerView {
                    name: plan.spec.name.clone(),
                    image_name: grant.image.clone(),
                    url_id: url_id.clone(),
                    mapping_id: grant.mapping_id.clone(),
                    url: format!("{}/", plan.urlpath),
                    started: Utc::now(),
                },
                container_id: container_id.clone(),
                address,
                vnc: plan.vnc,
            },
            Err(e) => {
                self.remove_container(&container_id).await;
                return Err(e);
            }
        };
        if let Err(e) = self.add_routes(proxy, &running).await {
            self.remove_container(&container_id).await;
            return Err(e);
        }
        tracing::info!(
            url_id = %url_id, image = %grant.image, container = %short(&container_id),
            "started {} for {}", image.ui_name, config.user
        );
        let view = running.view.clone();
        self.inner
            .running
            .lock()
            .expect("no panics while held")
            .insert(url_id, running);
        Ok(view)
    }

    /// Start the container and wait until the app answers; the published address.
    async fn bring_up(&self, id: &str, plan: &Plan) -> Result<String, AppError> {
        let engine = self.engine();
        engine
            .start(id)
            .await
            .map_err(|e| docker_failed("start the container", &e))?;
        let state = engine
            .inspect(id)
            .await
            .map_err(|e| docker_failed("inspect the container", &e))?
            .ok_or_else(|| AppError::Unable("the container vanished as it started".into()))?;
        let host_port = state
            .ports
            .iter()
            .find(|p| Some(p.container) == plan.spec.port)
            .map(|p| p.host)
            .ok_or_else(|| AppError::Unable("Docker published no port for the app".into()))?;
        let address = join_host_port(&self.inner.settings.host_ip, &host_port.to_string());
        let deadline = Instant::now() + self.inner.settings.start_timeout;
        loop {
            if launch::answers(&self.inner.http, &address, &plan.urlpath, plan.vnc).await {
                return Ok(address);
            }
            if let Ok(Some(state)) = engine.inspect(id).await {
                if !state.running {
                    return Err(AppError::Unable(format!(
                        "the app stopped while starting (exit code {})",
                        state.exit_code.unwrap_or(-1)
                    )));
                }
            }
            if Instant::now() > deadline {
                return Err(AppError::Unable(format!(
                    "the app did not answer within {} seconds; it was stopped",
                    self.inner.settings.start_timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The app's routes at the proxy, private to the owner: a web app at its path; a
    /// desktop's VNC port bridged at `.../websockify` (its page, noVNC, is served by this
    /// manager under the server's own route).
    async fn add_routes(&self, proxy: &ProxyClient, app: &Running) -> Result<(), AppError> {
        let (spec, data) = self.route_for(app)?;
        proxy
            .add_route(&spec, &format!("http://{}", app.address), data)
            .await
            .map_err(|e| AppError::Unable(format!("the proxy refused the app's route: {e}")))
    }

    fn route_for(&self, app: &Running) -> Result<(RouteSpec, Map<String, Value>), AppError> {
        let config = &self.inner.config;
        let path = if app.vnc {
            format!("{}websockify", app.view.url)
        } else {
            app.view.url.clone()
        };
        let spec = RouteSpec::parse(&path)
            .map_err(|e| AppError::Unable(format!("bad route {path}: {e}")))?;
        let mut data = Map::new();
        AccessRule::owner(&config.user).write_into(&mut data);
        AppRoute {
            user: config.user.clone(),
            server: config.server_name.clone(),
            url_id: app.view.url_id.clone(),
        }
        .write_into(&mut data);
        if app.vnc {
            data.insert(BRIDGE.into(), Value::String(BRIDGE_TCP.into()));
        }
        Ok((spec, data))
    }

    /// Stop the container `url_id` and remove it and its route.
    pub async fn stop(&self, url_id: &str) -> Result<(), AppError> {
        let _in_flight = InFlight::new(&self.inner.in_flight, url_id);
        let Some(app) = self
            .inner
            .running
            .lock()
            .expect("no panics while held")
            .remove(url_id)
        else {
            return Err(AppError::NotFound(format!("no running container {url_id}")));
        };
        self.tear_down(&app).await;
        tracing::info!(url_id = %url_id, image = %app.view.image_name, "stopped");
        Ok(())
    }

    async fn tear_down(&self, app: &Running) {
        if let Some(proxy) = &self.inner.proxy {
            if let Ok((spec, _)) = self.route_for(app) {
                if let Err(e) = proxy.delete_route(&spec).await {
                    tracing::warn!("could not remove the route {spec}: {e}");
                }
            }
        }
        if let Err(e) = self
            .engine()
            .stop(&app.container_id, Duration::from_secs(5))
            .await
        {
            tracing::warn!("could not stop container {}: {e}", short(&app.container_id));
        }
        self.remove_container(&app.container_id).await;
    }

    async fn remove_container(&self, id: &str) {
        if let Err(e) = self.engine().remove(id).await {
            tracing::error!("could not remove container {}: {e}", short(id));
        }
    }

    /// This user's containers of this realm on the engine, running or not.
    async fn listed(&self) -> Result<Vec<ContainerState>, AppError> {
        let config = &self.inner.config;
        let labels = [
            (runinfo::REALM, self.inner.settings.realm.as_str()),
            (runinfo::USER, config.user.as_str()),
            (runinfo::SERVER, config.server_name.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        self.engine()
            .list(&labels)
            .await
            .map_err(|e| docker_failed("list the app containers", &e))
    }

    /// Bring the registry in line with the engine: running containers this manager does not
    /// know yet (an earlier manager started them) are adopted and routed again; known ones
    /// that stopped lose their route and are removed. Nothing is started.
    pub async fn sync(&self) -> Result<(), AppError> {
        let listed = self.listed().await?;
        let mut seen = HashSet::new();
        for c in listed {
            let Some(url_id) = c.labels.get(runinfo::URL_ID).cloned() else {
                continue;
            };
            if self
                .inner
                .in_flight
                .lock()
                .expect("no panics while held")
                .contains(&url_id)
            {
                seen.insert(url_id);
                continue;
            }
            let id = c.id.clone();
            let running = c.running;
            let known = self
                .inner
                .running
                .lock()
                .expect("no panics while held")
                .contains_key(&url_id);
            if running {
                seen.insert(url_id.clone());
                if !known {
                    self.adopt(&c, url_id).await;
                }
            } else {
                // Exited on its own (or left by a crash): its route goes, and so does it.
                tracing::info!(url_id = %url_id, container = %short(&id), "app container exited; removing it");
                let app = self
                    .inner
                    .running
                    .lock()
                    .expect("no panics while held")
                    .remove(&url_id);
                match app {
                    Some(app) => self.tear_down(&app).await,
                    None => self.remove_container(&id).await,
                }
            }
        }
        // Containers removed behind our back (docker rm -f): forget them and their routes.
        let vanished: Vec<Running> = {
            let mut running = self.inner.running.lock().expect("no panics while held");
            let gone: Vec<String> = running
                .keys()
                .filter(|k| !seen.contains(*k))
                .cloned()
                .collect();
            gone.iter().filter_map(|k| running.remove(k)).collect()
        };
        for app in vanished {
            tracing::info!(url_id = %app.view.url_id, "app container is gone; removing its route");
            self.tear_down(&app).await;
        }
        Ok(())
    }

    async fn adopt(&self, c: &ContainerState, url_id: String) {
        let (id, labels) = (c.id.clone(), &c.labels);
        let Some(port) = c.ports.first().map(|p| (p.container, p.host)) else {
            tracing::warn!(container = %short(&id), "an app container without a published port; leaving it");
            return;
        };
        let image = labels.get(runinfo::IMAGE).cloned().unwrap_or_default();
        let vnc = match self.image(&image).await {
            Ok(Some(i)) => i.vnc_port == Some(port.0),
            _ => false,
        };
        let urlpath = labels.get(runinfo::URLPATH).cloned().unwrap_or_default();
        let app = Running {
            view: ContainerView {
                name: c.name.clone(),
                image_name: image,
                url_id: url_id.clone(),
                mapping_id: labels.get(runinfo::MAPPING_ID).cloned().unwrap_or_default(),
                url: format!("{urlpath}/"),
                started: c
                    .created
                    .and_then(|t| DateTime::from_timestamp(t, 0))
                    .unwrap_or_else(Utc::now),
            },
            container_id: id.clone(),
            address: join_host_port(&self.inner.settings.host_ip, &port.1.to_string()),
            vnc,
        };
        if let Some(proxy) = &self.inner.proxy {
            if let Err(e) = self.add_routes(proxy, &app).await {
                tracing::error!(url_id = %url_id, "cannot route a running app again: {e}");
                return;
            }
        }
        tracing::info!(url_id = %url_id, container = %short(&id), "found a running app again; routed it");
        self.inner
            .running
            .lock()
            .expect("no panics while held")
            .insert(url_id, app);
    }

    /// Put back the route of a running web app the proxy lost (a request for it reached the
    /// manager instead); `false` if there is no such app.
    pub async fn reroute(&self, url_id: &str) -> bool {
        let app = self
            .inner
            .running
            .lock()
            .expect("no panics while held")
            .get(url_id)
            .cloned();
        match (app, &self.inner.proxy) {
            (Some(app), Some(proxy)) if !app.vnc => self.add_routes(proxy, &app).await.is_ok(),
            _ => false,
        }
    }

    /// Every few seconds until the process ends: [`Apps::sync`].
    pub async fn watch_forever(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.sync().await {
                tracing::warn!("checking the app containers failed: {e}");
            }
        }
    }

    /// At the manager's stop: stop every app (with `[Manager] stop_apps_with_server`), or
    /// leave them running for the next manager to find.
    pub async fn shut_down(&self) {
        if !self.inner.settings.stop_apps_on_exit {
            return;
        }
        let apps: Vec<Running> =
            std::mem::take(&mut *self.inner.running.lock().expect("no panics while held"))
                .into_values()
                .collect();
        let stops = apps.iter().map(|app| self.tear_down(app));
        futures_util::future::join_all(stops).await;
    }
}

/// Marks a url_id in flight for as long as it lives.
struct InFlight<'a> {
    set: &'a Mutex<HashSet<String>>,
    url_id: String,
}

impl<'a> InFlight<'a> {
    fn new(set: &'a Mutex<HashSet<String>>, url_id: &str) -> InFlight<'a> {
        set.lock()
            .expect("no panics while held")
            .insert(url_id.to_owned());
        InFlight {
            set,
            url_id: url_id.to_owned(),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .expect("no panics while held")
            .remove(&self.url_id);
    }
}

fn docker_failed(doing: &str, call: &Call) -> AppError {
    match call {
        Call::Transport(_) => AppError::Unreachable(format!(
            "Docker could not {doing}: {call}. Your administrator needs to look at the engine."
        )),
        _ => AppError::Unable(format!("Docker could not {doing}: {call}")),
    }
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn url_escape(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrohub_shared::apps::{Grantee, Policy};
    use ferrohub_shared::docker::FakeEngine;
    use ferrohub_shared::secret::Secret;

    /// alice's apps over `engine`, without a proxy.
    fn apps(engine: Arc<FakeEngine>) -> Apps {
        let env = crate::config::tests::contract();
        let config = ManagerConfig::from_env(|k| env.get(k).cloned()).unwrap();
        let settings = AppSettings::from_env(|_| None).unwrap();
        Apps::with_engine(Arc::new(config), settings, reqwest::Client::new(), engine)
    }

    /// A container an earlier manager of `user` started for `url_id`.
    fn left_behind(id: &str, user: &str, url_id: &str, running: bool) -> ContainerState {
        let labels = [
            (runinfo::REALM, "ferrohub"),
            (runinfo::USER, user),
            (runinfo::SERVER, ""),
            (runinfo::URL_ID, url_id),
            (runinfo::MAPPING_ID, "m1"),
            (runinfo::IMAGE, "web:1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .chain([(
            runinfo::URLPATH.to_owned(),
            format!("/user/{user}/containers/{url_id}"),
        )])
        .collect();
        ContainerState {
            id: id.into(),
            name: format!("ferrohub-{user}-{url_id}"),
            running,
            exit_code: (!running).then_some(0),
            labels,
            ports: vec![ferrohub_shared::docker::Published {
                container: 8888,
                host_ip: "127.0.0.1".into(),
                host: 40999,
            }],
            created: Some(1_700_000_000),
            ..ContainerState::default()
        }
    }

    fn ids(engine: &FakeEngine) -> Vec<String> {
        engine.containers().into_iter().map(|c| c.id).collect()
    }

    #[tokio::test]
    async fn sync_finds_running_apps_again_and_clears_ended_ones() {
        let engine = Arc::new(FakeEngine::new());
        engine.add_image("web:1", &[]);
        engine.add_container(left_behind("c1", "alice", "u1", true));
        engine.add_container(left_behind("c2", "alice", "u2", false));
        engine.add_container(left_behind("c3", "bob", "u3", true));
        let apps = apps(engine.clone());

        apps.sync().await.unwrap();
        let found = apps.containers();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].url, "/user/alice/containers/u1/");
        assert_eq!(found[0].mapping_id, "m1");
        assert_eq!(
            ids(&engine),
            ["c1", "c3"],
            "alice's ended container is removed, bob's is not hers to touch"
        );

        // It exits on its own: the next check forgets and removes it.
        engine.exit("c1", 1);
        apps.sync().await.unwrap();
        assert!(apps.containers().is_empty());
        assert_eq!(ids(&engine), ["c3"]);

        // One removed behind the manager's back is forgotten too.
        engine.add_container(left_behind("c4", "alice", "u4", true));
        apps.sync().await.unwrap();
        assert_eq!(apps.containers().len(), 1);
        engine.vanish("c4");
        apps.sync().await.unwrap();
        assert!(apps.containers().is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_engine_is_said_so() {
        let engine = Arc::new(FakeEngine::new());
        engine.set_unreachable(true);
        let apps = apps(engine);
        assert!(matches!(apps.sync().await, Err(AppError::Unreachable(_))));
        assert!(matches!(
            apps.image("web:1").await,
            Err(AppError::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn a_start_whose_app_ends_early_leaves_no_container() {
        let engine = Arc::new(FakeEngine::new());
        engine.add_image("web:1", &[]);
        engine.exit_on_start(Some(3));
        let apps = apps(engine.clone());
        // The proxy is never reached: the start fails before the route.
        let proxy = ProxyClient::new("http://127.0.0.1:9", Secret::new(String::from("t")));
        let grant = GrantModel {
            mapping_id: "m1".into(),
            application_id: 1,
            image: "web:1".into(),
            grantee: Grantee::User("alice".into()),
            policy: Policy::default(),
            created: String::new(),
        };
        let err = apps
            .start_claimed(&proxy, &grant, &Configurables::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exit code 3"), "{err}");
        assert!(engine.containers().is_empty(), "{:?}", engine.containers());
        assert!(apps.containers().is_empty());

        // An image the engine lacks is the user's to hear about, before anything is made.
        let gone = GrantModel {
            image: "gone:1".into(),
            ..grant
        };
        let err = apps
            .start_claimed(&proxy, &gone, &Configurables::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::BadRequest(_)), "{err}");
        assert!(matches!(
            apps.stop("nope").await,
            Err(AppError::NotFound(_))
        ));
    }
}
