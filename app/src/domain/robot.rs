//! What the group robots (群机器人) of DingTalk, Feishu/Lark and WeCom and the generic JSON
//! webhook have in common, below the kinds and knowing none of them: the message they are
//! given (entries, links, mentions) and how a merged reminder is split to fit, the request
//! and error types, escaping of names, reading a reply's result code into a
//! [`Verdict`], how long to wait between retries, and how fast one robot may be fed. See
//! `docs/protocols.md` for the facts these rules implement.
//!
//! Each platform's own rules (its body, signing and mention markup, its result codes, hints
//! and limits) live in its module under `channel/` (`dingtalk`, `feishu`, `wecom`,
//! `generic`), behind the `channel::Channel` seam.

// The browser reads only `MessageFormat`; the linker drops the rest from the bundle.
#![cfg_attr(not(feature = "ssr"), allow(dead_code))]

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use super::account::parse_platform_id;
use super::redact::mask_url;

pub use super::channel::{RateLimit, Verdict};

/// The lower-cased host (no user info, no port) and the path of a URL; empty when absent.
fn host_and_path(url: &str) -> (String, &str) {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host_port.starts_with('[') {
        // IPv6 literal: keep the brackets, drop the port.
        host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end])
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    (host.to_ascii_lowercase(), &tail[..path_end])
}

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageFormat {
    Text,
    Markdown,
}

impl MessageFormat {
    pub const ALL: [Self; 2] = [Self::Text, Self::Markdown];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Markdown => "markdown",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|format| format.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "纯文本",
            Self::Markdown => "Markdown",
        }
    }
}

/// Who the reminder is for; the platform ids make the robot mention (@) them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    pub mobile: Option<String>,
    pub dingtalk_user_id: Option<String>,
    pub feishu_open_id: Option<String>,
    pub wecom_user_id: Option<String>,
}

/// One person's part of a message: who to mention, their line of text, and their
/// one-click links.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub recipient: Recipient,
    pub text: String,
    pub links: Vec<Link>,
}

/// A link a person can follow from the message ("我已打卡").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// The entry's text with its links where the format can carry them: markdown links after
/// the line; in plain text only when the message is for this one person (a merged text
/// message with two bare URLs per person would bury the names).
pub(crate) fn with_links(entry: &Entry, format: MessageFormat, alone: bool) -> String {
    if entry.links.is_empty() {
        return entry.text.clone();
    }
    match format {
        MessageFormat::Markdown => {
            let links: Vec<String> = entry
                .links
                .iter()
                .map(|link| format!("[{}]({})", link.label, link.url))
                .collect();
            format!("{} {}", entry.text, links.join(" · "))
        }
        MessageFormat::Text if alone => {
            let mut text = entry.text.clone();
            for link in &entry.links {
                text.push_str(&format!("\n{}：{}", link.label, link.url));
            }
            text
        }
        MessageFormat::Text => entry.text.clone(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    pub title: String,
    /// One entry per person, in order. A group robot gets several people in one message
    /// (each line mentions its person); the generic webhook always gets exactly one.
    pub entries: Vec<Entry>,
    /// DingTalk's `msgUuid`, the generic webhook's `Idempotency-Key`: the same for every
    /// resend of the same message.
    pub idempotency_key: String,
    /// Extra top-level fields for the generic webhook (kind, date, at, user_id, …); an
    /// object is merged, `null` is ignored, anything else is sent as `context`.
    pub context: Value,
}

impl OutgoingMessage {
    /// A message for one person.
    pub fn single(
        title: String,
        recipient: Recipient,
        text: String,
        idempotency_key: String,
    ) -> Self {
        Self {
            title,
            entries: vec![Entry {
                recipient,
                text,
                links: Vec::new(),
            }],
            idempotency_key,
            context: Value::Null,
        }
    }
}

/// How many people one merged group message may carry: bounded by the platform's size
/// limit on the text (or body) and by readability of the mention list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeLimits {
    pub max_people: usize,
    /// Bytes of text (lines plus mentions), kept below the platform's limit with room for
    /// the JSON around it.
    pub max_text_bytes: usize,
}

impl MergeLimits {
    /// One person per message: personal channels and the generic webhook.
    pub const ALONE: Self = Self {
        max_people: 1,
        max_text_bytes: usize::MAX,
    };
}

/// The bytes one entry's line adds to a merged message's text: the line with its links and
/// the line break; the kind adds its mention markup.
pub fn line_bytes(format: MessageFormat, entry: &Entry) -> usize {
    with_links(entry, format, false).len() + line_break(format).len()
}

/// Splits the entries of one merged reminder into messages that each keep `limits`, in
/// order; `size` is an entry's bytes in the text. An entry too large on its own gets a
/// message of its own (the builder then reports it as too large).
pub fn split_entries(
    limits: MergeLimits,
    entries: Vec<Entry>,
    size: impl Fn(&Entry) -> usize,
) -> Vec<Vec<Entry>> {
    let mut parts: Vec<Vec<Entry>> = Vec::new();
    let mut bytes = 0usize;
    for entry in entries {
        let size = size(&entry);
        let fits = parts.last().is_some_and(|part| {
            part.len() < limits.max_people && bytes.saturating_add(size) <= limits.max_text_bytes
        });
        if fits {
            bytes += size;
            if let Some(part) = parts.last_mut() {
                part.push(entry);
            }
        } else {
            bytes = size;
            parts.push(vec![entry]);
        }
    }
    parts
}

#[derive(Clone, PartialEq, Eq)]
pub struct RobotRequest {
    pub url: String,
    /// JSON.
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl RobotRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// A JSON POST to `url`.
    pub(crate) fn json(url: String, body: String) -> Self {
        Self {
            url,
            body,
            headers: vec![("Content-Type".to_owned(), CONTENT_TYPE.to_owned())],
        }
    }
}

impl From<RobotRequest> for super::channel::HttpRequest {
    fn from(request: RobotRequest) -> Self {
        Self {
            url: request.url,
            headers: request.headers,
            body: request.body.into_bytes(),
        }
    }
}

/// The URL holds the robot's token (in the query, or the path for Feishu), so it is masked.
impl fmt::Debug for RobotRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotRequest")
            .field("url", &mask_url(&self.url))
            .field("body", &self.body)
            .field("headers", &self.headers)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobotError {
    /// Holds the URL as shown ([`mask_url`]), never its token.
    #[error("Webhook 地址无效：“{0}”，应以 http:// 或 https:// 开头")]
    InvalidUrl(String),
    #[error("{what}最多 {limit} 字节，这条有 {actual} 字节：请缩短提醒模板")]
    TooLarge {
        what: &'static str,
        limit: usize,
        actual: usize,
    },
    /// The message cannot go through this channel (a person it cannot address, no token).
    #[error("{0}")]
    Refused(String),
}

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A trimmed, non-empty value.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A recipient's id or mobile fit to mention: what `parse_platform_id` / `parse_mobile`
/// would accept. Values stored before those rules (or written straight to the database)
/// that would mention the whole group or break out of the mention markup are left out.
pub(crate) fn mention(value: &Option<String>) -> Option<&str> {
    present(value).filter(|value| parse_platform_id("id", Some(value)).is_ok())
}

/// A mobile fit to mention: digits, with the `+86-` forms DingTalk also understands.
pub(crate) fn mention_mobile(value: &Option<String>) -> Option<&str> {
    present(value).filter(|value| {
        value.chars().any(|c| c.is_ascii_digit())
            && value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-'))
    })
}

/// `value` (a person's name, a shift name: text members or admins type) made inert for the
/// platform's markup, so it cannot add a mention (`<at user_id="all">`, WeCom `<@userid>`),
/// a link, an image or formatting when it is put into a message. Markup characters become
/// their full-width forms: they read the same to a person, and no renderer treats them as
/// markup (backslash escapes are not honoured by every platform's renderer). The template
/// around the value is the admin's and keeps its markup.
pub fn escape_with(special: fn(char) -> bool, format: MessageFormat, value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        let line_start = at_start;
        at_start = c == '\n';
        let markdown = format == MessageFormat::Markdown;
        let list_marker = markdown && line_start && matches!(c, '-' | '+');
        // `http://…` would be turned into a link by markdown renderers that autolink.
        let autolink = markdown && c == ':' && chars.peek() == Some(&'/');
        if special(c) || list_marker || autolink {
            out.push(full_width(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Markdown's markup characters, as the platforms' renderers read them.
pub fn markdown_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '`'
            | '*'
            | '_'
            | '~'
            | '#'
            | '['
            | ']'
            | '('
            | ')'
            | '<'
            | '>'
            | '!'
            | '|'
            | '&'
            | '$'
    )
}

/// Markdown made inert in markdown messages; plain text left as it is (DingTalk and WeCom
/// mention only who is in the lists).
pub fn escape_markdown(format: MessageFormat, value: &str) -> String {
    match format {
        MessageFormat::Markdown => escape_with(markdown_special, format, value),
        MessageFormat::Text => value.to_owned(),
    }
}

/// The full-width form of a printable ASCII character.
fn full_width(c: char) -> char {
    match c {
        '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// `url` trimmed, when it is an http(s) URL with a host: what a robot can be posted to.
pub fn webhook_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, _) = host_and_path(url);
    let lower = url.to_ascii_lowercase();
    (!host.is_empty() && (lower.starts_with("http://") || lower.starts_with("https://")))
        .then(|| url.to_owned())
}

/// A signing secret as configured: trimmed, `None` when empty.
pub fn signing_secret(secret: Option<&str>) -> Option<String> {
    secret
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .map(str::to_owned)
}

/// Lines of a merged message: markdown renderers join single newlines into one paragraph.
pub(crate) fn line_break(format: MessageFormat) -> &'static str {
    match format {
        MessageFormat::Text => "\n",
        MessageFormat::Markdown => "\n\n",
    }
}

pub(crate) fn check_size(
    what: &'static str,
    limit: usize,
    actual: usize,
) -> Result<(), RobotError> {
    if actual > limit {
        return Err(RobotError::TooLarge {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}

// Hints more than one platform gives; a platform's own are in its module.
pub(crate) const HINT_SIGN: &str = "签名不匹配：请检查机器人的加签密钥（钉钉以 SEC 开头）";
pub(crate) const HINT_KEYWORD: &str = "消息里没有机器人设置的关键词：请在提醒模板里加入关键词";
pub(crate) const HINT_IP: &str = "服务器 IP 不在机器人的白名单里";
const HINT_TIMESTAMP: &str = "服务器时间与平台相差过大";
pub(crate) const HINT_RATE: &str = "发送太频繁，稍后重试";
const HINT_UNAVAILABLE: &str = "平台暂时不可用，稍后重试";

/// The platform's own result code, as found in an answer, with the hint for the admin.
pub(crate) struct Reply {
    field: &'static str,
    code: i64,
    message: String,
    hint: Option<&'static str>,
}

impl Reply {
    fn describe(&self) -> String {
        let mut text = format!("{} {}: {}", self.field, self.code, self.message);
        if let Some(hint) = self.hint {
            text.push('；');
            text.push_str(hint);
        }
        text
    }
}

/// The integer `field` and the text `message` of a JSON answer. `hint_by_code` is the
/// platform's; failing that, the message's wording is tried.
pub(crate) fn read_reply(
    value: &Value,
    field: &'static str,
    message: &str,
    hint_by_code: fn(i64) -> Option<&'static str>,
) -> Option<Reply> {
    let code = value.get(field)?.as_i64()?;
    let message = value
        .get(message)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let hint = hint_by_code(code).or_else(|| hint_by_message(&message));
    Some(Reply {
        field,
        code,
        message,
        hint,
    })
}

/// DingTalk's 310000 covers several causes; its message tells which. The phrases are
/// looked for in every platform's answers.
fn hint_by_message(message: &str) -> Option<&'static str> {
    let message = message.to_ascii_lowercase();
    if message.contains("sign not match") {
        Some(HINT_SIGN)
    } else if message.contains("keywords not in content") {
        Some(HINT_KEYWORD)
    } else if message.contains("whitelist") {
        Some(HINT_IP)
    } else if message.contains("invalid timestamp") {
        Some(HINT_TIMESTAMP)
    } else if message.contains("too fast") || message.contains("frequency limit") {
        Some(HINT_RATE)
    } else {
        None
    }
}

/// The first 200 characters of an answer, for messages.
fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "（空）".to_owned();
    }
    let mut chars = body.chars();
    let head: String = chars.by_ref().take(200).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

// DingTalk, Feishu and WeCom answer errors with HTTP 200 and a code in the body, so a 2xx
// is accepted only when that code says so.

/// The verdict on a robot that answers with a result code: `reply` is the code read from
/// `body` (if any); 0 is success and `throttled` means "too fast".
pub(crate) fn classify_reply(
    http_status: u16,
    body: &str,
    reply: Option<Reply>,
    throttled: i64,
) -> Verdict {
    if !is_success_status(http_status) {
        return http_failure(http_status, body, reply.as_ref());
    }
    let Some(reply) = reply else {
        return Verdict::Permanent(format!("机器人返回了无法识别的应答：{}", excerpt(body)));
    };
    match reply.code {
        0 => Verdict::Sent,
        code if code == throttled => Verdict::Throttled(reply.describe()),
        _ => Verdict::Permanent(reply.describe()),
    }
}

pub(crate) fn is_success_status(http_status: u16) -> bool {
    (200..300).contains(&http_status)
}

/// The verdict on a status other than 2xx: timeouts, 429 and server errors are retried.
pub(crate) fn http_failure(http_status: u16, body: &str, reply: Option<&Reply>) -> Verdict {
    let retryable = matches!(http_status, 408 | 429 | 500..=599);
    let mut text = match reply {
        Some(reply) => format!("HTTP {http_status}, {}", reply.describe()),
        None => format!("HTTP {http_status}: {}", excerpt(body)),
    };
    let explained = reply.is_some_and(|reply| reply.hint.is_some());
    if retryable && !explained {
        text.push('；');
        text.push_str(if http_status == 429 {
            HINT_RATE
        } else {
            HINT_UNAVAILABLE
        });
    }
    if retryable {
        Verdict::RetryLater(text)
    } else {
        Verdict::Permanent(text)
    }
}

pub const BACKOFF_FIRST: Duration = Duration::from_secs(5);
pub const BACKOFF_CAP: Duration = Duration::from_secs(120);

/// The wait before retry number `attempt` (1 = the first retry; 0 is treated as 1):
/// a ceiling of 5 s doubling per attempt up to 120 s, of which half is fixed and half
/// scaled by `jitter` in [0, 1) ("equal jitter"), so retries spread out but never come
/// sooner than half the ceiling.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let first = BACKOFF_FIRST.as_millis() as u64;
    let cap = BACKOFF_CAP.as_millis() as u64;
    let ceiling = (first << doublings).min(cap);
    let half = ceiling / 2;
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let spread = ((half as f64) * jitter) as u64;
    Duration::from_millis(half + spread.min(ceiling - half))
}

/// Spaces the sends to one robot so that none of its rate limits is exceeded. Use: wait
/// until `next_slot(now)`, send, `record` the send time. `record` forgets sends older than
/// the longest `per` before the newest one, so `next_slot` is exact for any `now` not
/// earlier than the newest recorded send.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    limits: Vec<RateLimit>,
    /// Oldest first.
    sent: VecDeque<DateTime<Utc>>,
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl Pacer {
    /// Limits with `max` 0 (which would forbid every send) or `per` 0 are ignored.
    pub fn new(limits: impl Into<Vec<RateLimit>>) -> Self {
        let mut limits = limits.into();
        limits.retain(|limit| limit.max > 0 && !limit.per.is_zero());
        Self {
            limits,
            sent: VecDeque::new(),
        }
    }

    /// The earliest instant ≥ `now` at which one more send keeps every limit.
    pub fn next_slot(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let sent: Vec<DateTime<Utc>> = self.sent.iter().copied().collect();
        // A send at t breaks a limit exactly when t together with `max` earlier-recorded
        // sends fits in an interval shorter than `per`. Checking runs of `max` consecutive
        // sends suffices: each run forbids the open interval (last − per, first + per).
        let mut forbidden = Vec::new();
        for limit in &self.limits {
            let max = limit.max as usize;
            let per = delta(limit.per);
            for run in sent.windows(max) {
                let (first, last) = (run[0], run[max - 1]);
                let from = last
                    .checked_sub_signed(per)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                let until = first
                    .checked_add_signed(per)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                if from < until && until > now {
                    forbidden.push((from, until));
                }
            }
        }
        forbidden.sort_unstable();
        // Sorted by start, one pass reaches the first instant outside every interval.
        let mut slot = now;
        for (from, until) in forbidden {
            if from < slot && slot < until {
                slot = until;
            }
        }
        slot
    }

    pub fn record(&mut self, at: DateTime<Utc>) {
        let position = self.sent.partition_point(|sent| *sent <= at);
        self.sent.insert(position, at);
        let Some(longest) = self.limits.iter().map(|limit| limit.per).max() else {
            self.sent.clear();
            return;
        };
        let Some(newest) = self.sent.back().copied() else {
            return;
        };
        let horizon = newest
            .checked_sub_signed(delta(longest))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        while self.sent.front().is_some_and(|sent| *sent <= horizon) {
            self.sent.pop_front();
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! The messages and helpers the robot tests here and in the platform modules share.

    use serde_json::{Value, json};

    use super::*;
    use crate::domain::channel::{
        ChannelAddress, ChannelKind, Outgoing, SendContext, ServiceBases, dingtalk, feishu,
        generic, wecom,
    };

    pub const DINGTALK: ChannelKind = dingtalk::KIND;
    pub const FEISHU: ChannelKind = feishu::KIND;
    pub const WECOM: ChannelKind = wecom::KIND;
    pub const GENERIC: ChannelKind = generic::KIND;
    pub const ROBOTS: [ChannelKind; 4] = [DINGTALK, FEISHU, WECOM, GENERIC];

    /// A robot of `kind` at its platform's URL, through the seam.
    pub fn robot(kind: ChannelKind) -> ChannelAddress {
        let url = match kind.as_str() {
            "dingtalk" => DINGTALK_URL,
            "feishu" => FEISHU_URL,
            "wecom" => WECOM_URL,
            _ => GENERIC_URL,
        };
        ChannelAddress::webhook_of(kind, url, None).unwrap()
    }

    /// The request a robot of `kind` at `url` gets, through the seam.
    pub fn build_request(
        kind: ChannelKind,
        url: &str,
        secret: Option<&str>,
        format: MessageFormat,
        message: &OutgoingMessage,
        now: DateTime<Utc>,
    ) -> Result<RobotRequest, RobotError> {
        let address = ChannelAddress::webhook_of(kind, url, secret)
            .ok_or_else(|| RobotError::InvalidUrl(mask_url(url)))?;
        let bases = ServiceBases::default();
        let context = SendContext {
            format,
            now,
            bases: &bases,
            access_token: None,
            stamp: "2023-11-15 06:13:20",
        };
        match address.build(message, &context)? {
            Outgoing::Http(request) => Ok(RobotRequest {
                url: request.url,
                body: String::from_utf8(request.body).unwrap(),
                headers: request.headers,
            }),
            Outgoing::Mail(..) | Outgoing::Fanout(..) => {
                unreachable!("a robot's message is one request")
            }
        }
    }

    pub fn classify(kind: ChannelKind, http_status: u16, body: &str) -> Verdict {
        robot(kind).classify(http_status, body)
    }

    pub fn escape(kind: ChannelKind, format: MessageFormat, value: &str) -> String {
        robot(kind).escape(format, value)
    }

    pub fn split_for(
        kind: ChannelKind,
        format: MessageFormat,
        entries: Vec<Entry>,
    ) -> Vec<Vec<Entry>> {
        robot(kind).split_entries(format, entries)
    }

    pub fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000).unwrap()
    }

    pub fn message() -> OutgoingMessage {
        OutgoingMessage {
            title: "上班提醒".into(),
            entries: vec![Entry {
                links: Vec::new(),
                text: "【上班提醒】张三，您好！".into(),
                recipient: Recipient {
                    name: "张三".into(),
                    mobile: Some("13800138000".into()),
                    dingtalk_user_id: Some("manager4220".into()),
                    feishu_open_id: Some("ou_7d8a6e6df7621556ce0d21922b676706".into()),
                    wecom_user_id: Some("zhangsan".into()),
                },
            }],
            idempotency_key: "7:2026-03-02:clock_in".into(),
            context: json!({ "kind": "clock_in", "date": "2026-03-02", "user_id": 7 }),
        }
    }

    pub fn anonymous() -> OutgoingMessage {
        let mut message = message();
        message.entries[0].recipient = Recipient {
            name: "张三".into(),
            mobile: Some("  ".into()),
            ..Recipient::default()
        };
        message
    }

    pub fn body(request: &RobotRequest) -> Value {
        serde_json::from_str(&request.body).unwrap()
    }

    pub fn build(
        platform: ChannelKind,
        url: &str,
        secret: Option<&str>,
        format: MessageFormat,
        message: &OutgoingMessage,
    ) -> RobotRequest {
        build_request(platform, url, secret, format, message, now()).unwrap()
    }

    pub const DINGTALK_URL: &str = "https://oapi.dingtalk.com/robot/send?access_token=abc";
    pub const FEISHU_URL: &str = "https://open.feishu.cn/open-apis/bot/v2/hook/xyz";
    pub const WECOM_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
    pub const GENERIC_URL: &str = "https://example.com/hooks/attendance";

    pub fn person(n: usize) -> Entry {
        Entry {
            recipient: Recipient {
                name: format!("员工{n}"),
                mobile: Some(format!("1390000{n:04}")),
                dingtalk_user_id: None,
                feishu_open_id: Some(format!("ou_{n:032}")),
                wecom_user_id: Some(format!("user{n}")),
            },
            text: format!("员工{n}：A班 09:00 上班，请打卡"),
            links: Vec::new(),
        }
    }

    pub fn merged(count: usize) -> OutgoingMessage {
        OutgoingMessage {
            entries: (0..count).map(person).collect(),
            ..message()
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::test_support::*;
    use super::*;
    use crate::domain::channel::ChannelAddress;
    use crate::domain::channel::dingtalk::{HINT_DISSOLVED, HINT_TOKEN};
    use crate::domain::channel::wecom::HINT_WEBHOOK;

    #[test]
    fn default_robot_is_recognised_by_host_then_by_path() {
        let cases = [
            (DINGTALK_URL, DINGTALK),
            ("HTTPS://OAPI.DINGTALK.COM:443/robot/send", DINGTALK),
            (FEISHU_URL, FEISHU),
            ("https://open.larksuite.com/open-apis/bot/v2/hook/x", FEISHU),
            (WECOM_URL, WECOM),
            ("http://127.0.0.1:9000/robot/send?access_token=t", DINGTALK),
            ("http://localhost:9000/mock/robot/send/", DINGTALK),
            ("http://127.0.0.1:9000/open-apis/bot/v2/hook/abc", FEISHU),
            ("http://[::1]:9000/cgi-bin/webhook/send?key=k", WECOM),
            ("https://example.com/hooks/attendance", GENERIC),
            ("https://example.com/hook?next=/robot/send", GENERIC),
            ("https://oapi.dingtalk.com.evil.example/x", GENERIC),
        ];
        for (url, expected) in cases {
            let found = ChannelAddress::default_robot(url, None).map(|robot| robot.kind());
            assert_eq!(found, Some(expected), "{url}");
        }
        assert_eq!(ChannelAddress::default_robot("not a url", None), None);
    }

    #[test]
    fn format_names_round_trip() {
        for format in MessageFormat::ALL {
            assert_eq!(MessageFormat::parse(format.as_str()), Some(format));
            assert_eq!(
                serde_json::to_value(format).unwrap(),
                json!(format.as_str())
            );
        }
    }

    #[test]
    fn urls_that_are_not_http_are_refused() {
        for url in [
            "",
            "  ",
            "oapi.dingtalk.com/robot/send",
            "ftp://x/robot/send",
            "http://",
        ] {
            let error = build_request(DINGTALK, url, None, MessageFormat::Text, &message(), now())
                .unwrap_err();
            assert!(matches!(error, RobotError::InvalidUrl(_)), "{url}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let request = build(
            DINGTALK,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message(),
        );
        let debug = format!("{request:?}");
        assert!(!debug.contains("access_token=abc"), "{debug}");
        assert!(debug.contains("https://oapi.dingtalk.com/robot/send?access_token=***"));
        let error = build_request(
            DINGTALK,
            "oapi.dingtalk.com/robot/send?access_token=SECRETTOKEN123",
            None,
            MessageFormat::Text,
            &message(),
            now(),
        )
        .unwrap_err();
        assert!(!error.to_string().contains("SECRETTOKEN123"), "{error}");
    }

    #[test]
    fn names_cannot_add_mentions_links_or_markup() {
        let hostile = "<at user_id=\"all\">所有人</at>[点我](http://evil.example)**粗**<@all>";
        assert_eq!(
            escape(FEISHU, MessageFormat::Text, hostile),
            "＜at user_id=\"all\"＞所有人＜/at＞［点我］(http://evil.example)**粗**＜@all＞"
        );
        for platform in [DINGTALK, FEISHU, WECOM] {
            assert_eq!(
                escape(platform, MessageFormat::Markdown, hostile),
                "＜at user＿id=\"all\"＞所有人＜/at＞［点我］（http：//evil.example）＊＊粗＊＊＜@all＞",
                "{platform}"
            );
            assert_eq!(
                escape(
                    platform,
                    MessageFormat::Markdown,
                    "# 标题\n- 列表 a-b ![x](y) `c` _d_ ~e~ |f| \\g $h$"
                ),
                "＃ 标题\n－ 列表 a-b ！［x］（y） ｀c｀ ＿d＿ ～e～ ｜f｜ ＼g ＄h＄"
            );
        }
        // Plain-text robots show text as it is; ordinary names are never changed.
        for platform in [DINGTALK, WECOM, GENERIC] {
            assert_eq!(escape(platform, MessageFormat::Text, hostile), hostile);
        }
        for platform in ROBOTS {
            for format in MessageFormat::ALL {
                assert_eq!(escape(platform, format, "张三 A班 09:00"), "张三 A班 09:00");
            }
        }
    }

    #[test]
    fn stored_ids_that_mention_everyone_are_not_mentioned() {
        let mut message = message();
        message.entries[0].recipient.mobile = Some("@all".into());
        message.entries[0].recipient.dingtalk_user_id = Some("all".into());
        message.entries[0].recipient.feishu_open_id = Some("all\"><at user_id=\"all".into());
        message.entries[0].recipient.wecom_user_id = Some("@all".into());
        let dingtalk = body(&build(
            DINGTALK,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(dingtalk["at"]["atMobiles"], json!([]));
        assert_eq!(dingtalk["at"]["atUserIds"], json!([]));
        assert_eq!(dingtalk["text"]["content"], "【上班提醒】张三，您好！");
        let feishu = body(&build(
            FEISHU,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(feishu["content"]["text"], "【上班提醒】张三，您好！");
        let wecom = body(&build(
            WECOM,
            WECOM_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(wecom["text"]["mentioned_list"], json!([]));
        assert_eq!(wecom["text"]["mentioned_mobile_list"], json!([]));
    }

    fn permanent(verdict: Verdict) -> String {
        match verdict {
            Verdict::Permanent(text) => text,
            other => panic!("expected Permanent, got {other:?}"),
        }
    }

    fn throttled(verdict: Verdict) -> String {
        match verdict {
            Verdict::Throttled(text) => text,
            other => panic!("expected Throttled, got {other:?}"),
        }
    }

    fn retryable(verdict: Verdict) -> String {
        match verdict {
            Verdict::RetryLater(text) => text,
            other => panic!("expected Retryable, got {other:?}"),
        }
    }

    #[test]
    fn classify_accepts_only_success_codes() {
        let accepted = [
            (DINGTALK, r#"{"errcode":0,"errmsg":"ok"}"#),
            (FEISHU, r#"{"code":0,"msg":"success","data":{}}"#),
            (FEISHU, r#"{"StatusCode":0,"StatusMessage":"success"}"#),
            (WECOM, r#"{"errcode":0,"errmsg":"ok"}"#),
            (GENERIC, ""),
            (GENERIC, "not json at all"),
        ];
        for (platform, body) in accepted {
            assert_eq!(
                classify(platform, 200, body),
                Verdict::Sent,
                "{platform} {body}"
            );
        }
        assert_eq!(classify(GENERIC, 204, ""), Verdict::Sent);
    }

    #[test]
    fn classify_explains_configuration_errors() {
        let cases = [
            (
                DINGTALK,
                r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
                HINT_SIGN,
            ),
            (
                DINGTALK,
                r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
                HINT_KEYWORD,
            ),
            (
                DINGTALK,
                r#"{"errcode":310000,"errmsg":"ip 1.2.3.4 not in whitelist"}"#,
                HINT_IP,
            ),
            (
                DINGTALK,
                r#"{"errcode":310000,"errmsg":"invalid timestamp 1"}"#,
                HINT_TIMESTAMP,
            ),
            (
                DINGTALK,
                r#"{"errcode":300001,"errmsg":"token is not exist"}"#,
                HINT_TOKEN,
            ),
            (
                DINGTALK,
                r#"{"errcode":400013,"errmsg":"群已被解散"}"#,
                HINT_DISSOLVED,
            ),
            (
                FEISHU,
                r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
                HINT_SIGN,
            ),
            (FEISHU, r#"{"code":19022,"msg":"Ip Not Allowed"}"#, HINT_IP),
            (
                FEISHU,
                r#"{"code":19024,"msg":"Key Words Not Found"}"#,
                HINT_KEYWORD,
            ),
            (
                WECOM,
                r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
                HINT_WEBHOOK,
            ),
        ];
        for (platform, body, hint) in cases {
            let text = permanent(classify(platform, 200, body));
            assert!(text.ends_with(hint), "{platform} {body}: {text}");
        }
        assert_eq!(
            permanent(classify(
                DINGTALK,
                200,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )),
            "errcode 310000: sign not match；签名不匹配：请检查机器人的加签密钥（钉钉以 SEC 开头）"
        );
        assert_eq!(
            permanent(classify(
                FEISHU,
                200,
                r#"{"code":9499,"msg":"Bad Request"}"#
            )),
            "code 9499: Bad Request"
        );
        assert_eq!(
            permanent(classify(
                FEISHU,
                200,
                r#"{"StatusCode":1,"StatusMessage":"x"}"#
            )),
            "StatusCode 1: x"
        );
    }

    #[test]
    fn classify_retries_rate_limits_and_server_errors() {
        assert_eq!(
            throttled(classify(
                DINGTALK,
                200,
                r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#
            )),
            "errcode 130101: send too fast, exceed 20 times per minute；发送太频繁，稍后重试"
        );
        assert!(
            throttled(classify(
                FEISHU,
                200,
                r#"{"code":11232,"msg":"frequency limited"}"#
            ))
            .ends_with(HINT_RATE)
        );
        assert!(
            throttled(classify(
                WECOM,
                200,
                r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
            ))
            .ends_with(HINT_RATE)
        );
        for status in [408, 429, 500, 502, 503] {
            for platform in ROBOTS {
                retryable(classify(platform, status, "<html>busy</html>"));
            }
        }
        assert_eq!(
            retryable(classify(GENERIC, 429, "slow down")),
            "HTTP 429: slow down；发送太频繁，稍后重试"
        );
        // The robot's code is shown when an error status carries one.
        assert_eq!(
            retryable(classify(
                FEISHU,
                500,
                r#"{"code":11232,"msg":"frequency limited"}"#
            )),
            "HTTP 500, code 11232: frequency limited；发送太频繁，稍后重试"
        );
    }

    #[test]
    fn classify_refuses_other_statuses_and_unknown_answers() {
        assert_eq!(permanent(classify(GENERIC, 404, "")), "HTTP 404: （空）");
        assert_eq!(
            permanent(classify(
                FEISHU,
                400,
                r#"{"code":9499,"msg":"Bad Request","data":{}}"#
            )),
            "HTTP 400, code 9499: Bad Request"
        );
        assert_eq!(permanent(classify(DINGTALK, 302, "")), "HTTP 302: （空）");
        for platform in [DINGTALK, FEISHU, WECOM] {
            assert_eq!(
                permanent(classify(platform, 200, "<html>login</html>")),
                "机器人返回了无法识别的应答：<html>login</html>"
            );
            assert!(
                permanent(classify(platform, 200, r#"{"ok":true}"#))
                    .starts_with("机器人返回了无法识别的应答")
            );
        }
        let long = "x".repeat(300);
        let text = permanent(classify(WECOM, 200, &long));
        assert_eq!(
            text,
            format!("机器人返回了无法识别的应答：{}…", "x".repeat(200))
        );
    }

    #[test]
    fn backoff_doubles_from_five_seconds_up_to_two_minutes() {
        let ceilings: Vec<u64> = (1..=8)
            .map(|attempt| backoff(attempt, 0.999_999).as_secs())
            .collect();
        assert_eq!(ceilings, [4, 9, 19, 39, 79, 119, 119, 119]);
        let floors: Vec<u64> = (1..=8)
            .map(|attempt| backoff(attempt, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(
            floors,
            [2_500, 5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]
        );
        assert_eq!(backoff(0, 0.0), backoff(1, 0.0));
        assert_eq!(backoff(u32::MAX, 0.5), Duration::from_secs(90));
        assert_eq!(backoff(2, f64::NAN), Duration::from_secs(5));
        assert_eq!(backoff(2, 7.0), Duration::from_secs(10));
    }

    proptest! {
        #[test]
        fn backoff_stays_within_half_and_full_ceiling(attempt in 0u32..64, jitter in 0.0f64..1.0) {
            let ceiling = BACKOFF_CAP.min(BACKOFF_FIRST * 2u32.pow(attempt.saturating_sub(1).min(16)));
            let delay = backoff(attempt, jitter);
            prop_assert!(delay >= ceiling / 2);
            prop_assert!(delay <= ceiling);
            prop_assert!(backoff(attempt + 1, jitter) >= delay);
        }
    }

    #[test]
    fn platform_limits_are_documented_values() {
        assert_eq!(
            DINGTALK.rate_limits(),
            &[RateLimit {
                max: 20,
                per: Duration::from_secs(60)
            }]
        );
        assert_eq!(
            WECOM.rate_limits(),
            &[RateLimit {
                max: 20,
                per: Duration::from_secs(60)
            }]
        );
        assert_eq!(FEISHU.rate_limits().len(), 2);
        assert!(GENERIC.rate_limits().is_empty());
    }

    #[test]
    fn dingtalk_pacer_allows_twenty_a_minute() {
        let mut pacer = Pacer::new(DINGTALK.rate_limits());
        let start = now();
        for _ in 0..20 {
            assert_eq!(pacer.next_slot(start), start);
            pacer.record(start);
        }
        assert_eq!(pacer.next_slot(start), start + TimeDelta::seconds(60));
        assert_eq!(
            pacer.next_slot(start + TimeDelta::seconds(61)),
            start + TimeDelta::seconds(61)
        );
    }

    #[test]
    fn feishu_pacer_keeps_five_a_second_and_a_hundred_a_minute() {
        let mut pacer = Pacer::new(FEISHU.rate_limits());
        let start = now();
        let mut at = start;
        for _ in 0..100 {
            at = pacer.next_slot(at);
            pacer.record(at);
        }
        // Twenty seconds for the first hundred (five per second)…
        assert_eq!(at, start + TimeDelta::seconds(19));
        // …then the minute limit holds the 101st until the first send is a minute old.
        assert_eq!(pacer.next_slot(at), start + TimeDelta::seconds(60));
    }

    #[test]
    fn generic_pacer_never_waits_and_keeps_no_history() {
        let mut pacer = Pacer::new(GENERIC.rate_limits());
        for _ in 0..1000 {
            pacer.record(now());
        }
        assert_eq!(pacer.next_slot(now()), now());
        assert!(pacer.sent.is_empty());
    }

    /// Whether the sends `history` plus one at `t` keep every limit, counted over all
    /// windows that contain `t` (the others were checked when their sends were added).
    fn allowed(history: &[i64], t: i64, limits: &[(u32, i64)]) -> bool {
        let mut all = history.to_vec();
        all.push(t);
        limits.iter().all(|&(max, per)| {
            all.iter()
                .filter(|&&start| start <= t && t < start + per)
                .all(|&start| {
                    all.iter()
                        .filter(|&&q| start <= q && q < start + per)
                        .count()
                        <= max as usize
                })
        })
    }

    fn keeps_limits(history: &[i64], limits: &[(u32, i64)]) -> bool {
        limits.iter().all(|&(max, per)| {
            history.iter().all(|&start| {
                history
                    .iter()
                    .filter(|&&q| start <= q && q < start + per)
                    .count()
                    <= max as usize
            })
        })
    }

    proptest! {
        #[test]
        fn greedy_pacing_keeps_limits_and_never_waits_needlessly(
            limits in prop::collection::vec((1u32..=5, 1i64..=12), 1..=2),
            mut arrivals in prop::collection::vec(0i64..120, 1..40),
        ) {
            arrivals.sort_unstable();
            let base = now();
            let at = |second: i64| base + TimeDelta::seconds(second);
            let mut pacer = Pacer::new(
                limits
                    .iter()
                    .map(|&(max, per)| RateLimit { max, per: Duration::from_secs(per as u64) })
                    .collect::<Vec<_>>(),
            );
            let mut history: Vec<i64> = Vec::new();
            let mut last = 0;
            for arrival in arrivals {
                // One sender, first come first served.
                let now = arrival.max(last);
                let slot = pacer.next_slot(at(now));
                prop_assert!(slot >= at(now));
                prop_assert_eq!(slot.timestamp_subsec_nanos(), 0);
                let slot_s = slot.timestamp() - base.timestamp();
                prop_assert!(allowed(&history, slot_s, &limits), "slot {} not allowed", slot_s);
                // Every boundary is a whole second, so checking whole seconds is exhaustive.
                for earlier in now..slot_s {
                    prop_assert!(!allowed(&history, earlier, &limits), "{} was free", earlier);
                }
                pacer.record(slot);
                history.push(slot_s);
                last = slot_s;
            }
            prop_assert!(keeps_limits(&history, &limits));
        }
    }

    #[test]
    fn one_hundred_people_split_into_five_messages_of_twenty() {
        for platform in [DINGTALK, WECOM, FEISHU] {
            let parts = split_for(platform, MessageFormat::Text, merged(100).entries);
            assert_eq!(
                parts.iter().map(Vec::len).collect::<Vec<_>>(),
                vec![20; 5],
                "{platform}"
            );
            // In order, nobody lost or doubled.
            let names: Vec<String> = parts
                .iter()
                .flatten()
                .map(|e| e.recipient.name.clone())
                .collect();
            assert_eq!(
                names,
                (0..100).map(|n| format!("员工{n}")).collect::<Vec<_>>()
            );
        }
        assert_eq!(
            split_for(GENERIC, MessageFormat::Text, merged(3).entries).len(),
            3
        );
        assert!(split_for(DINGTALK, MessageFormat::Text, Vec::new()).is_empty());
    }

    #[test]
    fn every_split_part_fits_the_platform_limit() {
        // Long lines: WECOM's 2,048 bytes split before twenty people.
        let entries: Vec<Entry> = (0..60)
            .map(|n| Entry {
                text: format!("{}{n}", "长".repeat(100)),
                ..person(n)
            })
            .collect();
        for format in MessageFormat::ALL {
            let parts = split_for(WECOM, format, entries.clone());
            assert!(parts.len() > 3, "{format:?}: {}", parts.len());
            for part in parts {
                let message = OutgoingMessage {
                    entries: part,
                    ..message()
                };
                build_request(WECOM, WECOM_URL, None, format, &message, now())
                    .expect("each part within the limit");
            }
        }
        // A line too long on its own still gets its own part (and the builder says why).
        let huge = Entry {
            text: "长".repeat(2000),
            ..person(1)
        };
        let parts = split_for(WECOM, MessageFormat::Text, vec![person(0), huge, person(2)]);
        assert_eq!(
            parts.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn throttles_are_waited_out_longest_on_dingtalk() {
        assert_eq!(DINGTALK.throttle_ban(), Duration::from_secs(600));
        assert!(WECOM.throttle_ban() >= Duration::from_secs(60));
    }

    #[test]
    fn links_go_after_each_line_in_markdown_and_only_alone_in_text() {
        let link = |label: &str, n: usize| Link {
            label: label.into(),
            url: format!("https://kq.example.com/r/tok{n}"),
        };
        let mut message = merged(2);
        for (n, entry) in message.entries.iter_mut().enumerate() {
            entry.links = vec![link("我已打卡", n), link("今天不用提醒", n + 10)];
        }
        let request = build(
            DINGTALK,
            DINGTALK_URL,
            None,
            MessageFormat::Markdown,
            &message,
        );
        assert_eq!(
            body(&request)["markdown"]["text"],
            "员工0：A班 09:00 上班，请打卡 @13900000000 [我已打卡](https://kq.example.com/r/tok0) · [今天不用提醒](https://kq.example.com/r/tok10)\n\n员工1：A班 09:00 上班，请打卡 @13900000001 [我已打卡](https://kq.example.com/r/tok1) · [今天不用提醒](https://kq.example.com/r/tok11)"
        );
        // Merged plain text: names, no bare URLs.
        let request = build(WECOM, WECOM_URL, None, MessageFormat::Text, &message);
        assert!(
            !body(&request)["text"]["content"]
                .as_str()
                .unwrap()
                .contains("https://")
        );
        // One person in plain text: the links on lines of their own.
        message.entries.truncate(1);
        let request = build(DINGTALK, DINGTALK_URL, None, MessageFormat::Text, &message);
        assert_eq!(
            body(&request)["text"]["content"],
            "员工0：A班 09:00 上班，请打卡 @13900000000\n我已打卡：https://kq.example.com/r/tok0\n今天不用提醒：https://kq.example.com/r/tok10"
        );
        let request = build(GENERIC, GENERIC_URL, None, MessageFormat::Text, &message);
        assert_eq!(
            body(&request)["links"],
            json!([
                {"label": "我已打卡", "url": "https://kq.example.com/r/tok0"},
                {"label": "今天不用提醒", "url": "https://kq.example.com/r/tok10"},
            ])
        );
    }
}
