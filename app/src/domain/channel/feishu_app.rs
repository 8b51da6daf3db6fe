//! Feishu / Lark app messages (自建应用的机器人): each person gets the reminder privately
//! from the app. Lark (open.larksuite.com) is the same API on another host
//! (`FEISHU_API_BASE`).
//!
//! - Token: `POST {base}/open-apis/auth/v3/tenant_access_token/internal` with `app_id` and
//!   `app_secret` → `{"code":0,"tenant_access_token":…,"expire":7200}`; 99991663 / 99991668
//!   on a send mean it is no longer good.
//! - Send: `POST {base}/open-apis/im/v1/messages?receive_id_type=open_id` with
//!   `Authorization: Bearer …` and `{"receive_id","msg_type":"text","content":"{\"text\":…}"}`
//!   (the content is a JSON string) → `{"code":0,…}`.

use serde_json::{Value, json};

use super::address::{AddressError, Parts, decode, mask_secret};
use super::app_api;
use super::{
    AccessToken, Binding, Call, Channel, ChannelKind, HttpRequest, KindInfo, MINUTE, Notice,
    Outgoing, RateLimit, SendContext, Verdict, join, json_request,
};
use crate::domain::robot::{
    HINT_IP, HINT_RATE, OutgoingMessage, Reply, RobotError, classify_reply, read_reply,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "feishu_app",
    label: "飞书应用消息（自建应用）",
    schemes: &["feishu-app"],
    form: "AppID:AppSecret",
    hosts: &[],
    url_forms: &["feishu-app://cli_a1b2c3d4e5f6a7b8:App_Secret_of_the_app"],
    // 50 messages a second per app, 5 per second to one person (docs/protocols.md).
    rate_limits: &[RateLimit {
        max: 50,
        per: std::time::Duration::from_secs(1),
    }],
    group: false,
    throttle_ban: MINUTE,
    binding: Some(Binding::Feishu),
});

/// "request trigger frequency limit".
const THROTTLED: i64 = 99_991_400;
const TOKEN_INVALID: i64 = 99_991_668;
const TOKEN_EXPIRED: i64 = 99_991_663;
const TOKEN_FIELDS: app_api::TokenFields = app_api::TokenFields {
    platform: "飞书",
    code: "code",
    token: "tenant_access_token",
    expires_in: "expire",
};

/// A Feishu / Lark self-built app with its bot enabled.
#[derive(Clone, PartialEq, Eq)]
pub struct FeishuApp {
    pub app_id: String,
    pub app_secret: String,
}

impl std::fmt::Debug for FeishuApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FeishuApp({})", self.masked())
    }
}

fn hint(code: i64) -> Option<&'static str> {
    match code {
        THROTTLED => Some(HINT_RATE),
        TOKEN_INVALID | TOKEN_EXPIRED => Some("tenant_access_token 无效或已过期"),
        10_003 | 10_014 => Some("App ID 或 App Secret 不正确（开发者后台 → 凭证与基础信息）"),
        99_991_672 => Some("应用没有发消息的权限：开发者后台 → 权限管理 → 开通 im:message:send_as_bot"),
        230_013 => Some("这个人不在应用的可用范围内：开发者后台 → 版本管理与发布 → 可用范围"),
        230_006 => Some("应用没有启用机器人能力：开发者后台 → 添加应用能力 → 机器人"),
        99_991_401 => Some(HINT_IP),
        _ => None,
    }
}

fn reply(body: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(body).ok()?;
    read_reply(&value, "code", "msg", hint)
}


impl Channel for FeishuApp {
    /// `feishu-app://AppID:AppSecret`.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_query_or_fragment()?;
        parts.no_path()?;
        if parts.userinfo.is_some() {
            return Err(parts.error("格式不对"));
        }
        // `AppID:AppSecret` sits where a host and port would.
        let Some(port) = parts.port else {
            return Err(parts.error("缺少 AppSecret"));
        };
        let app_id = decode(parts.host, "飞书 App ID")?;
        let app_secret = decode(port, "飞书 App Secret")?;
        let id_ok = app_id.starts_with("cli_")
            && app_id.len() <= 64
            && app_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !id_ok {
            return Err(AddressError::new(
                "飞书 App ID 应以 cli_ 开头（开发者后台 → 凭证与基础信息 → App ID）",
            ));
        }
        let app_secret = app_api::credential(
            &app_secret,
            16..=128,
            "飞书 App Secret 应为 16–128 个英文字母、数字、- 或 _（开发者后台 → 凭证与基础信息 → App Secret）",
        )?;
        Ok(Self { app_id, app_secret })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        format!("feishu-app://{}:{}", self.app_id, mask_secret(&self.app_secret))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.app_secret]
    }

    fn sign_in(&self, bases: &super::ServiceBases) -> Option<(String, Call)> {
        Some((
            format!("feishu_app:{}", self.app_id),
            Call::Post(json_request(
                join(&bases.feishu, "open-apis/auth/v3/tenant_access_token/internal"),
                &json!({ "app_id": self.app_id, "app_secret": self.app_secret }),
            )),
        ))
    }

    fn read_token(&self, http_status: u16, body: &str) -> Result<AccessToken, Verdict> {
        app_api::read_token(&TOKEN_FIELDS, http_status, body, |status, body| {
            self.classify(status, body)
        })
    }

    fn token_expired(&self, _http_status: u16, body: &str) -> bool {
        app_api::code(body, "code").is_some_and(|code| matches!(code, TOKEN_INVALID | TOKEN_EXPIRED))
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let Some(token) = context.access_token else {
            return Err(RobotError::Refused(
                "飞书应用消息缺少 tenant_access_token".to_owned(),
            ));
        };
        let [entry] = message.entries.as_slice() else {
            return Err(RobotError::Refused(
                "飞书应用消息一次只发给一个人".to_owned(),
            ));
        };
        let Some(open_id) = Binding::Feishu.id_of(&entry.recipient) else {
            return Err(RobotError::Refused(format!(
                "{}没有填写飞书 open_id，无法发送应用消息",
                entry.recipient.name
            )));
        };
        let notice = Notice::of(message);
        let text = format!("{}\n{}", notice.title, notice.text_with_links(&notice.links));
        let body = json!({
            "receive_id": open_id,
            "msg_type": "text",
            // The content is itself a JSON document, sent as a string.
            "content": json!({ "text": text }).to_string(),
        });
        let HttpRequest { url, mut headers, body } = json_request(
            format!(
                "{}?receive_id_type=open_id",
                join(&context.bases.feishu, "open-apis/im/v1/messages")
            ),
            &body,
        );
        headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        Ok(Outgoing::Http(HttpRequest { url, headers, body }))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify_reply(http_status, body, reply(body), THROTTLED)
    }

    /// `contact/v3/users/batch_get_id` for one mobile, answered with the open_id.
    fn lookup(&self, mobile: &str, context: &SendContext<'_>) -> Option<Call> {
        let token = context.access_token?;
        let HttpRequest { url, mut headers, body } = json_request(
            format!(
                "{}?user_id_type=open_id",
                join(&context.bases.feishu, "open-apis/contact/v3/users/batch_get_id")
            ),
            &json!({ "mobiles": [mobile] }),
        );
        headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        Some(Call::Post(HttpRequest { url, headers, body }))
    }

    /// A mobile Feishu does not know comes back without a `user_id`.
    fn read_lookup(&self, http_status: u16, body: &str) -> Result<Option<String>, Verdict> {
        let value: Option<Value> = serde_json::from_str(body).ok();
        if value.as_ref().and_then(|value| value.get("code")?.as_i64()) != Some(0) {
            return Err(classify_reply(http_status, body, reply(body), THROTTLED));
        }
        let found = value
            .as_ref()
            .and_then(|value| value.pointer("/data/user_list")?.as_array()?.first().cloned());
        Ok(found
            .and_then(|user| user.get("user_id")?.as_str().map(str::to_owned))
            .filter(|id| !id.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::channel::{ChannelAddress, ServiceBases, parse};
    use crate::domain::channel::test_support::app_context as context;
    use crate::domain::robot::test_support::message;

    const URL: &str = "feishu-app://cli_a1b2c3d4e5f6a7b8:Xy7Pq2Lm9Rt4Vb6Nc3Kd8Fg1";

    fn app() -> FeishuApp {
        match parse(URL).unwrap() {
            ChannelAddress::FeishuApp(app) => app,
            other => panic!("{other:?}"),
        }
    }


    #[test]
    fn address_names_the_app_and_hides_its_secret() {
        let app = app();
        assert_eq!(app.app_id, "cli_a1b2c3d4e5f6a7b8");
        assert_eq!(app.masked(), "feishu-app://cli_a1b2c3d4e5f6a7b8:Xy7P***g1");
        assert!(!format!("{app:?}").contains("Xy7Pq2Lm9Rt4"));
        let err = |url: &str| parse(url).unwrap_err().message;
        assert!(err("feishu-app://cli_a1b2c3d4e5f6a7b8").contains("缺少 AppSecret"));
        assert!(err("feishu-app://app:Xy7Pq2Lm9Rt4Vb6Nc3Kd8Fg1").contains("cli_ 开头"));
        assert!(err("feishu-app://cli_a1:short").contains("App Secret 应为"));
        assert!(err("feishu-app://cli_a1:Xy7Pq2Lm9Rt4Vb6Nc3Kd8Fg1/x").contains("格式不对"));
    }

    #[test]
    fn tenant_token_is_asked_with_id_and_secret() {
        let bases = ServiceBases::default().with_platforms(None, Some("https://open.larksuite.com"), None);
        let (key, Call::Post(request)) = app().sign_in(&bases).unwrap() else {
            panic!()
        };
        assert_eq!(key, "feishu_app:cli_a1b2c3d4e5f6a7b8");
        assert_eq!(
            request.url,
            "https://open.larksuite.com/open-apis/auth/v3/tenant_access_token/internal"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({"app_id": "cli_a1b2c3d4e5f6a7b8", "app_secret": "Xy7Pq2Lm9Rt4Vb6Nc3Kd8Fg1"})
        );
        let token = app()
            .read_token(
                200,
                r#"{"code":0,"msg":"ok","tenant_access_token":"t-abc","expire":7200}"#,
            )
            .unwrap();
        assert_eq!(token.token, "t-abc");
        let Err(Verdict::Permanent(text)) =
            app().read_token(200, r#"{"code":10014,"msg":"app secret invalid"}"#)
        else {
            panic!()
        };
        assert!(text.contains("App ID 或 App Secret 不正确"), "{text}");
    }

    #[test]
    fn the_message_goes_to_the_person_s_open_id_with_the_token() {
        let bases = ServiceBases::default();
        let Ok(Outgoing::Http(request)) = app().build(&message(), &context(&bases, Some("t-abc")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://open.feishu.cn/open-apis/im/v1/messages?receive_id_type=open_id"
        );
        assert_eq!(request.header("authorization"), Some("Bearer t-abc"));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["receive_id"], "ou_7d8a6e6df7621556ce0d21922b676706");
        assert_eq!(body["msg_type"], "text");
        let content: Value = serde_json::from_str(body["content"].as_str().unwrap()).unwrap();
        assert!(content["text"].as_str().unwrap().starts_with("上班提醒\n【上班提醒】张三"));
        let mut unbound = message();
        unbound.entries[0].recipient.feishu_open_id = None;
        assert!(app().build(&unbound, &context(&bases, Some("t"))).is_err());
    }

    #[test]
    fn lookup_by_mobile_asks_for_open_ids() {
        let bases = ServiceBases::default();
        let Some(Call::Post(request)) = app().lookup("13800138000", &context(&bases, Some("t")))
        else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://open.feishu.cn/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id"
        );
        assert_eq!(request.header("authorization"), Some("Bearer t"));
        assert_eq!(
            app().read_lookup(
                200,
                r#"{"code":0,"data":{"user_list":[{"mobile":"13800138000","user_id":"ou_1"}]}}"#
            ),
            Ok(Some("ou_1".to_owned()))
        );
        assert_eq!(
            app().read_lookup(200, r#"{"code":0,"data":{"user_list":[{"mobile":"13800138000"}]}}"#),
            Ok(None)
        );
        assert!(app().read_lookup(400, r#"{"code":99991672,"msg":"no permission"}"#).is_err());
    }

    #[test]
    fn answers_and_expired_tokens() {
        let app = app();
        assert_eq!(app.classify(200, r#"{"code":0,"msg":"success","data":{}}"#), Verdict::Sent);
        let Verdict::Permanent(text) =
            app.classify(400, r#"{"code":230013,"msg":"Bot has NO availability to this user."}"#)
        else {
            panic!()
        };
        assert!(text.contains("可用范围"), "{text}");
        assert!(matches!(
            app.classify(429, r#"{"code":99991400,"msg":"request trigger frequency limit"}"#),
            Verdict::RetryLater(_) | Verdict::Throttled(_)
        ));
        assert!(app.token_expired(400, r#"{"code":99991663,"msg":"Invalid access token"}"#));
        assert!(!app.token_expired(200, r#"{"code":0}"#));
    }
}
