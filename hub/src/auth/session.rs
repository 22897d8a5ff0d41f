//! Browser sessions: a random token in a cookie signed with the cookie secret, stored in the
//! database by hash, and the XSRF token that cookie-authenticated writes must carry.
//!
//! The cookie is scoped to `{base_url}hub/`, so single-user servers (under `/user/`) never
//! see it. Ending a session (logout) revokes it everywhere: the row goes, and with it the
//! OAuth tokens that servers received through it.
//!
//! Each session comes with a second cookie for the proxy
//! ([`ferrohub_shared::proxy_session`]), scoped to `{base_url}` and signed with the proxy key,
//! which `ferrohub-proxy` checks on private routes by itself. It names the user, their groups
//! at login and a session id derived from the session's token (stored with the session); it
//! ends when the session does: ending a session (logout, `ferrohub lock`, deleting the user)
//! queues that id in the same transaction, and the hub tells the proxy to refuse it from then
//! on, at once if the proxy answers and later if not (`proxy::revocations`).

use crate::cookie_secret::CookieSecret;
use crate::proxy::revocations;
use crate::store::{Session, StoreError, User};
use crate::AppState;
use axum::http::HeaderMap;
use chrono::{Duration, Utc};
use ferrohub_shared::proxy_session::{self, ProxySession};
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
    /// The id the proxy knows this session by (see [`proxy_session::session_id`]).
    pub proxy_session_id: String,
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
    let values = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    ferrohub_shared::cookies::cookie_value(values, name)
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
        proxy_session_id: proxy_session::session_id(&state.proxy_key, &token),
    }))
}

/// Start a session for `user`; returns the `Set-Cookie` values to send: the hub's login
/// cookie first, then the proxy session cookie.
pub async fn start(state: &AppState, user: &str) -> Result<Vec<String>, StoreError> {
    let token = random_hex(32);
    let days = state.config.hub.cookie_max_age_days;
    let max_age = Duration::seconds((days * 86_400.0) as i64);
    let expires_at = Utc::now() + max_age;
    let sid = proxy_session::session_id(&state.proxy_key, &token);
    state
        .store
        .create_session(&sha256_hex(token.as_bytes()), user, &sid, expires_at)
        .await?;
    let hub = set_cookie(
        state,
        COOKIE,
        "hub/",
        &sign(&state.cookie_secret, "session", &token),
        max_age.num_seconds(),
    );
    let groups = match state.store.get_user(user).await? {
        Some(u) => u.groups,
        None => Vec::new(),
    };
    let proxy = ProxySession {
        user: user.to_owned(),
        groups,
        sid,
        exp: expires_at.timestamp(),
    };
    Ok(vec![hub, proxy_cookie(state, &proxy)])
}

/// The proxy session cookie for a session that is already open, for a browser that lost
/// it (or logged in before it existed): the login page sets it again before sending a
/// logged-in browser on, so a private route does not bounce it back and forth.
pub fn proxy_cookie_for(state: &AppState, logged_in: &LoggedIn) -> String {
    let proxy = ProxySession {
        user: logged_in.user.name.clone(),
        groups: logged_in.user.groups.clone(),
        sid: logged_in.proxy_session_id.clone(),
        exp: logged_in.session.expires_at.timestamp(),
    };
    proxy_cookie(state, &proxy)
}

fn proxy_cookie(state: &AppState, session: &ProxySession) -> String {
    let max_age = (session.exp - Utc::now().timestamp()).max(0);
    set_cookie(
        state,
        proxy_session::COOKIE,
        "",
        &session.encode(&state.proxy_key),
        max_age,
    )
}

/// End the request's session, if any, with its proxy session queued for revocation, and
/// deliver the revocation to the proxy now if it answers (else it stays queued for the next
/// proxy check); returns the `Set-Cookie` values that clear both cookies.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<Vec<String>, StoreError> {
    if let Some(token) =
        cookie_value(headers, COOKIE).and_then(|v| verify(&state.cookie_secret, "session", v))
    {
        let sid = proxy_session::session_id(&state.proxy_key, &token);
        state
            .store
            .end_session(&sha256_hex(token.as_bytes()), &sid)
            .await?;
        if let Some(proxy) = &state.proxy {
            revocations::deliver_now(state.store.as_ref(), proxy).await;
        }
    }
    Ok(vec![
        set_cookie(state, COOKIE, "hub/", "", 0),
        set_cookie(state, proxy_session::COOKIE, "", "", 0),
    ])
}

/// A `Set-Cookie` value for `name` under `{base_url}{path}`.
fn set_cookie(state: &AppState, name: &str, path: &str, value: &str, max_age: i64) -> String {
    let secure = if state.config.public_url().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path={}{path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
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
