//! The reminder engine's services: each tick turns the due reminders into durable delivery
//! rows (`tick`), and the dispatcher sends them (`dispatch`) after asking whether the person
//! already punched (`check`). The views (`views`) serve the preview, history and dashboard.
//!
//! Exactly once: the `deliveries` table has a unique key (user, date, kind, sequence), so a
//! reminder computed twice — by two ticks, two processes or after a restart — is one row;
//! a row is sent only by whoever moves it from `pending` to `sending` (one UPDATE that must
//! change exactly one row), and a lease that expires after a crash makes it retryable.
//! DingTalk drops a resend carrying the same `msgUuid`; on the other platforms a duplicate
//! is possible only if the process dies after the robot accepted a message and before the
//! single UPDATE that records it as sent. The key includes the shift, so a shift that
//! changes hands on its day (an approved swap) is reminded to its new owner.

pub mod check;
pub mod dispatch;
pub mod pacing;
pub mod rules;
pub mod tick;
pub mod views;

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Delivery states as stored.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    /// Already punched: no reminder needed.
    pub const SKIPPED: &str = "skipped";
    /// Found too late (after downtime): recorded, not sent.
    pub const MISSED: &str = "missed";
    pub const FAILED: &str = "failed";
    /// Sending was switched off when it was due.
    pub const DISABLED: &str = "disabled";
    /// The plan changed before it was sent (leave, a swap approved): not sent.
    pub const CANCELLED: &str = "cancelled";

    pub const ALL: [&str; 8] = [
        PENDING, SENDING, SENT, SKIPPED, MISSED, FAILED, DISABLED, CANCELLED,
    ];

    pub fn label(status: &str) -> &'static str {
        match status {
            PENDING => "等待发送",
            SENDING => "发送中",
            SENT => "已发送",
            SKIPPED => "已打卡，未提醒",
            MISSED => "已错过",
            FAILED => "发送失败",
            DISABLED => "提醒已关闭",
            CANCELLED => "排班已变更，已取消",
            _ => "未知",
        }
    }
}

/// This process's worker, for the health check and the dashboard.
#[derive(Debug)]
pub struct Heartbeat {
    started_at: DateTime<Utc>,
    last_tick_at: Mutex<Option<DateTime<Utc>>>,
}

impl Heartbeat {
    pub fn new(started_at: DateTime<Utc>) -> Self {
        Self {
            started_at,
            last_tick_at: Mutex::new(None),
        }
    }

    pub fn beat(&self, at: DateTime<Utc>) {
        if let Ok(mut last) = self.last_tick_at.lock() {
            *last = Some(at);
        }
    }

    pub fn last_tick_at(&self) -> Option<DateTime<Utc>> {
        self.last_tick_at.lock().ok().and_then(|last| *last)
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }
}

/// One worker tick: record what became due, then hand what is due to the dispatcher.
pub async fn run_tick(services: &super::Services) -> Result<tick::TickReport, crate::AppError> {
    let report = tick::tick(services).await?;
    services.heartbeat.beat(services.clock.now());
    // A request left undecided past its shift's start expires; a failure here must not
    // hold up the reminders.
    if let Err(error) = super::requests::expire_due(services).await {
        tracing::warn!(%error, "expiring undecided requests failed; tried again next tick");
    }
    if let Err(error) = super::notices::run(services).await {
        tracing::warn!(%error, "sending notices failed; tried again next tick");
    }
    dispatch::enqueue_due(services).await?;
    Ok(report)
}
