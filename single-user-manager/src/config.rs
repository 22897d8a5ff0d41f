//! What the hub tells a manager through its environment: JupyterHub's single-user contract
//! (`JUPYTERHUB_*` variables), read once at start.

use ferrohub_shared::env::singleuser;
use ferrohub_shared::secret::Secret;
use std::time::Duration;
use url::Url;

/// A manager's view of its hub and of itself.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// The user this manager belongs to (`JUPYTERHUB_USER`).
    pub user: String,
    /// `""` for the user's default server (`JUPYTERHUB_SERVER_NAME`).
    pub server_name: String,
    /// The URL prefix everything is served under, e.g. `/user/alice/` (always ends in `/`).
    pub prefix: String,
    /// The hub's base URL, e.g. `/` (always ends in `/`).
    pub base_url: String,
    /// Where browsers reach the hub: empty when it is on the same origin (`JUPYTERHUB_HOST`).
    pub hub_host: String,
    /// The hub's REST API, e.g. `http://127.0.0.1:8081/hub/api` (`JUPYTERHUB_API_URL`).
    pub api_url: String,
    /// The server's own token: the OAuth client secret and the credential for activity reports.
    pub api_token: Secret,
    /// This server's OAuth client at the hub (`JUPYTERHUB_CLIENT_ID`).
    pub client_id: String,
    /// Where the hub sends browsers back after login (`JUPYTERHUB_OAUTH_CALLBACK_URL`).
    pub callback_url: String,
    /// Holding any of these scopes grants access (`JUPYTERHUB_OAUTH_ACCESS_SCOPES`).
    pub access_scopes: Vec<String>,
    /// Where last activity is reported (`JUPYTERHUB_ACTIVITY_URL`); none disables reports.
    pub activity_url: Option<String>,
    /// How often activity is reported (`JUPYTERHUB_ACTIVITY_INTERVAL`, seconds; default 300
    /// as jupyterhub-singleuser).
    pub activity_interval: Duration,
    /// Where to listen (`JUPYTERHUB_SERVICE_URL`), e.g. `http://127.0.0.1:41234/user/alice/`.
    pub service_url: Url,
}

/// Why the environment does not describe a manager the hub started.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{0} is not set. ferrohub-manager is started by the hub (`spawner_class = \"manager\"`), \
         which sets JupyterHub's single-user environment; run it that way"
    )]
    Missing(&'static str),
    #[error("{var}={value:?}: {why}")]
    Invalid {
        var: &'static str,
        value: String,
        why: String,
    },
}

impl ManagerConfig {
    /// Read the contract through `get` (`std::env::var` in the binary, a map in tests).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<ManagerConfig, ConfigError> {
        let required = |var: &'static str| {
            get(var)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(var))
        };
        let invalid = |var: &'static str, value: &str, why: &str| ConfigError::Invalid {
            var,
            value: value.to_owned(),
            why: why.to_owned(),
        };
        let service = required(singleuser::SERVICE_URL)?;
        let service_url = Url::parse(&service)
            .map_err(|e| invalid(singleuser::SERVICE_URL, &service, &e.to_string()))?;
        if service_url.scheme() != "http" || service_url.port_or_known_default().is_none() {
            return Err(invalid(
                singleuser::SERVICE_URL,
                &service,
                "expected http://HOST:PORT/PREFIX/",
            ));
        }
        let access = get(singleuser::OAUTH_ACCESS_SCOPES).unwrap_or_else(|| "[]".into());
        let access_scopes: Vec<String> = serde_json::from_str(&access).map_err(|e| {
            invalid(
                singleuser::OAUTH_ACCESS_SCOPES,
                &access,
                &format!("expected a JSON list of scopes: {e}"),
            )
        })?;
        let interval = get(singleuser::ACTIVITY_INTERVAL).unwrap_or_else(|| "300".into());
        let activity_interval = interval
            .parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                invalid(
                    singleuser::ACTIVITY_INTERVAL,
                    &interval,
                    "expected a positive number of seconds",
                )
            })?;
        Ok(ManagerConfig {
            user: required(singleuser::USER)?,
            server_name: get(singleuser::SERVER_NAME).unwrap_or_default(),
            prefix: with_slash(required(singleuser::SERVICE_PREFIX)?),
            base_url: with_slash(get(singleuser::BASE_URL).unwrap_or_else(|| "/".into())),
            hub_host: get(singleuser::HOST).unwrap_or_default(),
            api_url: required(singleuser::API_URL)?
                .trim_end_matches('/')
                .to_owned(),
            api_token: Secret::new(required(singleuser::API_TOKEN)?),
            client_id: required(singleuser::CLIENT_ID)?,
            callback_url: required(singleuser::OAUTH_CALLBACK_URL)?,
            access_scopes,
            activity_url: get(singleuser::ACTIVITY_URL).filter(|v| !v.is_empty()),
            activity_interval,
            service_url,
        })
    }

    /// `host:port` from `JUPYTERHUB_SERVICE_URL`.
    pub fn listen_address(&self) -> String {
        let host = self.service_url.host_str().unwrap_or("127.0.0.1");
        let port = self.service_url.port_or_known_default().unwrap_or(8888);
        format!("{host}:{port}")
    }

    /// The hub's OAuth authorization endpoint, as a browser reaches it.
    pub fn authorize_url(&self) -> String {
        format!("{}{}hub/api/oauth2/authorize", self.hub_host, self.base_url)
    }

    /// The hub's logout page, as a browser reaches it.
    pub fn hub_logout_url(&self) -> String {
        format!("{}{}hub/logout", self.hub_host, self.base_url)
    }
}

fn with_slash(mut path: String) -> String {
    if !path.ends_with('/') {
        path.push('/');
    }
    path
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The environment the hub gives alice's default server.
    pub(crate) fn contract() -> HashMap<&'static str, String> {
        HashMap::from([
            ("JUPYTERHUB_USER", "alice".to_owned()),
            ("JUPYTERHUB_SERVER_NAME", String::new()),
            ("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/".into()),
            (
                "JUPYTERHUB_SERVICE_URL",
                "http://127.0.0.1:41234/user/alice/".into(),
            ),
            ("JUPYTERHUB_BASE_URL", "/".into()),
            ("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api".into()),
            ("JUPYTERHUB_API_TOKEN", "s3rver-t0ken".into()),
            ("JUPYTERHUB_CLIENT_ID", "jupyterhub-user-alice".into()),
            (
                "JUPYTERHUB_OAUTH_CALLBACK_URL",
                "/user/alice/oauth_callback".into(),
            ),
            (
                "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
                r#"["access:servers!server=alice/", "access:servers!user=alice"]"#.into(),
            ),
            (
                "JUPYTERHUB_ACTIVITY_URL",
                "http://127.0.0.1:8081/hub/api/users/alice/activity".into(),
            ),
        ])
    }

    fn read(env: &HashMap<&'static str, String>) -> Result<ManagerConfig, ConfigError> {
        ManagerConfig::from_env(|k| env.get(k).cloned())
    }

    #[test]
    fn reads_the_single_user_contract() {
        let config = read(&contract()).unwrap();
        assert_eq!(config.user, "alice");
        assert_eq!(config.prefix, "/user/alice/");
        assert_eq!(config.listen_address(), "127.0.0.1:41234");
        assert_eq!(config.authorize_url(), "/hub/api/oauth2/authorize");
        assert_eq!(config.access_scopes.len(), 2);
        assert_eq!(config.activity_interval, Duration::from_secs(300));
        assert_eq!(format!("{:?}", config.api_token), "***");
    }

    #[test]
    fn a_missing_variable_is_named_with_what_to_do() {
        let mut env = contract();
        env.remove("JUPYTERHUB_API_TOKEN");
        let err = read(&env).unwrap_err().to_string();
        assert!(err.contains("JUPYTERHUB_API_TOKEN is not set"), "{err}");
        assert!(err.contains("spawner_class"), "{err}");
    }

    #[test]
    fn malformed_values_are_refused_with_the_variable_name() {
        for (var, value) in [
            ("JUPYTERHUB_SERVICE_URL", "not a url"),
            ("JUPYTERHUB_SERVICE_URL", "https://127.0.0.1:1/user/alice/"),
            ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "access:servers"),
            ("JUPYTERHUB_ACTIVITY_INTERVAL", "0"),
        ] {
            let mut env = contract();
            env.insert(var, value.to_owned());
            let err = read(&env).unwrap_err().to_string();
            assert!(err.starts_with(var), "{var}={value}: {err}");
        }
    }
}
