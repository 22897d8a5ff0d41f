//! Names of environment variables that cross process boundaries.

/// The proxy's admin token, as configurable-http-proxy reads it.
pub const CONFIGPROXY_AUTH_TOKEN: &str = "CONFIGPROXY_AUTH_TOKEN";
/// JupyterHub's hex-encoded cookie secret, which takes precedence over the secret file.
pub const JPY_COOKIE_SECRET: &str = "JPY_COOKIE_SECRET";
/// Prefix of the hub's environment layer: `FERROHUB_<TABLE>__<KEY>=value`.
pub const HUB_CONFIG_PREFIX: &str = "FERROHUB_";
/// The proxy key ([`crate::proxy_key`]) in hex, given by the hub to a `ferrohub-proxy` it starts.
pub const FERROHUB_PROXY_KEY: &str = "FERROHUB_PROXY_KEY";
/// Given to each spawned server: the proxy's API root, a scoped route credential
/// ([`crate::route_credential`]) and the prefix it is good for, so a per-user manager can
/// register its own routes.
pub const FERROHUB_PROXY_API_URL: &str = "FERROHUB_PROXY_API_URL";
pub const FERROHUB_PROXY_TOKEN: &str = "FERROHUB_PROXY_TOKEN";
pub const FERROHUB_PROXY_PREFIX: &str = "FERROHUB_PROXY_PREFIX";

/// `[Manager]` settings the hub hands to each `ferrohub-manager` it starts.
pub const FERROHUB_MANAGER_DOCKER_HOST: &str = "FERROHUB_MANAGER_DOCKER_HOST";
pub const FERROHUB_MANAGER_REALM: &str = "FERROHUB_MANAGER_REALM";
/// Seconds.
pub const FERROHUB_MANAGER_START_TIMEOUT: &str = "FERROHUB_MANAGER_START_TIMEOUT";
pub const FERROHUB_MANAGER_HOST_IP: &str = "FERROHUB_MANAGER_HOST_IP";
pub const FERROHUB_MANAGER_NOVNC_PATH: &str = "FERROHUB_MANAGER_NOVNC_PATH";
/// The directory mounted as `/workspace` for `allow_home` grants (already for this user).
pub const FERROHUB_MANAGER_HOME: &str = "FERROHUB_MANAGER_HOME";
/// `1` to stop app containers when the manager stops.
pub const FERROHUB_MANAGER_STOP_APPS: &str = "FERROHUB_MANAGER_STOP_APPS";

/// JupyterHub's single-user environment: what the hub gives every server it starts
/// (`Spawner.get_env`) and what a server (jupyterhub-singleuser, or ferrohub-manager) reads.
pub mod singleuser {
    /// Where the server listens, e.g. `http://127.0.0.1:41234/user/alice/`.
    pub const SERVICE_URL: &str = "JUPYTERHUB_SERVICE_URL";
    /// The URL prefix it serves under, e.g. `/user/alice/`.
    pub const SERVICE_PREFIX: &str = "JUPYTERHUB_SERVICE_PREFIX";
    pub const USER: &str = "JUPYTERHUB_USER";
    /// `""` for the user's default server.
    pub const SERVER_NAME: &str = "JUPYTERHUB_SERVER_NAME";
    /// The server's own API token.
    pub const API_TOKEN: &str = "JUPYTERHUB_API_TOKEN";
    /// The same token under its old name, for old servers.
    pub const JPY_API_TOKEN: &str = "JPY_API_TOKEN";
    /// The hub's REST API, as the server reaches it.
    pub const API_URL: &str = "JUPYTERHUB_API_URL";
    /// The hub's base URL (`/` by default).
    pub const BASE_URL: &str = "JUPYTERHUB_BASE_URL";
    /// Where browsers reach the hub; empty on the same origin.
    pub const HOST: &str = "JUPYTERHUB_HOST";
    pub const PUBLIC_URL: &str = "JUPYTERHUB_PUBLIC_URL";
    pub const PUBLIC_HUB_URL: &str = "JUPYTERHUB_PUBLIC_HUB_URL";
    /// The server's OAuth client at the hub.
    pub const CLIENT_ID: &str = "JUPYTERHUB_CLIENT_ID";
    pub const OAUTH_CALLBACK_URL: &str = "JUPYTERHUB_OAUTH_CALLBACK_URL";
    /// JSON lists of scopes.
    pub const OAUTH_SCOPES: &str = "JUPYTERHUB_OAUTH_SCOPES";
    pub const OAUTH_ACCESS_SCOPES: &str = "JUPYTERHUB_OAUTH_ACCESS_SCOPES";
    pub const OAUTH_CLIENT_ALLOWED_SCOPES: &str = "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES";
    pub const COOKIE_HOST_PREFIX_ENABLED: &str = "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED";
    /// Where the server reports its last activity, and how often (seconds).
    pub const ACTIVITY_URL: &str = "JUPYTERHUB_ACTIVITY_URL";
    pub const ACTIVITY_INTERVAL: &str = "JUPYTERHUB_ACTIVITY_INTERVAL";
}
