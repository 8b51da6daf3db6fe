//! Gotify: `POST {base}/message?token=…` with `{title,message,priority,extras}`. Success is
//! HTTP 200 with the stored message (`{"id":…,"appid":…,…}`); errors are
//! `{"error":"Unauthorized","errorCode":401,"errorDescription":"…"}`. A click URL goes in
//! `extras["client::notification"].click.url` (Gotify's message extras).

use serde_json::{Value, json};

use super::address::{
    AddressError, IgnoredParam, Param, Params, Parts, app_form, key_char, mask_secret,
    path_prefix, token,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Outgoing, SendContext};
use crate::domain::robot::{OutgoingMessage, RobotError};

use super::{
    HttpRequest, Notice, Verdict, http_failure, int_field, is_success_status, join, json_request,
    str_field, unrecognised,
};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "gotify",
    label: "Gotify",
    schemes: &["gotify", "gotifys"],
    form: "主机/应用令牌",
    hosts: &[],
    url_forms: &[
        "gotifys://host/token",
        "gotify://host:8080/path/token",
        "gotifys://host/token?priority=high&format=markdown",
    ],
    // Gotify documents no rate limit.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// An application token on a Gotify server.
#[derive(Clone, PartialEq, Eq)]
pub struct GotifyApp {
    pub base: String,
    pub token: String,
    /// 0–10; default [`PRIORITY`].
    pub priority: u8,
    /// `?format=markdown`: the message is rendered as Markdown by Gotify's clients.
    pub markdown: bool,
    pub ignored: Vec<IgnoredParam>,
}

/// Gotify's priorities by name (Apprise's: a name's first letter is enough).
const PRIORITIES: &[(&str, u8)] = &[
    ("low", 0),
    ("moderate", 3),
    ("normal", 5),
    ("high", 8),
    ("emergency", 10),
];

fn priority(param: &Param) -> Result<u8, AddressError> {
    let value = param.value.to_ascii_lowercase();
    if let Ok(number) = value.parse::<u8>() {
        return if number <= 10 {
            Ok(number)
        } else {
            Err(param.invalid("应为 0 到 10，或 low、moderate、normal、high、emergency"))
        };
    }
    PRIORITIES
        .iter()
        .find(|(name, _)| name.starts_with(&value))
        .map(|(_, priority)| *priority)
        .ok_or_else(|| param.invalid("应为 0 到 10，或 low、moderate、normal、high、emergency"))
}

impl Channel for GotifyApp {
    /// `gotify://host[:port][/path]/token[?priority=…&format=markdown]`, `gotifys://` for
    /// https.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parts.no_userinfo()?;
        if parts.fragment.is_some() {
            return Err(parts.error("不能包含 #"));
        }
        let segments = parts.segments();
        let Some((app_token, prefix)) = segments.split_last() else {
            return Err(parts.error("缺少应用令牌"));
        };
        let base = format!(
            "{}{}",
            parts.origin(parts.scheme == "gotifys")?,
            path_prefix(prefix)?
        );
        let mut params = Params::of(parts)?;
        let priority = match params.take(&["priority"]) {
            Some(param) => priority(&param)?,
            None => PRIORITY,
        };
        let markdown = match params.take(&["format"]) {
            None => false,
            Some(format) => match format.value.to_ascii_lowercase().as_str() {
                "markdown" => true,
                "text" => false,
                _ => return Err(format.invalid("应为 text 或 markdown")),
            },
        };
        Ok(Self {
            base,
            token: token(
                app_token,
                "Gotify 应用令牌",
                128,
                gotify_char,
                "英文字母、数字、-、_ 和 .",
            )?,
            priority,
            markdown,
            ignored: params.finish()?,
        })
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let mut params = Vec::new();
        if self.priority != PRIORITY {
            params.push(format!("priority={}", self.priority));
        }
        if self.markdown {
            params.push("format=markdown".to_owned());
        }
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{}", params.join("&"))
        };
        format!(
            "{}/{}{query}",
            app_form(&self.base, "gotify"),
            mask_secret(&self.token)
        )
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.token]
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.base)
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        _context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Http(self.request(&Notice::of(message))))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }
}

fn gotify_char(c: char) -> bool {
    key_char(c) || c == '.'
}

const SERVICE: &str = "Gotify";
/// 8 and above make the Android app show a heads-up notification with sound.
pub const PRIORITY: u8 = 8;

impl GotifyApp {
    /// A token with the default priority, as plain text.
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.to_owned(),
            token: token.to_owned(),
            priority: PRIORITY,
            markdown: false,
            ignored: Vec::new(),
        }
    }

    pub fn request(&self, notice: &Notice) -> HttpRequest {
        let message = if self.markdown {
            notice.markdown()
        } else {
            notice.text_with_links(&notice.links)
        };
        let mut body = json!({
            "title": notice.title,
            "message": message,
            "priority": self.priority,
        });
        let mut extras = serde_json::Map::new();
        if let Some(first) = notice.links.first() {
            extras.insert(
                "client::notification".to_owned(),
                json!({ "click": { "url": first.url } }),
            );
        }
        if self.markdown {
            extras.insert(
                "client::display".to_owned(),
                json!({ "contentType": "text/markdown" }),
            );
        }
        if !extras.is_empty() {
            body["extras"] = Value::Object(extras);
        }
        // The parser allows only [A-Za-z0-9._-] in tokens: nothing to percent-encode.
        json_request(
            format!("{}?token={}", join(&self.base, "message"), self.token),
            &body,
        )
    }
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let value = serde_json::from_str::<Value>(body).ok();
    if is_success_status(http_status) {
        let stored = value
            .as_ref()
            .is_some_and(|value| value.get("id").is_some_and(Value::is_number));
        return if stored {
            Verdict::Sent
        } else {
            unrecognised(SERVICE, body)
        };
    }
    let detail = value.as_ref().and_then(|value| {
        let code = int_field(value, "errorCode")?;
        Some(format!(
            "{code} {}：{}",
            str_field(value, "error"),
            str_field(value, "errorDescription")
        ))
    });
    match http_failure(SERVICE, http_status, body, detail) {
        Verdict::Permanent(text) if matches!(http_status, 401 | 403) => Verdict::Permanent(
            format!("{text}；应用令牌无效：请在 Gotify 的 Apps 页面复制令牌"),
        ),
        verdict => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{bare_notice, notice};
    use super::*;

    #[test]
    fn message_carries_title_text_priority_and_click_url() {
        let request = GotifyApp::new("https://push.example.com", "AbCdEf.0123-_x").request(&notice());
        assert_eq!(
            request.url,
            "https://push.example.com/message?token=AbCdEf.0123-_x"
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "title": "上班打卡提醒",
                "message": "早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc",
                "priority": 8,
                "extras": {"client::notification": {"click": {"url": "https://kq.example.com/a/done?t=abc"}}},
            })
        );
        assert!(!format!("{request:?}").contains("AbCdEf.0123-_x"));
    }

    #[test]
    fn without_links_there_are_no_extras_and_paths_are_kept() {
        let request = GotifyApp::new("http://10.0.0.3/gotify/", "tok").request(&bare_notice());
        assert_eq!(request.url, "http://10.0.0.3/gotify/message?token=tok");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({"title": "Clock in", "message": "Shift starts at 09:00", "priority": 8})
        );
    }

    #[test]
    fn a_stored_message_is_sent() {
        assert_eq!(
            classify(
                200,
                r#"{"id":25,"appid":5,"message":"x","title":"t","priority":8,"date":"2024-01-01T00:00:00Z"}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn a_wrong_token_is_permanent_with_gotify_s_error() {
        assert_eq!(
            classify(
                401,
                r#"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token or user credentials to access this api"}"#
            ),
            Verdict::Permanent(
                "Gotify：HTTP 401，401 Unauthorized：you need to provide a valid access token or user credentials to access this api；应用令牌无效：请在 Gotify 的 Apps 页面复制令牌".to_owned()
            )
        );
        assert!(matches!(
            classify(400, r#"{"error":"Bad Request","errorCode":400,"errorDescription":"Field 'message' is required"}"#),
            Verdict::Permanent(text) if text.contains("Field 'message' is required")
        ));
    }

    #[test]
    fn overload_and_server_errors_retry_and_garbage_is_permanent() {
        assert!(matches!(classify(429, ""), Verdict::RetryLater(_)));
        assert!(
            matches!(classify(500, r#"{"error":"Internal Server Error","errorCode":500,"errorDescription":"db"}"#), Verdict::RetryLater(text) if text.contains("500 Internal Server Error：db"))
        );
        assert!(
            matches!(classify(200, "<html></html>"), Verdict::Permanent(text) if text.contains("无法识别"))
        );
        assert!(matches!(
            classify(200, r#"{"id":"x"}"#),
            Verdict::Permanent(_)
        ));
    }
}
