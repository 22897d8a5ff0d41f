//! Layering the configuration: built-in defaults -> TOML file -> environment -> command line.
//!
//! Every layer is merged into one TOML table before a single typed deserialisation, so an
//! unknown key, a wrong type or an impossible value is reported the same way whichever layer
//! it came from, naming the key and the layer.

use super::HubConfig;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Environment(String),
    CommandLine(String),
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "{}", p.display()),
            ConfigSource::Environment(var) => write!(f, "environment variable {var}"),
            ConfigSource::CommandLine(arg) => write!(f, "command-line option {arg}"),
        }
    }
}

/// Why the configuration cannot be used. Each message says what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{origin}: {message}")]
    Override {
        origin: ConfigSource,
        message: String,
    },
    #[error("unknown configuration key `{key}`{suggestion}. Keys allowed there: {allowed}")]
    UnknownKey {
        key: String,
        suggestion: String,
        allowed: String,
    },
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Settings given outside the file: `Table.key` -> value, in the order they apply.
#[derive(Debug, Default, Clone)]
pub struct Overrides(Vec<(String, String, ConfigSource)>);

impl Overrides {
    /// One `Table.key = value` setting. `value` is read as a TOML value (`true`, `60`,
    /// `["a", "b"]`, `"quoted"`); anything that is not valid TOML is taken as a plain string.
    pub fn push(&mut self, dotted_key: &str, value: &str, source: ConfigSource) {
        self.0
            .push((dotted_key.to_owned(), value.to_owned(), source));
    }

    /// The environment layer: `FERROHUB_<TABLE>__<KEY>=value`, e.g.
    /// `FERROHUB_JUPYTERHUB__BIND_URL=http://127.0.0.1:9000`. Table names match the file's
    /// case-insensitively; keys are lower-cased.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let prefix = ferrohub_shared::env::HUB_CONFIG_PREFIX;
        let mut out = Overrides::default();
        let mut vars: Vec<_> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix) && k.contains("__"))
            .collect();
        vars.sort();
        for (var, value) in vars {
            let rest = &var[prefix.len()..];
            let Some((table, key)) = rest.split_once("__") else {
                continue;
            };
            let table = canonical_table(table).unwrap_or(table).to_owned();
            out.push(
                &format!("{table}.{}", key.to_ascii_lowercase()),
                &value,
                ConfigSource::Environment(var.clone()),
            );
        }
        out
    }

    pub fn extend(&mut self, other: Overrides) {
        self.0.extend(other.0);
    }
}

/// The tables of [`HubConfig`], as the file spells them.
const TABLES: &[&str] = &[
    "JupyterHub",
    "Authenticator",
    "Spawner",
    "ConfigurableHTTPProxy",
    "NativeAuthenticator",
    "DummyAuthenticator",
    "GenericOAuthenticator",
    "RESTAuthenticator",
    "LocalProcessSpawner",
    "DockerSpawner",
    "ManagerSpawner",
    "Manager",
];

fn canonical_table(name: &str) -> Option<&'static str> {
    TABLES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(name))
}

impl HubConfig {
    /// Load the configuration: defaults, then `file` (if any), then `overrides` in order,
    /// then [`HubConfig::validate`].
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<HubConfig, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                parse_file(&text, path)?
            }
            None => Table::new(),
        };
        for (dotted, raw, source) in &overrides.0 {
            apply_override(&mut table, dotted, raw, source)?;
        }
        let mut config = from_table(table)?;
        config.validate()?;
        Ok(config)
    }

    /// Parse a TOML document with no other layers (used for the example file's test).
    pub fn from_toml_str(text: &str) -> Result<HubConfig, ConfigError> {
        let mut config = from_table(parse_file(text, Path::new("<string>"))?)?;
        config.validate()?;
        Ok(config)
    }
}

fn parse_file(text: &str, path: &Path) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn apply_override(
    table: &mut Table,
    dotted: &str,
    raw: &str,
    source: &ConfigSource,
) -> Result<(), ConfigError> {
    let bad = |message: String| ConfigError::Override {
        origin: source.clone(),
        message,
    };
    let Some((section, key)) = dotted.split_once('.') else {
        return Err(bad(format!(
            "`{dotted}` is not of the form Table.key (for example JupyterHub.bind_url)"
        )));
    };
    let Some(section) = canonical_table(section) else {
        return Err(bad(format!(
            "unknown table `{section}`; tables are {}",
            TABLES.join(", ")
        )));
    };
    if key.is_empty() || key.contains('.') {
        return Err(bad(format!("`{dotted}` is not of the form Table.key")));
    }
    let entry = table
        .entry(section.to_owned())
        .or_insert_with(|| Value::Table(Table::new()));
    let Value::Table(inner) = entry else {
        return Err(bad(format!("`{section}` in the file is not a table")));
    };
    inner.insert(key.to_owned(), parse_value(raw));
    Ok(())
}

/// A command-line or environment value as TOML if it is valid TOML, else as a plain string,
/// so `--JupyterHub.base_url=/jh/` and `--Spawner.start_timeout=120` both do what they say.
fn parse_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

fn from_table(mut table: Table) -> Result<HubConfig, ConfigError> {
    base_url_from_bind_url(&mut table);
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|err| {
        let path = err.path().to_string();
        // The deserializer repeats the path on a second line; the path is reported anyway.
        let message = err
            .inner()
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        unknown_key_error(&path, &message).unwrap_or_else(|| ConfigError::Invalid {
            key: path,
            message: message.trim().to_owned(),
        })
    })
}

/// JupyterHub's default `base_url` is the path of `bind_url`, so a configuration written for
/// it as `bind_url = "http://:8000/jh/"` serves under `/jh/`. An explicit `base_url` wins (as
/// in JupyterHub), and [`HubConfig::validate`] keeps only the origin of `bind_url`.
fn base_url_from_bind_url(table: &mut Table) {
    let Some(Value::Table(hub)) = table.get_mut("JupyterHub") else {
        return;
    };
    let path = match hub.get("bind_url") {
        Some(Value::String(bind_url)) => url::Url::parse(bind_url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default(),
        _ => return,
    };
    if path.trim_matches('/').is_empty() {
        return;
    }
    match hub.get("base_url") {
        None => {
            hub.insert("base_url".to_owned(), Value::String(path));
        }
        Some(Value::String(base)) if base.trim_matches('/') != path.trim_matches('/') => {
            tracing::warn!(
                "both JupyterHub.bind_url (path {path}) and JupyterHub.base_url ({base}) are \
                 set; base_url wins, as in JupyterHub: drop one of them"
            );
        }
        Some(_) => {}
    }
}

/// Turn serde's "unknown field `x`, expected one of `a`, `b`" into a message that names the
/// whole key and suggests the closest allowed one.
fn unknown_key_error(path: &str, message: &str) -> Option<ConfigError> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    // serde lists the allowed names as `a`, `b`; take that list and nothing after it.
    let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
    let expected = expected.lines().next().unwrap_or("");
    let allowed: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    // The path already ends with the unknown field.
    let key = if path.is_empty() || path == "." {
        field.to_owned()
    } else {
        path.to_owned()
    };
    let closest = || {
        allowed
            .iter()
            .map(|a| {
                (
                    edit_distance(&field.to_ascii_lowercase(), &a.to_ascii_lowercase()),
                    a,
                )
            })
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, a)| format!(" (did you mean `{a}`?)"))
    };
    let suggestion = moved_key_hint(field).or_else(closest).unwrap_or_default();
    Some(ConfigError::UnknownKey {
        key,
        suggestion,
        allowed: allowed.join(", "),
    })
}

/// Where a key lives that JupyterHub users look for in the wrong table: group rules belong
/// to each authenticator's own table, as in JupyterHub (`LocalAuthenticator.allowed_groups`,
/// `OAuthenticator.allowed_groups`), not to `[Authenticator]`.
fn moved_key_hint(field: &str) -> Option<String> {
    matches!(field, "allowed_groups" | "admin_groups").then(|| {
        format!(
            " (group rules belong to the authenticator's own table: \
             NativeAuthenticator.{field} or GenericOAuthenticator.{field})"
        )
    })
}

/// Levenshtein distance; small inputs only (key names).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(pairs: &[(&str, &str)]) -> Overrides {
        let mut o = Overrides::default();
        for (k, v) in pairs {
            o.push(k, v, ConfigSource::CommandLine(format!("--{k}")));
        }
        o
    }

    #[test]
    fn defaults_match_jupyterhub() {
        let c = HubConfig::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.hub.db_url, "sqlite:///jupyterhub.sqlite");
        assert_eq!(c.hub.concurrent_spawn_limit, 100);
        assert_eq!(c.spawner.start_timeout, 60);
        assert_eq!(c.spawner.http_timeout, 30);
        assert_eq!(c.proxy.api_url, "http://127.0.0.1:8001");
        assert!(c.hub.cleanup_servers);
    }

    #[test]
    fn misspelt_key_is_named_with_a_suggestion() {
        let err = HubConfig::from_toml_str("[JupyterHub]\nbind_ulr = \"http://127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`JupyterHub.bind_ulr`"), "{err}");
        assert!(err.contains("did you mean `bind_url`"), "{err}");
    }

    #[test]
    fn group_rules_in_the_shared_table_point_to_the_right_one() {
        let err = HubConfig::from_toml_str("[Authenticator]\nallowed_groups = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`Authenticator.allowed_groups`"), "{err}");
        assert!(
            err.contains("NativeAuthenticator.allowed_groups"),
            "says where it goes: {err}"
        );
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn base_url_defaults_to_the_path_of_bind_url_as_in_jupyterhub() {
        let c = HubConfig::from_toml_str("[JupyterHub]\nbind_url = \"http://127.0.0.1:9000/jh\"\n")
            .unwrap();
        assert_eq!(c.hub.base_url, "/jh/");
        assert_eq!(c.public_url().as_str(), "http://127.0.0.1:9000/");
        let c = HubConfig::from_toml_str(
            "[JupyterHub]\nbind_url = \"http://127.0.0.1:9000/jh/\"\nbase_url = \"/other\"\n",
        )
        .unwrap();
        assert_eq!(c.hub.base_url, "/other/", "an explicit base_url wins");
        assert_eq!(c.public_url().as_str(), "http://127.0.0.1:9000/");
        let c = HubConfig::from_toml_str("[JupyterHub]\nbind_url = \"http://127.0.0.1:9000\"\n")
            .unwrap();
        assert_eq!(c.hub.base_url, "/");
    }

    #[test]
    fn unknown_table_is_named() {
        let err = HubConfig::from_toml_str("[JupyterHubb]\nx = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`JupyterHubb`"), "{err}");
        assert!(err.contains("did you mean `JupyterHub`"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = HubConfig::from_toml_str("[Spawner]\nstart_timeout = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Spawner.start_timeout"), "{err}");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("ferrohub-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "[Spawner]\nstart_timeout = 90\nhttp_timeout = 40\n[JupyterHub]\nbase_url = \"/a/\"\n",
        )
        .unwrap();
        let mut o = Overrides::from_env([
            ("FERROHUB_SPAWNER__HTTP_TIMEOUT".to_owned(), "50".to_owned()),
            ("FERROHUB_JUPYTERHUB__BASE_URL".to_owned(), "/b/".to_owned()),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ]);
        o.extend(cli(&[("JupyterHub.base_url", "/c/")]));
        let c = HubConfig::load(Some(&file), &o).unwrap();
        assert_eq!(c.spawner.start_timeout, 90, "file beats default");
        assert_eq!(c.spawner.http_timeout, 50, "environment beats file");
        assert_eq!(c.hub.base_url, "/c/", "command line beats environment");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn override_errors_name_their_source() {
        let err = HubConfig::load(None, &cli(&[("Spawner.start_timout", "5")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Spawner.start_timout"), "{err}");
        let err = HubConfig::load(None, &cli(&[("Nope.x", "5")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--Nope.x") && err.contains("unknown table"),
            "{err}"
        );
    }

    #[test]
    fn values_parse_as_toml_or_string() {
        assert_eq!(parse_value("60"), Value::Integer(60));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("http://x:1/"),
            Value::String("http://x:1/".into())
        );
        assert_eq!(
            parse_value("[\"a\", \"b\"]"),
            Value::Array(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("bind_ulr", "bind_url"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}

#[cfg(test)]
mod table_list_tests {
    use super::*;

    /// Every table of the configuration can be set from the environment and command line.
    #[test]
    fn every_config_table_is_known_to_the_override_layers() {
        let defaults = toml::Value::try_from(HubConfig::default()).unwrap();
        for table in defaults.as_table().unwrap().keys() {
            assert!(
                TABLES.contains(&table.as_str()),
                "{table} is missing from TABLES"
            );
        }
    }
}
