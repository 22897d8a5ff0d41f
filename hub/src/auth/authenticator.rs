//! Who may log in: the [`Authenticator`] trait checks credentials; [`login`] adds the rules
//! every authenticator shares (name rules, blocked, allowed and admin users) and creates the
//! user on first login, as JupyterHub's `Authenticator.get_authenticated_user` does.

use super::passwords;
use crate::config::HubConfig;
use crate::store::{CreateUserRequest, Store, StoreError, UpdateUserRequest, User};
use crate::AppState;
use std::sync::Arc;

/// Checks a user name and password.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// The authenticated user name (possibly normalised) when the credentials are right.
    async fn authenticate(
        &self,
        store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Whether a user not in the database may be created by logging in.
    fn creates_users(&self) -> bool;

    /// Whether anyone who authenticates is allowed when no allow list is configured.
    fn allows_all_by_default(&self) -> bool {
        false
    }
}

/// `native`: accounts in the database with argon2id passwords; locked accounts are refused.
pub struct NativeAuthenticator;

#[async_trait::async_trait]
impl Authenticator for NativeAuthenticator {
    async fn authenticate(
        &self,
        store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(creds) = store.credentials(username).await? else {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            passwords::verify(dummy_hash().await, password).await;
            return Ok(None);
        };
        let ok = match &creds.password_hash {
            Some(hash) => passwords::verify(hash, password).await,
            None => false,
        };
        Ok((ok && !creds.locked).then(|| username.to_owned()))
    }

    fn creates_users(&self) -> bool {
        false
    }
}

/// A hash of a random password, so refusing an unknown name costs as much as a wrong password.
async fn dummy_hash() -> &'static str {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async { passwords::hash(&ferrohub_shared::secret::random_hex(16)).await })
        .await
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
    ) -> Result<Option<String>, StoreError> {
        let ok = self.password.is_empty() || password == self.password;
        Ok(ok.then(|| username.to_owned()))
    }

    fn creates_users(&self) -> bool {
        true
    }

    fn allows_all_by_default(&self) -> bool {
        true
    }
}

/// The authenticator `[JupyterHub] authenticator_class` names (validated at load).
pub fn from_config(config: &HubConfig) -> Arc<dyn Authenticator> {
    match config.hub.authenticator_class.as_str() {
        "dummy" => Arc::new(DummyAuthenticator {
            password: config.dummy_authenticator.password.expose().to_owned(),
        }),
        _ => Arc::new(NativeAuthenticator),
    }
}

/// Why a login was refused, in words for the login page.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Invalid username or password.")]
    BadCredentials,
    #[error("{0} is not allowed to use this hub. Ask an administrator for access.")]
    NotAllowed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Log `username` in with `password`: authenticate, apply the allow and block rules, create
/// the user if the authenticator may, and grant admin to `admin_users`.
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<User, LoginError> {
    let rules = &state.config.authenticator;
    let name = state.names.normalize(username);
    if state.names.check_user(&name).is_err() {
        return Err(LoginError::BadCredentials);
    }
    let store = state.store.as_ref();
    let Some(name) = state
        .authenticator
        .authenticate(store, &name, password)
        .await?
    else {
        return Err(LoginError::BadCredentials);
    };
    if rules.blocked_users.contains(&name) {
        return Err(LoginError::NotAllowed(name));
    }
    let existing = store.get_user(&name).await?;
    let is_admin = rules.admin_users.contains(&name);
    let allowed = rules.allow_all
        || is_admin
        || rules.allowed_users.contains(&name)
        || (state.authenticator.allows_all_by_default() && rules.allowed_users.is_empty())
        || (existing.is_some()
            && (rules.allow_existing_users || !state.authenticator.creates_users()));
    if !allowed {
        return Err(LoginError::NotAllowed(name));
    }
    let user = match existing {
        Some(user) => user,
        None if state.authenticator.creates_users() => {
            let req = CreateUserRequest {
                name: name.clone(),
                admin: is_admin,
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
    if is_admin && !user.admin {
        let req = UpdateUserRequest {
            name: None,
            admin: Some(true),
        };
        return Ok(store.update_user(&user.name, &req).await?);
    }
    Ok(user)
}
