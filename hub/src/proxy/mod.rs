//! The hub's side of the proxy: start it as a child process (or use a running one), keep the
//! hub's own route in it, restart it if it dies, and stop it at shutdown.

mod child;

pub use child::{ChildError, ProxyChild};

use crate::config::HubConfig;
use ferrohub_shared::proxy_client::{ProxyClient, ProxyError};
use ferrohub_shared::routes::RouteSpec;
use ferrohub_shared::secret::{random_hex, Secret};
use serde_json::{Map, Value};
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
    client: ProxyClient,
    hub_route: RouteSpec,
    hub_target: String,
    child: Mutex<Option<ProxyChild>>,
    config: HubConfig,
    token: Secret,
}

impl Proxy {
    /// Start the proxy (or connect to a running one) and add the hub's route.
    /// `env_token` is the value of `CONFIGPROXY_AUTH_TOKEN`, if set.
    pub async fn start(
        config: &HubConfig,
        env_token: Option<String>,
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
            Some(ProxyChild::spawn(config, &token, &client).await?)
        } else {
            None
        };
        let proxy = Proxy {
            client,
            hub_route: RouteSpec::parse(&config.hub.base_url).expect("base_url is validated"),
            hub_target: config
                .hub_connect_url()
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            child: Mutex::new(child),
            config: config.clone(),
            token,
        };
        proxy.add_hub_route().await?;
        Ok(proxy)
    }

    pub fn client(&self) -> &ProxyClient {
        &self.client
    }

    async fn add_hub_route(&self) -> Result<(), ProxyError> {
        let mut data = Map::new();
        data.insert("hub".into(), Value::Bool(true));
        self.client
            .add_route(&self.hub_route, &self.hub_target, data)
            .await?;
        tracing::info!(route = %self.hub_route, target = %self.hub_target, "hub route added to the proxy");
        Ok(())
    }

    /// One health check: restart a proxy the hub started if it died, and put the hub's route
    /// back if the proxy lost it. Called every `check_running_interval` seconds.
    pub async fn check(&self) -> Result<(), ProxyStartError> {
        {
            let mut child = self.child.lock().await;
            if let Some(running) = child.as_mut() {
                if let Some(status) = running.exited()? {
                    tracing::error!(%status, "the proxy exited; starting it again");
                    *child =
                        Some(ProxyChild::spawn(&self.config, &self.token, &self.client).await?);
                }
            }
        }
        let routes = self.client.get_routes().await?;
        let has_hub_route = routes
            .keys()
            .any(|k| RouteSpec::parse(k).is_ok_and(|spec| spec == self.hub_route));
        if !has_hub_route {
            tracing::warn!(route = %self.hub_route, "the proxy lost the hub's route; adding it again");
            self.add_hub_route().await?;
        }
        Ok(())
    }

    /// Run [`Proxy::check`] every `check_running_interval` seconds until dropped.
    pub async fn supervise(&self) {
        let period = Duration::from_secs(self.config.proxy.check_running_interval);
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = self.check().await {
                tracing::error!("proxy check failed: {e}");
            }
        }
    }

    /// Stop the proxy if the hub started it and `cleanup_proxy` asks for it.
    pub async fn shutdown(&self) {
        if !self.config.hub.cleanup_proxy {
            if self.child.lock().await.is_some() {
                tracing::info!("leaving the proxy running (JupyterHub.cleanup_proxy = false)");
            }
            return;
        }
        if let Some(child) = self.child.lock().await.take() {
            child.stop().await;
        }
    }
}
