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
    AddressError, IgnoredParam, KEY_CHARSET, Params, Parts, decode, dedup, key_char,
    mask_secret, shorten, token,
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
    // `wecom://token` is Apprise's PushPlus through its WeCom channel (`channel=cp`).
    schemes: &["pushplus", "wecom"],
    form: "令牌",
    hosts: &["www.pushplus.plus", "pushplus.plus"],
    url_forms: &[
        "pushplus://0123456789abcdef0123456789abcdef",
        "pushplus://0123456789abcdef0123456789abcdef/group_code",
        "pushplus://0123456789abcdef0123456789abcdef/@friend_token?channel=mail",
        "https://www.pushplus.plus/send?token=0123456789abcdef0123456789abcdef",
    ],
    // PushPlus documents only a daily ceiling (about 200 requests, then code 900 and a ban
    // of days): a quota; its "1 per second" folklore is not in its documentation.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// A PushPlus user token, with whom it reaches and how.
#[derive(Clone, PartialEq, Eq)]
pub struct PushPlusToken {
    pub token: String,
    /// Groups' codes (群组编码): everyone who follows each group; one request per group.
    pub topics: Vec<String>,
    /// Friends' tokens (好友令牌), at most ten in one message.
    pub friends: Vec<String>,
    /// `wechat` (default), `mail`, `sms`, `cp`, … (several separated by `,`).
    pub channel: Option<String>,
    /// The channel's configuration code (a webhook's or a WeCom robot's 编码).
    pub option: Option<String>,
    pub ignored: Vec<IgnoredParam>,
}

/// PushPlus's channels (its `channel` field); Apprise's `wecom` is `cp`.
const CHANNELS: &[&str] = &[
    "wechat", "webhook", "cp", "mail", "sms", "app", "extension", "clawbot", "cmcc", "qq", "voice",
];

/// Apprise's `template` values; a reminder always uses Markdown, which makes its links links.
const TEMPLATES: &[&str] = &["html", "txt", "json", "cloudMonitor", "jenkins", "route", "pay"];

/// PushPlus's `to` takes at most ten friends.
pub const MAX_FRIENDS: usize = 10;
/// Groups one address may fan out to, a request each.
pub const MAX_GROUPS: usize = 5;

fn pushplus_token(value: &str) -> Result<String, AddressError> {
    let token = token(value, "PushPlus 令牌", 64, key_char, KEY_CHARSET)?;
    if token.len() < 32 {
        return Err(AddressError::new("PushPlus 令牌应有 32 到 64 个字符"));
    }
    Ok(token)
}

fn code(value: &str) -> bool {
    (1..=50).contains(&value.len()) && value.chars().all(key_char)
}

impl PushPlusToken {
    pub fn new(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            topics: Vec::new(),
            friends: Vec::new(),
            channel: None,
            option: None,
            ignored: Vec::new(),
        }
    }

    /// The token from where it was written, then the targets (path and `?to=`/`?topic=`:
    /// `@friend`, `#group` or a bare group code) and the parameters.
    fn read(
        token: &str,
        targets: Vec<String>,
        webhook: Option<String>,
        mut params: Params,
        wecom: bool,
    ) -> Result<Self, AddressError> {
        let token = match params.take(&["token"]) {
            Some(given) => given.value,
            None => token.to_owned(),
        };
        if token.is_empty() {
            return Err(AddressError::new("PushPlus 地址缺少令牌（pushplus://令牌）"));
        }
        let mut address = Self::new(&pushplus_token(&token)?);
        let mut topics = Vec::new();
        let mut targets = targets;
        targets.extend(params.take_items(&["to", "topic"]));
        for target in targets {
            if let Some(friend) = target.strip_prefix('@') {
                if code(friend) {
                    address.friends.push(friend.to_owned());
                    continue;
                }
            } else if code(target.trim_start_matches('#')) {
                topics.push(target.trim_start_matches('#').to_owned());
                continue;
            }
            params.drop_value("to", &target, "不是群组编码或 @好友令牌，已忽略");
        }
        let topics = dedup(topics);
        address.friends = dedup(std::mem::take(&mut address.friends));
        if topics.len() > MAX_GROUPS {
            return Err(AddressError::new(format!(
                "PushPlus 地址最多 {MAX_GROUPS} 个群组，这里有 {} 个",
                topics.len()
            )));
        }
        if address.friends.len() > MAX_FRIENDS {
            return Err(AddressError::new(format!(
                "PushPlus 一条消息最多发给 {MAX_FRIENDS} 个好友，这里有 {} 个",
                address.friends.len()
            )));
        }
        address.topics = topics;
        let channel = params.take(&["channel", "mode"]);
        if let Some(channel) = channel {
            let mut names = Vec::new();
            for item in super::address::list_items(&channel.value) {
                let item = item.to_ascii_lowercase();
                let item = if item == "wecom" { "cp".to_owned() } else { item };
                if !CHANNELS.contains(&item.as_str()) {
                    return Err(channel.invalid(
                        "应为 wechat、webhook、cp、mail、sms、app、extension、clawbot、cmcc、qq 或 voice",
                    ));
                }
                names.push(item);
            }
            address.channel = Some(dedup(names).join(","));
        } else if wecom {
            address.channel = Some("cp".to_owned());
        }
        let option = match params.take(&["option", "name", "webhook"]) {
            Some(option) => Some(option.text(64)?),
            None => webhook,
        };
        address.option = option;
        if let Some(template) = params.take(&["template"]) {
            if !TEMPLATES.iter().any(|known| known.eq_ignore_ascii_case(&template.value)) {
                return Err(template.invalid(
                    "应为 Apprise 的 json、cloudMonitor、jenkins、route 或 pay（提醒总用 markdown 模板）",
                ));
            }
            params.note("template", "提醒总用 markdown 模板，链接才能点开");
        }
        params.ignore(&["callback", "callbackurl"], "送达结果由发送时的应答判断，不需要回调");
        address.ignored = params.finish()?;
        Ok(address)
    }
}

impl Channel for PushPlusToken {
    /// `pushplus://[webhook@]token[/group | /@friend…][?params]`, the token also as
    /// `?token=`; `wecom://token` sends through PushPlus's WeCom channel.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_port()?;
        if parts.fragment.is_some() {
            return Err(parts.error("不能包含 #"));
        }
        let webhook = match parts.userinfo {
            Some(name) if code(name) => Some(name.to_owned()),
            Some(name) => {
                return Err(AddressError::new(format!(
                    "PushPlus 渠道编码“{}”无效：只能包含{KEY_CHARSET}",
                    shorten(name, 32)
                )));
            }
            None => None,
        };
        let targets = parts
            .segments()
            .iter()
            .map(|segment| decode(segment, "PushPlus 接收人"))
            .collect::<Result<_, _>>()?;
        Self::read(
            parts.host,
            targets,
            webhook,
            Params::of(parts)?,
            parts.scheme == "wecom",
        )
    }

    /// `https://www.pushplus.plus/send?token=…`, `/send/{token}`, `/batchSend?token=…`.
    fn parse_web(_raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        if !KIND.owns_host(host) {
            return None;
        }
        Some((|| {
            let segments = parts.segments();
            let token = match segments.as_slice() {
                ["send" | "batchSend", token] => *token,
                ["send" | "batchSend"] => "",
                _ => {
                    return Err(AddressError::new(
                        "PushPlus 地址应为 https://www.pushplus.plus/send?token=令牌",
                    ));
                }
            };
            Self::read(token, Vec::new(), None, Params::of(parts)?, false)
        })())
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let mut shown = format!("pushplus://{}", mask_secret(&self.token));
        for topic in &self.topics {
            shown.push_str(&format!("/{topic}"));
        }
        for friend in &self.friends {
            shown.push_str(&format!("/@{}", mask_secret(friend)));
        }
        let mut params = Vec::new();
        if let Some(channel) = &self.channel {
            params.push(format!("channel={channel}"));
        }
        if let Some(option) = &self.option {
            params.push(format!("option={option}"));
        }
        if !params.is_empty() {
            shown.push_str(&format!("?{}", params.join("&")));
        }
        shown
    }

    fn secrets(&self) -> Vec<&str> {
        let mut found = vec![self.token.as_str()];
        found.extend(self.friends.iter().map(String::as_str));
        found
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let notice = Notice::of(message);
        let mut requests: Vec<(String, HttpRequest)> = self
            .topics
            .iter()
            .map(|topic| {
                (
                    format!("群组 {topic}"),
                    build(self, Some(topic), false, &notice, context.bases),
                )
            })
            .collect();
        if !self.friends.is_empty() || self.topics.is_empty() {
            let label = if self.friends.is_empty() { "本人" } else { "好友" };
            requests.push((
                label.to_owned(),
                build(self, None, true, &notice, context.bases),
            ));
        }
        Ok(match requests.len() {
            1 => Outgoing::Http(requests.remove(0).1),
            _ => Outgoing::Fanout(requests),
        })
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

/// One request: to a group (`topic`), or to the token's owner and its friends.
pub fn build(
    address: &PushPlusToken,
    topic: Option<&str>,
    friends: bool,
    notice: &Notice,
    bases: &ServiceBases,
) -> HttpRequest {
    let mut body = json!({
        "token": address.token,
        "title": truncate_chars(one_line(&notice.title).trim(), MAX_TITLE_CHARS),
        "content": notice.markdown(),
        "template": TEMPLATE,
    });
    if let Some(topic) = topic {
        body["topic"] = json!(topic);
    }
    if friends && !address.friends.is_empty() {
        body["to"] = json!(address.friends.join(","));
    }
    if let Some(channel) = &address.channel {
        body["channel"] = json!(channel);
    }
    if let Some(option) = &address.option {
        body["option"] = json!(option);
        if address.channel.as_deref() == Some("webhook") {
            body["webhook"] = json!(option);
        }
    }
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
        let request = build(&PushPlusToken::new(token), None, true, &notice(), &ServiceBases::default());
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
            build(&PushPlusToken::new("t"), None, true, &notice(), &bases).url,
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
