//! One-time password links.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use crate::store::sql::now;
        use crate::store::{LinkStore, NewPasswordLink, StoreError};

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
        }
    };
}
pub(crate) use implement;
