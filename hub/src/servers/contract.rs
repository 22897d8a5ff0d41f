//! JupyterHub's single-user contract: the environment a server is started with and the
//! scopes of the API token it gets, the same whatever the spawner.

use crate::config::HubConfig;
use ferrohub_shared::env::{self, singleuser};
use ferrohub_shared::proxy_key::ProxyKey;
use ferrohub_shared::route_credential;
use ferrohub_shared::routes::RouteSpec;
use ferrohub_shared::secret::Secret;
use std::collections::BTreeMap;

/// The OAuth client id of a server, as JupyterHub names it.
pub fn oauth_client_id(user: &str, server: &str) -> String {
    if server.is_empty() {
        format!("jupyterhub-user-{}", escape_path(user))
    } else {
        format!(
            "jupyterhub-user-{}-{}",
            escape_path(user),
            escape_path(server)
        )
    }
}

/// Scopes that grant access to the server (`JUPYTERHUB_OAUTH_ACCESS_SCOPES`).
pub fn access_scopes(user: &str, server: &str) -> Vec<String> {
    vec![
        format!("access:servers!server={user}/{server}"),
        format!("access:servers!user={user}"),
    ]
}

/// The scopes of the server's own API token (JupyterHub's `server` role): report activity and
/// check who may reach it; beyond JupyterHub, read what its user may launch (a manager lists
/// those applications).
pub fn server_token_scopes(user: &str, server: &str) -> Vec<String> {
    vec![
        format!("users:activity!user={user}"),
        format!("access:servers!server={user}/{server}"),
        format!("read:users:applications!user={user}"),
    ]
}

/// What a server needs to register its own routes at the proxy.
pub struct ProxyAccess<'a> {
    /// The proxy's API root.
    pub api_url: &'a str,
    /// Mints the server's route credential.
    pub key: &'a ProxyKey,
}

/// The environment JupyterHub's `Spawner.get_env` builds, minus `JUPYTERHUB_SERVICE_URL`
/// (added by the spawner once it knows the address), plus ferrohub's proxy access: the
/// proxy API, a route credential for the server's prefix and that prefix. Later entries win:
/// `env_keep` first, the contract, then `[Spawner] environment`.
pub fn environment(
    config: &HubConfig,
    user: &str,
    server: &str,
    prefix: &str,
    token: &Secret,
    proxy: &ProxyAccess<'_>,
) -> BTreeMap<String, String> {
    let spawner = &config.spawner;
    let base = &config.hub.base_url;
    let mut env = BTreeMap::new();
    for key in &spawner.env_keep {
        if let Ok(value) = std::env::var(key) {
            env.insert(key.clone(), value);
        }
    }
    let api_url = format!(
        "{}{}hub/api",
        config.hub_connect_url().as_str().trim_end_matches('/'),
        base
    );
    let json = |v: Vec<String>| serde_json::to_string(&v).expect("strings serialise");
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set(singleuser::API_TOKEN, token.expose().to_owned());
    set(singleuser::JPY_API_TOKEN, token.expose().to_owned());
    set(singleuser::CLIENT_ID, oauth_client_id(user, server));
    set(singleuser::COOKIE_HOST_PREFIX_ENABLED, "0".into());
    set(singleuser::HOST, String::new());
    set(
        singleuser::OAUTH_CALLBACK_URL,
        format!("{prefix}oauth_callback"),
    );
    set(singleuser::OAUTH_SCOPES, json(access_scopes(user, server)));
    set(
        singleuser::OAUTH_ACCESS_SCOPES,
        json(access_scopes(user, server)),
    );
    set(singleuser::OAUTH_CLIENT_ALLOWED_SCOPES, "[]".into());
    set(singleuser::USER, user.to_owned());
    set(singleuser::SERVER_NAME, server.to_owned());
    set(
        singleuser::ACTIVITY_URL,
        format!("{api_url}/users/{}/activity", escape_path(user)),
    );
    set(singleuser::API_URL, api_url);
    set(singleuser::BASE_URL, base.clone());
    set(singleuser::SERVICE_PREFIX, prefix.to_owned());
    set(singleuser::PUBLIC_URL, String::new());
    set(singleuser::PUBLIC_HUB_URL, String::new());
    if let Ok(spec) = RouteSpec::parse(prefix) {
        let credential = route_credential::mint(proxy.key, &spec);
        set(env::FERROHUB_PROXY_API_URL, proxy.api_url.to_owned());
        set(env::FERROHUB_PROXY_TOKEN, credential.expose().to_owned());
        set(env::FERROHUB_PROXY_PREFIX, spec.with_trailing_slash());
    }
    if !spawner.mem_limit.is_empty() {
        set("MEM_LIMIT", spawner.mem_limit.clone());
    }
    if !spawner.mem_guarantee.is_empty() {
        set("MEM_GUARANTEE", spawner.mem_guarantee.clone());
    }
    if spawner.cpu_limit > 0.0 {
        set("CPU_LIMIT", spawner.cpu_limit.to_string());
    }
    if spawner.cpu_guarantee > 0.0 {
        set("CPU_GUARANTEE", spawner.cpu_guarantee.to_string());
    }
    if !spawner.notebook_dir.is_empty() {
        set(
            "JUPYTERHUB_ROOT_DIR",
            spawner.notebook_dir.replace("{username}", user),
        );
    }
    if !spawner.default_url.is_empty() {
        set(
            "JUPYTERHUB_DEFAULT_URL",
            spawner.default_url.replace("{username}", user),
        );
    }
    if spawner.debug {
        set("JUPYTERHUB_DEBUG", "1".into());
    }
    if spawner.disable_user_config {
        set("JUPYTERHUB_DISABLE_USER_CONFIG", "1".into());
    }
    for (k, v) in &spawner.environment {
        env.insert(k.clone(), v.replace("{username}", user));
    }
    env
}

/// Percent-encode a name for a URL path segment (names may hold characters such as `@`).
pub fn escape_path(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_has_jupyterhubs_variables() {
        let mut config = HubConfig::default();
        config.validate().unwrap();
        config
            .spawner
            .environment
            .insert("GREETING".into(), "hi {username}".into());
        let key = ProxyKey::derive(b"secret");
        let env = environment(
            &config,
            "alice",
            "",
            "/user/alice/",
            &Secret::new("t0k".to_owned()),
            &ProxyAccess {
                api_url: "http://127.0.0.1:8001",
                key: &key,
            },
        );
        assert_eq!(env["JUPYTERHUB_API_TOKEN"], "t0k");
        assert_eq!(env["JPY_API_TOKEN"], "t0k");
        assert_eq!(env["JUPYTERHUB_USER"], "alice");
        assert_eq!(env["JUPYTERHUB_SERVER_NAME"], "");
        assert_eq!(env["JUPYTERHUB_SERVICE_PREFIX"], "/user/alice/");
        assert_eq!(
            env["JUPYTERHUB_OAUTH_CALLBACK_URL"],
            "/user/alice/oauth_callback"
        );
        assert_eq!(env["JUPYTERHUB_CLIENT_ID"], "jupyterhub-user-alice");
        assert_eq!(env["JUPYTERHUB_BASE_URL"], "/");
        assert!(
            env["JUPYTERHUB_API_URL"].ends_with("/hub/api"),
            "{}",
            env["JUPYTERHUB_API_URL"]
        );
        assert_eq!(
            env["JUPYTERHUB_ACTIVITY_URL"],
            format!("{}/users/alice/activity", env["JUPYTERHUB_API_URL"])
        );
        assert_eq!(
            env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"],
            r#"["access:servers!server=alice/","access:servers!user=alice"]"#
        );
        assert_eq!(env["GREETING"], "hi alice");
        assert_eq!(env[env::FERROHUB_PROXY_API_URL], "http://127.0.0.1:8001");
        assert_eq!(env[env::FERROHUB_PROXY_PREFIX], "/user/alice/");
        assert_eq!(
            route_credential::verify(&key, &env[env::FERROHUB_PROXY_TOKEN]),
            Some(RouteSpec::parse("/user/alice/").unwrap()),
            "the credential is good for the server's prefix"
        );
    }

    #[test]
    fn named_servers_have_their_own_client() {
        assert_eq!(oauth_client_id("a b", "lab"), "jupyterhub-user-a%20b-lab");
    }
}
