//! The I/O side of the channel seam: sends one message through one channel and says what
//! became of it. What to send is decided by the callers (the dispatcher, a channel test);
//! how each kind's request looks and what its answer means is the kind's own module under
//! `domain::channel`, reached through the channel's parsed address.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::channel::{
    Call, ChannelAddress, HttpRequest, Outgoing, SendContext, Verdict, fanout_verdict,
};
use crate::domain::redact::Secrets;
use crate::domain::robot::OutgoingMessage;

use super::channels::Target;
use super::outbound::{Answer, SendError};
use super::reminders::pacing;
use super::{Clock, Services, SystemClock};

/// Company apps' access tokens, one lock per app: a token is fetched once however many
/// sends wait for it, one app's slow sign-in does not hold up another's, and a failed
/// sign-in is answered from memory for a while instead of being tried again by every send.
#[derive(Default)]
pub struct AppTokens(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<TokenState>>>>);

#[derive(Default)]
struct TokenState {
    token: Option<(String, Instant)>,
    failed: Option<(SendOutcome, Instant)>,
}

/// How long a failed sign-in is the answer for that app's sends.
const FAILED_SIGN_IN_KEPT: Duration = Duration::from_secs(30);

impl AppTokens {
    /// The app's token: the cached one unless it is `rejected` (a send was just told it
    /// expired) or lapsed, else a fresh one. Cached per app and credentials (the key hashes
    /// the sign-in's address and the app's secret), so a channel with a wrong secret never
    /// borrows another's good token.
    async fn get(
        &self,
        services: &Services,
        address: &ChannelAddress,
        (key, sign_in): &(String, Call),
        rejected: Option<&str>,
    ) -> Result<String, SendOutcome> {
        let url = match sign_in {
            Call::Get { url, .. } => url.as_str(),
            Call::Post(request) => request.url.as_str(),
        };
        let key = pacing::robot_key(&format!("{key}\n{url}\n{}", address.pacing_identity()));
        let slot = {
            let mut slots = match self.0.lock() {
                Ok(slots) => slots,
                Err(poisoned) => poisoned.into_inner(),
            };
            slots.entry(key).or_default().clone()
        };
        let mut state = slot.lock().await;
        if let Some((token, until)) = &state.token
            && Instant::now() < *until
            && rejected != Some(token.as_str())
        {
            return Ok(token.clone());
        }
        if rejected.is_none()
            && let Some((failure, at)) = &state.failed
            && at.elapsed() < FAILED_SIGN_IN_KEPT
        {
            return Err(failure.clone());
        }
        state.token = None;
        let fetched = match call(services, sign_in).await {
            Err(error) => Err(SendOutcome::unanswered(error.retryable, error.message)),
            Ok(answer) => address
                .read_token(answer.status, &answer.body)
                .map_err(|verdict| SendOutcome {
                    verdict,
                    http_status: Some(answer.status),
                    answer: Some(answer.body),
                }),
        };
        match fetched {
            Ok(token) => {
                state.failed = None;
                state.token = Some((token.token.clone(), Instant::now() + token.lifetime));
                Ok(token.token)
            }
            Err(failure) => {
                state.failed = Some((failure.clone(), Instant::now()));
                Err(failure)
            }
        }
    }
}

/// A company app's access token for other calls than sends (a directory lookup); the
/// error says why there is none.
pub(crate) async fn app_token(
    services: &Services,
    address: &ChannelAddress,
    rejected: Option<&str>,
) -> Result<String, String> {
    let sign_in = address
        .sign_in(&services.settings.service_bases)
        .ok_or_else(|| format!("{} 不需要登录", address.kind().label()))?;
    services
        .app_tokens
        .get(services, address, &sign_in, rejected)
        .await
        .map_err(|outcome| match outcome.verdict {
            Verdict::RetryLater(text) | Verdict::Throttled(text) | Verdict::Permanent(text) => {
                secrets_of(address).redact(&text)
            }
            Verdict::Sent => "登录失败".to_owned(),
        })
}

pub(crate) async fn call(services: &Services, call: &Call) -> Result<Answer, SendError> {
    match call {
        Call::Get { url, query } => services.outbound.get(url, query, &[]).await,
        Call::Post(request) => {
            services
                .outbound
                .post(&request.url, request.body.clone(), &request.headers)
                .await
        }
    }
}

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

fn secrets_of(address: &ChannelAddress) -> Secrets {
    address
        .secrets()
        .into_iter()
        .fold(Secrets::new(), |secrets, secret| secrets.with(secret))
}

/// Sends `message` through `target`.
pub async fn send(services: &Services, target: &Target, message: &OutgoingMessage) -> SendOutcome {
    let secrets = secrets_of(&target.address);
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
    let bases = &services.settings.service_bases;
    let now = SystemClock.now();
    // The reminder clock's time (the real time in production): each follow-up and retry
    // reads differently, so a platform that drops repeated texts delivers every one.
    let stamp = services
        .clock
        .now()
        .with_timezone(&services.settings.timezone.tz())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let sign_in = target.address.sign_in(bases);
    let mut token = match &sign_in {
        Some(sign_in) => {
            match services
                .app_tokens
                .get(services, &target.address, sign_in, None)
                .await
            {
                Ok(token) => Some(token),
                Err(outcome) => return outcome,
            }
        }
        None => None,
    };
    let mut refreshed = false;
    loop {
        let context = SendContext {
            format: target.format,
            // Platforms check signatures against their own clock: sign with the real time
            // even when a test clock drives the schedule.
            now,
            bases,
            access_token: token.as_deref(),
            stamp: &stamp,
        };
        let request = match target.address.build(message, &context) {
            Ok(Outgoing::Http(request)) => request,
            Ok(Outgoing::Mail(spec, notice)) => {
                return super::mailer::send(services, &spec, &notice).await;
            }
            Ok(Outgoing::Fanout(requests)) => return fan_out(services, target, requests).await,
            Err(error) => return SendOutcome::refused(error.to_string()),
        };
        let answer = match services
            .outbound
            .post(&request.url, request.body, &request.headers)
            .await
        {
            Ok(answer) => answer,
            Err(error) => return SendOutcome::unanswered(error.retryable, error.message),
        };
        // An expired or revoked token: fetch a new one and send once more.
        if let Some(sign_in) = &sign_in
            && !refreshed
            && target.address.token_expired(answer.status, &answer.body)
        {
            refreshed = true;
            match services
                .app_tokens
                .get(services, &target.address, sign_in, token.as_deref())
                .await
            {
                Ok(fresh) => token = Some(fresh),
                Err(outcome) => return outcome,
            }
            continue;
        }
        let mut verdict = target.address.classify(answer.status, &answer.body);
        if verdict == Verdict::Sent
            && let Some(confirmation) = target.address.confirm(&answer.body, &context)
            && let Ok(confirmed) = call(services, &confirmation).await
        {
            let to: Vec<&str> = match target.kind().binding() {
                Some(binding) => message
                    .entries
                    .iter()
                    .filter_map(|entry| binding.id_of(&entry.recipient))
                    .collect(),
                None => Vec::new(),
            };
            verdict = target
                .address
                .classify_confirmation(confirmed.status, &confirmed.body, &to);
        }
        return SendOutcome {
            verdict,
            http_status: Some(answer.status),
            answer: Some(answer.body),
        };
    }
}

/// Posts each of a fan-out's requests (none signs in) and reads the answers together; the
/// answer lists each target's.
async fn fan_out(
    services: &Services,
    target: &Target,
    requests: Vec<(String, HttpRequest)>,
) -> SendOutcome {
    let mut verdicts = Vec::with_capacity(requests.len());
    let mut answers = Vec::with_capacity(requests.len());
    let mut last_status = None;
    for (label, request) in requests {
        let (verdict, answer) = match services
            .outbound
            .post(&request.url, request.body, &request.headers)
            .await
        {
            Ok(answer) => {
                last_status = Some(answer.status);
                let verdict = target.address.classify(answer.status, &answer.body);
                (verdict, format!("HTTP {} {}", answer.status, answer.body))
            }
            Err(error) => {
                let verdict = if error.retryable {
                    Verdict::RetryLater(error.message.clone())
                } else {
                    Verdict::Permanent(error.message.clone())
                };
                (verdict, error.message)
            }
        };
        answers.push(format!("{label}：{}", answer.trim()));
        verdicts.push(verdict);
    }
    SendOutcome {
        verdict: fanout_verdict(&verdicts),
        http_status: last_status,
        answer: Some(answers.join("\n")),
    }
}
