//! Robot pacing shared through the database. Before each message to a rate-limited group
//! robot, a process takes a send slot: in one write transaction it locks the robot's row,
//! reads what every process sent to that robot in the last window and records its own send
//! only if the robot's limits allow it. A restarted process or a second replica therefore
//! sees the sends of the others. A robot that answered "too fast" is banned here until its
//! platform's ban is over, and nobody sends to it meanwhile. Send slots are real time (the
//! robot counts in real time); bans are on the clock that drives the deliveries' own times
//! (the same clock in production; tests move it), since they postpone deliveries.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use sha2::{Digest, Sha256};

use super::super::entity::{robot_send, robot_state};
use super::super::{Clock, Services, SystemClock};
use crate::AppError;
use crate::domain::channel::ChannelKind;
use crate::domain::robot::{Pacer, RateLimit};

/// A robot's identity for pacing: SHA-256 of its URL (the token is part of it), so the
/// table never holds the token itself.
pub fn robot_key(url: &str) -> String {
    Sha256::digest(url.trim().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A rate-limited group robot as this installation paces it: its key, its limits and how
/// long it is left alone after answering "too fast" (windows scaled by
/// `ROBOT_RATE_WINDOW_SCALE`, which tests shrink).
#[derive(Debug, Clone)]
pub struct Robot {
    /// [`robot_key`] of its URL.
    pub key: String,
    pub limits: Vec<RateLimit>,
    pub ban: std::time::Duration,
}

impl Robot {
    pub fn new(services: &Services, kind: ChannelKind, url: &str) -> Self {
        let scale = services.settings.rate_window_scale;
        Self {
            key: robot_key(url),
            limits: kind
                .rate_limits()
                .iter()
                .map(|limit| RateLimit {
                    max: limit.max,
                    per: limit.per.mul_f64(scale),
                })
                .collect(),
            ban: kind.throttle_ban().mul_f64(scale),
        }
    }

    /// Records that the robot refused us as too fast; returns when its ban ends.
    pub async fn throttled(
        &self,
        services: &Services,
        reason: &str,
    ) -> Result<DateTime<Utc>, AppError> {
        let until = services.clock.now() + delta(self.ban);
        ban(services, &self.key, until, reason).await?;
        Ok(until)
    }
}

/// The answer to asking for a send slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Send now; call [`sent`] with the id when the robot has answered.
    Taken(i32),
    /// The limits allow the next send at this instant.
    WaitUntil(DateTime<Utc>),
    /// The robot refused us as too fast; nothing is sent to it before this instant.
    BannedUntil(DateTime<Utc>),
}

/// Widens every rate-limit window by a sixtieth (one second a minute).
const SAFETY_FACTOR: f64 = 1.0 + 1.0 / 60.0;

fn delta(duration: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// Takes a slot for one message to the robot `key`, if its `limits` allow one now. Rate
/// limits are about real time at the robot, so this reads the system clock, not the clock
/// that drives schedules.
pub async fn take_slot(
    services: &Services,
    key: &str,
    limits: &[RateLimit],
) -> Result<Slot, AppError> {
    let now = SystemClock.now();
    let txn = services.begin_write().await?;
    robot_state::Entity::insert(robot_state::ActiveModel {
        robot_key: Set(key.to_owned()),
        banned_until: Set(None),
        ban_reason: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(robot_state::Column::RobotKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    // Writing the row locks it (PostgreSQL) or the database (SQLite) until commit: the
    // processes asking for a slot of this robot take turns.
    robot_state::Entity::update_many()
        .col_expr(robot_state::Column::UpdatedAt, Expr::value(now))
        .filter(robot_state::Column::RobotKey.eq(key))
        .exec(&txn)
        .await?;
    let banned_until: Option<DateTime<Utc>> = robot_state::Entity::find_by_id(key.to_owned())
        .select_only()
        .column(robot_state::Column::BannedUntil)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&txn)
        .await?
        .flatten();
    if let Some(until) = banned_until.filter(|until| *until > services.clock.now()) {
        txn.commit().await?;
        return Ok(Slot::BannedUntil(until));
    }
    // A second in every minute to spare: a send is recorded when its slot is taken, a
    // little before the robot counts it, and replicas' clocks differ slightly.
    let limits: Vec<RateLimit> = limits
        .iter()
        .map(|limit| RateLimit {
            max: limit.max,
            per: limit.per.mul_f64(SAFETY_FACTOR),
        })
        .collect();
    let Some(longest) = limits.iter().map(|limit| limit.per).max() else {
        txn.commit().await?;
        return Ok(Slot::Taken(0));
    };
    let horizon = now - delta(longest);
    let recent: Vec<DateTime<Utc>> = robot_send::Entity::find()
        .select_only()
        .column(robot_send::Column::SentAt)
        .filter(robot_send::Column::RobotKey.eq(key))
        .filter(robot_send::Column::SentAt.gt(horizon))
        .order_by_asc(robot_send::Column::SentAt)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut pacer = Pacer::new(limits);
    for at in recent {
        pacer.record(at);
    }
    let slot = pacer.next_slot(now);
    if slot > now {
        txn.commit().await?;
        return Ok(Slot::WaitUntil(slot));
    }
    let id = robot_send::Entity::insert(robot_send::ActiveModel {
        robot_key: Set(key.to_owned()),
        sent_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    // Sends older than the longest window no longer matter.
    robot_send::Entity::delete_many()
        .filter(robot_send::Column::RobotKey.eq(key))
        .filter(robot_send::Column::SentAt.lt(horizon))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Slot::Taken(id))
}

/// Moves a taken slot to the moment the robot answered: the robot counted the message
/// somewhere between the two, so the later time keeps every process on the safe side.
pub async fn sent(services: &Services, slot_id: i32) -> Result<(), AppError> {
    if slot_id == 0 {
        return Ok(());
    }
    robot_send::Entity::update_many()
        .col_expr(robot_send::Column::SentAt, Expr::value(SystemClock.now()))
        .filter(robot_send::Column::Id.eq(slot_id))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Leaves the robot alone until `until`, on the deliveries' clock (never shortens a ban
/// already recorded).
pub async fn ban(
    services: &Services,
    key: &str,
    until: DateTime<Utc>,
    reason: &str,
) -> Result<(), AppError> {
    let now = SystemClock.now();
    robot_state::Entity::insert(robot_state::ActiveModel {
        robot_key: Set(key.to_owned()),
        banned_until: Set(None),
        ban_reason: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(robot_state::Column::RobotKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&services.db)
    .await?;
    robot_state::Entity::update_many()
        .col_expr(robot_state::Column::BannedUntil, Expr::value(Some(until)))
        .col_expr(
            robot_state::Column::BanReason,
            Expr::value(Some(reason.chars().take(500).collect::<String>())),
        )
        .col_expr(robot_state::Column::UpdatedAt, Expr::value(now))
        .filter(robot_state::Column::RobotKey.eq(key))
        .filter(
            sea_orm::Condition::any()
                .add(robot_state::Column::BannedUntil.is_null())
                .add(robot_state::Column::BannedUntil.lt(until)),
        )
        .exec(&services.db)
        .await?;
    Ok(())
}

/// A robot's current ban, if any: until when, and the robot's words.
pub async fn ban_of(
    services: &Services,
    key: &str,
) -> Result<Option<(DateTime<Utc>, String)>, AppError> {
    let now = services.clock.now();
    let state = robot_state::Entity::find_by_id(key.to_owned())
        .one(&services.db)
        .await?;
    Ok(state.and_then(|state| {
        state
            .banned_until
            .filter(|until| *until > now)
            .map(|until| (until, state.ban_reason.unwrap_or_default()))
    }))
}

/// Every robot banned right now, by [`robot_key`].
pub async fn current_bans(
    services: &Services,
) -> Result<std::collections::HashMap<String, (DateTime<Utc>, String)>, AppError> {
    let now = services.clock.now();
    let rows = robot_state::Entity::find()
        .filter(robot_state::Column::BannedUntil.gt(now))
        .all(&services.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let until = row.banned_until?;
            Some((row.robot_key, (until, row.ban_reason.unwrap_or_default())))
        })
        .collect())
}
