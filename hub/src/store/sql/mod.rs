//! The SQL store, shared by SQLite and PostgreSQL. Each resource module defines a macro that
//! implements its trait for a backend's store type; [`crate::store::sqlite`] and
//! [`crate::store::postgres`] invoke them. Only connecting, locking and the migrations
//! differ between backends.

pub(crate) mod groups;
pub(crate) mod links;
pub(crate) mod roles;
pub(crate) mod services;
pub(crate) mod tokens;
pub(crate) mod users;

use super::StoreError;
use chrono::{DateTime, Utc};

/// Implement every store trait for `$store` over the sqlx database `$db`, one submodule per
/// resource so each keeps its own imports and helpers.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        mod users {
            crate::store::sql::users::users_impl!($store, $db);
        }
        mod groups {
            crate::store::sql::groups::groups_impl!($store, $db);
        }
        mod roles {
            crate::store::sql::roles::roles_impl!($store, $db);
        }
        mod services {
            crate::store::sql::services::services_impl!($store, $db);
        }
        mod tokens {
            crate::store::sql::tokens::tokens_impl!($store, $db);
        }
        mod links {
            crate::store::sql::links::links_impl!($store, $db);
        }
    };
}
pub(crate) use impl_sql_store;

pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Map a unique-constraint failure to `Conflict(what)`, anything else to a database error.
pub(crate) fn conflict_or(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(what())
        } else {
            StoreError::Database(e)
        }
    }
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("JSON values always serialise")
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}
