//! Rate-limited group robots: one queue per robot in this process; the rows due together
//! become merged messages that mention everyone in them, each sent in a slot taken from the
//! database, and a banned robot is left alone until its ban is over.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::super::super::channels::Target;
use super::super::super::entity::delivery;
use super::super::super::notify;
use super::super::super::{Clock, Services, SystemClock};
use super::super::pacing::{self, Robot, Slot};
use super::super::status;
use super::claim::{LEASE, claim, due_condition, extend_lease, held_rows};
use super::finish::{Step, finish, step_of};
use super::prepare::{Prepared, Ready, prepare};
use crate::AppError;
use crate::domain::channel::Verdict;
use crate::domain::robot::{Entry, OutgoingMessage};

/// Punch checks asked at once for one merged message.
const CONCURRENT_CHECKS: usize = 8;

/// The queue of one rate-limited robot, started on first use. It takes every row waiting
/// for the robot at once, so reminders due together go out as merged messages.
pub(super) fn robot_queue(services: &Services, target: &Target) -> mpsc::UnboundedSender<i32> {
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
pub(super) type GroupKey = (i64, String, bool, Option<i32>);

pub(super) fn group_key(row: &delivery::Model) -> GroupKey {
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

pub(super) fn ban_answer(services: &Services, until: DateTime<Utc>, reason: &str) -> String {
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
    let ids: Vec<i32> = rows.iter().map(|row| row.id).collect();
    let (mut lease, _) = claim(services, &ids, now).await?;
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
                    let wait = (at - SystemClock.now()).max(TimeDelta::zero());
                    let new_lease = lease_while_waiting(services.clock.now(), wait);
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
                    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
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

/// The lease that keeps rows ours while waiting `wait` for a slot. Slots are in real time
/// (the robot's), leases on the deliveries' clock: the wait crosses over, the instant
/// cannot (a lease set in real time never lapses while the deliveries' clock is behind).
fn lease_while_waiting(delivery_now: DateTime<Utc>, wait: TimeDelta) -> DateTime<Utc> {
    delivery_now + wait + LEASE
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
pub(super) fn message_key<'a>(row_keys: impl Iterator<Item = &'a str>) -> String {
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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::finish::tests::{due, row};
    use super::*;

    #[test]
    fn rows_merge_when_due_in_the_same_minute_for_the_same_kind_and_channel() {
        let first = row(1, due());
        let same_minute = row(2, due() + Duration::seconds(59));
        assert_eq!(group_key(&first), group_key(&same_minute));
        let next_minute = row(3, due() + Duration::seconds(60));
        assert_ne!(group_key(&first), group_key(&next_minute));
        let follow_up = delivery::Model {
            sequence: 1,
            ..row(4, due())
        };
        assert_ne!(group_key(&first), group_key(&follow_up));
        let clock_out = delivery::Model {
            kind: "clock_out".to_owned(),
            ..row(5, due())
        };
        assert_ne!(group_key(&first), group_key(&clock_out));
        let other_channel = delivery::Model {
            channel_id: Some(9),
            ..row(6, due())
        };
        assert_ne!(group_key(&first), group_key(&other_channel));
    }

    #[test]
    fn a_merged_message_s_key_is_its_rows_keys_in_any_order() {
        assert_eq!(message_key(["a:1"].into_iter()), "a:1");
        let forward = message_key(["a:1", "b:2", "c:3"].into_iter());
        let backward = message_key(["c:3", "a:1", "b:2"].into_iter());
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), 32);
        assert!(forward.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(forward, message_key(["a:1", "b:2"].into_iter()));
    }

    #[test]
    fn a_lease_while_waiting_for_a_slot_is_on_the_deliveries_clock() {
        // The deliveries' clock two weeks behind real time (a test clock, or a replica
        // started with an older clock): the lease still lapses a minute after the wait.
        let delivery_now = due();
        let lease = lease_while_waiting(delivery_now, Duration::seconds(3));
        assert_eq!(lease, delivery_now + Duration::seconds(63));
    }
}
