//! Applications and their grants to users and groups.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use super::groups::lookup_group_id;
        use super::users::lookup_user_id;
        use crate::store::sql::{conflict_or, now, parse_json};
        use crate::store::{Application, ApplicationStore, Grant, GrantFilter, StoreError};
        use ferrohub_shared::apps::{Grantee, Policy};
        use sqlx::{QueryBuilder, Row};

        /// Grants joined with their image and the name of their user or group.
        const SELECT_GRANTS: &str = "SELECT g.mapping_id, g.application_id, a.image, g.policy, \
             g.created_at, u.name AS user_name, gr.name AS group_name \
             FROM app_grants g JOIN applications a ON a.id = g.application_id \
             LEFT JOIN users u ON u.id = g.user_id LEFT JOIN groups gr ON gr.id = g.group_id";

        fn application_from_row(row: &DbRow) -> Result<Application, StoreError> {
            Ok(Application {
                id: row.try_get("id")?,
                image: row.try_get("image")?,
                created: row.try_get("created_at")?,
            })
        }

        fn grant_from_row(row: &DbRow) -> Result<Grant, StoreError> {
            let grantee = match (
                row.try_get::<Option<String>, _>("user_name")?,
                row.try_get::<Option<String>, _>("group_name")?,
            ) {
                (Some(u), _) => Grantee::User(u),
                (None, Some(g)) => Grantee::Group(g),
                (None, None) => return Err(StoreError::Corrupt("a grant to no one".into())),
            };
            let policy: Policy = parse_json(&row.try_get::<String, _>("policy")?, "grant policy")?;
            Ok(Grant {
                mapping_id: row.try_get("mapping_id")?,
                application_id: row.try_get("application_id")?,
                image: row.try_get("image")?,
                grantee,
                policy,
                created: row.try_get("created_at")?,
            })
        }

        /// The column and row id that name a grant's holder; `NotFound` for no such one.
        async fn grantee_id(conn: &mut Conn, grantee: &Grantee) -> Result<(&'static str, i64), StoreError> {
            match grantee {
                Grantee::User(name) => Ok(("user_id", lookup_user_id(conn, name).await?)),
                Grantee::Group(name) => Ok(("group_id", lookup_group_id(conn, name).await?)),
            }
        }

        async fn fetch_application(conn: &mut Conn, id: i64) -> Result<Option<Application>, StoreError> {
            let row = sqlx::query("SELECT * FROM applications WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(application_from_row).transpose()
        }

        async fn fetch_grant(conn: &mut Conn, mapping_id: &str) -> Result<Option<Grant>, StoreError> {
            let row = sqlx::query(&format!("{SELECT_GRANTS} WHERE g.mapping_id = $1"))
                .bind(mapping_id)
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(grant_from_row).transpose()
        }

        #[async_trait::async_trait]
        impl ApplicationStore for Backend {
            async fn create_application(&self, image: &str) -> Result<Application, StoreError> {
                let mut tx = self.write().await?;
                let row = sqlx::query("INSERT INTO applications (image, created_at) VALUES ($1, $2) RETURNING *")
                    .bind(image)
                    .bind(now())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(conflict_or(|| format!("application {image}")))?;
                let app = application_from_row(&row)?;
                tx.commit().await?;
                Ok(app)
            }

            async fn get_application(&self, id: i64) -> Result<Option<Application>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_application(&mut conn, id).await
            }

            async fn find_application(&self, image: &str) -> Result<Option<Application>, StoreError> {
                let row = sqlx::query("SELECT * FROM applications WHERE image = $1")
                    .bind(image)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(application_from_row).transpose()
            }

            async fn list_applications(&self) -> Result<Vec<Application>, StoreError> {
                let rows = sqlx::query("SELECT * FROM applications ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(application_from_row).collect()
            }

            async fn delete_application(&self, id: i64) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                // The grants go by ON DELETE CASCADE.
                let done = sqlx::query("DELETE FROM applications WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("application {id}")));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_grant(
                &self,
                application_id: i64,
                grantee: &Grantee,
                policy: &Policy,
            ) -> Result<Grant, StoreError> {
                let mut tx = self.write().await?;
                let Some(app) = fetch_application(&mut tx, application_id).await? else {
                    return Err(StoreError::NotFound(format!("application {application_id}")));
                };
                let (column, holder) = grantee_id(&mut tx, grantee).await?;
                let mapping_id = ferrohub_shared::secret::random_hex(16);
                sqlx::query(&format!(
                    "INSERT INTO app_grants (mapping_id, application_id, {column}, policy, created_at) \
                     VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(&mapping_id)
                .bind(app.id)
                .bind(holder)
                .bind(policy.canonical_json())
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(conflict_or(|| {
                    format!("a grant of {} to {grantee} with this policy", app.image)
                }))?;
                let grant = fetch_grant(&mut tx, &mapping_id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("a grant vanished while created".into()))?;
                tx.commit().await?;
                Ok(grant)
            }

            async fn get_grant(&self, mapping_id: &str) -> Result<Option<Grant>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_grant(&mut conn, mapping_id).await
            }

            async fn list_grants(&self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let mut q = QueryBuilder::<Db>::new(SELECT_GRANTS);
                q.push(" WHERE 1 = 1");
                if let Some(id) = filter.application_id {
                    q.push(" AND g.application_id = ").push_bind(id);
                }
                match &filter.grantee {
                    Some(Grantee::User(name)) => {
                        q.push(" AND u.name = ").push_bind(name.clone());
                    }
                    Some(Grantee::Group(name)) => {
                        q.push(" AND gr.name = ").push_bind(name.clone());
                    }
                    None => {}
                }
                q.push(" ORDER BY g.id");
                let rows = q.build().fetch_all(&mut *conn).await?;
                rows.iter().map(grant_from_row).collect()
            }

            async fn delete_grants(&self, mapping_ids: &[String]) -> Result<u64, StoreError> {
                let mut tx = self.write().await?;
                let mut deleted = 0;
                for id in mapping_ids {
                    deleted += sqlx::query("DELETE FROM app_grants WHERE mapping_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn user_grants(&self, user: &str) -> Result<Vec<Grant>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let user_id = lookup_user_id(&mut conn, user).await?;
                let rows = sqlx::query(&format!(
                    "{SELECT_GRANTS} WHERE g.user_id = $1 \
                     OR g.group_id IN (SELECT group_id FROM user_group_map WHERE user_id = $2) \
                     ORDER BY g.id"
                ))
                .bind(user_id)
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await?;
                rows.iter().map(grant_from_row).collect()
            }
        }
    };
}
pub(crate) use implement;
