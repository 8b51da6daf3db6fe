//! WxPusher: `POST {base}/api/send/message` with `{appToken,content,summary,contentType,
//! uids,topicIds,url}` (wxpusher-docs openapi.yaml). The answer is HTTP 200 with `code` 1000
//! for success (`"success":true`), 1001 for business errors (message in `msg`), and `data`
//! holding one result per receiver, each with its own `code` (1000 when queued) and
//! `status`. Limits: summary 100 characters, url 400, content 40 000.

use serde_json::{Value, json};

use super::address::{
    AddressError, IgnoredParam, KEY_CHARSET, Params, Parts, at_most, dedup, key_char,
    mask_secret, token,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext};
use crate::domain::robot::{OutgoingMessage, RobotError};

use super::address::ServiceBases;
use super::{
    HttpRequest, Notice, Verdict, excerpt, http_failure, int_field, is_success_status, join,
    json_request, one_line, says_too_frequent, str_field, truncate_chars, unrecognised,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "wxpusher",
    label: "WxPusher",
    schemes: &["wxpusher"],
    form: "AT_应用令牌/UID_用户",
    hosts: &[],
    url_forms: &[
        "wxpusher://AT_apptoken/UID_uid",
        "wxpusher://AT_apptoken/UID_a/UID_b/12345",
        "wxpusher://?token=AT_apptoken&to=UID_a,12345",
    ],
    // WxPusher's documentation says sends are not rate limited ("消息发送频率没有做限制，
    // 但是请控制在合理范围内"); a person's reminders are a few a day.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// A WxPusher app token and who receives: users (`UID_…`) and topics (numbers).
#[derive(Clone, PartialEq, Eq)]
pub struct WxPusherTarget {
    pub app_token: String,
    pub uids: Vec<String>,
    pub topic_ids: Vec<u64>,
    pub ignored: Vec<IgnoredParam>,
}

impl Channel for WxPusherTarget {
    /// `wxpusher://AT_xxx/UID_a[/UID_b…][/topic_id…]`; the token also as `?token=` (the
    /// host is then a receiver) and receivers as `?to=`, as Apprise writes them. Receivers
    /// that are neither are dropped and shown as ignored.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_port()?;
        if parts.fragment.is_some() {
            return Err(parts.error("不能包含 #"));
        }
        let mut params = Params::of(parts)?;
        let mut receivers: Vec<String> = Vec::new();
        let app_token = match params.take(&["token"]) {
            Some(given) => {
                if !parts.host.is_empty() {
                    receivers.push(parts.host.to_owned());
                }
                given.value
            }
            None => parts.host.to_owned(),
        };
        if app_token.is_empty() {
            return Err(parts.error("缺少 appToken"));
        }
        if !app_token.starts_with("AT_") {
            return Err(parts.error("的 appToken 应以 AT_ 开头"));
        }
        let app_token = token(&app_token, "WxPusher appToken ", 128, key_char, KEY_CHARSET)?;
        receivers.extend(parts.segments().iter().map(|s| s.to_string()));
        receivers.extend(params.take_items(&["to"]));
        let mut uids = Vec::new();
        let mut topic_ids = Vec::new();
        for receiver in receivers {
            if receiver.starts_with("UID_") && receiver.len() <= 64 && receiver.chars().all(key_char)
            {
                uids.push(receiver);
            } else if let Some(topic) = receiver
                .parse::<u64>()
                .ok()
                .filter(|id| *id > 0 && receiver.chars().all(|c| c.is_ascii_digit()))
            {
                if !topic_ids.contains(&topic) {
                    topic_ids.push(topic);
                }
            } else {
                params.drop_value("to", &receiver, "不是 UID_ 开头的用户或数字主题，已忽略");
            }
        }
        let uids = dedup(uids);
        if uids.is_empty() && topic_ids.is_empty() {
            return Err(parts.error("缺少接收人：用户以 UID_ 开头，主题是数字"));
        }
        at_most(uids.len() + topic_ids.len(), "接收人")?;
        Ok(Self {
            app_token,
            uids,
            topic_ids,
            ignored: params.finish()?,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let mut shown = format!("wxpusher://{}", mask_secret(&self.app_token));
        for uid in &self.uids {
            shown.push('/');
            shown.push_str(uid);
        }
        for topic in &self.topic_ids {
            shown.push_str(&format!("/{topic}"));
        }
        shown
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.app_token]
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(build(
            &self.app_token,
            &self.uids,
            &self.topic_ids,
            &Notice::of(message),
            context.bases,
        )))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }
}

const SERVICE: &str = "WxPusher";
/// Plain text: WeChat shows it as is and makes URLs tappable.
pub const CONTENT_TYPE_TEXT: u8 = 1;
pub const MAX_SUMMARY_CHARS: usize = 100;
pub const MAX_URL_CHARS: usize = 400;
const OK: i64 = 1000;

/// The title leads the content (the summary only shows on the card); the first link is
/// the card's `url`, and every link is listed in the content.
pub fn build(
    app_token: &str,
    uids: &[String],
    topic_ids: &[u64],
    notice: &Notice,
    bases: &ServiceBases,
) -> HttpRequest {
    let title = one_line(&notice.title).trim().to_owned();
    let text = notice.text_with_links(&notice.links);
    let content = match (title.is_empty(), text.is_empty()) {
        (true, _) => text,
        (false, true) => title.clone(),
        (false, false) => format!("{title}\n\n{text}"),
    };
    let mut body = json!({
        "appToken": app_token,
        "content": content,
        "summary": truncate_chars(&title, MAX_SUMMARY_CHARS),
        "contentType": CONTENT_TYPE_TEXT,
        "uids": uids,
    });
    if !topic_ids.is_empty() {
        body["topicIds"] = json!(topic_ids);
    }
    if let Some(first) = notice
        .links
        .first()
        .filter(|link| link.url.chars().count() <= MAX_URL_CHARS)
    {
        body["url"] = Value::String(first.url.clone());
    }
    json_request(join(&bases.wxpusher, "api/send/message"), &body)
}

/// Receivers WxPusher refused, as `UID_…：status`; empty when any was queued.
fn all_refused(data: Option<&Value>) -> Vec<String> {
    let Some(targets) = data.and_then(Value::as_array) else {
        return Vec::new();
    };
    let refused: Vec<String> = targets
        .iter()
        .filter(|target| int_field(target, "code") != Some(OK))
        .map(|target| {
            let who = target
                .get("uid")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| target.get("topicId").map(Value::to_string))
                .unwrap_or_default();
            format!("{who}：{}", str_field(target, "status"))
        })
        .collect();
    if !targets.is_empty() && refused.len() == targets.len() {
        refused
    } else {
        Vec::new()
    }
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let value = serde_json::from_str::<Value>(body).ok();
    let reply = value.as_ref().and_then(|value| {
        Some((
            int_field(value, "code")?,
            str_field(value, "msg").to_owned(),
        ))
    });
    let detail = reply
        .as_ref()
        .map(|(code, message)| format!("code {code}：{message}"));
    if !is_success_status(http_status) {
        return http_failure(SERVICE, http_status, body, detail);
    }
    let Some((code, message)) = reply else {
        return unrecognised(SERVICE, body);
    };
    let shown = if message.is_empty() {
        excerpt(body)
    } else {
        message.clone()
    };
    let text = format!("{SERVICE}：code {code}：{shown}");
    if code == OK {
        let refused = all_refused(value.as_ref().and_then(|value| value.get("data")));
        return if refused.is_empty() {
            Verdict::Sent
        } else {
            Verdict::Permanent(format!(
                "{SERVICE}：没有接收人收到消息（{}）；请确认用户已关注应用、UID 正确",
                refused.join("，")
            ))
        };
    }
    if says_too_frequent(&message) {
        return Verdict::RetryLater(format!("{text}；发送太频繁，稍后重试"));
    }
    if message.to_ascii_lowercase().contains("apptoken") {
        return Verdict::Permanent(format!(
            "{text}；appToken 无效：请在 WxPusher 后台重新复制 appToken"
        ));
    }
    Verdict::Permanent(text)
}

#[cfg(test)]
mod tests {
    use super::super::NoticeLink;
    use super::super::test_support::{bare_notice, notice};
    use super::*;

    const TOKEN: &str = "AT_qHT0cTQfLwYOlBV9cJj9zDSyEmspsmyM";

    #[test]
    fn message_carries_token_content_summary_type_receivers_and_url() {
        let uids = vec!["UID_a".to_owned(), "UID_b".to_owned()];
        let request = build(TOKEN, &uids, &[], &notice(), &ServiceBases::default());
        assert_eq!(
            request.url,
            "https://wxpusher.zjiecode.com/api/send/message"
        );
        assert_eq!(
            request.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "appToken": TOKEN,
                "content": "上班打卡提醒\n\n早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc",
                "summary": "上班打卡提醒",
                "contentType": 1,
                "uids": ["UID_a", "UID_b"],
                "url": "https://kq.example.com/a/done?t=abc",
            })
        );
        assert!(!format!("{request:?}").contains(TOKEN));
    }

    #[test]
    fn topics_are_sent_when_given_and_overlong_urls_are_left_out() {
        let mut notice = bare_notice();
        notice.links.push(NoticeLink {
            label: "x".to_owned(),
            url: format!("https://x.example/{}", "a".repeat(400)),
        });
        let bases = ServiceBases::with_overrides(None, None, Some("http://127.0.0.1:9002"));
        let request = build(TOKEN, &[], &[42], &notice, &bases);
        assert_eq!(request.url, "http://127.0.0.1:9002/api/send/message");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["topicIds"], json!([42]));
        assert_eq!(body["uids"], json!([]));
        assert!(body.get("url").is_none());
    }

    #[test]
    fn code_1000_with_a_queued_receiver_is_sent() {
        assert_eq!(
            classify(
                200,
                r#"{"code":1000,"msg":"处理成功","data":[{"uid":"UID_a","topicId":null,"messageId":1,"messageContentId":2,"sendRecordId":3,"code":1000,"status":"创建发送任务成功"},{"uid":"UID_b","code":1001,"status":"用户未关注"}],"success":true}"#
            ),
            Verdict::Sent
        );
        assert_eq!(
            classify(200, r#"{"code":1000,"msg":"处理成功","success":true}"#),
            Verdict::Sent
        );
    }

    #[test]
    fn every_receiver_refused_is_permanent_naming_them() {
        let verdict = classify(
            200,
            r#"{"code":1000,"msg":"处理成功","data":[{"uid":"UID_a","code":1001,"status":"用户未关注应用"}],"success":true}"#,
        );
        assert_eq!(
            verdict,
            Verdict::Permanent(
                "WxPusher：没有接收人收到消息（UID_a：用户未关注应用）；请确认用户已关注应用、UID 正确".to_owned()
            )
        );
    }

    #[test]
    fn a_wrong_app_token_is_permanent_with_a_hint() {
        assert_eq!(
            classify(200, r#"{"code":1001,"msg":"appToken不正确","data":null,"success":false}"#),
            Verdict::Permanent(
                "WxPusher：code 1001：appToken不正确；appToken 无效：请在 WxPusher 后台重新复制 appToken".to_owned()
            )
        );
        assert!(matches!(
            classify(200, r#"{"code":1001,"msg":"content长度超过限制","success":false}"#),
            Verdict::Permanent(text) if text == "WxPusher：code 1001：content长度超过限制"
        ));
    }

    #[test]
    fn too_frequent_and_server_errors_retry_and_garbage_is_permanent() {
        assert!(matches!(
            classify(200, r#"{"code":1001,"msg":"发送频率过快，请稍后再试","success":false}"#),
            Verdict::RetryLater(text) if text.contains("发送频率过快")
        ));
        assert!(matches!(classify(502, ""), Verdict::RetryLater(_)));
        assert!(matches!(classify(429, ""), Verdict::RetryLater(_)));
        assert!(
            matches!(classify(403, "forbidden"), Verdict::Permanent(text) if text == "WxPusher：HTTP 403，forbidden")
        );
        assert!(
            matches!(classify(200, "<html>"), Verdict::Permanent(text) if text.contains("无法识别"))
        );
    }
}
