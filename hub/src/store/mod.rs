//! The hub's persistent state behind narrow traits grouped by resource, with one sqlx
//! implementation per database. Handlers and services hold an `Arc<dyn Store>` and never see
//! SQL. Every method is one transaction: a failed call changes nothing.

#[cfg(test)]
mod conformance;
mod postgres;
mod records;
mod sql;
mod sqlite;

pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

use crate::config::DbUrl;
use chrono::{DateTime, Utc};
use ferrohub_shared::apps::{Grantee, Policy};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What can go wrong in storage. Callers map these once, in the API error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing named already exists (e.g. "user alice").
    #[error("{0} already exists")]
    Conflict(String),
    /// The thing named does not exist (e.g. "group staff").
    #[error("{0} not found")]
    NotFound(String),
    #[error("cannot open the database {location}: {source}")]
    Open {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Users, their servers and their activity.
#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// How many users have the admin flag.
    async fn count_admins(&self) -> Result<i64, StoreError>;
    /// Create users, all or none; `Conflict` names the first that exists.
    async fn create_users(&self, reqs: &[CreateUserRequest]) -> Result<Vec<User>, StoreError>;
    /// The user called `name`, if any.
    async fn get_user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// A page of users sorted by id, and the total matching `state` and `name_filter`
    /// (a prefix of the name).
    async fn list_users(
        &self,
        state: UserState,
        name_filter: Option<&str>,
        page: Page,
    ) -> Result<(Vec<User>, u64), StoreError>;
    /// Rename, set the admin flag and/or replace the encrypted `auth_state`, all or nothing;
    /// `NotFound`, or `Conflict` if the new name is taken.
    async fn update_user(&self, name: &str, req: &UpdateUserRequest) -> Result<User, StoreError>;
    /// The user's encrypted `auth_state` (see [`crate::auth::auth_state`]); `NotFound` for no
    /// user. Kept out of [`User`] so listings never carry secrets.
    async fn get_auth_state(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Delete the user and everything it owns (servers, tokens, memberships, sessions), and
    /// queue the revocation of their proxy sessions in the same transaction (see
    /// [`SessionStore::pending_proxy_revocations`]); `NotFound` for no such user.
    async fn delete_user(&self, name: &str) -> Result<(), StoreError>;
    /// Create or replace the record of one of the user's servers; `NotFound` for no user.
    async fn save_server(&self, user: &str, server: &Server) -> Result<(), StoreError>;
    /// Every server that runs or was being started (a `url` or a saved spawner `state`),
    /// with its user's name.
    async fn live_servers(&self) -> Result<Vec<(String, Server)>, StoreError>;
    /// Rename a server; `NotFound` for no such server, `Conflict` if the name is taken.
    async fn rename_server(&self, user: &str, name: &str, new_name: &str)
        -> Result<(), StoreError>;
    /// Forget a server; `NotFound` if the user has no server of that name.
    async fn delete_server(&self, user: &str, name: &str) -> Result<(), StoreError>;
    /// Record activity: the user's `last_activity` and that of the named servers move
    /// forward (never back).
    async fn record_activity(
        &self,
        name: &str,
        at: DateTime<Utc>,
        servers: &BTreeMap<String, DateTime<Utc>>,
    ) -> Result<(), StoreError>;
}

/// Groups and their members.
#[async_trait::async_trait]
pub trait GroupStore: Send + Sync {
    async fn get_group(&self, name: &str) -> Result<Option<Group>, StoreError>;
    async fn list_groups(&self, page: Page) -> Result<(Vec<Group>, u64), StoreError>;
    /// Create groups with initial members, all or none; `NotFound` for an unknown member,
    /// `Conflict` for an existing group.
    async fn create_groups(
        &self,
        groups: &[(String, Vec<String>)],
    ) -> Result<Vec<Group>, StoreError>;
    async fn delete_group(&self, name: &str) -> Result<(), StoreError>;
    /// Add members (already-members are fine); `NotFound` for an unknown user or group.
    async fn add_group_members(&self, group: &str, users: &[String]) -> Result<Group, StoreError>;
    async fn remove_group_members(
        &self,
        group: &str,
        users: &[String],
    ) -> Result<Group, StoreError>;
    async fn set_group_properties(
        &self,
        group: &str,
        properties: &Map<String, Value>,
    ) -> Result<Group, StoreError>;
}

/// Roles and who holds them.
#[async_trait::async_trait]
pub trait RoleStore: Send + Sync {
    /// Create or replace a role with exactly these holders; `NotFound` for an unknown holder.
    async fn put_role(&self, role: &Role) -> Result<(), StoreError>;
    async fn get_role(&self, name: &str) -> Result<Option<Role>, StoreError>;
    async fn list_roles(&self) -> Result<Vec<Role>, StoreError>;
    /// Grant or revoke a role for a user, keeping other holders.
    async fn set_user_role(&self, user: &str, role: &str, granted: bool) -> Result<(), StoreError>;
    /// The scopes of every role the user holds directly or through a group.
    async fn user_role_scopes(&self, user: &str) -> Result<Vec<String>, StoreError>;
    /// The scopes of every role the service holds.
    async fn service_role_scopes(&self, service: &str) -> Result<Vec<String>, StoreError>;
}

/// Services from the configuration.
#[async_trait::async_trait]
pub trait ServiceStore: Send + Sync {
    /// Make the stored services exactly `services` (name, admin, url); others are removed.
    async fn sync_services(&self, services: &[(String, bool, String)]) -> Result<(), StoreError>;
    async fn get_service(&self, name: &str) -> Result<Option<Service>, StoreError>;
    async fn list_services(&self) -> Result<Vec<Service>, StoreError>;
}

/// API tokens, stored hashed.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Store a token; `NotFound` if its owner does not exist.
    async fn create_token(&self, token: &NewToken) -> Result<Token, StoreError>;
    /// The token whose hash is `hashed`, expired or not.
    async fn find_token(&self, hashed: &str) -> Result<Option<Token>, StoreError>;
    async fn list_user_tokens(&self, user: &str) -> Result<Vec<Token>, StoreError>;
    /// Delete a token of `user`; `NotFound` if that user has no such token.
    async fn delete_user_token(&self, user: &str, id: i64) -> Result<(), StoreError>;
    /// Delete every token of a service, e.g. before installing its configured one.
    async fn delete_service_tokens(&self, service: &str) -> Result<(), StoreError>;
    async fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Remove expired tokens; returns how many.
    async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Passwords and the one-time links that set them.
#[async_trait::async_trait]
pub trait LinkStore: Send + Sync {
    /// Store a new link. Earlier unused links of the same user stay valid until they expire.
    async fn create_password_link(&self, link: &NewPasswordLink) -> Result<(), StoreError>;
    /// The link whose token hashes to `token_hash`, used or not.
    async fn find_password_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<PasswordLink>, StoreError>;
    /// Count a wrong PIN; returns the attempts so far. At `burn_at` the link is used up.
    async fn fail_password_link(&self, id: i64, burn_at: u32) -> Result<u32, StoreError>;
    /// Set the link's user's password and use the link up, together. `false` if the link
    /// was already used (another request won the race).
    async fn use_password_link(&self, id: i64, password_hash: &str) -> Result<bool, StoreError>;
    /// What a password login checks; `None` for no such user.
    async fn credentials(&self, user: &str) -> Result<Option<Credentials>, StoreError>;
    /// Set (or with `None` clear) a password, and lock or unlock the account.
    async fn set_credentials(
        &self,
        user: &str,
        password_hash: Option<&str>,
        locked: bool,
    ) -> Result<(), StoreError>;
}

/// Browser sessions.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Start a session for `user`, remembering the id the proxy knows it by (`proxy_sid`) so
    /// that it can be revoked there without the token; `NotFound` for no such user.
    async fn create_session(
        &self,
        hashed: &str,
        user: &str,
        proxy_sid: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Session, StoreError>;
    /// The session whose token hashes to `hashed`, expired or not.
    async fn find_session(&self, hashed: &str) -> Result<Option<Session>, StoreError>;
    /// End a session, revoke every token issued through it (OAuth logins of servers) and
    /// queue the revocation of its proxy session, all in one transaction (see
    /// [`SessionStore::pending_proxy_revocations`]). `proxy_sid` is the proxy id derived from
    /// the session's token, queued for a session started before the id was kept with it.
    /// Nothing happens for an unknown session.
    async fn end_session(&self, hashed: &str, proxy_sid: &str) -> Result<(), StoreError>;
    /// End every session of `user` as [`SessionStore::end_session`] does, their proxy
    /// sessions queued for revocation likewise (the account was locked); returns how many
    /// there were. `NotFound` for no such user.
    async fn end_user_sessions(&self, user: &str) -> Result<u64, StoreError>;
    /// Proxy sessions queued for revocation at the proxy (the outbox every end of a session
    /// writes to), oldest first. The hub delivers them (`proxy::revocations`) and then
    /// forgets them.
    async fn pending_proxy_revocations(&self) -> Result<Vec<ProxyRevocation>, StoreError>;
    /// Remove delivered (or expired) revocations from the queue; unknown ids are ignored.
    async fn forget_proxy_revocations(&self, ids: &[i64]) -> Result<(), StoreError>;
}

/// Shares: scopes on one server granted to a user or a group.
#[async_trait::async_trait]
pub trait ShareStore: Send + Sync {
    /// Grant `scopes` (added to any already granted); `NotFound` for an unknown server,
    /// user or group.
    async fn grant_share(
        &self,
        owner: &str,
        server: &str,
        with: &ShareWith,
        scopes: &[String],
    ) -> Result<Share, StoreError>;
    /// Revoke `scopes` (all with `None`); the share left, if any scope remains.
    async fn revoke_share(
        &self,
        owner: &str,
        server: &str,
        with: &ShareWith,
        scopes: Option<&[String]>,
    ) -> Result<Option<Share>, StoreError>;
    /// Revoke every share of a server; `NotFound` for an unknown server.
    async fn delete_server_shares(&self, owner: &str, server: &str) -> Result<(), StoreError>;
    /// Shares matching `filter`, oldest first.
    async fn list_shares(&self, filter: &ShareFilter) -> Result<Vec<Share>, StoreError>;
    /// The scopes shared with the user, directly or through its groups.
    async fn user_share_scopes(&self, user: &str) -> Result<Vec<String>, StoreError>;
    /// Store a share code for a server; `NotFound` for an unknown server.
    async fn create_share_code(
        &self,
        owner: &str,
        server: &str,
        code_hash: &str,
        scopes: &[String],
        expires_at: DateTime<Utc>,
    ) -> Result<ShareCode, StoreError>;
    /// Unexpired share codes of the owner's servers (one server with `Some`), oldest first.
    async fn list_share_codes(
        &self,
        owner: &str,
        server: Option<&str>,
    ) -> Result<Vec<ShareCode>, StoreError>;
    /// The share code whose code hashes to `code_hash`, expired or not.
    async fn find_share_code(&self, code_hash: &str) -> Result<Option<ShareCode>, StoreError>;
    /// Delete codes of a server: the one with this id or hash, or all of them; how many.
    async fn delete_share_codes(
        &self,
        owner: &str,
        server: &str,
        id: Option<i64>,
        code_hash: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// Exchange a code: grant its scopes to `user` and count the exchange, together.
    async fn exchange_share_code(&self, id: i64, user: &str) -> Result<Share, StoreError>;
}

/// The OAuth provider's clients and authorization codes.
#[async_trait::async_trait]
pub trait OAuthStore: Send + Sync {
    /// Create or replace a client.
    async fn put_oauth_client(&self, client: &OAuthClient) -> Result<(), StoreError>;
    async fn get_oauth_client(&self, identifier: &str) -> Result<Option<OAuthClient>, StoreError>;
    /// Store a code; `NotFound` for an unknown client or user.
    async fn create_oauth_code(&self, code: &OAuthCode) -> Result<(), StoreError>;
    /// Remove and return the code, so it can be exchanged only once.
    async fn take_oauth_code(&self, hashed: &str) -> Result<Option<OAuthCode>, StoreError>;
}

/// Applications (registered images) and the grants that give them to users and groups.
#[async_trait::async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Register an image; `Conflict` if it is registered already.
    async fn create_application(&self, image: &str) -> Result<Application, StoreError>;
    async fn get_application(&self, id: i64) -> Result<Option<Application>, StoreError>;
    /// The application registered as exactly `image`, if any.
    async fn find_application(&self, image: &str) -> Result<Option<Application>, StoreError>;
    /// Every application, by id.
    async fn list_applications(&self) -> Result<Vec<Application>, StoreError>;
    /// Remove an application with all its grants; `NotFound` for no such id.
    async fn delete_application(&self, id: i64) -> Result<(), StoreError>;
    /// Give an application to a user or group under `policy`, with a new random
    /// `mapping_id`; `NotFound` for an unknown application, user or group, `Conflict` if the
    /// same holder has it under an equal policy already.
    async fn create_grant(
        &self,
        application_id: i64,
        grantee: &Grantee,
        policy: &Policy,
    ) -> Result<Grant, StoreError>;
    async fn get_grant(&self, mapping_id: &str) -> Result<Option<Grant>, StoreError>;
    /// Grants matching `filter`, oldest first.
    async fn list_grants(&self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError>;
    /// Delete these grants, together; returns how many existed (unknown ids are skipped).
    async fn delete_grants(&self, mapping_ids: &[String]) -> Result<u64, StoreError>;
    /// What `user` may launch: its own grants and its groups', oldest first; `NotFound` for
    /// no such user.
    async fn user_grants(&self, user: &str) -> Result<Vec<Grant>, StoreError>;
}

/// The whole state. Implementations are cheap to share and safe to call from many tasks.
pub trait Store:
    UserStore
    + GroupStore
    + RoleStore
    + ServiceStore
    + TokenStore
    + LinkStore
    + SessionStore
    + OAuthStore
    + ShareStore
    + ApplicationStore
    + 'static
{
}

impl<T> Store for T where
    T: UserStore
        + GroupStore
        + RoleStore
        + ServiceStore
        + TokenStore
        + LinkStore
        + SessionStore
        + OAuthStore
        + ShareStore
        + ApplicationStore
        + 'static
{
}

/// Open (creating if needed) the database `url` names and bring its schema up to date.
pub async fn open(url: &DbUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DbUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
        DbUrl::Postgres(url) => Ok(Arc::new(PostgresStore::open(url).await?)),
    }
}
