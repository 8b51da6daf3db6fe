//! Group robots (群机器人) of DingTalk, Feishu/Lark and WeCom, plus a generic JSON webhook:
//! which platform a URL belongs to, the exact request each expects (body, signing,
//! mentions), what an answer means (accepted, retry later, or a configuration error to
//! show the admin), how long to wait between retries, and how fast one robot may be fed.
//! See `docs/protocols.md` for the facts these rules implement.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::account::parse_platform_id;
use super::redact::mask_url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    DingTalk,
    Feishu,
    WeCom,
    Generic,
}

impl Platform {
    pub const ALL: [Self; 4] = [Self::DingTalk, Self::Feishu, Self::WeCom, Self::Generic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DingTalk => "dingtalk",
            Self::Feishu => "feishu",
            Self::WeCom => "wecom",
            Self::Generic => "generic",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|platform| platform.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::DingTalk => "钉钉",
            Self::Feishu => "飞书",
            Self::WeCom => "企业微信",
            Self::Generic => "通用 Webhook",
        }
    }

    /// Recognises a robot by its host and, failing that, by its path, so that local mock
    /// robots (`http://127.0.0.1:8080/robot/send?...`) are treated like the real ones.
    pub fn detect(url: &str) -> Self {
        let (host, path) = host_and_path(url);
        match host.as_str() {
            "oapi.dingtalk.com" => return Self::DingTalk,
            "open.feishu.cn" | "open.larksuite.com" => return Self::Feishu,
            "qyapi.weixin.qq.com" => return Self::WeCom,
            _ => {}
        }
        let path = path.trim_end_matches('/');
        if path.ends_with("/robot/send") {
            Self::DingTalk
        } else if path.contains("/open-apis/bot/v2/hook/") {
            Self::Feishu
        } else if path.ends_with("/cgi-bin/webhook/send") {
            Self::WeCom
        } else {
            Self::Generic
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// DingTalk's 加签: base64(HMAC-SHA256(key = secret, message = "<ms>\n<secret>")). The
/// caller URL-encodes it for the query string.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(hmac_sha256(secret.as_bytes(), message.as_bytes()))
}

/// Feishu's 签名校验: base64(HMAC-SHA256(key = "<s>\n<secret>", message = empty)). Note
/// the key/message order is the reverse of DingTalk's.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    BASE64.encode(hmac_sha256(key.as_bytes(), b""))
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
fn with_links(entry: &Entry, format: MessageFormat, alone: bool) -> String {
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

/// The bytes one entry adds to a merged message's text: its line with the links and the
/// mention markup its platform's builder adds, and the line break.
fn line_bytes(platform: Platform, format: MessageFormat, entry: &Entry) -> usize {
    let recipient = &entry.recipient;
    let mention = match (platform, format) {
        (Platform::DingTalk, _) => mention_mobile(&recipient.mobile)
            .or(mention(&recipient.dingtalk_user_id))
            .map_or(0, |who| who.len() + 2),
        (Platform::Feishu, MessageFormat::Text) => mention(&recipient.feishu_open_id)
            .map_or(0, |id| id.len() + recipient.name.len() * 3 + 24),
        (Platform::Feishu, MessageFormat::Markdown) => {
            mention(&recipient.feishu_open_id).map_or(0, |id| id.len() + 14)
        }
        (Platform::WeCom, MessageFormat::Markdown) => {
            mention(&recipient.wecom_user_id).map_or(0, |id| id.len() + 4)
        }
        // WeCom text mentions go in lists outside the content.
        (Platform::WeCom, MessageFormat::Text) | (Platform::Generic, _) => 0,
    };
    with_links(entry, format, false).len() + mention + line_break(format).len()
}

pub fn merge_limits(platform: Platform, format: MessageFormat) -> MergeLimits {
    let max_text_bytes = match (platform, format) {
        // DingTalk documents no exact cap; 20,000 bytes is what its robots take in practice.
        (Platform::DingTalk, _) => 16_000,
        (Platform::Feishu, _) => FEISHU_BODY_MAX_BYTES - 4 * 1024,
        (Platform::WeCom, MessageFormat::Text) => WECOM_TEXT_MAX_BYTES,
        (Platform::WeCom, MessageFormat::Markdown) => WECOM_MARKDOWN_MAX_BYTES,
        (Platform::Generic, _) => usize::MAX,
    };
    let max_people = match platform {
        Platform::Generic => 1,
        // Twenty mentions still read as a list, and 100 people fit in 5 messages, which
        // leaves 15 of DingTalk's and WeCom's 20 a minute for other reminders.
        _ => 20,
    };
    MergeLimits {
        max_people,
        max_text_bytes,
    }
}

/// Splits the entries of one merged reminder into messages that each keep the platform's
/// limits, in order. An entry too large on its own gets a message of its own (the builder
/// then reports it as too large).
pub fn split_entries(
    platform: Platform,
    format: MessageFormat,
    entries: Vec<Entry>,
) -> Vec<Vec<Entry>> {
    let limits = merge_limits(platform, format);
    let mut parts: Vec<Vec<Entry>> = Vec::new();
    let mut bytes = 0usize;
    for entry in entries {
        let size = line_bytes(platform, format, &entry);
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
}

pub const WECOM_TEXT_MAX_BYTES: usize = 2048;
pub const WECOM_MARKDOWN_MAX_BYTES: usize = 4096;
pub const FEISHU_BODY_MAX_BYTES: usize = 20 * 1024;

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A trimmed, non-empty value.
fn present(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A recipient's id or mobile fit to mention: what `parse_platform_id` / `parse_mobile`
/// would accept. Values stored before those rules (or written straight to the database)
/// that would mention the whole group or break out of the mention markup are left out.
fn mention(value: &Option<String>) -> Option<&str> {
    present(value).filter(|value| parse_platform_id("id", Some(value)).is_ok())
}

/// A mobile fit to mention: digits, with the `+86-` forms DingTalk also understands.
fn mention_mobile(value: &Option<String>) -> Option<&str> {
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
pub fn escape(platform: Platform, format: MessageFormat, value: &str) -> String {
    let special: fn(char) -> bool = match (platform, format) {
        // Feishu text messages interpret `<at …>` and other tags, and `[text](url)` links.
        (Platform::Feishu, MessageFormat::Text) => |c| matches!(c, '<' | '>' | '&' | '[' | ']'),
        (Platform::DingTalk | Platform::Feishu | Platform::WeCom, MessageFormat::Markdown) => |c| {
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
        },
        // Plain text elsewhere: DingTalk and WeCom mention only who is in the lists; the
        // generic webhook's receiver decides what its text means.
        _ => return value.to_owned(),
    };
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

/// The full-width form of a printable ASCII character.
fn full_width(c: char) -> char {
    match c {
        '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The request that delivers `message` to the robot at `url`. `now` is used for the
/// signature timestamps; `secret` is ignored by WeCom (its key is in the URL).
pub fn build_request(
    platform: Platform,
    url: &str,
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> Result<RobotRequest, RobotError> {
    let url = url.trim();
    let (host, _) = host_and_path(url);
    let lower = url.to_ascii_lowercase();
    if host.is_empty() || !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(RobotError::InvalidUrl(mask_url(url)));
    }
    let secret = secret.map(str::trim).filter(|secret| !secret.is_empty());
    let mut headers = vec![("Content-Type".to_owned(), CONTENT_TYPE.to_owned())];
    let (url, body) = match platform {
        Platform::DingTalk => dingtalk(url, secret, format, message, now),
        Platform::Feishu => (url.to_owned(), feishu(secret, format, message, now)?),
        Platform::WeCom => (url.to_owned(), wecom(format, message)?),
        Platform::Generic => {
            let body = generic(format, message);
            headers.push((
                "Idempotency-Key".to_owned(),
                message.idempotency_key.clone(),
            ));
            if let Some(secret) = secret {
                let signature = hex(&hmac_sha256(secret.as_bytes(), body.as_bytes()));
                headers.push(("X-Signature".to_owned(), format!("sha256={signature}")));
                headers.push(("X-Timestamp".to_owned(), now.timestamp().to_string()));
            }
            (url.to_owned(), body)
        }
    };
    Ok(RobotRequest { url, body, headers })
}

fn dingtalk(
    url: &str,
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> (String, String) {
    let url = match secret {
        Some(secret) => {
            let timestamp = now.timestamp_millis();
            let sign = percent_encode(&dingtalk_sign(secret, timestamp));
            append_query(url, &format!("timestamp={timestamp}&sign={sign}"))
        }
        None => url.to_owned(),
    };
    let mut mobiles = Vec::new();
    let mut user_ids = Vec::new();
    let mut lines = Vec::with_capacity(message.entries.len());
    let alone = message.entries.len() == 1;
    for entry in &message.entries {
        let mobile = mention_mobile(&entry.recipient.mobile);
        let user_id = mention(&entry.recipient.dingtalk_user_id);
        mobiles.extend(mobile);
        user_ids.extend(user_id);
        // DingTalk renders a mention only where the text itself says `@138…`.
        let text = match mobile.or(user_id) {
            Some(who) if !entry.text.contains(&format!("@{who}")) => {
                format!("{} @{who}", entry.text)
            }
            _ => entry.text.clone(),
        };
        let entry = Entry {
            text,
            ..entry.clone()
        };
        lines.push(with_links(&entry, format, alone));
    }
    let at = json!({
        "atMobiles": mobiles,
        "atUserIds": user_ids,
        "isAtAll": false,
    });
    let text = lines.join(line_break(format));
    let body = match format {
        MessageFormat::Text => json!({
            "msgtype": "text",
            "text": { "content": text },
            "at": at,
            "msgUuid": message.idempotency_key,
        }),
        MessageFormat::Markdown => json!({
            "msgtype": "markdown",
            "markdown": { "title": message.title, "text": text },
            "at": at,
            "msgUuid": message.idempotency_key,
        }),
    };
    (url, body.to_string())
}

/// Adds `pairs` to the query string, before any fragment.
fn append_query(url: &str, pairs: &str) -> String {
    let (base, fragment) = url.split_at(url.find('#').unwrap_or(url.len()));
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{separator}{pairs}{fragment}")
}

fn feishu(
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> Result<String, RobotError> {
    let mut body = match format {
        MessageFormat::Text => {
            let alone = message.entries.len() == 1;
            let lines: Vec<String> = message
                .entries
                .iter()
                .map(|entry| {
                    let text = with_links(entry, MessageFormat::Text, alone);
                    match mention(&entry.recipient.feishu_open_id) {
                        Some(id) => format!(
                            "<at user_id=\"{id}\">{}</at> {text}",
                            escape(Platform::Feishu, MessageFormat::Text, &entry.recipient.name),
                        ),
                        None => text,
                    }
                })
                .collect();
            json!({ "msg_type": "text", "content": { "text": lines.join("\n") } })
        }
        MessageFormat::Markdown => {
            let lines: Vec<String> = message
                .entries
                .iter()
                .map(|entry| {
                    let text = with_links(entry, MessageFormat::Markdown, false);
                    match mention(&entry.recipient.feishu_open_id) {
                        Some(id) => format!("<at id={id}></at> {text}"),
                        None => text,
                    }
                })
                .collect();
            json!({
                "msg_type": "interactive",
                "card": {
                    "header": { "title": { "tag": "plain_text", "content": message.title } },
                    "elements": [{ "tag": "markdown", "content": lines.join("\n") }],
                },
            })
        }
    };
    if let (Some(secret), Some(object)) = (secret, body.as_object_mut()) {
        let timestamp = now.timestamp();
        object.insert("timestamp".into(), Value::String(timestamp.to_string()));
        object.insert("sign".into(), Value::String(feishu_sign(secret, timestamp)));
    }
    let body = body.to_string();
    check_size("飞书消息", FEISHU_BODY_MAX_BYTES, body.len())?;
    Ok(body)
}

fn wecom(format: MessageFormat, message: &OutgoingMessage) -> Result<String, RobotError> {
    let body = match format {
        MessageFormat::Text => {
            let alone = message.entries.len() == 1;
            let content = message
                .entries
                .iter()
                .map(|entry| with_links(entry, MessageFormat::Text, alone))
                .collect::<Vec<_>>()
                .join("\n");
            check_size("企业微信文本消息", WECOM_TEXT_MAX_BYTES, content.len())?;
            let user_ids: Vec<&str> = message
                .entries
                .iter()
                .filter_map(|entry| mention(&entry.recipient.wecom_user_id))
                .collect();
            let mobiles: Vec<&str> = message
                .entries
                .iter()
                .filter_map(|entry| mention_mobile(&entry.recipient.mobile))
                .collect();
            json!({
                "msgtype": "text",
                "text": {
                    "content": content,
                    "mentioned_list": user_ids,
                    "mentioned_mobile_list": mobiles,
                },
            })
        }
        MessageFormat::Markdown => {
            // Markdown messages have no mention lists; `<@userid>` in the text mentions.
            let content = message
                .entries
                .iter()
                .map(|entry| {
                    let text = with_links(entry, MessageFormat::Markdown, false);
                    match mention(&entry.recipient.wecom_user_id) {
                        Some(id) => format!("{text} <@{id}>"),
                        None => text,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            check_size(
                "企业微信 Markdown 消息",
                WECOM_MARKDOWN_MAX_BYTES,
                content.len(),
            )?;
            json!({ "msgtype": "markdown", "markdown": { "content": content } })
        }
    };
    Ok(body.to_string())
}

/// Lines of a merged message: markdown renderers join single newlines into one paragraph.
fn line_break(format: MessageFormat) -> &'static str {
    match format {
        MessageFormat::Text => "\n",
        MessageFormat::Markdown => "\n\n",
    }
}

fn check_size(what: &'static str, limit: usize, actual: usize) -> Result<(), RobotError> {
    if actual > limit {
        return Err(RobotError::TooLarge {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}

fn generic(format: MessageFormat, message: &OutgoingMessage) -> String {
    let mut object = Map::new();
    match &message.context {
        Value::Object(context) => object.extend(context.clone()),
        Value::Null => {}
        other => {
            object.insert("context".into(), other.clone());
        }
    }
    let fallback = Recipient::default();
    let recipient = message
        .entries
        .first()
        .map_or(&fallback, |entry| &entry.recipient);
    let text = message
        .entries
        .iter()
        .map(|entry| entry.text.as_str())
        .collect::<Vec<_>>()
        .join(line_break(format));
    let links: Vec<Value> = message
        .entries
        .iter()
        .flat_map(|entry| &entry.links)
        .map(|link| json!({ "label": link.label, "url": link.url }))
        .collect();
    if !links.is_empty() {
        object.insert("links".into(), Value::Array(links));
    }
    // The message's own fields win over context fields of the same name.
    object.insert("key".into(), json!(message.idempotency_key));
    object.insert("title".into(), json!(message.title));
    object.insert("text".into(), json!(text));
    object.insert("format".into(), json!(format.as_str()));
    object.insert(
        "user".into(),
        json!({
            "name": recipient.name,
            "mobile": present(&recipient.mobile),
            "dingtalk_user_id": present(&recipient.dingtalk_user_id),
            "feishu_open_id": present(&recipient.feishu_open_id),
            "wecom_user_id": present(&recipient.wecom_user_id),
        }),
    );
    Value::Object(object).to_string()
}

/// What a robot's answer means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotVerdict {
    Accepted,
    /// Try again later (timeout, server error); the text says why.
    Retryable(String),
    /// The robot refuses because we sent too fast (DingTalk 130101, Feishu 11232, WeCom
    /// 45009). DingTalk keeps refusing for about ten minutes: everything for this robot
    /// waits [`throttle_ban`] instead of retrying into the ban and prolonging it.
    Throttled(String),
    /// Retrying will not help (wrong secret, missing keyword, dissolved group, …); the
    /// text, with the robot's own code and message and a hint, is for the admin.
    Permanent(String),
}

const HINT_SIGN: &str = "签名不匹配：请检查机器人的加签密钥（钉钉以 SEC 开头）";
const HINT_KEYWORD: &str = "消息里没有机器人设置的关键词：请在提醒模板里加入关键词";
const HINT_IP: &str = "服务器 IP 不在机器人的白名单里";
const HINT_TIMESTAMP: &str = "服务器时间与平台相差过大";
const HINT_TOKEN: &str = "机器人 access_token 不存在";
const HINT_DISSOLVED: &str = "群已解散";
const HINT_WEBHOOK: &str = "Webhook 地址无效";
const HINT_RATE: &str = "发送太频繁，稍后重试";
const HINT_UNAVAILABLE: &str = "平台暂时不可用，稍后重试";

/// The platform's own result code, as found in an answer.
struct Reply {
    field: &'static str,
    code: i64,
    message: String,
}

impl Reply {
    fn describe(&self, platform: Platform) -> String {
        let mut text = format!("{} {}: {}", self.field, self.code, self.message);
        if let Some(hint) = hint(platform, self.code, &self.message) {
            text.push('；');
            text.push_str(hint);
        }
        text
    }
}

fn reply(platform: Platform, body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    let read = |field: &'static str, message: &str| {
        let code = value.get(field)?.as_i64()?;
        let message = value
            .get(message)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Some(Reply {
            field,
            code,
            message,
        })
    };
    match platform {
        Platform::DingTalk | Platform::WeCom => read("errcode", "errmsg"),
        Platform::Feishu => read("code", "msg").or_else(|| read("StatusCode", "StatusMessage")),
        Platform::Generic => None,
    }
}

fn hint(platform: Platform, code: i64, message: &str) -> Option<&'static str> {
    let by_code = match (platform, code) {
        (Platform::DingTalk, 130_101) | (Platform::Feishu, 11_232) | (Platform::WeCom, 45_009) => {
            Some(HINT_RATE)
        }
        (Platform::DingTalk, 300_001) => Some(HINT_TOKEN),
        (Platform::DingTalk, 400_013) => Some(HINT_DISSOLVED),
        (Platform::Feishu, 19_021) => Some(HINT_SIGN),
        (Platform::Feishu, 19_022) => Some(HINT_IP),
        (Platform::Feishu, 19_024) => Some(HINT_KEYWORD),
        (Platform::WeCom, 93_000) => Some(HINT_WEBHOOK),
        _ => None,
    };
    // DingTalk's 310000 covers several causes; its message tells which.
    let message = message.to_ascii_lowercase();
    by_code.or_else(|| {
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
    })
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

/// Reads a robot's answer. DingTalk, Feishu and WeCom answer errors with HTTP 200 and a
/// code in the body, so a 2xx is accepted only when that code says so.
pub fn classify(platform: Platform, http_status: u16, body: &str) -> RobotVerdict {
    if !(200..300).contains(&http_status) {
        let retryable = matches!(http_status, 408 | 429 | 500..=599);
        let reply = reply(platform, body);
        let mut text = match &reply {
            Some(reply) => format!("HTTP {http_status}, {}", reply.describe(platform)),
            None => format!("HTTP {http_status}: {}", excerpt(body)),
        };
        let explained = reply
            .as_ref()
            .is_some_and(|reply| hint(platform, reply.code, &reply.message).is_some());
        if retryable && !explained {
            text.push('；');
            text.push_str(if http_status == 429 {
                HINT_RATE
            } else {
                HINT_UNAVAILABLE
            });
        }
        return if retryable {
            RobotVerdict::Retryable(text)
        } else {
            RobotVerdict::Permanent(text)
        };
    }
    if platform == Platform::Generic {
        return RobotVerdict::Accepted;
    }
    let Some(reply) = reply(platform, body) else {
        return RobotVerdict::Permanent(format!("机器人返回了无法识别的应答：{}", excerpt(body)));
    };
    let retryable = match platform {
        Platform::DingTalk => 130_101,
        Platform::Feishu => 11_232,
        Platform::WeCom => 45_009,
        Platform::Generic => return RobotVerdict::Accepted,
    };
    match reply.code {
        0 => RobotVerdict::Accepted,
        code if code == retryable => RobotVerdict::Throttled(reply.describe(platform)),
        _ => RobotVerdict::Permanent(reply.describe(platform)),
    }
}

/// How long a robot that answered "too fast" is left alone: DingTalk's ban lasts about ten
/// minutes; WeCom and Feishu limit by the minute.
pub fn throttle_ban(platform: Platform) -> Duration {
    match platform {
        Platform::DingTalk => Duration::from_secs(10 * 60),
        Platform::Feishu | Platform::WeCom | Platform::Generic => Duration::from_secs(60),
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

pub use super::channel::RateLimit;

const DINGTALK_LIMITS: [RateLimit; 1] = [RateLimit {
    max: 20,
    per: Duration::from_secs(60),
}];
const FEISHU_LIMITS: [RateLimit; 2] = [
    RateLimit {
        max: 5,
        per: Duration::from_secs(1),
    },
    RateLimit {
        max: 100,
        per: Duration::from_secs(60),
    },
];
const WECOM_LIMITS: [RateLimit; 1] = [RateLimit {
    max: 20,
    per: Duration::from_secs(60),
}];

/// The documented limits of one robot (one webhook URL).
pub fn rate_limits(platform: Platform) -> &'static [RateLimit] {
    match platform {
        Platform::DingTalk => &DINGTALK_LIMITS,
        Platform::Feishu => &FEISHU_LIMITS,
        Platform::WeCom => &WECOM_LIMITS,
        Platform::Generic => &[],
    }
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

    pub fn for_platform(platform: Platform) -> Self {
        Self::new(rate_limits(platform))
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000).unwrap()
    }

    fn message() -> OutgoingMessage {
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

    fn anonymous() -> OutgoingMessage {
        let mut message = message();
        message.entries[0].recipient = Recipient {
            name: "张三".into(),
            mobile: Some("  ".into()),
            ..Recipient::default()
        };
        message
    }

    fn body(request: &RobotRequest) -> Value {
        serde_json::from_str(&request.body).unwrap()
    }

    fn build(
        platform: Platform,
        url: &str,
        secret: Option<&str>,
        format: MessageFormat,
        message: &OutgoingMessage,
    ) -> RobotRequest {
        build_request(platform, url, secret, format, message, now()).unwrap()
    }

    const DINGTALK_URL: &str = "https://oapi.dingtalk.com/robot/send?access_token=abc";
    const FEISHU_URL: &str = "https://open.feishu.cn/open-apis/bot/v2/hook/xyz";
    const WECOM_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
    const GENERIC_URL: &str = "https://example.com/hooks/attendance";

    #[test]
    fn signatures_match_the_worked_examples() {
        assert_eq!(
            dingtalk_sign("SECtestsecret0123456789", 1_700_000_000_000),
            "zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k="
        );
        assert_eq!(
            percent_encode(&dingtalk_sign("SECtestsecret0123456789", 1_700_000_000_000)),
            "zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D"
        );
        assert_eq!(
            feishu_sign("feishusecret123", 1_700_000_000),
            "To2RmN/gLfFxG0j7+cowzi8UA3Et/vBBTaUqxI8afUU="
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b/+=&?%"), "a%20b%2F%2B%3D%26%3F%25");
        assert_eq!(percent_encode("钉"), "%E9%92%89");
    }

    #[test]
    fn platform_is_detected_by_host_then_by_path() {
        let cases = [
            (DINGTALK_URL, Platform::DingTalk),
            (
                "HTTPS://OAPI.DINGTALK.COM:443/robot/send",
                Platform::DingTalk,
            ),
            (FEISHU_URL, Platform::Feishu),
            (
                "https://open.larksuite.com/open-apis/bot/v2/hook/x",
                Platform::Feishu,
            ),
            (WECOM_URL, Platform::WeCom),
            (
                "http://127.0.0.1:9000/robot/send?access_token=t",
                Platform::DingTalk,
            ),
            ("http://localhost:9000/mock/robot/send/", Platform::DingTalk),
            (
                "http://127.0.0.1:9000/open-apis/bot/v2/hook/abc",
                Platform::Feishu,
            ),
            (
                "http://[::1]:9000/cgi-bin/webhook/send?key=k",
                Platform::WeCom,
            ),
            ("https://example.com/hooks/attendance", Platform::Generic),
            (
                "https://example.com/hook?next=/robot/send",
                Platform::Generic,
            ),
            (
                "https://oapi.dingtalk.com.evil.example/x",
                Platform::Generic,
            ),
            ("not a url", Platform::Generic),
        ];
        for (url, expected) in cases {
            assert_eq!(Platform::detect(url), expected, "{url}");
        }
    }

    #[test]
    fn platform_and_format_names_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(Platform::parse(platform.as_str()), Some(platform));
            assert_eq!(
                serde_json::to_value(platform).unwrap(),
                json!(platform.as_str())
            );
        }
        assert_eq!(Platform::WeCom.label(), "企业微信");
        assert_eq!(Platform::parse("lark"), None);
        for format in MessageFormat::ALL {
            assert_eq!(MessageFormat::parse(format.as_str()), Some(format));
            assert_eq!(
                serde_json::to_value(format).unwrap(),
                json!(format.as_str())
            );
        }
    }

    #[test]
    fn dingtalk_text_mentions_by_mobile_and_user_id() {
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message(),
        );
        assert_eq!(request.url, DINGTALK_URL);
        assert_eq!(
            body(&request),
            json!({
                "msgtype": "text",
                "text": { "content": "【上班提醒】张三，您好！ @13800138000" },
                "at": {
                    "atMobiles": ["13800138000"],
                    "atUserIds": ["manager4220"],
                    "isAtAll": false,
                },
                "msgUuid": "7:2026-03-02:clock_in",
            })
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }

    #[test]
    fn dingtalk_mentions_the_user_id_when_there_is_no_mobile() {
        let mut message = message();
        message.entries[0].recipient.mobile = None;
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        let body = body(&request);
        assert_eq!(
            body["text"]["content"],
            "【上班提醒】张三，您好！ @manager4220"
        );
        assert_eq!(body["at"]["atMobiles"], json!([]));
        // A text that already mentions the person is left alone.
        message.entries[0].text = "@manager4220 请打卡".into();
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        assert_eq!(body_text(&request), "@manager4220 请打卡");
    }

    fn body_text(request: &RobotRequest) -> String {
        body(request)["text"]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn dingtalk_without_ids_mentions_nobody() {
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &anonymous(),
        );
        assert_eq!(
            body(&request)["at"],
            json!({ "atMobiles": [], "atUserIds": [], "isAtAll": false })
        );
        assert_eq!(body_text(&request), "【上班提醒】张三，您好！");
    }

    #[test]
    fn dingtalk_markdown_carries_title_and_mention() {
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Markdown,
            &message(),
        );
        assert_eq!(
            body(&request),
            json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": "上班提醒",
                    "text": "【上班提醒】张三，您好！ @13800138000",
                },
                "at": {
                    "atMobiles": ["13800138000"],
                    "atUserIds": ["manager4220"],
                    "isAtAll": false,
                },
                "msgUuid": "7:2026-03-02:clock_in",
            })
        );
    }

    #[test]
    fn dingtalk_signature_is_appended_to_the_query() {
        let secret = Some("SECtestsecret0123456789");
        let signed =
            "timestamp=1700000000000&sign=zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D";
        let cases = [
            (DINGTALK_URL.to_owned(), format!("{DINGTALK_URL}&{signed}")),
            (
                "http://127.0.0.1:9000/robot/send".to_owned(),
                format!("http://127.0.0.1:9000/robot/send?{signed}"),
            ),
            (
                "http://127.0.0.1:9000/robot/send?".to_owned(),
                format!("http://127.0.0.1:9000/robot/send?{signed}"),
            ),
            (
                "http://127.0.0.1:9000/robot/send?access_token=a#top".to_owned(),
                format!("http://127.0.0.1:9000/robot/send?access_token=a&{signed}#top"),
            ),
        ];
        for (url, expected) in cases {
            let request = build(
                Platform::DingTalk,
                &url,
                secret,
                MessageFormat::Text,
                &message(),
            );
            assert_eq!(request.url, expected);
        }
        // A blank secret means no signing.
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            Some("  "),
            MessageFormat::Text,
            &message(),
        );
        assert_eq!(request.url, DINGTALK_URL);
    }

    #[test]
    fn feishu_text_signs_in_the_body_and_mentions_the_open_id() {
        let request = build(
            Platform::Feishu,
            FEISHU_URL,
            Some("feishusecret123"),
            MessageFormat::Text,
            &message(),
        );
        assert_eq!(request.url, FEISHU_URL);
        assert_eq!(
            body(&request),
            json!({
                "timestamp": "1700000000",
                "sign": "To2RmN/gLfFxG0j7+cowzi8UA3Et/vBBTaUqxI8afUU=",
                "msg_type": "text",
                "content": {
                    "text": "<at user_id=\"ou_7d8a6e6df7621556ce0d21922b676706\">张三</at> 【上班提醒】张三，您好！",
                },
            })
        );
        let request = build(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &anonymous(),
        );
        assert_eq!(
            body(&request),
            json!({ "msg_type": "text", "content": { "text": "【上班提醒】张三，您好！" } })
        );
    }

    #[test]
    fn feishu_markdown_is_an_interactive_card() {
        let request = build(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Markdown,
            &message(),
        );
        assert_eq!(
            body(&request),
            json!({
                "msg_type": "interactive",
                "card": {
                    "header": { "title": { "tag": "plain_text", "content": "上班提醒" } },
                    "elements": [{
                        "tag": "markdown",
                        "content": "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> 【上班提醒】张三，您好！",
                    }],
                },
            })
        );
    }

    #[test]
    fn feishu_body_over_20_kb_is_refused() {
        let mut message = message();
        message.entries[0].text = "打".repeat(7000);
        let error = build_request(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &message,
            now(),
        )
        .unwrap_err();
        assert!(matches!(
            error,
            RobotError::TooLarge {
                limit: FEISHU_BODY_MAX_BYTES,
                ..
            }
        ));
        assert!(error.to_string().contains("20480 字节"));
    }

    #[test]
    fn wecom_text_lists_mentions_and_ignores_the_secret() {
        let request = build(
            Platform::WeCom,
            WECOM_URL,
            Some("SECignored"),
            MessageFormat::Text,
            &message(),
        );
        assert_eq!(request.url, WECOM_URL);
        assert_eq!(
            body(&request),
            json!({
                "msgtype": "text",
                "text": {
                    "content": "【上班提醒】张三，您好！",
                    "mentioned_list": ["zhangsan"],
                    "mentioned_mobile_list": ["13800138000"],
                },
            })
        );
    }

    #[test]
    fn wecom_markdown_mentions_in_the_text() {
        let request = build(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Markdown,
            &message(),
        );
        assert_eq!(
            body(&request),
            json!({
                "msgtype": "markdown",
                "markdown": { "content": "【上班提醒】张三，您好！ <@zhangsan>" },
            })
        );
    }

    #[test]
    fn wecom_size_limits_are_named() {
        let mut message = message();
        message.entries[0].text = "a".repeat(WECOM_TEXT_MAX_BYTES);
        assert!(
            build_request(
                Platform::WeCom,
                WECOM_URL,
                None,
                MessageFormat::Text,
                &message,
                now()
            )
            .is_ok()
        );
        message.entries[0].text = "打".repeat(683); // 2049 bytes
        let error = build_request(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Text,
            &message,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            RobotError::TooLarge {
                what: "企业微信文本消息",
                limit: 2048,
                actual: 2049
            }
        );
        assert!(error.to_string().contains("最多 2048 字节"));
        // Markdown allows 4096 bytes, mention included.
        message.entries[0].text = "a".repeat(4096 - " <@zhangsan>".len());
        assert!(
            build_request(
                Platform::WeCom,
                WECOM_URL,
                None,
                MessageFormat::Markdown,
                &message,
                now()
            )
            .is_ok()
        );
        message.entries[0].text.push('a');
        let error = build_request(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Markdown,
            &message,
            now(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("最多 4096 字节"));
    }

    #[test]
    fn generic_body_merges_context_and_signs_the_exact_body() {
        let mut message = message();
        message.context =
            json!({ "kind": "clock_in", "date": "2026-03-02", "user_id": 7, "key": "overridden?" });
        let url = "https://example.com/hooks/attendance";
        let request = build(
            Platform::Generic,
            url,
            Some("webhook-secret"),
            MessageFormat::Text,
            &message,
        );
        assert_eq!(request.url, url);
        assert_eq!(
            body(&request),
            json!({
                "key": "7:2026-03-02:clock_in",
                "title": "上班提醒",
                "text": "【上班提醒】张三，您好！",
                "format": "text",
                "user": {
                    "name": "张三",
                    "mobile": "13800138000",
                    "dingtalk_user_id": "manager4220",
                    "feishu_open_id": "ou_7d8a6e6df7621556ce0d21922b676706",
                    "wecom_user_id": "zhangsan",
                },
                "kind": "clock_in",
                "date": "2026-03-02",
                "user_id": 7,
            })
        );
        assert_eq!(
            request.header("Idempotency-Key"),
            Some("7:2026-03-02:clock_in")
        );
        let expected = hex(&hmac_sha256(b"webhook-secret", request.body.as_bytes()));
        assert_eq!(
            request.header("X-Signature"),
            Some(format!("sha256={expected}").as_str())
        );
        assert_eq!(request.header("X-Timestamp"), Some("1700000000"));
        assert_eq!(
            request.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
    }

    #[test]
    fn generic_without_secret_has_no_signature_and_null_ids() {
        let mut message = anonymous();
        message.context = Value::Null;
        let request = build(
            Platform::Generic,
            "http://127.0.0.1:9000/hook",
            None,
            MessageFormat::Markdown,
            &message,
        );
        assert_eq!(request.header("X-Signature"), None);
        assert_eq!(request.header("X-Timestamp"), None);
        let body = body(&request);
        assert_eq!(body["user"]["mobile"], Value::Null);
        assert_eq!(body["format"], "markdown");
        assert_eq!(body.as_object().unwrap().len(), 5);
    }

    #[test]
    fn hmac_hex_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
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
            let error = build_request(
                Platform::DingTalk,
                url,
                None,
                MessageFormat::Text,
                &message(),
                now(),
            )
            .unwrap_err();
            assert!(matches!(error, RobotError::InvalidUrl(_)), "{url}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message(),
        );
        let debug = format!("{request:?}");
        assert!(!debug.contains("access_token=abc"), "{debug}");
        assert!(debug.contains("https://oapi.dingtalk.com/robot/send?access_token=***"));
        let error = build_request(
            Platform::DingTalk,
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
            escape(Platform::Feishu, MessageFormat::Text, hostile),
            "＜at user_id=\"all\"＞所有人＜/at＞［点我］(http://evil.example)**粗**＜@all＞"
        );
        for platform in [Platform::DingTalk, Platform::Feishu, Platform::WeCom] {
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
        for platform in [Platform::DingTalk, Platform::WeCom, Platform::Generic] {
            assert_eq!(escape(platform, MessageFormat::Text, hostile), hostile);
        }
        for platform in Platform::ALL {
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
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(dingtalk["at"]["atMobiles"], json!([]));
        assert_eq!(dingtalk["at"]["atUserIds"], json!([]));
        assert_eq!(dingtalk["text"]["content"], "【上班提醒】张三，您好！");
        let feishu = body(&build(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(feishu["content"]["text"], "【上班提醒】张三，您好！");
        let wecom = body(&build(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Text,
            &message,
        ));
        assert_eq!(wecom["text"]["mentioned_list"], json!([]));
        assert_eq!(wecom["text"]["mentioned_mobile_list"], json!([]));
    }

    #[test]
    fn the_feishu_mention_name_is_escaped() {
        let mut message = message();
        message.entries[0].recipient.name = "</at><at user_id=\"all\">".into();
        let request = build(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        assert_eq!(
            body(&request)["content"]["text"],
            "<at user_id=\"ou_7d8a6e6df7621556ce0d21922b676706\">＜/at＞＜at user_id=\"all\"＞</at> 【上班提醒】张三，您好！"
        );
    }

    fn permanent(verdict: RobotVerdict) -> String {
        match verdict {
            RobotVerdict::Permanent(text) => text,
            other => panic!("expected Permanent, got {other:?}"),
        }
    }

    fn throttled(verdict: RobotVerdict) -> String {
        match verdict {
            RobotVerdict::Throttled(text) => text,
            other => panic!("expected Throttled, got {other:?}"),
        }
    }

    fn retryable(verdict: RobotVerdict) -> String {
        match verdict {
            RobotVerdict::Retryable(text) => text,
            other => panic!("expected Retryable, got {other:?}"),
        }
    }

    #[test]
    fn classify_accepts_only_success_codes() {
        use Platform::*;
        let accepted = [
            (DingTalk, r#"{"errcode":0,"errmsg":"ok"}"#),
            (Feishu, r#"{"code":0,"msg":"success","data":{}}"#),
            (Feishu, r#"{"StatusCode":0,"StatusMessage":"success"}"#),
            (WeCom, r#"{"errcode":0,"errmsg":"ok"}"#),
            (Generic, ""),
            (Generic, "not json at all"),
        ];
        for (platform, body) in accepted {
            assert_eq!(
                classify(platform, 200, body),
                RobotVerdict::Accepted,
                "{platform} {body}"
            );
        }
        assert_eq!(classify(Generic, 204, ""), RobotVerdict::Accepted);
    }

    #[test]
    fn classify_explains_configuration_errors() {
        use Platform::*;
        let cases = [
            (
                DingTalk,
                r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
                HINT_SIGN,
            ),
            (
                DingTalk,
                r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
                HINT_KEYWORD,
            ),
            (
                DingTalk,
                r#"{"errcode":310000,"errmsg":"ip 1.2.3.4 not in whitelist"}"#,
                HINT_IP,
            ),
            (
                DingTalk,
                r#"{"errcode":310000,"errmsg":"invalid timestamp 1"}"#,
                HINT_TIMESTAMP,
            ),
            (
                DingTalk,
                r#"{"errcode":300001,"errmsg":"token is not exist"}"#,
                HINT_TOKEN,
            ),
            (
                DingTalk,
                r#"{"errcode":400013,"errmsg":"群已被解散"}"#,
                HINT_DISSOLVED,
            ),
            (
                Feishu,
                r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
                HINT_SIGN,
            ),
            (Feishu, r#"{"code":19022,"msg":"Ip Not Allowed"}"#, HINT_IP),
            (
                Feishu,
                r#"{"code":19024,"msg":"Key Words Not Found"}"#,
                HINT_KEYWORD,
            ),
            (
                WeCom,
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
                DingTalk,
                200,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )),
            "errcode 310000: sign not match；签名不匹配：请检查机器人的加签密钥（钉钉以 SEC 开头）"
        );
        assert_eq!(
            permanent(classify(
                Feishu,
                200,
                r#"{"code":9499,"msg":"Bad Request"}"#
            )),
            "code 9499: Bad Request"
        );
        assert_eq!(
            permanent(classify(
                Feishu,
                200,
                r#"{"StatusCode":1,"StatusMessage":"x"}"#
            )),
            "StatusCode 1: x"
        );
    }

    #[test]
    fn classify_retries_rate_limits_and_server_errors() {
        use Platform::*;
        assert_eq!(
            throttled(classify(
                DingTalk,
                200,
                r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#
            )),
            "errcode 130101: send too fast, exceed 20 times per minute；发送太频繁，稍后重试"
        );
        assert!(
            throttled(classify(
                Feishu,
                200,
                r#"{"code":11232,"msg":"frequency limited"}"#
            ))
            .ends_with(HINT_RATE)
        );
        assert!(
            throttled(classify(
                WeCom,
                200,
                r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
            ))
            .ends_with(HINT_RATE)
        );
        for status in [408, 429, 500, 502, 503] {
            for platform in Platform::ALL {
                retryable(classify(platform, status, "<html>busy</html>"));
            }
        }
        assert_eq!(
            retryable(classify(Generic, 429, "slow down")),
            "HTTP 429: slow down；发送太频繁，稍后重试"
        );
        // The robot's code is shown when an error status carries one.
        assert_eq!(
            retryable(classify(
                Feishu,
                500,
                r#"{"code":11232,"msg":"frequency limited"}"#
            )),
            "HTTP 500, code 11232: frequency limited；发送太频繁，稍后重试"
        );
    }

    #[test]
    fn classify_refuses_other_statuses_and_unknown_answers() {
        use Platform::*;
        assert_eq!(permanent(classify(Generic, 404, "")), "HTTP 404: （空）");
        assert_eq!(
            permanent(classify(
                Feishu,
                400,
                r#"{"code":9499,"msg":"Bad Request","data":{}}"#
            )),
            "HTTP 400, code 9499: Bad Request"
        );
        assert_eq!(permanent(classify(DingTalk, 302, "")), "HTTP 302: （空）");
        for platform in [DingTalk, Feishu, WeCom] {
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
        let text = permanent(classify(WeCom, 200, &long));
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
            rate_limits(Platform::DingTalk),
            &[RateLimit {
                max: 20,
                per: Duration::from_secs(60)
            }]
        );
        assert_eq!(
            rate_limits(Platform::WeCom),
            &[RateLimit {
                max: 20,
                per: Duration::from_secs(60)
            }]
        );
        assert_eq!(rate_limits(Platform::Feishu).len(), 2);
        assert!(rate_limits(Platform::Generic).is_empty());
    }

    #[test]
    fn dingtalk_pacer_allows_twenty_a_minute() {
        let mut pacer = Pacer::for_platform(Platform::DingTalk);
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
        let mut pacer = Pacer::for_platform(Platform::Feishu);
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
        let mut pacer = Pacer::for_platform(Platform::Generic);
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

    fn person(n: usize) -> Entry {
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

    fn merged(count: usize) -> OutgoingMessage {
        OutgoingMessage {
            entries: (0..count).map(person).collect(),
            ..message()
        }
    }

    #[test]
    fn a_merged_dingtalk_message_mentions_everyone_on_their_own_line() {
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &merged(3),
        );
        let body = body(&request);
        assert_eq!(
            body["at"]["atMobiles"],
            json!(["13900000000", "13900000001", "13900000002"])
        );
        assert_eq!(
            body["text"]["content"],
            "员工0：A班 09:00 上班，请打卡 @13900000000\n员工1：A班 09:00 上班，请打卡 @13900000001\n员工2：A班 09:00 上班，请打卡 @13900000002"
        );
    }

    #[test]
    fn a_merged_wecom_message_lists_every_mention() {
        let request = build(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Text,
            &merged(2),
        );
        let body = body(&request);
        assert_eq!(body["text"]["mentioned_list"], json!(["user0", "user1"]));
        assert_eq!(
            body["text"]["mentioned_mobile_list"],
            json!(["13900000000", "13900000001"])
        );
        assert_eq!(
            body["text"]["content"],
            "员工0：A班 09:00 上班，请打卡\n员工1：A班 09:00 上班，请打卡"
        );
    }

    #[test]
    fn a_merged_feishu_message_has_one_at_element_per_person() {
        let request = build(
            Platform::Feishu,
            FEISHU_URL,
            None,
            MessageFormat::Text,
            &merged(2),
        );
        let text = body(&request)["content"]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(text.matches("<at user_id=").count(), 2);
        assert!(text.contains(&format!("<at user_id=\"ou_{:032}\">员工1</at> 员工1：", 1)));
    }

    #[test]
    fn one_hundred_people_split_into_five_messages_of_twenty() {
        for platform in [Platform::DingTalk, Platform::WeCom, Platform::Feishu] {
            let parts = split_entries(platform, MessageFormat::Text, merged(100).entries);
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
            split_entries(Platform::Generic, MessageFormat::Text, merged(3).entries).len(),
            3
        );
        assert!(split_entries(Platform::DingTalk, MessageFormat::Text, Vec::new()).is_empty());
    }

    #[test]
    fn every_split_part_fits_the_platform_limit() {
        // Long lines: WeCom's 2,048 bytes split before twenty people.
        let entries: Vec<Entry> = (0..60)
            .map(|n| Entry {
                text: format!("{}{n}", "长".repeat(100)),
                ..person(n)
            })
            .collect();
        for format in MessageFormat::ALL {
            let parts = split_entries(Platform::WeCom, format, entries.clone());
            assert!(parts.len() > 3, "{format:?}: {}", parts.len());
            for part in parts {
                let message = OutgoingMessage {
                    entries: part,
                    ..message()
                };
                build_request(Platform::WeCom, WECOM_URL, None, format, &message, now())
                    .expect("each part within the limit");
            }
        }
        // A line too long on its own still gets its own part (and the builder says why).
        let huge = Entry {
            text: "长".repeat(2000),
            ..person(1)
        };
        let parts = split_entries(
            Platform::WeCom,
            MessageFormat::Text,
            vec![person(0), huge, person(2)],
        );
        assert_eq!(
            parts.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn throttles_are_waited_out_longest_on_dingtalk() {
        assert_eq!(throttle_ban(Platform::DingTalk), Duration::from_secs(600));
        assert!(throttle_ban(Platform::WeCom) >= Duration::from_secs(60));
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
            Platform::DingTalk,
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
        let request = build(
            Platform::WeCom,
            WECOM_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        assert!(
            !body(&request)["text"]["content"]
                .as_str()
                .unwrap()
                .contains("https://")
        );
        // One person in plain text: the links on lines of their own.
        message.entries.truncate(1);
        let request = build(
            Platform::DingTalk,
            DINGTALK_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        assert_eq!(
            body(&request)["text"]["content"],
            "员工0：A班 09:00 上班，请打卡 @13900000000\n我已打卡：https://kq.example.com/r/tok0\n今天不用提醒：https://kq.example.com/r/tok10"
        );
        let request = build(
            Platform::Generic,
            GENERIC_URL,
            None,
            MessageFormat::Text,
            &message,
        );
        assert_eq!(
            body(&request)["links"],
            json!([
                {"label": "我已打卡", "url": "https://kq.example.com/r/tok0"},
                {"label": "今天不用提醒", "url": "https://kq.example.com/r/tok10"},
            ])
        );
    }
}
