//! Feishu / Lark custom bot (自定义机器人): `POST …/open-apis/bot/v2/hook/<id>`. Text
//! mentions are `<at user_id="ou_…">name</at>` in the text; markdown goes in an interactive
//! card. Signing puts `timestamp` (s) and `sign` in the body. Answers carry `code`/`msg`
//! (old bots `StatusCode`/`StatusMessage`); 11232 means too fast; bodies are at most 20 KB.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::domain::robot::{
    HINT_IP, HINT_KEYWORD, HINT_RATE, HINT_SIGN, MessageFormat, OutgoingMessage, Platform,
    Recipient, Reply, RobotError, RobotRequest, RobotVerdict, check_size, classify_reply, escape,
    hmac_sha256, mention, read_reply, with_links,
};

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

/// `url` is checked and `secret` trimmed by [`crate::domain::robot::build_request`].
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

pub fn classify(http_status: u16, body: &str) -> RobotVerdict {
    classify_reply(http_status, body, reply(body), THROTTLED)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::robot::build_request;
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
}
