//! The proxy session: a cookie the hub sets at login that `ferrohub-proxy` checks on its own,
//! with no round trip to the hub, before serving a private route.
//!
//! # Format
//! `ferrohub-proxy-session=<payload>.<signature>`, both base64url without padding (cookie-safe):
//! - `payload` is JSON `{"user": "alice", "groups": ["lab"], "sid": "...", "exp": 1767225600}`:
//!   who logged in, their groups at login, the session id, and when it ends (Unix seconds,
//!   the same moment as the hub session it came with).
//! - `signature` is HMAC-SHA256 under the [`ProxyKey`] of the purpose `proxy-session` and the
//!   encoded payload.
//!
//! The payload is readable by its holder (it says nothing secret); it cannot be altered.
//! `sid` is derived from the hub session's own token ([`session_id`]), so the hub can name
//! the session again at logout, when it tells the proxy to refuse it until `exp`.

use crate::proxy_key::ProxyKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The cookie's name. The hub sets it with path `{base_url}` so the proxy sees it on every
/// route; the proxy never forwards it to a target.
pub const COOKIE: &str = "ferrohub-proxy-session";
const PURPOSE: &str = "proxy-session";

/// Who holds a proxy session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySession {
    pub user: String,
    pub groups: Vec<String>,
    /// The session id, for revocation (see [`session_id`]).
    pub sid: String,
    /// When the session ends, in Unix seconds.
    pub exp: i64,
}

/// Why a cookie value is not a usable session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session cookie is malformed")]
    Malformed,
    #[error("the session cookie's signature is wrong (forged, altered or from another key)")]
    BadSignature,
    #[error("the session has expired")]
    Expired,
}

impl ProxySession {
    /// The cookie value.
    pub fn encode(&self, key: &ProxyKey) -> String {
        let json = serde_json::to_vec(self).expect("a session serialises");
        let payload = URL_SAFE_NO_PAD.encode(json);
        let signature = URL_SAFE_NO_PAD.encode(key.mac(PURPOSE, payload.as_bytes()));
        format!("{payload}.{signature}")
    }

    /// The session in a cookie value, if it is signed with `key` and not expired at `now`
    /// (Unix seconds). The signature is checked before the payload is parsed.
    pub fn decode(key: &ProxyKey, value: &str, now: i64) -> Result<Self, SessionError> {
        let (payload, signature) = value.split_once('.').ok_or(SessionError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SessionError::Malformed)?;
        if !key.verify(PURPOSE, payload.as_bytes(), &signature) {
            return Err(SessionError::BadSignature);
        }
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| SessionError::Malformed)?;
        let session: ProxySession =
            serde_json::from_slice(&json).map_err(|_| SessionError::Malformed)?;
        if session.exp <= now {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }
}

/// The session id of the hub session whose secret token is `token`: stable for that session,
/// unguessable without the key, and unrelated to database ids (which can be reused).
pub fn session_id(key: &ProxyKey, token: &str) -> String {
    hex::encode(&key.mac("proxy-session-id", token.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice(exp: i64) -> ProxySession {
        ProxySession {
            user: "alice".into(),
            groups: vec!["lab".into()],
            sid: "s1".into(),
            exp,
        }
    }

    #[test]
    fn a_session_round_trips() {
        let key = ProxyKey::derive(b"k");
        let value = alice(100).encode(&key);
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(ProxySession::decode(&key, &value, 99), Ok(alice(100)));
    }

    #[test]
    fn tampered_expired_and_foreign_sessions_are_refused() {
        let key = ProxyKey::derive(b"k");
        let value = alice(100).encode(&key);
        let (payload, signature) = value.split_once('.').unwrap();
        // Another user's payload under alice's signature.
        let mallory = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&ProxySession {
                user: "mallory".into(),
                ..alice(100)
            })
            .unwrap(),
        );
        let check = |v: &str| ProxySession::decode(&key, v, 50);
        assert_eq!(
            check(&format!("{mallory}.{signature}")),
            Err(SessionError::BadSignature)
        );
        let mut flipped = signature.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            check(&format!("{payload}.{flipped}")),
            Err(SessionError::BadSignature)
        );
        assert_eq!(check(payload), Err(SessionError::Malformed));
        assert_eq!(
            check(&format!("{payload}.!!")),
            Err(SessionError::Malformed)
        );
        assert_eq!(
            ProxySession::decode(&key, &value, 100),
            Err(SessionError::Expired)
        );
        let other = ProxyKey::derive(b"other");
        assert_eq!(
            ProxySession::decode(&other, &value, 50),
            Err(SessionError::BadSignature)
        );
        // A signed payload that is not a session (e.g. a route credential's) is malformed.
        let junk = URL_SAFE_NO_PAD.encode(b"[1]");
        let sig = URL_SAFE_NO_PAD.encode(key.mac(PURPOSE, junk.as_bytes()));
        assert_eq!(
            check(&format!("{junk}.{sig}")),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn session_ids_are_per_token_and_key() {
        let k = ProxyKey::derive(b"k");
        assert_eq!(session_id(&k, "t"), session_id(&k, "t"));
        assert_ne!(session_id(&k, "t"), session_id(&k, "u"));
        assert_ne!(
            session_id(&k, "t"),
            session_id(&ProxyKey::derive(b"j"), "t")
        );
        assert_eq!(session_id(&k, "t").len(), 32);
    }
}
