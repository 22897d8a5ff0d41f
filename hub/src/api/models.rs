//! The JSON models JupyterHub's API returns, filtered by what the caller's scopes allow.

use crate::auth::roles::implicit_user_roles;
use crate::auth::Caller;
use crate::store::{Group, Server, Service, Token, TokenOwner, User};
use chrono::{DateTime, SecondsFormat, Utc};
use ferrohub_shared::scopes::Target;
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

/// A server as JupyterHub shows it.
pub fn server_model(urls: &Urls, user: &str, server: &Server, with_state: bool) -> Value {
    let running = server.url.is_some();
    let mut model = json!({
        "name": server.name,
        "full_name": format!("{user}/{}", server.name),
        "ready": running,
        "stopped": !running,
        "pending": Value::Null,
        "url": urls.server(user, &server.name),
        "progress_url": urls.progress(user, &server.name),
        "started": iso_opt(server.started),
        "last_activity": iso_opt(server.last_activity),
        "user_options": server.user_options,
    });
    if with_state {
        model["state"] = server.state.clone();
    }
    model
}

/// A user model with exactly the fields the caller may read about this user. `None` when
/// the caller may not see the user at all.
pub fn user_model(
    caller: &Caller,
    urls: &Urls,
    user: &User,
    include_stopped: bool,
) -> Option<Value> {
    let target = Target::User {
        name: &user.name,
        groups: &user.groups,
    };
    let may = |scope: &str| caller.scopes.allows(scope, target);
    if !may("read:users:name") {
        return None;
    }
    let mut m = Map::new();
    m.insert("kind".into(), "user".into());
    m.insert("name".into(), user.name.clone().into());
    if may("read:users") {
        m.insert("admin".into(), user.admin.into());
        let running = user.default_server().filter(|s| s.url.is_some());
        m.insert(
            "server".into(),
            running.map_or(Value::Null, |_| urls.server(&user.name, "").into()),
        );
        m.insert("pending".into(), Value::Null);
        m.insert("created".into(), iso(user.created).into());
    }
    if may("read:users") || may("read:roles:users") {
        m.insert("roles".into(), json!(user_roles(user)));
    }
    if may("read:users:groups") {
        m.insert("groups".into(), json!(user.groups));
    }
    if may("read:users:activity") {
        m.insert("last_activity".into(), iso_opt(user.last_activity));
    }
    if may("read:servers") {
        let mut servers = Map::new();
        for s in user
            .servers
            .iter()
            .filter(|s| include_stopped || s.url.is_some())
        {
            let server_target = Target::Server {
                user: &user.name,
                server: &s.name,
                groups: &user.groups,
            };
            let with_state = caller.scopes.allows("admin:server_state", server_target);
            servers.insert(
                s.name.clone(),
                server_model(urls, &user.name, s, with_state),
            );
        }
        m.insert("servers".into(), Value::Object(servers));
    }
    if may("admin:auth_state") {
        m.insert("auth_state".into(), Value::Null);
    }
    Some(Value::Object(m))
}

/// A group model with the fields the caller may read.
pub fn group_model(caller: &Caller, group: &Group) -> Option<Value> {
    let target = Target::Group(&group.name);
    let may = |scope: &str| caller.scopes.allows(scope, target);
    if !may("read:groups:name") {
        return None;
    }
    let mut m = Map::new();
    m.insert("kind".into(), "group".into());
    m.insert("name".into(), group.name.clone().into());
    if may("read:groups") {
        m.insert("users".into(), json!(group.users));
        m.insert("properties".into(), Value::Object(group.properties.clone()));
    }
    if may("read:groups") || may("read:roles:groups") {
        m.insert("roles".into(), json!(group.roles));
    }
    Some(Value::Object(m))
}

/// A service model with the fields the caller may read.
pub fn service_model(caller: &Caller, service: &Service) -> Option<Value> {
    let target = Target::Service(&service.name);
    let may = |scope: &str| caller.scopes.allows(scope, target);
    if !may("read:services:name") {
        return None;
    }
    let mut m = Map::new();
    m.insert("kind".into(), "service".into());
    m.insert("name".into(), service.name.clone().into());
    if may("read:services") {
        m.insert("admin".into(), service.admin.into());
        m.insert("url".into(), service.url.clone().into());
        m.insert("prefix".into(), Value::Null);
        m.insert("pid".into(), 0.into());
        m.insert("command".into(), json!([]));
        m.insert("info".into(), json!({}));
        m.insert("display".into(), true.into());
    }
    if may("read:services") || may("read:roles:services") {
        m.insert("roles".into(), json!(service.roles));
    }
    Some(Value::Object(m))
}

/// A token as JupyterHub shows it (never the token itself).
pub fn token_model(token: &Token) -> Value {
    let (user, service) = match &token.owner {
        TokenOwner::User(u) => (Value::String(u.clone()), Value::Null),
        TokenOwner::Service(s) => (Value::Null, Value::String(s.clone())),
    };
    json!({
        "kind": "api_token",
        "id": format!("a{}", token.id),
        "user": user,
        "service": service,
        "roles": [],
        "scopes": token.scopes,
        "note": token.note,
        "session_id": token.session_id,
        "oauth_client": token.oauth_client.clone().unwrap_or_else(|| "JupyterHub".to_owned()),
        "created": iso(token.created),
        "expires_at": iso_opt(token.expires_at),
        "last_activity": iso_opt(token.last_activity),
    })
}
