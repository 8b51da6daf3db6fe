//! `dingding-attendance backup [PATH]`: a consistent copy of the live SQLite database,
//! taken with `VACUUM INTO` (one read transaction, so it is safe while the server runs and
//! the copy is compact and self-contained: no -wal file to carry along).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use app::ssr::{Clock, SystemClock};
use sea_orm::ConnectionTrait;

use crate::cli::BackupArgs;
use crate::config::{Config, DatabaseUrl, SqliteLocation};
use crate::db;

pub async fn run(config: &Config, args: &BackupArgs) -> anyhow::Result<()> {
    let source = match &config.database {
        DatabaseUrl::Sqlite(SqliteLocation::File(path)) => path,
        DatabaseUrl::Sqlite(SqliteLocation::Memory) => {
            bail!("DATABASE_URL is an in-memory database: there is nothing to back up")
        }
        DatabaseUrl::Postgres(_) => bail!(
            "DATABASE_URL is PostgreSQL: back it up with PostgreSQL's own tool, e.g. \
             pg_dump -Fc \"$DATABASE_URL\" > dingding-$(date +%F).dump"
        ),
    };
    if !source.is_file() {
        bail!(
            "no database at {} (DATABASE_URL / DATA_DIR): nothing to back up",
            source.display()
        );
    }
    let target = match &args.path {
        Some(path) => path.clone(),
        None => default_target(config),
    };
    if target.exists() {
        bail!(
            "{} already exists: a backup never overwrites a file; give another path",
            target.display()
        );
    }
    if let Some(parent) = target
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let db = db::connect(&config.database)
        .await
        .with_context(|| format!("cannot open {}", source.display()))?;
    let written = db
        .execute_unprepared(&format!("VACUUM INTO {}", sql_string(&target)?))
        .await;
    db.close().await.ok();
    written.with_context(|| format!("cannot write the backup to {}", target.display()))?;
    let size = std::fs::metadata(&target)
        .map(|meta| meta.len())
        .unwrap_or(0);
    println!(
        "backup written: {} ({} KiB) from {}",
        target.display(),
        size.div_ceil(1024),
        source.display()
    );
    Ok(())
}

/// `DATA_DIR/backups/app-YYYYMMDD-HHMMSS.db`, in the configured zone's wall-clock time.
fn default_target(config: &Config) -> PathBuf {
    let stamp = SystemClock
        .now()
        .with_timezone(&config.timezone.tz())
        .format("%Y%m%d-%H%M%S");
    config
        .data_dir
        .join("backups")
        .join(format!("app-{stamp}.db"))
}

/// The path as an SQL string literal (quotes doubled); paths that are not UTF-8 are refused.
fn sql_string(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("the path {} is not valid UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_as_sql_strings() {
        assert_eq!(
            sql_string(Path::new("/app/data/backups/it's.db")).expect("utf-8"),
            "'/app/data/backups/it''s.db'"
        );
    }
}
