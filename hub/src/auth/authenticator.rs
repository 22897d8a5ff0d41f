//! Who may log in: the [`Authenticator`] trait checks credentials; [`admit`] applies the rules
//! every authenticator shares (name rules, blocked, allowed and admin users, managed groups)
//! and creates the user on first login, as JupyterHub's `Authenticator.get_authenticated_user`
//! does, for password logins ([`login`]) and OAuth logins alike.

use super::generic_oauth::GenericOAuthenticator;
use super::names;
use super::native::NativeAuthenticator;
use super::rest::RESTAuthenticator;
use crate::config::{AuthenticatorClass, HubConfig};
use crate::store::{CreateUserRequest, Store, StoreError, UpdateUserRequest, User};
use crate::AppState;
use serde_json::Value;
use std::sync::Arc;

/// Why an authenticator could not decide whether the credentials are right.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The service that checks passwords could not give an answer (down, slow, or answering
    /// nonsense). Not the user's doing: the login page says to try again later, and the
    /// attempt does not count as a failed password. The text is the detail for the log.
    #[error("{0}")]
    Unavailable(String),
    /// The password was right but an administrator locked the account (`ferrohub lock`).
    /// Said only after a right password, so it reveals nothing to someone guessing.
    #[error("the account {0} is locked")]
    Locked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a user name and password.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// `Ok(Some(user))` when the credentials are right, with what the authenticator knows of
    /// the user (the name possibly normalised; admin, allowed and groups where it decides
    /// them), for [`admit`] to judge; `Ok(None)` when they are wrong; `Err` when it cannot
    /// tell.
    async fn authenticate(
        &self,
        store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<Authenticated>, AuthError>;

    /// Whether a user not in the database may be created by logging in.
    fn creates_users(&self) -> bool;

    /// Whether every user already in the database may log in without matching an allow
    /// rule. By default, authenticators that cannot create users: their accounts were made
    /// by an admin. `native` says no once an allow list is configured.
    fn allows_existing_users(&self) -> bool {
        !self.creates_users()
    }

    /// Whether anyone who authenticates is allowed when no allow list is configured.
    fn allows_all_by_default(&self) -> bool {
        false
    }

    /// The OAuth client when users log in at another site (JupyterHub's `login_url` and
    /// extra handlers); `/hub/login` then offers a button to it instead of a password form.
    /// `None` (the default) for password authenticators.
    fn oauth(&self) -> Option<&GenericOAuthenticator> {
        None
    }
}

/// `dummy`: any name, with the shared password if one is configured. For tests and demos.
pub struct DummyAuthenticator {
    password: String,
}

#[async_trait::async_trait]
impl Authenticator for DummyAuthenticator {
    async fn authenticate(
        &self,
        _store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<Authenticated>, AuthError> {
        let ok = self.password.is_empty() || password == self.password;
        Ok(ok.then(|| Authenticated::name(username)))
    }

    fn creates_users(&self) -> bool {
        true
    }

    fn allows_all_by_default(&self) -> bool {
        true
    }
}

/// The authenticator `[JupyterHub] authenticator_class` names.
pub fn from_config(config: &HubConfig) -> Arc<dyn Authenticator> {
    match config.hub.authenticator_class {
        AuthenticatorClass::Dummy => Arc::new(DummyAuthenticator {
            password: config.dummy_authenticator.password.expose().to_owned(),
        }),
        AuthenticatorClass::OAuth => Arc::new(GenericOAuthenticator::new(config)),
        AuthenticatorClass::Rest => Arc::new(RESTAuthenticator::new(&config.rest_authenticator)),
        AuthenticatorClass::Native => Arc::new(NativeAuthenticator::new(config)),
    }
}

/// Why a login was refused, in words for the login page.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Invalid username or password.")]
    BadCredentials,
    /// The name an external provider vouched for is not a valid user name here.
    #[error("{0}")]
    InvalidName(String),
    #[error("{0} is not allowed to use this hub. Ask an administrator for access.")]
    NotAllowed(String),
    #[error("The account {0} is locked. Ask an administrator to unlock it.")]
    Locked(String),
    /// The password could not be checked; `detail` is for the log only.
    #[error("The login service is not answering, so your password could not be checked. Try again later.")]
    Unavailable { detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthError> for LoginError {
    fn from(err: AuthError) -> LoginError {
        match err {
            AuthError::Unavailable(detail) => LoginError::Unavailable { detail },
            AuthError::Locked(name) => LoginError::Locked(name),
            AuthError::Store(e) => LoginError::Store(e),
        }
    }
}

/// A user an authenticator vouches for, with what it knows beyond the name (JupyterHub's
/// auth model: `name`, `admin`, `groups`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authenticated {
    pub name: String,
    /// `Some` when the authenticator decides the admin flag (e.g. from `admin_groups`): the
    /// flag is then granted *or revoked* at login. `None` leaves it to `admin_users`.
    pub admin: Option<bool>,
    /// The authenticator's own allow rule matched (e.g. `allowed_groups`).
    pub allowed: bool,
    /// When `Some`, the user's hub groups become exactly these (`manage_groups`).
    pub groups: Option<Vec<String>>,
    /// What the authenticator wants kept about this login (tokens, its service's answer);
    /// stored encrypted when `enable_auth_state` is on.
    pub auth_state: Option<Value>,
}

impl Authenticated {
    /// A name and nothing more, as password authenticators give.
    pub fn name(name: impl Into<String>) -> Authenticated {
        Authenticated {
            name: name.into(),
            ..Authenticated::default()
        }
    }
}

/// Log `username` in with `password`: authenticate, then [`admit`].
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<User, LoginError> {
    let name = state.names.normalize(username);
    if state.names.check_user(&name).is_err() {
        return Err(LoginError::BadCredentials);
    }
    let store = state.store.as_ref();
    let Some(who) = state
        .authenticator
        .authenticate(store, &name, password)
        .await?
    else {
        return Err(LoginError::BadCredentials);
    };
    admit(state, who).await
}

/// Let an authenticated user in, or not: normalise and check the name, apply the block and
/// allow rules, create the user if the authenticator may, set the admin flag (`admin_users`
/// grant it; the authenticator may grant or revoke it), and sync groups if asked to.
pub async fn admit(state: &AppState, who: Authenticated) -> Result<User, LoginError> {
    let rules = &state.config.authenticator;
    let authenticator = &state.authenticator;
    let name = state.names.normalize(&who.name);
    state
        .names
        .check_user(&name)
        .map_err(LoginError::InvalidName)?;
    if rules.blocked_users.contains(&name) {
        return Err(LoginError::NotAllowed(name));
    }
    let store = state.store.as_ref();
    let existing = store.get_user(&name).await?;
    let admin = if rules.admin_users.contains(&name) {
        Some(true)
    } else {
        who.admin
    };
    let allowed = rules.allow_all
        || admin == Some(true)
        || who.allowed
        || rules.allowed_users.contains(&name)
        || (authenticator.allows_all_by_default() && rules.allowed_users.is_empty())
        || (existing.is_some()
            && (rules.allow_existing_users || authenticator.allows_existing_users()));
    if !allowed {
        return Err(LoginError::NotAllowed(name));
    }
    let mut user = match existing {
        Some(user) => user,
        None if authenticator.creates_users() => {
            let req = CreateUserRequest {
                name: name.clone(),
                admin: admin == Some(true),
            };
            match store.create_users(&[req]).await {
                Ok(mut created) => created.remove(0),
                // Two logins raced to create the same user.
                Err(StoreError::Conflict(_)) => store
                    .get_user(&name)
                    .await?
                    .ok_or(LoginError::BadCredentials)?,
                Err(e) => return Err(e.into()),
            }
        }
        None => return Err(LoginError::BadCredentials),
    };
    let admin = admin.filter(|a| *a != user.admin);
    if let Some(admin) = admin {
        tracing::info!(user = %name, admin, "admin flag set at login");
    }
    let req = UpdateUserRequest {
        name: None,
        admin,
        auth_state: Some(login_auth_state(state, &name, who.auth_state)),
    };
    user = store.update_user(&user.name, &req).await?;
    if let Some(groups) = &who.groups {
        if sync_groups(store, &user, groups).await? {
            user = store.get_user(&name).await?.unwrap_or(user);
        }
    }
    Ok(user)
}

/// The encrypted `auth_state` a login leaves behind. As JupyterHub, every login replaces it
/// with what the authenticator returned this time, and clears it when auth_state is off.
fn login_auth_state(state: &AppState, user: &str, auth_state: Option<Value>) -> Option<String> {
    let value = auth_state.filter(|_| state.config.authenticator.enable_auth_state)?;
    // The hub does not start with enable_auth_state and no key, so this cannot fail; if it
    // ever did, the login goes on without auth_state rather than failing.
    state
        .crypt
        .encrypt(&value)
        .inspect_err(|e| tracing::error!(%user, "auth_state not stored: {e}"))
        .ok()
}

/// Make `user`'s groups exactly `groups`, creating missing groups (JupyterHub's
/// `manage_groups`). Names that cannot be group names are skipped with a warning. Returns
/// whether anything changed.
async fn sync_groups(
    store: &dyn Store,
    user: &User,
    groups: &[String],
) -> Result<bool, StoreError> {
    let member = [user.name.clone()];
    let mut changed = false;
    let wanted: Vec<&String> = groups
        .iter()
        .filter(|g| match names::check_group(g) {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(user = %user.name, group = %g, "not syncing group: {why}");
                false
            }
        })
        .collect();
    for group in wanted.iter().filter(|g| !user.groups.contains(g)) {
        let added = match store.get_group(group).await? {
            Some(_) => store.add_group_members(group, &member).await.map(drop),
            None => store
                .create_groups(&[(group.to_string(), member.to_vec())])
                .await
                .map(drop),
        };
        match added {
            Ok(()) => {}
            // Created meanwhile by another login.
            Err(StoreError::Conflict(_)) => {
                store.add_group_members(group, &member).await?;
            }
            Err(e) => return Err(e),
        }
        tracing::info!(user = %user.name, %group, "added to group at login");
        changed = true;
    }
    for group in user.groups.iter().filter(|g| !wanted.contains(g)) {
        store.remove_group_members(group, &member).await?;
        tracing::info!(user = %user.name, %group, "removed from group at login");
        changed = true;
    }
    Ok(changed)
}
