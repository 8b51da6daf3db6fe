//! Where a reminder can be sent: the group robots (DingTalk, Feishu, WeCom, a generic
//! webhook) and the personal push services (Bark, ntfy, Gotify, ServerChan, PushPlus,
//! WxPusher, e-mail), one module each. Everything here is pure: a kind's identity and
//! limits, the URL a user pastes ([`address`]), the request a service expects and what its
//! answer means. The server does the I/O.
//!
//! Adding a personal kind is one module and one registration:
//! 1. `channel/<kind>.rs` with `build(…) -> HttpRequest` and `classify(status, body) -> Verdict`
//!    (server-only) and their tests;
//! 2. the registration, in two files the compiler walks you through (every `match` over
//!    kinds is exhaustive):
//!    - this file: a [`ChannelKind`] variant appended to `ChannelKind::ALL`, its arm in
//!      `ChannelKind::spec` (id, label, URL forms, rate limits), `pub mod <kind>;`, and its
//!      arms in `build_personal` and `classify_personal`;
//!    - `address.rs`: its [`ChannelAddress`] variant, its scheme in `parse`, and its arms in
//!      `kind`, `masked` and `secrets`.
//!
//! The group robots are modules here too (`dingtalk`, `feishu`, `wecom`, `generic`;
//! server-only): each has `build(…) -> RobotRequest` (body, signing, mention markup) and
//! `classify(status, body) -> RobotVerdict` (its result codes, hints and which code means
//! "too fast"), with their tests. What they share (the message types, splitting of merged
//! messages, escaping, pacing) is in `robot.rs`, which dispatches to them by `Platform`. A
//! new group robot is its module plus, besides the registration above, a `Platform` variant
//! and its arms in `robot.rs` (`detect`, `build_request`, `classify`, `line_bytes`,
//! `merge_limits`, `escape`, `rate_limits`, `throttle_ban`).

pub mod address;
#[cfg(feature = "ssr")]
pub mod bark;
#[cfg(feature = "ssr")]
pub mod dingtalk;
pub mod email;
#[cfg(feature = "ssr")]
pub mod feishu;
#[cfg(feature = "ssr")]
pub mod generic;
#[cfg(feature = "ssr")]
pub mod gotify;
#[cfg(feature = "ssr")]
pub mod ntfy;
#[cfg(feature = "ssr")]
pub mod pushplus;
#[cfg(feature = "ssr")]
pub mod serverchan;
#[cfg(feature = "ssr")]
pub mod wecom;
#[cfg(feature = "ssr")]
pub mod wxpusher;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use address::{AddressError, ChannelAddress, NtfyAuth, ServiceBases, parse};
pub use email::{EmailSpec, EmailTls};

use super::redact::{MASK, mask_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    DingTalk,
    Feishu,
    WeCom,
    Generic,
    Bark,
    Ntfy,
    Gotify,
    ServerChan,
    PushPlus,
    WxPusher,
    Email,
}

/// What the registry knows about one kind.
struct KindSpec {
    id: &'static str,
    label: &'static str,
    /// Sent through `robot.rs` and its platform modules (group robots, generic webhook).
    group_robot: bool,
    url_forms: &'static [&'static str],
    rate_limits: &'static [RateLimit],
}

/// At most `max` sends in any half-open interval of length `per`. Plain data, so tests can
/// use short intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub per: Duration,
}

const fn per_minute(max: u32) -> RateLimit {
    RateLimit {
        max,
        per: Duration::from_secs(60),
    }
}

// The robots' limits are the ones `robot::rate_limits` enforces today (docs/protocols.md).
const DINGTALK_LIMITS: [RateLimit; 1] = [per_minute(20)];
const FEISHU_LIMITS: [RateLimit; 2] = [
    RateLimit {
        max: 5,
        per: Duration::from_secs(1),
    },
    per_minute(100),
];
const WECOM_LIMITS: [RateLimit; 1] = [per_minute(20)];
// ntfy's server defaults (docs/config.md, `visitor-request-limit-burst: 60`,
// `visitor-request-limit-replenish: 5s`): after a burst of 60 one request per 5 s per
// sending IP, answered with 429 beyond. Pacing one channel at that refill rate never
// trips it on its own. Self-hosted servers may allow more; none allows less by default.
const NTFY_LIMITS: [RateLimit; 1] = [per_minute(12)];
// No pacing for the others, on purpose:
// - Bark (api.day.app and bark-server) and Gotify document no rate limit.
// - ServerChan's free tier allows 5 messages a day: a quota, not a rate we can pace; the
//   answer when it is used up is classified as permanent for that day's reminder.
// - PushPlus documents only a daily ceiling (about 200 requests, then code 900 and a ban of
//   days), again a quota; its "1 per second" folklore is not in its documentation.
// - WxPusher's documentation says sends are not rate limited ("消息发送频率没有做限制，但是
//   请控制在合理范围内"); a person's reminders are a few a day.
const NO_LIMITS: [RateLimit; 0] = [];

impl ChannelKind {
    pub const ALL: [Self; 11] = [
        Self::DingTalk,
        Self::Feishu,
        Self::WeCom,
        Self::Generic,
        Self::Bark,
        Self::Ntfy,
        Self::Gotify,
        Self::ServerChan,
        Self::PushPlus,
        Self::WxPusher,
        Self::Email,
    ];

    fn spec(self) -> &'static KindSpec {
        match self {
            Self::DingTalk => &KindSpec {
                id: "dingtalk",
                label: "钉钉群机器人",
                group_robot: true,
                url_forms: &[
                    "https://oapi.dingtalk.com/robot/send?access_token=token",
                    "dingtalk://token",
                    "dingtalk://SECsecret@token/13800138000",
                ],
                rate_limits: &DINGTALK_LIMITS,
            },
            Self::Feishu => &KindSpec {
                id: "feishu",
                label: "飞书群机器人",
                group_robot: true,
                url_forms: &[
                    "https://open.feishu.cn/open-apis/bot/v2/hook/token",
                    "https://open.larksuite.com/open-apis/bot/v2/hook/token",
                    "feishu://token/secret",
                ],
                rate_limits: &FEISHU_LIMITS,
            },
            Self::WeCom => &KindSpec {
                id: "wecom",
                label: "企业微信群机器人",
                group_robot: true,
                url_forms: &[
                    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key",
                    "wecombot://key",
                ],
                rate_limits: &WECOM_LIMITS,
            },
            Self::Generic => &KindSpec {
                id: "generic",
                label: "通用 Webhook",
                group_robot: true,
                url_forms: &["https://host/path", "http://host:8080/path?name=value"],
                rate_limits: &NO_LIMITS,
            },
            Self::Bark => &KindSpec {
                id: "bark",
                label: "Bark",
                group_robot: false,
                url_forms: &[
                    "https://api.day.app/device_key",
                    "barks://host/device_key",
                    "bark://host:8080/path/device_key",
                ],
                rate_limits: &NO_LIMITS,
            },
            Self::Ntfy => &KindSpec {
                id: "ntfy",
                label: "ntfy",
                group_robot: false,
                url_forms: &[
                    "ntfy://topic",
                    "https://ntfy.sh/topic",
                    "ntfys://host/topic",
                    "ntfys://user:password@host:8443/topic",
                    "ntfys://tk_token@host/topic",
                ],
                rate_limits: &NTFY_LIMITS,
            },
            Self::Gotify => &KindSpec {
                id: "gotify",
                label: "Gotify",
                group_robot: false,
                url_forms: &["gotifys://host/token", "gotify://host:8080/path/token"],
                rate_limits: &NO_LIMITS,
            },
            Self::ServerChan => &KindSpec {
                id: "serverchan",
                label: "Server酱",
                group_robot: false,
                url_forms: &[
                    "schan://SCTsendkey",
                    "schan://sctp12345tsendkey",
                    "https://sctapi.ftqq.com/SCTsendkey.send",
                ],
                rate_limits: &NO_LIMITS,
            },
            Self::PushPlus => &KindSpec {
                id: "pushplus",
                label: "PushPlus 推送加",
                group_robot: false,
                url_forms: &["pushplus://token"],
                rate_limits: &NO_LIMITS,
            },
            Self::WxPusher => &KindSpec {
                id: "wxpusher",
                label: "WxPusher",
                group_robot: false,
                url_forms: &[
                    "wxpusher://AT_apptoken/UID_uid",
                    "wxpusher://AT_apptoken/UID_a/UID_b/12345",
                ],
                rate_limits: &NO_LIMITS,
            },
            Self::Email => &KindSpec {
                id: "email",
                label: "电子邮件",
                group_robot: false,
                url_forms: &[
                    "mailto://user%40example.com:password@smtp.host?to=name@example.com",
                    "mailtos://user:password@smtp.host:465?to=name@example.com&from=user@example.com",
                ],
                rate_limits: &NO_LIMITS,
            },
        }
    }

    /// The stable id stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        self.spec().id
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// Group robots and the generic webhook: sent through `robot.rs` and its platform modules.
    pub fn is_group_robot(self) -> bool {
        self.spec().group_robot
    }

    /// The URL forms this kind accepts, as shown to users.
    pub fn url_forms(self) -> &'static [&'static str] {
        self.spec().url_forms
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "ssr")]
impl From<super::robot::Platform> for ChannelKind {
    fn from(platform: super::robot::Platform) -> Self {
        use super::robot::Platform;
        match platform {
            Platform::DingTalk => Self::DingTalk,
            Platform::Feishu => Self::Feishu,
            Platform::WeCom => Self::WeCom,
            Platform::Generic => Self::Generic,
        }
    }
}

/// The documented limits of one channel (one robot, one device key, one token); see the
/// comments above for why most personal kinds have none.
pub fn rate_limits(kind: ChannelKind) -> &'static [RateLimit] {
    kind.spec().rate_limits
}

/// A reminder as the personal push services show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notice {
    pub title: String,
    pub text: String,
    /// One-click answers ("我已打卡", "今天不用提醒"), in the order they should appear.
    pub links: Vec<NoticeLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLink {
    pub label: String,
    pub url: String,
}

impl Notice {
    /// The text followed by one `label：url` line per link, for services that show plain
    /// text (most clients make the URLs tappable).
    pub fn text_with_links(&self, links: &[NoticeLink]) -> String {
        let mut out = self.text.clone();
        if !links.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            let lines: Vec<String> = links
                .iter()
                .map(|link| format!("{}：{}", one_line(&link.label), link.url))
                .collect();
            out.push_str(&lines.join("\n"));
        }
        out
    }

    /// The text as Markdown paragraphs followed by one Markdown link per line.
    pub fn markdown(&self) -> String {
        let mut blocks: Vec<String> = self
            .text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        blocks.extend(self.links.iter().map(|link| {
            format!(
                "[{}]({})",
                markdown_label(&link.label),
                markdown_url(&link.url)
            )
        }));
        // A blank line between blocks: a single newline is not a line break in Markdown.
        blocks.join("\n\n")
    }
}

/// `value` with line breaks and other control characters replaced by spaces.
pub(crate) fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `max` characters, the last replaced by `…` when cut.
pub(crate) fn truncate_chars(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn markdown_label(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in one_line(label).chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn markdown_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

/// One HTTP request to a push service; always a POST.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Tokens travel in the URL (ServerChan's path, Gotify's query), in the body (Bark's device
/// key, PushPlus's token, WxPusher's appToken) and in `Authorization` (ntfy): the URL is
/// masked, credentials headers hidden and the body shown only by its size.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let hidden = name.eq_ignore_ascii_case("authorization")
                    || name.to_ascii_lowercase().contains("token")
                    || name.to_ascii_lowercase().contains("key");
                (name.as_str(), if hidden { MASK } else { value.as_str() })
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("url", &mask_url(&self.url))
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// What a push service's answer means for the delivery. The text, in Chinese, carries the
/// service's own code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Sent,
    /// Try again later (rate limited, busy, server error).
    RetryLater(String),
    /// Retrying will not help (wrong key or token, quota used up, …); shown to the person.
    Permanent(String),
}

/// The request for a personal kind; `None` for the group robots (`robot::build_request`) and
/// e-mail (sent over SMTP, see [`email`]).
#[cfg(feature = "ssr")]
pub fn build_personal(
    address: &ChannelAddress,
    notice: &Notice,
    bases: &ServiceBases,
) -> Option<HttpRequest> {
    Some(match address {
        ChannelAddress::Bark { base, device_key } => bark::build(base, device_key, notice),
        ChannelAddress::Ntfy { base, topic, auth } => {
            ntfy::build(base, topic, auth.as_ref(), notice)
        }
        ChannelAddress::Gotify { base, token } => gotify::build(base, token, notice),
        ChannelAddress::ServerChan { sendkey } => serverchan::build(sendkey, notice, bases),
        ChannelAddress::PushPlus { token } => pushplus::build(token, notice, bases),
        ChannelAddress::WxPusher {
            app_token,
            uids,
            topic_ids,
        } => wxpusher::build(app_token, uids, topic_ids, notice, bases),
        ChannelAddress::DingTalk { .. }
        | ChannelAddress::Feishu { .. }
        | ChannelAddress::WeCom { .. }
        | ChannelAddress::Generic { .. }
        | ChannelAddress::Email(_) => return None,
    })
}

/// Reads the answer of a personal kind; `None` for the kinds [`build_personal`] does not build.
#[cfg(feature = "ssr")]
pub fn classify_personal(kind: ChannelKind, http_status: u16, body: &str) -> Option<Verdict> {
    Some(match kind {
        ChannelKind::Bark => bark::classify(http_status, body),
        ChannelKind::Ntfy => ntfy::classify(http_status, body),
        ChannelKind::Gotify => gotify::classify(http_status, body),
        ChannelKind::ServerChan => serverchan::classify(http_status, body),
        ChannelKind::PushPlus => pushplus::classify(http_status, body),
        ChannelKind::WxPusher => wxpusher::classify(http_status, body),
        ChannelKind::DingTalk
        | ChannelKind::Feishu
        | ChannelKind::WeCom
        | ChannelKind::Generic
        | ChannelKind::Email => return None,
    })
}

/// `base` and `path` joined with exactly one slash.
#[cfg(feature = "ssr")]
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(feature = "ssr")]
pub(crate) const JSON: (&str, &str) = ("Content-Type", "application/json; charset=utf-8");

#[cfg(feature = "ssr")]
pub(crate) fn json_request(url: String, body: &serde_json::Value) -> HttpRequest {
    HttpRequest {
        url,
        headers: vec![(JSON.0.to_owned(), JSON.1.to_owned())],
        body: body.to_string().into_bytes(),
    }
}

/// The first 200 characters of an answer, for messages.
#[cfg(feature = "ssr")]
pub(crate) fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "（空）".to_owned();
    }
    truncate_chars(&one_line(body), 200)
}

/// The verdict for an answer whose HTTP status is not 2xx: 408, 429 and 5xx are worth
/// retrying later, every other status is a configuration error. `detail` is the service's
/// own code and message when the body carried them.
#[cfg(feature = "ssr")]
pub(crate) fn http_failure(
    service: &str,
    http_status: u16,
    body: &str,
    detail: Option<String>,
) -> Verdict {
    let detail = detail.unwrap_or_else(|| excerpt(body));
    let text = format!("{service}：HTTP {http_status}，{detail}");
    if is_retryable_status(http_status) {
        let hint = if http_status == 429 {
            "发送太频繁，稍后重试"
        } else {
            "服务暂时不可用，稍后重试"
        };
        Verdict::RetryLater(format!("{text}；{hint}"))
    } else {
        Verdict::Permanent(text)
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn is_retryable_status(http_status: u16) -> bool {
    matches!(http_status, 408 | 429 | 500..=599)
}

#[cfg(feature = "ssr")]
pub(crate) fn is_success_status(http_status: u16) -> bool {
    (200..300).contains(&http_status)
}

/// A 2xx answer that is not what the service answers on success.
#[cfg(feature = "ssr")]
pub(crate) fn unrecognised(service: &str, body: &str) -> Verdict {
    Verdict::Permanent(format!("{service}返回了无法识别的应答：{}", excerpt(body)))
}

/// An integer field that services send either as a number or as a string.
#[cfg(feature = "ssr")]
pub(crate) fn int_field(value: &serde_json::Value, name: &str) -> Option<i64> {
    let field = value.get(name)?;
    field
        .as_i64()
        .or_else(|| field.as_str().and_then(|text| text.trim().parse().ok()))
}

#[cfg(feature = "ssr")]
pub(crate) fn str_field<'a>(value: &'a serde_json::Value, name: &str) -> &'a str {
    value
        .get(name)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

/// Messages of services that only say "too frequent" in words.
#[cfg(feature = "ssr")]
pub(crate) fn says_too_frequent(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["频繁", "频率", "too many", "too frequent", "rate limit"]
        .iter()
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::{Notice, NoticeLink};

    pub fn notice() -> Notice {
        Notice {
            title: "上班打卡提醒".to_owned(),
            text: "早班 09:00 上班，记得打卡。".to_owned(),
            links: vec![
                NoticeLink {
                    label: "我已打卡".to_owned(),
                    url: "https://kq.example.com/a/done?t=abc".to_owned(),
                },
                NoticeLink {
                    label: "今天不用提醒".to_owned(),
                    url: "https://kq.example.com/a/skip?t=abc".to_owned(),
                },
            ],
        }
    }

    #[cfg(feature = "ssr")]
    pub fn bare_notice() -> Notice {
        Notice {
            title: "Clock in".to_owned(),
            text: "Shift starts at 09:00".to_owned(),
            links: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::notice;
    use super::*;

    #[test]
    fn every_kind_has_a_stable_unique_id_that_parses_back() {
        let ids: Vec<&str> = ChannelKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            ids,
            [
                "dingtalk",
                "feishu",
                "wecom",
                "generic",
                "bark",
                "ntfy",
                "gotify",
                "serverchan",
                "pushplus",
                "wxpusher",
                "email"
            ]
        );
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(ChannelKind::parse("Bark"), None);
        assert_eq!(ChannelKind::parse(""), None);
    }

    #[test]
    fn serde_uses_the_stable_ids() {
        for kind in ChannelKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: ChannelKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn labels_are_the_chinese_names() {
        let labels: Vec<&str> = ChannelKind::ALL.iter().map(|kind| kind.label()).collect();
        assert_eq!(
            labels,
            [
                "钉钉群机器人",
                "飞书群机器人",
                "企业微信群机器人",
                "通用 Webhook",
                "Bark",
                "ntfy",
                "Gotify",
                "Server酱",
                "PushPlus 推送加",
                "WxPusher",
                "电子邮件"
            ]
        );
    }

    #[test]
    fn only_the_robot_rs_platforms_are_group_robots() {
        let robots: Vec<ChannelKind> = ChannelKind::ALL
            .into_iter()
            .filter(|kind| kind.is_group_robot())
            .collect();
        assert_eq!(
            robots,
            [
                ChannelKind::DingTalk,
                ChannelKind::Feishu,
                ChannelKind::WeCom,
                ChannelKind::Generic
            ]
        );
    }

    #[test]
    fn every_url_form_shown_to_users_parses_as_its_kind() {
        for kind in ChannelKind::ALL {
            assert!(!kind.url_forms().is_empty(), "{kind}");
            for form in kind.url_forms() {
                let parsed = parse(form).unwrap_or_else(|e| panic!("{form}: {e}"));
                assert_eq!(parsed.kind(), kind, "{form}");
            }
        }
    }

    #[test]
    fn robot_rate_limits_are_the_platforms_documented_ones() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            rate_limits(ChannelKind::DingTalk),
            [RateLimit {
                max: 20,
                per: minute
            }]
        );
        assert_eq!(
            rate_limits(ChannelKind::Feishu),
            [
                RateLimit {
                    max: 5,
                    per: Duration::from_secs(1)
                },
                RateLimit {
                    max: 100,
                    per: minute
                }
            ]
        );
        assert_eq!(
            rate_limits(ChannelKind::WeCom),
            [RateLimit {
                max: 20,
                per: minute
            }]
        );
        assert!(rate_limits(ChannelKind::Generic).is_empty());
        assert_eq!(
            rate_limits(ChannelKind::Ntfy),
            [RateLimit {
                max: 12,
                per: minute
            }]
        );
        for kind in [
            ChannelKind::Bark,
            ChannelKind::Gotify,
            ChannelKind::ServerChan,
            ChannelKind::PushPlus,
            ChannelKind::WxPusher,
            ChannelKind::Email,
        ] {
            assert!(rate_limits(kind).is_empty(), "{kind}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn robot_limits_match_what_robot_rs_enforces() {
        use crate::domain::robot::{self, Platform};
        for platform in Platform::ALL {
            assert_eq!(
                rate_limits(ChannelKind::from(platform)),
                robot::rate_limits(platform),
                "{platform}"
            );
            assert_eq!(ChannelKind::from(platform).as_str(), platform.as_str());
        }
    }

    #[test]
    fn plain_text_lists_each_link_on_its_own_line() {
        let notice = notice();
        assert_eq!(
            notice.text_with_links(&notice.links),
            "早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc"
        );
        assert_eq!(notice.text_with_links(&[]), "早班 09:00 上班，记得打卡。");
        let no_text = Notice {
            text: String::new(),
            ..notice.clone()
        };
        assert!(
            no_text
                .text_with_links(&notice.links)
                .starts_with("我已打卡：")
        );
    }

    #[test]
    fn markdown_keeps_lines_apart_and_links_clickable() {
        let mut notice = notice();
        notice.text = "第一行\n第二行".to_owned();
        notice.links[0].label = "我[已]打卡".to_owned();
        notice.links[0].url = "https://x.example/a (b)".to_owned();
        assert_eq!(
            notice.markdown(),
            "第一行\n\n第二行\n\n[我\\[已\\]打卡](https://x.example/a%20%28b%29)\n\n[今天不用提醒](https://kq.example.com/a/skip?t=abc)"
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("上班打卡提醒", 6), "上班打卡提醒");
        assert_eq!(truncate_chars("上班打卡提醒", 4), "上班打…");
        assert_eq!(one_line("a\r\nb\tc"), "a  b c");
    }

    #[test]
    fn request_debug_hides_tokens_keys_and_credentials() {
        let request = HttpRequest {
            url: "https://gotify.example.com/message?token=AbCdEf0123456789".to_owned(),
            headers: vec![
                ("Authorization".to_owned(), "Basic dXNlcjpwYXNz".to_owned()),
                ("X-Gotify-Key".to_owned(), "AbCdEf0123456789".to_owned()),
                ("Title".to_owned(), "hello".to_owned()),
            ],
            body: br#"{"device_key":"SECRETDEVICEKEY0123"}"#.to_vec(),
        };
        let shown = format!("{request:?}");
        for leaked in ["AbCdEf0123456789", "dXNlcjpwYXNz", "SECRETDEVICEKEY0123"] {
            assert!(!shown.contains(leaked), "{shown}");
        }
        assert!(shown.contains("hello"), "{shown}");
        assert!(shown.contains("bytes"), "{shown}");
        assert_eq!(request.header("authorization"), Some("Basic dXNlcjpwYXNz"));
        assert_eq!(request.header("missing"), None);
    }
}
