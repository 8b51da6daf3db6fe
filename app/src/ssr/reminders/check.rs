//! "Already punched?" before each reminder: our own punch records always count; then the
//! check chosen in the settings. Any failure or timeout of an outside check sends the
//! reminder anyway (fail-open) and records why: a missed reminder costs pay, an extra one
//! costs nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::super::Services;
use super::super::entity::{delivery, punch, user};
use super::super::settings::ReminderSettings;
use crate::AppError;
use crate::domain::punch_check::{self, CheckMode};
use crate::domain::redact::Secrets;
use crate::domain::reminder::ReminderKind;

/// An outside check gets this long before the reminder goes out anyway.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// DingTalk tokens last 7,200 s; refresh a little early.
const TOKEN_MARGIN_SECS: u64 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Punched(String),
    NotPunched(String),
    /// The check could not answer: send anyway.
    Failed(String),
}

impl CheckOutcome {
    pub fn describe(&self) -> &str {
        match self {
            Self::Punched(text) | Self::NotPunched(text) | Self::Failed(text) => text,
        }
    }
}

/// A cached DingTalk access token.
#[derive(Debug, Default)]
pub struct TokenCache(tokio::sync::Mutex<Option<(String, String, std::time::Instant)>>);

/// Whether `person` already punched for `row`; `since` is the earliest punch that counts
/// (a few hours before the shift starts for clock-in, the shift's start for clock-out).
pub async fn punched(
    services: &Services,
    settings: &ReminderSettings,
    person: &user::Model,
    row: &delivery::Model,
    kind: ReminderKind,
    since: DateTime<Utc>,
) -> Result<CheckOutcome, AppError> {
    let now = services.clock.now();
    let recorded = punch::Entity::find()
        .filter(punch::Column::UserId.eq(person.id))
        .filter(punch::Column::Kind.eq(kind.as_str()))
        .filter(punch::Column::At.gte(since))
        .filter(punch::Column::At.lte(now))
        .count(&services.db)
        .await?;
    if recorded > 0 {
        return Ok(CheckOutcome::Punched(format!(
            "本系统已有{}打卡记录",
            kind.label()
        )));
    }
    let outcome = match settings.check_mode {
        CheckMode::Off => CheckOutcome::NotPunched("未启用打卡检测".to_owned()),
        CheckMode::Local => CheckOutcome::NotPunched("本系统没有打卡记录".to_owned()),
        mode => {
            match tokio::time::timeout(
                CHECK_TIMEOUT,
                outside(services, settings, mode, person, row, kind),
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(_) => CheckOutcome::Failed(format!(
                    "{}超时（{} 秒），照常提醒",
                    mode.label(),
                    CHECK_TIMEOUT.as_secs()
                )),
            }
        }
    };
    Ok(outcome)
}

async fn outside(
    services: &Services,
    settings: &ReminderSettings,
    mode: CheckMode,
    person: &user::Model,
    row: &delivery::Model,
    kind: ReminderKind,
) -> CheckOutcome {
    // Why a check failed is stored on the delivery and shown to its member: no credential
    // (ours, or a token the check service answered with) may be in it.
    let credentials = Secrets::new()
        .with(settings.api_token.as_deref().unwrap_or_default())
        .with(settings.dingtalk_app_secret.as_deref().unwrap_or_default());
    let failed = |why: String| {
        CheckOutcome::Failed(format!(
            "{}失败：{}，照常提醒",
            mode.label(),
            credentials.redact(&why)
        ))
    };
    let answer_of = |punched: bool, label: &str| {
        if punched {
            CheckOutcome::Punched(format!("{label}：已打卡"))
        } else {
            CheckOutcome::NotPunched(format!("{label}：未打卡"))
        }
    };
    let token = settings.check_token.clone().unwrap_or_default();
    match mode {
        CheckMode::AirScript => {
            let Some(url) = &settings.check_url else {
                return failed("未设置 CHECK_URL".to_owned());
            };
            let headers = vec![("AirScript-Token".to_owned(), token)];
            let body = punch_check::airscript_body(kind == ReminderKind::ClockIn);
            match services.outbound.post_json(url, body, &headers).await {
                Err(error) => failed(error.message),
                Ok(answer) if !(200..300).contains(&answer.status) => {
                    failed(format!("HTTP {}", answer.status))
                }
                Ok(answer) => match punch_check::parse_airscript(&answer.body) {
                    Ok(punched) => answer_of(punched, mode.label()),
                    Err(error) => failed(error.to_string()),
                },
            }
        }
        CheckMode::GenericJson => {
            let Some(url) = &settings.check_url else {
                return failed("未设置 CHECK_URL".to_owned());
            };
            let query = punch_check::generic_query(
                &person.username,
                person.mobile.as_deref(),
                row.date,
                kind.as_str(),
            );
            let headers = vec![("Authorization".to_owned(), format!("Bearer {token}"))];
            match services.outbound.get(url, &query, &headers).await {
                Err(error) => failed(error.message),
                Ok(answer) if !(200..300).contains(&answer.status) => {
                    failed(format!("HTTP {}", answer.status))
                }
                Ok(answer) => match punch_check::parse_generic(&answer.body) {
                    Ok(punched) => answer_of(punched, mode.label()),
                    Err(error) => failed(error.to_string()),
                },
            }
        }
        CheckMode::DingTalk => {
            let Some(user_id) = person.dingtalk_user_id.as_deref() else {
                return failed(format!("{} 没有填写钉钉 userId", person.display_name));
            };
            let access = match dingtalk_token(services, settings).await {
                Ok(token) => token,
                Err(why) => return failed(why),
            };
            let url = format!(
                "{}/attendance/list?access_token={access}",
                services.settings.dingtalk_api_base
            );
            let body = punch_check::attendance_request(user_id, row.date);
            match services.outbound.post_json(&url, body, &[]).await {
                Err(error) => failed(error.message),
                Ok(answer) => {
                    match punch_check::parse_attendance(&answer.body, kind == ReminderKind::ClockIn)
                    {
                        Ok(punched) => answer_of(punched, mode.label()),
                        Err(error) => failed(error.to_string()),
                    }
                }
            }
        }
        CheckMode::Off | CheckMode::Local => CheckOutcome::NotPunched(String::new()),
    }
}

async fn dingtalk_token(
    services: &Services,
    settings: &ReminderSettings,
) -> Result<String, String> {
    let (Some(key), Some(secret)) = (&settings.dingtalk_app_key, &settings.dingtalk_app_secret)
    else {
        return Err("未设置钉钉 AppKey / AppSecret".to_owned());
    };
    let mut cache = services.dingtalk_tokens.0.lock().await;
    if let Some((cached_key, token, expires)) = cache.as_ref()
        && cached_key == key
        && std::time::Instant::now() < *expires
    {
        return Ok(token.clone());
    }
    let url = format!("{}/gettoken", services.settings.dingtalk_api_base);
    let query = vec![
        ("appkey".to_owned(), key.clone()),
        ("appsecret".to_owned(), secret.clone()),
    ];
    let answer = services
        .outbound
        .get(&url, &query, &[])
        .await
        .map_err(|error| error.message)?;
    let (token, expires_in) =
        punch_check::parse_token(&answer.body).map_err(|error| error.to_string())?;
    let lifetime = Duration::from_secs(expires_in.saturating_sub(TOKEN_MARGIN_SECS).max(60));
    *cache = Some((
        key.clone(),
        token.clone(),
        std::time::Instant::now() + lifetime,
    ));
    Ok(token)
}
