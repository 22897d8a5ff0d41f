//! Shares of servers with users and groups.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::lookup_user_id;
        use crate::store::sql::{json_text, now, parse_json};
        use crate::store::{Share, ShareFilter, ShareStore, ShareWith, StoreError};
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

        #[async_trait::async_trait]
        impl ShareStore for Backend {
            async fn grant_share(&self, owner: &str, server: &str, with: &ShareWith, scopes: &[String]) -> Result<Share, StoreError> {
                let mut tx = self.write().await?;
                let server_id = server_id(&mut tx, owner, server).await?;
                let (column, id) = with_id(&mut tx, with).await?;
                let share_id = match existing(&mut tx, server_id, column, id).await? {
                    Some((share_id, mut held)) => {
                        held.extend(scopes.iter().cloned());
                        held.sort();
                        held.dedup();
                        sqlx::query("UPDATE shares SET scopes = $1 WHERE id = $2")
                            .bind(json_text(&held))
                            .bind(share_id)
                            .execute(&mut *tx)
                            .await?;
                        share_id
                    }
                    None => {
                        let mut sorted = scopes.to_vec();
                        sorted.sort();
                        sorted.dedup();
                        sqlx::query_scalar(&format!(
                            "INSERT INTO shares (server_id, {column}, scopes, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
                        ))
                        .bind(server_id)
                        .bind(id)
                        .bind(json_text(&sorted))
                        .bind(now())
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
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
        }
    };
}
pub(crate) use implement;
