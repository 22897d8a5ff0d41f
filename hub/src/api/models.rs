//! The JSON models JupyterHub's API returns, filtered by what the caller's scopes allow.

use crate::auth::roles::implicit_user_roles;
use crate::auth::Caller;
use crate::servers::{PendingKind, PendingView};
use crate::store::{Group, Server, Service, Token, TokenOwner, User};
use chrono::{DateTime, SecondsFormat, Utc};
use ferrohub_shared::scopes::Target;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// JupyterHub's timestamp form: `2026-11-24T19:57:25.123456Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn iso_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso(t)))
}

/// Where things live, to build the URLs inside models.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `base_url`, e.g. `/` or `/jupyter/`.
    pub base: String,
}

impl Urls {
    /// `/user/alice/` or `/user/alice/lab/`.
    pub fn server(&self, user: &str, server: &str) -> String {
        if server.is_empty() {
            format!("{}user/{user}/", self.base)
        } else {
            format!("{}user/{user}/{server}/", self.base)
        }
    }

    pub fn progress(&self, user: &str, server: &str) -> String {
        if server.is_empty() {
            format!("{}hub/api/users/{user}/server/progress", self.base)
        } else {
            format!(
                "{}hub/api/users/{user}/servers/{server}/progress",
                self.base
            )
        }
    }
}

/// Every role name a user holds, implicit ones first.
pub fn user_roles(user: &User) -> Vec<String> {
    let mut roles: Vec<String> = implicit_user_roles(user.admin)
        .into_iter()
        .map(String::from)
        .collect();
    for r in &user.roles {
        if !roles.contains(r) {
            roles.push(r.clone());
        }
    }
    roles
}

/// A server as JupyterHub shows it. A server is ready once it runs and nothing is pending.
pub fn server_model(
    urls: &Urls,
    user: &str,
    server: &Server,
    pending: Option<PendingKind>,
    with_state: bool,
) -> Value {
    let running = server.url.is_some();
    let mut model = json!({
        "name": server.name,
        "display_name": if server.display_name.is_empty() { &server.name } else { &server.display_name },
        "full_name": format!("{user}/{}", server.name),
        "ready": running && pending.is_none(),
        "stopped": !running && pending.is_none(),
        "pending": pending.map(PendingKind::as_str),
        "url": urls.server(user, &server.name),
        "progress_url": urls.progress(user, &server.name),
        "full_url": Value::Null,
        "full_progress_url": Value::Null,
        "started": iso_opt(server.started),
        "last_activity": iso_opt(server.last_activity),
        "user_options": server.user_options,
    });
    if with_state {
        model["state"] = server.state.clone();
    }
    model
}

/// Keep the fields of `full` that some scope in `access` grants for `target`, as
/// JupyterHub's `_filter_model` does. `None` when no field is readable.
fn filter_model(
    caller: &Caller,
    target: Target<'_>,
    full: Map<String, Value>,
    access: &[(&str, &[&str])],
) -> Option<Map<String, Value>> {
    let allowed: Vec<&str> = access
        .iter()
        .filter(|(scope, _)| caller.scopes.allows(scope, target))
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect();
    let model: Map<String, Value> = full
        .into_iter()
        .filter(|(k, _)| allowed.contains(&k.as_str()))
        .collect();
    (!model.is_empty()).then_some(model)
}

/// A user as the API shows it. Which fields are present depends on the caller's scopes
/// (JupyterHub's access map); `Some(None)` is a present field whose value is `null`.
/// Serialised directly, without building intermediate JSON values.
#[derive(Debug, Serialize)]
pub struct UserModel<'a> {
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_info: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_activity: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_state: Option<Option<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    servers: Option<Map<String, Value>>,
}

impl UserModel<'_> {
    /// The model as a JSON object, for responses that add fields to it.
    pub fn into_value(self) -> Value {
        serde_json::to_value(self).expect("models always serialise")
    }
}

/// The user fields each scope reveals, as JupyterHub's `user_model` access map.
mod user_field {
    pub const NAME: u16 = 1;
    pub const USER_INFO: u16 = 1 << 1;
    pub const ADMIN: u16 = 1 << 2;
    pub const ROLES: u16 = 1 << 3;
    pub const GROUPS: u16 = 1 << 4;
    pub const SERVER: u16 = 1 << 5;
    pub const PENDING: u16 = 1 << 6;
    pub const CREATED: u16 = 1 << 7;
    pub const LAST_ACTIVITY: u16 = 1 << 8;
    pub const SERVERS: u16 = 1 << 9;
    pub const AUTH_STATE: u16 = 1 << 10;
    pub const ACCESS: &[(&str, u16)] = &[
        (
            "read:users",
            NAME | USER_INFO | ADMIN | ROLES | GROUPS | SERVER | PENDING | CREATED | LAST_ACTIVITY,
        ),
        ("read:users:name", NAME | USER_INFO | ADMIN),
        ("read:users:groups", NAME | GROUPS),
        ("read:users:activity", NAME | LAST_ACTIVITY),
        ("read:servers", NAME | SERVERS),
        ("read:roles:users", NAME | ROLES | ADMIN),
        ("admin:auth_state", NAME | AUTH_STATE),
    ];
}

/// A user model with exactly the fields the caller may read about this user. `None` when
/// the caller may not see the user at all.
pub fn user_model<'a>(
    caller: &Caller,
    urls: &Urls,
    pending: &PendingView,
    user: &'a User,
    include_stopped: bool,
) -> Option<UserModel<'a>> {
    use user_field::*;
    let target = Target::User {
        name: &user.name,
        groups: &user.groups,
    };
    let allowed = ACCESS
        .iter()
        .filter(|(scope, _)| caller.scopes.allows(scope, target))
        .fold(0u16, |acc, (_, fields)| acc | fields);
    if allowed == 0 {
        return None;
    }
    let has = |field: u16| allowed & field != 0;
    let default_pending = pending.get(&user.name, "");
    let ready = default_pending.is_none() && user.default_server().is_some_and(|s| s.url.is_some());
    let servers = has(SERVERS).then(|| {
        let mut servers = Map::new();
        for s in user.servers.iter().filter(|s| {
            include_stopped || s.url.is_some() || pending.get(&user.name, &s.name).is_some()
        }) {
            let server_target = Target::Server {
                user: &user.name,
                server: &s.name,
                groups: &user.groups,
            };
            if caller.scopes.allows("read:servers", server_target) {
                let with_state = caller.scopes.allows("admin:server_state", server_target);
                servers.insert(
                    s.name.clone(),
                    server_model(
                        urls,
                        &user.name,
                        s,
                        pending.get(&user.name, &s.name),
                        with_state,
                    ),
                );
            }
        }
        servers
    });
    Some(UserModel {
        kind: "user",
        name: &user.name,
        user_info: has(USER_INFO).then(Map::new),
        admin: has(ADMIN).then_some(user.admin),
        roles: has(ROLES).then(|| user_roles(user)),
        groups: has(GROUPS).then_some(user.groups.as_slice()),
        server: has(SERVER).then(|| ready.then(|| urls.server(&user.name, ""))),
        pending: has(PENDING).then_some(default_pending.map(PendingKind::as_str)),
        created: has(CREATED).then(|| iso(user.created)),
        last_activity: has(LAST_ACTIVITY).then(|| user.last_activity.map(iso)),
        auth_state: has(AUTH_STATE).then_some(None),
        servers,
    })
}

/// A group model with the fields the caller may read.
pub fn group_model(caller: &Caller, group: &Group) -> Option<Value> {
    const ACCESS: &[(&str, &[&str])] = &[
        ("read:groups", &["kind", "name", "properties", "users"]),
        ("read:groups:name", &["kind", "name"]),
        ("read:roles:groups", &["kind", "name", "roles"]),
    ];
    let full = json!({
        "kind": "group",
        "name": group.name,
        "roles": group.roles,
        "users": group.users,
        "properties": group.properties,
    });
    let Value::Object(full) = full else {
        unreachable!("a JSON object literal")
    };
    filter_model(caller, Target::Group(&group.name), full, ACCESS).map(Value::Object)
}

/// A service model with the fields the caller may read.
pub fn service_model(caller: &Caller, service: &Service) -> Option<Value> {
    const ACCESS: &[(&str, &[&str])] = &[
        (
            "read:services",
            &[
                "kind", "name", "admin", "url", "prefix", "command", "pid", "info", "display",
            ],
        ),
        ("read:services:name", &["kind", "name", "admin"]),
        ("read:roles:services", &["kind", "name", "roles", "admin"]),
    ];
    let full = json!({
        "kind": "service",
        "name": service.name,
        "roles": service.roles,
        "admin": service.admin,
        "url": service.url,
        "prefix": "",
        "command": [],
        "pid": 0,
        "info": {},
        "display": true,
    });
    let Value::Object(full) = full else {
        unreachable!("a JSON object literal")
    };
    filter_model(caller, Target::Service(&service.name), full, ACCESS).map(Value::Object)
}

/// A token as JupyterHub shows it (never the token itself): the owner appears as `user` or
/// `service`, never both.
pub fn token_model(token: &Token) -> Value {
    let mut model = json!({
        "kind": "api_token",
        "id": format!("a{}", token.id),
        "roles": [],
        "scopes": token.scopes,
        "note": token.note,
        "session_id": token.session_id,
        "oauth_client": token.oauth_client.clone().unwrap_or_else(|| "JupyterHub".to_owned()),
        "created": iso(token.created),
        "expires_at": iso_opt(token.expires_at),
        "last_activity": iso_opt(token.last_activity),
    });
    match &token.owner {
        TokenOwner::User(u) => model["user"] = Value::String(u.clone()),
        TokenOwner::Service(s) => model["service"] = Value::String(s.clone()),
    }
    model
}
