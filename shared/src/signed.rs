//! Values signed with a key so they can travel through a browser (cookies, OAuth state) and
//! come back unaltered: `value.signature`, the signature an HMAC-SHA256 of a purpose and the
//! value. The purpose keeps a value signed for one use (a session) from passing as another
//! (an OAuth login in progress).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature alone (hex), for tokens derived from a value, such as an XSRF token.
pub fn signature(key: &[u8], purpose: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `value.signature`. `value` must not contain `.` (encode it first if it may).
pub fn sign(key: &[u8], purpose: &str, value: &str) -> String {
    format!("{value}.{}", signature(key, purpose, value))
}

/// The value inside a correctly signed string for `purpose`; `None` if it was forged,
/// altered, signed with another key or for another purpose.
pub fn verify(key: &[u8], purpose: &str, signed: &str) -> Option<String> {
    let (value, given) = signed.split_once('.')?;
    let expected = signature(key, purpose, value);
    // Compare in constant time: the signature is a secret until it matches.
    constant_time_eq(&expected, given).then(|| value.to_owned())
}

/// Whether two strings are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_protect_the_value() {
        let key = b"k".repeat(32);
        let value = sign(&key, "session", "tok");
        assert_eq!(verify(&key, "session", &value).as_deref(), Some("tok"));
        assert_eq!(verify(&key, "session", "tok.0000"), None);
        assert_eq!(verify(&key, "session", &value.replace("tok", "tak")), None);
        assert_eq!(verify(&key, "session", "no-dot"), None);
        assert_eq!(verify(&key, "oauth-state", &value), None, "other purpose");
        assert_eq!(verify(b"other", "session", &value), None, "other key");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
