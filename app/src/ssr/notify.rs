//! The I/O side of the notifier seam: sends one message through one channel and says what
//! became of it. What to send is decided by the callers (the dispatcher, a channel test);
//! how each kind's request looks and what its answer means is the kind's own module, in
//! `domain::robot` for the group robots and the generic webhook and in `domain::channel`
//! for the personal push services.

use crate::domain::channel::{self, ChannelAddress, ChannelKind, Notice, NoticeLink, Verdict};
use crate::domain::redact::Secrets;
use crate::domain::robot::{self, OutgoingMessage, RobotVerdict};

use super::channels::Target;
use super::{Clock, Services, SystemClock};

/// A message's fate, with every text already cleared of the channel's secrets (it is shown
/// in delivery history and channel tests, to members too).
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub verdict: RobotVerdict,
    pub http_status: Option<u16>,
    /// The service's answer, when it answered.
    pub answer: Option<String>,
}

impl SendOutcome {
    fn refused(message: String) -> Self {
        Self {
            verdict: RobotVerdict::Permanent(message),
            http_status: None,
            answer: None,
        }
    }
}

fn secrets_of(target: &Target) -> Secrets {
    let mut secrets = Secrets::new()
        .with_url(&target.url)
        .with(target.secret.as_deref().unwrap_or_default());
    if let Ok(address) = channel::parse(&target.url) {
        for secret in address.secrets() {
            secrets = secrets.with(secret);
        }
    }
    secrets
}

/// Sends `message` through `target`.
pub async fn send(services: &Services, target: &Target, message: &OutgoingMessage) -> SendOutcome {
    let secrets = secrets_of(target);
    let outcome = match target.platform() {
        Some(platform) => send_robot(services, platform, target, message, &secrets).await,
        None => send_personal(services, target, message, &secrets).await,
    };
    SendOutcome {
        verdict: match outcome.verdict {
            RobotVerdict::Accepted => RobotVerdict::Accepted,
            RobotVerdict::Retryable(text) => RobotVerdict::Retryable(secrets.redact(&text)),
            RobotVerdict::Throttled(text) => RobotVerdict::Throttled(secrets.redact(&text)),
            RobotVerdict::Permanent(text) => RobotVerdict::Permanent(secrets.redact(&text)),
        },
        http_status: outcome.http_status,
        answer: outcome
            .answer
            .map(|answer| secrets.redact(&answer).chars().take(2000).collect()),
    }
}

async fn send_robot(
    services: &Services,
    platform: robot::Platform,
    target: &Target,
    message: &OutgoingMessage,
    secrets: &Secrets,
) -> SendOutcome {
    let request = match robot::build_request(
        platform,
        &target.url,
        target.secret.as_deref(),
        target.format,
        message,
        // Platforms check signatures against their own clock: sign with the real time
        // even when a test clock drives the schedule.
        SystemClock.now(),
    ) {
        Ok(request) => request,
        Err(error) => return SendOutcome::refused(secrets.redact(&error.to_string())),
    };
    match services
        .outbound
        .post_json(&request.url, request.body, &request.headers)
        .await
    {
        Ok(answer) => SendOutcome {
            verdict: robot::classify(platform, answer.status, &answer.body),
            http_status: Some(answer.status),
            answer: Some(answer.body),
        },
        Err(error) => network_failure(error),
    }
}

fn network_failure(error: super::outbound::SendError) -> SendOutcome {
    SendOutcome {
        verdict: if error.retryable {
            RobotVerdict::Retryable(error.message)
        } else {
            RobotVerdict::Permanent(error.message)
        },
        http_status: None,
        answer: None,
    }
}

/// A personal push: one person, their text and their links.
fn notice_of(message: &OutgoingMessage) -> Notice {
    Notice {
        title: message.title.clone(),
        text: message
            .entries
            .iter()
            .map(|entry| entry.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        links: message
            .entries
            .iter()
            .flat_map(|entry| &entry.links)
            .map(|link| NoticeLink {
                label: link.label.clone(),
                url: link.url.clone(),
            })
            .collect(),
    }
}

async fn send_personal(
    services: &Services,
    target: &Target,
    message: &OutgoingMessage,
    secrets: &Secrets,
) -> SendOutcome {
    let address = match channel::parse(&target.url) {
        Ok(address) => address,
        Err(error) => return SendOutcome::refused(secrets.redact(&error.message)),
    };
    let notice = notice_of(message);
    if let ChannelAddress::Email(spec) = &address {
        return super::mailer::send(services, spec, &notice).await;
    }
    let Some(request) =
        channel::build_personal(&address, &notice, &services.settings.service_bases)
    else {
        return SendOutcome::refused(format!("{} 不能用这种方式发送", target.kind.label()));
    };
    match services
        .outbound
        .post(&request.url, request.body, &request.headers)
        .await
    {
        Ok(answer) => {
            let verdict = channel::classify_personal(target.kind, answer.status, &answer.body)
                .unwrap_or(Verdict::Permanent("无法识别的应答".to_owned()));
            SendOutcome {
                verdict: match verdict {
                    Verdict::Sent => RobotVerdict::Accepted,
                    Verdict::RetryLater(text) => RobotVerdict::Retryable(text),
                    Verdict::Permanent(text) => RobotVerdict::Permanent(text),
                },
                http_status: Some(answer.status),
                answer: Some(answer.body),
            }
        }
        Err(error) => network_failure(error),
    }
}

/// Whether `kind`'s messages are rendered as markdown by the service (values put into
/// them must be escaped as such).
pub fn renders_markdown(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::ServerChan | ChannelKind::PushPlus)
}
