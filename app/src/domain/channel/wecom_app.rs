//! WeCom (企业微信) self-built app (自建应用) messages: each person gets the reminder
//! privately from the app.
//!
//! - Token: `GET {base}/cgi-bin/gettoken?corpid=…&corpsecret=…` → `{"errcode":0,
//!   "access_token":…,"expires_in":7200}`; 40014 / 42001 on a send mean it is no longer good.
//! - Send: `POST {base}/cgi-bin/message/send?access_token=…` with `touser` (`a|b`),
//!   `agentid` and a text, duplicate check off → `{"errcode":0,"invaliduser":"",…}`; a person
//!   WeCom does not know is listed in `invaliduser` of a successful answer.

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
    id: "wecom_app",
    label: "企业微信应用消息（自建应用）",
    schemes: &["wecom-app"],
    form: "CorpID:Secret@AgentId",
    hosts: &[],
    url_forms: &["wecom-app://ww0123456789abcdef:App_Secret_of_the_app@1000002"],
    // A member takes at most 30 messages a minute and 1,000 an hour from one app (excess
    // dropped silently): far above a person's reminders.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: Some(Binding::WeCom),
});

/// "api freq out of limit".
const THROTTLED: i64 = 45_009;
const TOKEN_INVALID: i64 = 40_014;
const TOKEN_EXPIRED: i64 = 42_001;
const TOKEN_FIELDS: app_api::TokenFields = app_api::TokenFields {
    platform: "企业微信",
    code: "errcode",
    token: "access_token",
    expires_in: "expires_in",
};

/// A WeCom self-built app.
#[derive(Clone, PartialEq, Eq)]
pub struct WeComApp {
    pub corp_id: String,
    pub secret: String,
    pub agent_id: u64,
}

impl std::fmt::Debug for WeComApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeComApp({})", self.masked())
    }
}

fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED | 45_033 => Some(HINT_RATE),
        TOKEN_INVALID | TOKEN_EXPIRED => Some("access_token 无效或已过期"),
        40_001 | 40_013 => Some("CorpID 或 Secret 不正确（应用管理 → 自建应用 → Secret）"),
        40_056 => Some("AgentId 不正确（应用管理 → 自建应用 → AgentId）"),
        60_020 => Some(HINT_IP),
        60_011 => Some("应用的可见范围不包含这个人：应用管理 → 自建应用 → 可见范围"),
        81_013 => Some("userid 无效：请检查个人资料里的企业微信 userid"),
        _ => None,
    }
}

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "errcode", "errmsg", hint)
}

impl Channel for WeComApp {
    /// `wecom-app://CorpID:Secret@AgentId`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_port()?;
        parts.no_query_or_fragment()?;
        parts.no_path()?;
        let Some(userinfo) = parts.userinfo else {
            return Err(parts.error("缺少 CorpID 和 Secret"));
        };
        let Some((corp_id, secret)) = userinfo.split_once(':') else {
            return Err(parts.error("缺少 Secret"));
        };
        if parts.host.is_empty() {
            return Err(parts.error("缺少 AgentId"));
        }
        let agent_id = parts
            .host
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0 && parts.host.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| {
                AddressError::new(format!(
                    "企业微信 AgentId“{}”无效：应为数字（应用管理 → 自建应用 → AgentId）",
                    shorten(parts.host, 24)
                ))
            })?;
        Ok(Self {
            corp_id: app_api::credential(
                &decode(corp_id, "企业微信 CorpID")?,
                1..=64,
                "企业微信 CorpID 应为 1–64 个英文字母或数字（我的企业 → 企业信息 → 企业ID）",
            )?,
            secret: app_api::credential(
                &decode(secret, "企业微信 Secret")?,
                16..=128,
                "企业微信 Secret 应为 16–128 个英文字母、数字、- 或 _（应用管理 → 自建应用 → Secret）",
            )?,
            agent_id,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        format!(
            "wecom-app://{}:{}@{}",
            self.corp_id,
            mask_secret(&self.secret),
            self.agent_id
        )
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.secret]
    }

    /// One token per app (a CorpID has one token per Secret).
    fn sign_in(&self, bases: &super::ServiceBases) -> Option<(String, Call)> {
        Some((
            format!("wecom_app:{}:{}", self.corp_id, self.agent_id),
            Call::Get {
                url: join(&bases.wecom, "cgi-bin/gettoken"),
                query: vec![
                    ("corpid".to_owned(), self.corp_id.clone()),
                    ("corpsecret".to_owned(), self.secret.clone()),
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
            return Err(RobotError::Refused(
                "企业微信应用消息缺少 access_token".to_owned(),
            ));
        };
        let mut user_ids = Vec::with_capacity(message.entries.len());
        for entry in &message.entries {
            let Some(id) = Binding::WeCom.id_of(&entry.recipient) else {
                return Err(RobotError::Refused(format!(
                    "{}没有填写企业微信 userid，无法发送应用消息",
                    entry.recipient.name
                )));
            };
            user_ids.push(id);
        }
        let notice = Notice::of(message);
        let content = format!("{}\n{}", notice.title, notice.text_with_links(&notice.links));
        let body = json!({
            "touser": user_ids.join("|"),
            "msgtype": "text",
            "agentid": self.agent_id,
            "text": { "content": content },
            // A follow-up may read like the reminder before it; WeCom would drop it.
            "enable_duplicate_check": 0,
        });
        let url = format!(
            "{}?access_token={token}",
            join(&context.bases.wecom, "cgi-bin/message/send")
        );
        Ok(Outgoing::Http(json_request(url, &body)))
    }

    /// `cgi-bin/user/getuserid`.
    fn lookup(&self, mobile: &str, context: &SendContext<'_>) -> Option<Call> {
        let token = context.access_token?;
        let url = format!(
            "{}?access_token={token}",
            join(&context.bases.wecom, "cgi-bin/user/getuserid")
        );
        Some(Call::Post(json_request(url, &json!({ "mobile": mobile }))))
    }

    /// 46004: no member has this mobile.
    fn read_lookup(&self, http_status: u16, body: &str) -> Result<Option<String>, Verdict> {
        let value: Option<Value> = serde_json::from_str(body).ok();
        match value
            .as_ref()
            .and_then(|value| value.get("errcode")?.as_i64())
        {
            Some(0) => value
                .as_ref()
                .and_then(|value| value.get("userid")?.as_str())
                .filter(|id| !id.is_empty())
                .map(|id| Ok(Some(id.to_owned())))
                .unwrap_or_else(|| Err(super::unrecognised("企业微信", body))),
            Some(46_004) => Ok(None),
            _ => Err(classify_reply(http_status, body, reply(body), THROTTLED)),
        }
    }

    /// A success that lists the person in `invaliduser` did not reach them.
    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        let verdict = classify_reply(http_status, body, reply(body), THROTTLED);
        if verdict != Verdict::Sent {
            return verdict;
        }
        let invalid = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|value| value.get("invaliduser")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        if invalid.trim().is_empty() {
            Verdict::Sent
        } else {
            Verdict::Permanent(format!(
                "企业微信未送达：userid {} 无效或不在应用的可见范围内",
                invalid.replace('|', "、")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::channel::{ChannelAddress, ServiceBases, parse};
    use crate::domain::channel::test_support::app_context as context;
    use crate::domain::robot::test_support::message;

    const URL: &str = "wecom-app://ww0123456789abcdef:Wq8Rt5Yu2Io9Pa3Sd6Fg@1000002";

    fn app() -> WeComApp {
        match parse(URL).unwrap() {
            ChannelAddress::WeComApp(app) => app,
            other => panic!("{other:?}"),
        }
    }


    #[test]
    fn address_names_corp_secret_and_agent() {
        let app = app();
        assert_eq!(app.corp_id, "ww0123456789abcdef");
        assert_eq!(app.agent_id, 1_000_002);
        assert_eq!(
            app.masked(),
            "wecom-app://ww0123456789abcdef:Wq8R***Fg@1000002"
        );
        assert_eq!(app.secrets(), ["Wq8Rt5Yu2Io9Pa3Sd6Fg"]);
        let err = |url: &str| parse(url).unwrap_err().message;
        assert!(err("wecom-app://1000002").contains("缺少 CorpID 和 Secret"));
        assert!(err("wecom-app://ww1@1000002").contains("缺少 Secret"));
        assert!(err("wecom-app://ww1:short@1000002").contains("Secret 应为 16–128"));
        assert!(err("wecom-app://ww1:Wq8Rt5Yu2Io9Pa3Sd6Fg@x1").contains("AgentId“x1”无效"));
    }

    #[test]
    fn token_is_a_get_with_corp_and_secret() {
        let bases = ServiceBases::default();
        let (key, call) = app().sign_in(&bases).unwrap();
        assert_eq!(key, "wecom_app:ww0123456789abcdef:1000002");
        assert_eq!(
            call,
            Call::Get {
                url: "https://qyapi.weixin.qq.com/cgi-bin/gettoken".to_owned(),
                query: vec![
                    ("corpid".to_owned(), "ww0123456789abcdef".to_owned()),
                    ("corpsecret".to_owned(), "Wq8Rt5Yu2Io9Pa3Sd6Fg".to_owned()),
                ],
            }
        );
        let token = app()
            .read_token(
                200,
                r#"{"errcode":0,"errmsg":"ok","access_token":"wt","expires_in":7200}"#,
            )
            .unwrap();
        assert_eq!(token.token, "wt");
        let Err(Verdict::Permanent(text)) =
            app().read_token(200, r#"{"errcode":40001,"errmsg":"invalid credential"}"#)
        else {
            panic!()
        };
        assert!(text.contains("CorpID 或 Secret 不正确"), "{text}");
    }

    #[test]
    fn the_message_goes_to_the_person_with_duplicate_check_off() {
        let bases = ServiceBases::default();
        let Ok(Outgoing::Http(request)) = app().build(&message(), &context(&bases, Some("wt")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=wt"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["touser"], "zhangsan");
        assert_eq!(body["agentid"], 1_000_002);
        assert_eq!(body["msgtype"], "text");
        assert_eq!(body["enable_duplicate_check"], 0);
        assert!(
            body["text"]["content"]
                .as_str()
                .unwrap()
                .starts_with("上班提醒\n【上班提醒】张三")
        );
        let mut unbound = message();
        unbound.entries[0].recipient.wecom_user_id = None;
        assert!(app().build(&unbound, &context(&bases, Some("wt"))).is_err());
    }

    #[test]
    fn lookup_by_mobile() {
        let bases = ServiceBases::default();
        let Some(Call::Post(request)) = app().lookup("13800138000", &context(&bases, Some("wt")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://qyapi.weixin.qq.com/cgi-bin/user/getuserid?access_token=wt"
        );
        assert_eq!(
            app().read_lookup(200, r#"{"errcode":0,"errmsg":"ok","userid":"zhangsan"}"#),
            Ok(Some("zhangsan".to_owned()))
        );
        assert_eq!(
            app().read_lookup(200, r#"{"errcode":46004,"errmsg":"user no exist"}"#),
            Ok(None)
        );
    }

    #[test]
    fn answers_invalid_users_and_expired_tokens() {
        let app = app();
        assert_eq!(
            app.classify(200, r#"{"errcode":0,"errmsg":"ok","invaliduser":"","msgid":"m"}"#),
            Verdict::Sent
        );
        let Verdict::Permanent(text) =
            app.classify(200, r#"{"errcode":0,"errmsg":"ok","invaliduser":"zhangsan"}"#)
        else {
            panic!()
        };
        assert!(text.contains("zhangsan"), "{text}");
        assert!(matches!(
            app.classify(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
            Verdict::Throttled(_)
        ));
        assert!(app.token_expired(200, r#"{"errcode":42001,"errmsg":"expired"}"#));
        assert!(app.token_expired(200, r#"{"errcode":40014,"errmsg":"invalid"}"#));
        assert!(!app.token_expired(200, r#"{"errcode":0}"#));
    }
}
