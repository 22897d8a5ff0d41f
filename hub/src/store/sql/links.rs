//! One-time password links.
//! The SQL is shared by every backend: the macro stamps it out for each sqlx database type,
//! so SQLite and PostgreSQL run the same statements (`$N` placeholders work in both).

macro_rules! links_impl {
    ($store:ty, $db:ty) => {
        type Backend = $store;
        #[allow(dead_code)]
        type Db = $db;
        #[allow(dead_code)]
        type Conn = <$db as sqlx::Database>::Connection;
        #[allow(dead_code)]
        type DbRow = <$db as sqlx::Database>::Row;

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
pub(crate) use links_impl;
