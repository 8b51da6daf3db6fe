//! DingTalk work notifications (工作通知) through the company's internal app (企业内部应用):
//! each person gets the reminder privately, from the app, as DingTalk's own attendance
//! reminders arrive.
//!
//! - Token: `GET {base}/gettoken?appkey=…&appsecret=…` → `{"errcode":0,"access_token":…,
//!   "expires_in":7200}`; 40014 / 42001 on a send mean the token is no longer good.
//! - Send: `POST {base}/topapi/message/corpconversation/asyncsend_v2?access_token=…` with
//!   `agent_id`, `userid_list` and a text `msg` → `{"errcode":0,"task_id":…}`.
//! - Confirm: `POST {base}/topapi/message/corpconversation/getsendresult?access_token=…`
//!   with `agent_id` and `task_id` → `send_result` lists who was invalid, forbidden (over a
//!   daily limit) or failed.
//!
//! DingTalk silently drops the same text to the same person on the same day, and answers
//! success for sends over its limits: every text carries the time of its attempt, and the
//! result is confirmed.

use serde_json::{Value, json};

use super::address::{AddressError, Parts, decode, mask_secret, shorten};
use super::app_api;
use super::{
    AccessToken, Binding, Call, Channel, ChannelKind, KindInfo, MINUTE, Notice, Outgoing,
    SendContext, Verdict, join, json_request,
};
use crate::domain::robot::{
    HINT_IP, HINT_RATE, OutgoingMessage, Reply, RobotError, classify_reply, read_reply,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "dingtalk_app",
    label: "钉钉工作通知（企业内部应用）",
    schemes: &["dingtalk-app"],
    form: "AppKey:AppSecret@AgentId",
    hosts: &[],
    url_forms: &["dingtalk-app://AppKey:Client_Secret_of_the_app@2871234567"],
    // No per-app rate that reminders come near; the per-person daily limit (500 from one
    // app) is far above a person's reminders.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: Some(Binding::DingTalk),
});

/// "too many requests" (接口调用超过限制).
const THROTTLED: i64 = 90_018;
const TOKEN_INVALID: i64 = 40_014;
const TOKEN_EXPIRED: i64 = 42_001;
const SEND: &str = "topapi/message/corpconversation/asyncsend_v2";
const TOKEN_FIELDS: app_api::TokenFields = app_api::TokenFields {
    platform: "钉钉",
    code: "errcode",
    token: "access_token",
    expires_in: "expires_in",
};
const RESULT: &str = "topapi/message/corpconversation/getsendresult";

/// A DingTalk internal app allowed to send work notifications.
#[derive(Clone, PartialEq, Eq)]
pub struct DingTalkApp {
    pub app_key: String,
    pub app_secret: String,
    pub agent_id: u64,
}

impl std::fmt::Debug for DingTalkApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DingTalkApp({})", self.masked())
    }
}

fn agent_id(value: &str) -> Result<u64, AddressError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && value.len() <= 20 && value.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            AddressError::new(format!(
                "钉钉 AgentId“{}”无效：应为数字（开发者后台 → 应用信息 → AgentId）",
                shorten(value, 24)
            ))
        })
}

fn errcode(value: &Value) -> Option<i64> {
    value.get("errcode").and_then(Value::as_i64)
}

fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED => Some(HINT_RATE),
        TOKEN_INVALID | TOKEN_EXPIRED => Some("access_token 无效或已过期"),
        60_020 => Some(HINT_IP),
        60_011 => {
            Some("应用没有发送工作通知的权限：开发者后台 → 权限管理 → 开通“企业内消息通知”相关权限")
        }
        33_012 => Some("userid 无效：请检查个人资料里的钉钉 userid"),
        40_089 | 40_096 => Some("AppKey 或 AppSecret 不正确"),
        _ => None,
    }
}

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "errcode", "errmsg", hint)
}

impl Channel for DingTalkApp {
    /// `dingtalk-app://AppKey:AppSecret@AgentId`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_port()?;
        parts.no_query_or_fragment()?;
        parts.no_path()?;
        let Some(userinfo) = parts.userinfo else {
            return Err(parts.error("缺少 AppKey 和 AppSecret"));
        };
        let Some((key, secret)) = userinfo.split_once(':') else {
            return Err(parts.error("缺少 AppSecret"));
        };
        if parts.host.is_empty() {
            return Err(parts.error("缺少 AgentId"));
        }
        Ok(Self {
            app_key: app_api::credential(
                &decode(key, "钉钉 AppKey")?,
                1..=64,
                "钉钉 AppKey 应为 1–64 个英文字母、数字、- 或 _（开发者后台 → 应用凭证 → Client ID / AppKey）",
            )?,
            app_secret: app_api::credential(
                &decode(secret, "钉钉 AppSecret")?,
                16..=128,
                "钉钉 AppSecret 应为 16–128 个英文字母、数字、- 或 _（开发者后台 → 应用凭证 → Client Secret / AppSecret）",
            )?,
            agent_id: agent_id(parts.host)?,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    /// The AppKey and AgentId are not secret (they are shown in DingTalk's console to every
    /// developer of the company); the AppSecret is.
    fn masked(&self) -> String {
        format!(
            "dingtalk-app://{}:{}@{}",
            self.app_key,
            mask_secret(&self.app_secret),
            self.agent_id
        )
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.app_secret]
    }

    fn sign_in(&self, bases: &super::ServiceBases) -> Option<(String, Call)> {
        Some((
            format!("dingtalk_app:{}", self.app_key),
            Call::Get {
                url: join(&bases.dingtalk, "gettoken"),
                query: vec![
                    ("appkey".to_owned(), self.app_key.clone()),
                    ("appsecret".to_owned(), self.app_secret.clone()),
                ],
            },
        ))
    }

    fn read_token(&self, http_status: u16, body: &str) -> Result<AccessToken, Verdict> {
        app_api::read_token(&TOKEN_FIELDS, http_status, body, |status, body| {
            self.classify(status, body)
        })
    }

    fn token_expired(&self, _http_status: u16, body: &str) -> bool {
        app_api::code(body, "errcode").is_some_and(|code| matches!(code, TOKEN_INVALID | TOKEN_EXPIRED))
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let Some(token) = context.access_token else {
            return Err(RobotError::Refused("钉钉工作通知缺少 access_token".to_owned()));
        };
        let mut user_ids = Vec::with_capacity(message.entries.len());
        for entry in &message.entries {
            let Some(id) = Binding::DingTalk.id_of(&entry.recipient) else {
                return Err(RobotError::Refused(format!(
                    "{}没有填写钉钉 userid，无法发送工作通知",
                    entry.recipient.name
                )));
            };
            user_ids.push(id);
        }
        let notice = Notice::of(message);
        let content = format!(
            "{}\n{}\n\n（{}）",
            notice.title,
            notice.text_with_links(&notice.links),
            context.stamp
        );
        let body = json!({
            "agent_id": self.agent_id,
            "userid_list": user_ids.join(","),
            "msg": { "msgtype": "text", "text": { "content": content } },
        });
        let url = format!("{}?access_token={token}", join(&context.bases.dingtalk, SEND));
        Ok(Outgoing::Http(json_request(url, &body)))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify_reply(http_status, body, reply(body), THROTTLED)
    }

    fn confirm(&self, answer: &str, context: &SendContext<'_>) -> Option<Call> {
        let token = context.access_token?;
        let task_id = serde_json::from_str::<Value>(answer)
            .ok()?
            .get("task_id")?
            .as_u64()?;
        let url = format!(
            "{}?access_token={token}",
            join(&context.bases.dingtalk, RESULT)
        );
        Some(Call::Post(json_request(
            url,
            &json!({ "agent_id": self.agent_id, "task_id": task_id }),
        )))
    }

    /// `topapi/v2/user/getbymobile`.
    fn lookup(&self, mobile: &str, context: &SendContext<'_>) -> Option<Call> {
        let token = context.access_token?;
        let url = format!(
            "{}?access_token={token}",
            join(&context.bases.dingtalk, "topapi/v2/user/getbymobile")
        );
        Some(Call::Post(json_request(url, &json!({ "mobile": mobile }))))
    }

    /// 60121: no member has this mobile.
    fn read_lookup(&self, http_status: u16, body: &str) -> Result<Option<String>, Verdict> {
        let value: Option<Value> = serde_json::from_str(body).ok();
        match value.as_ref().and_then(errcode) {
            Some(0) => value
                .as_ref()
                .and_then(|value| value.pointer("/result/userid")?.as_str())
                .filter(|id| !id.is_empty())
                .map(|id| Ok(Some(id.to_owned())))
                .unwrap_or_else(|| Err(super::unrecognised("钉钉", body))),
            Some(60_121) => Ok(None),
            _ => Err(classify_reply(http_status, body, reply(body), THROTTLED)),
        }
    }

    /// A person DingTalk lists as invalid or forbidden never gets the message, though the
    /// send was answered with success; one it lists as failed may get it on a retry. An
    /// unreadable or failed confirmation leaves the send as accepted.
    fn classify_confirmation(&self, _http_status: u16, body: &str, to: &[&str]) -> Verdict {
        let Some(result) = serde_json::from_str::<Value>(body)
            .ok()
            .filter(|value| errcode(value) == Some(0))
            .and_then(|value| value.get("send_result").cloned())
        else {
            return Verdict::Sent;
        };
        let listed = |field: &str| -> Vec<String> {
            let ids = result.get(field).and_then(Value::as_array);
            ids.into_iter()
                .flatten()
                .filter_map(|item| {
                    item.as_str()
                        .or_else(|| item.get("userid").and_then(Value::as_str))
                        .map(str::to_owned)
                })
                .filter(|id| to.contains(&id.as_str()))
                .collect()
        };
        let invalid = listed("invalid_user_id_list");
        if !invalid.is_empty() {
            return Verdict::Permanent(format!(
                "钉钉未送达：userid {} 不是企业成员或已离职，请检查个人资料里的钉钉 userid",
                invalid.join("、")
            ));
        }
        let mut forbidden = listed("forbidden_user_id_list");
        forbidden.extend(listed("forbidden_list"));
        if !forbidden.is_empty() {
            return Verdict::Permanent(format!(
                "钉钉未送达：{} 今天收到的工作通知已超过上限（同一应用每人每天 500 条，相同内容每天 1 条）",
                forbidden.join("、")
            ));
        }
        let failed = listed("failed_user_id_list");
        if !failed.is_empty() {
            return Verdict::RetryLater(format!("钉钉发送给 {} 失败，稍后重试", failed.join("、")));
        }
        Verdict::Sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::channel::{ChannelAddress, ServiceBases, parse};
    use crate::domain::channel::test_support::app_context as context;
    use crate::domain::robot::test_support::message;

    const URL: &str = "dingtalk-app://dingabc123XYZ:S3cr3tS3cr3tS3cr3tS3cr3t@2871234567";

    fn app() -> DingTalkApp {
        match parse(URL).unwrap() {
            ChannelAddress::DingTalkApp(app) => app,
            other => panic!("{other:?}"),
        }
    }


    #[test]
    fn address_names_key_secret_and_agent() {
        let app = app();
        assert_eq!(app.app_key, "dingabc123XYZ");
        assert_eq!(app.app_secret, "S3cr3tS3cr3tS3cr3tS3cr3t");
        assert_eq!(app.agent_id, 2_871_234_567);
        assert_eq!(
            app.masked(),
            "dingtalk-app://dingabc123XYZ:S3cr***3t@2871234567"
        );
        assert_eq!(app.secrets(), ["S3cr3tS3cr3tS3cr3tS3cr3t"]);
        assert!(!format!("{app:?}").contains("S3cr3tS3cr3tS3cr3t"));
        assert_eq!(parse(URL).unwrap().kind(), KIND);
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        let err = |url: &str| parse(url).unwrap_err().message;
        assert_eq!(
            err("dingtalk-app://2871234567"),
            "dingtalk-app:// 地址缺少 AppKey 和 AppSecret（dingtalk-app://AppKey:AppSecret@AgentId）"
        );
        assert_eq!(
            err("dingtalk-app://key@2871234567"),
            "dingtalk-app:// 地址缺少 AppSecret（dingtalk-app://AppKey:AppSecret@AgentId）"
        );
        assert!(err("dingtalk-app://key:short@1").contains("AppSecret 应为 16–128"));
        assert!(
            err("dingtalk-app://key:S3cr3tS3cr3tS3cr3tS3cr3t@agent").contains("AgentId“agent”无效")
        );
        assert!(err("dingtalk-app://key:S3cr3tS3cr3tS3cr3tS3cr3t@0").contains("AgentId“0”无效"));
        assert!(
            err("dingtalk-app://key:S3cr3tS3cr3tS3cr3tS3cr3t@12/x").contains("格式不对")
        );
        assert!(
            err("dingtalk-app://key:S3cr3tS3cr3tS3cr3tS3cr3t@12?to=x")
                .contains("不支持 ? 之后的参数")
        );
        assert!(err("dingtalk-app://k%20y:S3cr3tS3cr3tS3cr3tS3cr3t@12").contains("AppKey 应为"));
    }

    #[test]
    fn sign_in_is_a_get_with_key_and_secret_cached_per_app() {
        let bases = ServiceBases::default().with_platforms(Some("http://127.0.0.1:9/"), None, None);
        let (key, call) = app().sign_in(&bases).unwrap();
        assert_eq!(key, "dingtalk_app:dingabc123XYZ");
        assert_eq!(
            call,
            Call::Get {
                url: "http://127.0.0.1:9/gettoken".to_owned(),
                query: vec![
                    ("appkey".to_owned(), "dingabc123XYZ".to_owned()),
                    ("appsecret".to_owned(), "S3cr3tS3cr3tS3cr3tS3cr3t".to_owned()),
                ],
            }
        );
    }

    #[test]
    fn token_answer_is_read_with_a_margin_and_errors_are_explained() {
        let app = app();
        let token = app
            .read_token(
                200,
                r#"{"errcode":0,"errmsg":"ok","access_token":"tok1","expires_in":7200}"#,
            )
            .unwrap();
        assert_eq!(token.token, "tok1");
        assert_eq!(token.lifetime, std::time::Duration::from_secs(6900));
        assert!(!format!("{token:?}").contains("tok1"));
        let Err(Verdict::Permanent(text)) =
            app.read_token(200, r#"{"errcode":40089,"errmsg":"不合法的corpid或corpsecret"}"#)
        else {
            panic!()
        };
        assert!(text.contains("40089") && text.contains("AppKey 或 AppSecret 不正确"), "{text}");
        assert!(matches!(
            app.read_token(503, "busy"),
            Err(Verdict::RetryLater(_))
        ));
        assert!(matches!(
            app.read_token(200, r#"{"errcode":0}"#),
            Err(Verdict::Permanent(_))
        ));
    }

    #[test]
    fn work_notification_goes_to_the_person_with_a_unique_text() {
        let bases = ServiceBases::default();
        let Ok(Outgoing::Http(request)) = app().build(&message(), &context(&bases, Some("tok1")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://oapi.dingtalk.com/topapi/message/corpconversation/asyncsend_v2?access_token=tok1"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["agent_id"], 2_871_234_567u64);
        assert_eq!(body["userid_list"], "manager4220");
        assert_eq!(body["msg"]["msgtype"], "text");
        let content = body["msg"]["text"]["content"].as_str().unwrap();
        assert!(content.starts_with("上班提醒\n【上班提醒】张三，您好！"), "{content}");
        assert!(content.ends_with("（2026-03-02 08:45:07）"), "{content}");
        // Another attempt reads differently, so DingTalk does not drop it as a repeat.
        let mut later = context(&bases, Some("tok1"));
        later.stamp = "2026-03-02 08:50:07";
        let Ok(Outgoing::Http(again)) = app().build(&message(), &later) else {
            panic!()
        };
        assert_ne!(again.body, request.body);
    }

    #[test]
    fn a_person_without_a_userid_or_a_missing_token_is_refused() {
        let bases = ServiceBases::default();
        let mut unbound = message();
        unbound.entries[0].recipient.dingtalk_user_id = Some("  ".to_owned());
        let error = app()
            .build(&unbound, &context(&bases, Some("tok1")))
            .unwrap_err();
        assert_eq!(error.to_string(), "张三没有填写钉钉 userid，无法发送工作通知");
        assert!(app().build(&message(), &context(&bases, None)).is_err());
    }

    #[test]
    fn answers_are_classified_and_expired_tokens_recognised() {
        let app = app();
        assert_eq!(
            app.classify(200, r#"{"errcode":0,"task_id":256271667526,"request_id":"x"}"#),
            Verdict::Sent
        );
        assert!(matches!(
            app.classify(200, r#"{"errcode":90018,"errmsg":"too many"}"#),
            Verdict::Throttled(_)
        ));
        let Verdict::Permanent(text) = app.classify(200, r#"{"errcode":60020,"errmsg":"ip"}"#)
        else {
            panic!()
        };
        assert!(text.contains("白名单"), "{text}");
        for code in [40014, 42001] {
            let body = format!(r#"{{"errcode":{code},"errmsg":"token"}}"#);
            assert!(app.token_expired(200, &body), "{code}");
        }
        assert!(!app.token_expired(200, r#"{"errcode":0,"task_id":1}"#));
        assert!(!app.token_expired(200, "garbage"));
    }

    #[test]
    fn lookup_by_mobile_finds_the_userid_or_says_there_is_none() {
        let bases = ServiceBases::default();
        let app = app();
        let Some(Call::Post(request)) = app.lookup("13800138000", &context(&bases, Some("tok1")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://oapi.dingtalk.com/topapi/v2/user/getbymobile?access_token=tok1"
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&request.body).unwrap(),
            json!({"mobile": "13800138000"})
        );
        assert_eq!(
            app.read_lookup(200, r#"{"errcode":0,"result":{"userid":"u1"}}"#),
            Ok(Some("u1".to_owned()))
        );
        assert_eq!(
            app.read_lookup(200, r#"{"errcode":60121,"errmsg":"找不到该用户"}"#),
            Ok(None)
        );
        assert!(app.read_lookup(200, r#"{"errcode":60020,"errmsg":"ip"}"#).is_err());
    }

    #[test]
    fn confirmation_asks_for_the_task_and_reads_who_did_not_get_it() {
        let bases = ServiceBases::default();
        let app = app();
        let call = app
            .confirm(r#"{"errcode":0,"task_id":42}"#, &context(&bases, Some("tok1")))
            .unwrap();
        let Call::Post(request) = call else { panic!() };
        assert_eq!(
            request.url,
            "https://oapi.dingtalk.com/topapi/message/corpconversation/getsendresult?access_token=tok1"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, json!({"agent_id": 2_871_234_567u64, "task_id": 42}));
        assert_eq!(app.confirm(r#"{"errcode":0}"#, &context(&bases, Some("t"))), None);

        let result = |send_result: Value| {
            json!({"errcode": 0, "send_result": send_result}).to_string()
        };
        let to = ["u1"];
        assert_eq!(
            app.classify_confirmation(200, &result(json!({"read_user_id_list": ["u1"]})), &to),
            Verdict::Sent
        );
        assert!(matches!(
            app.classify_confirmation(200, &result(json!({"invalid_user_id_list": ["u1"]})), &to),
            Verdict::Permanent(text) if text.contains("u1")
        ));
        assert!(matches!(
            app.classify_confirmation(
                200,
                &result(json!({"forbidden_list": [{"code": "143105", "count": "1", "userid": "u1"}]})),
                &to
            ),
            Verdict::Permanent(text) if text.contains("上限")
        ));
        assert!(matches!(
            app.classify_confirmation(200, &result(json!({"failed_user_id_list": ["u1"]})), &to),
            Verdict::RetryLater(_)
        ));
        // Someone else's trouble is not this message's.
        assert_eq!(
            app.classify_confirmation(200, &result(json!({"invalid_user_id_list": ["u2"]})), &to),
            Verdict::Sent
        );
        assert_eq!(app.classify_confirmation(500, "busy", &to), Verdict::Sent);
    }
}
