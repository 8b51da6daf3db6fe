//! ServerChan (Server酱): Turbo keys post to `{base}/{sendkey}.send`, ServerChan³ keys
//! (`sctp{uid}t…`) to `https://{uid}.push.ft07.com/send/{sendkey}.send` (the official SDK,
//! easychen/serverchan-sdk), JSON `{title,desp}` with `desp` in Markdown and `title` at most
//! 32 characters. Success is `code` 0 (Turbo: `{"code":0,"message":"","data":{…,"errno":0}}`).
//! The free tier allows 5 messages a day; past that the answer (sometimes HTTP 400) is code
//! 40001 "[AUTH]超过当天的发送次数限制[5]，请稍后再试" — which no retry today will fix.

use serde_json::{Value, json};

use super::address::{
    ALNUM_CHARSET, AddressError, Parts, alnum,
    mask_secret, token,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext};
use crate::domain::robot::{MessageFormat, OutgoingMessage, RobotError, escape_with, markdown_special};

use super::address::ServiceBases;
use super::{
    HttpRequest, Notice, Verdict, excerpt, http_failure, int_field, is_success_status, join,
    json_request, one_line, says_too_frequent, str_field, truncate_chars, unrecognised,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "serverchan",
    label: "Server酱",
    schemes: &["schan"],
    form: "SendKey",
    hosts: &["sctapi.ftqq.com", ".push.ft07.com"],
    url_forms: &[
        "schan://SCTsendkey",
        "schan://sctp12345tsendkey",
        "https://sctapi.ftqq.com/SCTsendkey.send",
    ],
    // The free tier allows 5 messages a day: a quota, not a rate we can pace; the answer
    // when it is used up is classified as permanent for that day's reminder.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// A ServerChan Turbo or ServerChan³ SendKey.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerChanKey {
    /// Turbo `SCT…`, or ServerChan³ `sctp{uid}t…` (see [`serverchan3_uid`]).
    pub sendkey: String,
}

impl Channel for ServerChanKey {
    /// `schan://sendkey`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_port()?;
        parts.no_query_or_fragment()?;
        parts.no_path()?;
        if parts.host.is_empty() {
            return Err(parts.error("缺少 SendKey"));
        }
        Ok(Self {
            sendkey: sendkey(parts.host)?,
        })
    }

    /// `https://sctapi.ftqq.com/KEY.send` and ServerChan³'s `https://{uid}.push.ft07.com/send/KEY.send`.
    fn parse_web(_raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        if !KIND.owns_host(host) {
            return None;
        }
        let segments = parts.segments();
        let Some(uid) = host.strip_suffix(".push.ft07.com") else {
            let key = match segments.as_slice() {
                [file] => file.strip_suffix(".send"),
                _ => None,
            };
            let Some(key) = key else {
                return Some(Err(AddressError::new(
                    "Server酱地址应为 https://sctapi.ftqq.com/SendKey.send",
                )));
            };
            return Some(sendkey(key).map(|sendkey| Self { sendkey }));
        };
        let key = match segments.as_slice() {
            ["send", file] => file.strip_suffix(".send"),
            _ => None,
        };
        let Some(key) = key else {
            return Some(Err(AddressError::new(
                "Server酱³地址应为 https://数字.push.ft07.com/send/SendKey.send",
            )));
        };
        let sendkey = match sendkey(key) {
            Ok(sendkey) => sendkey,
            Err(error) => return Some(Err(error)),
        };
        if serverchan3_uid(&sendkey) != Some(uid) {
            return Some(Err(AddressError::new(
                "Server酱³地址的主机和 SendKey 不一致（SendKey 应为 sctp主机里的数字t…）",
            )));
        }
        Some(Ok(Self { sendkey }))
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        format!("schan://{}", mask_secret(&self.sendkey))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.sendkey]
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(build(
            &self.sendkey,
            &Notice::of(message),
            context.bases,
        )))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    /// ServerChan renders its `desp` as Markdown.
    fn escape(&self, _format: MessageFormat, value: &str) -> String {
        escape_with(markdown_special, MessageFormat::Markdown, value)
    }
}

fn sendkey(key: &str) -> Result<String, AddressError> {
    let key = token(key, "Server酱 SendKey ", 128, alnum, ALNUM_CHARSET)?;
    if key.starts_with("sctp") && serverchan3_uid(&key).is_none() {
        return Err(AddressError::new(
            "Server酱³ 的 SendKey 应为 sctp数字t…（从 sc3.ft07.com 复制完整的 SendKey）",
        ));
    }
    Ok(key)
}

/// The uid of a ServerChan³ key (`sctp{uid}t…`); `None` for Turbo keys.
pub fn serverchan3_uid(sendkey: &str) -> Option<&str> {
    let rest = sendkey.strip_prefix("sctp")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    (digits > 0 && rest[digits..].starts_with('t')).then(|| &rest[..digits])
}

const SERVICE: &str = "Server酱";
pub const MAX_TITLE_CHARS: usize = 32;

/// The URL a key posts to; see [`ServiceBases::serverchan3`] for overrides.
pub fn send_url(sendkey: &str, bases: &ServiceBases) -> String {
    let file = format!("{sendkey}.send");
    match (serverchan3_uid(sendkey), &bases.serverchan3) {
        (Some(_), Some(base)) => join(base, &format!("send/{file}")),
        (Some(uid), None) => format!("https://{uid}.push.ft07.com/send/{file}"),
        (None, _) => join(&bases.serverchan, &file),
    }
}

/// Markdown links keep "我已打卡" and "今天不用提醒" one tap away in the message page.
pub fn build(sendkey: &str, notice: &Notice, bases: &ServiceBases) -> HttpRequest {
    let body = json!({
        "title": truncate_chars(one_line(&notice.title).trim(), MAX_TITLE_CHARS),
        "desp": notice.markdown(),
    });
    json_request(send_url(sendkey, bases), &body)
}

const HINT_QUOTA: &str =
    "今天的发送额度已用完（免费版每天 5 条），明天恢复；需要更多请升级 Server酱 或换用其他推送方式";
const HINT_KEY: &str = "SendKey 无效：请在 Server酱 网站重新复制 SendKey";

fn reply(body: &str) -> Option<(i64, String)> {
    let value: Value = serde_json::from_str(body).ok()?;
    let code = int_field(&value, "code")?;
    let mut message = str_field(&value, "message").to_owned();
    if message.is_empty() {
        message = str_field(&value, "info").to_owned();
    }
    Some((code, message))
}

fn is_quota(message: &str) -> bool {
    message.contains("发送次数限制") || message.contains("超过当天")
}

fn is_bad_key(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("sendkey") || lower.contains("pushtoken") || lower.contains("[auth]")
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let reply = reply(body);
    let detail = reply
        .as_ref()
        .map(|(code, message)| format!("code {code}：{message}"));
    if reply.as_ref().is_some_and(|(_, message)| is_quota(message)) {
        return Verdict::Permanent(format!(
            "{SERVICE}：{}；{HINT_QUOTA}",
            detail.unwrap_or_default()
        ));
    }
    if !is_success_status(http_status) {
        return match http_failure(SERVICE, http_status, body, detail) {
            Verdict::Permanent(text)
                if matches!(http_status, 401 | 403)
                    || reply.as_ref().is_some_and(|(_, m)| is_bad_key(m)) =>
            {
                Verdict::Permanent(format!("{text}；{HINT_KEY}"))
            }
            verdict => verdict,
        };
    }
    let Some((code, message)) = reply else {
        return unrecognised(SERVICE, body);
    };
    let shown = if message.is_empty() {
        excerpt(body)
    } else {
        message.clone()
    };
    match code {
        0 => Verdict::Sent,
        _ if says_too_frequent(&message) => Verdict::RetryLater(format!(
            "{SERVICE}：code {code}：{shown}；发送太频繁，稍后重试"
        )),
        _ if is_bad_key(&message) => {
            Verdict::Permanent(format!("{SERVICE}：code {code}：{shown}；{HINT_KEY}"))
        }
        _ => Verdict::Permanent(format!("{SERVICE}：code {code}：{shown}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::notice;
    use super::*;

    const TURBO: &str = "SCT123456TAbCdEfGhIjKlMnOpQrStUvWxYz";
    const SC3: &str = "sctp8848tAbCdEfGhIjKlMnOpQrSt";

    #[test]
    fn turbo_keys_post_to_sctapi_and_sc3_keys_to_their_own_host() {
        let bases = ServiceBases::default();
        assert_eq!(
            send_url(TURBO, &bases),
            format!("https://sctapi.ftqq.com/{TURBO}.send")
        );
        assert_eq!(
            send_url(SC3, &bases),
            format!("https://8848.push.ft07.com/send/{SC3}.send")
        );
    }

    #[test]
    fn an_override_replaces_both_hosts_keeping_each_path() {
        let bases = ServiceBases::with_overrides(Some("http://127.0.0.1:9000/"), None, None);
        assert_eq!(
            send_url(TURBO, &bases),
            format!("http://127.0.0.1:9000/{TURBO}.send")
        );
        assert_eq!(
            send_url(SC3, &bases),
            format!("http://127.0.0.1:9000/send/{SC3}.send")
        );
    }

    #[test]
    fn body_is_a_short_title_and_markdown_with_links() {
        let mut notice = notice();
        notice.title = "提醒".repeat(20);
        let request = build(TURBO, &notice, &ServiceBases::default());
        assert_eq!(
            request.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let title = body["title"].as_str().unwrap();
        assert_eq!(title.chars().count(), 32);
        assert!(title.ends_with('…'));
        assert_eq!(
            body["desp"],
            "早班 09:00 上班，记得打卡。\n\n[我已打卡](https://kq.example.com/a/done?t=abc)\n\n[今天不用提醒](https://kq.example.com/a/skip?t=abc)"
        );
        assert_eq!(body.as_object().unwrap().len(), 2);
        assert!(!format!("{request:?}").contains(TURBO));
    }

    #[test]
    fn code_0_is_sent_for_turbo_and_sc3() {
        assert_eq!(
            classify(
                200,
                r#"{"code":0,"message":"","data":{"pushid":"11471138","readkey":"SCTd8YiLnAAV2dq","error":"SUCCESS","errno":0}}"#
            ),
            Verdict::Sent
        );
        assert_eq!(
            classify(
                200,
                r#"{"code":0,"message":"SUCCESS","errno":0,"data":{"pushid":"1"}}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn the_daily_quota_is_permanent_whatever_the_http_status() {
        let body =
            r#"{"code":40001,"message":"[AUTH]超过当天的发送次数限制[5]，请稍后再试","data":null}"#;
        for status in [200, 400] {
            assert_eq!(
                classify(status, body),
                Verdict::Permanent(format!(
                    "Server酱：code 40001：[AUTH]超过当天的发送次数限制[5]，请稍后再试；{HINT_QUOTA}"
                ))
            );
        }
    }

    #[test]
    fn a_bad_key_is_permanent_with_a_hint() {
        assert_eq!(
            classify(200, r#"{"code":40001,"message":"bad pushtoken"}"#),
            Verdict::Permanent(format!("Server酱：code 40001：bad pushtoken；{HINT_KEY}"))
        );
        assert!(matches!(
            classify(401, r#"{"code":401,"message":"unauthorized"}"#),
            Verdict::Permanent(text) if text.ends_with(HINT_KEY) && text.contains("HTTP 401")
        ));
    }

    #[test]
    fn busy_answers_and_server_errors_retry() {
        assert!(matches!(
            classify(200, r#"{"code":20001,"message":"发送太频繁"}"#),
            Verdict::RetryLater(text) if text.contains("20001") && text.contains("发送太频繁")
        ));
        assert!(matches!(classify(429, ""), Verdict::RetryLater(_)));
        assert!(
            matches!(classify(502, "bad gateway"), Verdict::RetryLater(text) if text.contains("bad gateway"))
        );
    }

    #[test]
    fn other_codes_and_garbage_are_permanent() {
        assert_eq!(
            classify(200, r#"{"code":10001,"message":"title不能为空"}"#),
            Verdict::Permanent("Server酱：code 10001：title不能为空".to_owned())
        );
        assert!(
            matches!(classify(200, "<html>"), Verdict::Permanent(text) if text.contains("无法识别"))
        );
        assert!(
            matches!(classify(404, "not found"), Verdict::Permanent(text) if text == "Server酱：HTTP 404，not found")
        );
    }
}
