//! Reads what the pure reminder rules need from the database: shifts, users, schedules in a
//! date range and the work calendar.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::super::entity::{schedule, shift, user};
use super::super::settings::ReminderSettings;
use super::super::{Services, holidays, requests, shifts};
use crate::AppError;
use crate::domain::holiday::WorkCalendar;
use crate::domain::reminder::{
    FollowUps, ReminderRules, ReminderShift, ReminderUser, ScheduledDay,
};
use crate::domain::request::Leave;

/// Everything `domain::reminder` needs, owned, so rules can borrow from it.
pub struct RuleData {
    pub tz: chrono_tz::Tz,
    pub shifts: HashMap<i32, ReminderShift>,
    pub users: HashMap<i32, ReminderUser>,
    pub people: HashMap<i32, Person>,
    pub calendar: WorkCalendar,
    pub skip_holidays: bool,
    pub schedules: Vec<ScheduledDay>,
    /// Approved leave on the loaded dates.
    pub leave: HashMap<(i32, NaiveDate), Leave>,
}

/// What the preview shows of a person.
pub struct Person {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

impl RuleData {
    pub fn rules(&self) -> ReminderRules<'_> {
        ReminderRules {
            tz: self.tz,
            shifts: &self.shifts,
            users: &self.users,
            calendar: &self.calendar,
            skip_holidays: self.skip_holidays,
            leave: &self.leave,
        }
    }
}

fn reminder_shift(model: &shift::Model, settings: &ReminderSettings) -> Option<ReminderShift> {
    let hours = shifts::hours_of(model)?;
    let minutes = |value: i32| u16::try_from(value.clamp(0, 720)).unwrap_or(0);
    let follow_ups = match (model.follow_up_every_min, model.follow_up_count) {
        (Some(every), Some(count)) => FollowUps::new(
            u16::try_from(every).unwrap_or(0),
            u8::try_from(count).unwrap_or(0),
        )
        .unwrap_or(settings.follow_ups),
        (None, Some(count)) => FollowUps::new(
            settings.follow_ups.every_minutes,
            u8::try_from(count).unwrap_or(0),
        )
        .unwrap_or(settings.follow_ups),
        _ => settings.follow_ups,
    };
    Some(ReminderShift {
        id: model.id,
        name: model.name.clone(),
        hours,
        rest: model.rest,
        before_minutes: minutes(model.remind_before_min),
        after_minutes: model
            .remind_after_min
            .map(minutes)
            .unwrap_or(settings.work_overtime.get()),
        follow_ups,
    })
}

/// Loads the rules and the schedules dated `from..=to` (optionally for some users only).
pub async fn load(
    services: &Services,
    settings: &ReminderSettings,
    from: NaiveDate,
    to: NaiveDate,
    only_users: Option<&[i32]>,
) -> Result<RuleData, AppError> {
    let tz = services.settings.timezone.tz();
    load_in(&services.db, tz, settings, from, to, only_users).await
}

/// `load` on a given connection: inside a transaction, what it is about to commit.
pub async fn load_in(
    db: &impl ConnectionTrait,
    tz: chrono_tz::Tz,
    settings: &ReminderSettings,
    from: NaiveDate,
    to: NaiveDate,
    only_users: Option<&[i32]>,
) -> Result<RuleData, AppError> {
    let shift_rows = shift::Entity::find().all(db).await?;
    // Only the columns used: SQLite copies every value it hands out, and the preview and
    // every tick load whole teams.
    let user_rows: Vec<(i32, String, String, bool, bool)> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
            user::Column::Active,
            user::Column::RemindersEnabled,
        ])
        .into_tuple()
        .all(db)
        .await?;
    let mut schedule_query = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
        ])
        .filter(schedule::Column::Date.gte(from))
        .filter(schedule::Column::Date.lte(to));
    if let Some(ids) = only_users {
        schedule_query = schedule_query.filter(schedule::Column::UserId.is_in(ids.to_vec()));
    }
    let schedule_rows: Vec<(i32, NaiveDate, i32)> = schedule_query.into_tuple().all(db).await?;
    let calendar = holidays::calendar(db).await?;
    let leave = requests::approved_leave(db, from, to, only_users).await?;
    Ok(RuleData {
        tz,
        leave,
        shifts: shift_rows
            .iter()
            .filter_map(|row| Some((row.id, reminder_shift(row, settings)?)))
            .collect(),
        users: user_rows
            .iter()
            .map(|&(id, _, _, active, reminders_enabled)| {
                (
                    id,
                    ReminderUser {
                        id,
                        active,
                        reminders_enabled,
                    },
                )
            })
            .collect(),
        people: user_rows
            .into_iter()
            .map(|(id, username, display_name, active, _)| {
                let person = Person {
                    id,
                    username,
                    display_name,
                    active,
                };
                (id, person)
            })
            .collect(),
        calendar,
        skip_holidays: settings.skip_holidays,
        schedules: schedule_rows
            .into_iter()
            .map(|(user_id, date, shift_id)| ScheduledDay {
                user_id,
                date,
                shift_id,
            })
            .collect(),
    })
}
