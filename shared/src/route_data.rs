//! What ferrohub keeps in a route's data at the proxy beyond configurable-http-proxy's own
//! keys. The proxy enforces [`AccessRule`] and [`BRIDGE`]; the hub and the manager write them;
//! [`AppRoute`] marks a route a manager registered for an app container, so the hub knows
//! whose it is. Route data is kept verbatim, so configurable-http-proxy would ignore them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The key of a route's [`AccessRule`]: with it the route is private.
pub const ACCESS: &str = "ferrohub_access";

/// Who may use a private route: the owner, the users listed and members of the groups listed
/// (all optional; an empty rule lets nobody in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl AccessRule {
    /// A rule that lets in `owner` alone.
    pub fn owner(owner: &str) -> AccessRule {
        AccessRule {
            owner: Some(owner.to_owned()),
            ..AccessRule::default()
        }
    }

    /// The rule in route data: `None` for a public route, `Err` (a message for the proxy
    /// API's 400) when the value is not a rule.
    pub fn from_data(data: &Map<String, Value>) -> Result<Option<AccessRule>, String> {
        match data.get(ACCESS) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => AccessRule::deserialize(v).map(Some).map_err(|e| {
                format!(
                    "'{ACCESS}' must be {{\"owner\": name, \"users\": [names], \"groups\": [names]}}: {e}"
                )
            }),
        }
    }

    /// Whether `user`, member of `groups`, may use the route.
    pub fn allows(&self, user: &str, groups: &[String]) -> bool {
        self.owner.as_deref() == Some(user)
            || self.users.iter().any(|u| u == user)
            || groups.iter().any(|g| self.groups.contains(g))
    }

    /// Put the rule into route data.
    pub fn write_into(&self, data: &mut Map<String, Value>) {
        data.insert(
            ACCESS.to_owned(),
            serde_json::to_value(self).expect("a rule serialises"),
        );
    }
}

/// The key that asks the proxy to bridge the route's websockets to the target's raw TCP
/// port (VNC without websockify), and its one accepted value.
pub const BRIDGE: &str = "ws_bridge";
pub const BRIDGE_TCP: &str = "tcp";

/// Whether route data asks for a bridge; `Err` (a message for the API's 400) when
/// [`BRIDGE`] holds anything but [`BRIDGE_TCP`].
pub fn bridge_requested(data: &Map<String, Value>) -> Result<bool, String> {
    match data.get(BRIDGE) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(s)) if s == BRIDGE_TCP => Ok(true),
        Some(other) => Err(format!(
            "'{BRIDGE}' must be \"{BRIDGE_TCP}\" (websockets bridged to the target's TCP port), not {other}"
        )),
    }
}

/// The key of [`AppRoute`].
pub const APP: &str = "ferrohub_app";

/// Marks a route to an app container, registered by the manager of `user`'s server
/// `server`. The hub removes such routes when that server stops or is found gone, so no app
/// route outlives the manager that owns it; the manager removes each when its container
/// stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRoute {
    pub user: String,
    /// `""` for the default server.
    pub server: String,
    /// The container's id in URLs (`/user/NAME/containers/URL_ID/`).
    pub url_id: String,
}

impl AppRoute {
    /// The marker in route data, if it is there and well-formed.
    pub fn from_data(data: &Map<String, Value>) -> Option<AppRoute> {
        data.get(APP).and_then(|v| AppRoute::deserialize(v).ok())
    }

    pub fn write_into(&self, data: &mut Map<String, Value>) {
        data.insert(
            APP.to_owned(),
            serde_json::to_value(self).expect("a marker serialises"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn rules_round_trip_and_decide() {
        let mut d = Map::new();
        let rule = AccessRule {
            owner: Some("ada".into()),
            users: vec!["bo".into()],
            groups: vec!["lab".into()],
        };
        rule.write_into(&mut d);
        let back = AccessRule::from_data(&d).unwrap().unwrap();
        assert_eq!(back, rule);
        assert!(back.allows("ada", &[]));
        assert!(back.allows("bo", &[]));
        assert!(back.allows("cy", &["lab".into()]));
        assert!(!back.allows("cy", &["other".into()]));
        assert!(!AccessRule::default().allows("ada", &[]));
        assert_eq!(AccessRule::from_data(&Map::new()).unwrap(), None);
        assert!(AccessRule::from_data(&data(json!({ACCESS: {"owners": []}}))).is_err());
        assert!(AccessRule::from_data(&data(json!({ACCESS: "ada"}))).is_err());
    }

    #[test]
    fn only_tcp_bridges() {
        assert!(bridge_requested(&data(json!({BRIDGE: "tcp"}))).unwrap());
        assert!(!bridge_requested(&Map::new()).unwrap());
        assert!(bridge_requested(&data(json!({BRIDGE: "udp"}))).is_err());
        assert!(bridge_requested(&data(json!({BRIDGE: true}))).is_err());
    }

    #[test]
    fn app_markers_round_trip() {
        let mut d = Map::new();
        let m = AppRoute {
            user: "ada".into(),
            server: String::new(),
            url_id: "abc".into(),
        };
        m.write_into(&mut d);
        assert_eq!(AppRoute::from_data(&d), Some(m));
        assert_eq!(AppRoute::from_data(&data(json!({APP: 1}))), None);
    }
}
