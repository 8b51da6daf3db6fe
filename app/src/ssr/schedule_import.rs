//! 排班导入 and CSV export. An upload is parsed and resolved into a per-row preview; a
//! confirmed import with no bad rows is written in one transaction through the same path
//! as every calendar edit, and the file is kept under `UPLOAD_DIR`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::auth::{Actor, RequestMeta};
use super::entity::{schedule, shift, user};
use super::schedules::{Source, apply, check_range};
use super::{Services, shifts};
use crate::AppError;
use crate::domain::account::username_key;
use crate::domain::schedule_file::{
    ExportRow, FileError, FileFormat, Lookup, PARSE_BUDGET_SECS, ParsedFile, PreviewRow, RowStatus,
    ShiftMatch, parse, preview, write_csv,
};
use crate::wire::{ImportReport, ImportRow, ImportSummary, ScheduleWrite};

/// Parses running at once: each holds a blocking thread and up to `MAX_UNZIPPED_BYTES` of
/// work, so a few uploads cannot take every blocking thread or pile up memory.
pub const MAX_CONCURRENT_PARSES: usize = 2;

/// An uploaded file and what to do with it.
pub struct Upload<'a> {
    pub format: FileFormat,
    pub bytes: &'a [u8],
    pub dry_run: bool,
    /// The user a `data.json` file belongs to (default: the caller).
    pub user_id: Option<i32>,
    pub file_name: Option<&'a str>,
}

fn shift_matcher(shifts: &[shift::Model]) -> impl Fn(&str) -> ShiftMatch + '_ {
    move |text: &str| {
        let text = text.trim();
        let by_name: Vec<&shift::Model> = shifts.iter().filter(|s| s.name == text).collect();
        let by_label: Vec<&shift::Model> = shifts
            .iter()
            .filter(|s| s.label == text && s.active)
            .collect();
        let found = match (by_name.as_slice(), by_label.as_slice()) {
            ([one], _) => Some(*one),
            ([], [one]) => Some(*one),
            ([], []) => None,
            _ => return ShiftMatch::Ambiguous,
        };
        match found {
            // "休" in the original's data.json means any rest shift when none is named so.
            None if text == "休" => shifts
                .iter()
                .find(|s| s.rest && s.active)
                .map_or(ShiftMatch::NotFound, |s| ShiftMatch::Found(s.id)),
            None => ShiftMatch::NotFound,
            Some(s) if !s.active => ShiftMatch::Archived,
            Some(s) => ShiftMatch::Found(s.id),
        }
    }
}

/// Parses, previews and (unless `dry_run`) imports a file.
pub async fn import(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    upload: Upload<'_>,
) -> Result<ImportReport, AppError> {
    let parsed = parse_within_budget(services, upload.format, upload.bytes)
        .await?
        .map_err(|error| AppError::invalid("file", error.message))?;
    let fixed_user = match upload.format {
        FileFormat::DataJson => {
            let id = upload
                .user_id
                .or(actor.user_id())
                .ok_or_else(|| AppError::invalid("user_id", "导入 data.json 时请指定用户"))?;
            actor.require_self_or_admin(id)?;
            let person = user::Entity::find_by_id(id)
                .one(&services.db)
                .await?
                .ok_or_else(|| AppError::missing("user_id", format!("用户 {id} 不存在")))?;
            Some((person.id, person.username))
        }
        _ => None,
    };

    let users: HashMap<String, i32> = user::Entity::find()
        .all(&services.db)
        .await?
        .into_iter()
        .map(|person| (person.username_key, person.id))
        .collect();
    let shift_rows = shifts::all_models(&services.db).await?;
    let shift_names: HashMap<i32, String> =
        shift_rows.iter().map(|s| (s.id, s.name.clone())).collect();
    let existing = existing_for(services, &parsed.lines).await?;
    // The look-ups borrow as `&dyn Fn` (not `Send`): resolve before the next await.
    let mut rows = {
        let matcher = shift_matcher(&shift_rows);
        let user_lookup = |name: &str| users.get(&username_key(name)).copied();
        let existing_lookup =
            |user_id: i32, date: NaiveDate| existing.get(&(user_id, date)).copied();
        let lookup = Lookup {
            user_by_name: &user_lookup,
            shift_by_name_or_label: &matcher,
            existing: &existing_lookup,
        };
        preview(&parsed, fixed_user, &lookup)
    };
    if !actor.is_admin() {
        for row in &mut rows {
            if row.user_id.is_some() && row.user_id != actor.user_id() && !row.status.is_error() {
                row.status = RowStatus::Error {
                    message: "只能导入自己的排班".to_owned(),
                };
            }
        }
    }

    let summary = summarise(&rows);
    let mut report = ImportReport {
        format: upload.format.as_str().to_owned(),
        dry_run: upload.dry_run,
        committed: false,
        summary,
        rows: Vec::new(),
    };
    if !upload.dry_run {
        if let Some(first) = rows.iter().find(|row| row.status.is_error()) {
            let message = match &first.status {
                RowStatus::Error { message } => message.clone(),
                _ => String::new(),
            };
            return Err(AppError::invalid(
                "file",
                format!(
                    "第 {} 行：{message}（共 {} 行有错误），未写入任何数据",
                    first.line, summary.errors
                ),
            ));
        }
        let items: Vec<ScheduleWrite> = rows
            .iter()
            .filter(|row| matches!(row.status, RowStatus::New | RowStatus::Change { .. }))
            .filter_map(|row| {
                Some(ScheduleWrite {
                    user_id: row.user_id?,
                    date: row.date?,
                    shift_id: row.shift_id,
                    note: row.note.clone(),
                })
            })
            .collect();
        let file = upload.file_name.unwrap_or("upload");
        apply(services, actor, meta, items, Source::Import { file }).await?;
        report.committed = true;
        keep_upload(services, actor, &upload).await;
    }
    report.rows = rows
        .into_iter()
        .map(|row| to_view(row, &shift_names))
        .collect();
    Ok(report)
}

/// Parses off the request threads (a 50,000-row file or an XLSX to decompress is CPU
/// work), at most `MAX_CONCURRENT_PARSES` at once, within `PARSE_BUDGET_SECS` of wall-clock
/// time counted from the request (waiting for a slot included). When the budget runs out
/// the request is answered at once and the parse, told through its stop flag, ends itself
/// within a few milliseconds; it keeps its slot until then.
async fn parse_within_budget(
    services: &Services,
    format: FileFormat,
    bytes: &[u8],
) -> Result<Result<ParsedFile, FileError>, AppError> {
    let budget = Duration::from_secs(PARSE_BUDGET_SECS);
    let deadline = tokio::time::Instant::now() + budget;
    let Ok(slot) = tokio::time::timeout_at(
        deadline,
        Arc::clone(&services.import_parses).acquire_owned(),
    )
    .await
    else {
        return Ok(Err(FileError::new(format!(
            "服务器正忙于解析其他导入文件，{PARSE_BUDGET_SECS} 秒内没有空闲，请稍后重试"
        ))));
    };
    let slot = slot.map_err(|error| {
        tracing::error!(%error, "import parse slots closed");
        AppError::Internal
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = bytes.to_vec();
    let task = tokio::task::spawn_blocking({
        let stop = Arc::clone(&stop);
        move || {
            let _slot = slot;
            parse(format, &bytes, &stop)
        }
    });
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(error)) => {
            tracing::error!(%error, "import parser failed");
            Err(AppError::Internal)
        }
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            tracing::warn!(%format, "import parse stopped: time budget ran out");
            Ok(Err(FileError::over_budget()))
        }
    }
}

fn summarise(rows: &[PreviewRow]) -> ImportSummary {
    let mut summary = ImportSummary {
        rows: rows.len(),
        ..ImportSummary::default()
    };
    for row in rows {
        match row.status {
            RowStatus::New => summary.new += 1,
            RowStatus::Change { .. } => summary.change += 1,
            RowStatus::Unchanged => summary.unchanged += 1,
            RowStatus::Error { .. } => summary.errors += 1,
        }
    }
    summary
}

fn to_view(row: PreviewRow, shift_names: &HashMap<i32, String>) -> ImportRow {
    let (status, previous, message) = match row.status {
        RowStatus::New => ("new", None, None),
        RowStatus::Unchanged => ("unchanged", None, None),
        RowStatus::Change { previous } => ("change", shift_names.get(&previous).cloned(), None),
        RowStatus::Error { message } => ("error", None, Some(message)),
    };
    ImportRow {
        line: row.line,
        date: row.date,
        username: row.username,
        shift: row.shift,
        note: row.note,
        status: status.to_owned(),
        previous,
        message,
    }
}

/// The current shift of every (user, date) the file could touch: one query over the
/// file's date span.
async fn existing_for(
    services: &Services,
    lines: &[crate::domain::schedule_file::FileLine],
) -> Result<HashMap<(i32, NaiveDate), i32>, AppError> {
    let (Some(from), Some(to)) = (
        lines.iter().map(|line| line.date).min(),
        lines.iter().map(|line| line.date).max(),
    ) else {
        return Ok(HashMap::new());
    };
    Ok(schedule::Entity::find()
        .filter(schedule::Column::Date.between(from, to))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| ((row.user_id, row.date), row.shift_id))
        .collect())
}

/// Keeps the imported file under `UPLOAD_DIR/imports` for reference; failing to keep it
/// does not undo the import (it is logged).
async fn keep_upload(services: &Services, actor: &Actor, upload: &Upload<'_>) {
    let Some(dir) = services.settings.upload_dir.as_ref() else {
        return;
    };
    let folder = super::uploads::owner_dir(dir, actor.user_id());
    let stamp = services.clock.now().format("%Y%m%d-%H%M%S");
    let original: String = upload
        .file_name
        .unwrap_or("upload")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let name = format!("{stamp}-{}-{original}", username_key(actor.name()));
    super::uploads::keep(folder, name, upload.bytes.to_vec()).await;
}

/// A CSV of a range (`date,username,shift,note`, the import's own columns, so it
/// round-trips). Members export their own schedule; admins everyone's or one user's.
pub async fn export_csv(
    services: &Services,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    user_id: Option<i32>,
) -> Result<String, AppError> {
    check_range(from, to)?;
    let user_id = match user_id {
        Some(id) => {
            actor.require_self_or_admin(id)?;
            Some(id)
        }
        None if actor.is_admin() => None,
        None => actor.user_id(),
    };
    let mut select = schedule::Entity::find()
        .filter(schedule::Column::Date.between(from, to))
        .order_by_asc(schedule::Column::Date)
        .order_by_asc(schedule::Column::UserId);
    if let Some(id) = user_id {
        select = select.filter(schedule::Column::UserId.eq(id));
    }
    let entries = select.all(&services.db).await?;
    let names: HashMap<i32, String> = user::Entity::find()
        .all(&services.db)
        .await?
        .into_iter()
        .map(|person| (person.id, person.username))
        .collect();
    let shift_names: HashMap<i32, String> = shifts::all_models(&services.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let rows: Vec<ExportRow> = entries
        .into_iter()
        .map(|entry| ExportRow {
            date: entry.date,
            username: names.get(&entry.user_id).cloned().unwrap_or_default(),
            shift: shift_names
                .get(&entry.shift_id)
                .cloned()
                .unwrap_or_default(),
            note: entry.note,
        })
        .collect();
    Ok(write_csv(&rows))
}
