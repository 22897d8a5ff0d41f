//! Checks and normalisation applied once after loading, so the rest of the hub can trust
//! the configuration (URLs parse, the base URL has its slashes, limits make sense).

use super::{ConfigError, HubConfig};
use std::path::PathBuf;
use url::Url;

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

/// Bytes from a JupyterHub byte specification: a number with an optional `K`, `M`, `G` or
/// `T` suffix (powers of 1024, as JupyterHub's `ByteSpecification`), e.g. `512M`, `2G`, `1.5G`.
pub fn parse_bytes(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&raw[..i], c.to_ascii_uppercase()),
        _ => (raw, 'B'),
    };
    let factor: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => return Err(bad_bytes(raw)),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad_bytes(raw))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(bad_bytes(raw));
    }
    // Whole bytes: a fraction of a byte has no meaning to the kernel.
    Ok((value * factor as f64) as u64)
}

fn bad_bytes(raw: &str) -> String {
    format!(
        "`{raw}` is not a size; write a number with an optional K, M, G or T suffix, e.g. \"2G\""
    )
}

/// The `[DockerSpawner]` table, checked only when it is the spawner in use.
fn validate_docker(config: &HubConfig) -> Result<(), ConfigError> {
    let docker = &config.docker_spawner;
    if docker.image.trim().is_empty() {
        return Err(ConfigError::invalid(
            "DockerSpawner.image",
            "needs an image, e.g. \"quay.io/jupyterhub/singleuser:6.1\"",
        ));
    }
    if docker.allowed_images.iter().any(|i| i.trim().is_empty()) {
        return Err(ConfigError::invalid(
            "DockerSpawner.allowed_images",
            "an entry is empty; list image names such as \"quay.io/jupyterhub/singleuser:6.1\"",
        ));
    }
    if !docker.name_template.contains("{username}") {
        return Err(ConfigError::invalid(
            "DockerSpawner.name_template",
            "must contain {username} so each user's container has its own name, e.g. \"jupyter-{username}\"",
        ));
    }
    if docker.port == 0 {
        return Err(ConfigError::invalid(
            "DockerSpawner.port",
            "needs the port the server listens on inside the container, e.g. 8888",
        ));
    }
    if !docker.use_internal_ip && docker.host_ip.parse::<std::net::IpAddr>().is_err() {
        return Err(ConfigError::invalid(
            "DockerSpawner.host_ip",
            format!(
                "`{}` is not an IP address; write e.g. \"127.0.0.1\"",
                docker.host_ip
            ),
        ));
    }
    if let Some((_, target)) = docker.volumes.iter().find(|(_, t)| !t.starts_with('/')) {
        return Err(ConfigError::invalid(
            "DockerSpawner.volumes",
            format!(
                "`{target}` must be an absolute path in the container, e.g. \"/home/jovyan/work\""
            ),
        ));
    }
    if docker.stop_timeout == 0 {
        return Err(ConfigError::invalid(
            "DockerSpawner.stop_timeout",
            "must be at least 1 (seconds)",
        ));
    }
    Ok(())
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
        // Its path became `base_url` when loading (as JupyterHub's default); what is kept is
        // where users connect: scheme, host and port.
        let mut bind = http_url("JupyterHub.bind_url", &hub.bind_url)?;
        if bind.path() != "/" {
            bind.set_path("/");
            hub.bind_url = bind.to_string();
        }
        http_url("JupyterHub.hub_bind_url", &hub.hub_bind_url)?;
        if !hub.hub_connect_url.is_empty() {
            http_url("JupyterHub.hub_connect_url", &hub.hub_connect_url)?;
        }
        DbUrl::parse(&hub.db_url).map_err(|m| ConfigError::invalid("JupyterHub.db_url", m))?;
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
        for (key, value) in [
            ("Spawner.mem_limit", &self.spawner.mem_limit),
            ("Spawner.mem_guarantee", &self.spawner.mem_guarantee),
        ] {
            if !value.is_empty() {
                parse_bytes(value).map_err(|m| ConfigError::invalid(key, m))?;
            }
        }
        if self.hub.spawner_class == super::SpawnerClass::Docker {
            validate_docker(self)?;
        }
        super::validate_auth::validate_authenticator(self)?;
        if self.hub.spawner_class == super::SpawnerClass::Manager
            && self.manager_spawner.cmd.is_empty()
        {
            return Err(ConfigError::invalid(
                "ManagerSpawner.cmd",
                "needs a command, e.g. [\"ferrohub-manager\"]",
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
    fn byte_sizes_in_jupyterhub_forms() {
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes("512m"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5K"), Ok(1536));
        assert_eq!(parse_bytes("1T"), Ok(1 << 40));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        for bad in ["", "2GB", "G", "-1G", "0", "lots"] {
            let err = parse_bytes(bad).unwrap_err();
            assert!(err.contains("K, M, G or T"), "{bad}: {err}");
        }
        let err = HubConfig::from_toml_str("[Spawner]\nmem_limit = \"2 gigs\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Spawner.mem_limit"), "{err}");
    }

    #[test]
    fn docker_table_is_checked_when_docker_spawns() {
        let docker = "[JupyterHub]\nspawner_class = \"docker\"\n[DockerSpawner]\n";
        HubConfig::from_toml_str(docker).expect("the defaults are valid");
        for (extra, key) in [
            ("image = \"\"", "DockerSpawner.image"),
            ("name_template = \"jupyter\"", "DockerSpawner.name_template"),
            ("host_ip = \"localhost\"", "DockerSpawner.host_ip"),
            ("volumes = { data = \"work\" }", "DockerSpawner.volumes"),
            ("port = 0", "DockerSpawner.port"),
        ] {
            let err = HubConfig::from_toml_str(&format!("{docker}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{extra}: {err}");
        }
        // The table is not held against a hub that spawns local processes.
        HubConfig::from_toml_str("[DockerSpawner]\nimage = \"\"").unwrap();
    }

    #[test]
    fn connect_url_replaces_unspecified_address() {
        let c = HubConfig::from_toml_str("[JupyterHub]\nhub_bind_url = \"http://0.0.0.0:8081\"")
            .unwrap();
        assert_eq!(c.hub_connect_url().as_str(), "http://127.0.0.1:8081/");
    }
}
