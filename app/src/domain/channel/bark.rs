//! Bark (iOS): `POST {base}/push` with a JSON body. Answers are `{"code":200,"message":
//! "success","timestamp":…}`; bark-server answers HTTP 400 `failed to get device token`
//! for an unknown key and HTTP 500 `push failed: …` when APNs refuses (its route_push.go).

use serde_json::{Value, json};

use super::address::{
    AddressError, KEY_CHARSET, Parts, app_form, key_char, mask_secret, path_prefix, token,
};
use super::{
    Channel, ChannelKind, HttpRequest, KindInfo, MINUTE, Notice, Outgoing, SendContext, Verdict,
    excerpt, http_failure, int_field, is_success_status, join, json_request, str_field,
    unrecognised,
};
use crate::domain::robot::{OutgoingMessage, RobotError};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "bark",
    label: "Bark",
    schemes: &["bark", "barks"],
    form: "主机/设备密钥",
    hosts: &["api.day.app"],
    url_forms: &[
        "https://api.day.app/device_key",
        "barks://host/device_key",
        "bark://host:8080/path/device_key",
    ],
    // api.day.app and bark-server document no rate limit.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// One iPhone's Bark key on a Bark server.
#[derive(Clone, PartialEq, Eq)]
pub struct BarkDevice {
    /// `https://host[:port][/path]`, no trailing slash.
    pub base: String,
    pub device_key: String,
}

fn device_key(key: &str) -> Result<String, AddressError> {
    token(key, "Bark 设备密钥", 128, key_char, KEY_CHARSET)
}

impl Channel for BarkDevice {
    /// `bark://host[:port][/path]/device_key`, `barks://` for https.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_query_or_fragment()?;
        let segments = parts.segments();
        let Some((key, prefix)) = segments.split_last() else {
            return Err(parts.error("缺少设备密钥"));
        };
        let base = format!(
            "{}{}",
            parts.origin(parts.scheme == "barks")?,
            path_prefix(prefix)?
        );
        Ok(Self {
            base,
            device_key: device_key(key)?,
        })
    }

    /// The Bark app shares `https://api.day.app/KEY/推送内容`: the key is the first segment,
    /// the rest is a sample message.
    fn parse_web(_raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        if !KIND.owns_host(host) {
            return None;
        }
        let segments = parts.segments();
        let Some(key) = segments.first() else {
            return Some(Err(AddressError::new(
                "Bark 地址缺少设备密钥（https://api.day.app/设备密钥）",
            )));
        };
        Some((|| {
            Ok(Self {
                base: parts.origin(parts.scheme == "https")?,
                device_key: device_key(key)?,
            })
        })())
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        format!(
            "{}/{}",
            app_form(&self.base, "bark"),
            mask_secret(&self.device_key)
        )
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.device_key]
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.base)
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        _context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(build(
            &self.base,
            &self.device_key,
            &Notice::of(message),
        )))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }
}

const SERVICE: &str = "Bark";
/// Notifications are grouped under this name in Bark's history.
pub const GROUP: &str = "打卡提醒";

/// `timeSensitive` breaks through Focus modes without ringing through silence (`critical`).
/// The first link opens on tap; all links are also listed in the body.
pub fn build(base: &str, device_key: &str, notice: &Notice) -> HttpRequest {
    let mut body = json!({
        "device_key": device_key,
        "title": notice.title,
        "body": notice.text_with_links(&notice.links),
        "level": "timeSensitive",
        "group": GROUP,
    });
    if let Some(first) = notice.links.first() {
        body["url"] = Value::String(first.url.clone());
    }
    json_request(join(base, "push"), &body)
}

/// APNs reasons that mean the device key is dead, not that APNs is busy.
const DEAD_DEVICE: [&str; 3] = ["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"];

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let reply: Option<(i64, String)> = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        Some((
            int_field(&value, "code")?,
            str_field(&value, "message").to_owned(),
        ))
    });
    let detail = reply
        .as_ref()
        .map(|(code, message)| format!("code {code}：{message}"));
    let dead = reply
        .as_ref()
        .is_some_and(|(_, message)| DEAD_DEVICE.iter().any(|reason| message.contains(reason)));
    if dead {
        return Verdict::Permanent(format!(
            "{SERVICE}：HTTP {http_status}，{}；设备已失效，请在 Bark App 里重新复制推送地址",
            detail.unwrap_or_default()
        ));
    }
    if !is_success_status(http_status) {
        let verdict = http_failure(SERVICE, http_status, body, detail);
        return match verdict {
            Verdict::Permanent(text)
                if reply
                    .as_ref()
                    .is_some_and(|(_, message)| message.contains("device")) =>
            {
                Verdict::Permanent(format!(
                    "{text}；设备密钥无效，请在 Bark App 里重新复制推送地址"
                ))
            }
            other => other,
        };
    }
    match reply {
        Some((200, _)) => Verdict::Sent,
        Some((code, message)) => Verdict::Permanent(format!(
            "{SERVICE}：code {code}：{}",
            if message.is_empty() {
                excerpt(body)
            } else {
                message
            }
        )),
        None => unrecognised(SERVICE, body),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{bare_notice, notice};
    use super::*;

    fn body_json(request: &HttpRequest) -> Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn push_carries_key_text_level_group_and_the_first_link() {
        let request = build("https://api.day.app", "DeviceKey0123456789", &notice());
        assert_eq!(request.url, "https://api.day.app/push");
        assert_eq!(
            request.headers,
            [(
                "Content-Type".to_owned(),
                "application/json; charset=utf-8".to_owned()
            )]
        );
        assert_eq!(
            body_json(&request),
            json!({
                "device_key": "DeviceKey0123456789",
                "title": "上班打卡提醒",
                "body": "早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc",
                "level": "timeSensitive",
                "group": "打卡提醒",
                "url": "https://kq.example.com/a/done?t=abc",
            })
        );
    }

    #[test]
    fn a_notice_without_links_has_no_url_and_self_hosted_paths_are_kept() {
        let request = build("http://10.0.0.2:8080/bark/", "k", &bare_notice());
        assert_eq!(request.url, "http://10.0.0.2:8080/bark/push");
        assert_eq!(
            body_json(&request),
            json!({
                "device_key": "k",
                "title": "Clock in",
                "body": "Shift starts at 09:00",
                "level": "timeSensitive",
                "group": "打卡提醒",
            })
        );
    }

    #[test]
    fn code_200_is_sent() {
        assert_eq!(
            classify(
                200,
                r#"{"code":200,"message":"success","timestamp":1700000000}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn an_unknown_device_key_is_permanent_with_bark_s_message() {
        let verdict = classify(
            400,
            r#"{"code":400,"message":"failed to get device token: failed to get [abc] device token from database","timestamp":1}"#,
        );
        let Verdict::Permanent(text) = verdict else {
            panic!("{verdict:?}")
        };
        assert!(
            text.starts_with("Bark：HTTP 400，code 400：failed to get device token"),
            "{text}"
        );
        assert!(
            text.ends_with("设备密钥无效，请在 Bark App 里重新复制推送地址"),
            "{text}"
        );
    }

    #[test]
    fn apns_refusing_a_dead_device_is_permanent_but_other_push_failures_retry() {
        assert!(matches!(
            classify(500, r#"{"code":500,"message":"push failed: BadDeviceToken","timestamp":1}"#),
            Verdict::Permanent(text) if text.contains("设备已失效") && text.contains("BadDeviceToken")
        ));
        assert!(matches!(
            classify(500, r#"{"code":500,"message":"push failed: context deadline exceeded","timestamp":1}"#),
            Verdict::RetryLater(text) if text.contains("push failed: context deadline exceeded") && text.contains("稍后重试")
        ));
    }

    #[test]
    fn rate_limits_and_gateway_errors_retry() {
        assert!(
            matches!(classify(429, ""), Verdict::RetryLater(text) if text.contains("HTTP 429") && text.contains("发送太频繁"))
        );
        assert!(
            matches!(classify(502, "<html>Bad Gateway</html>"), Verdict::RetryLater(text) if text.contains("<html>Bad Gateway</html>"))
        );
    }

    #[test]
    fn other_client_errors_and_garbage_are_permanent() {
        assert!(
            matches!(classify(401, "Unauthorized"), Verdict::Permanent(text) if text == "Bark：HTTP 401，Unauthorized")
        );
        assert!(
            matches!(classify(200, "<html>login</html>"), Verdict::Permanent(text) if text.contains("无法识别的应答：<html>login</html>"))
        );
        assert!(
            matches!(classify(200, r#"{"code":400,"message":"device key is empty"}"#), Verdict::Permanent(text) if text == "Bark：code 400：device key is empty")
        );
        let long = "x".repeat(500);
        let Verdict::Permanent(text) = classify(200, &long) else {
            panic!()
        };
        assert!(text.chars().count() < 240, "{text}");
    }
}
