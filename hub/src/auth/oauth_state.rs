//! An OAuth login in progress: the `state` sent to the provider, where to go afterwards and
//! the PKCE verifier, kept in a short-lived cookie signed with the cookie secret.
//!
//! The callback is accepted only from the browser that started the login: the provider
//! hands back `state`, and it must equal the one in this browser's cookie (RFC 6749 §10.12).
//! The cookie needs no server-side storage, so it survives a hub restart mid-login; it is
//! signed, not encrypted: the PKCE verifier in it is only useful together with the code,
//! which only the provider's redirect to this browser carries.

use super::session::{self, cookie_value};
use crate::cookie_secret::CookieSecret;
use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ferrohub_shared::signed::constant_time_eq;
use serde::{Deserialize, Serialize};

/// The cookie's name, scoped to `{base_url}hub/` like the login cookie.
pub const COOKIE: &str = "ferrohub-oauth-state";

/// How long a user may spend at the provider before the login must start again.
pub const LIFETIME_SECS: i64 = 600;

/// What the hub remembers between sending a browser to the provider and its return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The random `state` parameter given to the provider.
    pub state: String,
    /// Where to go after login (already checked by `safe_next`, and checked again at the end).
    pub next: String,
    /// The PKCE code verifier, when PKCE is on.
    pub pkce_verifier: Option<String>,
    /// Unix time after which the callback is refused.
    pub expires: i64,
}

/// Why a callback's `state` is refused. Each reads the same to the user ("start again"); the
/// log says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("no OAuth state cookie (the login did not start in this browser, or cookies are off)")]
    Missing,
    #[error("the OAuth state cookie is not signed by this hub")]
    Forged,
    #[error("the OAuth state cookie has expired")]
    Expired,
    #[error("the returned state does not match this browser's login")]
    Mismatch,
}

const PURPOSE: &str = "oauth-state";

impl PendingLogin {
    /// A new login going to `next`, with a fresh random `state`, valid from `now`.
    pub fn new(next: &str, pkce_verifier: Option<String>, now: DateTime<Utc>) -> PendingLogin {
        PendingLogin {
            state: ferrohub_shared::secret::random_hex(16),
            next: next.to_owned(),
            pkce_verifier,
            expires: now.timestamp() + LIFETIME_SECS,
        }
    }

    /// The signed cookie value: base64url(JSON) `.` signature.
    pub fn seal(&self, secret: &CookieSecret) -> String {
        let json = serde_json::to_vec(self).expect("plain fields serialise");
        session::sign(secret, PURPOSE, &URL_SAFE_NO_PAD.encode(json))
    }

    /// The login in `headers`' state cookie, if it is this hub's, unexpired at `now`, and
    /// started with `returned_state` (the provider's `state` parameter).
    pub fn open(
        secret: &CookieSecret,
        headers: &HeaderMap,
        returned_state: &str,
        now: DateTime<Utc>,
    ) -> Result<PendingLogin, StateError> {
        let value = cookie_value(headers, COOKIE).ok_or(StateError::Missing)?;
        let payload = session::verify(secret, PURPOSE, value).ok_or(StateError::Forged)?;
        let pending: PendingLogin = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            // Signed by this hub but unreadable: an older format, never an attacker's.
            .ok_or(StateError::Forged)?;
        if now.timestamp() > pending.expires {
            return Err(StateError::Expired);
        }
        if pending.state.is_empty() || !constant_time_eq(&pending.state, returned_state) {
            return Err(StateError::Mismatch);
        }
        Ok(pending)
    }
}

/// The `Set-Cookie` that stores `sealed` for the callback (`Max-Age` 0 with an empty value
/// clears it). `SameSite=Lax`: the provider's redirect back is a top-level GET, which carries
/// Lax cookies.
pub fn set_cookie(base_url: &str, secure: bool, sealed: &str) -> String {
    let max_age = if sealed.is_empty() { 0 } else { LIFETIME_SECS };
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={sealed}; Path={base_url}hub/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn secret() -> CookieSecret {
        CookieSecret::for_tests(b"0123456789abcdef0123456789abcdef")
    }

    fn headers_with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let cookie = format!("other=1; {COOKIE}={value}");
        headers.insert("cookie", cookie.parse().unwrap());
        headers
    }

    #[test]
    fn the_browser_that_started_the_login_finishes_it() {
        let now = Utc::now();
        let pending = PendingLogin::new("/hub/spawn", Some("verifier".into()), now);
        assert_eq!(pending.state.len(), 32);
        assert_ne!(pending.state, PendingLogin::new("/", None, now).state);
        let headers = headers_with(&pending.seal(&secret()));
        let opened = PendingLogin::open(&secret(), &headers, &pending.state, now).unwrap();
        assert_eq!(opened, pending);
        let later = now + Duration::seconds(LIFETIME_SECS - 1);
        assert!(PendingLogin::open(&secret(), &headers, &pending.state, later).is_ok());
    }

    #[test]
    fn other_states_cookies_and_times_are_refused() {
        let now = Utc::now();
        let pending = PendingLogin::new("/hub/home", None, now);
        let sealed = pending.seal(&secret());
        let headers = headers_with(&sealed);
        let open = |headers: &HeaderMap, state: &str, at| {
            PendingLogin::open(&secret(), headers, state, at).unwrap_err()
        };
        assert_eq!(open(&headers, "forged-state", now), StateError::Mismatch);
        assert_eq!(open(&headers, "", now), StateError::Mismatch);
        let expired = now + Duration::seconds(LIFETIME_SECS + 1);
        assert_eq!(open(&headers, &pending.state, expired), StateError::Expired);
        assert_eq!(
            open(&HeaderMap::new(), &pending.state, now),
            StateError::Missing
        );

        // A cookie rewritten by the client (another next, a longer life) loses its signature.
        let (payload, signature) = sealed.split_once('.').unwrap();
        let mut altered = pending.clone();
        altered.next = "//evil.example".into();
        altered.expires += 86_400;
        let json = serde_json::to_vec(&altered).unwrap();
        let rewritten = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(json));
        assert_ne!(payload, rewritten.split_once('.').unwrap().0);
        let headers = headers_with(&rewritten);
        assert_eq!(open(&headers, &pending.state, now), StateError::Forged);

        // A session cookie's signature is no good as a state cookie.
        let session = session::sign(&secret(), "session", payload);
        assert_eq!(
            open(&headers_with(&session), &pending.state, now),
            StateError::Forged
        );
        let other = CookieSecret::for_tests(b"another secret of thirty-two b..");
        let err = PendingLogin::open(&other, &headers_with(&sealed), &pending.state, now);
        assert_eq!(err.unwrap_err(), StateError::Forged);
    }

    #[test]
    fn cookie_is_scoped_short_lived_and_clearable() {
        let set = set_cookie("/base/", false, "v.s");
        assert!(set.starts_with("ferrohub-oauth-state=v.s; Path=/base/hub/; Max-Age=600"));
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        assert!(!set.contains("Secure"));
        let clear = set_cookie("/", true, "");
        assert!(clear.contains("Max-Age=0") && clear.ends_with("; Secure"));
    }
}
