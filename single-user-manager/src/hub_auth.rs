//! Who is asking, answered by the hub: browsers log in through the hub's OAuth provider (as
//! jupyterhub-singleuser's `HubOAuth` does) and keep the token they got in a cookie signed
//! by this process; API clients send a hub token. Either way the hub says whose token it is
//! and which scopes it holds, and holding one of this server's access scopes lets one in.

use crate::config::ManagerConfig;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ferrohub_shared::scopes::{Owner, Scope, ScopeSet};
use ferrohub_shared::secret::random_hex;
use ferrohub_shared::signed;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the hub's answer about a token is trusted before asking again. A token revoked
/// at the hub (logout) stops working here within this time.
const IDENTITY_CACHE: Duration = Duration::from_secs(60);
/// Answers kept at most; past this the cache is cleared rather than grown.
const CACHE_ENTRIES: usize = 1024;
/// How long a browser may take between leaving for the hub's login and coming back.
const LOGIN_STATE_MAX_AGE: i64 = 600;

/// A user (or service) as the hub describes the owner of a token (`GET /hub/api/user`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    /// The token's scopes, expanded by the hub.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Talking to the hub failed (not: the hub said no).
#[derive(Debug, thiserror::Error)]
#[error("the hub at {url} did not answer as expected: {why}")]
pub struct HubUnavailable {
    url: String,
    why: String,
}

/// Why a browser's return from the hub's login was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "This login did not start here, or took too long. Open the server's address again \
         to log in."
    )]
    BadState,
    #[error("The hub refused the login code: {0}")]
    Refused(String),
    #[error(transparent)]
    Hub(#[from] HubUnavailable),
}

/// The hub's answer about a token (keyed by its hash) and when it was given.
type Verdict = (Instant, Option<Identity>);

/// What the browser carries while it is at the hub's login.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    next: String,
    /// Unix seconds when the login started.
    at: i64,
}

/// The hub's verdict on tokens, cached, and the cookies of this server's browser sessions.
/// Cloning is shallow.
#[derive(Clone)]
pub struct HubAuth {
    config: Arc<ManagerConfig>,
    http: reqwest::Client,
    /// Signs this process' cookies. Random per process: a restarted manager sends browsers
    /// through the hub's login again, which is quick while their hub session lasts.
    key: Arc<[u8]>,
    cache: Arc<Mutex<HashMap<String, Verdict>>>,
}

impl HubAuth {
    pub fn new(config: Arc<ManagerConfig>, http: reqwest::Client) -> HubAuth {
        HubAuth {
            config,
            http,
            key: random_hex(32).into_bytes().into(),
            cache: Arc::default(),
        }
    }

    /// The session cookie's name: the OAuth client id, unique per server as JupyterHub's.
    pub fn cookie_name(&self) -> &str {
        &self.config.client_id
    }

    fn state_cookie_name(&self) -> String {
        format!("{}-oauth-state", self.config.client_id)
    }

    /// Whether `identity` may use this server: its scopes grant one of the access scopes the
    /// hub gave this server (`access:servers!server=alice/`, `access:servers!user=alice`),
    /// directly or through a wider scope such as an admin's unfiltered `access:servers`.
    pub fn may_access(&self, identity: &Identity) -> bool {
        let held: Vec<Scope> = identity
            .scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .collect();
        let held = ScopeSet::expand(&held, &Owner::User(identity.name.clone()));
        self.config
            .access_scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .any(|access| held.holds(&access, &[]))
    }

    /// The hub's identity for `token`: `None` when the hub does not know it (revoked, expired,
    /// made up). Answers are cached for [`IDENTITY_CACHE`].
    pub async fn identify(&self, token: &str) -> Result<Option<Identity>, HubUnavailable> {
        let key = ferrohub_shared::secret::sha256_hex(token.as_bytes());
        if let Some((at, known)) = self.cached(&key) {
            if at.elapsed() < IDENTITY_CACHE {
                return Ok(known);
            }
        }
        let url = format!("{}/user", self.config.api_url);
        let unavailable = |why: String| HubUnavailable {
            url: url.clone(),
            why,
        };
        let response = self
            .http
            .get(&url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let known = match response.status().as_u16() {
            200 => Some(
                response
                    .json::<Identity>()
                    .await
                    .map_err(|e| unavailable(format!("unreadable identity: {e}")))?,
            ),
            401 | 403 | 404 => None,
            other => return Err(unavailable(format!("status {other}"))),
        };
        let mut cache = self.cache.lock().expect("never poisoned");
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), known.clone()));
        Ok(known)
    }

    fn cached(&self, key: &str) -> Option<Verdict> {
        self.cache.lock().expect("never poisoned").get(key).cloned()
    }

    /// Send a browser to the hub's login: the `Location` to redirect to and the cookie that
    /// remembers where it was going. `next` must be a path under this server's prefix.
    pub fn start_login(&self, next: &str) -> (String, String) {
        let next = if next.starts_with(&self.config.prefix) {
            next.to_owned()
        } else {
            self.config.prefix.clone()
        };
        let pending = PendingLogin {
            state: random_hex(16),
            next,
            at: chrono::Utc::now().timestamp(),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&pending).expect("plain data"));
        let cookie = self.cookie(
            &self.state_cookie_name(),
            &signed::sign(&self.key, "oauth-state", &payload),
            LOGIN_STATE_MAX_AGE,
        );
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.callback_url)
            .append_pair("response_type", "code")
            .append_pair("state", &pending.state)
            .finish();
        (format!("{}?{query}", self.config.authorize_url()), cookie)
    }

    /// The browser is back from the hub with `code` and `state`: check the state against
    /// the cookie set by [`HubAuth::start_login`], trade the code for a token, and return
    /// the token and the path to go on to.
    pub async fn finish_login(
        &self,
        code: &str,
        state: &str,
        cookies: &str,
    ) -> Result<(String, String), LoginError> {
        let pending = cookie_in(cookies, &self.state_cookie_name())
            .and_then(|v| signed::verify(&self.key, "oauth-state", v))
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|json| serde_json::from_slice::<PendingLogin>(&json).ok())
            .ok_or(LoginError::BadState)?;
        let fresh = chrono::Utc::now().timestamp() - pending.at < LOGIN_STATE_MAX_AGE;
        if !fresh || !signed::constant_time_eq(&pending.state, state) {
            return Err(LoginError::BadState);
        }
        let url = format!("{}/oauth2/token", self.config.api_url);
        let response = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", &self.config.client_id),
                ("client_secret", self.config.api_token.expose()),
                ("redirect_uri", &self.config.callback_url),
            ])
            .send()
            .await
            .map_err(|e| HubUnavailable {
                url: url.clone(),
                why: e.to_string(),
            })?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        match body.get("access_token").and_then(|t| t.as_str()) {
            Some(token) if status.is_success() => Ok((token.to_owned(), pending.next)),
            _ => Err(LoginError::Refused(
                body.get("error_description")
                    .or_else(|| body.get("message"))
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("status {status}")),
            )),
        }
    }

    /// `Set-Cookie` values that log a browser in with `token` and drop the login state.
    pub fn login_cookies(&self, token: &str) -> [String; 2] {
        let value = signed::sign(&self.key, "token", &URL_SAFE_NO_PAD.encode(token));
        [
            self.cookie(self.cookie_name(), &value, 0),
            self.cookie(&self.state_cookie_name(), "", -1),
        ]
    }

    /// The `Set-Cookie` value that logs a browser out of this server.
    pub fn logout_cookie(&self) -> String {
        self.cookie(self.cookie_name(), "", -1)
    }

    /// The hub token a browser's session cookie holds, if it is one this process signed.
    pub fn token_from_cookies(&self, cookies: &str) -> Option<String> {
        let payload = signed::verify(&self.key, "token", cookie_in(cookies, self.cookie_name())?)?;
        String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    /// A cookie for this server's prefix only, so no other server sees it. `max_age` 0 makes
    /// a browser-session cookie; negative deletes it.
    fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        let mut cookie = format!(
            "{name}={value}; Path={}; HttpOnly; SameSite=Lax",
            self.config.prefix
        );
        if max_age != 0 {
            cookie.push_str(&format!("; Max-Age={}", max_age.max(0)));
        }
        cookie
    }
}

/// A cookie's value in a `Cookie` header.
fn cookie_in<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    ferrohub_shared::cookies::cookie_value([cookies], name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::contract;

    fn auth() -> HubAuth {
        let env = contract();
        let config = ManagerConfig::from_env(|k| env.get(k).cloned()).unwrap();
        HubAuth::new(Arc::new(config), reqwest::Client::new())
    }

    fn value_of(set_cookie: &str) -> &str {
        let pair = set_cookie.split(';').next().unwrap();
        pair.split_once('=').unwrap().1
    }

    #[test]
    fn the_session_cookie_round_trips_and_resists_tampering() {
        let auth = auth();
        let [session, _] = auth.login_cookies("hub-token-1");
        assert!(session.contains("Path=/user/alice/; HttpOnly; SameSite=Lax"));
        let header = format!("other=1; jupyterhub-user-alice={}", value_of(&session));
        assert_eq!(
            auth.token_from_cookies(&header).as_deref(),
            Some("hub-token-1")
        );
        let forged = header.replace(value_of(&session), "aHViLXRva2VuLTI.00");
        assert_eq!(auth.token_from_cookies(&forged), None);
        // Another manager process (another key) does not accept this one's cookie.
        assert_eq!(super::tests::auth().token_from_cookies(&header), None);
    }

    #[test]
    fn logins_go_to_the_hub_and_only_come_back_inside_the_server() {
        let auth = auth();
        let (location, cookie) = auth.start_login("/hub/admin");
        assert!(location.starts_with("/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice"));
        assert!(location.contains("redirect_uri=%2Fuser%2Falice%2Foauth_callback"));
        let pending = signed::verify(&auth.key, "oauth-state", value_of(&cookie)).unwrap();
        let pending: PendingLogin =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(pending).unwrap()).unwrap();
        assert_eq!(
            pending.next, "/user/alice/",
            "a path outside the server is dropped"
        );
        assert!(location.contains(&format!("state={}", pending.state)));
    }

    #[tokio::test]
    async fn a_callback_without_the_matching_state_is_refused_before_asking_the_hub() {
        let auth = auth();
        let (_, cookie) = auth.start_login("/user/alice/");
        let cookies = format!("jupyterhub-user-alice-oauth-state={}", value_of(&cookie));
        for (state, cookies) in [("wrong", cookies.as_str()), ("x", "")] {
            let err = auth.finish_login("code", state, cookies).await.unwrap_err();
            assert!(matches!(err, LoginError::BadState), "{err}");
        }
    }

    #[test]
    fn access_needs_one_of_the_servers_access_scopes() {
        let auth = auth();
        let mut who = Identity {
            name: "bob".into(),
            kind: Some("user".into()),
            admin: false,
            groups: vec![],
            scopes: vec!["access:servers!user=bob".into()],
        };
        assert!(!auth.may_access(&who));
        who.scopes.push("access:servers!server=alice/other".into());
        assert!(!auth.may_access(&who), "another of alice's servers");
        who.scopes.push("access:servers!server=alice/".into());
        assert!(auth.may_access(&who));
        who.scopes = vec!["access:servers".into()];
        assert!(auth.may_access(&who), "unfiltered, as an admin's");
    }
}
