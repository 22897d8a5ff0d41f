//! Browser sessions and the OAuth provider's clients and codes.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::lookup_user_id;
        use crate::store::sql::{json_text, now, parse_json};
        use crate::store::{OAuthClient, OAuthCode, OAuthStore, ProxyRevocation, Session, SessionStore, StoreError};
        use chrono::{DateTime, Utc};
        use sqlx::Row;

        /// Delete the API tokens and OAuth codes issued through the session `id`: a session's
        /// end revokes what servers received through it.
        async fn forget_session_grants(conn: &mut Conn, id: i64) -> Result<(), StoreError> {
            for table in ["api_tokens", "oauth_codes"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE session_id = $1"))
                    .bind(id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// Queue the revocation of every proxy session of the user `user_id` (see
        /// [`SessionStore::pending_proxy_revocations`]), in the transaction that ends their
        /// sessions. Sessions started before their proxy id was kept have none to revoke.
        pub(super) async fn queue_user_proxy_revocations(conn: &mut Conn, user_id: i64) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO proxy_revocations (sid, expires_at, created) \
                 SELECT proxy_sid, expires_at, $2 FROM sessions WHERE user_id = $1 AND proxy_sid IS NOT NULL",
            )
            .bind(user_id)
            .bind(now())
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl SessionStore for Backend {
            async fn create_session(&self, hashed: &str, user: &str, proxy_sid: &str, expires_at: DateTime<Utc>) -> Result<Session, StoreError> {
                let mut tx = self.write().await?;
                let user_id = lookup_user_id(&mut tx, user).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO sessions (hashed, user_id, proxy_sid, created, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(hashed)
                .bind(user_id)
                .bind(proxy_sid)
                .bind(now())
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Session { id, user: user.to_owned(), expires_at })
            }

            async fn find_session(&self, hashed: &str) -> Result<Option<Session>, StoreError> {
                let row = sqlx::query(
                    "SELECT s.id, u.name, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.hashed = $1",
                )
                .bind(hashed)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Session {
                    id: row.try_get("id")?,
                    user: row.try_get("name")?,
                    expires_at: row.try_get("expires_at")?,
                }))
            }

            async fn end_session(&self, hashed: &str, proxy_sid: &str) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                sqlx::query(
                    "INSERT INTO proxy_revocations (sid, expires_at, created) \
                     SELECT COALESCE(proxy_sid, $2), expires_at, $3 FROM sessions WHERE hashed = $1",
                )
                .bind(hashed)
                .bind(proxy_sid)
                .bind(now())
                .execute(&mut *tx)
                .await?;
                let id: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE hashed = $1 RETURNING id")
                    .bind(hashed)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(id) = id {
                    forget_session_grants(&mut tx, id).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn end_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
                let mut tx = self.write().await?;
                let user_id = lookup_user_id(&mut tx, user).await?;
                queue_user_proxy_revocations(&mut tx, user_id).await?;
                let ids: Vec<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE user_id = $1 RETURNING id")
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in &ids {
                    forget_session_grants(&mut tx, *id).await?;
                }
                tx.commit().await?;
                Ok(ids.len() as u64)
            }

            async fn pending_proxy_revocations(&self) -> Result<Vec<ProxyRevocation>, StoreError> {
                let rows = sqlx::query("SELECT id, sid, expires_at FROM proxy_revocations ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ProxyRevocation {
                            id: row.try_get("id")?,
                            sid: row.try_get("sid")?,
                            expires_at: row.try_get("expires_at")?,
                        })
                    })
                    .collect()
            }

            async fn forget_proxy_revocations(&self, ids: &[i64]) -> Result<(), StoreError> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut tx = self.write().await?;
                for id in ids {
                    sqlx::query("DELETE FROM proxy_revocations WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl OAuthStore for Backend {
            async fn put_oauth_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO oauth_clients (identifier, description, secret_hash, redirect_uri, access_scopes, owner) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (identifier) DO UPDATE SET \
                     description = excluded.description, secret_hash = excluded.secret_hash, \
                     redirect_uri = excluded.redirect_uri, access_scopes = excluded.access_scopes, owner = excluded.owner",
                )
                .bind(&client.identifier)
                .bind(&client.description)
                .bind(&client.secret_hash)
                .bind(&client.redirect_uri)
                .bind(json_text(&client.access_scopes))
                .bind(&client.owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_oauth_client(&self, identifier: &str) -> Result<Option<OAuthClient>, StoreError> {
                let row = sqlx::query("SELECT * FROM oauth_clients WHERE identifier = $1")
                    .bind(identifier)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(OAuthClient {
                    identifier: row.try_get("identifier")?,
                    description: row.try_get("description")?,
                    secret_hash: row.try_get("secret_hash")?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    access_scopes: parse_json(&row.try_get::<String, _>("access_scopes")?, "client scopes")?,
                    owner: row.try_get("owner")?,
                }))
            }

            async fn create_oauth_code(&self, code: &OAuthCode) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let user_id = lookup_user_id(&mut tx, &code.user).await?;
                sqlx::query(
                    "INSERT INTO oauth_codes (hashed, client_id, user_id, session_id, redirect_uri, scopes, \
                     code_challenge, code_challenge_method, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&code.hashed)
                .bind(&code.client_id)
                .bind(user_id)
                .bind(&code.session_id)
                .bind(&code.redirect_uri)
                .bind(json_text(&code.scopes))
                .bind(&code.code_challenge)
                .bind(&code.code_challenge_method)
                .bind(code.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                        StoreError::NotFound(format!("oauth client {}", code.client_id))
                    }
                    other => other.into(),
                })?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_oauth_code(&self, hashed: &str) -> Result<Option<OAuthCode>, StoreError> {
                let mut tx = self.write().await?;
                let row = sqlx::query(
                    "SELECT c.*, u.name AS user_name FROM oauth_codes c JOIN users u ON u.id = c.user_id \
                     WHERE c.hashed = $1",
                )
                .bind(hashed)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                sqlx::query("DELETE FROM oauth_codes WHERE hashed = $1")
                    .bind(hashed)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(OAuthCode {
                    hashed: row.try_get("hashed")?,
                    client_id: row.try_get("client_id")?,
                    user: row.try_get("user_name")?,
                    session_id: row.try_get("session_id")?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    scopes: parse_json(&row.try_get::<String, _>("scopes")?, "code scopes")?,
                    code_challenge: row.try_get("code_challenge")?,
                    code_challenge_method: row.try_get("code_challenge_method")?,
                    expires_at: row.try_get("expires_at")?,
                }))
            }
        }
    };
}
pub(crate) use implement;
