//! The hub's side of the proxy: start it as a child process (or use a running one), keep the
//! hub's own route in it, restart it if it dies, report its routes in JupyterHub's form,
//! deliver queued session revocations ([`revocations`]), and stop it at shutdown.

mod child;
pub mod revocations;

pub use child::{ChildError, ProxyChild};

use crate::config::HubConfig;
use ferrohub_shared::proxy_client::{ProxyClient, ProxyError};
use ferrohub_shared::proxy_key::ProxyKey;
use ferrohub_shared::routes::RouteSpec;
use ferrohub_shared::secret::{random_hex, Secret};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum ProxyStartError {
    #[error(transparent)]
    Child(#[from] ChildError),
    #[error(transparent)]
    Api(#[from] ProxyError),
    #[error(
        "ConfigurableHTTPProxy.should_start is false but no token is configured: set \
         ConfigurableHTTPProxy.auth_token or CONFIGPROXY_AUTH_TOKEN to the running proxy's token"
    )]
    NoToken,
}

/// The proxy as the hub sees it: an API client and, if the hub started it, the child process.
pub struct Proxy {
    /// Replaced when an admin points the hub at a new proxy (`PATCH /hub/api/proxy`).
    client: RwLock<ProxyClient>,
    hub_route: RouteSpec,
    hub_target: String,
    child: Mutex<Option<ProxyChild>>,
    config: HubConfig,
    token: Secret,
    /// Given to a `ferrohub-proxy` the hub starts, for private routes and route credentials.
    key: ProxyKey,
}

/// Route data JupyterHub marks its routes with; routes without it belong to someone else.
pub const JUPYTERHUB_MARK: &str = "jupyterhub";

impl Proxy {
    /// Start the proxy (or connect to a running one) and add the hub's route.
    /// `env_token` is the value of `CONFIGPROXY_AUTH_TOKEN`, if set.
    pub async fn start(
        config: &HubConfig,
        env_token: Option<String>,
        key: ProxyKey,
    ) -> Result<Proxy, ProxyStartError> {
        let token = if !config.proxy.auth_token.is_empty() {
            config.proxy.auth_token.clone()
        } else if let Some(t) = env_token.filter(|t| !t.is_empty()) {
            Secret::new(t)
        } else if config.proxy.should_start {
            Secret::new(random_hex(32))
        } else {
            return Err(ProxyStartError::NoToken);
        };
        let client = ProxyClient::new(&config.proxy.api_url, token.clone());
        let child = if config.proxy.should_start {
            Some(ProxyChild::spawn(config, &token, &key, &client).await?)
        } else {
            None
        };
        let proxy = Proxy {
            client: RwLock::new(client),
            hub_route: RouteSpec::parse(&config.hub.base_url).expect("base_url is validated"),
            hub_target: config
                .hub_connect_url()
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            child: Mutex::new(child),
            config: config.clone(),
            token,
            key,
        };
        proxy.add_hub_route().await?;
        Ok(proxy)
    }

    /// The current API client (cheap to clone).
    pub fn client(&self) -> ProxyClient {
        self.client
            .read()
            .expect("never poisoned: no panics while held")
            .clone()
    }

    /// Point the hub at another proxy API, as `PATCH /hub/api/proxy` does.
    pub fn replace_client(&self, api_url: Option<&str>, token: Option<Secret>) {
        let mut client = self
            .client
            .write()
            .expect("never poisoned: no panics while held");
        let url = api_url.unwrap_or(client.api_url()).to_owned();
        let token = token.unwrap_or_else(|| client.token().clone());
        tracing::info!(api_url = %url, "the hub now uses the proxy at {url}");
        *client = ProxyClient::new(&url, token);
    }

    async fn add_hub_route(&self) -> Result<(), ProxyError> {
        let mut data = Map::new();
        data.insert("hub".into(), Value::Bool(true));
        data.insert(JUPYTERHUB_MARK.into(), Value::Bool(true));
        self.client()
            .add_route(&self.hub_route, &self.hub_target, data)
            .await?;
        tracing::info!(route = %self.hub_route, target = %self.hub_target, "hub route added to the proxy");
        Ok(())
    }

    /// The proxy's routes that the hub added, in JupyterHub's form:
    /// `{"/user/alice/": {"routespec": ..., "target": ..., "data": {...}}}`.
    pub async fn get_all_routes(&self) -> Result<BTreeMap<String, Value>, ProxyError> {
        let mut out = BTreeMap::new();
        for (path, entry) in self.client().get_routes().await? {
            if !entry.data.contains_key(JUPYTERHUB_MARK) {
                continue;
            }
            let mut routespec = path.clone();
            if !routespec.ends_with('/') {
                routespec.push('/');
            }
            let mut data = entry.data.clone();
            data.remove(JUPYTERHUB_MARK);
            if let Some(t) = &entry.last_activity {
                data.insert("last_activity".into(), Value::String(t.clone()));
            }
            let model = json!({ "routespec": routespec, "target": entry.target, "data": data });
            out.insert(routespec, model);
        }
        Ok(out)
    }

    /// One health check: restart a proxy the hub started if it died, and put the hub's route
    /// back if the proxy lost it. Runs every `check_running_interval` seconds and on
    /// `POST /hub/api/proxy`.
    pub async fn check(&self) -> Result<(), ProxyStartError> {
        {
            let mut child = self.child.lock().await;
            if let Some(running) = child.as_mut() {
                if let Some(status) = running.exited()? {
                    tracing::error!(%status, "the proxy exited; starting it again");
                    let client = self.client();
                    *child = Some(
                        ProxyChild::spawn(&self.config, &self.token, &self.key, &client).await?,
                    );
                }
            }
        }
        let routes = self.client().get_routes().await?;
        let has_hub_route = routes
            .keys()
            .any(|k| RouteSpec::parse(k).is_ok_and(|spec| spec == self.hub_route));
        if !has_hub_route {
            tracing::warn!(route = %self.hub_route, "the proxy lost the hub's route; adding it again");
            self.add_hub_route().await?;
        }
        Ok(())
    }

    /// Run [`Proxy::check`] every `check_running_interval` seconds until `stop` turns true.
    /// A check in progress always finishes (it may be starting a new proxy, which must not
    /// be abandoned half-started), so await this rather than abort it.
    pub async fn supervise(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let period = Duration::from_secs(self.config.proxy.check_running_interval);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            if let Err(e) = self.check().await {
                tracing::error!("proxy check failed: {e}");
            }
        }
    }

    /// Stop the proxy if the hub started it and `cleanup` asks for it
    /// (`JupyterHub.cleanup_proxy`, or the body of `POST /hub/api/shutdown`).
    pub async fn shutdown(&self, cleanup: bool) {
        if !cleanup {
            if self.child.lock().await.is_some() {
                tracing::info!("leaving the proxy running (cleanup_proxy is false)");
            }
            return;
        }
        if let Some(child) = self.child.lock().await.take() {
            child.stop().await;
        }
    }
}
