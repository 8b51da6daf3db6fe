//! `migrate-db --to URL`: copies everything from the configured database (usually the
//! embedded SQLite file) into another one (usually PostgreSQL), all or nothing. The target
//! gets the current schema first and must hold no data; the rows are copied in one
//! transaction, table by table in foreign-key order, and every table's count is compared
//! with the source before it commits. Stop the server first: rows it writes during the
//! copy would not be in the target.

use anyhow::{Context, bail};
use app::ssr::entity::{
    access_token, audit_log, calendar_feed, channel, channel_preference, company_day, delivery,
    holiday_day, notice, punch, reminder_skip, request, request_event, robot_send, robot_state,
    schedule, session, setting, shift, used_link, user, worker_state,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityName, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait, PrimaryKeyToColumn,
    PrimaryKeyTrait, QueryOrder, Statement, TransactionTrait,
};

use crate::cli::MigrateDbArgs;
use crate::config::{Config, DatabaseUrl};
use crate::db;

/// Rows per `INSERT`: well under both databases' limits on bound parameters.
const ROWS_PER_INSERT: u64 = 500;

/// The migrations' own bookkeeping, written by `migrate` on the target, not copied.
const MIGRATION_TABLE: &str = "seaql_migrations";
/// The data version the read models are keyed by: the target keeps its own (the copy's
/// writes move it), nothing reads it across databases.
const DATA_VERSION_TABLE: &str = "data_version";

pub async fn run(config: &Config, args: &MigrateDbArgs) -> anyhow::Result<()> {
    let target_url = DatabaseUrl::parse(&args.to).map_err(|error| {
        anyhow::anyhow!(
            "--to: {}; nothing was changed",
            error.to_string().replace("DATABASE_URL", "--to")
        )
    })?;
    if target_url == config.database {
        bail!("--to names the database in use (DATABASE_URL); nothing was changed");
    }
    let source = db::open(config).await?;
    let target = db::connect_and_migrate(&target_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the target database ({})",
                db::describe(&target_url)
            )
        })?;
    let outcome = copy_all(&source, &target).await;
    source.close().await.ok();
    target.close().await.ok();
    let counts = outcome?;
    let total: u64 = counts.iter().map(|(_, rows)| rows).sum();
    for (table, rows) in &counts {
        println!("  {table}: {rows}");
    }
    println!(
        "已把 {total} 行从 {} 复制到 {}，各表行数一致 / copied {total} row(s) from {} to {}; every table's count matches",
        db::describe(&config.database),
        db::describe(&target_url),
        db::describe(&config.database),
        db::describe(&target_url),
    );
    tracing::info!(total, target = %db::describe(&target_url), "migrate-db");
    Ok(())
}

/// One table's copy, for the list below.
type CopyTable =
    for<'a> fn(
        &'a DatabaseConnection,
        &'a DatabaseTransaction,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Copied, DbErr>> + Send + 'a>>;

/// One table copied.
struct Copied {
    table: String,
    rows: u64,
    /// Its key is an auto-increment `id`, whose sequence must continue after the copy.
    serial_id: bool,
}

/// Every table with its copy, parents before the tables whose foreign keys point at them.
macro_rules! tables {
    ($($module:ident),* $(,)?) => {
        vec![$((
            EntityName::table_name(&$module::Entity),
            (|source, target| Box::pin(copy_table::<$module::Entity>(source, target))) as CopyTable,
        )),*]
    };
}

fn tables() -> Vec<(&'static str, CopyTable)> {
    tables![
        user,
        shift,
        setting,
        company_day,
        holiday_day,
        schedule,
        request,
        request_event,
        notice,
        channel,
        channel_preference,
        access_token,
        calendar_feed,
        session,
        punch,
        reminder_skip,
        delivery,
        audit_log,
        used_link,
        robot_state,
        robot_send,
        worker_state,
    ]
}

async fn copy_all(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
) -> anyhow::Result<Vec<(String, u64)>> {
    let tables = tables();
    refuse_unknown_or_used(target, tables.len()).await?;
    let txn = target.begin().await?;
    // What the migrations seeded (the default shifts and settings) makes way for the
    // source's own rows, children first.
    for (table, _) in tables.iter().rev() {
        txn.execute_unprepared(&format!("DELETE FROM \"{table}\""))
            .await?;
    }
    let mut counts = Vec::new();
    let mut serial_tables = Vec::new();
    for (_, copy) in tables {
        let Copied {
            table,
            rows: copied,
            serial_id,
        } = copy(source, &txn).await?;
        let in_source = count(source, &table).await?;
        let in_target = count(&txn, &table).await?;
        if copied != in_source || in_target != in_source {
            // Dropping the transaction rolls everything back.
            bail!(
                "table {table}: {in_source} row(s) in the source, {copied} read, {in_target} in the \
                 target; nothing was changed (was the server still running?)"
            );
        }
        if serial_id {
            serial_tables.push(table.clone());
        }
        counts.push((table, in_source));
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        restart_id_sequences(&txn, &serial_tables).await?;
    }
    txn.commit().await?;
    Ok(counts)
}

/// The target must hold exactly the tables copied here, and nobody may have used it yet
/// (no accounts): data of its own would be lost or mixed with the copy, and a table this
/// command does not know would be left behind.
async fn refuse_unknown_or_used(target: &DatabaseConnection, known: usize) -> anyhow::Result<()> {
    let tables = table_names(target).await?;
    if tables.len() != known {
        bail!(
            "the target has {} table(s) besides {MIGRATION_TABLE}, this command copies {known}: \
             it is a database of another version or application; nothing was changed",
            tables.len()
        );
    }
    let users = EntityName::table_name(&user::Entity);
    let rows = count(target, users).await?;
    if rows > 0 {
        bail!(
            "the target already holds data (table {users}: {rows} row(s)); migrate-db only \
             fills a new database; nothing was changed"
        );
    }
    Ok(())
}

async fn table_names(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut names = rows
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    names.retain(|name| name != MIGRATION_TABLE && name != DATA_VERSION_TABLE);
    Ok(names)
}

async fn count(db: &impl ConnectionTrait, table: &str) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "")),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("count of {table}")))?;
    Ok(u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0))
}

/// Copies one table in primary-key order, a page at a time (a year of schedules for a
/// big team does not fit in memory at once).
async fn copy_table<E>(
    source: &DatabaseConnection,
    target: &DatabaseTransaction,
) -> Result<Copied, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let table = E::default().table_name().to_owned();
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut pages = query.paginate(source, ROWS_PER_INSERT);
    let mut copied = 0;
    while let Some(rows) = pages.fetch_and_next().await? {
        if rows.is_empty() {
            break;
        }
        copied += rows.len() as u64;
        // `reset_all`: every column is written, ids included, so references stay valid.
        let models = rows
            .into_iter()
            .map(|row| row.into_active_model().reset_all());
        E::insert_many(models)
            .exec_without_returning(target)
            .await?;
    }
    Ok(Copied {
        table,
        rows: copied,
        serial_id: <E::PrimaryKey as PrimaryKeyTrait>::auto_increment(),
    })
}

/// Ids were copied as they were, so each table's id sequence continues after the highest.
async fn restart_id_sequences(txn: &DatabaseTransaction, tables: &[String]) -> Result<(), DbErr> {
    for table in tables {
        txn.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
             COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}
