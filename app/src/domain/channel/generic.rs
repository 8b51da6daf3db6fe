//! The generic JSON webhook: one person per message, the message's fields merged with its
//! context, `Idempotency-Key`, and with a secret `X-Signature: sha256=<hex HMAC-SHA256 of
//! the exact body>` plus `X-Timestamp`. Any 2xx is accepted; the answer's body is not read.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::address::{AddressError, Parts, mask_web_url, web_secrets};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext, Verdict};
use crate::domain::robot::{
    MessageFormat, OutgoingMessage, Recipient, RobotError, RobotRequest, hmac_sha256,
    http_failure, is_success_status, line_break, present, signing_secret, webhook_url,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "generic",
    label: "通用 Webhook",
    schemes: &[],
    form: "主机/路径",
    hosts: &[],
    url_forms: &["https://host/path", "http://host:8080/path?name=value"],
    // The receiver is ours or the admin's: no documented limit to keep.
    rate_limits: &[],
    group: true,
    throttle_ban: MINUTE,
    binding: None,
});

/// Any other http(s) URL: the generic JSON webhook, one person per message.
#[derive(Clone, PartialEq, Eq)]
pub struct GenericWebhook {
    pub url: String,
    pub secret: Option<String>,
}

impl Channel for GenericWebhook {
    /// Reached only through `https://` (the fallback of every web URL).
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        Err(parts.error("格式不对"))
    }

    fn from_webhook(url: &str, secret: Option<&str>) -> Option<Self> {
        Some(Self {
            url: webhook_url(url)?,
            secret: signing_secret(secret),
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        mask_web_url(&self.url)
    }

    fn secrets(&self) -> Vec<&str> {
        let mut found = web_secrets(&self.url);
        found.extend(self.secret.as_deref());
        found
    }

    fn webhook(&self) -> Option<(&str, Option<&str>)> {
        Some((&self.url, self.secret.as_deref()))
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let request = build(
            &self.url,
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
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `url` is checked and `secret` trimmed by [`GenericWebhook::from_webhook`].
pub fn build(
    url: &str,
    secret: Option<&str>,
    format: MessageFormat,
    message: &OutgoingMessage,
    now: DateTime<Utc>,
) -> RobotRequest {
    let body = payload(format, message);
    let mut request = RobotRequest::json(url.to_owned(), body);
    request.headers.push((
        "Idempotency-Key".to_owned(),
        message.idempotency_key.clone(),
    ));
    if let Some(secret) = secret {
        let signature = hex(&hmac_sha256(secret.as_bytes(), request.body.as_bytes()));
        request
            .headers
            .push(("X-Signature".to_owned(), format!("sha256={signature}")));
        request
            .headers
            .push(("X-Timestamp".to_owned(), now.timestamp().to_string()));
    }
    request
}

fn payload(format: MessageFormat, message: &OutgoingMessage) -> String {
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

pub fn classify(http_status: u16, body: &str) -> Verdict {
    if is_success_status(http_status) {
        Verdict::Sent
    } else {
        http_failure(http_status, body, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::robot::test_support::{anonymous, body, build, message};

    #[test]
    fn generic_body_merges_context_and_signs_the_exact_body() {
        let mut message = message();
        message.context =
            json!({ "kind": "clock_in", "date": "2026-03-02", "user_id": 7, "key": "overridden?" });
        let url = "https://example.com/hooks/attendance";
        let request = build(
            KIND,
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
            KIND,
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
}
