//! System settings (系统设置): the original's system configuration, editable by admins and
//! effective without a restart, unless an environment variable pins the value.
//!
//! Every setting is defined once in [`DEFINITIONS`]. The effective value is the
//! environment's, else the database's, else the default; it is read from the database each
//! time it is needed (one small query), so two processes sharing a database agree at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::setting;
use super::secret_box::{self, SecretBox};
use crate::AppError;
use crate::domain::Minutes;
use crate::domain::audit::AuditKind;
use crate::domain::punch_check::CheckMode;
use crate::domain::reminder::FollowUps;
use crate::domain::request::Policy;
use crate::domain::robot::MessageFormat;
use crate::domain::template::{Template, TemplateKind};
use crate::domain::work_rules::Limits;
use crate::wire::{
    SettingField, SettingInput, SettingOption, SettingSource, SettingsPatch, SettingsView,
};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Toggle,
    Number(u32, u32),
    Text,
    Secret,
    /// A URL that carries a token: validated as a URL, shown masked.
    SecretUrl,
    CheckMode,
    Format,
    Template(TemplateKind),
}

struct Definition {
    key: &'static str,
    group: &'static str,
    label: &'static str,
    help: &'static str,
    kind: Kind,
    env: Option<&'static str>,
    default: &'static str,
}

const REMINDERS: &str = "提醒";
const CHECK: &str = "打卡检测";
const ROBOTS: &str = "默认机器人";
const TEMPLATES: &str = "消息模板";
const REQUESTS: &str = "申请与审批";

const DEFINITIONS: &[Definition] = &[
    Definition {
        key: "reminder_enabled",
        group: REMINDERS,
        label: "发送提醒",
        help: "关闭后照常计算提醒（预览可用），但不发送，记录为“已关闭”。",
        kind: Kind::Toggle,
        env: Some("REMINDER_ENABLED"),
        default: "true",
    },
    Definition {
        key: "work_overtime",
        group: REMINDERS,
        label: "下班后多少分钟提醒",
        help: "班次未单独设置时，下班提醒在下班时间后这么多分钟发出。",
        kind: Kind::Number(0, 720),
        env: Some("WORK_OVERTIME"),
        default: "0",
    },
    Definition {
        key: "grace_minutes",
        group: REMINDERS,
        label: "补发时限（分钟）",
        help: "服务停机恢复后，过时不超过这么多分钟的提醒会补发，更早的记为“已错过”。",
        kind: Kind::Number(0, 720),
        env: Some("REMINDER_GRACE_MINUTES"),
        default: "10",
    },
    Definition {
        key: "retry_minutes",
        group: REMINDERS,
        label: "重试期限（分钟）",
        help: "发送失败（网络、超时、平台限流）时在提醒时间后这么多分钟内重试。",
        kind: Kind::Number(1, 720),
        env: Some("REMINDER_RETRY_MINUTES"),
        default: "10",
    },
    Definition {
        key: "skip_holidays",
        group: REMINDERS,
        label: "法定节假日和公司休息日不提醒",
        help: "即使排了班，节假日也不发提醒；调休上班日照常提醒。",
        kind: Kind::Toggle,
        env: None,
        default: "true",
    },
    Definition {
        key: "follow_up_count",
        group: REMINDERS,
        label: "未打卡再提醒次数",
        help: "提醒后仍未打卡时再提醒几次（0 为关闭）；班次可单独设置。",
        kind: Kind::Number(0, 10),
        env: None,
        default: "0",
    },
    Definition {
        key: "follow_up_every",
        group: REMINDERS,
        label: "再提醒间隔（分钟）",
        help: "",
        kind: Kind::Number(1, 240),
        env: None,
        default: "10",
    },
    Definition {
        key: "message_format",
        group: REMINDERS,
        label: "默认机器人消息格式",
        help: "通知渠道可单独设置。",
        kind: Kind::Format,
        env: None,
        default: "text",
    },
    Definition {
        key: "check_mode",
        group: CHECK,
        label: "打卡检测方式",
        help: "提醒前先查是否已打卡，已打卡则不提醒；检测失败或超时照常提醒。本系统的打卡记录（POST /api/v1/punches）总会参考。",
        kind: Kind::CheckMode,
        env: Some("CHECK_MODE"),
        default: "",
    },
    Definition {
        key: "check_url",
        group: CHECK,
        label: "检测接口 URL（CHECK_URL）",
        help: "金山文档 AirScript 或通用 JSON 接口的地址。",
        kind: Kind::SecretUrl,
        env: Some("CHECK_URL"),
        default: "",
    },
    Definition {
        key: "check_token",
        group: CHECK,
        label: "检测接口令牌（CHECK_TOKEN）",
        help: "发给检测接口（AirScript-Token 头或 Bearer），只用于对外请求，不能用来调用本系统。",
        kind: Kind::Secret,
        env: Some("CHECK_TOKEN"),
        default: "",
    },
    Definition {
        key: "api_token",
        group: CHECK,
        label: "安装级 API 令牌（API_TOKEN）",
        help: "以管理员身份调用本系统 API（兼容原版），从不发往外部。建议改用个人资料页的个人访问令牌。",
        kind: Kind::Secret,
        env: Some("API_TOKEN"),
        default: "",
    },
    Definition {
        key: "dingtalk_app_key",
        group: CHECK,
        label: "钉钉应用 AppKey",
        help: "使用钉钉考勤 API 检测时需要。",
        kind: Kind::Text,
        env: Some("DINGTALK_APP_KEY"),
        default: "",
    },
    Definition {
        key: "dingtalk_app_secret",
        group: CHECK,
        label: "钉钉应用 AppSecret",
        help: "",
        kind: Kind::Secret,
        env: Some("DINGTALK_APP_SECRET"),
        default: "",
    },
    Definition {
        key: "working_url",
        group: ROBOTS,
        label: "上班提醒机器人（WORKING_URL）",
        help: "没有个人或团队渠道时，上班提醒发到这里；平台按网址识别。",
        kind: Kind::SecretUrl,
        env: Some("WORKING_URL"),
        default: "",
    },
    Definition {
        key: "working_secret",
        group: ROBOTS,
        label: "上班机器人加签密钥",
        help: "钉钉以 SEC 开头；飞书的签名校验密钥。",
        kind: Kind::Secret,
        env: Some("WORKING_SECRET"),
        default: "",
    },
    Definition {
        key: "no_work_url",
        group: ROBOTS,
        label: "下班提醒机器人（NO_WORK_URL）",
        help: "没有个人或团队渠道时，下班提醒发到这里。",
        kind: Kind::SecretUrl,
        env: Some("NO_WORK_URL"),
        default: "",
    },
    Definition {
        key: "no_work_secret",
        group: ROBOTS,
        label: "下班机器人加签密钥",
        help: "",
        kind: Kind::Secret,
        env: Some("NO_WORK_SECRET"),
        default: "",
    },
    Definition {
        key: "template_clock_in",
        group: TEMPLATES,
        label: "上班提醒",
        help: "",
        kind: Kind::Template(TemplateKind::ClockIn),
        env: None,
        default: "",
    },
    Definition {
        key: "template_clock_out",
        group: TEMPLATES,
        label: "下班提醒",
        help: "",
        kind: Kind::Template(TemplateKind::ClockOut),
        env: None,
        default: "",
    },
    Definition {
        key: "template_follow_up_in",
        group: TEMPLATES,
        label: "上班再提醒",
        help: "",
        kind: Kind::Template(TemplateKind::FollowUpIn),
        env: None,
        default: "",
    },
    Definition {
        key: "template_follow_up_out",
        group: TEMPLATES,
        label: "下班再提醒",
        help: "",
        kind: Kind::Template(TemplateKind::FollowUpOut),
        env: None,
        default: "",
    },
    Definition {
        key: "auto_approve_swaps",
        group: REQUESTS,
        label: "同事同意后自动批准换班",
        help: "开启后，换班经对方同意即生效，不再等管理员审批（仍检查工时规则）。",
        kind: Kind::Toggle,
        env: None,
        default: "false",
    },
    Definition {
        key: "refuse_rule_breaches",
        group: REQUESTS,
        label: "违反工时规则时不能批准",
        help: "关闭时只提示，管理员确认后仍可批准；开启后违反规则的申请不能批准或认领。",
        kind: Kind::Toggle,
        env: None,
        default: "false",
    },
    Definition {
        key: "min_rest_hours",
        group: REQUESTS,
        label: "两班之间最少休息（小时）",
        help: "",
        kind: Kind::Number(0, 24),
        env: None,
        default: "11",
    },
    Definition {
        key: "max_consecutive_days",
        group: REQUESTS,
        label: "最多连续上班天数",
        help: "",
        kind: Kind::Number(1, 31),
        env: None,
        default: "6",
    },
    Definition {
        key: "max_week_hours",
        group: REQUESTS,
        label: "每周最多工作小时数",
        help: "按周一到周日、以班次开始的日期计。",
        kind: Kind::Number(1, 168),
        env: None,
        default: "44",
    },
];

const TEMPLATE_HELP: &str = "可用变量：{name} 姓名、{shift} 班次、{date} 日期、{start} 上班时间、{end} 下班时间、{minutes} 提前/延后分钟数。机器人设置了关键词时，请把关键词写进模板。";

fn definition(key: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|def| def.key == key)
}

/// Tokens, secrets and URLs that carry tokens are sealed at rest.
fn is_sealed(def: &Definition) -> bool {
    matches!(def.kind, Kind::Secret | Kind::SecretUrl)
}

/// Whether the setting `key` is stored sealed (for the start-up sweep and `rekey`).
pub fn is_sealed_key(key: &str) -> bool {
    definition(key).is_some_and(is_sealed)
}

/// The stored settings, opened: what no other code needs to know is sealed.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    values: HashMap<String, String>,
    /// Sealed values that do not open with the current `SECRET_KEY`.
    unreadable: BTreeSet<&'static str>,
}

impl Stored {
    /// The opened values, key → value.
    pub fn into_values(self) -> HashMap<String, String> {
        self.values
    }
}

/// Reads every stored setting, opening sealed ones; the one place settings are read.
pub async fn read_stored(db: &impl ConnectionTrait, secrets: &SecretBox) -> Result<Stored, DbErr> {
    let rows = setting::Entity::find().all(db).await?;
    let mut stored = Stored::default();
    for row in rows {
        let Ok(value) = serde_json::from_str::<String>(&row.value) else {
            continue;
        };
        match definition(&row.key).filter(|def| is_sealed(def)) {
            None => {
                stored.values.insert(row.key, value);
            }
            Some(def) => match secrets.open(&secret_box::setting_aad(def.key), &value) {
                Ok(value) => {
                    stored.values.insert(row.key, value);
                }
                Err(_) => {
                    stored.unreadable.insert(def.key);
                }
            },
        }
    }
    Ok(stored)
}

/// Stores one setting's value (already in stored form, "" = default), sealing it when the
/// setting is secret; the one place settings are written.
pub async fn write_stored(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let value = match definition(key) {
        Some(def) if is_sealed(def) && !value.is_empty() => {
            secrets.seal(&secret_box::setting_aad(def.key), value)?
        }
        _ => value.to_owned(),
    };
    let json = serde_json::to_string(&value).map_err(|_| AppError::Internal)?;
    setting::Entity::insert(setting::ActiveModel {
        key: sea_orm::Set(key.to_owned()),
        value: sea_orm::Set(json),
        updated_at: sea_orm::Set(now),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The environment variables that pin settings, by setting key; parsed and validated by
/// the server's configuration at start-up.
#[derive(Clone, Default)]
pub struct PinnedSettings(BTreeMap<&'static str, String>);

/// Names only: values include tokens, secrets and robot URLs that carry their own tokens.
impl std::fmt::Debug for PinnedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PinnedSettings")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PinnedSettings {
    /// Reads every pinning variable through `lookup` (empty counts as unset) and checks its
    /// value; the error names the variable and what would be accepted.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, (&'static str, String, String)> {
        let mut pinned = BTreeMap::new();
        for def in DEFINITIONS {
            let Some(env) = def.env else { continue };
            let Some(raw) = lookup(env)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            let value =
                normalise(def, &raw, None).map_err(|message| (env, raw.clone(), message))?;
            pinned.insert(def.key, value);
        }
        Ok(Self(pinned))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// For tests: pin `key` to `value` as if its variable were set.
    pub fn with(mut self, key: &'static str, value: &str) -> Self {
        self.0.insert(key, value.to_owned());
        self
    }
}

/// A default robot from `WORKING_URL`/`NO_WORK_URL` (or the settings page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRobot {
    pub url: String,
    pub secret: Option<String>,
}

/// The settings the reminder engine runs with, effective now.
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    pub reminder_enabled: bool,
    pub work_overtime: Minutes,
    pub grace_minutes: u32,
    pub retry_minutes: u32,
    pub skip_holidays: bool,
    pub follow_ups: FollowUps,
    pub message_format: MessageFormat,
    pub check_mode: CheckMode,
    pub check_url: Option<String>,
    /// Sent to the punch-check service; never accepted here.
    pub check_token: Option<String>,
    pub api_token: Option<String>,
    pub dingtalk_app_key: Option<String>,
    pub dingtalk_app_secret: Option<String>,
    pub working: Option<DefaultRobot>,
    pub no_work: Option<DefaultRobot>,
    pub templates: HashMap<TemplateKind, Template>,
    /// Requests: whether peer-accepted swaps need an admin, and the working-time rules.
    pub request_policy: Policy,
    pub work_limits: Limits,
    /// A broken working-time rule refuses an approval instead of asking to confirm it.
    pub refuse_rule_breaches: bool,
    /// Stored secret settings that do not open with the current `SECRET_KEY` (and so count
    /// as unset), by key.
    pub unreadable: Vec<&'static str>,
}

impl ReminderSettings {
    pub fn template(&self, kind: TemplateKind) -> Template {
        self.templates.get(&kind).cloned().unwrap_or_else(|| {
            Template::parse(kind.default_text()).unwrap_or_else(|_| unreachable_default())
        })
    }
}

#[allow(clippy::panic)] // the defaults are constants covered by the template tests
fn unreachable_default() -> Template {
    panic!("built-in templates parse")
}

/// Checks a raw value for a setting and returns it in stored form ("" = unset).
/// `outbound` checks URLs against the address policy when given.
fn normalise(
    def: &Definition,
    raw: &str,
    outbound: Option<&super::outbound::Outbound>,
) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    match def.kind {
        Kind::Toggle => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok("true".to_owned()),
            "false" | "0" | "no" | "off" => Ok("false".to_owned()),
            _ => Err("应为 true 或 false".to_owned()),
        },
        Kind::Number(min, max) => match raw.parse::<u32>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value.to_string()),
            _ => Err(format!("应为 {min} 到 {max} 之间的整数")),
        },
        Kind::Text | Kind::Secret => {
            if raw.chars().count() > 500 || raw.chars().any(char::is_control) {
                Err("最多 500 个字符，且不能包含控制字符".to_owned())
            } else {
                Ok(raw.to_owned())
            }
        }
        Kind::SecretUrl => match outbound {
            Some(outbound) => outbound
                .check_url(def.key, raw)
                .map(|url| url.to_string())
                .map_err(|error| match error {
                    AppError::Invalid { message, .. } => message,
                    other => other.to_string(),
                }),
            None if raw.starts_with("https://") || raw.starts_with("http://") => Ok(raw.to_owned()),
            None => Err("应为 http:// 或 https:// 网址".to_owned()),
        },
        Kind::CheckMode => CheckMode::parse(raw)
            .map(|mode| mode.as_str().to_owned())
            .ok_or_else(|| {
                format!(
                    "应为 {}",
                    CheckMode::ALL.map(|mode| mode.as_str()).join("、")
                )
            }),
        Kind::Format => MessageFormat::parse(raw)
            .map(|format| format.as_str().to_owned())
            .ok_or_else(|| "应为 text 或 markdown".to_owned()),
        Kind::Template(_) => Template::parse(raw)
            .map(|_| raw.to_owned())
            .map_err(|error| error.to_string()),
    }
}

/// How a value from the original's `system_configs` fares here (`import-legacy`): refused
/// when an environment variable pins the setting (the import would never take effect) or
/// when the settings page would refuse it; otherwise in the form the page would store.
/// `None` for a key that is not a setting here.
pub fn check_imported_value(
    services: &Services,
    key: &str,
    raw: &str,
) -> Option<crate::domain::legacy::SettingCheck> {
    use crate::domain::legacy::SettingCheck;
    let def = definition(key)?;
    if let (Some(env), Some(_)) = (def.env, services.settings.pinned.get(def.key)) {
        return Some(SettingCheck::Pinned(env));
    }
    Some(match normalise(def, raw, Some(&services.outbound)) {
        Ok(value) => SettingCheck::Accept(value),
        Err(rule) => SettingCheck::Invalid(rule),
    })
}

/// The stored values, opened.
async fn stored(services: &Services) -> Result<Stored, AppError> {
    read_stored(&services.db, &services.secrets)
        .await
        .map_err(AppError::from)
}

fn resolve<'a>(
    def: &Definition,
    pinned: &'a PinnedSettings,
    stored: &'a Stored,
) -> (Option<&'a str>, SettingSource) {
    if let Some(value) = pinned.get(def.key) {
        return (Some(value), SettingSource::Environment);
    }
    match stored.values.get(def.key).map(String::as_str) {
        Some(value) if !value.is_empty() && normalise(def, value, None).is_ok() => {
            (Some(value), SettingSource::Database)
        }
        _ => (None, SettingSource::Default),
    }
}

/// `WORK_OVERTIME` as in effect now (shift views show it as the clock-out default).
pub async fn work_overtime(services: &Services) -> Result<Minutes, AppError> {
    Ok(effective(services).await?.work_overtime)
}

/// The API token in effect (environment or settings page), if any.
pub async fn api_token(services: &Services) -> Result<Option<super::ApiToken>, AppError> {
    Ok(effective(services)
        .await?
        .api_token
        .map(|token| super::ApiToken::new(&token)))
}

/// The effective reminder settings.
pub async fn effective(services: &Services) -> Result<ReminderSettings, AppError> {
    let stored = stored(services).await?;
    Ok(build(&services.settings.pinned, &stored))
}

fn build(pinned: &PinnedSettings, stored: &Stored) -> ReminderSettings {
    let text = |key: &str| -> Option<String> {
        let def = definition(key)?;
        let (value, _) = resolve(def, pinned, stored);
        value
            .map(str::to_owned)
            .or_else(|| Some(def.default.to_owned()))
            .filter(|value| !value.is_empty())
    };
    let flag = |key: &str| text(key).as_deref() == Some("true");
    let number = |key: &str| -> u32 { text(key).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let check_url = text("check_url");
    let check_mode = text("check_mode")
        .and_then(|raw| CheckMode::parse(&raw))
        // Existing setups set CHECK_URL for the original's AirScript check.
        .unwrap_or(if check_url.is_some() {
            CheckMode::AirScript
        } else {
            CheckMode::Local
        });
    let robot = |url: &str, secret: &str| {
        text(url).map(|url| DefaultRobot {
            url,
            secret: text(secret),
        })
    };
    let templates = TemplateKind::ALL
        .into_iter()
        .map(|kind| {
            let key = format!("template_{}", kind.as_str());
            let template = text(&key)
                .and_then(|raw| Template::parse(&raw).ok())
                .or_else(|| Template::parse(kind.default_text()).ok());
            (kind, template)
        })
        .filter_map(|(kind, template)| Some((kind, template?)))
        .collect();
    ReminderSettings {
        reminder_enabled: flag("reminder_enabled"),
        work_overtime: Minutes::new(number("work_overtime")).unwrap_or(Minutes::ZERO),
        grace_minutes: number("grace_minutes"),
        retry_minutes: number("retry_minutes").max(1),
        skip_holidays: flag("skip_holidays"),
        follow_ups: FollowUps::new(
            u16::try_from(number("follow_up_every")).unwrap_or(10),
            u8::try_from(number("follow_up_count")).unwrap_or(0),
        )
        .unwrap_or(FollowUps::OFF),
        message_format: text("message_format")
            .and_then(|raw| MessageFormat::parse(&raw))
            .unwrap_or(MessageFormat::Text),
        check_mode,
        check_url,
        check_token: text("check_token"),
        api_token: text("api_token"),
        dingtalk_app_key: text("dingtalk_app_key"),
        dingtalk_app_secret: text("dingtalk_app_secret"),
        working: robot("working_url", "working_secret"),
        no_work: robot("no_work_url", "no_work_secret"),
        templates,
        request_policy: Policy {
            auto_approve_swaps: flag("auto_approve_swaps"),
        },
        work_limits: Limits {
            min_rest_minutes: i64::from(number("min_rest_hours")) * 60,
            max_consecutive_days: number("max_consecutive_days").max(1),
            max_week_minutes: i64::from(number("max_week_hours").max(1)) * 60,
        },
        refuse_rule_breaches: flag("refuse_rule_breaches"),
        unreadable: stored
            .unreadable
            .iter()
            .copied()
            .filter(|key| pinned.get(key).is_none())
            .collect(),
    }
}

/// The settings from pinned values alone (tests).
#[cfg(test)]
pub fn test_settings(pinned: PinnedSettings) -> ReminderSettings {
    build(&pinned, &Stored::default())
}

/// `…` plus the last four characters: enough to recognise, not to use.
pub fn mask_secret(value: &str) -> String {
    let tail: String = value
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if value.chars().count() <= 8 {
        "已设置".to_owned()
    } else {
        format!("已设置（…{tail}）")
    }
}

/// A URL with its query and any long path segment hidden: the scheme, host and path shape
/// tell admins which robot it is; the token stays on the server.
pub fn mask_url(value: &str) -> String {
    crate::domain::redact::mask_url(value)
}

fn input(def: &Definition) -> SettingInput {
    match def.kind {
        Kind::Toggle => SettingInput::Toggle,
        Kind::Number(min, max) => SettingInput::Number { min, max },
        Kind::Text => SettingInput::Text,
        Kind::Secret | Kind::SecretUrl => SettingInput::Secret,
        Kind::CheckMode => SettingInput::Choice {
            options: CheckMode::ALL
                .into_iter()
                .map(|mode| SettingOption {
                    value: mode.as_str().to_owned(),
                    label: mode.label().to_owned(),
                })
                .collect(),
        },
        Kind::Format => SettingInput::Choice {
            options: vec![
                SettingOption {
                    value: "text".to_owned(),
                    label: "文本".to_owned(),
                },
                SettingOption {
                    value: "markdown".to_owned(),
                    label: "Markdown".to_owned(),
                },
            ],
        },
        Kind::Template(_) => SettingInput::Template,
    }
}

fn view_of(pinned: &PinnedSettings, stored: &Stored) -> SettingsView {
    let effective = build(pinned, stored);
    let fields = DEFINITIONS
        .iter()
        .map(|def| {
            let (value, source) = resolve(def, pinned, stored);
            let unreadable =
                source == SettingSource::Default && stored.unreadable.contains(def.key);
            let shown = match (def.kind, value) {
                _ if unreadable => secret_box::UNREADABLE.to_owned(),
                (Kind::Secret, Some(value)) => mask_secret(value),
                (Kind::SecretUrl, Some(value)) => mask_url(value),
                (Kind::Template(kind), _) => effective.template(kind).as_str().to_owned(),
                (Kind::CheckMode, None) => effective.check_mode.as_str().to_owned(),
                (_, Some(value)) => value.to_owned(),
                (_, None) => def.default.to_owned(),
            };
            SettingField {
                key: def.key.to_owned(),
                group: def.group.to_owned(),
                label: def.label.to_owned(),
                help: if matches!(def.kind, Kind::Template(_)) {
                    TEMPLATE_HELP.to_owned()
                } else {
                    def.help.to_owned()
                },
                input: input(def),
                value: shown,
                is_set: value.is_some() || unreadable,
                source: if unreadable {
                    SettingSource::Database
                } else {
                    source
                },
                env_var: def.env.map(str::to_owned),
            }
        })
        .collect();
    SettingsView {
        fields,
        public_url: None,
    }
}

/// The settings page: admins only.
pub async fn view(services: &Services, actor: &Actor) -> Result<SettingsView, AppError> {
    actor.require_admin()?;
    let stored = stored(services).await?;
    Ok(SettingsView {
        public_url: services.settings.public_url.clone(),
        ..view_of(&services.settings.pinned, &stored)
    })
}

/// Applies changes all-or-nothing: an unknown key, a value pinned by the environment or an
/// invalid value refuses the whole change, naming the setting.
pub async fn update(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    patch: SettingsPatch,
) -> Result<SettingsView, AppError> {
    actor.require_admin()?;
    if patch.0.is_empty() {
        return Err(AppError::invalid("settings", "没有要修改的设置"));
    }
    let mut writes = Vec::new();
    for (key, raw) in &patch.0 {
        let def =
            definition(key).ok_or_else(|| AppError::invalid(key.clone(), "没有这个设置项"))?;
        if let (Some(env), Some(_)) = (def.env, services.settings.pinned.get(def.key)) {
            return Err(AppError::conflict(
                key.clone(),
                format!("由环境变量 {env} 设置，只能在环境（.env）中修改"),
            ));
        }
        let value = normalise(def, raw, Some(&services.outbound))
            .map_err(|message| AppError::invalid(key.clone(), message))?;
        writes.push((def, value));
    }
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let mut changed = Vec::new();
    for (def, value) in &writes {
        write_stored(&txn, &services.secrets, def.key, value, now).await?;
        let shown = match def.kind {
            Kind::Secret | Kind::SecretUrl if !value.is_empty() => "（已更新）".to_owned(),
            _ if value.is_empty() => "（恢复默认）".to_owned(),
            _ => value.chars().take(80).collect(),
        };
        changed.push(format!("{}: {shown}", def.label));
    }
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::SettingsChanged, meta).detail(changed.join("\n")),
    )
    .await?;
    txn.commit().await?;
    view(services, actor).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> Stored {
        Stored {
            values: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            unreadable: BTreeSet::new(),
        }
    }

    #[test]
    fn environment_beats_database_beats_default() {
        let pinned = PinnedSettings::default().with("work_overtime", "30");
        let db = stored(&[("work_overtime", "5"), ("grace_minutes", "3")]);
        let settings = build(&pinned, &db);
        assert_eq!(settings.work_overtime.get(), 30);
        assert_eq!(settings.grace_minutes, 3);
        assert_eq!(settings.retry_minutes, 10);
        assert!(settings.reminder_enabled);
        assert!(settings.skip_holidays);
        let view = view_of(&pinned, &db);
        let field = |key: &str| {
            view.fields
                .iter()
                .find(|field| field.key == key)
                .expect("field")
                .clone()
        };
        assert_eq!(field("work_overtime").source, SettingSource::Environment);
        assert_eq!(field("grace_minutes").source, SettingSource::Database);
        assert_eq!(field("retry_minutes").source, SettingSource::Default);
    }

    #[test]
    fn check_url_alone_selects_the_original_airscript_check() {
        let pinned = PinnedSettings::default().with(
            "check_url",
            "https://www.kdocs.cn/api/v3/ide/file/x/script/y/sync_task",
        );
        assert_eq!(
            build(&pinned, &Stored::default()).check_mode,
            CheckMode::AirScript
        );
        assert_eq!(
            build(&PinnedSettings::default(), &Stored::default()).check_mode,
            CheckMode::Local
        );
    }

    #[test]
    fn secrets_and_robot_urls_are_masked() {
        let pinned = PinnedSettings::default()
            .with("api_token", "0123456789abcdef")
            .with(
                "working_url",
                "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef",
            );
        let view = view_of(&pinned, &Stored::default());
        let values: Vec<&str> = view.fields.iter().map(|f| f.value.as_str()).collect();
        assert!(values.contains(&"已设置（…cdef）"), "{values:?}");
        assert!(
            values.contains(&"https://oapi.dingtalk.com/robot/send?access_token=***"),
            "{values:?}"
        );
        assert!(!values.iter().any(|v| v.contains("0123456789abcdef")));
    }

    #[test]
    fn bad_values_name_the_rule() {
        let def = definition("grace_minutes").expect("def");
        assert!(
            normalise(def, "abc", None)
                .unwrap_err()
                .contains("0 到 720")
        );
        let def = definition("template_clock_in").expect("def");
        assert!(normalise(def, "{nmae}", None).unwrap_err().contains("nmae"));
        let def = definition("check_mode").expect("def");
        assert!(
            normalise(def, "psychic", None)
                .unwrap_err()
                .contains("airscript")
        );
        assert!(
            PinnedSettings::from_lookup(
                |name| (name == "REMINDER_ENABLED").then(|| "maybe".to_owned())
            )
            .is_err()
        );
    }

    #[test]
    fn templates_default_to_the_originals_wording() {
        let settings = build(&PinnedSettings::default(), &Stored::default());
        assert!(
            settings
                .template(TemplateKind::ClockIn)
                .as_str()
                .starts_with("【上班提醒】{name}，您好！")
        );
    }
}
