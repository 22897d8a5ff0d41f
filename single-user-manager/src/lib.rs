//! `ferrohub-manager`: the per-user server the hub starts with `spawner_class = "manager"`.
//! It keeps JupyterHub's single-user contract (listens at `JUPYTERHUB_SERVICE_URL`, serves
//! under `JUPYTERHUB_SERVICE_PREFIX`, lets in whoever the hub's OAuth provider vouches for
//! with this server's access scopes, reports activity), and is where the user's
//! applications will be listed and started.
//!
//! # Layout
//! - [`config`]: the environment the hub passes (JupyterHub's `JUPYTERHUB_*` variables).
//! - [`hub_auth`]: OAuth login through the hub, token checks, this server's cookies.
//! - [`visitor`]: the extractor that lets a request in or sends it to log in.
//! - [`activity`]: last-activity reports to the hub.
//! - [`answers`]: how pages and errors look (a page for browsers, JSON for scripts).
//! - [`pages`]: the home page, status, the OAuth callback and logout.
//! - [`apps`]: the user's applications: grants, images, containers and their routes.
//! - [`api`]: simphony-remote's web API over them (`api/v1/...`).
//! - [`desktop`]: noVNC for desktops, and routes put back for web apps the proxy lost.

pub mod activity;
pub mod answers;
pub mod api;
pub mod apps;
pub mod config;
pub mod desktop;
pub mod hub_auth;
pub mod pages;
pub mod visitor;

use activity::Activity;
use apps::settings::AppSettings;
use apps::Apps;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use config::ManagerConfig;
use hub_auth::HubAuth;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Everything a request may need. Cloning is shallow.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ManagerConfig>,
    pub auth: HubAuth,
    pub activity: Activity,
    pub started: DateTime<Utc>,
    pub http: reqwest::Client,
    /// The user's applications.
    pub apps: Apps,
}

impl AppState {
    pub fn new(config: ManagerConfig, settings: AppSettings) -> AppState {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without TLS settings always builds");
        let config = Arc::new(config);
        AppState {
            auth: HubAuth::new(config.clone(), http.clone()),
            apps: Apps::new(config.clone(), settings, http.clone()),
            config,
            activity: Activity::default(),
            started: Utc::now(),
            http,
        }
    }
}

/// Every path the manager serves, all under its prefix.
pub fn app(state: AppState) -> Router {
    let prefix = state.config.prefix.clone();
    let bare = prefix.trim_end_matches('/').to_owned();
    let callback = url::Url::parse("http://hub.invalid")
        .and_then(|base| base.join(&state.config.callback_url))
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| format!("{prefix}oauth_callback"));
    let mut router = Router::new()
        .route(&prefix, get(pages::home))
        .route(&format!("{prefix}api/status"), get(pages::status))
        .route(&format!("{prefix}logout"), get(pages::logout))
        .route(
            &format!("{prefix}api/v1/applications/"),
            get(api::list_applications),
        )
        .route(
            &format!("{prefix}api/v1/applications/{{mapping_id}}/"),
            get(api::get_application),
        )
        .route(
            &format!("{prefix}api/v1/containers/"),
            get(api::list_containers).post(api::start_container),
        )
        .route(
            &format!("{prefix}api/v1/containers/{{url_id}}/"),
            get(api::get_container).delete(api::stop_container),
        )
        .route(
            &format!("{prefix}containers/{{url_id}}"),
            get(desktop::entry),
        )
        .route(
            &format!("{prefix}containers/{{url_id}}/"),
            get(desktop::entry),
        )
        .route(
            &format!("{prefix}containers/{{url_id}}/{{*file}}"),
            get(desktop::file),
        )
        .route(&callback, get(pages::oauth_callback));
    if !bare.is_empty() {
        // `/user/alice` without its slash: where JupyterHub's own servers redirect too.
        let to = prefix.clone();
        router = router.route(
            &bare,
            get(move || async move { axum::response::Redirect::to(&to) }),
        );
    }
    router.fallback(pages::not_found).with_state(state)
}

/// Serve on `listener` until `shutdown` completes, reporting activity meanwhile.
pub async fn run(
    config: ManagerConfig,
    settings: AppSettings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(config, settings);
    // Containers an earlier manager left running are found and routed again first, so
    // nothing is started twice; then they are watched.
    if let Err(e) = state.apps.sync().await {
        tracing::warn!("cannot look for running apps yet: {e}");
    }
    let watcher = tokio::spawn(state.apps.clone().watch_forever());
    let reporter = tokio::spawn(
        state
            .activity
            .clone()
            .report_forever(state.config.clone(), state.http.clone()),
    );
    tracing::info!(
        user = %state.config.user,
        prefix = %state.config.prefix,
        address = %listener.local_addr()?,
        "ferrohub-manager {} serving",
        ferrohub_shared::VERSION
    );
    let apps = state.apps.clone();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    reporter.abort();
    watcher.abort();
    apps.shut_down().await;
    served
}
