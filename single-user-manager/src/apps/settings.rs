//! How this manager runs applications: the `[Manager]` settings the hub passes in the
//! environment ([`ferrohub_shared::env`]), and the proxy access it hands every server.

use ferrohub_shared::env;
use ferrohub_shared::routes::RouteSpec;
use ferrohub_shared::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;

/// Where and how app containers run.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The Docker engine; empty means `DOCKER_HOST`, else the local socket.
    pub docker_host: String,
    /// Marks this hub's containers; only containers of this realm and user are touched.
    pub realm: String,
    /// How long an app may take to answer after its container starts.
    pub start_timeout: Duration,
    /// Where container ports are published, and so where the proxy connects.
    pub host_ip: String,
    /// noVNC's files, the page of a desktop.
    pub novnc_path: PathBuf,
    /// Mounted as `/workspace` for `allow_home` grants; `None` when unknown.
    pub home: Option<PathBuf>,
    /// Stop app containers when the manager stops.
    pub stop_apps_on_exit: bool,
    /// The proxy API, when the hub gave access to it: without it nothing can be started.
    pub proxy: Option<ProxyAccess>,
}

/// The proxy API and the credential good for this server's prefix only.
#[derive(Debug, Clone)]
pub struct ProxyAccess {
    pub api_url: String,
    pub token: Secret,
    /// The prefix the credential covers, e.g. `/user/alice/`.
    pub prefix: RouteSpec,
}

impl AppSettings {
    /// Read the settings through `get`; missing ones take `[Manager]`'s defaults, unusable
    /// ones are an error naming the variable.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<AppSettings, String> {
        let value = |var: &str| get(var).filter(|v| !v.is_empty());
        let start_timeout = match value(env::FERROHUB_MANAGER_START_TIMEOUT) {
            None => Duration::from_secs(60),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!(
                        "{}={raw:?}: expected a positive number of seconds",
                        env::FERROHUB_MANAGER_START_TIMEOUT
                    )
                })?,
        };
        let proxy = match (
            value(env::FERROHUB_PROXY_API_URL),
            value(env::FERROHUB_PROXY_TOKEN),
            value(env::FERROHUB_PROXY_PREFIX),
        ) {
            (Some(api_url), Some(token), Some(prefix)) => Some(ProxyAccess {
                api_url: api_url.trim_end_matches('/').to_owned(),
                token: Secret::new(token),
                prefix: RouteSpec::parse(&prefix)
                    .map_err(|e| format!("{}: {e}", env::FERROHUB_PROXY_PREFIX))?,
            }),
            _ => None,
        };
        Ok(AppSettings {
            docker_host: value(env::FERROHUB_MANAGER_DOCKER_HOST).unwrap_or_default(),
            realm: value(env::FERROHUB_MANAGER_REALM).unwrap_or_else(|| "ferrohub".into()),
            start_timeout,
            host_ip: value(env::FERROHUB_MANAGER_HOST_IP).unwrap_or_else(|| "127.0.0.1".into()),
            novnc_path: value(env::FERROHUB_MANAGER_NOVNC_PATH)
                .unwrap_or_else(|| "/usr/share/novnc".into())
                .into(),
            home: value(env::FERROHUB_MANAGER_HOME)
                .or_else(|| value("HOME"))
                .map(PathBuf::from),
            stop_apps_on_exit: value(env::FERROHUB_MANAGER_STOP_APPS).as_deref() != Some("0"),
            proxy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_and_values() {
        let none = AppSettings::from_env(|_| None).unwrap();
        assert_eq!(none.realm, "ferrohub");
        assert_eq!(none.start_timeout, Duration::from_secs(60));
        assert!(none.proxy.is_none() && none.stop_apps_on_exit);
        let vars = HashMap::from([
            (env::FERROHUB_MANAGER_START_TIMEOUT, "5"),
            (env::FERROHUB_MANAGER_STOP_APPS, "0"),
            (env::FERROHUB_PROXY_API_URL, "http://127.0.0.1:8001/"),
            (env::FERROHUB_PROXY_TOKEN, "t"),
            (env::FERROHUB_PROXY_PREFIX, "/user/ada/"),
        ]);
        let s = AppSettings::from_env(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(s.start_timeout, Duration::from_secs(5));
        assert!(!s.stop_apps_on_exit);
        let proxy = s.proxy.unwrap();
        assert_eq!(proxy.api_url, "http://127.0.0.1:8001");
        assert_eq!(proxy.prefix.as_str(), "/user/ada");
        let bad = AppSettings::from_env(|k| {
            (k == env::FERROHUB_MANAGER_START_TIMEOUT).then(|| "soon".to_owned())
        });
        assert!(bad.unwrap_err().contains("FERROHUB_MANAGER_START_TIMEOUT"));
    }
}
