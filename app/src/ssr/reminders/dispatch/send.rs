//! Sending one prepared message; a personal channel with limits of its own takes a send
//! slot shared through the database first.

use chrono::Duration;

use super::super::super::channels::Target;
use super::super::super::notify::{self, SendOutcome};
use super::super::super::{Clock, Services, SystemClock};
use super::super::pacing::{self, Slot};
use super::robots::ban_answer;
use crate::AppError;
use crate::domain::channel::Verdict;
use crate::domain::robot::OutgoingMessage;

/// A slot this far off is waited for within the claim; a later one hands the row back.
pub(super) const LONGEST_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

pub(super) enum Paced {
    Sent(SendOutcome),
    /// No slot soon (or the channel is banned for sending too fast): try again after this.
    Later(Duration, String),
}

/// Sends one message; a personal channel with limits of its own first takes a send slot
/// shared through the database, as the group robots' queues do.
pub(super) async fn send_paced(
    services: &Services,
    target: &Target,
    message: &OutgoingMessage,
) -> Result<Paced, AppError> {
    let Some(pacer) = target.personal_pacing(services) else {
        return Ok(Paced::Sent(notify::send(services, target, message).await));
    };
    // All waits together stay within the budget, however many times the slot moves on.
    let give_up = SystemClock.now() + Duration::from_std(LONGEST_SLOT_WAIT).unwrap_or_default();
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
                if at > give_up {
                    let wait = at - SystemClock.now();
                    return Ok(Paced::Later(wait, "等待发送名额（渠道限流）".to_owned()));
                }
                tokio::time::sleep((at - SystemClock.now()).to_std().unwrap_or_default()).await;
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
