//! One-time password links, in SQLite.

use super::{now, SqliteStore};
use crate::store::{LinkStore, NewPasswordLink, StoreError};

#[async_trait::async_trait]
impl LinkStore for SqliteStore {
    async fn create_password_link(&self, link: &NewPasswordLink) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO password_links (user_id, token_hash, pin_hash, created, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
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
}
