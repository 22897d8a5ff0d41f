//! ferrohub: a JupyterHub-compatible hub.
//!
//! # Layout
//! - [`config`]: the typed configuration, its layers and its checks.
//! - [`store`]: users, tokens, servers, applications and grants in SQLite or PostgreSQL,
//!   behind one trait.
//! - [`auth`]: accounts and one-time password links.
//! - [`bootstrap`]: first-start admin creation.
//! - [`commands`]: admin command lines on the database (`ferrohub app ...`).
//! - [`proxy`]: starting, checking and stopping the proxy, and the hub's route in it.
//! - [`spawner`]: how single-user servers are started ([`spawner::Spawner`]).
//! - [`programs`]: finding the programs the hub starts (proxy, manager).
//! - [`applications`]: app images and their grants to users and groups (API and CLI).
//! - [`servers`]: the server lifecycle (spawn, wait, route, persist, stop, watch).
//! - [`routes`]: every path the hub serves; [`api`] and [`pages`] hold the handlers;
//!   [`error`] is the one mapping from errors to responses.
//!
//! [`run`] is the entry point shared by `main.rs` and the tests.

pub mod api;
pub mod applications;
pub mod auth;
pub mod bootstrap;
pub mod commands;
pub mod config;
pub mod cookie_secret;
pub mod error;
pub mod pages;
pub mod programs;
pub mod proxy;
pub mod routes;
pub mod servers;
pub mod spawner;
pub mod store;

pub use routes::app;

use config::HubConfig;
use cookie_secret::CookieSecret;
use ferrohub_shared::proxy_key::ProxyKey;
use std::future::Future;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;

/// What every handler can reach. Cloning is shallow.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<HubConfig>,
    pub store: Arc<dyn Store>,
    pub cookie_secret: Arc<CookieSecret>,
    /// The key shared with `ferrohub-proxy`, derived from the cookie secret.
    pub proxy_key: Arc<ProxyKey>,
    /// User-name rules from `[Authenticator]`.
    pub names: Arc<auth::names::NameRules>,
    /// URL building for models.
    pub urls: Arc<api::models::Urls>,
    /// The proxy; `None` only when the app runs without one (router tests), where the
    /// `/hub/api/proxy` endpoints answer 503.
    pub proxy: Option<Arc<proxy::Proxy>>,
    /// Checks passwords at login.
    pub authenticator: Arc<dyn auth::authenticator::Authenticator>,
    /// Failed logins, to slow down guessing.
    pub login_throttle: Arc<auth::throttle::LoginThrottle>,
    /// Page templates.
    pub templates: Arc<pages::Templates>,
    /// Users' servers: the one way to start and stop them.
    pub servers: Arc<servers::Servers>,
    /// Encrypts users' `auth_state`; without keys it can only be cleared.
    pub crypt: Arc<auth::auth_state::CryptKeeper>,
    /// Asks [`run`] to stop, as `POST /hub/api/shutdown` does.
    pub shutdown: ShutdownTrigger,
}

impl AppState {
    /// The state for `config` over an opened store.
    pub fn new(
        config: HubConfig,
        store: Arc<dyn Store>,
        cookie_secret: CookieSecret,
        proxy: Option<Arc<proxy::Proxy>>,
    ) -> AppState {
        let names = auth::names::NameRules::new(&config.authenticator.username_pattern)
            .expect("username_pattern is validated at load");
        let urls = Arc::new(api::models::Urls {
            base: config.hub.base_url.clone(),
        });
        let config = Arc::new(config);
        let proxy_key = Arc::new(ProxyKey::derive(cookie_secret.bytes()));
        let servers = servers::Servers::new(
            config.clone(),
            store.clone(),
            spawner::from_config(&config),
            proxy.clone(),
            urls.clone(),
            proxy_key.clone(),
        );
        AppState {
            store,
            cookie_secret: Arc::new(cookie_secret),
            proxy_key,
            names: Arc::new(names),
            urls,
            authenticator: auth::authenticator::from_config(&config),
            login_throttle: Arc::default(),
            templates: Arc::new(pages::Templates::new(&config.hub.base_url)),
            config: config.clone(),
            proxy,
            servers,
            crypt: Arc::new(auth::auth_state::CryptKeeper::none()),
            shutdown: ShutdownTrigger::default(),
        }
    }

    /// The same state with `crypt` encrypting users' `auth_state`.
    pub fn with_crypt(self, crypt: auth::auth_state::CryptKeeper) -> AppState {
        AppState {
            crypt: Arc::new(crypt),
            ..self
        }
    }
}

/// What to clean up when the hub stops; the configuration gives the defaults and
/// `POST /hub/api/shutdown` may override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleanup {
    pub servers: bool,
    pub proxy: bool,
}

/// A shared request to stop the hub. Cloning is shallow.
#[derive(Clone, Default)]
pub struct ShutdownTrigger(Arc<tokio::sync::watch::Sender<Option<ShutdownRequest>>>);

/// Overrides carried by a shutdown request (`None` keeps the configured choice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownRequest {
    pub servers: Option<bool>,
    pub proxy: Option<bool>,
}

impl ShutdownTrigger {
    pub fn request(&self, req: ShutdownRequest) {
        self.0.send_replace(Some(req));
    }

    /// Wait until a shutdown is requested.
    pub async fn requested(&self) -> ShutdownRequest {
        let mut rx = self.0.subscribe();
        let value = rx.wait_for(Option::is_some).await.map(|v| *v);
        value.ok().flatten().unwrap_or_default()
    }
}

/// Why the hub could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    CookieSecret(#[from] cookie_secret::CookieSecretError),
    #[error("cannot start the proxy: {0}")]
    Proxy(#[from] proxy::ProxyStartError),
    #[error("the hub's HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    CryptKey(#[from] auth::auth_state::CryptError),
    #[error(
        "auth_state is enabled ([Authenticator] enable_auth_state), but encryption is not \
         available: set JUPYTERHUB_CRYPT_KEY to a key made with `openssl rand -hex 32`, or turn \
         enable_auth_state off"
    )]
    AuthStateWithoutKey,
}

/// Values the hub reads from its environment, passed in so tests control them.
#[derive(Debug, Clone, Default)]
pub struct HubEnv {
    /// `JPY_COOKIE_SECRET`
    pub cookie_secret: Option<String>,
    /// `CONFIGPROXY_AUTH_TOKEN`
    pub proxy_token: Option<String>,
    /// `JUPYTERHUB_CRYPT_KEY`
    pub crypt_key: Option<String>,
}

impl HubEnv {
    pub fn from_process() -> Self {
        HubEnv {
            cookie_secret: std::env::var(ferrohub_shared::env::JPY_COOKIE_SECRET).ok(),
            proxy_token: std::env::var(ferrohub_shared::env::CONFIGPROXY_AUTH_TOKEN).ok(),
            crypt_key: std::env::var(auth::auth_state::CRYPT_KEY_ENV).ok(),
        }
    }
}

/// Run the hub on `listener` until `shutdown` completes (or `POST /hub/api/shutdown` asks):
/// open the database, make sure an admin exists, start the proxy and keep it healthy, serve;
/// at the end stop the proxy if `cleanup_proxy` says so.
pub async fn run(
    config: HubConfig,
    env: HubEnv,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let crypt = auth::auth_state::CryptKeeper::from_env_value(env.crypt_key.as_deref())?;
    if config.authenticator.enable_auth_state && !crypt.available() {
        return Err(HubError::AuthStateWithoutKey);
    }
    let store = store::open(&config.db_url()).await?;
    let cookie_secret = cookie_secret::load_or_create(
        &config.hub.cookie_secret_file,
        env.cookie_secret.as_deref(),
    )?;
    let admin_links = bootstrap::prepare(store.as_ref(), &config).await?;
    // The listener is already bound, so the proxy's first requests to the hub wait in the
    // accept queue until the server below starts.
    let proxy_key = ProxyKey::derive(cookie_secret.bytes());
    let proxy = Arc::new(proxy::Proxy::start(&config, env.proxy_token, proxy_key).await?);
    let state = AppState::new(
        config.clone(),
        store.clone(),
        cookie_secret,
        Some(proxy.clone()),
    )
    .with_crypt(crypt);
    let trigger = state.shutdown.clone();
    let servers = state.servers.clone();
    // Before serving: users must not see servers as running that an earlier hub left dead.
    servers.reconcile().await?;

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });

    let public = config.public_url();
    tracing::info!(
        "ferrohub {} is running at {}",
        ferrohub_shared::VERSION,
        public.as_str().trim_end_matches('/').to_owned() + &config.hub.base_url
    );
    for AdminLink { user, link } in &admin_links {
        tracing::warn!(
            "admin user `{user}` has no password yet. Open this one-time link within {} hours \
             and enter PIN {} to set it:\n\n    {}\n",
            config.native_authenticator.link_lifetime_hours,
            link.pin.expose(),
            link.url(&public, &config.hub.base_url)
        );
    }

    let supervisor = {
        let proxy = proxy.clone();
        let stop = stop_tx.subscribe();
        tokio::spawn(async move { proxy.supervise(stop).await })
    };
    let revoker = tokio::spawn(proxy::revocations::run(
        store.clone(),
        proxy.clone(),
        stop_tx.subscribe(),
    ));
    let watcher = tokio::spawn(servers.clone().watch(stop_tx.subscribe()));
    let mut cleanup = Cleanup {
        servers: config.hub.cleanup_servers,
        proxy: config.hub.cleanup_proxy,
    };
    let served = tokio::select! {
        () = shutdown => None,
        req = trigger.requested() => {
            cleanup.servers = req.servers.unwrap_or(cleanup.servers);
            cleanup.proxy = req.proxy.unwrap_or(cleanup.proxy);
            None
        }
        result = &mut server => Some(result),
    };
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = supervisor.await;
    let _ = revoker.await;
    let _ = watcher.await;
    if cleanup.servers {
        servers.stop_all().await;
    } else {
        tracing::info!("leaving servers running (cleanup_servers is false)");
    }
    proxy.shutdown(cleanup.proxy).await;
    let result = match served {
        Some(r) => r,
        None => server.await,
    };
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(HubError::Serve(e)),
        Err(join) => Err(HubError::Serve(std::io::Error::other(join))),
    }
}

use bootstrap::AdminLink;
