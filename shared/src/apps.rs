//! Applications: the policies an image is granted under and the JSON the hub serves about
//! grants (`/hub/api/grants`, `/hub/api/users/{name}/applications`), which the manager reads
//! to know what its user may launch. The image labels that describe an app are in
//! [`crate::labels`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a host directory is mounted into an app container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeMode {
    Ro,
    Rw,
}

/// A host directory mounted into the container: `SOURCE:TARGET:ro|rw`, both absolute paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub source: String,
    pub target: String,
    pub mode: VolumeMode,
}

/// Why a volume or policy cannot be used, in words for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

impl Volume {
    /// Parse `SOURCE:TARGET:MODE` (the form of `remoteappdb app grant --volume`).
    pub fn parse(spec: &str) -> Result<Volume, PolicyError> {
        let parts: Vec<&str> = spec.split(':').collect();
        let [source, target, mode] = parts[..] else {
            return Err(PolicyError(format!(
                "volume {spec:?} is not SOURCE:TARGET:MODE, e.g. /data/shared:/shared:ro"
            )));
        };
        let mode = match mode {
            "ro" => VolumeMode::Ro,
            "rw" => VolumeMode::Rw,
            other => {
                return Err(PolicyError(format!(
                    "volume mode {other:?} is neither ro nor rw"
                )))
            }
        };
        Volume::new(source, target, mode)
    }

    /// A volume from its parts; both paths must be absolute and plain (no `..`).
    pub fn new(source: &str, target: &str, mode: VolumeMode) -> Result<Volume, PolicyError> {
        for (what, path) in [("source", source), ("target", target)] {
            if !path.starts_with('/')
                || path.split('/').any(|s| s == "..")
                || path.chars().any(|c| c.is_control() || c == ':')
            {
                return Err(PolicyError(format!(
                    "volume {what} {path:?} must be an absolute path without `..`"
                )));
            }
        }
        Ok(Volume {
            source: source.to_owned(),
            target: target.to_owned(),
            mode,
        })
    }
}

impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            VolumeMode::Ro => "ro",
            VolumeMode::Rw => "rw",
        };
        write!(f, "{}:{}:{mode}", self.source, self.target)
    }
}

/// What a grant lets its holder do with the app (simphony-remote's `application_policy`).
/// Two grants of one image to one holder differ by their policy. In JSON the volume is
/// three flat fields (`volume_source`, `volume_target`, `volume_mode`, all null without a
/// volume), as simphony-remote's API writes them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "PolicyFields", into = "PolicyFields")]
pub struct Policy {
    /// Mount the user's home directory as `/workspace`.
    pub allow_home: bool,
    /// The owner may share a running session with others.
    pub allow_view: bool,
    pub volume: Option<Volume>,
    /// Given to the container as `APP_LICENSE`.
    pub app_license: Option<String>,
    /// The user may pass a start-up file (`STARTUPDATA`).
    pub allow_startup_data: bool,
}

/// [`Policy`] as it travels; the fields are in a fixed order, so equal policies serialise to
/// equal text (the store relies on it to find a grant by its policy).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    #[serde(default)]
    allow_home: bool,
    #[serde(default)]
    allow_view: bool,
    #[serde(default)]
    volume_source: Option<String>,
    #[serde(default)]
    volume_target: Option<String>,
    #[serde(default)]
    volume_mode: Option<VolumeMode>,
    #[serde(default)]
    app_license: Option<String>,
    #[serde(default)]
    allow_startup_data: bool,
}

impl TryFrom<PolicyFields> for Policy {
    type Error = PolicyError;
    fn try_from(f: PolicyFields) -> Result<Policy, PolicyError> {
        let volume = match (f.volume_source, f.volume_target, f.volume_mode) {
            (None, None, None) => None,
            (Some(source), Some(target), mode) => Some(Volume::new(
                &source,
                &target,
                mode.unwrap_or(VolumeMode::Ro),
            )?),
            _ => {
                return Err(PolicyError(
                    "a volume needs both volume_source and volume_target".into(),
                ))
            }
        };
        Ok(Policy {
            allow_home: f.allow_home,
            allow_view: f.allow_view,
            volume,
            app_license: f.app_license.filter(|l| !l.is_empty()),
            allow_startup_data: f.allow_startup_data,
        })
    }
}

impl From<Policy> for PolicyFields {
    fn from(p: Policy) -> PolicyFields {
        let (volume_source, volume_target, volume_mode) = match p.volume {
            Some(v) => (Some(v.source), Some(v.target), Some(v.mode)),
            None => (None, None, None),
        };
        PolicyFields {
            allow_home: p.allow_home,
            allow_view: p.allow_view,
            volume_source,
            volume_target,
            volume_mode,
            app_license: p.app_license,
            allow_startup_data: p.allow_startup_data,
        }
    }
}

impl Policy {
    /// The policy as canonical JSON text: equal policies give equal text.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a policy always serialises")
    }
}

/// Whom a grant gives an app to. In JSON: `{"user": "ada"}` or `{"group": "physics"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grantee {
    User(String),
    Group(String),
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::User(u) => write!(f, "user {u}"),
            Grantee::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// One grant as the hub's API shows it. `mapping_id` is the grant's id: stable, unique, and
/// the id the manager's `api/v1/applications/{mapping_id}/` uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantModel {
    pub mapping_id: String,
    /// The application's id in the hub.
    pub application_id: i64,
    /// The image, as registered (a name with its tag, or an image ID).
    pub image: String,
    /// To whom: `"user": NAME` or `"group": NAME`.
    #[serde(flatten)]
    pub grantee: Grantee,
    pub policy: Policy,
    /// ISO 8601.
    pub created: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volumes_parse_and_print_back() {
        let v = Volume::parse("/data/shared:/shared:rw").unwrap();
        assert_eq!(v.mode, VolumeMode::Rw);
        assert_eq!(v.to_string(), "/data/shared:/shared:rw");
        for bad in [
            "/a:/b",
            "/a:/b:rx",
            "a:/b:ro",
            "/a:b:ro",
            "/a/../etc:/b:ro",
            "/a:/b:ro:x",
        ] {
            assert!(Volume::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policies_travel_as_simphony_remote_writes_them() {
        let p = Policy {
            allow_home: true,
            volume: Some(Volume::parse("/d:/e:ro").unwrap()),
            ..Policy::default()
        };
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["volume_source"], "/d");
        assert_eq!(j["volume_mode"], "ro");
        assert_eq!(j["app_license"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<Policy>(j).unwrap(), p);
        let err = serde_json::from_value::<Policy>(json!({"volume_source": "/d"})).unwrap_err();
        assert!(err.to_string().contains("both"), "{err}");
        assert!(serde_json::from_value::<Policy>(json!({"allow_homes": true})).is_err());
    }

    #[test]
    fn equal_policies_have_equal_canonical_text() {
        let a: Policy =
            serde_json::from_value(json!({"allow_view": true, "allow_home": true})).unwrap();
        let b: Policy =
            serde_json::from_value(json!({"allow_home": true, "allow_view": true})).unwrap();
        assert_eq!(a.canonical_json(), b.canonical_json());
        assert_ne!(a.canonical_json(), Policy::default().canonical_json());
    }

    #[test]
    fn grants_name_their_holder_in_one_field() {
        let g = GrantModel {
            mapping_id: "m1".into(),
            application_id: 1,
            image: "app:1".into(),
            grantee: Grantee::Group("physics".into()),
            policy: Policy::default(),
            created: "2026-01-01T00:00:00Z".into(),
        };
        let j = serde_json::to_value(&g).unwrap();
        assert_eq!(j["group"], "physics");
        assert!(j.get("user").is_none());
        assert_eq!(serde_json::from_value::<GrantModel>(j).unwrap(), g);
    }
}
