//! `import-legacy`: the Flask original's SQLite file, opened read-only (SQLite itself then
//! refuses every write to it), checked table by table, planned against what is here
//! (`domain::legacy`) and written in one transaction: all of it or nothing.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set, Statement,
};

use super::Services;
use super::audit::{self, AuditEvent, SYSTEM_ACTOR};
use super::auth::RequestMeta;
use super::entity::{audit_log, schedule, shift, user};
use super::secret_box::SecretBox;
use super::settings;
use super::shifts::DEFAULT_REMIND_BEFORE_MIN;
use crate::AppError;
use crate::domain::Role;
use crate::domain::audit::AuditKind;
use crate::domain::legacy::{
    self, Action, Legacy, LegacyError, OurSchedule, OurShift, OurUser, Ours, Plan, PlanContext,
    RawRow, Report, SettingCheck, ShiftRef, TableSpec,
};

/// Rows per multi-row INSERT: far below SQLite's limit on bound values.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is missing, unreadable or not an SQLite database at all.
    #[error("cannot read {path} as an SQLite database: {reason}")]
    Unreadable { path: String, reason: String },
    /// The file is an SQLite database, but not the original's, or a value in it is bad.
    #[error("{0}")]
    Legacy(#[from] LegacyError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    App(#[from] AppError),
    /// The plan refers to a row it did not write: a bug, never the user's data.
    #[error("the import plan is inconsistent (a bug): nothing was written")]
    Inconsistent,
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Opens the legacy file read-only. Nothing done through this connection can change it.
pub async fn open_legacy(path: &Path) -> Result<DatabaseConnection, ImportError> {
    if !path.is_file() {
        return Err(unreadable(path, "no such file"));
    }
    let filename = path.to_path_buf();
    // The URL is a placeholder: the filename is set directly so paths need no escaping.
    let mut options = ConnectOptions::new("sqlite://legacy.db".to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.filename(&filename)
                .read_only(true)
                .create_if_missing(false)
        });
    Database::connect(options)
        .await
        .map_err(|error| unreadable(path, error))
}

fn statement(sql: impl Into<String>) -> Statement {
    Statement::from_string(DbBackend::Sqlite, sql.into())
}

/// The file's table names; the first query, so a file that is not SQLite fails here.
async fn table_names(db: &DatabaseConnection, path: &Path) -> Result<Vec<String>, ImportError> {
    let rows = db
        .query_all_raw(statement(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        ))
        .await
        .map_err(|error| unreadable(path, error))?;
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()
        .map_err(|error| unreadable(path, error))
}

async fn column_names(db: &DatabaseConnection, table: &str) -> Result<Vec<String>, ImportError> {
    // Table names come from our own constants; quoted anyway.
    let rows = db
        .query_all_raw(statement(format!(
            "SELECT name FROM pragma_table_info('{}')",
            table.replace('\'', "''")
        )))
        .await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()
        .map_err(ImportError::from)
}

/// Every row of `spec`'s table, each read column as text: SQLite's columns hold any type,
/// and parsing text lets `domain::legacy` name the row and column of a bad value.
async fn read_table(db: &DatabaseConnection, spec: &TableSpec) -> Result<Vec<RawRow>, ImportError> {
    let columns = spec.columns_to_read(&column_names(db, spec.name).await?)?;
    let select: Vec<String> = columns
        .iter()
        .map(|column| format!("CAST(\"{column}\" AS TEXT)"))
        .collect();
    let rows = db
        .query_all_raw(statement(format!(
            "SELECT rowid, {} FROM \"{}\" ORDER BY rowid",
            select.join(", "),
            spec.name
        )))
        .await?;
    let mut read = Vec::with_capacity(rows.len());
    for row in rows {
        let rowid = row.try_get_by_index::<i64>(0)?;
        let mut cells = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            let value = row
                .try_get_by_index::<Option<String>>(index + 1)
                .map_err(|_| {
                    LegacyError::cell(spec.name, rowid, column, "the value is not readable text")
                })?;
            cells.push((*column, value));
        }
        read.push(RawRow { rowid, cells });
    }
    Ok(read)
}

/// Reads and checks the whole legacy file: the first problem (a missing table or column, a
/// bad value) is the error, naming where it is.
pub async fn read_legacy(db: &DatabaseConnection, path: &Path) -> Result<Legacy, ImportError> {
    let tables = table_names(db, path).await?;
    legacy::check_tables(&tables)?;
    let has = |name: &str| tables.iter().any(|table| table.eq_ignore_ascii_case(name));
    let users = read_table(db, &legacy::USERS).await?;
    let shifts = read_table(db, &legacy::SHIFT_TYPES).await?;
    let schedules = read_table(db, &legacy::SCHEDULES).await?;
    let configs = read_table(db, &legacy::SYSTEM_CONFIGS).await?;
    let logs = if has(legacy::SYSTEM_LOGS.name) {
        read_table(db, &legacy::SYSTEM_LOGS).await?
    } else {
        Vec::new()
    };
    Legacy::parse(
        &users,
        &shifts,
        &schedules,
        &configs,
        &logs,
        legacy::tables_left_behind(&tables),
    )
    .map_err(ImportError::from)
}

/// What is here, as the plan compares it.
async fn read_ours(db: &impl ConnectionTrait, secrets: &SecretBox) -> Result<Ours, ImportError> {
    let users = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| OurUser {
            id: row.id,
            role: Role::parse(&row.role).unwrap_or(Role::Member),
            signed_in: row.last_login_at.is_some(),
            username: row.username,
            username_key: row.username_key,
            active: row.active,
            email: row.email,
            password_hash: row.password_hash,
            must_change_password: row.must_change_password,
        })
        .collect();
    let shifts = shift::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| OurShift {
            id: row.id,
            name: row.name,
            label: row.label,
            color: row.color,
            start: row.start_time,
            end: row.end_time,
            rest: row.rest,
            active: row.active,
            note: row.note,
        })
        .collect();
    let schedules = schedule::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| OurSchedule {
            id: row.id,
            user_id: row.user_id,
            date: row.date,
            shift_id: row.shift_id,
            note: row.note,
        })
        .collect();
    // Opened as the settings page reads them: sealed values compare by their plaintext.
    let settings = settings::read_stored(db, secrets).await?.into_values();
    let imported_logs = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Detail)
        .filter(audit_log::Column::Kind.eq(AuditKind::LegacyLog.as_str()))
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .filter_map(|detail| legacy::log_marker_id(&detail))
        .collect();
    Ok(Ours {
        users,
        shifts,
        schedules,
        settings,
        imported_logs,
    })
}

fn context(services: &Services) -> PlanContext {
    let now = services.clock.now();
    let retention_days = services.settings.audit_retention_days;
    PlanContext {
        now,
        keep_logs_since: now - chrono::Duration::days(i64::from(retention_days)),
        retention_days,
    }
}

/// Plans the import and, unless `dry_run`, writes it in one transaction (read and written
/// under the same write lock, so nothing changes between planning and writing). A
/// repeated import plans no writes and writes nothing, not even an audit entry.
pub async fn import(
    services: &Services,
    legacy: &Legacy,
    dry_run: bool,
) -> Result<Report, ImportError> {
    let context = context(services);
    let check = |key: &str, raw: &str| {
        settings::check_imported_value(services, key, raw)
            .unwrap_or_else(|| SettingCheck::Invalid("not a setting here".to_owned()))
    };
    if dry_run {
        let ours = read_ours(&services.db, &services.secrets).await?;
        return Ok(legacy::plan(legacy, &ours, &context, check).report);
    }
    let txn = services.begin_write().await?;
    let ours = read_ours(&txn, &services.secrets).await?;
    let plan = legacy::plan(legacy, &ours, &context, check);
    if plan.report.changes() > 0 {
        write(&txn, &services.secrets, &plan, context.now).await?;
        audit::record(
            &txn,
            context.now,
            AuditEvent {
                kind: AuditKind::LegacyImported,
                actor_user_id: None,
                actor_name: SYSTEM_ACTOR,
                subject: None,
                meta: &RequestMeta::default(),
                detail: Some(summary(&plan.report)),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(plan.report)
}

/// The audit entry's detail: new/updated per table.
fn summary(report: &Report) -> String {
    let pair = |counts: &legacy::Counts| format!("{}/{}", counts.new, counts.updated);
    format!(
        "命令行 import-legacy，新增/更新：用户 {}，班次 {}，排班 {}，设置 {}，日志 {}",
        pair(&report.users),
        pair(&report.shifts),
        pair(&report.schedules),
        pair(&report.settings),
        pair(&report.logs)
    )
}

async fn write(
    txn: &DatabaseTransaction,
    secrets: &SecretBox,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    let user_ids = write_users(txn, plan, now).await?;
    let shift_ids = write_shifts(txn, plan, now).await?;
    write_schedules(txn, plan, &user_ids, &shift_ids).await?;
    write_settings(txn, secrets, plan, now).await?;
    write_logs(txn, plan, &user_ids).await
}

/// Our id for each planned user, in plan order.
async fn write_users(
    txn: &DatabaseTransaction,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Vec<Option<i32>>, ImportError> {
    let mut ids = Vec::with_capacity(plan.users.len());
    for planned in &plan.users {
        let id = match (planned.action, planned.existing) {
            (Action::New, _) => {
                let row = user::ActiveModel {
                    username: Set(planned.username.clone()),
                    username_key: Set(planned.username_key.clone()),
                    display_name: Set(planned.username.clone()),
                    email: Set(planned.email.clone()),
                    role: Set(planned.role.as_str().to_owned()),
                    active: Set(planned.active),
                    // Their own password: kept. A weak one is caught at the first login.
                    must_change_password: Set(false),
                    password_hash: Set(planned.password_hash.clone()),
                    created_at: Set(planned.created_at),
                    updated_at: Set(planned.updated_at),
                    last_login_at: Set(None),
                    reminders_enabled: Set(true),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Some(row.id)
            }
            (Action::Updated, Some(id)) => {
                user::ActiveModel {
                    id: ActiveValue::Unchanged(id),
                    email: Set(planned.email.clone()),
                    role: Set(planned.role.as_str().to_owned()),
                    active: Set(planned.active),
                    must_change_password: Set(false),
                    password_hash: Set(planned.password_hash.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                Some(id)
            }
            (_, existing) => existing,
        };
        ids.push(id);
    }
    Ok(ids)
}

/// Our id for each planned shift, in plan order.
async fn write_shifts(
    txn: &DatabaseTransaction,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Vec<Option<i32>>, ImportError> {
    let mut ids = Vec::with_capacity(plan.shifts.len());
    for planned in &plan.shifts {
        let id = match (planned.action, planned.existing) {
            (Action::New, _) => {
                let row = shift::ActiveModel {
                    name: Set(planned.name.clone()),
                    label: Set(planned.label.clone()),
                    color: Set(planned.color.clone()),
                    start_time: Set(planned.start.clone()),
                    end_time: Set(planned.end.clone()),
                    rest: Set(planned.rest),
                    remind_before_min: Set(i32::from(DEFAULT_REMIND_BEFORE_MIN)),
                    // The original's reminders followed WORK_OVERTIME for every shift.
                    remind_after_min: Set(None),
                    note: Set(planned.note.clone()),
                    active: Set(planned.active),
                    created_at: Set(now),
                    updated_at: Set(now),
                    follow_up_every_min: Set(None),
                    follow_up_count: Set(None),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Some(row.id)
            }
            (Action::Updated, Some(id)) => {
                shift::ActiveModel {
                    id: ActiveValue::Unchanged(id),
                    color: Set(planned.color.clone()),
                    start_time: Set(planned.start.clone()),
                    end_time: Set(planned.end.clone()),
                    rest: Set(planned.rest),
                    active: Set(planned.active),
                    note: Set(planned.note.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                Some(id)
            }
            (_, existing) => existing,
        };
        ids.push(id);
    }
    Ok(ids)
}

async fn write_schedules(
    txn: &DatabaseTransaction,
    plan: &Plan,
    user_ids: &[Option<i32>],
    shift_ids: &[Option<i32>],
) -> Result<(), ImportError> {
    let mut inserts = Vec::new();
    for planned in &plan.schedules {
        let user_id = user_ids
            .get(planned.user)
            .copied()
            .flatten()
            .ok_or(ImportError::Inconsistent)?;
        let shift_id = match planned.shift {
            ShiftRef::Existing(id) => id,
            ShiftRef::Planned(index) => shift_ids
                .get(index)
                .copied()
                .flatten()
                .ok_or(ImportError::Inconsistent)?,
        };
        match planned.existing {
            None => inserts.push(schedule::ActiveModel {
                user_id: Set(user_id),
                date: Set(planned.date),
                shift_id: Set(shift_id),
                note: Set(planned.note.clone()),
                updated_by: Set(None),
                updated_at: Set(planned.updated_at),
                ..Default::default()
            }),
            Some(id) => {
                schedule::ActiveModel {
                    id: ActiveValue::Unchanged(id),
                    shift_id: Set(shift_id),
                    note: Set(planned.note.clone()),
                    updated_by: Set(None),
                    updated_at: Set(planned.updated_at),
                    ..Default::default()
                }
                .update(txn)
                .await?;
            }
        }
    }
    for chunk in inserts.chunks(INSERT_CHUNK) {
        schedule::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn write_settings(
    txn: &DatabaseTransaction,
    secrets: &SecretBox,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    for planned in &plan.settings {
        // As the settings page stores them: secrets sealed.
        settings::write_stored(txn, secrets, planned.key, &planned.value, now).await?;
    }
    Ok(())
}

async fn write_logs(
    txn: &DatabaseTransaction,
    plan: &Plan,
    user_ids: &[Option<i32>],
) -> Result<(), ImportError> {
    let rows: Vec<audit_log::ActiveModel> = plan
        .logs
        .iter()
        .map(|planned| audit_log::ActiveModel {
            created_at: Set(planned.created_at),
            kind: Set(AuditKind::LegacyLog.as_str().to_owned()),
            actor_user_id: Set(planned
                .actor
                .and_then(|index| user_ids.get(index).copied().flatten())),
            actor_name: Set(planned.actor_name.clone()),
            subject: Set(planned.subject.clone()),
            ip: Set(planned.ip.clone()),
            user_agent: Set(planned.user_agent.clone()),
            detail: Set(Some(planned.detail.clone())),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}
