//! Start-up set-up of the database from the configuration, in JupyterHub's order: users
//! (admins and allowed users), groups (`load_groups`), services and their tokens, then roles
//! (the defaults and `load_roles`). When the hub has no admin at all, one is created with no
//! usable password and a one-time link to set it (never a default password).

use crate::auth::password_links::{self, IssuedLink};
use crate::auth::roles;
use crate::auth::tokens::{self, TokenRequest};
use crate::config::{AuthenticatorClass, HubConfig};
use crate::store::{CreateUserRequest, Store, StoreError, TokenOwner, UpdateUserRequest};

/// The admin created when `Authenticator.admin_users` is empty.
pub const DEFAULT_ADMIN: &str = "admin";

/// A link for an admin who has no password yet.
#[derive(Debug)]
pub struct AdminLink {
    pub user: String,
    pub link: IssuedLink,
}

/// Bring the database in line with the configuration. Returns a set-password link for each
/// admin created here when passwords live in the hub's database (`native`).
pub async fn prepare(store: &dyn Store, config: &HubConfig) -> Result<Vec<AdminLink>, StoreError> {
    let links = ensure_admins(store, config).await?;
    for name in &config.authenticator.allowed_users {
        ensure_user(store, name).await?;
    }
    for (group, members) in &config.hub.load_groups {
        for member in members {
            ensure_user(store, member).await?;
        }
        if store.get_group(group).await?.is_none() {
            store.create_groups(&[(group.clone(), Vec::new())]).await?;
        }
        store.add_group_members(group, members).await?;
    }
    warn_missing_native_groups(store, config).await?;
    let services: Vec<(String, bool, String)> = config
        .hub
        .services
        .iter()
        .map(|s| (s.name.clone(), s.admin, s.url.clone()))
        .collect();
    store.sync_services(&services).await?;
    for service in &config.hub.services {
        store.delete_service_tokens(&service.name).await?;
        if !service.api_token.is_empty() {
            let req = TokenRequest {
                owner: TokenOwner::Service(service.name.clone()),
                scopes: vec!["inherit".into()],
                note: "from the configuration".into(),
                expires_in: None,
                session_id: None,
                oauth_client: None,
            };
            tokens::install(store, service.api_token.expose(), req).await?;
        }
    }
    for role in &config.hub.load_roles {
        for user in &role.users {
            ensure_user(store, user).await?;
        }
    }
    roles::load_roles(store, &config.hub.load_roles).await?;
    Ok(links)
}

/// The groups `[NativeAuthenticator]` rules name are the hub's own, made by admins: say at
/// start which do not exist yet, as a rule over a missing group matches nobody.
async fn warn_missing_native_groups(
    store: &dyn Store,
    config: &HubConfig,
) -> Result<(), StoreError> {
    if config.hub.authenticator_class != AuthenticatorClass::Native {
        return Ok(());
    }
    let native = &config.native_authenticator;
    for (key, groups) in [
        ("allowed_groups", &native.allowed_groups),
        ("admin_groups", &native.admin_groups),
    ] {
        for group in groups {
            if store.get_group(group).await?.is_none() {
                tracing::warn!(
                    "NativeAuthenticator.{key} names group `{group}`, which does not exist: \
                     it matches nobody until an admin creates it (POST /hub/api/groups/{group}) \
                     and adds members"
                );
            }
        }
    }
    Ok(())
}

async fn ensure_user(store: &dyn Store, name: &str) -> Result<(), StoreError> {
    if store.get_user(name).await?.is_none() {
        store
            .create_users(&[CreateUserRequest {
                name: name.to_owned(),
                admin: false,
            }])
            .await?;
        tracing::info!(user = %name, "created user from the configuration");
    }
    Ok(())
}

/// Make sure the configured admins exist with the admin flag.
async fn ensure_admins(
    store: &dyn Store,
    config: &HubConfig,
) -> Result<Vec<AdminLink>, StoreError> {
    let mut names = config.authenticator.admin_users.clone();
    if names.is_empty() && store.count_admins().await? == 0 {
        names.push(DEFAULT_ADMIN.to_owned());
    }
    let mut links = Vec::new();
    for name in names {
        match store.get_user(&name).await? {
            Some(user) if user.admin => {}
            Some(_) => {
                store
                    .update_user(&name, &UpdateUserRequest::admin(true))
                    .await?;
                tracing::info!(user = %name, "granted admin from Authenticator.admin_users");
            }
            None => {
                let user = store
                    .create_users(&[CreateUserRequest {
                        name: name.clone(),
                        admin: true,
                    }])
                    .await?
                    .remove(0);
                tracing::info!(user = %name, "created admin user");
                if config.hub.authenticator_class == AuthenticatorClass::Native {
                    let lifetime = config.native_authenticator.link_lifetime_hours;
                    let link = password_links::issue(store, &user, lifetime).await?;
                    links.push(AdminLink { user: name, link });
                }
            }
        }
    }
    Ok(links)
}
