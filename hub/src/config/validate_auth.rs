//! Checks of the authenticators' own tables (`[NativeAuthenticator]` groups,
//! `[GenericOAuthenticator]`, `[RESTAuthenticator]`), applied only to the table of the
//! authenticator `authenticator_class` names, so a table left over from another setup is
//! never held against the hub.

use super::{AuthenticatorClass, ConfigError, HubConfig};
use crate::auth::{http_client, names};
use url::Url;

/// Check the table of the configured authenticator.
pub(super) fn validate_authenticator(config: &HubConfig) -> Result<(), ConfigError> {
    match config.hub.authenticator_class {
        AuthenticatorClass::OAuth => validate_oauth(config),
        AuthenticatorClass::Rest => validate_rest(config),
        AuthenticatorClass::Native => validate_native_groups(config),
        AuthenticatorClass::Dummy => Ok(()),
    }
}

/// `[NativeAuthenticator] allowed_groups` and `admin_groups`: valid group names, and no
/// combination that silently undoes them.
fn validate_native_groups(config: &HubConfig) -> Result<(), ConfigError> {
    let native = &config.native_authenticator;
    let rules = &config.authenticator;
    for (key, groups) in [
        ("allowed_groups", &native.allowed_groups),
        ("admin_groups", &native.admin_groups),
    ] {
        for group in groups {
            names::check_group(group)
                .map_err(|e| ConfigError::invalid(&format!("NativeAuthenticator.{key}"), e))?;
        }
    }
    let restricts = !native.allowed_groups.is_empty() || !rules.allowed_users.is_empty();
    if restricts && rules.allow_existing_users {
        // Every native account is an existing user: the allow lists would restrict nothing.
        return Err(ConfigError::invalid(
            "Authenticator.allow_existing_users",
            "with the native authenticator every account is an existing user, so \
             allow_existing_users = true would let all of them in and \
             Authenticator.allowed_users / NativeAuthenticator.allowed_groups would restrict \
             nothing: remove one or the other",
        ));
    }
    if !native.allowed_groups.is_empty() && rules.allow_all {
        return Err(ConfigError::invalid(
            "NativeAuthenticator.allowed_groups",
            "Authenticator.allow_all = true lets every account in, so allowed_groups would \
             restrict nothing: remove one or the other",
        ));
    }
    if !native.admin_groups.is_empty() && rules.admin_users.is_empty() {
        // The admin created at first start is in no group: its first login would revoke its
        // admin flag (and refuse it, if allow lists are set), locking everyone out of admin.
        return Err(ConfigError::invalid(
            "NativeAuthenticator.admin_groups",
            "decides who is admin at every login, so the admin the hub creates at first \
             start (in no group) would lose admin at its first login: name at least one \
             admin in Authenticator.admin_users, e.g. admin_users = [\"admin\"]",
        ));
    }
    Ok(())
}

/// A required `http://` or `https://` URL the hub (or a browser) calls.
fn service_url(key: &str, value: &str, what: &str, example: &str) -> Result<Url, ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::invalid(
            key,
            format!("needs {what}, e.g. \"{example}\""),
        ));
    }
    let url = Url::parse(value).map_err(|e| {
        ConfigError::invalid(
            key,
            format!("`{value}` is not a URL ({e}); write e.g. \"{example}\""),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            key,
            format!(
                "scheme `{}` is not allowed; use http:// or https://",
                url.scheme()
            ),
        ));
    }
    Ok(url)
}

fn validate_oauth(config: &HubConfig) -> Result<(), ConfigError> {
    let oauth = &config.generic_oauthenticator;
    let key = |k: &str| format!("GenericOAuthenticator.{k}");
    if oauth.client_id.trim().is_empty() {
        return Err(ConfigError::invalid(
            &key("client_id"),
            "authenticator_class = \"oauth\" needs the client id registered at the provider, \
             e.g. client_id = \"ferrohub\"",
        ));
    }
    for (name, value, example) in [
        (
            "authorize_url",
            &oauth.authorize_url,
            "https://idp.example.org/oauth2/authorize",
        ),
        (
            "token_url",
            &oauth.token_url,
            "https://idp.example.org/oauth2/token",
        ),
        (
            "userdata_url",
            &oauth.userdata_url,
            "https://idp.example.org/oauth2/userinfo",
        ),
    ] {
        let what = format!("the provider's {name} (authenticator_class = \"oauth\")");
        service_url(&key(name), value, &what, example)?;
    }
    if !oauth.oauth_callback_url.is_empty() {
        let url = Url::parse(&oauth.oauth_callback_url).map_err(|e| {
            ConfigError::invalid(
                &key("oauth_callback_url"),
                format!("not a URL ({e}); write e.g. \"http://127.0.0.1:8000/hub/oauth_callback\", or leave it empty"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::invalid(
                &key("oauth_callback_url"),
                "must be an http:// or https:// URL ending in hub/oauth_callback",
            ));
        }
    }
    if oauth.username_claim.trim().is_empty() {
        return Err(ConfigError::invalid(
            &key("username_claim"),
            "needs the claim that holds the user name, e.g. \"preferred_username\"",
        ));
    }
    let uses_groups =
        oauth.manage_groups || !oauth.allowed_groups.is_empty() || !oauth.admin_groups.is_empty();
    if uses_groups && oauth.claim_groups_key.trim().is_empty() {
        return Err(ConfigError::invalid(
            &key("claim_groups_key"),
            "allowed_groups, admin_groups and manage_groups read the groups claim: name it, \
             e.g. \"groups\"",
        ));
    }
    http_client::validate_ca_file(&key("tls_ca_file"), &oauth.tls_ca_file)
}

fn validate_rest(config: &HubConfig) -> Result<(), ConfigError> {
    let rest = &config.rest_authenticator;
    let key = |k: &str| format!("RESTAuthenticator.{k}");
    service_url(
        &key("url"),
        &rest.url,
        "the login service's URL (authenticator_class = \"rest\")",
        "https://login.example.org/check",
    )?;
    if rest.timeout == 0 {
        return Err(ConfigError::invalid(
            &key("timeout"),
            "must be at least 1 (seconds)",
        ));
    }
    if rest.username_field.trim().is_empty() {
        return Err(ConfigError::invalid(
            &key("username_field"),
            "needs the field of the answer that holds the user name, e.g. \"name\"",
        ));
    }
    if rest.manage_groups && rest.groups_field.trim().is_empty() {
        return Err(ConfigError::invalid(
            &key("groups_field"),
            "manage_groups reads the groups field: name it, e.g. \"groups\"",
        ));
    }
    http_client::validate_ca_file(&key("tls_ca_file"), &rest.tls_ca_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_table_is_checked_when_oauth_logs_in() {
        let oauth = "[JupyterHub]\nauthenticator_class = \"oauth\"\n[GenericOAuthenticator]\n\
                     client_id = \"hub\"\nauthorize_url = \"https://idp/authorize\"\n\
                     token_url = \"http://idp/token\"\nuserdata_url = \"http://idp/user\"\n";
        HubConfig::from_toml_str(oauth).expect("a complete table is valid");
        let err = HubConfig::from_toml_str("[JupyterHub]\nauthenticator_class = \"oauth\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("GenericOAuthenticator.client_id"), "{err}");
        assert!(err.contains("client_id = "), "says what to write: {err}");
        for (extra, key, says) in [
            ("client_id = \"\"", "client_id", "client id"),
            ("authorize_url = \"\"", "authorize_url", "authorize_url"),
            ("token_url = \"ftp://idp/token\"", "token_url", "https://"),
            (
                "tls_ca_file = \"/nonexistent/ca.pem\"",
                "tls_ca_file",
                "cannot read",
            ),
            ("userdata_url = \"not a url\"", "userdata_url", "not a URL"),
            (
                "oauth_callback_url = \"ftp://x/y\"",
                "oauth_callback_url",
                "http",
            ),
            (
                "username_claim = \"\"",
                "username_claim",
                "preferred_username",
            ),
            (
                "claim_groups_key = \"\"\nmanage_groups = true",
                "claim_groups_key",
                "groups",
            ),
        ] {
            // A key written twice is a TOML error: replace the line instead.
            let name = extra.split(' ').next().unwrap();
            let text: String = oauth
                .lines()
                .filter(|l| !l.starts_with(&format!("{name} ")))
                .map(|l| format!("{l}\n"))
                .collect();
            let err = HubConfig::from_toml_str(&format!("{text}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("GenericOAuthenticator.{key}")),
                "{extra}: {err}"
            );
            assert!(err.contains(says), "{extra}: {err}");
        }
        // The table is not held against a hub with another authenticator.
        HubConfig::from_toml_str("[GenericOAuthenticator]\ntoken_url = \"ftp://x\"").unwrap();
    }

    #[test]
    fn native_groups_are_checked_when_native_logs_in() {
        let native = "[Authenticator]\nadmin_users = [\"root\"]\n[NativeAuthenticator]\n";
        HubConfig::from_toml_str(&format!(
            "{native}allowed_groups = [\"students\"]\nadmin_groups = [\"staff\"]"
        ))
        .expect("groups with an admin user are valid");
        for (table, extra, key, says) in [
            (
                native,
                "allowed_groups = [\"a/b\"]",
                "NativeAuthenticator.allowed_groups",
                "group name",
            ),
            (
                native,
                "admin_groups = [\"\"]",
                "NativeAuthenticator.admin_groups",
                "empty",
            ),
            (
                "[Authenticator]\nallow_existing_users = true\n[NativeAuthenticator]\n",
                "allowed_groups = [\"students\"]",
                "Authenticator.allow_existing_users",
                "restrict nothing",
            ),
            (
                "[Authenticator]\nallow_existing_users = true\nallowed_users = [\"a\"]\n",
                "",
                "Authenticator.allow_existing_users",
                "restrict nothing",
            ),
            (
                "[Authenticator]\nallow_all = true\n[NativeAuthenticator]\n",
                "allowed_groups = [\"students\"]",
                "NativeAuthenticator.allowed_groups",
                "allow_all",
            ),
            (
                "[NativeAuthenticator]\n",
                "admin_groups = [\"staff\"]",
                "NativeAuthenticator.admin_groups",
                "admin_users = [\"admin\"]",
            ),
        ] {
            let err = HubConfig::from_toml_str(&format!("{table}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{extra}: {err}");
            assert!(err.contains(says), "{extra}: {err}");
        }
        // The table is not held against a hub with another authenticator.
        HubConfig::from_toml_str(
            "[JupyterHub]\nauthenticator_class = \"dummy\"\n\
             [NativeAuthenticator]\nadmin_groups = [\"staff\"]",
        )
        .unwrap();
    }

    #[test]
    fn rest_table_is_checked_when_rest_logs_in() {
        let rest = "[JupyterHub]\nauthenticator_class = \"rest\"\n[RESTAuthenticator]\n";
        HubConfig::from_toml_str(&format!("{rest}url = \"https://login.example/check\""))
            .expect("a URL is enough");
        for (extra, key, says) in [
            ("", "url", "url"),
            ("url = \"ldap://x\"", "url", "https://"),
            ("url = \"http://x\"\ntimeout = 0", "timeout", "at least 1"),
            (
                "url = \"http://x\"\nusername_field = \"\"",
                "username_field",
                "\"name\"",
            ),
            (
                "url = \"http://x\"\nmanage_groups = true\ngroups_field = \"\"",
                "groups_field",
                "\"groups\"",
            ),
            (
                "url = \"http://x\"\ntls_ca_file = \"/nonexistent/ca.pem\"",
                "tls_ca_file",
                "cannot read",
            ),
        ] {
            let err = HubConfig::from_toml_str(&format!("{rest}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("RESTAuthenticator.{key}")),
                "{extra}: {err}"
            );
            assert!(err.contains(says), "{extra}: {err}");
        }
        // The table is not held against a hub with another authenticator.
        HubConfig::from_toml_str("[RESTAuthenticator]\ntimeout = 0").unwrap();
    }
}
