//! Roles and their holders.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::groups::lookup_group_id;
        use super::users::lookup_user_id;
        use crate::store::sql::{json_text, parse_json};
        use crate::store::{Role, RoleStore, StoreError};
        use sqlx::Row;

        async fn holders(
            conn: &mut Conn,
            role_id: i64,
            sql: &str,
        ) -> Result<Vec<String>, StoreError> {
            Ok(sqlx::query_scalar(sql)
                .bind(role_id)
                .fetch_all(&mut *conn)
                .await?)
        }

        async fn fetch_role(conn: &mut Conn, name: &str) -> Result<Option<Role>, StoreError> {
            let Some(row) = sqlx::query("SELECT * FROM roles WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(None);
            };
            let id: i64 = row.try_get("id")?;
            Ok(Some(Role {
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                scopes: parse_json(&row.try_get::<String, _>("scopes")?, "role scopes")?,
                users: holders(conn, id, "SELECT u.name FROM user_role_map m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY 1").await?,
                groups: holders(conn, id, "SELECT g.name FROM group_role_map m JOIN groups g ON g.id = m.group_id WHERE m.role_id = $1 ORDER BY 1").await?,
                services: holders(conn, id, "SELECT s.name FROM service_role_map m JOIN services s ON s.id = m.service_id WHERE m.role_id = $1 ORDER BY 1").await?,
            }))
        }

        async fn role_id(conn: &mut Conn, name: &str) -> Result<i64, StoreError> {
            sqlx::query_scalar("SELECT id FROM roles WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("role {name}")))
        }

        async fn scopes_of(
            conn: &mut Conn,
            sql: &str,
            holder: &str,
        ) -> Result<Vec<String>, StoreError> {
            let mut scopes = Vec::new();
            for text in sqlx::query_scalar::<_, String>(sql)
                .bind(holder)
                .fetch_all(&mut *conn)
                .await?
            {
                scopes.extend(parse_json::<Vec<String>>(&text, "role scopes")?);
            }
            scopes.sort();
            scopes.dedup();
            Ok(scopes)
        }

        #[async_trait::async_trait]
        impl RoleStore for Backend {
            async fn put_role(&self, role: &Role) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO roles (name, description, scopes) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET description = excluded.description, \
                     scopes = excluded.scopes RETURNING id",
                )
                .bind(&role.name)
                .bind(&role.description)
                .bind(json_text(&role.scopes))
                .fetch_one(&mut *tx)
                .await?;
                for table in ["user_role_map", "group_role_map", "service_role_map"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE role_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                for user in &role.users {
                    let user_id = lookup_user_id(&mut tx, user).await?;
                    sqlx::query("INSERT INTO user_role_map (user_id, role_id) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                for group in &role.groups {
                    let group_id = lookup_group_id(&mut tx, group).await?;
                    sqlx::query("INSERT INTO group_role_map (group_id, role_id) VALUES ($1, $2)")
                        .bind(group_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                for service in &role.services {
                    let service_id: i64 = sqlx::query_scalar("SELECT id FROM services WHERE name = $1")
                        .bind(service)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("service {service}")))?;
                    sqlx::query("INSERT INTO service_role_map (service_id, role_id) VALUES ($1, $2)")
                        .bind(service_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_role(&self, name: &str) -> Result<Option<Role>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_role(&mut conn, name).await
            }

            async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let names: Vec<String> = sqlx::query_scalar("SELECT name FROM roles ORDER BY id")
                    .fetch_all(&mut *conn)
                    .await?;
                let mut roles = Vec::with_capacity(names.len());
                for name in names {
                    roles.extend(fetch_role(&mut conn, &name).await?);
                }
                Ok(roles)
            }

            async fn set_user_role(&self, user: &str, role: &str, granted: bool) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let user_id = lookup_user_id(&mut tx, user).await?;
                let role_id = role_id(&mut tx, role).await?;
                let sql = if granted {
                    "INSERT INTO user_role_map (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM user_role_map WHERE user_id = $1 AND role_id = $2"
                };
                sqlx::query(sql)
                    .bind(user_id)
                    .bind(role_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_role_scopes(&self, user: &str) -> Result<Vec<String>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                scopes_of(
                    &mut conn,
                    "SELECT r.scopes FROM roles r WHERE r.id IN ( \
                       SELECT m.role_id FROM user_role_map m JOIN users u ON u.id = m.user_id WHERE u.name = $1 \
                       UNION SELECT gr.role_id FROM group_role_map gr \
                         JOIN user_group_map ug ON ug.group_id = gr.group_id \
                         JOIN users u ON u.id = ug.user_id WHERE u.name = $1)",
                    user,
                )
                .await
            }

            async fn service_role_scopes(&self, service: &str) -> Result<Vec<String>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                scopes_of(
                    &mut conn,
                    "SELECT r.scopes FROM roles r JOIN service_role_map m ON m.role_id = r.id \
                     JOIN services s ON s.id = m.service_id WHERE s.name = $1",
                    service,
                )
                .await
            }
        }
    };
}
pub(crate) use implement;
