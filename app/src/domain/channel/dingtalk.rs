//! DingTalk custom group robot (自定义机器人): `POST …/robot/send?access_token=…` with a
//! text or markdown body whose `at` lists mention people (the text must also say `@who`).
//! 加签 adds `timestamp` (ms) and `sign` to the query. Answers are HTTP 200 with
//! `errcode`/`errmsg`; 130101 means too fast, and the robot then refuses for ~10 minutes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use std::time::Duration;

use super::address::{
    ALNUM_CHARSET, AddressError, Parts, alnum, at_most, dedup, mask_secret, mask_web_url,
    robot_token, shorten, token, web_secrets,
};
use super::{Channel, ChannelKind, KindInfo, Outgoing, SendContext, Verdict, per_minute};
use crate::domain::robot::{
    Entry, HINT_RATE, MergeLimits, MessageFormat, OutgoingMessage, Recipient, Reply, RobotError,
    RobotRequest, classify_reply, escape_markdown, hmac_sha256, line_break, mention,
    mention_mobile, read_reply, signing_secret, webhook_url, with_links,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "dingtalk",
    label: "钉钉群机器人",
    schemes: &["dingtalk"],
    form: "加签密钥@令牌/手机号",
    hosts: &["oapi.dingtalk.com"],
    url_forms: &[
        "https://oapi.dingtalk.com/robot/send?access_token=token",
        "dingtalk://token",
        "dingtalk://SECsecret@token/13800138000",
    ],
    // 20 messages a minute per robot (docs/protocols.md).
    rate_limits: &[per_minute(20)],
    group: true,
    // After 130101 the robot refuses for about ten minutes.
    throttle_ban: Duration::from_secs(10 * 60),
    binding: None,
});

const SEND: &str = "https://oapi.dingtalk.com/robot/send?access_token=";

/// A DingTalk custom group robot.
#[derive(Clone, PartialEq, Eq)]
pub struct DingTalkRobot {
    pub webhook: String,
    /// 加签 secret (`SEC…`).
    pub secret: Option<String>,
    /// Mobiles to mention, from `dingtalk://token/138…`.
    pub mobiles: Vec<String>,
}

impl Channel for DingTalkRobot {
    /// `dingtalk://[secret@]token[/mobile[/mobile…]]`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_port()?;
        let (access_token, mut params) = robot_token(parts, &["token", "access_token"])?;
        if access_token.is_empty() {
            return Err(parts.error("缺少 access_token"));
        }
        let access_token = token(
            &access_token,
            "钉钉机器人 access_token ",
            128,
            alnum,
            ALNUM_CHARSET,
        )?;
        let secret = match params
            .take(&["secret"])
            .map(|given| given.value)
            .or(parts.userinfo.map(str::to_owned))
        {
            None => None,
            Some(secret) => {
                if !secret.starts_with("SEC") || !secret.chars().all(alnum) || secret.len() > 128
                {
                    return Err(AddressError::new(
                        "钉钉加签密钥应以 SEC 开头，只含英文字母和数字（dingtalk://SEC…@令牌）",
                    ));
                }
                Some(secret)
            }
        };
        let mut candidates: Vec<String> = parts.segments().iter().map(|s| s.to_string()).collect();
        candidates.extend(params.take_items(&["to"]));
        // Refused rather than dropped: a robot keeps no list of ignored parameters.
        let mut mobiles = Vec::new();
        for candidate in candidates {
            mobiles.push(mobile(&candidate)?);
        }
        at_most(mobiles.len(), "手机号")?;
        params.finish()?;
        Ok(Self {
            webhook: format!("{SEND}{access_token}"),
            secret,
            mobiles: dedup(mobiles),
        })
    }

    /// `oapi.dingtalk.com`, or any host with DingTalk's path (a local mock or relay).
    fn parse_web(raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        let ours = KIND.owns_host(host) || parts.path.trim_end_matches('/').ends_with("/robot/send");
        if !ours {
            return None;
        }
        if super::address::query_value(parts.query, "access_token").is_none() {
            return Some(Err(AddressError::new(
                "钉钉机器人地址缺少 access_token（https://oapi.dingtalk.com/robot/send?access_token=…）",
            )));
        }
        Some(Ok(Self {
            webhook: raw.to_owned(),
            secret: None,
            mobiles: Vec::new(),
        }))
    }

    fn from_webhook(url: &str, secret: Option<&str>) -> Option<Self> {
        Some(Self {
            webhook: webhook_url(url)?,
            secret: signing_secret(secret),
            mobiles: Vec::new(),
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let mut shown = mask_web_url(&self.webhook);
        if let Some(secret) = &self.secret {
            shown.push_str(&format!("（加签密钥 {}）", mask_secret(secret)));
        }
        if !self.mobiles.is_empty() {
            shown.push_str(&format!("（提醒 {}）", self.mobiles.join("、")));
        }
        shown
    }

    fn secrets(&self) -> Vec<&str> {
        let mut found = web_secrets(&self.webhook);
        found.extend(self.secret.as_deref());
        found
    }

    fn webhook(&self) -> Option<(&str, Option<&str>)> {
        Some((&self.webhook, self.secret.as_deref()))
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let request = build(
            &self.webhook,
            self.secret.as_deref(),
            context.format,
            message,
            context.now,
        );
        Ok(Outgoing::Http(request.into()))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn escape(&self, format: MessageFormat, value: &str) -> String {
        escape_markdown(format, value)
    }

    fn merge_limits(&self, _format: MessageFormat) -> MergeLimits {
        MergeLimits {
            // Twenty mentions still read as a list, and 100 people fit in 5 messages, which
            // leaves 15 of the robot's 20 a minute for other reminders.
            max_people: 20,
            // DingTalk documents no exact cap; 20,000 bytes is what its robots take in
            // practice.
            max_text_bytes: 16_000,
        }
    }

    fn mention_bytes(&self, _format: MessageFormat, recipient: &Recipient) -> usize {
        mention_bytes(recipient)
    }
}

/// Digits, optionally a leading `+` and `-` separators (`+86-13800138000`), 5–20 long.
fn mobile(value: &str) -> Result<String, AddressError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    let valid = (5..=20).contains(&value.len())
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(AddressError::new(format!(
            "手机号“{}”无效",
            shorten(value, 24)
        )))
    }
}

/// "send too fast".
const THROTTLED: i64 = 130_101;
pub(crate) const HINT_TOKEN: &str = "机器人 access_token 不存在";
pub(crate) const HINT_DISSOLVED: &str = "群已解散";

/// DingTalk's 加签: base64(HMAC-SHA256(key = secret, message = "<ms>\n<secret>")). The
/// caller URL-encodes it for the query string.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(hmac_sha256(secret.as_bytes(), message.as_bytes()))
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

/// The bytes the ` @who` this module appends to a line adds.
pub(crate) fn mention_bytes(recipient: &Recipient) -> usize {
    mention_mobile(&recipient.mobile)
        .or(mention(&recipient.dingtalk_user_id))
        .map_or(0, |who| who.len() + 2)
}

/// `url` is checked and `secret` trimmed by [`DingTalkRobot::from_webhook`].
pub fn build(
    url: &str,
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> RobotRequest {
    let url = match secret {
        Some(secret) => {
            let timestamp = now.timestamp_millis();
            let signature = percent_encode(&sign(secret, timestamp));
            append_query(url, &format!("timestamp={timestamp}&sign={signature}"))
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
    RobotRequest::json(url, body.to_string())
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

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "errcode", "errmsg", hint)
}

/// Codes with one meaning; 310000 (security check) is told apart by its message.
fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED => Some(HINT_RATE),
        300_001 => Some(HINT_TOKEN),
        400_013 => Some(HINT_DISSOLVED),
        _ => None,
    }
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    classify_reply(http_status, body, reply(body), THROTTLED)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::robot::test_support::{
        DINGTALK_URL, anonymous, body, build, merged, message,
    };

    #[test]
    fn signature_matches_the_worked_example() {
        assert_eq!(
            sign("SECtestsecret0123456789", 1_700_000_000_000),
            "zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k="
        );
        assert_eq!(
            percent_encode(&sign("SECtestsecret0123456789", 1_700_000_000_000)),
            "zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b/+=&?%"), "a%20b%2F%2B%3D%26%3F%25");
        assert_eq!(percent_encode("钉"), "%E9%92%89");
    }

    #[test]
    fn dingtalk_text_mentions_by_mobile_and_user_id() {
        let request = build(
            KIND,
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
            KIND,
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
            KIND,
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
            KIND,
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
            KIND,
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
                KIND,
                &url,
                secret,
                MessageFormat::Text,
                &message(),
            );
            assert_eq!(request.url, expected);
        }
        // A blank secret means no signing.
        let request = build(
            KIND,
            DINGTALK_URL,
            Some("  "),
            MessageFormat::Text,
            &message(),
        );
        assert_eq!(request.url, DINGTALK_URL);
    }

    #[test]
    fn a_merged_dingtalk_message_mentions_everyone_on_their_own_line() {
        let request = build(
            KIND,
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
}
