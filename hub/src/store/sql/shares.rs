//! Shares of servers with users and groups.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::lookup_user_id;
        use crate::store::sql::{json_text, now, parse_json};
        use crate::store::{Share, ShareCode, ShareFilter, ShareStore, ShareWith, StoreError};
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};

        /// Shares joined with their server, owner, and user or group names.
        const SELECT: &str = "SELECT sh.id, sh.scopes, sh.created_at, o.name AS owner, s.name AS server, \
             s.url IS NOT NULL AS running, u.name AS user_name, g.name AS group_name \
             FROM shares sh JOIN servers s ON s.id = sh.server_id JOIN users o ON o.id = s.user_id \
             LEFT JOIN users u ON u.id = sh.user_id LEFT JOIN groups g ON g.id = sh.group_id";

        fn share_from_row(row: &DbRow) -> Result<Share, StoreError> {
            let with = match (row.try_get::<Option<String>, _>("user_name")?, row.try_get::<Option<String>, _>("group_name")?) {
                (Some(u), _) => ShareWith::User(u),
                (None, Some(g)) => ShareWith::Group(g),
                (None, None) => return Err(StoreError::Corrupt("a share with no one".into())),
            };
            Ok(Share {
                owner: row.try_get("owner")?,
                server: row.try_get("server")?,
                server_running: row.try_get("running")?,
                with,
                scopes: parse_json(&row.try_get::<String, _>("scopes")?, "share scopes")?,
                created_at: row.try_get("created_at")?,
            })
        }

        async fn server_id(conn: &mut Conn, owner: &str, server: &str) -> Result<i64, StoreError> {
            let user_id = lookup_user_id(conn, owner).await?;
            sqlx::query_scalar("SELECT id FROM servers WHERE user_id = $1 AND name = $2")
                .bind(user_id)
                .bind(server)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("server {owner}/{server}")))
        }

        /// The column and id that name who a share is with.
        async fn with_id(conn: &mut Conn, with: &ShareWith) -> Result<(&'static str, i64), StoreError> {
            match with {
                ShareWith::User(name) => Ok(("user_id", lookup_user_id(conn, name).await?)),
                ShareWith::Group(name) => {
                    let id: i64 = sqlx::query_scalar("SELECT id FROM groups WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("group {name}")))?;
                    Ok(("group_id", id))
                }
            }
        }

        async fn fetch_one(conn: &mut Conn, id: i64) -> Result<Option<Share>, StoreError> {
            let row = sqlx::query(&format!("{SELECT} WHERE sh.id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(share_from_row).transpose()
        }

        async fn existing(conn: &mut Conn, server_id: i64, column: &str, id: i64) -> Result<Option<(i64, Vec<String>)>, StoreError> {
            let row = sqlx::query(&format!("SELECT id, scopes FROM shares WHERE server_id = $1 AND {column} = $2"))
                .bind(server_id)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some((row.try_get("id")?, parse_json(&row.try_get::<String, _>("scopes")?, "share scopes")?)))
        }

        /// Add `scopes` to the share of `server_id` with `with` (creating it); its id.
        async fn grant_in(conn: &mut Conn, server_id: i64, with: &ShareWith, scopes: &[String]) -> Result<i64, StoreError> {
            let (column, id) = with_id(conn, with).await?;
            match existing(conn, server_id, column, id).await? {
                Some((share_id, mut held)) => {
                    held.extend(scopes.iter().cloned());
                    held.sort();
                    held.dedup();
                    sqlx::query("UPDATE shares SET scopes = $1 WHERE id = $2")
                        .bind(json_text(&held))
                        .bind(share_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(share_id)
                }
                None => {
                    let mut sorted = scopes.to_vec();
                    sorted.sort();
                    sorted.dedup();
                    Ok(sqlx::query_scalar(&format!(
                        "INSERT INTO shares (server_id, {column}, scopes, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
                    ))
                    .bind(server_id)
                    .bind(id)
                    .bind(json_text(&sorted))
                    .bind(now())
                    .fetch_one(&mut *conn)
                    .await?)
                }
            }
        }

        const SELECT_CODES: &str = "SELECT c.*, o.name AS owner, s.name AS server, s.url IS NOT NULL AS running \
             FROM share_codes c JOIN servers s ON s.id = c.server_id JOIN users o ON o.id = s.user_id";

        fn code_from_row(row: &DbRow) -> Result<ShareCode, StoreError> {
            Ok(ShareCode {
                id: row.try_get("id")?,
                owner: row.try_get("owner")?,
                server: row.try_get("server")?,
                server_running: row.try_get("running")?,
                scopes: parse_json(&row.try_get::<String, _>("scopes")?, "share code scopes")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                exchange_count: row.try_get("exchange_count")?,
                last_exchanged_at: row.try_get("last_exchanged_at")?,
            })
        }

        #[async_trait::async_trait]
        impl ShareStore for Backend {
            async fn grant_share(&self, owner: &str, server: &str, with: &ShareWith, scopes: &[String]) -> Result<Share, StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                let share_id = grant_in(&mut tx, server_id, with, scopes).await?;
                let share = fetch_one(&mut tx, share_id).await?.expect("written above");
                tx.commit().await?;
                Ok(share)
            }

            async fn revoke_share(&self, owner: &str, server: &str, with: &ShareWith, scopes: Option<&[String]>) -> Result<Option<Share>, StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                let (column, id) = with_id(&mut tx, with).await?;
                let Some((share_id, held)) = existing(&mut tx, server_id, column, id).await? else {
                    return Ok(None);
                };
                let left: Vec<String> = match scopes {
                    None => Vec::new(),
                    Some(revoked) => held.into_iter().filter(|s| !revoked.contains(s)).collect(),
                };
                let share = if left.is_empty() {
                    sqlx::query("DELETE FROM shares WHERE id = $1").bind(share_id).execute(&mut *tx).await?;
                    None
                } else {
                    sqlx::query("UPDATE shares SET scopes = $1 WHERE id = $2")
                        .bind(json_text(&left))
                        .bind(share_id)
                        .execute(&mut *tx)
                        .await?;
                    fetch_one(&mut tx, share_id).await?
                };
                tx.commit().await?;
                Ok(share)
            }

            async fn delete_server_shares(&self, owner: &str, server: &str) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                sqlx::query("DELETE FROM shares WHERE server_id = $1").bind(server_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_shares(&self, filter: &ShareFilter) -> Result<Vec<Share>, StoreError> {
                let mut q = QueryBuilder::<Db>::new(SELECT);
                match filter {
                    ShareFilter::Owner(o) => q.push(" WHERE o.name = ").push_bind(o.clone()),
                    ShareFilter::Server(o, s) => q.push(" WHERE o.name = ").push_bind(o.clone()).push(" AND s.name = ").push_bind(s.clone()),
                    ShareFilter::User(u) => q.push(" WHERE u.name = ").push_bind(u.clone()),
                    ShareFilter::Group(g) => q.push(" WHERE g.name = ").push_bind(g.clone()),
                };
                q.push(" ORDER BY sh.id");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(share_from_row).collect()
            }

            async fn user_share_scopes(&self, user: &str) -> Result<Vec<String>, StoreError> {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT sh.scopes FROM shares sh JOIN users u ON u.name = $1 \
                     WHERE sh.user_id = u.id OR sh.group_id IN (SELECT group_id FROM user_group_map WHERE user_id = u.id)",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                let mut scopes = Vec::new();
                for raw in rows {
                    scopes.extend(parse_json::<Vec<String>>(&raw, "share scopes")?);
                }
                Ok(scopes)
            }

            async fn create_share_code(&self, owner: &str, server: &str, code_hash: &str, scopes: &[String], expires_at: DateTime<Utc>) -> Result<ShareCode, StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO share_codes (server_id, code_hash, scopes, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(server_id)
                .bind(code_hash)
                .bind(json_text(&scopes))
                .bind(now())
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?;
                let row = sqlx::query(&format!("{SELECT_CODES} WHERE c.id = $1")).bind(id).fetch_one(&mut *tx).await?;
                let code = code_from_row(&row)?;
                tx.commit().await?;
                Ok(code)
            }

            async fn list_share_codes(&self, owner: &str, server: Option<&str>) -> Result<Vec<ShareCode>, StoreError> {
                let mut q = QueryBuilder::<Db>::new(SELECT_CODES);
                q.push(" WHERE o.name = ").push_bind(owner.to_owned());
                q.push(" AND c.expires_at > ").push_bind(now());
                if let Some(server) = server {
                    q.push(" AND s.name = ").push_bind(server.to_owned());
                }
                q.push(" ORDER BY c.id");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(code_from_row).collect()
            }

            async fn find_share_code(&self, code_hash: &str) -> Result<Option<ShareCode>, StoreError> {
                let row = sqlx::query(&format!("{SELECT_CODES} WHERE c.code_hash = $1"))
                    .bind(code_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(code_from_row).transpose()
            }

            async fn delete_share_codes(&self, owner: &str, server: &str, id: Option<i64>, code_hash: Option<&str>) -> Result<u64, StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                let mut q = QueryBuilder::<Db>::new("DELETE FROM share_codes WHERE server_id = ");
                q.push_bind(server_id);
                if let Some(id) = id {
                    q.push(" AND id = ").push_bind(id);
                }
                if let Some(hash) = code_hash {
                    q.push(" AND code_hash = ").push_bind(hash.to_owned());
                }
                let done = q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            async fn exchange_share_code(&self, id: i64, user: &str) -> Result<Share, StoreError> {
                let mut tx = self.write().await?;
                let row = sqlx::query("SELECT server_id, scopes FROM share_codes WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("share code {id}")))?;
                let server_id: i64 = row.try_get("server_id")?;
                let scopes: Vec<String> = parse_json(&row.try_get::<String, _>("scopes")?, "share code scopes")?;
                let share_id = grant_in(&mut tx, server_id, &ShareWith::User(user.to_owned()), &scopes).await?;
                sqlx::query("UPDATE share_codes SET exchange_count = exchange_count + 1, last_exchanged_at = $1 WHERE id = $2")
                    .bind(now())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let share = fetch_one(&mut tx, share_id).await?.expect("written above");
                tx.commit().await?;
                Ok(share)
            }
        }
    };
}
pub(crate) use implement;
