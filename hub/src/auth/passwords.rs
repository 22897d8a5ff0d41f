//! Passwords: argon2id hashing (off the async threads: it is deliberately slow) and the
//! configurable password policy.

use crate::config::NativeAuthenticatorConfig;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// The PHC string of `password` (argon2id, default parameters, random salt).
pub async fn hash(password: &str) -> String {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashes any password with default parameters")
            .to_string()
    })
    .await
    .expect("hashing does not panic")
}

/// Whether `password` matches the stored PHC string (a malformed one matches nothing).
pub async fn verify(stored: &str, password: &str) -> bool {
    let (stored, password) = (stored.to_owned(), password.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Check a new password against `[NativeAuthenticator]`'s policy; the error says what is
/// missing, for the set-password page.
pub fn check_policy(config: &NativeAuthenticatorConfig, password: &str) -> Result<(), String> {
    let min = config.minimum_password_length as usize;
    if password.chars().count() < min {
        return Err(format!(
            "The password must be at least {min} characters long."
        ));
    }
    if config.require_mixed_password {
        type Check = (&'static str, fn(char) -> bool);
        let checks: [Check; 4] = [
            ("an upper-case letter", char::is_uppercase),
            ("a lower-case letter", char::is_lowercase),
            ("a digit", |c| c.is_ascii_digit()),
            ("a symbol", |c| !c.is_alphanumeric() && !c.is_whitespace()),
        ];
        let missing: Vec<&str> = checks
            .iter()
            .filter(|(_, test)| !password.chars().any(test))
            .map(|(what, _)| *what)
            .collect();
        if !missing.is_empty() {
            return Err(format!("The password needs {}.", missing.join(", ")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash("Secret-1pass").await;
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(&a, "Secret-1pass").await);
        assert!(!verify(&a, "Secret-1pasS").await);
        assert!(!verify("not a hash", "x").await);
        assert_ne!(a, hash("Secret-1pass").await, "salted");
    }

    #[test]
    fn the_default_policy_asks_for_mixed_characters() {
        let config = NativeAuthenticatorConfig::default();
        assert!(check_policy(&config, "Aa1!aaaa").is_ok());
        assert!(check_policy(&config, "Aa1!")
            .unwrap_err()
            .contains("at least 8"));
        let err = check_policy(&config, "abcdefgh").unwrap_err();
        assert!(
            err.contains("upper-case") && err.contains("digit") && err.contains("symbol"),
            "{err}"
        );
    }
}
