//! 批量排班: a rotation or weekday template over people and dates, previewed, then
//! committed all-or-nothing through the same write path as every calendar edit.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::auth::{Actor, RequestMeta};
use super::entity::{schedule, user};
use super::schedules::{Source, apply};
use super::{Services, holidays, shifts};
use crate::AppError;
use crate::domain::plan::{Outcome, PlanRequest, PlannedDay, plan, summarise, writes};
use crate::wire::{BatchPreview, ScheduleWrite, WriteSummary};

/// Preview rows sent to the browser; the summary always counts everything.
const PREVIEW_ROWS: usize = 1000;

async fn planned(services: &Services, request: &PlanRequest) -> Result<Vec<PlannedDay>, AppError> {
    request.validate()?;
    let known = shifts::all_models(&services.db).await?;
    let mut wanted: Vec<i32> = request.shift_ids().into_iter().collect();
    wanted.extend(request.holidays.rest_on_holidays);
    wanted.extend(request.holidays.work_on_makeup_days);
    for id in wanted {
        match known.iter().find(|shift| shift.id == id) {
            None => return Err(AppError::missing("pattern", format!("班次 {id} 不存在"))),
            Some(shift) if !shift.active => {
                return Err(AppError::invalid(
                    "pattern",
                    format!("班次“{}”已归档，不能再安排", shift.name),
                ));
            }
            Some(_) => {}
        }
    }
    let ids: Vec<i32> = request.users.iter().map(|user| user.user_id).collect();
    let found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(&services.db)
        .await?;
    if let Some(missing) = ids
        .iter()
        .find(|id| !found.iter().any(|user| user.id == **id))
    {
        return Err(AppError::missing("users", format!("用户 {missing} 不存在")));
    }
    let existing: HashMap<(i32, NaiveDate), i32> = schedule::Entity::find()
        .filter(schedule::Column::UserId.is_in(ids))
        .filter(schedule::Column::Date.between(request.from, request.to))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| ((row.user_id, row.date), row.shift_id))
        .collect();
    let calendar = holidays::calendar(&services.db).await?;
    Ok(plan(request, &calendar, &|user_id, date| {
        existing.get(&(user_id, date)).copied()
    })?)
}

/// What committing would do, without writing. Admins only.
pub async fn preview(
    services: &Services,
    actor: &Actor,
    request: &PlanRequest,
) -> Result<BatchPreview, AppError> {
    actor.require_admin()?;
    let days = planned(services, request).await?;
    let summary = summarise(&days);
    // Changes first: they are what an admin needs to check.
    let mut rows: Vec<PlannedDay> = days
        .iter()
        .filter(|day| !matches!(day.outcome, Outcome::Unchanged))
        .take(PREVIEW_ROWS)
        .copied()
        .collect();
    if rows.len() < PREVIEW_ROWS {
        rows.extend(
            days.iter()
                .filter(|day| matches!(day.outcome, Outcome::Unchanged))
                .take(PREVIEW_ROWS - rows.len())
                .copied(),
        );
    }
    Ok(BatchPreview {
        summary,
        total: days.len(),
        rows,
    })
}

/// Writes the plan (new entries, and replacements when overwriting) in one transaction.
/// The plan is computed again at commit time, against the schedule as it is then.
pub async fn commit(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    request: &PlanRequest,
) -> Result<WriteSummary, AppError> {
    actor.require_admin()?;
    let days = planned(services, request).await?;
    let items = writes(&days)
        .map(|day| ScheduleWrite {
            user_id: day.user_id,
            date: day.date,
            shift_id: Some(day.shift_id),
            note: None,
        })
        .collect();
    apply(services, actor, meta, items, Source::Batch).await
}
