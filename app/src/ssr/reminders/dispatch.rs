//! Sending delivery rows. Robots with a rate limit (DingTalk and WeCom 20 a minute, Feishu
//! 5 a second) get one queue each, paced so a burst waits instead of being dropped; generic
//! webhooks are sent concurrently up to a bound. A row is claimed only when its turn comes,
//! so a lease covers one send, not the time spent queueing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Semaphore, mpsc};

use super::super::channels::{self, Target};
use super::super::entity::{delivery, shift, user};
use super::super::settings::{self, ReminderSettings};
use super::super::{Clock, Services, SystemClock, db_error, shifts};
use super::check::{self, CheckOutcome};
use super::status;
use crate::AppError;
use crate::domain::redact::Secrets;
use crate::domain::reminder::ReminderKind;
use crate::domain::robot::{self, OutgoingMessage, Pacer, RateLimit, RobotVerdict};
use crate::domain::template::{TemplateKind, TemplateVars};

/// How long a claimed row is ours: longer than a check plus a send with their timeouts.
const LEASE: Duration = Duration::seconds(60);
/// Generic webhooks sent at once.
const CONCURRENT_SENDS: usize = 32;
/// Rows handed to the queues per pass.
const ENQUEUE_BATCH: u64 = 20_000;

/// This process's queues. Which rows it holds is only a hint to avoid queueing a row twice
/// here; the database claim decides who sends.
pub struct Dispatcher {
    in_flight: Mutex<HashSet<i32>>,
    robots: Mutex<HashMap<String, mpsc::UnboundedSender<i32>>>,
    unpaced: Arc<Semaphore>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashSet::new()),
            robots: Mutex::new(HashMap::new()),
            unpaced: Arc::new(Semaphore::new(CONCURRENT_SENDS)),
        }
    }
}

impl Dispatcher {
    fn take(&self, id: i32) -> bool {
        self.in_flight
            .lock()
            .map(|mut set| set.insert(id))
            .unwrap_or(false)
    }

    fn release(&self, id: i32) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(&id);
        }
    }

    pub fn queued_here(&self) -> usize {
        self.in_flight.lock().map(|set| set.len()).unwrap_or(0)
    }
}

fn due_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(delivery::Column::Status.eq(status::PENDING))
                .add(delivery::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(delivery::Column::Status.eq(status::SENDING))
                .add(delivery::Column::LeaseUntil.lt(now)),
        )
}

/// Hands every row that is due (or whose lease expired) to a queue.
pub async fn enqueue_due(services: &Services) -> Result<usize, AppError> {
    let now = services.clock.now();
    let rows: Vec<(i32, Option<i32>, String)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::ChannelId)
        .column(delivery::Column::Kind)
        .filter(due_condition(now))
        .order_by_asc(delivery::Column::DueAt)
        .order_by_asc(delivery::Column::Id)
        .limit(ENQUEUE_BATCH)
        .into_tuple()
        .all(&services.db)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let settings = settings::effective(services).await?;
    let mut targets: HashMap<(Option<i32>, String), Option<Target>> = HashMap::new();
    let mut enqueued = 0;
    for (id, channel_id, kind) in rows {
        if !services.dispatcher.take(id) {
            continue;
        }
        enqueued += 1;
        let key = (channel_id, kind.clone());
        if !targets.contains_key(&key) {
            let target = match ReminderKind::parse(&kind) {
                Some(kind) => channels::target_of(services, &settings, channel_id, kind)
                    .await
                    .ok(),
                None => None,
            };
            targets.insert(key.clone(), target);
        }
        match targets.get(&key).cloned().flatten() {
            Some(target) if !robot::rate_limits(target.platform).is_empty() => {
                robot_queue(services, &target).send(id).ok();
            }
            // Unlimited robots, and rows whose channel is gone (they fail fast).
            _ => {
                let services = services.clone();
                let permits = services.dispatcher.unpaced.clone();
                tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let _ = deliver(&services, id).await;
                    services.dispatcher.release(id);
                });
            }
        }
    }
    Ok(enqueued)
}

/// The queue of one rate-limited robot, started on first use.
fn robot_queue(services: &Services, target: &Target) -> mpsc::UnboundedSender<i32> {
    let key = target.robot_key();
    let mut robots = match services.dispatcher.robots.lock() {
        Ok(robots) => robots,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(sender) = robots.get(&key).filter(|sender| !sender.is_closed()) {
        return sender.clone();
    }
    let (sender, mut receiver) = mpsc::unbounded_channel::<i32>();
    robots.insert(key, sender.clone());
    let scale = services.settings.rate_window_scale;
    let limits: Vec<RateLimit> = robot::rate_limits(target.platform)
        .iter()
        .map(|limit| RateLimit {
            max: limit.max,
            per: limit.per.mul_f64(scale),
        })
        .collect();
    let services = services.clone();
    tokio::spawn(async move {
        let mut pacer = Pacer::new(limits);
        while let Some(id) = receiver.recv().await {
            // Rate limits are about real time at the robot, whatever clock drives schedules.
            loop {
                let now = SystemClock.now();
                let slot = pacer.next_slot(now);
                if slot <= now {
                    break;
                }
                let wait = (slot - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
            }
            if let Ok(true) = deliver(&services, id).await {
                pacer.record(SystemClock.now());
            }
            services.dispatcher.release(id);
        }
    });
    sender
}

/// Claims one row and takes it one step: sent, skipped, retry later, failed. Returns
/// whether a message went to the robot (for pacing).
pub async fn deliver(services: &Services, id: i32) -> Result<bool, AppError> {
    let now = services.clock.now();
    let lease = now + LEASE;
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::SENDING))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(lease)))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id))
        .filter(due_condition(now))
        .exec(&services.db)
        .await
        .map_err(db_error)?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    let Some(row) = delivery::Entity::find_by_id(id)
        .one(&services.db)
        .await
        .map_err(db_error)?
    else {
        return Ok(false);
    };
    let step = step(services, &row, now).await;
    let sent_to_robot = step.sent_to_robot;
    finish(services, &row, lease, step).await?;
    Ok(sent_to_robot)
}

/// What a claimed row becomes.
struct Step {
    status: &'static str,
    answer: Option<String>,
    check_result: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    next_attempt_at: Option<DateTime<Utc>>,
    sent_to_robot: bool,
}

impl Step {
    fn end(status: &'static str, answer: impl Into<String>) -> Self {
        Self {
            status,
            answer: Some(answer.into()),
            check_result: None,
            sent_at: None,
            next_attempt_at: None,
            sent_to_robot: false,
        }
    }
}

async fn step(services: &Services, row: &delivery::Model, now: DateTime<Utc>) -> Step {
    if now > row.deadline_at {
        // Never tried: found too late after downtime. Tried: retries ran out.
        return if row.attempts <= 1 {
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
        };
    }
    let settings = match settings::effective(services).await {
        Ok(settings) => settings,
        Err(_) => return retry_step(row, now, "读取设置失败".to_owned()),
    };
    if !settings.reminder_enabled {
        return Step::end(status::DISABLED, "提醒已关闭，未发送");
    }
    let Some(kind) = ReminderKind::parse(&row.kind) else {
        return Step::end(status::FAILED, format!("未知提醒类型 {}", row.kind));
    };
    let person = match user::Entity::find_by_id(row.user_id)
        .one(&services.db)
        .await
    {
        Ok(Some(person)) => person,
        Ok(None) => return Step::end(status::FAILED, "用户已不存在"),
        Err(_) => return retry_step(row, now, "读取用户失败".to_owned()),
    };
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
                    return step;
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
            return step;
        }
    };
    let message = message_for(
        services,
        &settings,
        row,
        kind,
        &person,
        shift_row.as_ref(),
        span,
        &target,
    );
    // Every text stored from here on is shown in delivery history, to members too.
    let secrets = Secrets::new()
        .with_url(&target.url)
        .with(target.secret.as_deref().unwrap_or_default());
    let request = match robot::build_request(
        target.platform,
        &target.url,
        target.secret.as_deref(),
        target.format,
        &message,
        SystemClock.now(),
    ) {
        Ok(request) => request,
        Err(error) => {
            let mut step = Step::end(status::FAILED, secrets.redact(&error.to_string()));
            step.check_result = Some(check_result);
            return step;
        }
    };
    let verdict = match services
        .outbound
        .post_json(&request.url, request.body, &request.headers)
        .await
    {
        Ok(answer) => match robot::classify(target.platform, answer.status, &answer.body) {
            RobotVerdict::Accepted => {
                return Step {
                    status: status::SENT,
                    answer: Some(secrets.redact(&answer.body).chars().take(500).collect()),
                    check_result: Some(check_result),
                    sent_at: Some(services.clock.now()),
                    next_attempt_at: None,
                    sent_to_robot: true,
                };
            }
            other => other,
        },
        Err(error) if error.retryable => RobotVerdict::Retryable(error.message),
        Err(error) => RobotVerdict::Permanent(error.message),
    };
    let mut step = match verdict {
        RobotVerdict::Retryable(message) => retry_step(row, now, secrets.redact(&message)),
        RobotVerdict::Permanent(message) => Step::end(status::FAILED, secrets.redact(&message)),
        RobotVerdict::Accepted => Step::end(status::SENT, ""),
    };
    step.sent_to_robot = true;
    step.check_result = Some(check_result);
    step
}

/// Back to `pending` after a backoff with jitter, or `failed` when that passes the deadline.
fn retry_step(row: &delivery::Model, now: DateTime<Utc>, message: String) -> Step {
    let attempt = u32::try_from(Ord::max(row.attempts, 1)).unwrap_or(1);
    let jitter = f64::from(getrandom::u32().unwrap_or(0)) / (f64::from(u32::MAX) + 1.0);
    let wait = Duration::from_std(robot::backoff(attempt, jitter)).unwrap_or(Duration::seconds(5));
    let next = now + wait;
    if next > row.deadline_at {
        return Step::end(
            status::FAILED,
            format!("第 {attempt} 次发送失败，已到重试期限：{message}"),
        );
    }
    Step {
        status: status::PENDING,
        answer: Some(format!("第 {attempt} 次发送失败，稍后重试：{message}")),
        check_result: None,
        sent_at: None,
        next_attempt_at: Some(next),
        sent_to_robot: false,
    }
}

/// Records the step, only while the lease is still ours.
async fn finish(
    services: &Services,
    row: &delivery::Model,
    lease: DateTime<Utc>,
    step: Step,
) -> Result<(), AppError> {
    let now = services.clock.now();
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(step.status))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now));
    if let Some(answer) = step.answer {
        update = update.col_expr(delivery::Column::Answer, Expr::value(Some(answer)));
    }
    if let Some(check_result) = step.check_result {
        update = update.col_expr(
            delivery::Column::CheckResult,
            Expr::value(Some(check_result)),
        );
    }
    if let Some(sent_at) = step.sent_at {
        update = update.col_expr(delivery::Column::SentAt, Expr::value(Some(sent_at)));
    }
    if let Some(next) = step.next_attempt_at {
        update = update.col_expr(delivery::Column::NextAttemptAt, Expr::value(next));
    }
    let result = update
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .exec(&services.db)
        .await
        .map_err(db_error)?;
    if result.rows_affected != 1 {
        tracing::warn!(
            delivery = row.id,
            "lease lost before the result was recorded"
        );
    }
    Ok(())
}

// Everything a message is made of; grouping them would only move the list elsewhere.
#[allow(clippy::too_many_arguments)]
fn message_for(
    services: &Services,
    settings: &ReminderSettings,
    row: &delivery::Model,
    kind: ReminderKind,
    person: &user::Model,
    shift_row: Option<&shift::Model>,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    target: &Target,
) -> OutgoingMessage {
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
        .render_escaped(&vars, |value| {
            robot::escape(target.platform, target.format, value)
        });
    OutgoingMessage {
        title: template_kind.label().to_owned(),
        text,
        recipient: channels::recipient_of(person),
        idempotency_key: row.idempotency_key.clone(),
        context: serde_json::json!({
            "kind": row.kind,
            "sequence": row.sequence,
            "date": row.date,
            "due_at": row.due_at.with_timezone(&tz).to_rfc3339(),
            "user_id": row.user_id,
            "username": person.username,
            "shift": row.shift_name,
        }),
    }
}
