//! `auth_state`: what an authenticator knows about a user beyond the name (OAuth tokens, a
//! login service's answer), kept in the database encrypted, as JupyterHub keeps it.
//!
//! The format is JupyterHub's own: the JSON text, encrypted as a Fernet token with the first
//! key of `JUPYTERHUB_CRYPT_KEY` (`;`-separated keys, each 32 bytes written as base64 or hex).
//! Any of the keys decrypts, so keys can be rotated: a value read with more than one key
//! configured is written back under the first one. A database and key moved from JupyterHub
//! therefore keep their users' `auth_state`, and the other way round.

use crate::store::{Store, StoreError, UpdateUserRequest};
use base64::Engine as _;
use fernet::{Fernet, MultiFernet};
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
    fernet: Option<MultiFernet>,
    keys: usize,
}

impl std::fmt::Debug for CryptKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CryptKeeper({} keys)", self.keys)
    }
}

impl CryptKeeper {
    /// No keys: `auth_state` can be cleared but not stored.
    pub fn none() -> CryptKeeper {
        CryptKeeper {
            fernet: None,
            keys: 0,
        }
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
        let count = keys.len();
        Ok(CryptKeeper {
            fernet: (count > 0).then(|| MultiFernet::new(keys)),
            keys: count,
        })
    }

    /// Whether values can be stored.
    pub fn available(&self) -> bool {
        self.fernet.is_some()
    }

    /// `value` as JSON text, encrypted with the first key.
    pub fn encrypt(&self, value: &Value) -> Result<String, CryptError> {
        let fernet = self.fernet.as_ref().ok_or(CryptError::NoKeys)?;
        Ok(fernet.encrypt(value.to_string().as_bytes()))
    }

    /// The value inside `token`, or `None` when no key opens it or it does not hold JSON
    /// (JupyterHub then shows no `auth_state` and logs why).
    pub fn decrypt(&self, token: &str) -> Option<Value> {
        let plain = self.fernet.as_ref()?.decrypt(token).ok()?;
        serde_json::from_slice(&plain).ok()
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

/// The user's decrypted `auth_state` (`None` when there is none or it cannot be read). With
/// several keys configured, a value that decrypts is written back under the first key, so
/// rotating keys re-encrypts as users are read.
pub async fn load(
    store: &dyn Store,
    crypt: &CryptKeeper,
    user: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(token) = store.get_auth_state(user).await? else {
        return Ok(None);
    };
    let Some(value) = crypt.decrypt(&token) else {
        tracing::warn!(
            %user,
            "auth_state could not be decrypted with the keys in {CRYPT_KEY_ENV} (was it \
             written under another key?); it reads as null until it is stored again"
        );
        return Ok(None);
    };
    if crypt.keys > 1 {
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
            rotated.decrypt(&token),
            Some(json!({"access_token": "x", "n": [1, 2]})),
            "the second key (the same bytes in base64) opens what the hex key sealed"
        );
        let stranger = CryptKeeper::from_env_value(Some(other)).unwrap();
        assert_eq!(stranger.decrypt(&token), None, "a wrong key reads nothing");
        assert_eq!(old.decrypt("not a token"), None);
    }

    #[test]
    fn opens_the_fernet_specification_vector() {
        // The token and key published with the Fernet specification (what Python's
        // `cryptography`, and so JupyterHub, produce): the message is `hello`, not JSON.
        let spec =
            CryptKeeper::from_env_value(Some("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="))
                .unwrap();
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
        let fernet = spec.fernet.as_ref().unwrap();
        assert_eq!(fernet.decrypt(token).unwrap(), b"hello");
        assert_eq!(spec.decrypt(token), None, "not JSON, so no auth_state");
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
