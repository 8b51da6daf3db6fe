//! Feishu / Lark custom bot (自定义机器人): `POST …/open-apis/bot/v2/hook/<id>`. Text
//! mentions are `<at user_id="ou_…">name</at>` in the text; markdown goes in an interactive
//! card. Signing puts `timestamp` (s) and `sign` in the body. Answers carry `code`/`msg`
//! (old bots `StatusCode`/`StatusMessage`); 11232 means too fast; bodies are at most 20 KB.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use std::time::Duration;

use super::address::{
    AddressError, KEY_CHARSET, Parts, key_char, mask_secret, mask_web_url, robot_token, token,
    web_secrets,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, RateLimit, SendContext, Verdict};
use crate::domain::robot::{
    HINT_IP, HINT_KEYWORD, HINT_RATE, HINT_SIGN, MergeLimits, MessageFormat, OutgoingMessage,
    Recipient, Reply, RobotError, RobotRequest, check_size, classify_reply, escape_with,
    hmac_sha256, markdown_special, mention, read_reply, signing_secret, webhook_url, with_links,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "feishu",
    label: "飞书群机器人",
    schemes: &["feishu"],
    form: "令牌/加签密钥",
    hosts: &["open.feishu.cn", "open.larksuite.com"],
    url_forms: &[
        "https://open.feishu.cn/open-apis/bot/v2/hook/token",
        "https://open.larksuite.com/open-apis/bot/v2/hook/token",
        "feishu://token/secret",
    ],
    // 100 a minute and 5 a second per bot (docs/protocols.md).
    rate_limits: &[
        RateLimit {
            max: 5,
            per: Duration::from_secs(1),
        },
        super::per_minute(100),
    ],
    group: true,
    throttle_ban: MINUTE,
    binding: None,
});

const HOOK: &str = "https://open.feishu.cn/open-apis/bot/v2/hook/";
const HOOK_PATH: &str = "/open-apis/bot/v2/hook/";

/// A Feishu / Lark custom bot.
#[derive(Clone, PartialEq, Eq)]
pub struct FeishuRobot {
    pub webhook: String,
    pub secret: Option<String>,
}

impl Channel for FeishuRobot {
    /// `feishu://token[/secret]`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_port()?;
        let (hook, mut params) = robot_token(parts, &["token"])?;
        if hook.is_empty() {
            return Err(parts.error("缺少令牌"));
        }
        let hook = token(&hook, "飞书机器人令牌", 128, key_char, KEY_CHARSET)?;
        let path_secret = match parts.segments().as_slice() {
            [] => None,
            [secret] => Some(secret.to_string()),
            _ => return Err(parts.error("格式不对")),
        };
        let secret = match params.take(&["secret"]).map(|given| given.value).or(path_secret) {
            None => None,
            Some(secret) => Some(token(&secret, "飞书加签密钥", 128, key_char, KEY_CHARSET)?),
        };
        params.finish()?;
        Ok(Self {
            webhook: format!("{HOOK}{hook}"),
            secret,
        })
    }

    /// Feishu's and Lark's hosts, or any host with the bot path (a local mock or relay).
    fn parse_web(raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        let path = parts.path.trim_end_matches('/');
        if !KIND.owns_host(host) && !path.contains(HOOK_PATH) {
            return None;
        }
        let hook = path
            .split_once(HOOK_PATH)
            .map(|(_, hook)| hook)
            .unwrap_or_default();
        if hook.is_empty() || hook.contains('/') {
            return Some(Err(AddressError::new(
                "飞书机器人地址缺少 hook 令牌（https://open.feishu.cn/open-apis/bot/v2/hook/…）",
            )));
        }
        Some(Ok(Self {
            webhook: raw.to_owned(),
            secret: None,
        }))
    }

    fn from_webhook(url: &str, secret: Option<&str>) -> Option<Self> {
        Some(Self {
            webhook: webhook_url(url)?,
            secret: signing_secret(secret),
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
        )?;
        Ok(Outgoing::Http(request.into()))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn escape(&self, format: MessageFormat, value: &str) -> String {
        escape(format, value)
    }

    fn merge_limits(&self, _format: MessageFormat) -> MergeLimits {
        MergeLimits {
            max_people: 20,
            max_text_bytes: BODY_MAX_BYTES - 4 * 1024,
        }
    }

    fn mention_bytes(&self, format: MessageFormat, recipient: &Recipient) -> usize {
        mention_bytes(format, recipient)
    }
}

/// Feishu text messages interpret `<at …>` and other tags, and `[text](url)` links;
/// markdown cards the whole markdown markup.
pub fn escape(format: MessageFormat, value: &str) -> String {
    match format {
        MessageFormat::Text => escape_with(
            |c| matches!(c, '<' | '>' | '&' | '[' | ']'),
            format,
            value,
        ),
        MessageFormat::Markdown => escape_with(markdown_special, format, value),
    }
}

pub const BODY_MAX_BYTES: usize = 20 * 1024;
/// "frequency limited".
const THROTTLED: i64 = 11_232;

/// Feishu's 签名校验: base64(HMAC-SHA256(key = "<s>\n<secret>", message = empty)). Note
/// the key/message order is the reverse of DingTalk's.
pub fn sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    BASE64.encode(hmac_sha256(key.as_bytes(), b""))
}

/// The bytes the mention markup this module puts before a line adds.
pub(crate) fn mention_bytes(format: MessageFormat, recipient: &Recipient) -> usize {
    match format {
        MessageFormat::Text => mention(&recipient.feishu_open_id)
            .map_or(0, |id| id.len() + recipient.name.len() * 3 + 24),
        MessageFormat::Markdown => mention(&recipient.feishu_open_id).map_or(0, |id| id.len() + 14),
    }
}

/// `url` is checked and `secret` trimmed by [`FeishuRobot::from_webhook`].
pub fn build(
    url: &str,
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> Result<RobotRequest, RobotError> {
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
                            escape(MessageFormat::Text, &entry.recipient.name),
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
        object.insert("sign".into(), Value::String(sign(secret, timestamp)));
    }
    let body = body.to_string();
    check_size("飞书消息", BODY_MAX_BYTES, body.len())?;
    Ok(RobotRequest::json(url.to_owned(), body))
}

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "code", "msg", hint)
        .or_else(|| read_reply(&value, "StatusCode", "StatusMessage", hint))
}

fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED => Some(HINT_RATE),
        19_021 => Some(HINT_SIGN),
        19_022 => Some(HINT_IP),
        19_024 => Some(HINT_KEYWORD),
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
    use crate::domain::robot::test_support::build_request;
    use crate::domain::robot::test_support::{
        FEISHU_URL, anonymous, body, build, merged, message, now,
    };

    #[test]
    fn signature_matches_the_worked_example() {
        assert_eq!(
            sign("feishusecret123", 1_700_000_000),
            "To2RmN/gLfFxG0j7+cowzi8UA3Et/vBBTaUqxI8afUU="
        );
    }

    #[test]
    fn feishu_text_signs_in_the_body_and_mentions_the_open_id() {
        let request = build(
            KIND,
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
            KIND,
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
            KIND,
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
            KIND,
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
                limit: BODY_MAX_BYTES,
                ..
            }
        ));
        assert!(error.to_string().contains("20480 字节"));
    }

    #[test]
    fn the_feishu_mention_name_is_escaped() {
        let mut message = message();
        message.entries[0].recipient.name = "</at><at user_id=\"all\">".into();
        let request = build(
            KIND,
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

    #[test]
    fn a_merged_feishu_message_has_one_at_element_per_person() {
        let request = build(
            KIND,
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
}
