//! The SQLite store: one file, WAL journal, foreign keys on, migrations embedded.

use super::{CreateUserRequest, NewPasswordLink, Store, StoreError, User};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// A handle to the SQLite database. Cloning is shallow (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Open or create the database file at `path` and apply pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                location: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

fn user_from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        admin: row.try_get("admin")?,
        created: row.try_get::<DateTime<Utc>, _>("created")?,
        last_activity: row.try_get("last_activity")?,
        has_password: row.try_get::<Option<String>, _>("password_hash")?.is_some(),
        locked: row.try_get("locked")?,
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn count_admins(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE admin")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn create_user(&self, req: &CreateUserRequest) -> Result<User, StoreError> {
        let row =
            sqlx::query("INSERT INTO users (name, admin, created) VALUES (?, ?, ?) RETURNING *")
                .bind(&req.name)
                .bind(req.admin)
                .bind(Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(format!("user {}", req.name))
                    } else {
                        e.into()
                    }
                })?;
        Ok(user_from_row(&row)?)
    }

    async fn get_user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn set_admin(&self, name: &str, admin: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET admin = ? WHERE name = ?")
            .bind(admin)
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {name}")));
        }
        Ok(())
    }

    async fn create_password_link(&self, link: &NewPasswordLink) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO password_links (user_id, token_hash, pin_hash, created, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(link.user_id)
        .bind(&link.token_hash)
        .bind(&link.pin_hash)
        .bind(Utc::now())
        .bind(link.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "ferrohub-store-{}-{}",
            std::process::id(),
            ferrohub_shared::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        (
            SqliteStore::open(&dir.join("db.sqlite")).await.unwrap(),
            dir,
        )
    }

    #[tokio::test]
    async fn users_round_trip_and_names_are_unique() {
        let (store, dir) = temp_store().await;
        assert_eq!(store.count_admins().await.unwrap(), 0);
        let u = store
            .create_user(&CreateUserRequest {
                name: "alice".into(),
                admin: true,
            })
            .await
            .unwrap();
        assert!(u.admin && !u.has_password && !u.locked);
        assert_eq!(store.get_user("alice").await.unwrap(), Some(u));
        assert_eq!(store.count_admins().await.unwrap(), 1);
        let dup = store
            .create_user(&CreateUserRequest {
                name: "alice".into(),
                admin: false,
            })
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        store.set_admin("alice", false).await.unwrap();
        assert_eq!(store.count_admins().await.unwrap(), 0);
        assert!(matches!(
            store.set_admin("nobody", true).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.get_user("nobody").await.unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_links_need_a_user() {
        let (store, dir) = temp_store().await;
        let u = store
            .create_user(&CreateUserRequest {
                name: "bob".into(),
                admin: false,
            })
            .await
            .unwrap();
        let link = NewPasswordLink {
            user_id: u.id,
            token_hash: "t".into(),
            pin_hash: "p".into(),
            expires_at: Utc::now(),
        };
        store.create_password_link(&link).await.unwrap();
        let orphan = NewPasswordLink {
            user_id: 999,
            token_hash: "t2".into(),
            ..link
        };
        assert!(
            store.create_password_link(&orphan).await.is_err(),
            "foreign key enforced"
        );
        drop(store);
        let again = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        assert_eq!(again.get_user("bob").await.unwrap().unwrap().name, "bob");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
