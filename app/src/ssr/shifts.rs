//! Shift types (班次): everyone reads them, admins change them. A shift that any schedule
//! uses is archived instead of deleted, so history keeps its meaning.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{request, schedule, shift};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::reminder::{MAX_FOLLOW_UP_EVERY_MINUTES, MAX_FOLLOW_UPS};
use crate::domain::shift::{
    ClockTime, ShiftColor, ShiftHours, parse_shift_label, parse_shift_name,
};
use crate::domain::{FieldError, Minutes};
use crate::wire::{NewShift, ShiftPatch, ShiftRemoval, ShiftView};

pub const DEFAULT_REMIND_BEFORE_MIN: u16 = 15;
const DEFAULT_COLOR: &str = "#1677ff";
const NOTE_MAX_CHARS: usize = 200;

pub fn to_view(model: &shift::Model, work_overtime: Minutes) -> ShiftView {
    let overnight = hours_of(model).is_some_and(|hours| hours.overnight());
    ShiftView {
        id: model.id,
        name: model.name.clone(),
        label: model.label.clone(),
        color: model.color.clone(),
        start: model.start_time.clone(),
        end: model.end_time.clone(),
        rest: model.rest,
        remind_before_min: u16::try_from(model.remind_before_min).unwrap_or(0),
        remind_after_min: model
            .remind_after_min
            .and_then(|minutes| u16::try_from(minutes).ok())
            .unwrap_or(work_overtime.get()),
        remind_after_default: model.remind_after_min.is_none(),
        follow_up_count: model
            .follow_up_count
            .and_then(|count| u8::try_from(count).ok()),
        follow_up_every_min: model
            .follow_up_every_min
            .and_then(|every| u16::try_from(every).ok()),
        note: model.note.clone(),
        active: model.active,
        overnight,
    }
}

/// The stored hours, trusted because every write went through the parsers.
pub fn hours_of(model: &shift::Model) -> Option<ShiftHours> {
    Some(ShiftHours {
        start: ClockTime::parse(&model.start_time).ok()?,
        end: ClockTime::parse(&model.end_time).ok()?,
    })
}

fn parse_follow_up_count(value: Option<u32>) -> Result<Option<i32>, FieldError> {
    value
        .map(|count| {
            u8::try_from(count)
                .ok()
                .filter(|count| *count <= MAX_FOLLOW_UPS)
                .map(i32::from)
                .ok_or_else(|| FieldError::new("follow_up_count", "追加提醒次数应为 0 至 10 次"))
        })
        .transpose()
}

fn parse_follow_up_every(value: Option<u32>) -> Result<Option<i32>, FieldError> {
    value
        .map(|every| {
            u16::try_from(every)
                .ok()
                .filter(|every| (1..=MAX_FOLLOW_UP_EVERY_MINUTES).contains(every))
                .map(i32::from)
                .ok_or_else(|| {
                    FieldError::new("follow_up_every_min", "追加提醒间隔应为 1 至 240 分钟")
                })
        })
        .transpose()
}

fn minutes(field: &'static str, value: u32) -> Result<i32, FieldError> {
    Minutes::new(value)
        .map(|minutes| i32::from(minutes.get()))
        .map_err(|error| FieldError::new(field, error.expected))
}

fn clock(field: &'static str, raw: &str) -> Result<String, FieldError> {
    ClockTime::parse(raw)
        .map(|time| time.to_string())
        .map_err(|_| FieldError::new(field, "应为 HH:MM 格式的时间，例如 09:00"))
}

fn color(raw: &str) -> Result<String, FieldError> {
    ShiftColor::parse(raw)
        .map(|color| color.to_string())
        .map_err(|_| FieldError::new("color", "应为 #rrggbb 格式的颜色，例如 #3498db"))
}

fn note(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|note| !note.is_empty()) {
        None => Ok(None),
        Some(note) if note.chars().count() > NOTE_MAX_CHARS => Err(FieldError::new(
            "note",
            format!("最多 {NOTE_MAX_CHARS} 个字符"),
        )),
        Some(note) if note.chars().any(|c| c.is_control() && c != '\n') => {
            Err(FieldError::new("note", "不能包含控制字符"))
        }
        Some(note) => Ok(Some(note.to_owned())),
    }
}

/// All shift types, active first. `include_archived` is for the shifts page; pickers see
/// active ones only. Any authenticated caller (`_actor`) may read them.
pub async fn list(
    services: &Services,
    _actor: &Actor,
    include_archived: bool,
) -> Result<Vec<ShiftView>, AppError> {
    let mut select = shift::Entity::find()
        .order_by_desc(shift::Column::Active)
        .order_by_asc(shift::Column::Id);
    if !include_archived {
        select = select.filter(shift::Column::Active.eq(true));
    }
    let rows = select.all(&services.db).await?;
    let overtime = super::settings::work_overtime(services).await?;
    Ok(rows.iter().map(|row| to_view(row, overtime)).collect())
}

pub async fn all_models(db: &impl ConnectionTrait) -> Result<Vec<shift::Model>, AppError> {
    shift::Entity::find()
        .order_by_asc(shift::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from)
}

pub async fn get(services: &Services, _actor: &Actor, id: i32) -> Result<ShiftView, AppError> {
    let row = find(&services.db, id).await?;
    Ok(to_view(
        &row,
        super::settings::work_overtime(services).await?,
    ))
}

async fn find(db: &impl ConnectionTrait, id: i32) -> Result<shift::Model, AppError> {
    shift::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("班次 {id}")))
}

async fn ensure_name_free(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<i32>,
) -> Result<(), AppError> {
    let mut select = shift::Entity::find().filter(shift::Column::Name.eq(name));
    if let Some(id) = except {
        select = select.filter(shift::Column::Id.ne(id));
    }
    if select.count(db).await? > 0 {
        return Err(AppError::conflict(
            "name",
            format!("班次名称“{name}”已存在"),
        ));
    }
    Ok(())
}

fn describe(model: &shift::Model) -> String {
    let mut text = format!(
        "{}（{}）{}–{}",
        model.name, model.label, model.start_time, model.end_time
    );
    if model.rest {
        text.push_str(" 休息");
    }
    if !model.active {
        text.push_str(" 已归档");
    }
    text
}

pub async fn create(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewShift,
) -> Result<ShiftView, AppError> {
    actor.require_admin()?;
    let name = parse_shift_name(&input.name)?;
    let label = parse_shift_label(&input.label)?;
    let color = color(input.color.as_deref().unwrap_or(DEFAULT_COLOR))?;
    let start = clock("start", &input.start)?;
    let end = clock("end", &input.end)?;
    let remind_before = minutes(
        "remind_before_min",
        input
            .remind_before_min
            .unwrap_or(u32::from(DEFAULT_REMIND_BEFORE_MIN)),
    )?;
    let remind_after = input
        .remind_after_min
        .map(|value| minutes("remind_after_min", value))
        .transpose()?;
    let follow_up_count = parse_follow_up_count(input.follow_up_count)?;
    let follow_up_every = parse_follow_up_every(input.follow_up_every_min)?;
    let note = note(input.note.as_deref())?;

    let now = services.clock.now();
    let txn = services.begin_write().await?;
    ensure_name_free(&txn, &name, None).await?;
    let created = shift::ActiveModel {
        name: Set(name),
        label: Set(label),
        color: Set(color),
        start_time: Set(start),
        end_time: Set(end),
        rest: Set(input.rest.unwrap_or(false)),
        remind_before_min: Set(remind_before),
        remind_after_min: Set(remind_after),
        follow_up_count: Set(follow_up_count),
        follow_up_every_min: Set(follow_up_every),
        note: Set(note),
        active: Set(input.active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(name_taken)?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::ShiftCreated, meta)
            .about(&created.name)
            .detail(describe(&created)),
    )
    .await?;
    txn.commit().await?;
    Ok(to_view(
        &created,
        super::settings::work_overtime(services).await?,
    ))
}

fn name_taken(error: sea_orm::DbErr) -> AppError {
    if matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        AppError::conflict("name", "班次名称已存在")
    } else {
        AppError::from(error)
    }
}

pub async fn update(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
    patch: ShiftPatch,
) -> Result<ShiftView, AppError> {
    actor.require_admin()?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let before = find(&txn, id).await?;
    let mut row = before.clone().into_active_model();
    if let Some(name) = patch.name.as_deref() {
        let name = parse_shift_name(name)?;
        if name != before.name {
            ensure_name_free(&txn, &name, Some(id)).await?;
        }
        row.name = Set(name);
    }
    if let Some(label) = patch.label.as_deref() {
        row.label = Set(parse_shift_label(label)?);
    }
    if let Some(value) = patch.color.as_deref() {
        row.color = Set(color(value)?);
    }
    if let Some(start) = patch.start.as_deref() {
        row.start_time = Set(clock("start", start)?);
    }
    if let Some(end) = patch.end.as_deref() {
        row.end_time = Set(clock("end", end)?);
    }
    if let Some(rest) = patch.rest {
        row.rest = Set(rest);
    }
    if let Some(value) = patch.remind_before_min {
        row.remind_before_min = Set(minutes("remind_before_min", value)?);
    }
    if let Some(value) = patch.remind_after_min {
        row.remind_after_min = Set(value
            .map(|value| minutes("remind_after_min", value))
            .transpose()?);
    }
    if let Some(value) = patch.follow_up_count {
        row.follow_up_count = Set(parse_follow_up_count(value)?);
    }
    if let Some(value) = patch.follow_up_every_min {
        row.follow_up_every_min = Set(parse_follow_up_every(value)?);
    }
    if let Some(value) = patch.note {
        row.note = Set(note(value.as_deref())?);
    }
    if let Some(active) = patch.active {
        row.active = Set(active);
    }
    row.updated_at = Set(now);
    let after = row.update(&txn).await.map_err(name_taken)?;
    let kind = if before.active && !after.active {
        AuditKind::ShiftArchived
    } else {
        AuditKind::ShiftUpdated
    };
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, kind, meta)
            .about(&after.name)
            .detail(format!("{} → {}", describe(&before), describe(&after))),
    )
    .await?;
    txn.commit().await?;
    Ok(to_view(
        &after,
        super::settings::work_overtime(services).await?,
    ))
}

/// Deletes an unused shift; archives one that schedules refer to.
pub async fn remove(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
) -> Result<ShiftRemoval, AppError> {
    actor.require_admin()?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let row = find(&txn, id).await?;
    // Schedules and open shifts (requests) keep their shift: such a shift is archived.
    let uses = schedule::Entity::find()
        .filter(schedule::Column::ShiftId.eq(id))
        .count(&txn)
        .await?
        + request::Entity::find()
            .filter(request::Column::ShiftId.eq(id))
            .count(&txn)
            .await?;
    let removal = if uses == 0 {
        shift::Entity::delete_by_id(id).exec(&txn).await?;
        audit::record(
            &txn,
            now,
            AuditEvent::by(actor, AuditKind::ShiftDeleted, meta)
                .about(&row.name)
                .detail(describe(&row)),
        )
        .await?;
        ShiftRemoval::Deleted
    } else {
        let mut active = row.clone().into_active_model();
        active.active = Set(false);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        audit::record(
            &txn,
            now,
            AuditEvent::by(actor, AuditKind::ShiftArchived, meta)
                .about(&row.name)
                .detail(format!(
                    "{}（{uses} 条排班或空缺班次在用，已归档而非删除）",
                    describe(&row)
                )),
        )
        .await?;
        ShiftRemoval::Archived
    };
    txn.commit().await?;
    Ok(removal)
}
