//! Names of environment variables that cross process boundaries.

/// The proxy's admin token, as configurable-http-proxy reads it.
pub const CONFIGPROXY_AUTH_TOKEN: &str = "CONFIGPROXY_AUTH_TOKEN";
/// JupyterHub's hex-encoded cookie secret, which takes precedence over the secret file.
pub const JPY_COOKIE_SECRET: &str = "JPY_COOKIE_SECRET";
/// Prefix of the hub's environment layer: `FERROHUB_<TABLE>__<KEY>=value`.
pub const HUB_CONFIG_PREFIX: &str = "FERROHUB_";
