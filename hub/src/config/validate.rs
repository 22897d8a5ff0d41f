//! Checks and normalisation applied once after loading, so the rest of the hub can trust
//! the configuration (URLs parse, the base URL has its slashes, limits make sense).

use super::{ConfigError, HubConfig};
use std::path::PathBuf;
use url::Url;

/// The authenticators and spawners this build provides.
pub const AUTHENTICATORS: &[&str] = &["native", "dummy"];
pub const SPAWNERS: &[&str] = &["local"];

/// Where the hub keeps its state, from `JupyterHub.db_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file; relative paths are relative to the working directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, passed to the driver as written.
    Postgres(String),
}

impl DbUrl {
    /// Parse JupyterHub's (SQLAlchemy's) forms: `sqlite:///relative.sqlite`,
    /// `sqlite:////absolute.sqlite`, `postgresql://user@host/db` (also `postgres://` and
    /// `postgresql+psycopg2://`).
    pub fn parse(raw: &str) -> Result<DbUrl, String> {
        if raw == "sqlite://" || raw == "sqlite:///:memory:" {
            return Err("an in-memory database would lose every user at restart; give a file: sqlite:///jupyterhub.sqlite".into());
        }
        if let Some(path) = raw.strip_prefix("sqlite:///") {
            if path.is_empty() {
                return Err("a SQLite URL needs a file name: sqlite:///jupyterhub.sqlite".into());
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| format!("`{raw}` is not a database URL"))?;
        match scheme.split('+').next() {
            Some("postgresql" | "postgres") => Ok(DbUrl::Postgres(format!("postgresql://{rest}"))),
            _ => Err(format!(
                "unsupported database `{scheme}`; use sqlite:///FILE or postgresql://USER@HOST/DB"
            )),
        }
    }
}

fn http_url(key: &str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::invalid(
            key,
            format!("`{raw}` is not a URL ({e}); write e.g. http://127.0.0.1:8000"),
        )
    })?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(ConfigError::invalid(
                key,
                "https is not supported yet; terminate TLS in front of ferrohub and use http://",
            ))
        }
        other => {
            return Err(ConfigError::invalid(
                key,
                format!("scheme `{other}` is not allowed; use http://"),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) || url.port_or_known_default().is_none() {
        return Err(ConfigError::invalid(
            key,
            format!("`{raw}` needs a host and a port"),
        ));
    }
    Ok(url)
}

/// `/`, `/jupyter/` — always a leading and a trailing slash, as JupyterHub normalises it.
fn normalise_base_url(raw: &str) -> String {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

impl HubConfig {
    /// Check every value and normalise the ones with a canonical form. Called by
    /// [`HubConfig::load`]; an error names the key and what is allowed.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        let hub = &mut self.hub;
        hub.base_url = normalise_base_url(&hub.base_url);
        if hub.base_url.contains(['?', '#', ' ']) {
            return Err(ConfigError::invalid(
                "JupyterHub.base_url",
                "must be a plain path such as /jupyter/",
            ));
        }
        http_url("JupyterHub.bind_url", &hub.bind_url)?;
        http_url("JupyterHub.hub_bind_url", &hub.hub_bind_url)?;
        if !hub.hub_connect_url.is_empty() {
            http_url("JupyterHub.hub_connect_url", &hub.hub_connect_url)?;
        }
        DbUrl::parse(&hub.db_url).map_err(|m| ConfigError::invalid("JupyterHub.db_url", m))?;
        if !AUTHENTICATORS.contains(&hub.authenticator_class.as_str()) {
            return Err(ConfigError::invalid(
                "JupyterHub.authenticator_class",
                format!(
                    "`{}` is not available; choose one of: {}",
                    hub.authenticator_class,
                    AUTHENTICATORS.join(", ")
                ),
            ));
        }
        if !SPAWNERS.contains(&hub.spawner_class.as_str()) {
            return Err(ConfigError::invalid(
                "JupyterHub.spawner_class",
                format!(
                    "`{}` is not available; choose one of: {}",
                    hub.spawner_class,
                    SPAWNERS.join(", ")
                ),
            ));
        }
        if hub.cookie_max_age_days.is_nan() || hub.cookie_max_age_days <= 0.0 {
            return Err(ConfigError::invalid(
                "JupyterHub.cookie_max_age_days",
                "must be more than 0",
            ));
        }
        if hub.api_page_max_limit == 0 || hub.api_page_default_limit == 0 {
            return Err(ConfigError::invalid(
                "JupyterHub.api_page_default_limit",
                "page limits must be at least 1",
            ));
        }
        if hub.api_page_default_limit > hub.api_page_max_limit {
            return Err(ConfigError::invalid(
                "JupyterHub.api_page_default_limit",
                format!(
                    "must not exceed JupyterHub.api_page_max_limit ({})",
                    hub.api_page_max_limit
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, service) in hub.services.iter().enumerate() {
            let key = format!("JupyterHub.services[{i}].name");
            if service.name.is_empty()
                || !service
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(ConfigError::invalid(
                    &key,
                    "a service needs a name of letters, digits, `-`, `_` or `.`",
                ));
            }
            if !seen.insert(service.name.as_str()) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("service `{}` is defined twice", service.name),
                ));
            }
            if !service.url.is_empty() {
                http_url(&format!("JupyterHub.services[{i}].url"), &service.url)?;
            }
        }
        for (i, role) in hub.load_roles.iter().enumerate() {
            if role.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    &format!("JupyterHub.load_roles[{i}].name"),
                    "a role needs a name",
                ));
            }
        }
        for (key, value) in [
            ("Spawner.start_timeout", self.spawner.start_timeout),
            ("Spawner.http_timeout", self.spawner.http_timeout),
            ("Spawner.poll_interval", self.spawner.poll_interval),
            (
                "ConfigurableHTTPProxy.check_running_interval",
                self.proxy.check_running_interval,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1 (seconds)"));
            }
        }
        if self.spawner.cpu_limit < 0.0 || self.spawner.cpu_guarantee < 0.0 {
            return Err(ConfigError::invalid(
                "Spawner.cpu_limit",
                "CPU limits cannot be negative",
            ));
        }
        if self.spawner.cmd.is_empty() {
            return Err(ConfigError::invalid(
                "Spawner.cmd",
                "needs a command, e.g. [\"jupyterhub-singleuser\"]",
            ));
        }
        crate::auth::names::NameRules::new(&self.authenticator.username_pattern).map_err(|e| {
            ConfigError::invalid(
                "Authenticator.username_pattern",
                format!("not a valid regular expression: {e}"),
            )
        })?;
        http_url("ConfigurableHTTPProxy.api_url", &self.proxy.api_url)?;
        if self.proxy.should_start && self.proxy.command.is_empty() {
            return Err(ConfigError::invalid(
                "ConfigurableHTTPProxy.command",
                "needs a command when should_start is true, e.g. [\"ferrohub-proxy\"]",
            ));
        }
        let native = &self.native_authenticator;
        if native.link_lifetime_hours == 0 || native.max_pin_attempts == 0 {
            return Err(ConfigError::invalid(
                "NativeAuthenticator.link_lifetime_hours",
                "link lifetime and PIN attempts must be at least 1",
            ));
        }
        Ok(())
    }

    /// The parsed database location (checked by [`HubConfig::validate`]).
    pub fn db_url(&self) -> DbUrl {
        DbUrl::parse(&self.hub.db_url).expect("validated at load")
    }

    /// The public URL users reach, e.g. `http://127.0.0.1:8000`.
    pub fn public_url(&self) -> Url {
        Url::parse(&self.hub.bind_url).expect("validated at load")
    }

    /// How the proxy and servers reach the hub: `hub_connect_url`, else `hub_bind_url`
    /// with an unspecified address (`0.0.0.0`) replaced by loopback.
    pub fn hub_connect_url(&self) -> Url {
        if !self.hub.hub_connect_url.is_empty() {
            return Url::parse(&self.hub.hub_connect_url).expect("validated at load");
        }
        let mut url = Url::parse(&self.hub.hub_bind_url).expect("validated at load");
        if matches!(url.host_str(), Some("0.0.0.0") | Some("[::]")) {
            url.set_host(Some("127.0.0.1"))
                .expect("loopback is a valid host");
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_urls_in_jupyterhub_forms() {
        assert_eq!(
            DbUrl::parse("sqlite:///jupyterhub.sqlite").unwrap(),
            DbUrl::Sqlite("jupyterhub.sqlite".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:////srv/jh/db.sqlite").unwrap(),
            DbUrl::Sqlite("/srv/jh/db.sqlite".into())
        );
        assert_eq!(
            DbUrl::parse("postgresql+psycopg2://u:p@h/db").unwrap(),
            DbUrl::Postgres("postgresql://u:p@h/db".into())
        );
        assert!(DbUrl::parse("mysql://h/db")
            .unwrap_err()
            .contains("unsupported"));
        assert!(DbUrl::parse("sqlite:///:memory:").is_err());
    }

    #[test]
    fn base_url_gets_its_slashes() {
        assert_eq!(normalise_base_url("jupyter"), "/jupyter/");
        assert_eq!(normalise_base_url("/a/b"), "/a/b/");
        assert_eq!(normalise_base_url(""), "/");
    }

    #[test]
    fn impossible_values_are_refused_with_the_key() {
        for (toml, key) in [
            (
                "[JupyterHub]\nbind_url = \"not a url\"",
                "JupyterHub.bind_url",
            ),
            (
                "[JupyterHub]\ndb_url = \"mysql://x/y\"",
                "JupyterHub.db_url",
            ),
            (
                "[JupyterHub]\nauthenticator_class = \"pam\"",
                "JupyterHub.authenticator_class",
            ),
            ("[Spawner]\nstart_timeout = 0", "Spawner.start_timeout"),
            (
                "[JupyterHub]\napi_page_default_limit = 500",
                "JupyterHub.api_page_default_limit",
            ),
            (
                "[[JupyterHub.services]]\nname = \"a\"\n[[JupyterHub.services]]\nname = \"a\"",
                "JupyterHub.services[1].name",
            ),
        ] {
            let err = HubConfig::from_toml_str(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }

    #[test]
    fn connect_url_replaces_unspecified_address() {
        let c = HubConfig::from_toml_str("[JupyterHub]\nhub_bind_url = \"http://0.0.0.0:8081\"")
            .unwrap();
        assert_eq!(c.hub_connect_url().as_str(), "http://127.0.0.1:8081/");
    }
}
