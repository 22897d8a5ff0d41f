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
