//! iCalendar subscriptions: each user may have one secret feed URL that phone calendars
//! poll. Only a SHA-256 of the token is stored, so the URL is shown once, when created;
//! creating a new one revokes the old.

use chrono::{Days, NaiveDateTime};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{calendar_feed, schedule, user};
use super::reminders::rules;
use super::{Services, settings, shifts};
use crate::AppError;
use crate::domain::ics::{IcsAlarm, IcsEvent, render};
use crate::domain::reminder::{self, ReminderKind, ScheduledDay};

/// The feed covers this many days back and ahead of today.
const PAST_DAYS: u64 = 90;
const FUTURE_DAYS: u64 = 366;
/// Where feeds are served; the token follows, then `.ics`.
pub const FEED_PATH: &str = "/api/calendar/";

/// The hex SHA-256 stored in place of a bearer secret (feed URLs, access tokens).
pub(super) fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether the user has a feed (the URL itself cannot be shown again).
pub async fn exists(services: &Services, actor: &Actor, user_id: i32) -> Result<bool, AppError> {
    actor.require_self_or_admin(user_id)?;
    Ok(calendar_feed::Entity::find_by_id(user_id)
        .one(&services.db)
        .await?
        .is_some())
}

/// Creates (or replaces) the user's feed and returns its path, `/api/calendar/<token>.ics`.
pub async fn reset(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: i32,
) -> Result<String, AppError> {
    actor.require_self_or_admin(user_id)?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a calendar token");
        AppError::Internal
    })?;
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let person = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("用户 {user_id}")))?;
    calendar_feed::Entity::delete_by_id(user_id)
        .exec(&txn)
        .await?;
    calendar_feed::Entity::insert(calendar_feed::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(digest(&token)),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(
            actor,
            crate::domain::audit::AuditKind::CalendarFeedReset,
            meta,
        )
        .about(&person.username_key)
        .detail("新的订阅地址已生成，旧地址失效"),
    )
    .await?;
    txn.commit().await?;
    Ok(format!("{FEED_PATH}{token}.ics"))
}

/// Turns the user's feed off.
pub async fn revoke(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: i32,
) -> Result<(), AppError> {
    actor.require_self_or_admin(user_id)?;
    let txn = services.begin_write().await?;
    let deleted = calendar_feed::Entity::delete_by_id(user_id)
        .exec(&txn)
        .await?;
    if deleted.rows_affected > 0 {
        audit::record(
            &txn,
            services.clock.now(),
            AuditEvent::by(
                actor,
                crate::domain::audit::AuditKind::CalendarFeedReset,
                meta,
            )
            .about(&user_id.to_string())
            .detail("订阅地址已停用"),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The feed for a token, or `None` when no active user has it.
pub async fn render_feed(services: &Services, token: &str) -> Result<Option<String>, AppError> {
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(feed) = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(digest(token)))
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(person) = user::Entity::find_by_id(feed.user_id)
        .one(&services.db)
        .await?
        .filter(|person| person.active)
    else {
        return Ok(None);
    };
    let tz = services.settings.timezone.tz();
    let now = services.clock.now();
    let today = services.today();
    let entries = schedule::Entity::find()
        .filter(schedule::Column::UserId.eq(person.id))
        .filter(
            schedule::Column::Date
                .between(today - Days::new(PAST_DAYS), today + Days::new(FUTURE_DAYS)),
        )
        .order_by_asc(schedule::Column::Date)
        .all(&services.db)
        .await?;
    let all_shifts = shifts::all_models(&services.db).await?;
    // The alarms are the engine's own first reminders (holidays, the person's switch and
    // each shift's minutes included), not a second set of rules.
    let settings = settings::effective(services).await?;
    let (from, to) = (today - Days::new(PAST_DAYS), today + Days::new(FUTURE_DAYS));
    let rule_data = rules::load(services, &settings, from, to, Some(&[person.id])).await?;
    let reminder_rules = rule_data.rules();
    let events: Vec<IcsEvent> = entries
        .iter()
        .filter_map(|entry| {
            let shift = all_shifts.iter().find(|s| s.id == entry.shift_id)?;
            let hours = shifts::hours_of(shift)?;
            let start = NaiveDateTime::new(entry.date, hours.start.to_naive());
            let end = NaiveDateTime::new(hours.end_date(entry.date), hours.end.to_naive());
            let (start_at, end_at) = hours.span_on(entry.date, tz);
            let day = ScheduledDay {
                user_id: person.id,
                date: entry.date,
                shift_id: entry.shift_id,
            };
            let alarms = if settings.reminder_enabled {
                reminder::reminders_for_day(&reminder_rules, &day)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|reminder| reminder.sequence == 0)
                    .map(|reminder| match reminder.kind {
                        ReminderKind::ClockIn => IcsAlarm {
                            from_end: false,
                            offset_minutes: (reminder.at - start_at).num_minutes(),
                            description: format!("{} 上班打卡提醒", shift.name),
                        },
                        ReminderKind::ClockOut => IcsAlarm {
                            from_end: true,
                            offset_minutes: (reminder.at - end_at).num_minutes(),
                            description: format!("{} 下班打卡提醒", shift.name),
                        },
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Some(IcsEvent {
                uid: format!("schedule-{}-{}@dingding-attendance", person.id, entry.date),
                date: entry.date,
                summary: shift.name.clone(),
                start,
                end,
                all_day: shift.rest,
                description: entry.note.clone(),
                alarms,
            })
        })
        .collect();
    Ok(Some(render(
        &format!("{} 的排班", person.display_name),
        tz,
        &events,
        now,
    )))
}
