//! Services from the configuration.
//! Expanded once per backend by [`super::impl_sql_store`], inside a module that defines
//! `Backend`, `Db`, `Conn` and `DbRow` for it.

macro_rules! implement {
    () => {
        use crate::store::{Service, ServiceStore, StoreError};
        use sqlx::Row;

        async fn fetch(
            conn: &mut Conn,
            name: Option<&str>,
        ) -> Result<Vec<Service>, StoreError> {
            // Two statements: PostgreSQL cannot type a parameter that is only tested for NULL.
            let rows = match name {
                Some(name) => {
                    sqlx::query("SELECT * FROM services WHERE name = $1")
                        .bind(name)
                        .fetch_all(&mut *conn)
                        .await?
                }
                None => {
                    sqlx::query("SELECT * FROM services ORDER BY id")
                        .fetch_all(&mut *conn)
                        .await?
                }
            };
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let roles = sqlx::query_scalar(
                    "SELECT r.name FROM service_role_map m JOIN roles r ON r.id = m.role_id \
                     WHERE m.service_id = $1 ORDER BY 1",
                )
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
                out.push(Service {
                    id,
                    name: row.try_get("name")?,
                    admin: row.try_get("admin")?,
                    url: row.try_get("url")?,
                    roles,
                });
            }
            Ok(out)
        }

        #[async_trait::async_trait]
        impl ServiceStore for Backend {
            async fn sync_services(&self, services: &[(String, bool, String)]) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let existing: Vec<String> = sqlx::query_scalar("SELECT name FROM services")
                    .fetch_all(&mut *tx)
                    .await?;
                for name in existing {
                    if !services.iter().any(|(n, _, _)| *n == name) {
                        sqlx::query("DELETE FROM services WHERE name = $1")
                            .bind(&name)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for (name, admin, url) in services {
                    sqlx::query(
                        "INSERT INTO services (name, admin, url) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO UPDATE SET admin = excluded.admin, url = excluded.url",
                    )
                    .bind(name)
                    .bind(admin)
                    .bind(url)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_service(&self, name: &str) -> Result<Option<Service>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Ok(fetch(&mut conn, Some(name)).await?.pop())
            }

            async fn list_services(&self) -> Result<Vec<Service>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch(&mut conn, None).await
            }
        }
    };
}
pub(crate) use implement;
