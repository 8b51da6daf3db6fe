//! Sending delivery rows. Group robots with a rate limit (DingTalk and WeCom 20 a minute,
//! Feishu 5 a second) get one queue each in this process: the rows due together for one
//! robot become merged messages that mention everyone in them, and each message waits for a
//! send slot from the database (`pacing`), so all processes together keep the robot's
//! limit and a banned robot is left alone until its ban is over. Generic webhooks are sent
//! one row at a time, concurrently up to a bound. Rows are claimed only when their turn
//! comes, so a lease covers a send, not the time spent queueing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::super::action_links;
use super::super::channels::{self, Target};
use super::super::entity::{delivery, shift, user};
use super::super::notify::{self, SendOutcome};
use super::super::settings::{self, ReminderSettings};
use super::super::{Clock, Services, SystemClock, shifts};
use super::check::{self, CheckOutcome};
use super::pacing::{self, Robot, Slot};
use super::status;
use crate::AppError;
use crate::domain::channel::Verdict;
use crate::domain::reminder::ReminderKind;
use crate::domain::robot::{self, Entry, Link, OutgoingMessage};
use crate::domain::template::{TemplateKind, TemplateVars};

/// How long a claimed row is ours: longer than a check plus a send with their timeouts.
const LEASE: Duration = Duration::seconds(60);
/// Generic webhooks sent at once.
const CONCURRENT_SENDS: usize = 32;
/// Punch checks asked at once for one merged message.
const CONCURRENT_CHECKS: usize = 8;
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

/// The claim's rows among `ids`. On PostgreSQL, rows another replica is claiming at this
/// moment are skipped (`FOR UPDATE SKIP LOCKED`) instead of waited for, only to be found
/// taken once its claim commits. SQLite has one writer at a time anyway.
fn claimable(services: &Services, ids: &[i32]) -> SimpleExpr {
    let ids = ids.iter().copied();
    if services.db.get_database_backend() != DbBackend::Postgres {
        return delivery::Column::Id.is_in(ids);
    }
    let unlocked = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::Id.is_in(ids))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    delivery::Column::Id.in_subquery(unlocked)
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
        .await?;
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
            Some(target) if target.is_paced() => {
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

/// The queue of one rate-limited robot, started on first use. It takes every row waiting
/// for the robot at once, so reminders due together go out as merged messages.
fn robot_queue(services: &Services, target: &Target) -> mpsc::UnboundedSender<i32> {
    let url = target.address.webhook().map_or("", |(url, _)| url);
    let key = pacing::robot_key(url);
    let mut robots = match services.dispatcher.robots.lock() {
        Ok(robots) => robots,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(sender) = robots.get(&key).filter(|sender| !sender.is_closed()) {
        return sender.clone();
    }
    let (sender, mut receiver) = mpsc::unbounded_channel::<i32>();
    robots.insert(key.clone(), sender.clone());
    // Only rate-limited group robots are queued here.
    let robot = Robot::new(services, target.kind(), url);
    let services = services.clone();
    tokio::spawn(async move {
        while let Some(id) = receiver.recv().await {
            let mut ids = vec![id];
            while let Ok(id) = receiver.try_recv() {
                ids.push(id);
            }
            if let Err(error) = deliver_to_robot(&services, &robot, &ids).await {
                tracing::warn!(%error, "sending to a group robot failed; the rows are retried");
            }
            for id in ids {
                services.dispatcher.release(id);
            }
        }
    });
    sender
}

/// Rows merged into one reminder message: same kind, first reminder or follow-up, due in
/// the same minute, through the same channel.
type GroupKey = (i64, String, bool, Option<i32>);

fn group_key(row: &delivery::Model) -> GroupKey {
    (
        row.due_at.timestamp().div_euclid(60),
        row.kind.clone(),
        row.sequence > 0,
        row.channel_id,
    )
}

/// Sends the due rows among `ids` to one robot: grouped and merged, each message in a send
/// slot taken from the database.
async fn deliver_to_robot(services: &Services, robot: &Robot, ids: &[i32]) -> Result<(), AppError> {
    let now = services.clock.now();
    if let Some((until, reason)) = pacing::ban_of(services, &robot.key).await? {
        return defer_pending(services, ids, until, &reason).await;
    }
    let rows = delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(due_condition(now))
        .order_by_asc(delivery::Column::DueAt)
        .order_by_asc(delivery::Column::Id)
        .all(&services.db)
        .await?;
    let mut groups: BTreeMap<GroupKey, Vec<delivery::Model>> = BTreeMap::new();
    for row in rows {
        groups.entry(group_key(&row)).or_default().push(row);
    }
    let mut groups = groups.into_values();
    while let Some(group) = groups.next() {
        if let Some((until, reason)) = deliver_group(services, robot, group).await? {
            // Banned: the rest waits too, without being claimed or checked.
            let rest: Vec<i32> = groups.flatten().map(|row| row.id).collect();
            return defer_pending(services, &rest, until, &reason).await;
        }
    }
    Ok(())
}

/// Pending rows wait out a robot's ban, untouched otherwise.
async fn defer_pending(
    services: &Services,
    ids: &[i32],
    until: DateTime<Utc>,
    reason: &str,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(until))
        .col_expr(
            delivery::Column::Answer,
            Expr::value(Some(ban_answer(services, until, reason))),
        )
        .col_expr(
            delivery::Column::UpdatedAt,
            Expr::value(services.clock.now()),
        )
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .filter(delivery::Column::NextAttemptAt.lt(until))
        .exec(&services.db)
        .await?;
    Ok(())
}

fn ban_answer(services: &Services, until: DateTime<Utc>, reason: &str) -> String {
    let until = services.settings.local_minute(until);
    format!("机器人因发送太频繁暂停接收，{until} 之后再发：{reason}")
}

/// Claims one group's rows, asks the punch check for each, and sends the rest as merged
/// messages. Returns the ban when the robot is (or gets) banned.
async fn deliver_group(
    services: &Services,
    robot: &Robot,
    rows: Vec<delivery::Model>,
) -> Result<Option<(DateTime<Utc>, String)>, AppError> {
    let now = services.clock.now();
    let mut lease = now + LEASE;
    let ids: Vec<i32> = rows.iter().map(|row| row.id).collect();
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::SENDING))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(lease)))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(claimable(services, &ids))
        .filter(due_condition(now))
        .exec(&services.db)
        .await?;
    let held = held_rows(services, &ids, lease).await?;
    if held.is_empty() {
        return Ok(None);
    }

    // The punch checks may each ask a remote service: a few at once.
    let mut checks = JoinSet::new();
    let permits = Arc::new(Semaphore::new(CONCURRENT_CHECKS));
    for (position, row) in held.into_iter().enumerate() {
        let services = services.clone();
        let permits = permits.clone();
        checks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let prepared = prepare(&services, &row, now).await;
            (position, row, prepared)
        });
    }
    let mut ready = Vec::new();
    while let Some(joined) = checks.join_next().await {
        let Ok((position, row, prepared)) = joined else {
            continue;
        };
        match prepared {
            Prepared::Done(step) => finish(services, &row, lease, step).await?,
            Prepared::Ready(prepared) => ready.push((position, row, prepared)),
        }
    }
    ready.sort_by_key(|(position, _, _)| *position);
    let Some((_, _, first)) = ready.first() else {
        return Ok(None);
    };
    let target = first.target.clone();
    let title = first.title.clone();
    let entries: Vec<Entry> = ready
        .iter()
        .map(|(_, _, prepared)| prepared.entry.clone())
        .collect();
    let sizes: Vec<usize> = target
        .address
        .split_entries(target.format, entries)
        .iter()
        .map(Vec::len)
        .collect();
    let mut ready = ready.into_iter().map(|(_, row, prepared)| (row, prepared));
    let mut parts: Vec<Vec<(delivery::Model, Box<Ready>)>> = sizes
        .into_iter()
        .map(|size| ready.by_ref().take(size).collect())
        .collect();
    parts.reverse();

    while let Some(mut part) = parts.pop() {
        let slot = loop {
            match pacing::take_slot(services, &robot.key, &robot.limits).await? {
                Slot::Taken(slot) => break slot,
                Slot::WaitUntil(at) => {
                    // Keep the rows ours while waiting for the robot's window.
                    let new_lease = at + LEASE;
                    let ids: Vec<i32> = parts
                        .iter()
                        .flatten()
                        .chain(part.iter())
                        .map(|(row, _)| row.id)
                        .collect();
                    extend_lease(services, &ids, lease, new_lease).await?;
                    lease = new_lease;
                    let still: HashSet<i32> = held_rows(services, &ids, lease)
                        .await?
                        .into_iter()
                        .map(|row| row.id)
                        .collect();
                    part.retain(|(row, _)| still.contains(&row.id));
                    for other in &mut parts {
                        other.retain(|(row, _)| still.contains(&row.id));
                    }
                    let wait = (at - SystemClock.now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                }
                Slot::BannedUntil(until) => {
                    let reason = pacing::ban_of(services, &robot.key)
                        .await?
                        .map(|(_, reason)| reason)
                        .unwrap_or_default();
                    parts.push(part);
                    release_banned(services, parts.into_iter().flatten(), lease, until, &reason)
                        .await?;
                    return Ok(Some((until, reason)));
                }
            }
        };
        if part.is_empty() {
            continue;
        }
        let message = OutgoingMessage {
            title: title.clone(),
            entries: part
                .iter()
                .map(|(_, prepared)| prepared.entry.clone())
                .collect(),
            idempotency_key: message_key(part.iter().map(|(row, _)| row.idempotency_key.as_str())),
            context: serde_json::Value::Null,
        };
        let sent = notify::send(services, &target, &message).await;
        pacing::sent(services, slot).await?;
        if let Verdict::Throttled(reason) = &sent.verdict {
            let until = robot.throttled(services, reason).await?;
            parts.push(part);
            release_banned(services, parts.into_iter().flatten(), lease, until, reason).await?;
            return Ok(Some((until, reason.clone())));
        }
        let now = services.clock.now();
        for (row, prepared) in part {
            let mut step = step_of(&sent, &row, now);
            step.check_result = Some(prepared.check_result.clone());
            step.message_key = Some(message.idempotency_key.clone());
            finish(services, &row, lease, step).await?;
        }
    }
    Ok(None)
}

/// The rows among `ids` that this claim (its `lease`) still holds.
async fn held_rows(
    services: &Services,
    ids: &[i32],
    lease: DateTime<Utc>,
) -> Result<Vec<delivery::Model>, AppError> {
    delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .order_by_asc(delivery::Column::DueAt)
        .order_by_asc(delivery::Column::Id)
        .all(&services.db)
        .await
        .map_err(AppError::from)
}

async fn extend_lease(
    services: &Services,
    ids: &[i32],
    lease: DateTime<Utc>,
    new_lease: DateTime<Utc>,
) -> Result<(), AppError> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(new_lease)))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Claimed rows go back to waiting until the ban is over (or fail if that is past their
/// deadline).
async fn release_banned(
    services: &Services,
    rows: impl Iterator<Item = (delivery::Model, Box<Ready>)>,
    lease: DateTime<Utc>,
    until: DateTime<Utc>,
    reason: &str,
) -> Result<(), AppError> {
    let answer = ban_answer(services, until, reason);
    for (row, prepared) in rows {
        let mut step = if until > row.deadline_at {
            Step::end(
                status::FAILED,
                format!("机器人因发送太频繁暂停接收，到发送期限仍未恢复：{reason}"),
            )
        } else {
            Step {
                next_attempt_at: Some(until),
                ..Step::end(status::PENDING, answer.clone())
            }
        };
        step.check_result = Some(prepared.check_result.clone());
        finish(services, &row, lease, step).await?;
    }
    Ok(())
}

/// One merged message's key (DingTalk's `msgUuid`): derived from its rows' keys, so a
/// resend of the same people after a crash is dropped by DingTalk as a duplicate.
fn message_key<'a>(row_keys: impl Iterator<Item = &'a str>) -> String {
    let mut keys: Vec<&str> = row_keys.collect();
    if let [only] = keys.as_slice() {
        return (*only).to_owned();
    }
    keys.sort_unstable();
    let digest = Sha256::digest(keys.join(",").as_bytes());
    digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Claims one row and takes it one step: sent, skipped, retry later, failed.
pub async fn deliver(services: &Services, id: i32) -> Result<(), AppError> {
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
        .filter(claimable(services, &[id]))
        .filter(due_condition(now))
        .exec(&services.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(());
    }
    let Some(row) = delivery::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(());
    };
    let step = match prepare(services, &row, now).await {
        Prepared::Done(step) => step,
        Prepared::Ready(prepared) => {
            let message = OutgoingMessage {
                title: prepared.title.clone(),
                entries: vec![prepared.entry.clone()],
                idempotency_key: row.idempotency_key.clone(),
                context: prepared.context.clone(),
            };
            let mut step = match send_paced(services, &prepared.target, &message).await? {
                Paced::Sent(sent) => step_of(&sent, &row, now),
                Paced::Later(wait, why) => later_step(&row, services.clock.now() + wait, why),
            };
            step.check_result = Some(prepared.check_result.clone());
            step
        }
    };
    finish(services, &row, lease, step).await
}

/// A slot this far off is waited for within the claim; a later one hands the row back.
const LONGEST_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

enum Paced {
    Sent(SendOutcome),
    /// No slot soon (or the channel is banned for sending too fast): try again after this.
    Later(Duration, String),
}

/// Sends one message; a personal channel with limits of its own first takes a send slot
/// shared through the database, as the group robots' queues do.
async fn send_paced(
    services: &Services,
    target: &Target,
    message: &OutgoingMessage,
) -> Result<Paced, AppError> {
    let Some(pacer) = target.personal_pacing(services) else {
        return Ok(Paced::Sent(notify::send(services, target, message).await));
    };
    loop {
        match pacing::take_slot(services, &pacer.key, &pacer.limits).await? {
            Slot::Taken(slot) => {
                let sent = notify::send(services, target, message).await;
                pacing::sent(services, slot).await?;
                if let Verdict::Throttled(reason) = &sent.verdict {
                    pacer.throttled(services, reason).await?;
                }
                return Ok(Paced::Sent(sent));
            }
            Slot::WaitUntil(at) => {
                let wait = (at - SystemClock.now()).to_std().unwrap_or_default();
                if wait > LONGEST_SLOT_WAIT {
                    let wait = Duration::from_std(wait).unwrap_or(Duration::MAX);
                    return Ok(Paced::Later(wait, "等待发送名额（渠道限流）".to_owned()));
                }
                tokio::time::sleep(wait).await;
            }
            Slot::BannedUntil(until) => {
                let reason = pacing::ban_of(services, &pacer.key)
                    .await?
                    .map(|(_, reason)| reason)
                    .unwrap_or_default();
                let wait = until - services.clock.now();
                return Ok(Paced::Later(wait, ban_answer(services, until, &reason)));
            }
        }
    }
}

/// Back to `pending` until `at` without counting an attempt (nothing was sent), or `failed`
/// when that is past the deadline.
fn later_step(row: &delivery::Model, at: DateTime<Utc>, why: String) -> Step {
    if at > row.deadline_at {
        return Step::end(status::FAILED, format!("到发送期限仍未轮到：{why}"));
    }
    Step {
        next_attempt_at: Some(at),
        refund_attempt: true,
        ..Step::end(status::PENDING, why)
    }
}

/// What a claimed row becomes.
struct Step {
    status: &'static str,
    answer: Option<String>,
    check_result: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    next_attempt_at: Option<DateTime<Utc>>,
    message_key: Option<String>,
    /// The claim counted an attempt that never sent anything.
    refund_attempt: bool,
}

impl Step {
    fn end(status: &'static str, answer: impl Into<String>) -> Self {
        Self {
            status,
            answer: Some(answer.into()),
            check_result: None,
            sent_at: None,
            next_attempt_at: None,
            message_key: None,
            refund_attempt: false,
        }
    }
}

/// A row ready to be sent: everything its message needs.
struct Ready {
    target: Target,
    title: String,
    entry: Entry,
    context: serde_json::Value,
    check_result: String,
}

enum Prepared {
    /// Settled without sending (already punched, too late, nothing to send through).
    Done(Step),
    Ready(Box<Ready>),
}

async fn prepare(services: &Services, row: &delivery::Model, now: DateTime<Utc>) -> Prepared {
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

/// What one row of a sent message becomes.
fn step_of(sent: &SendOutcome, row: &delivery::Model, now: DateTime<Utc>) -> Step {
    match &sent.verdict {
        Verdict::Sent => Step {
            sent_at: Some(now),
            ..Step::end(
                status::SENT,
                sent.answer
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(500)
                    .collect::<String>(),
            )
        },
        Verdict::RetryLater(message) | Verdict::Throttled(message) => {
            retry_step(row, now, message.clone())
        }
        Verdict::Permanent(message) => Step::end(status::FAILED, message.clone()),
    }
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
        next_attempt_at: Some(next),
        ..Step::end(
            status::PENDING,
            format!("第 {attempt} 次发送失败，稍后重试：{message}"),
        )
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
    if let Some(message_key) = step.message_key {
        update = update.col_expr(delivery::Column::MessageKey, Expr::value(Some(message_key)));
    }
    if step.refund_attempt {
        update = update.col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).sub(1),
        );
    }
    let result = update
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .exec(&services.db)
        .await?;
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
