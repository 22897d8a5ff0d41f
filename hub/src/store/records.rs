//! What the store hands back and takes in: plain records, free of SQL and HTTP.

use chrono::{DateTime, Utc};
use ferrohub_shared::apps::{Grantee, Policy};
use serde_json::{Map, Value};

/// A user as the hub keeps it, with the names of its groups and roles and its servers.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub created: DateTime<Utc>,
    pub last_activity: Option<DateTime<Utc>>,
    /// Whether the user can log in with a password yet.
    pub has_password: bool,
    pub locked: bool,
    pub groups: Vec<String>,
    /// Roles granted directly (not through groups), sorted.
    pub roles: Vec<String>,
    pub servers: Vec<Server>,
}

impl User {
    /// The default server (named ``), if it has ever been created.
    pub fn default_server(&self) -> Option<&Server> {
        self.servers.iter().find(|s| s.name.is_empty())
    }
}

/// One of a user's servers. `url` is set while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub name: String,
    /// What pages show; empty means the name.
    pub display_name: String,
    pub url: Option<String>,
    pub started: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub state: Value,
    pub user_options: Value,
}

impl Server {
    /// A server record that is not running, named `name`, with these saved options.
    pub fn stopped(name: &str, user_options: Value) -> Server {
        Server {
            name: name.to_owned(),
            display_name: String::new(),
            url: None,
            started: None,
            last_activity: None,
            state: Value::Object(Map::new()),
            user_options,
        }
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct CreateUserRequest {
    pub name: String,
    pub admin: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub admin: Option<bool>,
    /// The encrypted `auth_state` (see [`crate::auth::auth_state`]): `Some(None)` clears it.
    pub auth_state: Option<Option<String>>,
}

impl UpdateUserRequest {
    /// A change of the admin flag only.
    pub fn admin(admin: bool) -> UpdateUserRequest {
        UpdateUserRequest {
            admin: Some(admin),
            ..UpdateUserRequest::default()
        }
    }

    /// A change of the encrypted `auth_state` only.
    pub fn auth_state(encrypted: Option<String>) -> UpdateUserRequest {
        UpdateUserRequest {
            auth_state: Some(encrypted),
            ..UpdateUserRequest::default()
        }
    }
}

/// Which users a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserState {
    /// Everyone.
    #[default]
    Any,
    /// Users with at least one running server.
    Active,
    /// Users with no running server.
    Inactive,
    /// Users with a running server that is ready (the store cannot see pending spawns, so
    /// ready and active coincide here; the lifecycle filters pending ones out).
    Ready,
}

/// A page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// A group as the hub keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub users: Vec<String>,
    pub roles: Vec<String>,
    pub properties: Map<String, Value>,
}

/// A role: a named set of scopes and who holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub services: Vec<String>,
}

/// A service known to the hub.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub url: String,
    pub roles: Vec<String>,
}

/// Whose token it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    User(String),
    Service(String),
}

/// An API token's stored facts (never the token itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub id: i64,
    pub owner: TokenOwner,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub note: String,
    pub session_id: Option<String>,
    pub oauth_client: Option<String>,
    pub created: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
}

impl Token {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub owner: TokenOwner,
    pub prefix: String,
    pub hashed: String,
    pub scopes: Vec<String>,
    pub note: String,
    pub session_id: Option<String>,
    pub oauth_client: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A one-time link that lets a user set a password, stored by hashes only.
#[derive(Debug, Clone)]
pub struct NewPasswordLink {
    pub user_id: i64,
    pub token_hash: String,
    pub pin_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// A one-time password link as stored (hashes only).
#[derive(Debug, Clone)]
pub struct PasswordLink {
    pub id: i64,
    pub user: String,
    pub pin_hash: String,
    pub expires_at: DateTime<Utc>,
    pub failed_attempts: u32,
    pub used: bool,
}

/// What the native authenticator checks at login.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    pub locked: bool,
}

/// A browser session: the cookie holds a token whose hash is stored here.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user: String,
    pub expires_at: DateTime<Utc>,
}

/// A proxy session to be refused at the proxy until it expires, queued when its hub session
/// ended (logout, `ferrohub lock`, the user's deletion) and kept until the proxy took it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyRevocation {
    pub id: i64,
    /// The id the proxy knows the session by.
    pub sid: String,
    pub expires_at: DateTime<Utc>,
}

/// An OAuth client: a single-user server or a service that asks the hub who its users are.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthClient {
    pub identifier: String,
    pub description: String,
    pub secret_hash: String,
    pub redirect_uri: String,
    /// The scopes a user needs to be let through (e.g. `access:servers!server=alice/`).
    pub access_scopes: Vec<String>,
    /// The user whose own server this client is; they are never asked to confirm.
    pub owner: Option<String>,
}

/// An authorization code, stored by hash until it is exchanged for a token (once).
#[derive(Debug, Clone)]
pub struct OAuthCode {
    pub hashed: String,
    pub client_id: String,
    pub user: String,
    pub session_id: Option<String>,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Who a share is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareWith {
    User(String),
    Group(String),
}

/// Scopes on one server granted to a user or a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub owner: String,
    pub server: String,
    /// Whether the shared server is running now.
    pub server_running: bool,
    pub with: ShareWith,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Which shares a listing returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareFilter {
    /// Shares of any of the owner's servers.
    Owner(String),
    /// Shares of one server (owner, server name).
    Server(String, String),
    /// Shares granted to this user directly.
    User(String),
    /// Shares granted to this group.
    Group(String),
}

/// A share code (never the code itself, which is shown once).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareCode {
    pub id: i64,
    pub owner: String,
    pub server: String,
    pub server_running: bool,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub exchange_count: i64,
    pub last_exchanged_at: Option<DateTime<Utc>>,
}

/// A Docker image registered as an application users may be granted.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: i64,
    /// As registered: a name with its tag, or an image ID.
    pub image: String,
    pub created: DateTime<Utc>,
}

/// An application given to a user or a group under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The grant's public id, random and stable.
    pub mapping_id: String,
    pub application_id: i64,
    pub image: String,
    pub grantee: Grantee,
    pub policy: Policy,
    pub created: DateTime<Utc>,
}

/// Which grants a listing returns: all those matching every field given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub application_id: Option<i64>,
    /// Grants held by exactly this user or group (not a user's through its groups: see
    /// [`crate::store::ApplicationStore::user_grants`]).
    pub grantee: Option<Grantee>,
}
