//! Preparing a claimed row: still due, still wanted, not punched yet, which channel, and
//! the message it becomes.

use chrono::{DateTime, Duration, Utc};
use sea_orm::EntityTrait;

use super::super::super::action_links;
use super::super::super::channels::{self, Target};
use super::super::super::entity::{delivery, shift, user};
use super::super::super::settings::{self, ReminderSettings};
use super::super::super::{Services, shifts};
use super::super::check::{self, CheckOutcome};
use super::super::status;
use super::finish::{Step, retry_step};
use crate::domain::reminder::ReminderKind;
use crate::domain::robot::{Entry, Link};
use crate::domain::template::{TemplateKind, TemplateVars};

/// A row ready to be sent: everything its message needs.
pub(super) struct Ready {
    pub(super) target: Target,
    pub(super) title: String,
    pub(super) entry: Entry,
    pub(super) context: serde_json::Value,
    pub(super) check_result: String,
}

pub(super) enum Prepared {
    /// Settled without sending (already punched, too late, nothing to send through).
    Done(Step),
    Ready(Box<Ready>),
}

pub(super) async fn prepare(
    services: &Services,
    row: &delivery::Model,
    now: DateTime<Utc>,
) -> Prepared {
    let done = |step: Step| Prepared::Done(step);
    if now > row.deadline_at {
        // Never tried: found too late after downtime. Tried: retries ran out.
        return done(if row.attempts <= 1 {
            Step::end(
                status::MISSED,
                "超过发送期限才轮到发送（服务停机或排队过长），未发送",
            )
        } else {
            Step::end(
                status::FAILED,
                format!(
                    "重试到期限仍未成功；最后一次：{}",
                    row.answer.clone().unwrap_or_default()
                ),
            )
        });
    }
    let settings = match settings::effective(services).await {
        Ok(settings) => settings,
        Err(_) => return done(retry_step(row, now, "读取设置失败".to_owned())),
    };
    if !settings.reminder_enabled {
        return done(Step::end(status::DISABLED, "提醒已关闭，未发送"));
    }
    let Some(kind) = ReminderKind::parse(&row.kind) else {
        return done(Step::end(
            status::FAILED,
            format!("未知提醒类型 {}", row.kind),
        ));
    };
    let person = match user::Entity::find_by_id(row.user_id)
        .one(&services.db)
        .await
    {
        Ok(Some(person)) => person,
        Ok(None) => return done(Step::end(status::FAILED, "用户已不存在")),
        Err(_) => return done(retry_step(row, now, "读取用户失败".to_owned())),
    };
    match action_links::skipped(services, row.user_id, row.date).await {
        Ok(true) => {
            return done(Step::end(
                status::SKIPPED,
                "本人已选择今天不用提醒（提醒消息中的链接）",
            ));
        }
        Ok(false) => {}
        Err(_) => return done(retry_step(row, now, "读取提醒设置失败".to_owned())),
    }
    let shift_row = shift::Entity::find_by_id(row.shift_id)
        .one(&services.db)
        .await
        .ok()
        .flatten();
    let tz = services.settings.timezone.tz();
    let span = shift_row
        .as_ref()
        .and_then(shifts::hours_of)
        .map(|hours| hours.span_on(row.date, tz));

    // Ask once per row; a retry after a failed send does not ask again.
    let check_result = match &row.check_result {
        Some(previous) => previous.clone(),
        None => {
            let since = match (kind, span) {
                (ReminderKind::ClockIn, Some((start, _))) => start - Duration::hours(4),
                (ReminderKind::ClockOut, Some((start, _))) => start,
                (_, None) => row.due_at - Duration::hours(12),
            };
            match check::punched(services, &settings, &person, row, kind, since).await {
                Ok(CheckOutcome::Punched(text)) => {
                    let mut step = Step::end(status::SKIPPED, "已打卡，不需要提醒");
                    step.check_result = Some(text);
                    return done(step);
                }
                Ok(outcome) => outcome.describe().to_owned(),
                Err(_) => "读取打卡记录失败，照常提醒".to_owned(),
            }
        }
    };

    let target = match channels::target_of(services, &settings, row.channel_id, kind).await {
        Ok(target) => target,
        Err(why) => {
            let mut step = Step::end(status::FAILED, why);
            step.check_result = Some(check_result);
            return done(step);
        }
    };
    let (title, entry, context) = message_for(
        services,
        &settings,
        row,
        kind,
        &person,
        shift_row.as_ref(),
        span,
        &target,
    );
    Prepared::Ready(Box::new(Ready {
        target,
        title,
        entry,
        context,
        check_result,
    }))
}

// Everything a message is made of; grouping them would only move the list elsewhere.
#[allow(clippy::too_many_arguments)]
pub(super) fn message_for(
    services: &Services,
    settings: &ReminderSettings,
    row: &delivery::Model,
    kind: ReminderKind,
    person: &user::Model,
    shift_row: Option<&shift::Model>,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    target: &Target,
) -> (String, Entry, serde_json::Value) {
    let template_kind = match (kind, row.sequence) {
        (ReminderKind::ClockIn, 0) => TemplateKind::ClockIn,
        (ReminderKind::ClockOut, 0) => TemplateKind::ClockOut,
        (ReminderKind::ClockIn, _) => TemplateKind::FollowUpIn,
        (ReminderKind::ClockOut, _) => TemplateKind::FollowUpOut,
    };
    let tz = services.settings.timezone.tz();
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%H:%M").to_string();
    let (start, end) = match (shift_row, span) {
        (Some(shift), _) => (shift.start_time.clone(), shift.end_time.clone()),
        (None, Some((start, end))) => (local(start), local(end)),
        (None, None) => (String::new(), String::new()),
    };
    let minutes = match span {
        Some((start, _)) if kind == ReminderKind::ClockIn => (start - row.due_at).num_minutes(),
        Some((_, end)) => (row.due_at - end).num_minutes(),
        None => 0,
    };
    let vars = TemplateVars {
        name: person.display_name.clone(),
        shift: row.shift_name.clone(),
        date: row.date.format("%Y-%m-%d").to_string(),
        start,
        end,
        minutes: u32::try_from(minutes.unsigned_abs()).unwrap_or(0),
    };
    let text = settings
        .template(template_kind)
        .render_escaped(&vars, |value| target.address.escape(target.format, value));
    let context = serde_json::json!({
        "kind": row.kind,
        "sequence": row.sequence,
        "date": row.date,
        "due_at": row.due_at.with_timezone(&tz).to_rfc3339(),
        "user_id": row.user_id,
        "username": person.username,
        "shift": row.shift_name,
    });
    (
        template_kind.label().to_owned(),
        Entry {
            recipient: channels::recipient_of(person),
            text,
            links: action_links::links_for(services, row.user_id, row.date, kind, row.due_at)
                .into_iter()
                .map(|link| Link {
                    label: link.action.label().to_owned(),
                    url: link.url,
                })
                .collect(),
        },
        context,
    )
}
