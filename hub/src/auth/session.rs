//! Browser sessions: a random token in a cookie signed with the cookie secret, stored in the
//! database by hash, and the XSRF token that cookie-authenticated writes must carry.
//!
//! The cookie is scoped to `{base_url}hub/`, so single-user servers (under `/user/`) never
//! see it. Ending a session (logout) revokes it everywhere: the row goes, and with it the
//! OAuth tokens that servers received through it.

use crate::cookie_secret::CookieSecret;
use crate::store::{Session, StoreError, User};
use crate::AppState;
use axum::http::HeaderMap;
use chrono::{Duration, Utc};
use ferrohub_shared::secret::{random_hex, sha256_hex};
use ferrohub_shared::signed;

/// JupyterHub's name for the hub's login cookie.
pub const COOKIE: &str = "jupyterhub-hub-login";

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: User,
    pub session: Session,
    /// The XSRF token forms and scripts of this session must send back.
    pub xsrf: String,
}

/// `value.signature` under the cookie secret (see [`signed`]): a forged or altered cookie is
/// refused without a database lookup. `value` must not contain `.`.
pub(crate) fn sign(secret: &CookieSecret, purpose: &str, value: &str) -> String {
    signed::sign(secret.bytes(), purpose, value)
}

/// The value inside a correctly signed cookie value for `purpose`.
pub(crate) fn verify(secret: &CookieSecret, purpose: &str, value: &str) -> Option<String> {
    signed::verify(secret.bytes(), purpose, value)
}

/// The XSRF token of a session: derived from it, so it needs no storage and dies with it.
pub fn xsrf_for(secret: &CookieSecret, session_token: &str) -> String {
    signed::signature(secret.bytes(), "xsrf", session_token)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The session the request's cookie names, if it is valid and unexpired.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<LoggedIn>, StoreError> {
    match cookie_value(headers, COOKIE) {
        Some(value) => from_cookie_value(state, value).await,
        None => Ok(None),
    }
}

/// The session a login cookie's value names, if it is valid and unexpired.
pub async fn from_cookie_value(
    state: &AppState,
    value: &str,
) -> Result<Option<LoggedIn>, StoreError> {
    let Some(token) = verify(&state.cookie_secret, "session", value) else {
        return Ok(None);
    };
    let Some(session) = state
        .store
        .find_session(&sha256_hex(token.as_bytes()))
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        return Ok(None);
    }
    let Some(user) = state.store.get_user(&session.user).await? else {
        return Ok(None);
    };
    Ok(Some(LoggedIn {
        user,
        session,
        xsrf: xsrf_for(&state.cookie_secret, &token),
    }))
}

/// Start a session for `user`; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user: &str) -> Result<String, StoreError> {
    let token = random_hex(32);
    let days = state.config.hub.cookie_max_age_days;
    let max_age = Duration::seconds((days * 86_400.0) as i64);
    state
        .store
        .create_session(&sha256_hex(token.as_bytes()), user, Utc::now() + max_age)
        .await?;
    Ok(set_cookie(
        state,
        &sign(&state.cookie_secret, "session", &token),
        max_age.num_seconds(),
    ))
}

/// End the request's session, if any; returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<String, StoreError> {
    if let Some(token) =
        cookie_value(headers, COOKIE).and_then(|v| verify(&state.cookie_secret, "session", v))
    {
        state
            .store
            .end_session(&sha256_hex(token.as_bytes()))
            .await?;
    }
    Ok(set_cookie(state, "", 0))
}

fn set_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.public_url().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE}={value}; Path={}hub/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        state.config.hub.base_url
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_signed_with_the_cookie_secret() {
        // The signing itself is tested in `ferrohub_shared::signed`.
        let secret = CookieSecret::for_tests(b"0123456789abcdef0123456789abcdef");
        let value = sign(&secret, "session", "tok");
        assert_eq!(verify(&secret, "session", &value).as_deref(), Some("tok"));
        let other = CookieSecret::for_tests(b"another secret of thirty-two b..");
        assert_eq!(verify(&other, "session", &value), None);
        assert_ne!(xsrf_for(&secret, "a"), xsrf_for(&secret, "b"));
    }

    #[test]
    fn reads_cookies_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            "a=1; jupyterhub-hub-login=v.s; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&headers, COOKIE), Some("v.s"));
        assert_eq!(cookie_value(&headers, "c"), None);
    }
}
