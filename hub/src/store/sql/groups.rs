//! Groups and their members.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::users::{lookup_user_id, push_ids};
        use crate::store::sql::{conflict_or, json_text, parse_json};
        use crate::store::{Group, GroupStore, Page, StoreError};
        use serde_json::{Map, Value};
        use sqlx::{QueryBuilder, Row};
        use std::collections::HashMap;

        async fn hydrate(
            conn: &mut Conn,
            rows: Vec<DbRow>,
        ) -> Result<Vec<Group>, StoreError> {
            let mut groups = Vec::with_capacity(rows.len());
            for row in &rows {
                groups.push(Group {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    users: Vec::new(),
                    roles: Vec::new(),
                    properties: parse_json(&row.try_get::<String, _>("properties")?, "group properties")?,
                });
            }
            if groups.is_empty() {
                return Ok(groups);
            }
            let index: HashMap<i64, usize> = groups.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
            for (sql, members) in [
                ("SELECT m.group_id, u.name FROM user_group_map m JOIN users u ON u.id = m.user_id WHERE m.group_id IN (", true),
                ("SELECT m.group_id, r.name FROM group_role_map m JOIN roles r ON r.id = m.role_id WHERE m.group_id IN (", false),
            ] {
                let mut q = QueryBuilder::<Db>::new(sql);
                push_ids(&mut q, groups.iter().map(|g| g.id));
                q.push(") ORDER BY 2");
                for row in q.build().fetch_all(&mut *conn).await? {
                    let group_id: i64 = row.try_get(0)?;
                    let name: String = row.try_get(1)?;
                    let group = &mut groups[index[&group_id]];
                    if members {
                        group.users.push(name);
                    } else {
                        group.roles.push(name);
                    }
                }
            }
            Ok(groups)
        }

        async fn fetch_group(conn: &mut Conn, name: &str) -> Result<Option<Group>, StoreError> {
            let rows = sqlx::query("SELECT * FROM groups WHERE name = $1")
                .bind(name)
                .fetch_all(&mut *conn)
                .await?;
            Ok(hydrate(conn, rows).await?.pop())
        }

        pub(super) async fn lookup_group_id(
            conn: &mut Conn,
            name: &str,
        ) -> Result<i64, StoreError> {
            sqlx::query_scalar("SELECT id FROM groups WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("group {name}")))
        }

        async fn add_members(
            conn: &mut Conn,
            group_id: i64,
            users: &[String],
        ) -> Result<(), StoreError> {
            for user in users {
                let user_id = lookup_user_id(conn, user).await?;
                sqlx::query("INSERT INTO user_group_map (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(user_id)
                    .bind(group_id)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl GroupStore for Backend {
            async fn get_group(&self, name: &str) -> Result<Option<Group>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_group(&mut conn, name).await
            }

            async fn list_groups(&self, page: Page) -> Result<(Vec<Group>, u64), StoreError> {
                let mut conn = self.pool.acquire().await?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM groups")
                    .fetch_one(&mut *conn)
                    .await?;
                let rows = sqlx::query("SELECT * FROM groups ORDER BY id LIMIT $1 OFFSET $2")
                    .bind(i64::try_from(page.limit).unwrap_or(i64::MAX))
                    .bind(i64::try_from(page.offset).unwrap_or(i64::MAX))
                    .fetch_all(&mut *conn)
                    .await?;
                Ok((
                    hydrate(&mut conn, rows).await?,
                    u64::try_from(total).unwrap_or(0),
                ))
            }

            async fn create_groups(
                &self,
                groups: &[(String, Vec<String>)],
            ) -> Result<Vec<Group>, StoreError> {
                let mut tx = self.write().await?;
                for (name, users) in groups {
                    let id: i64 = sqlx::query_scalar("INSERT INTO groups (name) VALUES ($1) RETURNING id")
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(conflict_or(|| format!("group {name}")))?;
                    add_members(&mut tx, id, users).await?;
                }
                let mut out = Vec::with_capacity(groups.len());
                for (name, _) in groups {
                    out.push(fetch_group(&mut tx, name).await?.expect("inserted above"));
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn delete_group(&self, name: &str) -> Result<(), StoreError> {
                let done = sqlx::query("DELETE FROM groups WHERE name = $1")
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("group {name}")));
                }
                Ok(())
            }

            async fn add_group_members(&self, group: &str, users: &[String]) -> Result<Group, StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_group_id(&mut tx, group).await?;
                add_members(&mut tx, id, users).await?;
                let out = fetch_group(&mut tx, group).await?.expect("exists");
                tx.commit().await?;
                Ok(out)
            }

            async fn remove_group_members(
                &self,
                group: &str,
                users: &[String],
            ) -> Result<Group, StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_group_id(&mut tx, group).await?;
                for user in users {
                    let user_id = lookup_user_id(&mut tx, user).await?;
                    sqlx::query("DELETE FROM user_group_map WHERE user_id = $1 AND group_id = $2")
                        .bind(user_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                let out = fetch_group(&mut tx, group).await?.expect("exists");
                tx.commit().await?;
                Ok(out)
            }

            async fn set_group_properties(
                &self,
                group: &str,
                properties: &Map<String, Value>,
            ) -> Result<Group, StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_group_id(&mut tx, group).await?;
                sqlx::query("UPDATE groups SET properties = $1 WHERE id = $2")
                    .bind(json_text(properties))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let out = fetch_group(&mut tx, group).await?.expect("exists");
                tx.commit().await?;
                Ok(out)
            }
        }
    };
}
pub(crate) use implement;
