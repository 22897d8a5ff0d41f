//! The hub's persistent state behind one narrow trait, with one sqlx implementation per
//! database. Handlers and services hold an `Arc<dyn Store>` and never see SQL.

mod sqlite;

pub use sqlite::SqliteStore;

use crate::config::DbUrl;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What can go wrong in storage. Callers map these once, in the API error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
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
    #[error("{0}")]
    Unsupported(String),
}

/// A user as the hub keeps it.
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
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct CreateUserRequest {
    pub name: String,
    pub admin: bool,
}

/// A one-time link that lets a user set a password, stored by hashes only.
#[derive(Debug, Clone)]
pub struct NewPasswordLink {
    pub user_id: i64,
    pub token_hash: String,
    pub pin_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// The hub's state. Implementations are cheap to share (`Arc<dyn Store>`) and safe to call
/// from many tasks at once; every method is one transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    // --- users ---
    /// How many users have the admin flag.
    async fn count_admins(&self) -> Result<i64, StoreError>;
    /// Create a user; `Conflict` if the name is taken.
    async fn create_user(&self, req: &CreateUserRequest) -> Result<User, StoreError>;
    /// The user called `name`, if any.
    async fn get_user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Set the admin flag of an existing user; `NotFound` if there is none.
    async fn set_admin(&self, name: &str, admin: bool) -> Result<(), StoreError>;

    // --- password links ---
    /// Store a new link. Earlier unused links of the same user stay valid until they expire.
    async fn create_password_link(&self, link: &NewPasswordLink) -> Result<(), StoreError>;
}

/// Open (creating if needed) the database `url` names and bring its schema up to date.
pub async fn open(url: &DbUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DbUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
        DbUrl::Postgres(_) => Err(StoreError::Unsupported(
            "PostgreSQL support is not in this build yet; use sqlite:///jupyterhub.sqlite".into(),
        )),
    }
}
