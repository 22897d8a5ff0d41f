//! The hub's configuration: one typed struct whose tables mirror JupyterHub's configuration
//! classes, so `c.JupyterHub.bind_url = ...` becomes `[JupyterHub] bind_url = ...`.
//!
//! Defaults equal JupyterHub's where JupyterHub has the same setting; where ferrohub differs
//! (the public address binds loopback, the proxy is `ferrohub-proxy`, the authenticator is
//! `native`) the field says so. Loading and layering live in [`load`]; the example file at the
//! workspace root documents every key and is parsed by a test.

mod classes;
mod load;
mod validate;
mod validate_auth;

pub use classes::{AuthenticatorClass, SpawnerClass};
pub use load::{ConfigError, ConfigSource, Overrides};
pub use validate::{parse_bytes, DbUrl};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The example configuration, with every key at its default. `ferrohub --generate-config`
/// prints it.
pub const EXAMPLE_CONFIG: &str = include_str!("../../../jupyterhub_config.example.toml");

/// The whole configuration of the hub.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    #[serde(rename = "JupyterHub", default)]
    pub hub: JupyterHubConfig,
    #[serde(rename = "Authenticator", default)]
    pub authenticator: AuthenticatorConfig,
    #[serde(rename = "Spawner", default)]
    pub spawner: SpawnerConfig,
    #[serde(rename = "ConfigurableHTTPProxy", default)]
    pub proxy: ProxyConfig,
    #[serde(rename = "NativeAuthenticator", default)]
    pub native_authenticator: NativeAuthenticatorConfig,
    #[serde(rename = "DummyAuthenticator", default)]
    pub dummy_authenticator: DummyAuthenticatorConfig,
    #[serde(rename = "GenericOAuthenticator", default)]
    pub generic_oauthenticator: GenericOAuthenticatorConfig,
    #[serde(rename = "RESTAuthenticator", default)]
    pub rest_authenticator: RESTAuthenticatorConfig,
    #[serde(rename = "LocalProcessSpawner", default)]
    pub local_process_spawner: LocalProcessSpawnerConfig,
    #[serde(rename = "DockerSpawner", default)]
    pub docker_spawner: DockerSpawnerConfig,
    #[serde(rename = "ManagerSpawner", default)]
    pub manager_spawner: ManagerSpawnerConfig,
    #[serde(rename = "Manager", default)]
    pub manager: ManagerConfig,
}

/// `[JupyterHub]`: the application as a whole.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JupyterHubConfig {
    /// The public URL users reach (the proxy's public side). JupyterHub binds every interface
    /// (`http://:8000`); ferrohub binds loopback unless told otherwise.
    pub bind_url: String,
    /// Where the hub itself listens.
    pub hub_bind_url: String,
    /// How the proxy and single-user servers reach the hub; empty means `hub_bind_url`.
    pub hub_connect_url: String,
    /// The URL prefix of everything the hub serves; always starts and ends with `/`.
    pub base_url: String,
    /// `sqlite:///relative.sqlite`, `sqlite:////absolute/path.sqlite` or `postgresql://...`.
    pub db_url: String,
    /// The file holding the hex cookie secret, created with mode 0600 when missing.
    pub cookie_secret_file: PathBuf,
    /// Days a login cookie stays valid.
    pub cookie_max_age_days: f64,
    /// `native` (accounts in the database), `dummy`, `oauth` (an OAuth 2.0 / OpenID Connect
    /// provider, configured in `[GenericOAuthenticator]`), `rest` (an external login service
    /// that checks passwords, configured in `[RESTAuthenticator]`).
    pub authenticator_class: AuthenticatorClass,
    /// `local` (a local process) or `docker` (a container per server).
    pub spawner_class: SpawnerClass,
    pub allow_named_servers: bool,
    /// 0 means no limit.
    pub named_server_limit_per_user: u32,
    /// How many spawns may be pending at once; 0 means no limit.
    pub concurrent_spawn_limit: u32,
    /// How many servers may run at once; 0 means no limit.
    pub active_server_limit: u32,
    /// Stop every single-user server when the hub shuts down.
    pub cleanup_servers: bool,
    /// Stop the proxy when the hub shuts down, if the hub started it.
    pub cleanup_proxy: bool,
    /// Stop a user's servers when they log out.
    pub shutdown_on_logout: bool,
    /// Where a user lands after login; empty means their home page.
    pub default_url: String,
    /// Seconds between updates of last-activity from the proxy.
    pub last_activity_interval: u64,
    /// API pagination: the page size when a client asks for none, and the largest allowed.
    pub api_page_default_limit: u32,
    pub api_page_max_limit: u32,
    /// Services the hub knows (`[[JupyterHub.services]]`).
    pub services: Vec<ServiceConfig>,
    /// Roles to create or update at start-up (`[[JupyterHub.load_roles]]`).
    pub load_roles: Vec<RoleConfig>,
    /// Groups to create at start-up, name -> members.
    pub load_groups: BTreeMap<String, Vec<String>>,
}

impl Default for JupyterHubConfig {
    fn default() -> Self {
        JupyterHubConfig {
            bind_url: "http://127.0.0.1:8000".into(),
            hub_bind_url: "http://127.0.0.1:8081".into(),
            hub_connect_url: String::new(),
            base_url: "/".into(),
            db_url: "sqlite:///jupyterhub.sqlite".into(),
            cookie_secret_file: PathBuf::from("jupyterhub_cookie_secret"),
            cookie_max_age_days: 14.0,
            authenticator_class: AuthenticatorClass::Native,
            spawner_class: SpawnerClass::Local,
            allow_named_servers: false,
            named_server_limit_per_user: 0,
            concurrent_spawn_limit: 100,
            active_server_limit: 0,
            cleanup_servers: true,
            cleanup_proxy: true,
            shutdown_on_logout: false,
            default_url: String::new(),
            last_activity_interval: 300,
            api_page_default_limit: 50,
            api_page_max_limit: 200,
            services: Vec::new(),
            load_roles: Vec::new(),
            load_groups: BTreeMap::new(),
        }
    }
}

/// One entry of `[[JupyterHub.services]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    pub name: String,
    /// A token the service authenticates with (prefer the environment in real deployments).
    pub api_token: ferrohub_shared::secret::Secret,
    /// Where the service listens, if the proxy should route `/services/{name}/` to it.
    pub url: String,
    pub admin: bool,
    /// A command the hub runs as a managed service; empty for an external service.
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
}

/// One entry of `[[JupyterHub.load_roles]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleConfig {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub services: Vec<String>,
}

/// `[Authenticator]`: who may log in and who is an admin, whatever the login method.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthenticatorConfig {
    /// Users who are admins. When empty, the first start creates an admin named `admin`.
    pub admin_users: Vec<String>,
    /// Users allowed to log in besides admins; empty means "anyone the authenticator
    /// accepts" only together with `allow_all`.
    pub allowed_users: Vec<String>,
    pub blocked_users: Vec<String>,
    pub allow_all: bool,
    /// Users already in the database may log in even if not in `allowed_users`.
    pub allow_existing_users: bool,
    /// Regular expression user names must match; empty accepts JupyterHub's usual names.
    pub username_pattern: String,
    /// Keep what authenticators return about a login (OAuth tokens, a login service's
    /// answer) as the user's `auth_state`, encrypted with the keys in `JUPYTERHUB_CRYPT_KEY`
    /// (the hub refuses to start without one). Admins read and set it through the API.
    pub enable_auth_state: bool,
}

/// `[Spawner]`: how single-user servers are started, whatever the spawner.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpawnerConfig {
    pub cmd: Vec<String>,
    pub args: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// Variables passed through from the hub's own environment.
    pub env_keep: Vec<String>,
    pub default_url: String,
    pub notebook_dir: String,
    /// Seconds a server may take to start before the spawn fails.
    pub start_timeout: u64,
    /// Seconds a started server may take to answer HTTP before the spawn fails.
    pub http_timeout: u64,
    /// Seconds between checks that a running server is still alive.
    pub poll_interval: u64,
    /// Memory limit such as `2G`; empty means none.
    pub mem_limit: String,
    pub mem_guarantee: String,
    /// CPU cores; 0 means no limit.
    pub cpu_limit: f64,
    pub cpu_guarantee: f64,
    /// The address single-user servers listen on.
    pub ip: String,
    /// The port single-user servers listen on; 0 picks a free one.
    pub port: u16,
    pub disable_user_config: bool,
    pub debug: bool,
    /// Stop retrying a user's spawn after this many failures in a row; 0 means never.
    pub consecutive_failure_limit: u32,
}

impl Default for SpawnerConfig {
    fn default() -> Self {
        SpawnerConfig {
            cmd: vec!["jupyterhub-singleuser".into()],
            args: Vec::new(),
            environment: BTreeMap::new(),
            env_keep: [
                "PATH",
                "PYTHONPATH",
                "CONDA_ROOT",
                "CONDA_DEFAULT_ENV",
                "VIRTUAL_ENV",
                "LANG",
                "LC_ALL",
                "JUPYTERHUB_SINGLEUSER_APP",
            ]
            .map(String::from)
            .to_vec(),
            default_url: String::new(),
            notebook_dir: String::new(),
            start_timeout: 60,
            http_timeout: 30,
            poll_interval: 30,
            mem_limit: String::new(),
            mem_guarantee: String::new(),
            cpu_limit: 0.0,
            cpu_guarantee: 0.0,
            ip: "127.0.0.1".into(),
            port: 0,
            disable_user_config: false,
            debug: false,
            consecutive_failure_limit: 0,
        }
    }
}

/// `[ConfigurableHTTPProxy]`: the proxy in front of the hub and the servers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Start the proxy as a child process; `false` uses one already running at `api_url`.
    pub should_start: bool,
    pub api_url: String,
    /// The proxy's admin token; empty means `CONFIGPROXY_AUTH_TOKEN`, else a fresh random one
    /// (only possible when the hub starts the proxy).
    pub auth_token: ferrohub_shared::secret::Secret,
    /// The proxy command. A bare `ferrohub-proxy` is looked up beside the `ferrohub` binary
    /// first, then on `PATH`; `configurable-http-proxy` works too.
    pub command: Vec<String>,
    /// Where the proxy keeps its routes across restarts (ferrohub-proxy only; empty: none).
    pub routes_file: PathBuf,
    /// Where the pid of a proxy started by the hub is written.
    pub pid_file: PathBuf,
    /// Seconds between checks that the proxy is alive and holds the hub's routes.
    pub check_running_interval: u64,
    pub debug: bool,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            should_start: true,
            api_url: "http://127.0.0.1:8001".into(),
            auth_token: Default::default(),
            command: vec!["ferrohub-proxy".into()],
            routes_file: PathBuf::from("jupyterhub-proxy-routes.json"),
            pid_file: PathBuf::from("jupyterhub-proxy.pid"),
            check_running_interval: 5,
            debug: false,
        }
    }
}

/// `[NativeAuthenticator]`: accounts kept in the hub's database.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NativeAuthenticatorConfig {
    /// Hours an invite or password-reset link stays valid.
    pub link_lifetime_hours: u64,
    /// Wrong PINs after which a link is burnt.
    pub max_pin_attempts: u32,
    pub minimum_password_length: u32,
    /// Require upper case, lower case, a digit and a symbol.
    pub require_mixed_password: bool,
    /// Members of any of these hub groups (the groups of `/hub/api/groups`, whose members
    /// admins manage through the API) may log in, besides `[Authenticator] allowed_users`
    /// and admins, as JupyterHub 5's `LocalAuthenticator.allowed_groups` (group *or* name).
    /// When this or `allowed_users` is set, an account outside both is refused at login;
    /// when both are empty, every account in the database may log in.
    pub allowed_groups: Vec<String>,
    /// Members of any of these hub groups are admins. Authoritative, as JupyterHub's
    /// `PAMAuthenticator.admin_groups`: when set, the admin flag is granted *and revoked* at
    /// each login from the membership, except for `[Authenticator] admin_users` (always
    /// admins). Admins may log in whatever the allow rules say.
    pub admin_groups: Vec<String>,
}

impl Default for NativeAuthenticatorConfig {
    fn default() -> Self {
        NativeAuthenticatorConfig {
            link_lifetime_hours: 24,
            max_pin_attempts: 3,
            minimum_password_length: 8,
            require_mixed_password: true,
            allowed_groups: Vec::new(),
            admin_groups: Vec::new(),
        }
    }
}

/// `[DummyAuthenticator]`: any user name logs in (for tests and demos only).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DummyAuthenticatorConfig {
    /// A password every user must give; empty accepts any.
    pub password: ferrohub_shared::secret::Secret,
}

/// `[GenericOAuthenticator]`: log in at an OAuth 2.0 / OpenID Connect provider (authorization
/// code grant, PKCE), with oauthenticator's `GenericOAuthenticator` key names. Read only when
/// `authenticator_class = "oauth"`.
///
/// The hub itself calls `token_url` and `userdata_url` (over http or https, trusting the public
/// CAs and `tls_ca_file`); browsers visit `authorize_url`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericOAuthenticatorConfig {
    pub client_id: String,
    /// Empty for a public client (PKCE only); prefer the environment in real deployments
    /// (`FERROHUB_GENERICOAUTHENTICATOR__CLIENT_SECRET`).
    pub client_secret: ferrohub_shared::secret::Secret,
    /// Where browsers are sent to log in and consent.
    pub authorize_url: String,
    /// Where the hub exchanges the authorization code for an access token.
    pub token_url: String,
    /// Where the hub reads the user's claims with the access token (`Authorization: Bearer`).
    pub userdata_url: String,
    /// Scopes requested at the provider; empty requests the provider's default.
    pub scope: Vec<String>,
    /// The userdata claim that becomes the user name. oauthenticator's default `username`;
    /// OpenID Connect providers usually want `preferred_username`, JupyterHub `name`. A
    /// dotted path (`a.b`) reaches into nested objects when no claim has the literal name.
    pub username_claim: String,
    /// The userdata claim holding the user's groups (a list of strings), as a name or a
    /// dotted path; read for `allowed_groups`, `admin_groups` and `manage_groups`.
    pub claim_groups_key: String,
    /// Make the user's hub groups exactly those of the claim at each login, creating groups
    /// as needed.
    pub manage_groups: bool,
    /// Members of any of these groups may log in (besides `[Authenticator]` allowed users).
    pub allowed_groups: Vec<String>,
    /// Members of any of these groups are admins. When set, admin is granted *and revoked*
    /// at each login from the claim, except for `[Authenticator] admin_users`.
    pub admin_groups: Vec<String>,
    /// The redirect URI registered at the provider; empty means
    /// `{JupyterHub.bind_url}{base_url}hub/oauth_callback`.
    pub oauth_callback_url: String,
    /// The provider's name on the login button: "Sign in with {login_service}".
    pub login_service: String,
    /// Send a PKCE challenge (S256) with the authorization request.
    pub enable_pkce: bool,
    /// Send the client credentials as HTTP Basic authentication to `token_url`; `false` sends
    /// them in the request body (`client_secret_post`, which JupyterHub's provider needs).
    pub basic_auth: bool,
    /// A PEM file of CA certificates trusted for `token_url` and `userdata_url` besides the
    /// public CAs (a provider with a private CA); empty for none.
    pub tls_ca_file: PathBuf,
}

impl Default for GenericOAuthenticatorConfig {
    fn default() -> Self {
        GenericOAuthenticatorConfig {
            client_id: String::new(),
            client_secret: Default::default(),
            authorize_url: String::new(),
            token_url: String::new(),
            userdata_url: String::new(),
            scope: Vec::new(),
            username_claim: "username".into(),
            claim_groups_key: "groups".into(),
            manage_groups: false,
            allowed_groups: Vec::new(),
            admin_groups: Vec::new(),
            oauth_callback_url: String::new(),
            login_service: "OAuth 2.0".into(),
            enable_pkce: true,
            basic_auth: false,
            tls_ca_file: PathBuf::new(),
        }
    }
}

/// `[RESTAuthenticator]`: passwords checked by an external login service over HTTP, as
/// research facilities run in front of their directories. Read only when
/// `authenticator_class = "rest"`; the protocol is described in `auth::rest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RESTAuthenticatorConfig {
    /// Where the hub POSTs `{"username": ..., "password": ...}` (http:// or https://).
    pub url: String,
    /// Seconds to wait for the service's answer; longer counts as the service being down.
    pub timeout: u64,
    /// The hub's own credential at the service, sent as `Authorization: Bearer ...`; empty
    /// sends none. Prefer the environment (`FERROHUB_RESTAUTHENTICATOR__AUTH_TOKEN`).
    pub auth_token: ferrohub_shared::secret::Secret,
    /// A PEM file of CA certificates trusted for `url` besides the public CAs; empty for none.
    pub tls_ca_file: PathBuf,
    /// The field of the answer that holds the user name (which may differ from what was typed,
    /// e.g. an e-mail address answered with the account name).
    pub username_field: String,
    /// The field holding whether the user is an admin (a boolean). When the answer has it,
    /// admin is granted *and revoked* at each login, except for `[Authenticator] admin_users`.
    pub admin_field: String,
    /// The field holding the user's groups (a list of strings), used with `manage_groups`.
    pub groups_field: String,
    /// Make the user's hub groups exactly those of the answer at each login, creating groups
    /// as needed (JupyterHub's `Authenticator.manage_groups`).
    pub manage_groups: bool,
}

impl Default for RESTAuthenticatorConfig {
    fn default() -> Self {
        RESTAuthenticatorConfig {
            url: String::new(),
            timeout: 10,
            auth_token: Default::default(),
            tls_ca_file: PathBuf::new(),
            username_field: "name".into(),
            admin_field: "admin".into(),
            groups_field: "groups".into(),
            manage_groups: false,
        }
    }
}

/// `[LocalProcessSpawner]`: where local servers run and how they are stopped.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalProcessSpawnerConfig {
    /// Seconds to wait after SIGINT, then SIGTERM, then SIGKILL.
    pub interrupt_timeout: u64,
    pub term_timeout: u64,
    pub kill_timeout: u64,
    /// Each user's working directory and `HOME`, with `{username}` replaced (created when
    /// missing); empty runs servers in the hub's directory with the hub's `HOME`.
    pub home_dir_template: String,
    /// Where each server's output goes (`USER.log`, `USER--SERVER.log`).
    pub log_dir: PathBuf,
}

impl Default for LocalProcessSpawnerConfig {
    fn default() -> Self {
        LocalProcessSpawnerConfig {
            interrupt_timeout: 10,
            term_timeout: 5,
            kill_timeout: 5,
            home_dir_template: String::new(),
            log_dir: PathBuf::from("server-logs"),
        }
    }
}

/// `[ManagerSpawner]`: each server is a `ferrohub-manager` process, run as the local spawner
/// runs processes (`[LocalProcessSpawner]` and `[Spawner]` apply, except `cmd` and `args`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagerSpawnerConfig {
    /// The manager's command; a bare `ferrohub-manager` is found beside the `ferrohub` binary
    /// first, then on `PATH`.
    pub cmd: Vec<String>,
    /// Extra arguments after `cmd`.
    pub args: Vec<String>,
}

impl Default for ManagerSpawnerConfig {
    fn default() -> Self {
        ManagerSpawnerConfig {
            cmd: vec!["ferrohub-manager".into()],
            args: Vec::new(),
        }
    }
}

/// `[Manager]`: how each user's `ferrohub-manager` runs applications. The hub hands these to
/// every manager it starts, in its environment ([`ferrohub_shared::env`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagerConfig {
    /// The Docker engine app containers run on; empty means `DOCKER_HOST`, else the local
    /// socket.
    pub docker_host: String,
    /// Marks the containers of this hub's managers, so hubs can share an engine; a manager
    /// finds and touches only containers of its realm and its user.
    pub realm: String,
    /// Seconds an app may take to answer after its container starts; then the start fails
    /// and the container is removed.
    pub start_timeout: u64,
    /// The host address app containers' ports are published on; the proxy connects there.
    pub host_ip: String,
    /// noVNC's files (Debian's `novnc` package), served as the page of a desktop.
    pub novnc_path: PathBuf,
    /// The directory mounted as `/workspace` under a grant with `allow_home`; `{username}` is
    /// replaced. Empty: the manager's home directory (`[LocalProcessSpawner]
    /// home_dir_template`, else the hub's `HOME`).
    pub home_template: String,
    /// Stop the user's app containers when their manager stops (their server is stopped).
    /// Off keeps them running, as simphony-remote did; a manager started again finds them.
    pub stop_apps_with_server: bool,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            docker_host: String::new(),
            realm: "ferrohub".into(),
            start_timeout: 60,
            host_ip: "127.0.0.1".into(),
            novnc_path: PathBuf::from("/usr/share/novnc"),
            home_template: String::new(),
            stop_apps_with_server: true,
        }
    }
}

/// `[DockerSpawner]`: each server in its own container, with DockerSpawner's keys. Memory
/// and CPU limits come from `[Spawner] mem_limit` and `cpu_limit`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DockerSpawnerConfig {
    /// The image servers run. As DockerSpawner, the tag follows the JupyterHub version the
    /// hub speaks. ferrohub never pulls: the image must already be on the engine.
    pub image: String,
    /// Images a user may choose (`user_options.image`, or a form when there are several);
    /// empty means everyone runs `image` and choosing is refused.
    pub allowed_images: Vec<String>,
    /// The container name; `{username}` and `{servername}` are escaped for Docker. A named
    /// server's name gets `--{servername}` appended when the template lacks it.
    pub name_template: String,
    /// The Docker network containers join.
    pub network_name: String,
    /// Reach the container at its IP on `network_name` instead of a port published on the
    /// host (the hub must then be on that network too, e.g. in a container itself).
    pub use_internal_ip: bool,
    /// The host address the container's port is published on (when `use_internal_ip` is off).
    pub host_ip: String,
    /// The port the server listens on inside the container.
    pub port: u16,
    /// Host path or volume name -> path in the container; `{username}` is replaced in both.
    pub volumes: BTreeMap<String, String>,
    /// Extra labels on every container (ferrohub's own labels win on a clash).
    pub extra_labels: BTreeMap<String, String>,
    /// Remove the container when its server stops. Kept containers are for inspection only:
    /// the next start replaces them, since the API token baked into them was revoked.
    pub remove: bool,
    /// The command to run; empty means the image's own (`[Spawner] args` are appended
    /// either way). `[Spawner] cmd` is for local processes and is ignored here.
    pub cmd: Vec<String>,
    /// Seconds `docker stop` waits after SIGTERM before SIGKILL.
    pub stop_timeout: u64,
    /// The engine's address, e.g. `unix:///var/run/docker.sock` or `tcp://host:2375`; empty
    /// means `DOCKER_HOST`, else the local socket.
    pub docker_host: String,
}

impl Default for DockerSpawnerConfig {
    fn default() -> Self {
        DockerSpawnerConfig {
            image: "quay.io/jupyterhub/singleuser:6.1".into(),
            allowed_images: Vec::new(),
            name_template: "jupyter-{username}".into(),
            network_name: "bridge".into(),
            use_internal_ip: false,
            host_ip: "127.0.0.1".into(),
            port: 8888,
            volumes: BTreeMap::new(),
            extra_labels: BTreeMap::new(),
            remove: true,
            cmd: Vec::new(),
            stop_timeout: 10,
            docker_host: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example file shows every key, each at its default: parsing it gives exactly the
    /// defaults, and serialising the defaults gives exactly its keys.
    #[test]
    fn example_config_parses_to_the_defaults() {
        let example = HubConfig::from_toml_str(EXAMPLE_CONFIG).expect("example parses");
        let from_example = toml::Value::try_from(&example).unwrap();
        let mut defaults = HubConfig::default();
        defaults.validate().unwrap();
        let defaults = toml::Value::try_from(&defaults).unwrap();
        assert_eq!(from_example, defaults);
        let written: toml::Table = EXAMPLE_CONFIG.parse().unwrap();
        for (table, keys) in defaults.as_table().unwrap() {
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    written[table].as_table().unwrap().contains_key(key),
                    "the example does not show {table}.{key}"
                );
            }
        }
    }
}
