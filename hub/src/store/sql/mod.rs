//! The SQL store, shared by SQLite and PostgreSQL. Each resource module defines a macro that
//! implements its trait for a backend's store type; [`crate::store::sqlite`] and
//! [`crate::store::postgres`] invoke them. Only connecting, locking and the migrations
//! differ between backends.

pub(crate) mod applications;
pub(crate) mod groups;
pub(crate) mod links;
pub(crate) mod roles;
pub(crate) mod services;
pub(crate) mod sessions;
pub(crate) mod shares;
pub(crate) mod tokens;
pub(crate) mod users;

use super::StoreError;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Implement every store trait for `$store` over the sqlx database `$db`. The SQL is shared
/// by every backend (`$N` placeholders work in SQLite and PostgreSQL alike); each resource
/// gets a submodule with its own imports and the backend's types under common names.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        crate::store::sql::impl_sql_store!(@resources $store, $db, users, groups, roles, services, tokens, links, sessions, shares, applications);
    };
    (@resources $store:ty, $db:ty, $($resource:ident),*) => {
        $(
            mod $resource {
                type Backend = $store;
                #[allow(dead_code)]
                type Db = $db;
                #[allow(dead_code)]
                type Conn = <$db as sqlx::Database>::Connection;
                #[allow(dead_code)]
                type DbRow = <$db as sqlx::Database>::Row;
                crate::store::sql::$resource::implement!();
            }
        )*
    };
}
pub(crate) use impl_sql_store;

/// What differs in SQL between the backends.
pub(crate) trait Dialect {
    /// An aggregate over a subquery `page` with the columns of [`UserJson`] that yields one
    /// JSON array (as text, `[]` when empty).
    const USER_PAGE_AS_JSON: &'static str;
}

/// The arguments of `json_object(...)` / `json_build_object(...)` for a user row.
macro_rules! user_json_fields {
    () => {
        "'id', id, 'name', name, 'admin', admin, 'created', created, \
         'last_activity', last_activity, 'has_password', has_password, 'locked', locked"
    };
}
pub(crate) use user_json_fields;

/// A user row as the JSON aggregate gives it. SQLite has no boolean type, so flags arrive as
/// 0/1 there and as true/false from PostgreSQL.
#[derive(serde::Deserialize)]
struct UserJson {
    id: i64,
    name: String,
    #[serde(deserialize_with = "flag")]
    admin: bool,
    created: String,
    last_activity: Option<String>,
    #[serde(deserialize_with = "flag")]
    has_password: bool,
    #[serde(deserialize_with = "flag")]
    locked: bool,
}

fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Number(n) => Ok(n.as_i64() != Some(0)),
        other => Err(serde::de::Error::custom(format!("not a flag: {other}"))),
    }
}

fn timestamp(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

/// Users (without groups, roles or servers) from a [`Dialect::USER_PAGE_AS_JSON`] array,
/// in id order.
pub(crate) fn users_from_json(json: &str) -> Result<Vec<super::User>, StoreError> {
    let rows: Vec<UserJson> = parse_json(json, "user page")?;
    let mut users = Vec::with_capacity(rows.len());
    for r in rows {
        users.push(super::User {
            id: r.id,
            name: r.name,
            admin: r.admin,
            created: timestamp(&r.created)?,
            last_activity: r.last_activity.as_deref().map(timestamp).transpose()?,
            has_password: r.has_password,
            locked: r.locked,
            groups: Vec::new(),
            roles: Vec::new(),
            servers: Vec::new(),
        });
    }
    users.sort_by_key(|u| u.id);
    Ok(users)
}

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
