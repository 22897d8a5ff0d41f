//! API tokens, stored by hash.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::lookup_user_id;
        use crate::store::sql::{conflict_or, json_text, now, parse_json};
        use crate::store::{NewToken, StoreError, Token, TokenOwner, TokenStore};
        use chrono::{DateTime, Utc};
        use sqlx::Row;

        /// Tokens joined with their owner's name.
        const SELECT: &str = "SELECT t.*, u.name AS user_name, s.name AS service_name FROM api_tokens t \
             LEFT JOIN users u ON u.id = t.user_id LEFT JOIN services s ON s.id = t.service_id";

        fn token_from_row(row: &DbRow) -> Result<Token, StoreError> {
            let owner = match (
                row.try_get::<Option<String>, _>("user_name")?,
                row.try_get::<Option<String>, _>("service_name")?,
            ) {
                (Some(user), _) => TokenOwner::User(user),
                (None, Some(service)) => TokenOwner::Service(service),
                (None, None) => return Err(StoreError::Corrupt("a token without an owner".into())),
            };
            Ok(Token {
                id: row.try_get("id")?,
                owner,
                prefix: row.try_get("prefix")?,
                scopes: parse_json(&row.try_get::<String, _>("scopes")?, "token scopes")?,
                note: row.try_get("note")?,
                session_id: row.try_get("session_id")?,
                oauth_client: row.try_get("oauth_client")?,
                created: row.try_get("created")?,
                expires_at: row.try_get("expires_at")?,
                last_activity: row.try_get("last_activity")?,
            })
        }

        #[async_trait::async_trait]
        impl TokenStore for Backend {
            async fn create_token(&self, token: &NewToken) -> Result<Token, StoreError> {
                let mut tx = self.write().await?;
                let (user_id, service_id) = match &token.owner {
                    TokenOwner::User(name) => (Some(lookup_user_id(&mut tx, name).await?), None),
                    TokenOwner::Service(name) => {
                        let id: i64 = sqlx::query_scalar("SELECT id FROM services WHERE name = $1")
                            .bind(name)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("service {name}")))?;
                        (None, Some(id))
                    }
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO api_tokens (prefix, hashed, user_id, service_id, scopes, note, \
                     session_id, oauth_client, created, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     RETURNING id",
                )
                .bind(&token.prefix)
                .bind(&token.hashed)
                .bind(user_id)
                .bind(service_id)
                .bind(json_text(&token.scopes))
                .bind(&token.note)
                .bind(&token.session_id)
                .bind(&token.oauth_client)
                .bind(now())
                .bind(token.expires_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(conflict_or(|| "a token with this value".to_owned()))?;
                let row = sqlx::query(&format!("{SELECT} WHERE t.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let out = token_from_row(&row)?;
                tx.commit().await?;
                Ok(out)
            }

            async fn find_token(&self, hashed: &str) -> Result<Option<Token>, StoreError> {
                let row = sqlx::query(&format!("{SELECT} WHERE t.hashed = $1"))
                    .bind(hashed)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(token_from_row).transpose()
            }

            async fn list_user_tokens(&self, user: &str) -> Result<Vec<Token>, StoreError> {
                let rows = sqlx::query(&format!("{SELECT} WHERE u.name = $1 ORDER BY t.id"))
                    .bind(user)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(token_from_row).collect()
            }

            async fn delete_user_token(&self, user: &str, id: i64) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "DELETE FROM api_tokens WHERE id = $1 AND user_id = (SELECT id FROM users WHERE name = $2)",
                )
                .bind(id)
                .bind(user)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("token {id} of user {user}")));
                }
                Ok(())
            }

            async fn delete_service_tokens(&self, service: &str) -> Result<(), StoreError> {
                sqlx::query(
                    "DELETE FROM api_tokens WHERE service_id = (SELECT id FROM services WHERE name = $1)",
                )
                .bind(service)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE api_tokens SET last_activity = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                let done =
                    sqlx::query("DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1")
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use implement;
