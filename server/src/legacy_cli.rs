//! `import-legacy PATH [--dry-run]`: moves the Flask original's data in.
//!
//! The legacy file is opened read-only and checked completely before our database is even
//! opened, so a bad file changes nothing anywhere. A dry run writes nothing either: with no
//! database yet it plans against a new in-memory one (what a real run would start from),
//! and it refuses a database that still needs migrating rather than migrate it.

use std::sync::Arc;

use anyhow::{Context, bail};
use app::ssr::SystemClock;
use app::ssr::legacy_import;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::cli::ImportLegacyArgs;
use crate::config::{Config, DatabaseUrl, SqliteLocation};
use crate::{db, startup};

pub async fn run(config: &Config, args: &ImportLegacyArgs) -> anyhow::Result<()> {
    let legacy_db = legacy_import::open_legacy(&args.path).await?;
    let read = legacy_import::read_legacy(&legacy_db, &args.path).await;
    legacy_db.close().await.ok();
    let legacy = read.map_err(|error| anyhow::anyhow!("{error}; nothing was imported"))?;

    let (database, fresh) = if args.dry_run {
        open_for_dry_run(config).await?
    } else {
        (db::open(config).await?, false)
    };
    let services = startup::build_services(config, database.clone(), Arc::new(SystemClock))?;
    let outcome = legacy_import::import(&services, &legacy, args.dry_run).await;
    database.close().await.ok();
    let report = outcome.map_err(|error| anyhow::anyhow!("{error}; nothing was written"))?;

    println!(
        "{} → {}",
        args.path.display(),
        db::describe(&config.database)
    );
    if fresh {
        println!("(the database does not exist yet: compared with a new, empty one)");
    }
    print!("{}", report.render(args.dry_run));
    tracing::info!(
        changes = report.changes(),
        conflicts = report.conflicts.len(),
        dry_run = args.dry_run,
        "legacy import"
    );
    Ok(())
}

/// Our database for a dry run, without changing it: the real one when it exists and is up
/// to date, else a new in-memory one with the migrations' seeds.
async fn open_for_dry_run(config: &Config) -> anyhow::Result<(DatabaseConnection, bool)> {
    if let DatabaseUrl::Sqlite(SqliteLocation::File(path)) = &config.database
        && !path.exists()
    {
        let db = db::connect_and_migrate(&DatabaseUrl::Sqlite(SqliteLocation::Memory))
            .await
            .context("cannot prepare an in-memory database for the dry run")?;
        return Ok((db, true));
    }
    let location = db::describe(&config.database);
    let db = db::connect(&config.database)
        .await
        .with_context(|| format!("cannot open the database ({location})"))?;
    let pending = Migrator::get_pending_migrations_read_only(&db).await?;
    // A new, empty PostgreSQL database is the server's "no file yet".
    if pending.len() == Migrator::migrations().len() {
        db.close().await.ok();
        let db = db::connect_and_migrate(&DatabaseUrl::Sqlite(SqliteLocation::Memory))
            .await
            .context("cannot prepare an in-memory database for the dry run")?;
        return Ok((db, true));
    }
    if !pending.is_empty() {
        db.close().await.ok();
        bail!(
            "the database ({location}) needs {} migration(s) first: run `dingding-attendance \
             init-db`, then the dry run again (a dry run changes nothing)",
            pending.len()
        );
    }
    Ok((db, false))
}
