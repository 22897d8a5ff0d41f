//! The plugin choices of `[JupyterHub]`: which authenticator checks logins and which spawner
//! starts servers, read from their names into enums, so a name nothing implements stops
//! start-up with the choices instead of falling back to a default.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `[JupyterHub] authenticator_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AuthenticatorClass {
    /// Accounts and passwords in the hub's database.
    Native,
    /// Any name, with an optional shared password: tests and demos.
    Dummy,
    /// An OAuth 2.0 / OpenID Connect provider.
    OAuth,
    /// An external login service over HTTP.
    Rest,
}

/// `[JupyterHub] spawner_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SpawnerClass {
    /// A local process (`jupyterhub-singleuser` by default).
    Local,
    /// A Docker container per server.
    Docker,
    /// A `ferrohub-manager` process per server, which launches the user's apps.
    Manager,
    /// Servers ready at once, for benchmarks of the hub itself (`test-util` builds only).
    #[cfg(feature = "test-util")]
    Instant,
}

impl AuthenticatorClass {
    pub const ALL: &'static [AuthenticatorClass] = &[
        AuthenticatorClass::Native,
        AuthenticatorClass::Dummy,
        AuthenticatorClass::OAuth,
        AuthenticatorClass::Rest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AuthenticatorClass::Native => "native",
            AuthenticatorClass::Dummy => "dummy",
            AuthenticatorClass::OAuth => "oauth",
            AuthenticatorClass::Rest => "rest",
        }
    }
}

impl SpawnerClass {
    pub const ALL: &'static [SpawnerClass] = &[
        SpawnerClass::Local,
        SpawnerClass::Docker,
        SpawnerClass::Manager,
        #[cfg(feature = "test-util")]
        SpawnerClass::Instant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SpawnerClass::Local => "local",
            SpawnerClass::Docker => "docker",
            SpawnerClass::Manager => "manager",
            #[cfg(feature = "test-util")]
            SpawnerClass::Instant => "instant",
        }
    }
}

/// Read a choice by name; the error lists the names available.
fn by_name<T: Copy>(all: &[T], name_of: fn(T) -> &'static str, raw: &str) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|c| name_of(*c) == raw)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|c| name_of(*c)).collect();
            format!(
                "`{raw}` is not available; choose one of: {}",
                names.join(", ")
            )
        })
}

impl TryFrom<String> for AuthenticatorClass {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        by_name(Self::ALL, Self::name, &raw)
    }
}

impl TryFrom<String> for SpawnerClass {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        by_name(Self::ALL, Self::name, &raw)
    }
}

impl From<AuthenticatorClass> for String {
    fn from(c: AuthenticatorClass) -> String {
        c.name().to_owned()
    }
}

impl From<SpawnerClass> for String {
    fn from(c: SpawnerClass) -> String {
        c.name().to_owned()
    }
}

impl fmt::Display for AuthenticatorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for SpawnerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for c in SpawnerClass::ALL {
            assert_eq!(SpawnerClass::try_from(c.name().to_owned()), Ok(*c));
        }
        for c in AuthenticatorClass::ALL {
            assert_eq!(AuthenticatorClass::try_from(c.name().to_owned()), Ok(*c));
        }
        let err = SpawnerClass::try_from("kubernetes".to_owned()).unwrap_err();
        assert!(err.contains("local, docker, manager"), "{err}");
    }
}
