//! The PostgreSQL backend, for larger sites: the same SQL as SQLite, native types, its own
//! migrations.

use super::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// A handle to the PostgreSQL database. Cloning is shallow (the pool is shared).
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to `url` (`postgresql://user:password@host:port/db`) and apply pending
    /// migrations. The database must exist; the tables are created here.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        // The password never reaches an error message.
        let location = match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => "the configured PostgreSQL URL".to_owned(),
        };
        let open_error = |source| StoreError::Open {
            location: location.clone(),
            source,
        };
        let options = PgConnectOptions::from_str(url).map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// A write transaction. PostgreSQL locks rows as statements touch them, so a plain
    /// `BEGIN` is enough.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

impl super::sql::Dialect for PostgresStore {
    const USER_PAGE_AS_JSON: &'static str = concat!(
        "COALESCE(json_agg(json_build_object(",
        super::sql::user_json_fields!(),
        "))::text, '[]')"
    );
}

super::sql::impl_sql_store!(super::PostgresStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs against the server `FERROHUB_TEST_POSTGRES` names (the test command starts one);
    /// a missing server is a failure, never a skip.
    #[tokio::test]
    async fn conformance_suite_passes_on_postgres() {
        let admin_url = std::env::var("FERROHUB_TEST_POSTGRES").expect(
            "FERROHUB_TEST_POSTGRES is not set: run the tests through scripts/test.sh, which \
             starts PostgreSQL",
        );
        let db = format!("ferrohub_test_{}", ferrohub_shared::secret::random_hex(6));
        let admin = PgPool::connect(&admin_url)
            .await
            .expect("the test PostgreSQL answers");
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&db);
        let store = PostgresStore::open(url.as_str()).await.unwrap();
        crate::store::conformance::run_all(&store).await;
        store.pool.close().await;
        let again = PostgresStore::open(url.as_str()).await.unwrap();
        crate::store::conformance::survives_reopen(&again).await;
        again.pool.close().await;
        sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
            .execute(&admin)
            .await
            .unwrap();
    }
}
