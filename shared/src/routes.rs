//! Route specs and the configurable-http-proxy REST wire format.
//!
//! A route spec is the key of the proxy's routing table: a path prefix such as `/user/alice/`,
//! or with host routing `host.example/user/alice/`. JupyterHub writes specs with a trailing
//! slash; configurable-http-proxy treats `/a/b` and `/a/b/` as the same route.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// A normalised route spec: starts with `/` (path routing) or with a host name (host routing),
/// never has empty segments, and has no trailing slash except for the root route `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RouteSpec(String);

/// Why a string cannot be a route spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteSpecError {
    #[error("route spec {0:?} contains a `..` or `.` segment")]
    DotSegment(String),
    #[error("route spec {0:?} contains a control character")]
    ControlCharacter(String),
}

impl RouteSpec {
    /// Normalise `raw`: a missing leading slash is added, repeated and trailing slashes are
    /// dropped. With `host_routing`, the first segment is a host name and is lower-cased.
    pub fn parse(raw: &str) -> Result<Self, RouteSpecError> {
        if raw.chars().any(char::is_control) {
            return Err(RouteSpecError::ControlCharacter(raw.to_owned()));
        }
        let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(RouteSpecError::DotSegment(raw.to_owned()));
        }
        Ok(RouteSpec(format!("/{}", segments.join("/"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The spec as JupyterHub writes it, with a trailing slash (`/user/alice/`).
    pub fn with_trailing_slash(&self) -> String {
        if self.0 == "/" {
            "/".to_owned()
        } else {
            format!("{}/", self.0)
        }
    }

    /// The segments of the spec, in order (none for the root route).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl TryFrom<String> for RouteSpec {
    type Error = RouteSpecError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RouteSpec::parse(&value)
    }
}

impl From<RouteSpec> for String {
    fn from(value: RouteSpec) -> Self {
        value.0
    }
}

impl fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One route as `GET /api/routes` reports it: the target, when traffic last passed, and
/// whatever other data the route was added with, kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_normalised() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            ("/user/alice/", "/user/alice"),
            ("user//alice", "/user/alice"),
            ("//hub///", "/hub"),
        ] {
            assert_eq!(RouteSpec::parse(raw).unwrap().as_str(), want, "{raw:?}");
        }
        assert_eq!(
            RouteSpec::parse("/user/alice")
                .unwrap()
                .with_trailing_slash(),
            "/user/alice/"
        );
    }

    #[test]
    fn dot_segments_and_control_characters_are_refused() {
        assert!(RouteSpec::parse("/user/../admin").is_err());
        assert!(RouteSpec::parse("/user/./x").is_err());
        assert!(RouteSpec::parse("/user/\nx").is_err());
    }

    #[test]
    fn route_entry_keeps_extra_data() {
        let e: RouteEntry = serde_json::from_str(
            r#"{"target":"http://127.0.0.1:1","last_activity":"2026-01-01T00:00:00.000Z","user":"a","hub":true}"#,
        )
        .unwrap();
        assert_eq!(e.data["user"], "a");
        assert_eq!(e.data["hub"], true);
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["target"], "http://127.0.0.1:1");
        assert_eq!(back["hub"], true);
    }
}
