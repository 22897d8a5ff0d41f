//! The proxy key: a secret the hub and `ferrohub-proxy` share so the proxy can check, without
//! asking the hub, the sessions ([`crate::proxy_session`]) and route credentials
//! ([`crate::route_credential`]) the hub issues.
//!
//! The hub derives the key from its cookie secret (an HMAC of a fixed purpose string), so the
//! cookie secret itself never leaves the hub and the key is stable across hub restarts. The
//! hub hands it to a proxy it starts in [`crate::env::FERROHUB_PROXY_KEY`]; an external proxy
//! gets the output of `ferrohub proxy-key` in a file (`--proxy-key-file`) or that variable.
//! Its text form is hex.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::Path;

/// What the cookie secret is MAC'd with to derive the proxy key. Changing it changes every key.
const DERIVATION_PURPOSE: &[u8] = b"ferrohub proxy key v1";
/// The fewest bytes a key read from outside may have.
const MIN_BYTES: usize = 32;

/// The shared key. `Debug` never shows it; cloning copies 32 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyKey(Vec<u8>);

/// Why a key given to the proxy cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProxyKeyError {
    #[error("cannot read the proxy key file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} does not hold a hex-encoded proxy key of at least {MIN_BYTES} bytes (print one with `ferrohub proxy-key`)")]
    Malformed { origin: String },
}

impl fmt::Debug for ProxyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyKey({} bytes)", self.0.len())
    }
}

impl ProxyKey {
    /// The hub's key, derived from its cookie secret.
    pub fn derive(cookie_secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(cookie_secret).expect("HMAC takes any key");
        mac.update(DERIVATION_PURPOSE);
        ProxyKey(mac.finalize().into_bytes().to_vec())
    }

    /// The key from its hex text form; `origin` names where it came from, for the error.
    pub fn from_hex(text: &str, origin: &str) -> Result<Self, ProxyKeyError> {
        match hex::decode(text.trim()) {
            Ok(bytes) if bytes.len() >= MIN_BYTES => Ok(ProxyKey(bytes)),
            _ => Err(ProxyKeyError::Malformed {
                origin: origin.to_owned(),
            }),
        }
    }

    /// The key from a file holding its hex form (trailing newline allowed).
    pub fn read_file(path: &Path) -> Result<Self, ProxyKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProxyKeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_hex(&text, &path.display().to_string())
    }

    /// The hex text form, for the environment variable and `ferrohub proxy-key`.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// HMAC-SHA256 of `purpose`, a separator and `data`. The purpose keeps a MAC made for one
    /// use (a session cookie) from passing as another (a route credential).
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `signature` is the MAC of `purpose` and `data`, compared in constant time.
    pub fn verify(&self, purpose: &str, data: &[u8], signature: &[u8]) -> bool {
        let expected = self.mac(purpose, data);
        expected.len() == signature.len()
            && expected
                .iter()
                .zip(signature)
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_stable_and_differ_by_secret() {
        let a = ProxyKey::derive(&[1; 32]);
        assert_eq!(a, ProxyKey::derive(&[1; 32]));
        assert_ne!(a, ProxyKey::derive(&[2; 32]));
        assert_ne!(a.to_hex(), hex::encode([1u8; 32]), "not the secret itself");
        assert_eq!(format!("{a:?}"), "ProxyKey(32 bytes)");
    }

    #[test]
    fn hex_round_trips_and_short_keys_are_refused() {
        let a = ProxyKey::derive(b"secret");
        assert_eq!(
            ProxyKey::from_hex(&format!("{}\n", a.to_hex()), "t").unwrap(),
            a
        );
        let err = ProxyKey::from_hex("abcd", "the file k")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the file k") && err.contains("ferrohub proxy-key"),
            "{err}"
        );
        assert!(ProxyKey::from_hex("zz", "t").is_err());
    }

    #[test]
    fn macs_depend_on_purpose_data_and_key() {
        let k = ProxyKey::derive(b"s");
        let m = k.mac("a", b"x");
        assert!(k.verify("a", b"x", &m));
        assert!(!k.verify("b", b"x", &m));
        assert!(!k.verify("a", b"y", &m));
        assert!(!k.verify("a", b"x", &m[..31]));
        assert!(!ProxyKey::derive(b"t").verify("a", b"x", &m));
    }
}
