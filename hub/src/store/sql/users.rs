//! Users, their servers and activity.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use crate::store::sql::{conflict_or, json_text, now, parse_json};
        use crate::store::{
            CreateUserRequest, Page, Server, StoreError, UpdateUserRequest, User, UserState, UserStore,
        };
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};
        use std::collections::{BTreeMap, HashMap};

        fn state_condition(state: UserState) -> &'static str {
            match state {
                UserState::Any => "TRUE",
                UserState::Active | UserState::Ready => {
                    "EXISTS (SELECT 1 FROM servers s WHERE s.user_id = users.id AND s.url IS NOT NULL)"
                }
                UserState::Inactive => {
                    "NOT EXISTS (SELECT 1 FROM servers s WHERE s.user_id = users.id AND s.url IS NOT NULL)"
                }
            }
        }

        /// `FROM users WHERE ...` for a listing's state and name-prefix filters.
        fn push_user_filter(q: &mut QueryBuilder<'_, Db>, state: UserState, pattern: Option<&str>) {
            q.push(" FROM users WHERE ").push(state_condition(state));
            if let Some(p) = pattern {
                q.push(" AND name LIKE ").push_bind(p.to_owned()).push(" ESCAPE '\\'");
            }
        }

        /// Append `id, id, ...` as bound parameters.
        pub(super) fn push_ids(q: &mut QueryBuilder<'_, Db>, ids: impl Iterator<Item = i64>) {
            let mut sep = q.separated(", ");
            for id in ids {
                sep.push_bind(id);
            }
        }

        /// The user columns the page aggregate ([`crate::store::sql::Dialect`]) reads.
        const USER_COLUMNS: &str = "SELECT id, name, admin, created, last_activity, \
             password_hash IS NOT NULL AS has_password, locked";

        /// `SELECT <users as one JSON array> FROM (<page>) AS page`, where the page's rows come
        /// from `USER_COLUMNS` plus what `rows` appends (`FROM users ...`). A page in one row:
        /// a row per user cost a thread hand-off per row in the SQLite driver.
        fn push_user_page<'a>(
            q: &mut QueryBuilder<'a, Db>,
            rows: impl FnOnce(&mut QueryBuilder<'a, Db>),
        ) {
            q.push(<Backend as crate::store::sql::Dialect>::USER_PAGE_AS_JSON)
                .push(" FROM (")
                .push(USER_COLUMNS);
            rows(q);
            q.push(") AS page");
        }

        async fn fetch_user(conn: &mut Conn, name: &str) -> Result<Option<User>, StoreError> {
            let mut q = QueryBuilder::<Db>::new("SELECT ");
            push_user_page(&mut q, |q| {
                q.push(" FROM users WHERE name = ").push_bind(name.to_owned());
            });
            let json: String = q.build_query_scalar().fetch_one(&mut *conn).await?;
            let users = crate::store::sql::users_from_json(&json)?;
            Ok(fill_relations(conn, users).await?.pop())
        }

        /// Add groups, roles (granted directly) and servers to `users`, sorted by name, with one
        /// query for all three and all users.
        async fn fill_relations(
            conn: &mut Conn,
            mut users: Vec<User>,
        ) -> Result<Vec<User>, StoreError> {
            if users.is_empty() {
                return Ok(users);
            }
            let index: HashMap<i64, usize> =
                users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
            // Servers come first so PostgreSQL types the shared columns from them.
            let mut q = QueryBuilder::<Db>::new(
                "SELECT 2 AS kind, s.user_id, s.name, s.display_name, s.url, s.started, \
                 s.last_activity, s.state, s.user_options FROM servers s WHERE s.user_id IN (",
            );
            push_ids(&mut q, users.iter().map(|u| u.id));
            q.push(
                ") UNION ALL SELECT 0, m.user_id, g.name, NULL, NULL, NULL, NULL, NULL, NULL \
                 FROM user_group_map m JOIN groups g ON g.id = m.group_id WHERE m.user_id IN (",
            );
            push_ids(&mut q, users.iter().map(|u| u.id));
            q.push(
                ") UNION ALL SELECT 1, m.user_id, r.name, NULL, NULL, NULL, NULL, NULL, NULL \
                 FROM user_role_map m JOIN roles r ON r.id = m.role_id WHERE m.user_id IN (",
            );
            push_ids(&mut q, users.iter().map(|u| u.id));
            q.push(") ORDER BY 1, 3");
            for row in q.build().fetch_all(&mut *conn).await? {
                let kind: i32 = row.try_get("kind")?;
                let user_id: i64 = row.try_get("user_id")?;
                let user = &mut users[index[&user_id]];
                match kind {
                    0 => user.groups.push(row.try_get("name")?),
                    1 => user.roles.push(row.try_get("name")?),
                    _ => user.servers.push(server_from_row(&row)?),
                }
            }
            Ok(users)
        }

        fn server_from_row(row: &DbRow) -> Result<Server, StoreError> {
            Ok(Server {
                name: row.try_get("name")?,
                display_name: row.try_get("display_name")?,
                url: row.try_get("url")?,
                started: row.try_get("started")?,
                last_activity: row.try_get("last_activity")?,
                state: parse_json(&row.try_get::<String, _>("state")?, "server state")?,
                user_options: parse_json(&row.try_get::<String, _>("user_options")?, "user options")?,
            })
        }

        pub(super) async fn lookup_user_id(
            conn: &mut Conn,
            name: &str,
        ) -> Result<i64, StoreError> {
            sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("user {name}")))
        }

        #[async_trait::async_trait]
        impl UserStore for Backend {
            async fn count_admins(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE admin")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn create_users(&self, reqs: &[CreateUserRequest]) -> Result<Vec<User>, StoreError> {
                let mut tx = self.write().await?;
                let mut names = Vec::with_capacity(reqs.len());
                for req in reqs {
                    sqlx::query("INSERT INTO users (name, admin, created) VALUES ($1, $2, $3)")
                        .bind(&req.name)
                        .bind(req.admin)
                        .bind(now())
                        .execute(&mut *tx)
                        .await
                        .map_err(conflict_or(|| format!("user {}", req.name)))?;
                    names.push(&req.name);
                }
                let mut users = Vec::with_capacity(names.len());
                for name in names {
                    users.push(fetch_user(&mut tx, name).await?.expect("inserted above"));
                }
                tx.commit().await?;
                Ok(users)
            }

            async fn get_user(&self, name: &str) -> Result<Option<User>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_user(&mut conn, name).await
            }

            async fn list_users(
                &self,
                state: UserState,
                name_filter: Option<&str>,
                page: Page,
            ) -> Result<(Vec<User>, u64), StoreError> {
                let mut conn = self.pool.acquire().await?;
                // A prefix match with LIKE needs its wildcards escaped.
                let pattern = name_filter.map(|p| {
                    format!(
                        "{}%",
                        p.replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_")
                    )
                });
                // The total and the page in one query.
                let mut q = QueryBuilder::<Db>::new("SELECT (SELECT COUNT(*)");
                push_user_filter(&mut q, state, pattern.as_deref());
                q.push("), ");
                push_user_page(&mut q, |q| {
                    push_user_filter(q, state, pattern.as_deref());
                    q.push(" ORDER BY id LIMIT ")
                        .push_bind(i64::try_from(page.limit).unwrap_or(i64::MAX))
                        .push(" OFFSET ")
                        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
                });
                let (total, json): (i64, String) = q.build_query_as().fetch_one(&mut *conn).await?;
                let users = crate::store::sql::users_from_json(&json)?;
                let users = fill_relations(&mut conn, users).await?;
                Ok((users, u64::try_from(total).unwrap_or(0)))
            }

            async fn update_user(&self, name: &str, req: &UpdateUserRequest) -> Result<User, StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, name).await?;
                if let Some(admin) = req.admin {
                    sqlx::query("UPDATE users SET admin = $1 WHERE id = $2")
                        .bind(admin)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(encrypted) = &req.auth_state {
                    sqlx::query("UPDATE users SET auth_state = $1 WHERE id = $2")
                        .bind(encrypted)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut current = name.to_owned();
                if let Some(new_name) = req.name.as_ref().filter(|n| *n != name) {
                    sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
                        .bind(new_name)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(conflict_or(|| format!("user {new_name}")))?;
                    current = new_name.clone();
                }
                let user = fetch_user(&mut tx, &current).await?.expect("updated above");
                tx.commit().await?;
                Ok(user)
            }

            async fn get_auth_state(&self, name: &str) -> Result<Option<String>, StoreError> {
                // The column has held JupyterHub's encrypted form from the start (always NULL
                // before auth_state could be stored).
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT auth_state FROM users WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(state,)| state)
                    .ok_or_else(|| StoreError::NotFound(format!("user {name}")))
            }

            async fn delete_user(&self, name: &str) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, name).await?;
                // Their sessions go with them (ON DELETE CASCADE); the proxy must hear of it.
                super::sessions::queue_user_proxy_revocations(&mut tx, id).await?;
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn save_server(&self, user: &str, server: &Server) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, user).await?;
                sqlx::query(
                    "INSERT INTO servers (user_id, name, state, user_options, url, started, last_activity, display_name) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, name) DO UPDATE SET \
                     state = excluded.state, user_options = excluded.user_options, url = excluded.url, \
                     started = excluded.started, last_activity = excluded.last_activity, \
                     display_name = excluded.display_name",
                )
                .bind(id)
                .bind(&server.name)
                .bind(json_text(&server.state))
                .bind(json_text(&server.user_options))
                .bind(&server.url)
                .bind(server.started)
                .bind(server.last_activity)
                .bind(&server.display_name)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn live_servers(&self) -> Result<Vec<(String, Server)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT u.name AS user_name, s.* FROM servers s JOIN users u ON u.id = s.user_id \
                     WHERE s.url IS NOT NULL OR s.state <> '{}' ORDER BY s.id",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push((row.try_get("user_name")?, server_from_row(&row)?));
                }
                Ok(out)
            }

            async fn rename_server(&self, user: &str, name: &str, new_name: &str) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, user).await?;
                let done = sqlx::query("UPDATE servers SET name = $1 WHERE user_id = $2 AND name = $3")
                    .bind(new_name)
                    .bind(id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_or(|| format!("server {user}/{new_name}")))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("server {user}/{name}")));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_server(&self, user: &str, name: &str) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "DELETE FROM servers WHERE name = $1 AND user_id = (SELECT id FROM users WHERE name = $2)",
                )
                .bind(name)
                .bind(user)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("server {user}/{name}")));
                }
                Ok(())
            }

            async fn record_activity(
                &self,
                name: &str,
                at: DateTime<Utc>,
                servers: &BTreeMap<String, DateTime<Utc>>,
            ) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let id = lookup_user_id(&mut tx, name).await?;
                let latest = servers.values().copied().chain([at]).max().unwrap_or(at);
                sqlx::query(
                    "UPDATE users SET last_activity = $1 WHERE id = $2 \
                     AND (last_activity IS NULL OR last_activity < $3)",
                )
                .bind(latest)
                .bind(id)
                .bind(latest)
                .execute(&mut *tx)
                .await?;
                for (server, when) in servers {
                    let done = sqlx::query(
                        "UPDATE servers SET last_activity = CASE \
                         WHEN last_activity IS NULL OR last_activity < $1 THEN $2 ELSE last_activity END \
                         WHERE user_id = $3 AND name = $4",
                    )
                    .bind(when)
                    .bind(when)
                    .bind(id)
                    .bind(server)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("server {name}/{server}")));
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use implement;
