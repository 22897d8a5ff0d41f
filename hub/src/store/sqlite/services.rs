//! Services from the configuration, in SQLite.

use super::SqliteStore;
use crate::store::{Service, ServiceStore, StoreError};
use sqlx::{Row, SqliteConnection};

async fn fetch(
    conn: &mut SqliteConnection,
    name: Option<&str>,
) -> Result<Vec<Service>, StoreError> {
    let rows = sqlx::query("SELECT * FROM services WHERE ?1 IS NULL OR name = ?1 ORDER BY id")
        .bind(name)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let roles = sqlx::query_scalar(
            "SELECT r.name FROM service_role_map m JOIN roles r ON r.id = m.role_id \
             WHERE m.service_id = ? ORDER BY 1",
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
impl ServiceStore for SqliteStore {
    async fn sync_services(&self, services: &[(String, bool, String)]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let existing: Vec<String> = sqlx::query_scalar("SELECT name FROM services")
            .fetch_all(&mut *tx)
            .await?;
        for name in existing {
            if !services.iter().any(|(n, _, _)| *n == name) {
                sqlx::query("DELETE FROM services WHERE name = ?")
                    .bind(&name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (name, admin, url) in services {
            sqlx::query(
                "INSERT INTO services (name, admin, url) VALUES (?, ?, ?) \
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
