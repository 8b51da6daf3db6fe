//! Sending delivery rows. Group robots with a rate limit (DingTalk and WeCom 20 a minute,
//! Feishu 5 a second) get one queue each in this process: the rows due together for one
//! robot become merged messages that mention everyone in them, and each message waits for a
//! send slot from the database (`pacing`), so all processes together keep the robot's
//! limit and a banned robot is left alone until its ban is over. Generic webhooks are sent
//! one row at a time, concurrently up to a bound. Rows are claimed only when their turn
//! comes, so a lease covers a send, not the time spent queueing.
//!
//! One row's way through is four steps, one module each: [`claim`] it (a lease in the
//! database), [`prepare`] it (still due? punched? which channel? the message), send it
//! ([`send`]: a slot first where the channel has limits; [`robots`] merges the rows due
//! together for one group robot), and [`finish`] it (sent, skipped, retry later, failed),
//! recorded only while the lease is still ours.

mod claim;
mod finish;
mod prepare;
mod robots;
mod send;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Semaphore, mpsc};

use super::super::Services;
use super::super::channels::{self, Target};
use super::super::entity::delivery;
use super::super::settings;
use crate::AppError;
use crate::domain::reminder::ReminderKind;
use crate::domain::robot::OutgoingMessage;
use claim::due_condition;
use finish::{finish, later_step, step_of};
use prepare::{Prepared, prepare};
use robots::robot_queue;
use send::{Paced, send_paced};

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

/// Claims one row and takes it one step: sent, skipped, retry later, failed.
pub async fn deliver(services: &Services, id: i32) -> Result<(), AppError> {
    let now = services.clock.now();
    let (lease, claimed) = claim::claim(services, &[id], now).await?;
    if claimed != 1 {
        return Ok(());
    }
    let Some(row) = delivery::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(());
    };
    let mut lease = lease;
    let step = match prepare(services, &row, now).await {
        Prepared::Done(step) => step,
        Prepared::Ready(prepared) => {
            // A company app may sign in, send, sign in again, resend and confirm, and a
            // paced channel may wait for its slot: more than one lease of network time.
            if prepared.target.is_slow() {
                let longer = services.clock.now() + claim::SLOW_LEASE;
                claim::extend_lease(services, &[row.id], lease, longer).await?;
                lease = longer;
            }
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
