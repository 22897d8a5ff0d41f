//! First-start set-up of accounts: the configured admins exist and are admins, and when the
//! hub has no admin at all, one is created with no usable password and a one-time link to set
//! it (never a default password).

use crate::auth::password_links::{self, IssuedLink};
use crate::config::HubConfig;
use crate::store::{CreateUserRequest, Store, StoreError, UpdateUserRequest};

/// The admin created when `Authenticator.admin_users` is empty.
pub const DEFAULT_ADMIN: &str = "admin";

/// A link for an admin who has no password yet.
#[derive(Debug)]
pub struct AdminLink {
    pub user: String,
    pub link: IssuedLink,
}

/// Make sure the configured admins exist with the admin flag. Returns a set-password link for
/// each admin created here when passwords live in the hub's database (`native`).
pub async fn ensure_admins(
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
                let grant = UpdateUserRequest {
                    admin: Some(true),
                    ..Default::default()
                };
                store.update_user(&name, &grant).await?;
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
                if config.hub.authenticator_class == "native" {
                    let link = password_links::issue(
                        store,
                        &user,
                        config.native_authenticator.link_lifetime_hours,
                    )
                    .await?;
                    links.push(AdminLink { user: name, link });
                }
            }
        }
    }
    Ok(links)
}
