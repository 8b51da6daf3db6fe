//! WeCom (企业微信) group robot: `POST …/cgi-bin/webhook/send?key=…`, no signing (the key
//! is the secret). Text messages mention through `mentioned_list`/`mentioned_mobile_list`
//! (content ≤ 2048 bytes); markdown through `<@userid>` in the text (≤ 4096 bytes). Answers
//! carry `errcode`/`errmsg`; 45009 means too fast.

use serde_json::{Value, json};

use super::address::{
    AddressError, KEY_CHARSET, Parts, key_char, mask_web_url, robot_token, token, web_secrets,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext, Verdict, per_minute};
use crate::domain::robot::{
    HINT_RATE, MergeLimits, MessageFormat, OutgoingMessage, Recipient, Reply, RobotError,
    RobotRequest, check_size, classify_reply, escape_markdown, mention, mention_mobile,
    read_reply, webhook_url, with_links,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "wecom",
    label: "企业微信群机器人",
    schemes: &["wecombot"],
    form: "key",
    hosts: &["qyapi.weixin.qq.com"],
    url_forms: &[
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key",
        "wecombot://key",
    ],
    // 20 messages a minute per robot (docs/protocols.md).
    rate_limits: &[per_minute(20)],
    group: true,
    throttle_ban: MINUTE,
    binding: None,
});

const SEND: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=";

/// A WeCom group robot; its key is in the webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct WeComRobot {
    pub webhook: String,
}

impl Channel for WeComRobot {
    /// `wecombot://key`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_port()?;
        parts.no_path()?;
        let (key, params) = robot_token(parts, &["key"])?;
        params.finish()?;
        if key.is_empty() {
            return Err(parts.error("缺少 key"));
        }
        let key = token(
            &key,
            "企业微信机器人 key ",
            128,
            key_char,
            KEY_CHARSET,
        )?;
        Ok(Self {
            webhook: format!("{SEND}{key}"),
        })
    }

    /// WeCom's host, or any host with the robot path (a local mock or relay).
    fn parse_web(raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        let path = parts.path.trim_end_matches('/');
        if !KIND.owns_host(host) && !path.ends_with("/cgi-bin/webhook/send") {
            return None;
        }
        if super::address::query_value(parts.query, "key").is_none() {
            return Some(Err(AddressError::new(
                "企业微信机器人地址缺少 key（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）",
            )));
        }
        Some(Ok(Self {
            webhook: raw.to_owned(),
        }))
    }

    /// The key is in the URL: there is no secret to sign with.
    fn from_webhook(url: &str, _secret: Option<&str>) -> Option<Self> {
        Some(Self {
            webhook: webhook_url(url)?,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        mask_web_url(&self.webhook)
    }

    fn secrets(&self) -> Vec<&str> {
        web_secrets(&self.webhook)
    }

    fn webhook(&self) -> Option<(&str, Option<&str>)> {
        Some((&self.webhook, None))
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(
            build(&self.webhook, context.format, message)?.into(),
        ))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn escape(&self, format: MessageFormat, value: &str) -> String {
        escape_markdown(format, value)
    }

    fn merge_limits(&self, format: MessageFormat) -> MergeLimits {
        MergeLimits {
            max_people: 20,
            max_text_bytes: match format {
                MessageFormat::Text => TEXT_MAX_BYTES,
                MessageFormat::Markdown => MARKDOWN_MAX_BYTES,
            },
        }
    }

    fn mention_bytes(&self, format: MessageFormat, recipient: &Recipient) -> usize {
        mention_bytes(format, recipient)
    }
}

pub const TEXT_MAX_BYTES: usize = 2048;
pub const MARKDOWN_MAX_BYTES: usize = 4096;
/// "api freq out of limit".
const THROTTLED: i64 = 45_009;
pub(crate) const HINT_WEBHOOK: &str = "Webhook 地址无效";

/// The bytes the mention markup this module adds to a line.
pub(crate) fn mention_bytes(format: MessageFormat, recipient: &Recipient) -> usize {
    match format {
        MessageFormat::Markdown => mention(&recipient.wecom_user_id).map_or(0, |id| id.len() + 4),
        // Text mentions go in lists outside the content.
        MessageFormat::Text => 0,
    }
}

/// `url` is checked by [`WeComRobot::from_webhook`]; there is nothing to sign.
pub fn build(
    url: &str,
    format: MessageFormat,
    message: &OutgoingMessage,
) -> Result<RobotRequest, RobotError> {
    let body = match format {
        MessageFormat::Text => {
            let alone = message.entries.len() == 1;
            let content = message
                .entries
                .iter()
                .map(|entry| with_links(entry, MessageFormat::Text, alone))
                .collect::<Vec<_>>()
                .join("\n");
            check_size("企业微信文本消息", TEXT_MAX_BYTES, content.len())?;
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
            check_size("企业微信 Markdown 消息", MARKDOWN_MAX_BYTES, content.len())?;
            json!({ "msgtype": "markdown", "markdown": { "content": content } })
        }
    };
    Ok(RobotRequest::json(url.to_owned(), body.to_string()))
}

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "errcode", "errmsg", hint)
}

fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED => Some(HINT_RATE),
        93_000 => Some(HINT_WEBHOOK),
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
    use crate::domain::robot::test_support::{WECOM_URL, body, build, merged, message, now};
    use crate::domain::robot::test_support::build_request;

    #[test]
    fn wecom_text_lists_mentions_and_ignores_the_secret() {
        let request = build(
            KIND,
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
            KIND,
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
        message.entries[0].text = "a".repeat(TEXT_MAX_BYTES);
        assert!(
            build_request(
                KIND,
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
            KIND,
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
                KIND,
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
            KIND,
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
    fn a_merged_wecom_message_lists_every_mention() {
        let request = build(
            KIND,
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
}
