//! `authenticator_class = "rest"`: passwords checked by an external login service over HTTP,
//! as research facilities run in front of their directories (`[RESTAuthenticator]`).
//!
//! # The protocol
//! For each login the hub sends
//! `POST {url}` with `Content-Type: application/json`, the body
//! `{"username": "<as typed, normalised>", "password": "<as typed>"}` and, when `auth_token`
//! is set, `Authorization: Bearer <auth_token>` (the hub's own credential at the service).
//! The service answers:
//! - `200` with a JSON object: the credentials are right. `name` (`username_field`) is the
//!   user's name on the hub and is required; `admin` (`admin_field`, a boolean) and `groups`
//!   (`groups_field`, a list of strings) are optional. When `admin` is present it grants *or
//!   revokes* admin at each login; `groups` become the user's hub groups when
//!   `manage_groups` is on. The hub's `[Authenticator]` rules (blocked, allowed and admin
//!   users, `allow_all`) then apply as for any login.
//! - `401` or `403`: the credentials are wrong (the login page says so, and the attempt counts
//!   towards the rate limit).
//! - Anything else (another status, a redirect, a body that is not such an object, no answer
//!   within `timeout`, a refused connection, an untrusted certificate): the service is
//!   unavailable. The login page says so and the detail goes to the hub's log; the attempt
//!   does not count as a failed password.

use super::authenticator::{AuthError, Authenticated, Authenticator};
use super::http_client;
use crate::config::RESTAuthenticatorConfig;
use crate::store::Store;
use serde_json::Value;
use std::time::Duration;

/// The client of the login service, built once from `[RESTAuthenticator]`.
pub struct RESTAuthenticator {
    config: RESTAuthenticatorConfig,
    http: reqwest::Client,
}

impl RESTAuthenticator {
    /// The client for a validated configuration.
    pub fn new(config: &RESTAuthenticatorConfig) -> RESTAuthenticator {
        let timeout = Duration::from_secs(config.timeout);
        RESTAuthenticator {
            http: http_client::build(&config.tls_ca_file, timeout),
            config: config.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for RESTAuthenticator {
    async fn authenticate(
        &self,
        _store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<Authenticated>, AuthError> {
        let url = &self.config.url;
        let body = serde_json::json!({ "username": username, "password": password });
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body);
        if !self.config.auth_token.is_empty() {
            request = request.bearer_auth(self.config.auth_token.expose());
        }
        let unavailable = |e: reqwest::Error| {
            let mut detail = format!("POST {url}: {}", http_client::describe(&e));
            if http_client::is_untrusted_certificate(&e) {
                detail.push_str(
                    " (the service's certificate is not trusted: give its CA in \
                     RESTAuthenticator.tls_ca_file)",
                );
            }
            AuthError::Unavailable(detail)
        };
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(unavailable)?;
        from_answer(&self.config, status, &text)
            .map_err(|why| AuthError::Unavailable(format!("POST {url}: {why}")))
    }

    fn creates_users(&self) -> bool {
        true
    }
}

/// What the service's answer (`status`, `body`) says: `Ok(Some)` for a user, `Ok(None)` for
/// wrong credentials, `Err(why)` when it is not an answer of the protocol.
fn from_answer(
    config: &RESTAuthenticatorConfig,
    status: u16,
    body: &str,
) -> Result<Option<Authenticated>, String> {
    match status {
        200 => {}
        401 | 403 => return Ok(None),
        _ => return Err(format!("answered {status}: {body:.200}")),
    }
    let malformed = |what: &str| format!("answered 200 but {what}: {body:.200}");
    let answer: Value = serde_json::from_str(body).map_err(|_| malformed("not with JSON"))?;
    if !answer.is_object() {
        return Err(malformed("not with a JSON object"));
    }
    let field = |name: &str| answer.get(name).filter(|v| !v.is_null());
    let name = match field(&config.username_field) {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => {
            let field = &config.username_field;
            return Err(malformed(&format!("without a `{field}` string")));
        }
    };
    let admin = match field(&config.admin_field) {
        None => None,
        Some(Value::Bool(admin)) => Some(*admin),
        Some(_) => {
            let field = &config.admin_field;
            return Err(malformed(&format!("`{field}` is not true or false")));
        }
    };
    let groups = match field(&config.groups_field) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| {
                let field = &config.groups_field;
                malformed(&format!("`{field}` is not a list of strings"))
            })?,
        Some(_) => {
            let field = &config.groups_field;
            return Err(malformed(&format!("`{field}` is not a list of strings")));
        }
    };
    Ok(Some(Authenticated {
        name,
        admin,
        allowed: false,
        groups: config.manage_groups.then_some(groups),
        // What the service says to keep (kept only with `enable_auth_state`).
        auth_state: field("auth_state").cloned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RESTAuthenticatorConfig {
        RESTAuthenticatorConfig {
            manage_groups: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_200_answer_names_the_user_with_admin_and_groups() {
        let body = r#"{"name": "ada", "admin": true, "groups": ["physics", "ops"]}"#;
        let who = from_answer(&config(), 200, body).unwrap().unwrap();
        assert_eq!(who.name, "ada");
        assert_eq!(who.admin, Some(true));
        assert_eq!(who.groups, Some(vec!["physics".into(), "ops".into()]));
        assert!(!who.allowed, "the hub's allow rules decide");

        let who = from_answer(&config(), 200, r#"{"name": "bo", "admin": null}"#).unwrap();
        let who = who.unwrap();
        assert_eq!(who.admin, None, "no admin field leaves admin to the hub");
        assert_eq!(who.groups, Some(vec![]), "no groups field means no groups");

        let unmanaged = RESTAuthenticatorConfig::default();
        let who = from_answer(&unmanaged, 200, r#"{"name": "bo", "groups": ["x"]}"#).unwrap();
        assert_eq!(
            who.unwrap().groups,
            None,
            "groups sync only with manage_groups"
        );

        let renamed = RESTAuthenticatorConfig {
            username_field: "uid".into(),
            admin_field: "is_staff".into(),
            ..config()
        };
        let who = from_answer(&renamed, 200, r#"{"uid": "c1", "is_staff": false}"#).unwrap();
        assert_eq!(who.unwrap().admin, Some(false));
    }

    #[test]
    fn only_401_and_403_mean_wrong_credentials() {
        assert_eq!(from_answer(&config(), 401, "").unwrap(), None);
        assert_eq!(from_answer(&config(), 403, "{}").unwrap(), None);
        for status in [201, 302, 400, 404, 500, 502, 503] {
            let err = from_answer(&config(), status, "oops").unwrap_err();
            assert!(err.contains(&format!("answered {status}")), "{err}");
        }
    }

    #[test]
    fn malformed_answers_say_what_is_wrong() {
        for (body, says) in [
            ("<html>", "not with JSON"),
            ("[\"ada\"]", "not with a JSON object"),
            ("{}", "without a `name` string"),
            (r#"{"name": ""}"#, "without a `name` string"),
            (r#"{"name": 7}"#, "without a `name` string"),
            (
                r#"{"name": "a", "admin": "yes"}"#,
                "`admin` is not true or false",
            ),
            (
                r#"{"name": "a", "groups": "ops"}"#,
                "`groups` is not a list",
            ),
            (
                r#"{"name": "a", "groups": ["ops", 1]}"#,
                "`groups` is not a list",
            ),
        ] {
            let err = from_answer(&config(), 200, body).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }
}
