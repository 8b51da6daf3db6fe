//! Schedules (排班): one shift per person and day. Every write, from a calendar click to a
//! 50,000-row import, goes through `apply`: checked completely first, then written in one
//! transaction with one audit entry, or not at all.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{schedule, shift, user};
use super::{Services, holidays, shifts};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::period::{Span, visible_range};
use crate::wire::{
    CalendarData, CalendarDay, MAX_RANGE_DAYS, ScheduleEntry, ScheduleQuery, ScheduleWrite,
    TeamMember, WriteSummary,
};

/// The most items one write may carry (an import of 50,000 rows is one write).
pub const MAX_BATCH_ITEMS: usize = 50_000;
const NOTE_MAX_CHARS: usize = 200;
/// Audit entries list this many changes, then a count.
const AUDIT_DETAIL_LINES: usize = 50;
/// Rows per INSERT/DELETE statement: well under SQLite's bound-variable limit.
const CHUNK: usize = 500;

/// A readable range: `from` ≤ `to`, at most `MAX_RANGE_DAYS` days.
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), AppError> {
    if from > to {
        return Err(AppError::invalid("from", "开始日期不能晚于结束日期"));
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(AppError::invalid(
            "to",
            format!("日期范围最多 {MAX_RANGE_DAYS} 天"),
        ));
    }
    Ok(())
}

/// The entries in a range, as they are shown: four columns, not whole rows (a team's
/// month is thousands of rows, and SQLite copies each value it hands out).
async fn entries_in(
    db: &impl ConnectionTrait,
    users: Option<&[i32]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ScheduleEntry>, AppError> {
    let mut select = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
            schedule::Column::Note,
        ])
        .filter(schedule::Column::Date.between(from, to))
        .order_by_asc(schedule::Column::UserId)
        .order_by_asc(schedule::Column::Date);
    if let Some(users) = users {
        select = select.filter(schedule::Column::UserId.is_in(users.iter().copied()));
    }
    let rows: Vec<(i32, NaiveDate, i32, Option<String>)> = select.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, date, shift_id, note)| ScheduleEntry {
            user_id,
            date,
            shift_id,
            note,
        })
        .collect())
}

/// Entries in a range: members see their own; admins anyone's, or everyone's when
/// `user_id` is left out.
pub async fn list(
    services: &Services,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<Vec<ScheduleEntry>, AppError> {
    check_range(query.from, query.to)?;
    let user_id = match (query.user_id, actor.user_id()) {
        (Some(id), _) => {
            actor.require_self_or_admin(id)?;
            Some(id)
        }
        (None, _) if actor.is_admin() => None,
        (None, own) => own,
    };
    let (from, to) = (query.from, query.to);
    if user_id.is_none() && (to - from).num_days() < KEPT_LIST_DAYS {
        // The whole team's entries: kept while the data has not changed.
        let version = super::read_models::data_version(&services.db).await?;
        let kept = services
            .read_models
            .team_entries
            .get_or_build(version, (from, to), || {
                entries_in(&services.db, None, from, to)
            })
            .await?;
        return Ok(Vec::clone(&kept));
    }
    let users: Option<Vec<i32>> = user_id.map(|id| vec![id]);
    entries_in(&services.db, users.as_deref(), from, to).await
}

/// The whole team's entries are kept for ranges of up to this many days (a month and its
/// neighbours' edges); longer ranges are read per request.
const KEPT_LIST_DAYS: i64 = 62;

async fn entries_between(
    db: &impl ConnectionTrait,
    users: Option<&[i32]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<schedule::Model>, AppError> {
    let mut select = schedule::Entity::find()
        .filter(schedule::Column::Date.between(from, to))
        .order_by_asc(schedule::Column::UserId)
        .order_by_asc(schedule::Column::Date);
    if let Some(users) = users {
        select = select.filter(schedule::Column::UserId.is_in(users.iter().copied()));
    }
    select.all(db).await.map_err(AppError::from)
}

/// Batch upsert (`PUT /api/v1/schedules`): `shift_id: null` clears the day.
pub async fn write(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    items: Vec<ScheduleWrite>,
) -> Result<WriteSummary, AppError> {
    apply(services, actor, meta, items, Source::Edit).await
}

/// Where a write comes from, for the audit log.
pub enum Source<'a> {
    Edit,
    Batch,
    Import { file: &'a str },
}

fn parse_note(index: usize, raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim).filter(|note| !note.is_empty()) {
        None => Ok(None),
        Some(note) if note.chars().count() > NOTE_MAX_CHARS => Err(AppError::invalid(
            format!("[{index}].note"),
            format!("备注最多 {NOTE_MAX_CHARS} 个字符"),
        )),
        Some(note) if note.chars().any(char::is_control) => Err(AppError::invalid(
            format!("[{index}].note"),
            "备注不能包含控制字符",
        )),
        Some(note) => Ok(Some(note.to_owned())),
    }
}

/// Checks every item, then writes all of them in one transaction. Errors name the item
/// (`[3].shift_id`) the way the REST API's body errors do.
pub async fn apply(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    items: Vec<ScheduleWrite>,
    source: Source<'_>,
) -> Result<WriteSummary, AppError> {
    if items.len() > MAX_BATCH_ITEMS {
        return Err(AppError::invalid(
            "items",
            format!("一次最多写入 {MAX_BATCH_ITEMS} 条排班"),
        ));
    }
    let mut seen: HashMap<(i32, NaiveDate), usize> = HashMap::with_capacity(items.len());
    let mut notes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        actor.require_self_or_admin(item.user_id)?;
        if let Some(first) = seen.insert((item.user_id, item.date), index) {
            return Err(AppError::invalid(
                format!("[{index}]"),
                format!(
                    "与第 {first} 项重复：用户 {} 在 {} 只能有一个班次",
                    item.user_id, item.date
                ),
            ));
        }
        notes.push(parse_note(index, item.note.as_deref())?);
    }
    if items.is_empty() {
        return Ok(WriteSummary::default());
    }

    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let user_ids: BTreeSet<i32> = items.iter().map(|item| item.user_id).collect();
    let users: HashMap<i32, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    let shifts: HashMap<i32, shift::Model> = shifts::all_models(&txn)
        .await?
        .into_iter()
        .map(|shift| (shift.id, shift))
        .collect();
    let (Some(from), Some(to)) = (
        items.iter().map(|item| item.date).min(),
        items.iter().map(|item| item.date).max(),
    ) else {
        return Ok(WriteSummary::default());
    };
    let user_list: Vec<i32> = user_ids.iter().copied().collect();
    let existing: HashMap<(i32, NaiveDate), schedule::Model> =
        entries_between(&txn, Some(&user_list), from, to)
            .await?
            .into_iter()
            .map(|row| ((row.user_id, row.date), row))
            .collect();

    let mut summary = WriteSummary::default();
    let mut upserts = Vec::new();
    let mut deletions = Vec::new();
    let mut changes = Vec::new();
    for (index, (item, note)) in items.iter().zip(notes).enumerate() {
        let Some(person) = users.get(&item.user_id) else {
            return Err(AppError::missing(
                format!("[{index}].user_id"),
                format!("用户 {} 不存在", item.user_id),
            ));
        };
        let current = existing.get(&(item.user_id, item.date));
        let shift = match item.shift_id {
            None => None,
            Some(id) => match shifts.get(&id) {
                None => {
                    return Err(AppError::missing(
                        format!("[{index}].shift_id"),
                        format!("班次 {id} 不存在"),
                    ));
                }
                Some(shift) if !shift.active && current.is_none_or(|row| row.shift_id != id) => {
                    return Err(AppError::invalid(
                        format!("[{index}].shift_id"),
                        format!("班次“{}”已归档，不能再安排", shift.name),
                    ));
                }
                Some(shift) => Some(shift),
            },
        };
        let before = current.and_then(|row| shifts.get(&row.shift_id));
        match (current, shift) {
            (None, None) => summary.unchanged += 1,
            (Some(row), Some(shift)) if row.shift_id == shift.id && row.note == note => {
                summary.unchanged += 1;
            }
            (Some(row), None) => {
                summary.cleared += 1;
                deletions.push(row.id);
                changes.push(change_line(person, item.date, before, None));
            }
            (_, Some(shift)) => {
                summary.written += 1;
                upserts.push(schedule::ActiveModel {
                    user_id: Set(item.user_id),
                    date: Set(item.date),
                    shift_id: Set(shift.id),
                    note: Set(note),
                    updated_by: Set(actor.user_id()),
                    updated_at: Set(now),
                    ..Default::default()
                });
                changes.push(change_line(person, item.date, before, Some(shift)));
            }
        }
    }
    store(&txn, upserts, deletions).await?;
    if !changes.is_empty() {
        record_changes(&txn, actor, meta, now, &source, &summary, &changes).await?;
    }
    txn.commit().await?;
    Ok(summary)
}

async fn store(
    txn: &DatabaseTransaction,
    upserts: Vec<schedule::ActiveModel>,
    deletions: Vec<i32>,
) -> Result<(), AppError> {
    for chunk in deletions.chunks(CHUNK) {
        schedule::Entity::delete_many()
            .filter(schedule::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    let mut upserts = upserts.into_iter().peekable();
    while upserts.peek().is_some() {
        let chunk: Vec<_> = upserts.by_ref().take(CHUNK / 5).collect();
        // A concurrent writer may have created the row since we read: update it then.
        schedule::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([schedule::Column::UserId, schedule::Column::Date])
                    .update_columns([
                        schedule::Column::ShiftId,
                        schedule::Column::Note,
                        schedule::Column::UpdatedBy,
                        schedule::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn change_line(
    person: &user::Model,
    date: NaiveDate,
    before: Option<&shift::Model>,
    after: Option<&shift::Model>,
) -> String {
    let name = |shift: Option<&shift::Model>| {
        shift.map_or_else(|| "（无）".to_owned(), |shift| shift.name.clone())
    };
    format!(
        "{} {date}：{} → {}",
        person.username,
        name(before),
        name(after)
    )
}

async fn record_changes(
    txn: &DatabaseTransaction,
    actor: &Actor,
    meta: &RequestMeta,
    now: chrono::DateTime<chrono::Utc>,
    source: &Source<'_>,
    summary: &WriteSummary,
    changes: &[String],
) -> Result<(), AppError> {
    let (kind, heading) = match source {
        Source::Edit => (AuditKind::ScheduleChanged, String::new()),
        Source::Batch => (AuditKind::ScheduleChanged, "批量排班。".to_owned()),
        Source::Import { file } => (AuditKind::ScheduleImported, format!("导入 {file}。")),
    };
    let mut detail = format!(
        "{heading}写入 {} 条，清除 {} 条，未变 {} 条\n",
        summary.written, summary.cleared, summary.unchanged
    );
    for line in changes.iter().take(AUDIT_DETAIL_LINES) {
        detail.push_str(line);
        detail.push('\n');
    }
    if changes.len() > AUDIT_DETAIL_LINES {
        detail.push_str(&format!(
            "…… 另有 {} 条",
            changes.len() - AUDIT_DETAIL_LINES
        ));
    }
    let subject = match changes {
        [only] => only.split(' ').next().unwrap_or_default().to_owned(),
        _ => format!("{} 条排班", changes.len()),
    };
    audit::record(
        txn,
        now,
        AuditEvent::by(actor, kind, meta)
            .about(&subject)
            .detail(detail.trim_end().to_owned()),
    )
    .await
}

/// Everything a calendar needs for the period around `anchor` (default today) in one
/// answer. Without `team`, one person's
/// calendar (the caller's unless an admin names `user_id`); with `team` (admins), every
/// active user, optionally only those in `user_ids`.
pub async fn calendar(
    services: &Services,
    actor: &Actor,
    anchor: Option<NaiveDate>,
    span: Span,
    user_id: Option<i32>,
    team: bool,
) -> Result<CalendarData, AppError> {
    let today = services.today();
    let anchor = anchor.unwrap_or(today);
    if !(1970..=2200).contains(&anchor.year()) {
        return Err(AppError::invalid("anchor", "日期应在 1970–2200 年之间"));
    }
    let span = if team { Span::Month } else { span };
    let (from, to) = visible_range(anchor, span, team);
    if team && user_id.is_none() {
        actor.require_admin()?;
        // The whole team's grid: kept while the data has not changed.
        let version = super::read_models::data_version(&services.db).await?;
        let kept = services
            .read_models
            .team_grids
            .get_or_build(version, (from, to, today), || async {
                let members = team_members(services, None).await?;
                calendar_data(services, members, from, to, today, true).await
            })
            .await?;
        let mut data = CalendarData::clone(&kept);
        data.anchor = anchor;
        data.span = span;
        return Ok(data);
    }
    let members: Vec<TeamMember> = if team {
        actor.require_admin()?;
        team_members(services, user_id).await?
    } else {
        let id = match user_id.or(actor.user_id()) {
            Some(id) => id,
            None => return Err(AppError::invalid("user_id", "请指定用户")),
        };
        actor.require_self_or_admin(id)?;
        let person = user::Entity::find_by_id(id)
            .one(&services.db)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("用户 {id}")))?;
        vec![TeamMember {
            id: person.id,
            username: person.username,
            display_name: person.display_name,
        }]
    };
    let mut data = calendar_data(services, members, from, to, today, actor.is_admin()).await?;
    data.anchor = anchor;
    data.span = span;
    Ok(data)
}

/// Active people by display name, or only `user_id` among them.
async fn team_members(
    services: &Services,
    user_id: Option<i32>,
) -> Result<Vec<TeamMember>, AppError> {
    let mut select = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
        ])
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::DisplayName)
        .order_by_asc(user::Column::Id);
    if let Some(id) = user_id {
        select = select.filter(user::Column::Id.eq(id));
    }
    let rows: Vec<(i32, String, String)> = select.into_tuple().all(&services.db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, display_name)| TeamMember {
            id,
            username,
            display_name,
        })
        .collect())
}

/// The calendar of `members` for `from..=to` (anchored at `from`, a month: callers set
/// their own anchor and span).
async fn calendar_data(
    services: &Services,
    members: Vec<TeamMember>,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    admin: bool,
) -> Result<CalendarData, AppError> {
    let ids: Vec<i32> = members.iter().map(|member| member.id).collect();
    let entries = entries_in(&services.db, Some(&ids), from, to).await?;
    let calendar = holidays::calendar(&services.db).await?;
    let markers: HashMap<NaiveDate, (String, bool)> = calendar
        .markers_between(from, to)
        .into_iter()
        .map(|marker| (marker.date, (marker.name, marker.off_day)))
        .collect();
    let days = from
        .iter_days()
        .take_while(|date| *date <= to)
        .map(|date| CalendarDay {
            date,
            working: calendar.workday(date).working,
            marker: markers.get(&date).cloned(),
        })
        .collect();
    let overtime = super::settings::work_overtime(services).await?;
    let shifts = shifts::all_models(&services.db)
        .await?
        .iter()
        .map(|model| shifts::to_view(model, overtime))
        .collect();
    Ok(CalendarData {
        anchor: from,
        span: Span::Month,
        from,
        to,
        today,
        shifts,
        members,
        entries,
        days,
        years_without_data: calendar.years_without_data(from, to),
        admin,
        notes: super::requests::calendar_notes(&services.db, from, to, &ids).await?,
    })
}

/// Active users, by display name (admins only): the batch page's people picker.
pub async fn members(services: &Services, actor: &Actor) -> Result<Vec<TeamMember>, AppError> {
    actor.require_admin()?;
    Ok(user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::DisplayName)
        .order_by_asc(user::Column::Id)
        .all(&services.db)
        .await?
        .into_iter()
        .map(|member| TeamMember {
            id: member.id,
            username: member.username,
            display_name: member.display_name,
        })
        .collect())
}
