//! Connecting to the database and applying migrations.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::{Config, DatabaseUrl, SqliteLocation};

/// Connects with settings suited to a small always-on server: for SQLite, WAL (readers do
/// not block the writer), foreign keys enforced and a busy timeout instead of "database is
/// locked" errors; the file is created if missing.
pub async fn connect(database: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    let mut options = match database {
        DatabaseUrl::Postgres(url) => {
            let mut options = ConnectOptions::new(url.expose().to_owned());
            options.max_connections(10);
            options
        }
        DatabaseUrl::Sqlite(location) => {
            // The filename is set directly so paths need no URL escaping.
            let (url, filename, max_connections) = match location {
                SqliteLocation::Memory => ("sqlite::memory:".to_owned(), None, 1),
                SqliteLocation::File(path) => ("sqlite://app.db".to_owned(), Some(path.clone()), 8),
            };
            let mut options = ConnectOptions::new(url);
            if filename.is_none() {
                // An in-memory database lives only as long as its one connection.
                options
                    .min_connections(1)
                    .idle_timeout(None::<Duration>)
                    .max_lifetime(None::<Duration>);
            }
            options
                .max_connections(max_connections)
                .map_sqlx_sqlite_opts(move |opts| {
                    let opts = match &filename {
                        Some(path) => opts.filename(path).create_if_missing(true),
                        None => opts,
                    };
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(5))
                });
            options
        }
    };
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// Connects and brings the schema up to date.
pub async fn connect_and_migrate(database: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    let db = connect(database).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// `connect_and_migrate` for commands: the error says which database could not be opened.
pub async fn open(config: &Config) -> anyhow::Result<DatabaseConnection> {
    connect_and_migrate(&config.database)
        .await
        .with_context(|| format!("cannot open the database ({})", describe(&config.database)))
}

/// `init-db`: create the database if missing and apply every pending migration.
pub async fn init(config: &Config) -> anyhow::Result<()> {
    let db = connect(&config.database).await?;
    let pending = Migrator::get_pending_migrations(&db).await?.len();
    Migrator::up(&db, None).await?;
    db.close().await?;
    let location = describe(&config.database);
    tracing::info!(%location, pending, "database ready");
    println!("数据库已就绪 / database ready: {location} ({pending} migration(s) applied)");
    Ok(())
}

/// Where the data lives, safe to log (no password).
pub fn describe(database: &DatabaseUrl) -> String {
    match database {
        DatabaseUrl::Sqlite(SqliteLocation::File(path)) => format!("sqlite {}", path.display()),
        DatabaseUrl::Sqlite(SqliteLocation::Memory) => "sqlite in-memory".to_owned(),
        DatabaseUrl::Postgres(url) => {
            let after_scheme = url.expose().split_once("://").map_or("", |(_, rest)| rest);
            let host_and_db = after_scheme
                .rsplit_once('@')
                .map_or(after_scheme, |(_, rest)| rest);
            format!(
                "postgres {}",
                host_and_db.split('?').next().unwrap_or_default()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::*;
    use crate::config::Secret;

    #[test]
    fn describe_never_shows_the_password() {
        let url = DatabaseUrl::Postgres(Secret::new(
            "postgres://app:s3cret@db:5432/attendance?sslmode=require",
        ));
        assert_eq!(describe(&url), "postgres db:5432/attendance");
    }

    #[tokio::test]
    async fn sqlite_file_is_created_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested name").join("app.db");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let db = connect_and_migrate(&DatabaseUrl::Sqlite(SqliteLocation::File(path.clone())))
            .await
            .expect("connect");
        assert!(path.exists());
        let pragma = |sql: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(sea_orm::Statement::from_string(
                        db.get_database_backend(),
                        sql,
                    ))
                    .await
                    .expect("query")
                    .expect("row");
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                    .expect("value")
            }
        };
        assert_eq!(pragma("PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma("PRAGMA foreign_keys").await, "1");
        assert_eq!(pragma("PRAGMA busy_timeout").await, "5000");
        // Migrations are idempotent: a second start applies nothing and fails nothing.
        Migrator::up(&db, None).await.expect("second migrate");
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .expect("pending")
                .is_empty()
        );
    }
}
