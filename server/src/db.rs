//! Connecting to the database and applying migrations; finding it first, next to (and
//! never in) the Flask original's `app.db`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use app::domain::legacy::{self, SchemaKind};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use crate::config::{
    Config, DEFAULT_DATABASE_FILE, DatabaseUrl, PREVIOUS_DATABASE_FILE, SqliteLocation,
};

/// What an existing SQLite file holds, read through a read-only connection: looking never
/// changes the file (no journal mode is set, nothing is created).
pub async fn inspect(path: &Path) -> Result<SchemaKind, DbErr> {
    let filename = path.to_path_buf();
    let mut options = ConnectOptions::new("sqlite://inspect.db".to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.filename(&filename)
                .read_only(true)
                .create_if_missing(false)
        });
    let db = Database::connect(options).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table'",
        ))
        .await;
    db.close().await.ok();
    let tables = rows?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(legacy::classify(&tables))
}

/// Whether `path` is the Flask original's database; unreadable files are not (connecting
/// reports them).
async fn is_legacy(path: &Path) -> bool {
    path.is_file() && matches!(inspect(path).await, Ok(SchemaKind::Legacy))
}

fn legacy_refusal(path: &Path) -> String {
    format!(
        "{} is the original Flask system's database: it is never migrated or changed. Use \
         another file for this server (leave DATABASE_URL unset for DATA_DIR/{DEFAULT_DATABASE_FILE}) \
         and bring the old data over with `dingding-attendance import-legacy {}`",
        path.display(),
        path.display()
    )
}

/// Connects with settings suited to a small always-on server: for SQLite, WAL (readers do
/// not block the writer), foreign keys enforced and a busy timeout instead of "database is
/// locked" errors; the file is created if missing. A file holding the Flask original's
/// database is refused before anything (even the journal mode) touches it.
pub async fn connect(database: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    connect_pooled(database, None).await
}

/// `connect` with `DATABASE_MAX_CONNECTIONS` (`None`: 10 for PostgreSQL, 8 for a SQLite file).
pub async fn connect_pooled(
    database: &DatabaseUrl,
    pool_size: Option<u32>,
) -> Result<DatabaseConnection, DbErr> {
    if let DatabaseUrl::Sqlite(SqliteLocation::File(path)) = database
        && is_legacy(path).await
    {
        return Err(DbErr::Custom(legacy_refusal(path)));
    }
    let mut options = match database {
        DatabaseUrl::Postgres(url) => {
            let mut options = ConnectOptions::new(url.expose().to_owned());
            options.max_connections(pool_size.unwrap_or(10));
            options
        }
        DatabaseUrl::Sqlite(location) => {
            // The filename is set directly so paths need no URL escaping.
            let (url, filename, max_connections) = match location {
                SqliteLocation::Memory => ("sqlite::memory:".to_owned(), None, 1),
                SqliteLocation::File(path) => (
                    "sqlite://app.db".to_owned(),
                    Some(path.clone()),
                    pool_size.unwrap_or(8),
                ),
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
    migrate(&db, database).await?;
    Ok(db)
}

/// Applies pending migrations, one process at a time: replicas starting together would
/// otherwise each try to create the same tables, and all but one would fail to start. The
/// others wait, then find nothing pending. Answers how many migrations this call applied.
pub async fn migrate(db: &DatabaseConnection, database: &DatabaseUrl) -> Result<usize, DbErr> {
    let lock = MigrationLock::acquire(database).await?;
    let migrated = async {
        let pending = Migrator::get_pending_migrations(db).await?.len();
        Migrator::up(db, None).await?;
        Ok(pending)
    }
    .await;
    lock.release().await;
    migrated
}

/// Held while migrating. PostgreSQL: a session-level advisory lock on a connection of its
/// own, released when that connection closes (also when the process dies). A SQLite file:
/// an exclusive lock on `<file>.migrate-lock` beside it, which the OS releases likewise.
enum MigrationLock {
    Postgres(sea_orm::sqlx::PgConnection),
    File(std::fs::File),
    None,
}

/// Any fixed number: every replica of this application must use the same one.
const MIGRATION_LOCK_KEY: i64 = 0x6469_6e67_6469_6e67; // "dingding"

impl MigrationLock {
    async fn acquire(database: &DatabaseUrl) -> Result<Self, DbErr> {
        use sea_orm::sqlx::Connection;
        let fail = |error: &dyn std::fmt::Display| {
            DbErr::Custom(format!("cannot take the migration lock: {error}"))
        };
        match database {
            DatabaseUrl::Postgres(url) => {
                let mut connection = sea_orm::sqlx::PgConnection::connect(url.expose())
                    .await
                    .map_err(|error| fail(&error))?;
                sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut connection)
                    .await
                    .map_err(|error| fail(&error))?;
                Ok(Self::Postgres(connection))
            }
            DatabaseUrl::Sqlite(SqliteLocation::File(path)) => {
                let mut lock_path = path.clone().into_os_string();
                lock_path.push(".migrate-lock");
                tokio::task::spawn_blocking(move || {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&lock_path)?;
                    file.lock()?;
                    Ok::<_, std::io::Error>(file)
                })
                .await
                .map_err(|error| fail(&error))?
                .map(Self::File)
                .map_err(|error| fail(&error))
            }
            DatabaseUrl::Sqlite(SqliteLocation::Memory) => Ok(Self::None),
        }
    }

    /// Dropping would release it too (the session or file closes); this says when.
    async fn release(self) {
        use sea_orm::sqlx::Connection;
        match self {
            Self::Postgres(connection) => {
                connection.close().await.ok();
            }
            Self::File(file) => {
                file.unlock().ok();
            }
            Self::None => {}
        }
    }
}

/// `connect_and_migrate` for commands and the server, with the configured pool size: the
/// error says which database could not be opened.
pub async fn open(config: &Config) -> anyhow::Result<DatabaseConnection> {
    async {
        let db = connect_pooled(&config.database, config.database_pool_size).await?;
        migrate(&db, &config.database).await?;
        Ok::<_, DbErr>(db)
    }
    .await
    .with_context(|| format!("cannot open the database ({})", describe(&config.database)))
}

/// `init-db`: create the database if missing and apply every pending migration.
pub async fn init(config: &Config) -> anyhow::Result<()> {
    let db = connect(&config.database).await?;
    let pending = migrate(&db, &config.database).await?;
    db.close().await?;
    let location = describe(&config.database);
    tracing::info!(%location, pending, "database ready");
    println!("数据库已就绪 / database ready: {location} ({pending} migration(s) applied)");
    Ok(())
}

/// The database start-up settled on (`locate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub database: DatabaseUrl,
    /// The original's `DATA_DIR/app.db`, left untouched, to suggest importing.
    pub legacy_file: Option<PathBuf>,
}

/// `DATABASE_URL` names the original's database: refused (exit code 2, like configuration
/// errors) rather than migrated.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: DATABASE_URL: {}", legacy_refusal(.path))]
pub struct LegacyDatabaseUrl {
    pub path: PathBuf,
}

/// Decides which database file to use before anything opens one for writing.
///
/// `DATABASE_URL` set: that database, unless it is the original's. Unset: `DATA_DIR/
/// attendance.db`; but when that does not exist yet and `DATA_DIR/app.db` holds our data
/// (installs from before the rename), `app.db` stays in use. An `app.db` that is the Flask
/// original's is left alone and reported in `legacy_file`.
pub async fn locate(config: &Config) -> Result<Location, LegacyDatabaseUrl> {
    if !config.database_is_default {
        if let DatabaseUrl::Sqlite(SqliteLocation::File(path)) = &config.database
            && is_legacy(path).await
        {
            return Err(LegacyDatabaseUrl { path: path.clone() });
        }
        return Ok(Location {
            database: config.database.clone(),
            legacy_file: None,
        });
    }
    let ours = config.data_dir.join(DEFAULT_DATABASE_FILE);
    let previous = config.data_dir.join(PREVIOUS_DATABASE_FILE);
    let previous_kind = if previous.is_file() {
        match inspect(&previous).await {
            Ok(kind) => Some(kind),
            Err(error) => {
                tracing::warn!(
                    %error,
                    "cannot read {}; this server uses {}",
                    previous.display(),
                    ours.display()
                );
                None
            }
        }
    } else {
        None
    };
    let file = |path: PathBuf| DatabaseUrl::Sqlite(SqliteLocation::File(path));
    match previous_kind {
        Some(SchemaKind::Ours) if !ours.exists() => {
            tracing::info!(
                path = %previous.display(),
                "using the existing database {} (the default name is now {DEFAULT_DATABASE_FILE})",
                previous.display()
            );
            Ok(Location {
                database: file(previous),
                legacy_file: None,
            })
        }
        Some(SchemaKind::Ours) => {
            tracing::warn!(
                "{} also holds a database of this server; {} is the one in use",
                previous.display(),
                ours.display()
            );
            Ok(Location {
                database: file(ours),
                legacy_file: None,
            })
        }
        Some(SchemaKind::Legacy) => Ok(Location {
            database: file(ours),
            legacy_file: Some(previous),
        }),
        _ => Ok(Location {
            database: file(ours),
            legacy_file: None,
        }),
    }
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
        let path = dir.path().join("nested name").join("attendance.db");
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

    /// A file with the Flask original's tables, as SQLAlchemy would have created them.
    async fn write_legacy_file(path: &Path) {
        let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("create");
        for table in ["users", "shift_types", "system_configs", "schedules"] {
            db.execute_unprepared(&format!(
                "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(80))"
            ))
            .await
            .expect("create table");
        }
        db.close().await.expect("close");
    }

    fn config_in(dir: &Path, database_url: Option<&str>) -> Config {
        let data_dir = dir.display().to_string();
        Config::from_lookup(|name| match name {
            "APP_ENV" => Some("development".to_owned()),
            "DATA_DIR" => Some(data_dir.clone()),
            "DATABASE_URL" => database_url.map(str::to_owned),
            _ => None,
        })
        .expect("valid config")
    }

    fn sqlite_file(path: PathBuf) -> DatabaseUrl {
        DatabaseUrl::Sqlite(SqliteLocation::File(path))
    }

    #[tokio::test]
    async fn the_originals_database_is_recognised_and_never_touched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let legacy_path = dir.path().join("app.db");
        write_legacy_file(&legacy_path).await;
        let before = std::fs::read(&legacy_path).expect("read");
        assert_eq!(
            inspect(&legacy_path).await.expect("inspect"),
            SchemaKind::Legacy
        );
        let refused = connect(&sqlite_file(legacy_path.clone()))
            .await
            .expect_err("a legacy file is refused");
        assert!(refused.to_string().contains("import-legacy"), "{refused}");
        assert_eq!(std::fs::read(&legacy_path).expect("read"), before);
        assert!(!dir.path().join("app.db-wal").exists());

        let ours = dir.path().join("ours.db");
        connect_and_migrate(&sqlite_file(ours.clone()))
            .await
            .expect("migrate")
            .close()
            .await
            .expect("close");
        assert_eq!(inspect(&ours).await.expect("inspect"), SchemaKind::Ours);
    }

    #[tokio::test]
    async fn the_default_database_sits_next_to_a_legacy_app_db() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_legacy_file(&dir.path().join("app.db")).await;
        let location = locate(&config_in(dir.path(), None)).await.expect("located");
        assert_eq!(
            location.database,
            sqlite_file(dir.path().join("attendance.db"))
        );
        assert_eq!(location.legacy_file, Some(dir.path().join("app.db")));

        // Pointing DATABASE_URL at it is refused, not migrated.
        // SQLAlchemy style, as the original wrote it: four slashes for an absolute path.
        let url = format!("sqlite:///{}", dir.path().join("app.db").display());
        let error = locate(&config_in(dir.path(), Some(&url)))
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("DATABASE_URL"), "{error}");
        assert!(error.to_string().contains("import-legacy"), "{error}");
    }

    #[tokio::test]
    async fn an_existing_app_db_of_ours_stays_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let previous = dir.path().join("app.db");
        connect_and_migrate(&sqlite_file(previous.clone()))
            .await
            .expect("migrate")
            .close()
            .await
            .expect("close");
        let location = locate(&config_in(dir.path(), None)).await.expect("located");
        assert_eq!(location.database, sqlite_file(previous));
        assert_eq!(location.legacy_file, None);

        // Once attendance.db exists, it is the one.
        std::fs::write(dir.path().join("attendance.db"), b"").expect("touch");
        let location = locate(&config_in(dir.path(), None)).await.expect("located");
        assert_eq!(
            location.database,
            sqlite_file(dir.path().join("attendance.db"))
        );

        // No app.db at all: attendance.db.
        let empty = tempfile::tempdir().expect("tempdir");
        let location = locate(&config_in(empty.path(), None))
            .await
            .expect("located");
        assert_eq!(
            location.database,
            sqlite_file(empty.path().join("attendance.db"))
        );
    }
}
