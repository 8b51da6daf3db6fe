//! PushPlus (推送加): `POST {base}/send` with `{token,title,content,template}`. The answer is
//! HTTP 200 with a `code`: 200 means the message was accepted (it is delivered
//! asynchronously). Codes from its "接口返回码说明": 302 未登录, 401 请求未授权, 403 请求IP未授权,
//! 500 系统异常，请稍后再试, 600 数据异常, 805 无权查看, 888 积分不足, 900 用户账号使用受限（请求次数
//! 过多）, 903 无效的用户令牌, 905 账户未进行实名认证, 999 服务端验证错误.
//!
//! Template: `markdown`, not `txt`. The message opens in PushPlus's page; with `txt` the
//! one-click links would be bare text there, with Markdown they are links.

use serde_json::{Value, json};

use super::address::{
    ALNUM_CHARSET, AddressError, Parts, alnum,
    mask_secret, token,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext};
use crate::domain::robot::{MessageFormat, OutgoingMessage, RobotError, escape_with, markdown_special};

use super::address::ServiceBases;
use super::{
    HttpRequest, Notice, Verdict, http_failure, int_field, is_success_status, join, json_request,
    one_line, str_field, truncate_chars, unrecognised,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "pushplus",
    label: "PushPlus 推送加",
    schemes: &["pushplus"],
    form: "令牌",
    hosts: &[],
    url_forms: &["pushplus://token"],
    // PushPlus documents only a daily ceiling (about 200 requests, then code 900 and a ban
    // of days): a quota; its "1 per second" folklore is not in its documentation.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// A PushPlus user token.
#[derive(Clone, PartialEq, Eq)]
pub struct PushPlusToken {
    pub token: String,
}

impl Channel for PushPlusToken {
    /// `pushplus://token`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        parts.no_port()?;
        parts.no_query_or_fragment()?;
        parts.no_path()?;
        if parts.host.is_empty() {
            return Err(parts.error("缺少令牌"));
        }
        Ok(Self {
            token: token(parts.host, "PushPlus 令牌", 64, alnum, ALNUM_CHARSET)?,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        format!("pushplus://{}", mask_secret(&self.token))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.token]
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(build(
            &self.token,
            &Notice::of(message),
            context.bases,
        )))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    /// PushPlus renders the message with its Markdown template.
    fn escape(&self, _format: MessageFormat, value: &str) -> String {
        escape_with(markdown_special, MessageFormat::Markdown, value)
    }
}

const SERVICE: &str = "PushPlus";
pub const TEMPLATE: &str = "markdown";
pub const MAX_TITLE_CHARS: usize = 100;

pub fn build(token: &str, notice: &Notice, bases: &ServiceBases) -> HttpRequest {
    let body = json!({
        "token": token,
        "title": truncate_chars(one_line(&notice.title).trim(), MAX_TITLE_CHARS),
        "content": notice.markdown(),
        "template": TEMPLATE,
    });
    json_request(join(&bases.pushplus, "send"), &body)
}

fn hint(code: i64) -> Option<&'static str> {
    Some(match code {
        401 | 903 => "令牌无效：请在 PushPlus 官网重新复制令牌",
        403 => "服务器 IP 不在 PushPlus 开放接口的白名单里",
        888 => "PushPlus 积分不足",
        // PushPlus asks callers to stop for the day: more requests extend the ban.
        900 => "PushPlus 账号因请求过多被限制，今天不再重试",
        905 => "PushPlus 账号未实名认证，认证后才能发送",
        _ => return None,
    })
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let reply = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        Some((
            int_field(&value, "code")?,
            str_field(&value, "msg").to_owned(),
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
    let text = format!("{SERVICE}：code {code}：{message}");
    match code {
        200 => Verdict::Sent,
        500 => Verdict::RetryLater(format!("{text}；稍后重试")),
        _ => match hint(code) {
            Some(hint) => Verdict::Permanent(format!("{text}；{hint}")),
            None => Verdict::Permanent(text),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::notice;
    use super::*;

    #[test]
    fn send_carries_token_title_markdown_content_and_template() {
        let token = "0123456789abcdef0123456789abcdef";
        let request = build(token, &notice(), &ServiceBases::default());
        assert_eq!(request.url, "https://www.pushplus.plus/send");
        assert_eq!(
            request.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "token": token,
                "title": "上班打卡提醒",
                "content": "早班 09:00 上班，记得打卡。\n\n[我已打卡](https://kq.example.com/a/done?t=abc)\n\n[今天不用提醒](https://kq.example.com/a/skip?t=abc)",
                "template": "markdown",
            })
        );
        assert!(!format!("{request:?}").contains(token));
    }

    #[test]
    fn the_base_can_be_overridden() {
        let bases = ServiceBases::with_overrides(None, Some("http://127.0.0.1:9001/"), None);
        assert_eq!(
            build("t", &notice(), &bases).url,
            "http://127.0.0.1:9001/send"
        );
    }

    #[test]
    fn code_200_is_accepted() {
        assert_eq!(
            classify(
                200,
                r#"{"code":200,"msg":"请求成功","data":"6e9b8f0a2c1d4e","count":null}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn a_system_error_retries() {
        assert_eq!(
            classify(
                200,
                r#"{"code":500,"msg":"系统异常，请稍后再试","data":null}"#
            ),
            Verdict::RetryLater("PushPlus：code 500：系统异常，请稍后再试；稍后重试".to_owned())
        );
        assert!(matches!(classify(503, ""), Verdict::RetryLater(_)));
        assert!(matches!(classify(429, ""), Verdict::RetryLater(_)));
    }

    #[test]
    fn token_account_and_quota_errors_are_permanent() {
        assert_eq!(
            classify(200, r#"{"code":903,"msg":"无效的用户令牌","data":null}"#),
            Verdict::Permanent(
                "PushPlus：code 903：无效的用户令牌；令牌无效：请在 PushPlus 官网重新复制令牌"
                    .to_owned()
            )
        );
        assert!(matches!(
            classify(200, r#"{"code":900,"msg":"用户账号使用受限","data":null}"#),
            Verdict::Permanent(text) if text.ends_with("今天不再重试")
        ));
        assert!(matches!(
            classify(200, r#"{"code":905,"msg":"账户未进行实名认证","data":null}"#),
            Verdict::Permanent(text) if text.contains("实名")
        ));
        assert!(matches!(
            classify(200, r#"{"code":999,"msg":"title长度不能超过100","data":null}"#),
            Verdict::Permanent(text) if text == "PushPlus：code 999：title长度不能超过100"
        ));
        assert!(
            matches!(classify(400, "{}"), Verdict::Permanent(text) if text == "PushPlus：HTTP 400，{}")
        );
    }

    #[test]
    fn garbage_is_permanent() {
        assert!(
            matches!(classify(200, "ok"), Verdict::Permanent(text) if text == "PushPlus返回了无法识别的应答：ok")
        );
    }
}
