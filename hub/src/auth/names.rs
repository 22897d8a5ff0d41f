//! What counts as a user or group name, as JupyterHub's authenticator decides it: names are
//! normalised (trimmed, lower-cased) and must be non-empty, without `/`, control characters
//! or surrounding spaces, and match `Authenticator.username_pattern` when one is set.

use regex::Regex;

/// The longest name accepted; longer names break URLs and container names.
pub const MAX_NAME_LEN: usize = 255;

/// The rules for user names, compiled once from the configuration.
#[derive(Debug, Clone)]
pub struct NameRules {
    pattern: Option<Regex>,
}

impl NameRules {
    /// `pattern` is `Authenticator.username_pattern` (empty for none). It must match the
    /// whole name.
    pub fn new(pattern: &str) -> Result<NameRules, regex::Error> {
        let pattern = if pattern.is_empty() {
            None
        } else {
            Some(Regex::new(&format!("^(?:{pattern})$"))?)
        };
        Ok(NameRules { pattern })
    }

    /// The canonical form of a user name.
    pub fn normalize(&self, raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    /// Why `name` (already normalised) cannot be a user name, if it cannot.
    pub fn check_user(&self, name: &str) -> Result<(), String> {
        check_common(name)?;
        if let Some(p) = &self.pattern {
            if !p.is_match(name) {
                return Err(format!(
                    "Invalid username: {name:?} does not match the allowed pattern {}",
                    p.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// Why `name` cannot be a group name, if it cannot.
pub fn check_group(name: &str) -> Result<(), String> {
    check_common(name).map_err(|e| e.replace("username", "group name"))
}

fn check_common(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Invalid username: a name cannot be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "Invalid username: longer than {MAX_NAME_LEN} bytes"
        ));
    }
    if name.contains('/') || name.chars().any(char::is_control) || name.trim() != name {
        return Err(format!(
            "Invalid username: {name:?} (no '/', control characters or surrounding spaces)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        let rules = NameRules::new("").unwrap();
        assert_eq!(rules.normalize("  Alice "), "alice");
        assert!(rules.check_user("alice").is_ok());
        assert!(rules.check_user("a.b-c_d@example.org").is_ok());
        for bad in ["", "a/b", "a\nb", " a", &"x".repeat(256)] {
            assert!(rules.check_user(bad).is_err(), "{bad:?}");
        }
        assert!(check_group("a/b").unwrap_err().contains("group name"));
    }

    #[test]
    fn pattern_must_match_the_whole_name() {
        let rules = NameRules::new("[a-z]+").unwrap();
        assert!(rules.check_user("alice").is_ok());
        assert!(rules.check_user("alice2").is_err());
        assert!(NameRules::new("(").is_err());
    }
}
