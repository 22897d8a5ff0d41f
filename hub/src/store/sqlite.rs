//! The SQLite backend: one file, WAL journal, foreign keys on, migrations embedded.

use super::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

/// A handle to the SQLite database. Cloning is shallow (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Open or create the database file at `path` and apply pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL sync loses no committed data on an application crash and is
            // much faster than FULL; only a power loss can drop the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                location: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock up front: a deferred
    /// transaction that reads first and writes later fails with "database is locked" (instead
    /// of waiting) when another connection wrote in between.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl super::sql::Dialect for SqliteStore {
    const USER_PAGE_AS_JSON: &'static str = concat!(
        "json_group_array(json_object(",
        super::sql::user_json_fields!(),
        "))"
    );
}

super::sql::impl_sql_store!(super::SqliteStore, sqlx::Sqlite);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conformance_suite_passes_on_sqlite() {
        let dir = std::env::temp_dir().join(format!(
            "ferrohub-store-{}-{}",
            std::process::id(),
            ferrohub_shared::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        crate::store::conformance::run_all(&store).await;
        drop(store);
        let again = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        crate::store::conformance::survives_reopen(&again).await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
