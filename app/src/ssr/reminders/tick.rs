//! One tick: the reminders due since the last completed tick become delivery rows.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::super::channels::{ChannelBook, Choice, NO_CHANNEL};
use super::super::entity::{delivery, worker_state};
use super::super::{Services, settings};
use super::{rules, status};
use crate::AppError;
use crate::domain::reminder::{self, Reminder, Window};

pub const WORKER: &str = "reminders";
/// After a long outage, reminders older than this are not even recorded as missed.
const MAX_CATCH_UP: Duration = Duration::days(2);
const INSERT_CHUNK: usize = 200;

#[derive(Debug, Clone)]
pub struct TickReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub due: usize,
    pub inserted: u64,
}

/// A new delivery's idempotency key (DingTalk's `msgUuid`, the generic webhook's
/// `Idempotency-Key`). Random, not derived from the reminder: only the row that wins the
/// insert keeps its key and every send reads it from the row, so all processes and resends
/// agree, while a reinstalled database or a second installation posting to the same robot
/// can never collide with an earlier message and have it dropped as a duplicate.
fn new_idempotency_key() -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a delivery key");
        AppError::Internal
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

pub async fn tick(services: &Services) -> Result<TickReport, AppError> {
    let now = services.clock.now();
    let settings = settings::effective(services).await?;
    let grace = Duration::minutes(i64::from(settings.grace_minutes));
    let state = worker_state::Entity::find_by_id(WORKER)
        .one(&services.db)
        .await?;
    // The first tick ever looks back over the grace window only: what was due before the
    // service existed was never ours.
    let from = state
        .as_ref()
        .map_or(now - grace, |state| state.covered_until)
        .max(now - MAX_CATCH_UP);
    let mut report = TickReport {
        from,
        to: now,
        due: 0,
        inserted: 0,
    };
    let Some(window) = Window::new(from, now).filter(|_| from < now) else {
        touch_state(services, now, now).await?;
        return Ok(report);
    };
    let tz = services.settings.timezone.tz();
    let (first, last) = reminder::schedule_dates_for(&window, tz);
    let data = rules::load(services, &settings, first, last, None).await?;
    let due = reminder::due(&data.rules(), &data.schedules, &window);
    report.due = due.len();
    let book = ChannelBook::load(services).await?;
    let deadline = retry_deadline(&settings);
    let rows = due
        .iter()
        .map(|reminder| -> Result<delivery::ActiveModel, AppError> {
            let choice = book.choose(reminder.user_id, reminder.kind, &settings);
            let (state, answer) = if !settings.reminder_enabled {
                (
                    status::DISABLED,
                    Some("提醒已关闭（REMINDER_ENABLED=false 或系统设置）".to_owned()),
                )
            } else if reminder.at < now - grace {
                (
                    status::MISSED,
                    Some(format!(
                        "服务在提醒时间后 {} 分钟才处理到，超过补发时限 {} 分钟，未发送",
                        (now - reminder.at).num_minutes(),
                        settings.grace_minutes
                    )),
                )
            } else if choice.name == NO_CHANNEL {
                (
                    status::FAILED,
                    Some(
                        "没有可用的通知渠道：请添加机器人，或设置 WORKING_URL / NO_WORK_URL"
                            .to_owned(),
                    ),
                )
            } else {
                (status::PENDING, None)
            };
            let shift_name = data
                .shifts
                .get(&reminder.shift_id)
                .map(|shift| shift.name.clone())
                .unwrap_or_default();
            let row = NewDelivery {
                reminder,
                shift_name,
                choice: &choice,
                status: state,
                answer,
                due_at: reminder.at,
            };
            row.into_model(deadline, now)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let txn = services.begin_write().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        // Another tick or process may have recorded some already: theirs stand.
        let inserted = delivery::Entity::insert_many(chunk)
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
            .exec_without_returning(&txn)
            .await?;
        report.inserted += inserted;
    }
    write_state(&txn, now, now).await?;
    txn.commit().await?;
    if report.inserted > 0 {
        tracing::info!(
            due = report.due,
            inserted = report.inserted,
            from = %report.from,
            to = %report.to,
            "reminders recorded"
        );
    }
    Ok(report)
}

/// A delivery row about to be recorded.
pub struct NewDelivery<'a> {
    pub reminder: &'a Reminder,
    pub shift_name: String,
    pub choice: &'a Choice,
    pub status: &'a str,
    pub answer: Option<String>,
    /// When it is first tried: the reminder's time, or now for one planned late.
    pub due_at: DateTime<Utc>,
}

impl NewDelivery<'_> {
    pub fn into_model(
        self,
        deadline: Duration,
        now: DateTime<Utc>,
    ) -> Result<delivery::ActiveModel, AppError> {
        let reminder = self.reminder;
        Ok(delivery::ActiveModel {
            user_id: Set(reminder.user_id),
            date: Set(reminder.date),
            kind: Set(reminder.kind.as_str().to_owned()),
            sequence: Set(i32::from(reminder.sequence)),
            shift_id: Set(reminder.shift_id),
            shift_name: Set(self.shift_name),
            due_at: Set(self.due_at),
            deadline_at: Set(self.due_at + deadline),
            status: Set(self.status.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(self.due_at),
            lease_until: Set(None),
            channel_id: Set(self.choice.channel_id),
            channel_name: Set(self.choice.shown()),
            platform: Set(self.choice.platform.map(|p| p.as_str().to_owned())),
            sent_at: Set(None),
            check_result: Set(None),
            answer: Set(self.answer),
            idempotency_key: Set(new_idempotency_key()?),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    }
}

/// The retry deadline after a delivery's due time.
pub fn retry_deadline(settings: &super::super::settings::ReminderSettings) -> Duration {
    Duration::minutes(i64::from(
        settings.retry_minutes.max(settings.grace_minutes),
    ))
}

async fn touch_state(
    services: &Services,
    covered: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = services.begin_write().await?;
    write_state(&txn, covered, now).await?;
    txn.commit().await.map_err(AppError::from)
}

/// Moves `covered_until` forward (never back: another process may be ahead). Insert-or-
/// ignore, then conditional updates, so two processes starting together cannot collide.
async fn write_state(
    txn: &sea_orm::DatabaseTransaction,
    covered: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    worker_state::Entity::insert(worker_state::ActiveModel {
        name: Set(WORKER.to_owned()),
        covered_until: Set(covered),
        last_tick_at: Set(now),
        last_error: Set(None),
    })
    .on_conflict(
        OnConflict::column(worker_state::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    worker_state::Entity::update_many()
        .col_expr(worker_state::Column::LastTickAt, Expr::value(now))
        .filter(worker_state::Column::Name.eq(WORKER))
        .exec(txn)
        .await?;
    worker_state::Entity::update_many()
        .col_expr(worker_state::Column::CoveredUntil, Expr::value(covered))
        .filter(worker_state::Column::Name.eq(WORKER))
        .filter(worker_state::Column::CoveredUntil.lt(covered))
        .exec(txn)
        .await?;
    Ok(())
}
