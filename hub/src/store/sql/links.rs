//! Passwords and one-time password links.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::lookup_user_id;
        use crate::store::sql::now;
        use crate::store::{Credentials, LinkStore, NewPasswordLink, PasswordLink, StoreError};
        use sqlx::Row;

        #[async_trait::async_trait]
        impl LinkStore for Backend {
            async fn create_password_link(&self, link: &NewPasswordLink) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO password_links (user_id, token_hash, pin_hash, created, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(link.user_id)
                .bind(&link.token_hash)
                .bind(&link.pin_hash)
                .bind(now())
                .bind(link.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn find_password_link(&self, token_hash: &str) -> Result<Option<PasswordLink>, StoreError> {
                let row = sqlx::query(
                    "SELECT l.id, u.name, l.pin_hash, l.expires_at, l.failed_attempts, l.used \
                     FROM password_links l JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(PasswordLink {
                    id: row.try_get("id")?,
                    user: row.try_get("name")?,
                    pin_hash: row.try_get("pin_hash")?,
                    expires_at: row.try_get("expires_at")?,
                    failed_attempts: u32::try_from(row.try_get::<i64, _>("failed_attempts")?).unwrap_or(0),
                    used: row.try_get("used")?,
                }))
            }

            async fn fail_password_link(&self, id: i64, burn_at: u32) -> Result<u32, StoreError> {
                let mut tx = self.write().await?;
                let attempts: i64 = sqlx::query_scalar(
                    "UPDATE password_links SET failed_attempts = failed_attempts + 1 WHERE id = $1 \
                     RETURNING failed_attempts",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let attempts = u32::try_from(attempts).unwrap_or(0);
                if attempts >= burn_at {
                    sqlx::query("UPDATE password_links SET used = TRUE WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(attempts)
            }

            async fn use_password_link(&self, id: i64, password_hash: &str) -> Result<bool, StoreError> {
                let mut tx = self.write().await?;
                let user_id: Option<i64> = sqlx::query_scalar(
                    "UPDATE password_links SET used = TRUE WHERE id = $1 AND NOT used RETURNING user_id",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(user_id) = user_id else { return Ok(false) };
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn credentials(&self, user: &str) -> Result<Option<Credentials>, StoreError> {
                let row = sqlx::query("SELECT password_hash, locked FROM users WHERE name = $1")
                    .bind(user)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Credentials {
                    password_hash: row.try_get("password_hash")?,
                    locked: row.try_get("locked")?,
                }))
            }

            async fn set_credentials(&self, user: &str, password_hash: Option<&str>, locked: bool) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, user).await?;
                sqlx::query("UPDATE users SET password_hash = $1, locked = $2 WHERE id = $3")
                    .bind(password_hash)
                    .bind(locked)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use implement;
