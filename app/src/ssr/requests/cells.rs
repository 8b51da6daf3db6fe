//! Schedule cells as requests read and write them, the shifts they name, and the
//! working-time rules a change of cells is checked against.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::super::entity::{request, schedule, shift, user};
use super::super::settings::ReminderSettings;
use super::super::shifts;
use super::*;
use crate::AppError;
use crate::domain::handover::{self, Cells, Handover};
use crate::domain::request::{self as rule, RequestKind};
use crate::domain::work_rules::{self, Duty};
use crate::wire::RequestShift;

pub(super) fn cells_to_json(cells: &Cells) -> String {
    let rows: Vec<(i32, NaiveDate, Option<i32>)> = cells
        .iter()
        .map(|(&(user_id, date), &shift_id)| (user_id, date, shift_id))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

pub(super) fn cells_from_json(raw: Option<&str>) -> Result<Cells, AppError> {
    let Some(raw) = raw else {
        return Ok(Cells::new());
    };
    let rows: Vec<(i32, NaiveDate, Option<i32>)> = serde_json::from_str(raw).map_err(|error| {
        tracing::error!(%error, "a stored request's cells do not read");
        AppError::Internal
    })?;
    Ok(rows
        .into_iter()
        .map(|(user_id, date, shift_id)| ((user_id, date), shift_id))
        .collect())
}

/// The cells' current content.
pub(super) async fn read_cells(
    db: &impl ConnectionTrait,
    keys: &[(i32, NaiveDate)],
) -> Result<Cells, AppError> {
    let mut cells: Cells = keys.iter().map(|key| (*key, None)).collect();
    if keys.is_empty() {
        return Ok(cells);
    }
    let users: BTreeSet<i32> = keys.iter().map(|(user_id, _)| *user_id).collect();
    let dates: BTreeSet<NaiveDate> = keys.iter().map(|(_, date)| *date).collect();
    let rows: Vec<(i32, NaiveDate, i32)> = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
        ])
        .filter(schedule::Column::UserId.is_in(users))
        .filter(schedule::Column::Date.is_in(dates))
        .into_tuple()
        .all(db)
        .await?;
    for (user_id, date, shift_id) in rows {
        if let Some(cell) = cells.get_mut(&(user_id, date)) {
            *cell = Some(shift_id);
        }
    }
    Ok(cells)
}

/// Writes the cells: a shift, or no entry.
pub(super) async fn write_cells(
    txn: &DatabaseTransaction,
    cells: &Cells,
    by: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for (&(user_id, date), &shift_id) in cells {
        match shift_id {
            None => {
                schedule::Entity::delete_many()
                    .filter(schedule::Column::UserId.eq(user_id))
                    .filter(schedule::Column::Date.eq(date))
                    .exec(txn)
                    .await?;
            }
            Some(shift_id) => {
                schedule::Entity::insert(schedule::ActiveModel {
                    user_id: Set(user_id),
                    date: Set(date),
                    shift_id: Set(shift_id),
                    note: Set(None),
                    updated_by: Set(by),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::columns([schedule::Column::UserId, schedule::Column::Date])
                        .update_columns([
                            schedule::Column::ShiftId,
                            schedule::Column::UpdatedBy,
                            schedule::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            }
        }
    }
    Ok(())
}

/// The shifts by id, and whether one is worked (a rest shift is not).
pub(super) struct ShiftBook(pub(super) HashMap<i32, shift::Model>);

impl ShiftBook {
    pub(super) async fn load(db: &impl ConnectionTrait) -> Result<Self, AppError> {
        Ok(Self(
            shifts::all_models(db)
                .await?
                .into_iter()
                .map(|model| (model.id, model))
                .collect(),
        ))
    }

    pub(super) fn working(&self, id: i32) -> bool {
        self.0.get(&id).is_some_and(|model| !model.rest)
    }

    /// When the shift starts and ends on `date`.
    pub(super) fn span(
        &self,
        id: i32,
        date: NaiveDate,
        tz: chrono_tz::Tz,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let model = self.0.get(&id)?;
        Some(shifts::hours_of(model)?.span_on(date, tz))
    }

    pub(super) fn view(&self, id: i32) -> Option<RequestShift> {
        let model = self.0.get(&id)?;
        Some(RequestShift {
            id,
            name: model.name.clone(),
            hours: format!("{}-{}", model.start_time, model.end_time),
        })
    }
}

/// The handover a swap, cover or claimed open shift makes (`claimant` for open shifts).
pub(super) fn handover_of(
    model: &request::Model,
    kind: RequestKind,
    claimant: Option<i32>,
) -> Option<Handover> {
    match kind {
        RequestKind::Leave => None,
        RequestKind::Swap => Some(Handover::Swap {
            requester: model.requester_id,
            date: model.date,
            peer: model.peer_id?,
            peer_date: model.peer_date.unwrap_or(model.date),
        }),
        RequestKind::Cover => Some(Handover::Cover {
            requester: model.requester_id,
            date: model.date,
            peer: model.peer_id?,
        }),
        RequestKind::Open => Some(Handover::Claim {
            claimant: claimant.or(model.peer_id)?,
            date: model.date,
            shift_id: model.shift_id?,
        }),
    }
}

pub(super) fn leave_dates(model: &request::Model) -> Vec<NaiveDate> {
    let last = model.end_date.unwrap_or(model.date);
    model
        .date
        .iter_days()
        .take_while(|date| *date <= last)
        .take(rule::MAX_LEAVE_DAYS as usize)
        .collect()
}

/// The working-time rules the change from `before` to `after` breaks, each with the
/// person's name.
pub(super) async fn rule_breaches(
    db: &impl ConnectionTrait,
    shift_book: &ShiftBook,
    settings: &ReminderSettings,
    before: &Cells,
    after: &Cells,
    tz: chrono_tz::Tz,
) -> Result<Vec<String>, AppError> {
    let changed = handover::changed_cells(before, after);
    let people: BTreeSet<i32> = changed.iter().map(|(user_id, _)| *user_id).collect();
    let (Some(first), Some(last)) = (
        changed.iter().map(|(_, date)| *date).min(),
        changed.iter().map(|(_, date)| *date).max(),
    ) else {
        return Ok(Vec::new());
    };
    let from = first - Duration::days(RULE_CONTEXT_DAYS);
    let to = last + Duration::days(RULE_CONTEXT_DAYS);
    let rows: Vec<(i32, NaiveDate, i32)> = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
        ])
        .filter(schedule::Column::UserId.is_in(people.iter().copied()))
        .filter(schedule::Column::Date.between(from, to))
        .into_tuple()
        .all(db)
        .await?;
    let mut plan: BTreeMap<(i32, NaiveDate), Option<i32>> = rows
        .into_iter()
        .map(|(user_id, date, shift_id)| ((user_id, date), Some(shift_id)))
        .collect();
    plan.extend(after.iter().map(|(key, shift)| (*key, *shift)));
    let names: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person_name(&person)))
        .collect();
    let mut messages = Vec::new();
    for person in people {
        let duties: Vec<Duty> = plan
            .iter()
            .filter(|((user_id, _), _)| *user_id == person)
            .filter_map(|(&(_, date), shift)| {
                let shift_id = (*shift).filter(|id| shift_book.working(*id))?;
                let (start, end) = shift_book.span(shift_id, date, tz)?;
                Some(Duty { date, start, end })
            })
            .collect();
        let dates: Vec<NaiveDate> = changed
            .iter()
            .filter(|(user_id, _)| *user_id == person)
            .map(|(_, date)| *date)
            .collect();
        let name = names
            .get(&person)
            .cloned()
            .unwrap_or_else(|| person.to_string());
        for breach in work_rules::check(&duties, &dates, &settings.work_limits) {
            messages.push(format!("{name}：{}", breach.message(&settings.work_limits)));
        }
    }
    Ok(messages)
}
