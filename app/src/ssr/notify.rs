//! The I/O side of the channel seam: sends one message through one channel and says what
//! became of it. What to send is decided by the callers (the dispatcher, a channel test);
//! how each kind's request looks and what its answer means is the kind's own module under
//! `domain::channel`, reached through the channel's parsed address.

use crate::domain::channel::{Outgoing, SendContext, Verdict};
use crate::domain::redact::Secrets;
use crate::domain::robot::OutgoingMessage;

use super::channels::Target;
use super::{Clock, Services, SystemClock};

/// A message's fate, with every text already cleared of the channel's secrets (it is shown
/// in delivery history and channel tests, to members too).
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub verdict: Verdict,
    pub http_status: Option<u16>,
    /// The service's answer, when it answered.
    pub answer: Option<String>,
}

impl SendOutcome {
    pub(crate) fn refused(message: String) -> Self {
        Self {
            verdict: Verdict::Permanent(message),
            http_status: None,
            answer: None,
        }
    }

    /// A request that never got an answer.
    pub(crate) fn unanswered(retryable: bool, message: String) -> Self {
        Self {
            verdict: if retryable {
                Verdict::RetryLater(message)
            } else {
                Verdict::Permanent(message)
            },
            http_status: None,
            answer: None,
        }
    }
}

fn secrets_of(target: &Target) -> Secrets {
    target
        .address
        .secrets()
        .into_iter()
        .fold(Secrets::new(), |secrets, secret| secrets.with(secret))
}

/// Sends `message` through `target`.
pub async fn send(services: &Services, target: &Target, message: &OutgoingMessage) -> SendOutcome {
    let secrets = secrets_of(target);
    let outcome = deliver(services, target, message).await;
    let redact = |text: String| secrets.redact(&text);
    SendOutcome {
        verdict: match outcome.verdict {
            Verdict::Sent => Verdict::Sent,
            Verdict::RetryLater(text) => Verdict::RetryLater(redact(text)),
            Verdict::Throttled(text) => Verdict::Throttled(redact(text)),
            Verdict::Permanent(text) => Verdict::Permanent(redact(text)),
        },
        http_status: outcome.http_status,
        answer: outcome
            .answer
            .map(|answer| redact(answer).chars().take(2000).collect()),
    }
}

async fn deliver(services: &Services, target: &Target, message: &OutgoingMessage) -> SendOutcome {
    let context = SendContext {
        format: target.format,
        // Platforms check signatures against their own clock: sign with the real time
        // even when a test clock drives the schedule.
        now: SystemClock.now(),
        bases: &services.settings.service_bases,
    };
    let request = match target.address.build(message, &context) {
        Ok(Outgoing::Http(request)) => request,
        Ok(Outgoing::Mail(spec, notice)) => {
            return super::mailer::send(services, &spec, &notice).await;
        }
        Err(error) => return SendOutcome::refused(error.to_string()),
    };
    match services
        .outbound
        .post(&request.url, request.body, &request.headers)
        .await
    {
        Ok(answer) => SendOutcome {
            verdict: target.address.classify(answer.status, &answer.body),
            http_status: Some(answer.status),
            answer: Some(answer.body),
        },
        Err(error) => SendOutcome::unanswered(error.retryable, error.message),
    }
}
