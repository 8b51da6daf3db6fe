//! After an approval or a revoke: the reminders follow the new plan.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::super::channels::{ChannelBook, NO_CHANNEL};
use super::super::entity::delivery;
use super::super::reminders::{rules, status, tick};
use super::super::settings::ReminderSettings;
use crate::AppError;
use crate::domain::reminder::{self, Reminder, ReminderKind, ScheduledDay};

/// After the plan of `cells` changed: queued reminders that no longer apply are cancelled,
/// and whoever now works a cell whose clock-in reminder time has passed (before the shift
/// starts) is reminded at once. Reminders still to come follow the plan by themselves: the
/// worker reads the schedule when they are due.
pub(super) async fn replan(
    txn: &DatabaseTransaction,
    tz: chrono_tz::Tz,
    settings: &ReminderSettings,
    book: &ChannelBook,
    cells: &[(i32, NaiveDate)],
    request_id: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (Some(from), Some(to)) = (
        cells.iter().map(|(_, date)| *date).min(),
        cells.iter().map(|(_, date)| *date).max(),
    ) else {
        return Ok(());
    };
    let users: Vec<i32> = cells
        .iter()
        .map(|(user_id, _)| *user_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let data = rules::load_in(txn, tz, settings, from, to, Some(&users)).await?;
    let rules = data.rules();
    let wanted: HashMap<(i32, NaiveDate), Vec<Reminder>> = data
        .schedules
        .iter()
        .filter(|day| cells.contains(&(day.user_id, day.date)))
        .map(|day: &ScheduledDay| {
            (
                (day.user_id, day.date),
                reminder::reminders_for_day(&rules, day).unwrap_or_default(),
            )
        })
        .collect();

    let queued = delivery::Entity::find()
        .filter(delivery::Column::UserId.is_in(users.clone()))
        .filter(delivery::Column::Date.between(from, to))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .all(txn)
        .await?;
    let stale: Vec<i32> = queued
        .iter()
        .filter(|row| cells.contains(&(row.user_id, row.date)))
        .filter(|row| {
            !wanted
                .get(&(row.user_id, row.date))
                .is_some_and(|reminders| {
                    reminders.iter().any(|reminder| {
                        reminder.kind.as_str() == row.kind
                            && i32::from(reminder.sequence) == row.sequence
                            && reminder.shift_id == row.shift_id
                    })
                })
        })
        .map(|row| row.id)
        .collect();
    if !stale.is_empty() {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status::CANCELLED))
            .col_expr(
                delivery::Column::Answer,
                Expr::value(format!("申请 #{request_id} 生效，排班已变更，不再提醒")),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.is_in(stale))
            .filter(delivery::Column::Status.eq(status::PENDING))
            .exec(txn)
            .await?;
    }

    let deadline = tick::retry_deadline(settings);
    let mut late = Vec::new();
    for (&(user_id, date), reminders) in &wanted {
        let Some(first) = reminders
            .iter()
            .find(|reminder| reminder.kind == ReminderKind::ClockIn && reminder.sequence == 0)
        else {
            continue;
        };
        let started = data
            .shifts
            .get(&first.shift_id)
            .map(|shift| shift.hours.span_on(date, tz).0)
            .is_none_or(|start| start <= now);
        if first.at > now || started {
            continue;
        }
        let choice = book.choose(user_id, first.kind, settings);
        let (state, answer) = if !settings.reminder_enabled {
            (status::DISABLED, "提醒已关闭".to_owned())
        } else if choice.name == NO_CHANNEL {
            (status::FAILED, "没有可用的通知渠道".to_owned())
        } else {
            (
                status::PENDING,
                format!("申请 #{request_id} 生效时已过提醒时间，立即提醒"),
            )
        };
        let shift_name = data
            .shifts
            .get(&first.shift_id)
            .map(|shift| shift.name.clone())
            .unwrap_or_default();
        late.push(
            tick::NewDelivery {
                reminder: first,
                shift_name,
                choice: &choice,
                status: state,
                answer: Some(answer),
                due_at: now,
            }
            .into_model(deadline, now)?,
        );
    }
    if !late.is_empty() {
        delivery::Entity::insert_many(late)
            .on_conflict(
                OnConflict::columns([
                    delivery::Column::UserId,
                    delivery::Column::Date,
                    delivery::Column::Kind,
                    delivery::Column::Sequence,
                    delivery::Column::ShiftId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
