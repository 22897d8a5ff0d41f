//! JupyterHub's default roles and how a user's or service's scopes are worked out from the
//! roles it holds. Every user holds `user`; admins also hold `admin`.

use crate::config::RoleConfig;
use crate::store::{Role, Store, StoreError};
use ferrohub_shared::scopes::{parse_all, Owner, Scope, ScopeSet};

/// The scopes of the `admin` role.
pub const ADMIN_SCOPES: &[&str] = &[
    "admin-ui",
    "admin:users",
    "admin:servers",
    "tokens",
    "admin:groups",
    "list:services",
    "read:services",
    "read:hub",
    "proxy",
    "shutdown",
    "access:services",
    "access:servers",
    "read:roles",
    "read:metrics",
    "shares",
    "admin:applications",
];

/// The roles every hub has, in the order JupyterHub lists them.
pub fn default_roles() -> Vec<Role> {
    let role = |name: &str, description: &str, scopes: &[&str]| Role {
        name: name.into(),
        description: description.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..Role::default()
    };
    vec![
        role("user", "Standard user privileges", &["self"]),
        role(
            "admin",
            "Elevated privileges (can do anything)",
            ADMIN_SCOPES,
        ),
        role(
            "server",
            "Post activity only",
            &["users:activity!user", "access:servers!server"],
        ),
        role(
            "token",
            "Token with same permissions as its owner",
            &["inherit"],
        ),
    ]
}

/// The roles a user holds implicitly: `user` always, `admin` with the admin flag.
pub fn implicit_user_roles(admin: bool) -> Vec<&'static str> {
    if admin {
        vec!["user", "admin"]
    } else {
        vec!["user"]
    }
}

/// Parse role scopes; a scope that no longer parses is logged and skipped, so one bad role
/// in the database cannot lock everyone out.
fn parse_lenient(scopes: &[String]) -> Vec<Scope> {
    scopes
        .iter()
        .filter_map(|s| match Scope::parse(s) {
            Ok(scope) => Some(scope),
            Err(e) => {
                // `!server` without a value is the server role's owner-relative filter; it
                // only means something on a server's own token.
                if !s.ends_with("!server") {
                    tracing::warn!("ignoring a role scope: {e}");
                }
                None
            }
        })
        .collect()
}

/// Everything a user may do, from its roles (direct, through groups, and implicit).
pub async fn user_scopes(
    store: &dyn Store,
    name: &str,
    admin: bool,
) -> Result<ScopeSet, StoreError> {
    let mut raw = store.user_role_scopes(name).await?;
    // The implicit roles, as stored: `load_roles` may redefine them (e.g. a `user` role with
    // `shares!user` lets users share their own servers, as in JupyterHub).
    for role in implicit_user_roles(admin) {
        match store.get_role(role).await? {
            Some(stored) => raw.extend(stored.scopes),
            None if role == "admin" => raw.extend(ADMIN_SCOPES.iter().map(|s| (*s).to_owned())),
            None => raw.push("self".into()),
        }
    }
    // Servers shared with the user (directly or through a group) add their scopes.
    raw.extend(store.user_share_scopes(name).await?);
    Ok(ScopeSet::expand(
        &parse_lenient(&raw),
        &Owner::User(name.to_owned()),
    ))
}

/// Everything a service may do, from its roles (and `admin` if configured so).
pub async fn service_scopes(
    store: &dyn Store,
    name: &str,
    admin: bool,
) -> Result<ScopeSet, StoreError> {
    let mut raw = store.service_role_scopes(name).await?;
    if admin {
        raw.extend(ADMIN_SCOPES.iter().map(|s| (*s).to_owned()));
    }
    Ok(ScopeSet::expand(
        &parse_lenient(&raw),
        &Owner::Service(name.to_owned()),
    ))
}

/// Check the scopes of a role from the configuration or the API: every one must parse.
pub fn validate_role_scopes(scopes: &[String]) -> Result<(), String> {
    parse_all(scopes).map(|_| ()).map_err(|e| e.to_string())
}

/// Create the default roles (keeping holders an admin gave them) and the configured roles.
pub async fn load_roles(store: &dyn Store, configured: &[RoleConfig]) -> Result<(), StoreError> {
    for mut role in default_roles() {
        if let Some(existing) = store.get_role(&role.name).await? {
            role.users = existing.users;
            role.groups = existing.groups;
            role.services = existing.services;
        }
        store.put_role(&role).await?;
    }
    for c in configured {
        store
            .put_role(&Role {
                name: c.name.clone(),
                description: c.description.clone(),
                scopes: c.scopes.clone(),
                users: c.users.clone(),
                groups: c.groups.clone(),
                services: c.services.clone(),
            })
            .await?;
    }
    Ok(())
}
