//! `auth_state`: what an authenticator knows about a user beyond the name (OAuth tokens, a
//! login service's answer), kept in the database encrypted, as JupyterHub keeps it.
//!
//! The format is JupyterHub's own: the JSON text, encrypted as a Fernet token with the first
//! key of `JUPYTERHUB_CRYPT_KEY` (`;`-separated keys, each 32 bytes written as base64 or hex).
//! Any of the keys decrypts, so keys can be rotated: a value read under an older key is
//! written back under the first one. A database and key moved from JupyterHub
//! therefore keep their users' `auth_state`, and the other way round.

use crate::store::{Store, StoreError, UpdateUserRequest};
use base64::Engine as _;
use fernet::Fernet;
use serde_json::Value;

/// The environment variable JupyterHub reads its encryption keys from.
pub const CRYPT_KEY_ENV: &str = "JUPYTERHUB_CRYPT_KEY";

/// Why `auth_state` cannot be encrypted or a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error(
        "{CRYPT_KEY_ENV} key number {position} is not a 32-byte key written as 44 characters of \
         base64 or 64 hexadecimal digits; make one with `openssl rand -hex 32`"
    )]
    BadKey { position: usize },
    #[error(
        "auth_state cannot be stored: the hub has no encryption key. Set {CRYPT_KEY_ENV} to a \
         key made with `openssl rand -hex 32` and restart the hub"
    )]
    NoKeys,
}

/// Encrypts and decrypts `auth_state` with the configured keys. Without keys it can only say
/// that nothing can be stored.
pub struct CryptKeeper {
    /// In the configured order: the first encrypts, any decrypts.
    keys: Vec<Fernet>,
}

impl std::fmt::Debug for CryptKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CryptKeeper({} keys)", self.keys.len())
    }
}

/// A decrypted `auth_state`, and whether it was sealed under a key other than the first
/// (so it should be written again).
pub struct Opened {
    pub value: Value,
    pub under_old_key: bool,
}

impl CryptKeeper {
    /// No keys: `auth_state` can be cleared but not stored.
    pub fn none() -> CryptKeeper {
        CryptKeeper { keys: Vec::new() }
    }

    /// The keys in `JUPYTERHUB_CRYPT_KEY`'s syntax: `;`-separated, blanks ignored, the first
    /// encrypts. `None` or an empty value gives no keys.
    pub fn from_env_value(value: Option<&str>) -> Result<CryptKeeper, CryptError> {
        let keys: Vec<Fernet> = value
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
            .map(|(i, k)| fernet_for(k).ok_or(CryptError::BadKey { position: i + 1 }))
            .collect::<Result<_, _>>()?;
        Ok(CryptKeeper { keys })
    }

    /// Whether values can be stored.
    pub fn available(&self) -> bool {
        !self.keys.is_empty()
    }

    /// `value` as JSON text, encrypted with the first key.
    pub fn encrypt(&self, value: &Value) -> Result<String, CryptError> {
        let first = self.keys.first().ok_or(CryptError::NoKeys)?;
        Ok(first.encrypt(value.to_string().as_bytes()))
    }

    /// The value inside `token`, trying the keys in order, or `None` when no key opens it or
    /// it does not hold JSON (JupyterHub then shows no `auth_state` and logs why).
    pub fn decrypt(&self, token: &str) -> Option<Opened> {
        let (position, plain) = self
            .keys
            .iter()
            .enumerate()
            .find_map(|(i, key)| key.decrypt(token).ok().map(|plain| (i, plain)))?;
        Some(Opened {
            value: serde_json::from_slice(&plain).ok()?,
            under_old_key: position > 0,
        })
    }
}

/// A Fernet for one key as JupyterHub accepts it: 44 characters of url-safe base64, 64 hex
/// digits, or 32 raw bytes.
fn fernet_for(key: &str) -> Option<Fernet> {
    let raw = match key.len() {
        44 => base64::engine::general_purpose::URL_SAFE
            .decode(key)
            .unwrap_or_else(|_| key.as_bytes().to_vec()),
        64 => hex::decode(key).ok()?,
        _ => key.as_bytes().to_vec(),
    };
    if raw.len() != 32 {
        return None;
    }
    Fernet::new(&base64::engine::general_purpose::URL_SAFE.encode(raw))
}

/// The user's decrypted `auth_state` (`None` when there is none or it cannot be read). A
/// value sealed under an older key is written back under the first, so rotating keys
/// re-encrypts as users are read (JupyterHub rewrites on every read with several keys; here
/// only what needs it is written).
pub async fn load(
    store: &dyn Store,
    crypt: &CryptKeeper,
    user: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(token) = store.get_auth_state(user).await? else {
        return Ok(None);
    };
    let Some(Opened {
        value,
        under_old_key,
    }) = crypt.decrypt(&token)
    else {
        tracing::warn!(
            %user,
            "auth_state could not be decrypted with the keys in {CRYPT_KEY_ENV} (was it \
             written under another key?); it reads as null until it is stored again"
        );
        return Ok(None);
    };
    if under_old_key {
        if let Ok(fresh) = crypt.encrypt(&value) {
            store
                .update_user(user, &UpdateUserRequest::auth_state(Some(fresh)))
                .await?;
        }
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    // The same 32 bytes in url-safe base64.
    const B64_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn round_trips_and_any_key_decrypts() {
        let old = CryptKeeper::from_env_value(Some(HEX_KEY)).unwrap();
        let token = old
            .encrypt(&json!({"access_token": "x", "n": [1, 2]}))
            .unwrap();
        assert_ne!(token, "", "a token");
        assert!(
            !token.contains("access_token"),
            "the plain text does not show"
        );
        let other = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
        let rotated = CryptKeeper::from_env_value(Some(&format!("{other}; {B64_KEY}"))).unwrap();
        assert_eq!(
            rotated.decrypt(&token).map(|o| (o.value, o.under_old_key)),
            Some((json!({"access_token": "x", "n": [1, 2]}), true)),
            "the second key (the same bytes in base64) opens what the hex key sealed"
        );
        let stranger = CryptKeeper::from_env_value(Some(other)).unwrap();
        assert!(
            stranger.decrypt(&token).is_none(),
            "a wrong key reads nothing"
        );
        assert!(old.decrypt("not a token").is_none());
    }

    #[test]
    fn opens_the_fernet_specification_vector() {
        // The token and key published with the Fernet specification (what Python's
        // `cryptography`, and so JupyterHub, produce): the message is `hello`, not JSON.
        let spec =
            CryptKeeper::from_env_value(Some("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="))
                .unwrap();
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
        assert_eq!(spec.keys[0].decrypt(token).unwrap(), b"hello");
        assert!(spec.decrypt(token).is_none(), "not JSON, so no auth_state");
    }

    #[test]
    fn refuses_keys_of_the_wrong_size_and_names_which() {
        let err = CryptKeeper::from_env_value(Some(&format!("{HEX_KEY};tooshort"))).unwrap_err();
        assert!(matches!(err, CryptError::BadKey { position: 2 }), "{err}");
        assert!(err.to_string().contains("openssl rand -hex 32"));
        let none = CryptKeeper::from_env_value(Some(" ; ")).unwrap();
        assert!(!none.available());
        assert!(matches!(none.encrypt(&json!({})), Err(CryptError::NoKeys)));
        let raw = CryptKeeper::from_env_value(Some("0123456789abcdef0123456789abcdef")).unwrap();
        assert!(
            raw.available(),
            "32 raw characters are a key, as in JupyterHub"
        );
    }
}
