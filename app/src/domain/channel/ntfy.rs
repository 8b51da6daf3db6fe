//! ntfy: `POST {base}/{topic}` with the text as the body and everything else in headers
//! (docs/publish.md). Success is HTTP 200 with the stored message (`{"id":…,"event":
//! "message",…}`); errors are `{"code":42901,"http":429,"error":"limit reached: too many
//! requests",…}`.
//!
//! Header values: HTTP client libraries (and the `http` crate reqwest uses) only take
//! visible ASCII reliably, so a value with anything else is sent as RFC 2047 encoded words
//! (`=?UTF-8?B?…?=`), which ntfy decodes for every header since v2.4.0 ("you may also encode
//! any header (including the title) as RFC 2047").

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::address::{
    AddressError, IgnoredParam, KEY_CHARSET, Param, Params, Parts, app_form, decode, dedup,
    encode_userinfo, key_char, mask_secret,
    token,
};
use super::{
    Channel, ChannelKind, HttpRequest, KindInfo, MINUTE, Notice, Outgoing, SendContext, Verdict,
    http_failure, int_field, is_success_status, join, one_line, per_minute, str_field,
    unrecognised,
};
use crate::domain::redact::MASK;
use crate::domain::robot::{OutgoingMessage, RobotError};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "ntfy",
    label: "ntfy",
    schemes: &["ntfy", "ntfys"],
    form: "主机/主题",
    hosts: &["ntfy.sh"],
    url_forms: &[
        "ntfy://topic",
        "https://ntfy.sh/topic",
        "ntfys://host/topic",
        "ntfys://user:password@host:8443/topic",
        "ntfys://tk_token@host/topic",
    ],
    // ntfy's server defaults (docs/config.md, `visitor-request-limit-burst: 60`,
    // `visitor-request-limit-replenish: 5s`): after a burst of 60 one request per 5 s per
    // sending IP, answered with 429 beyond. Pacing one channel at that refill rate never
    // trips it on its own. Self-hosted servers may allow more; none allows less by default.
    rate_limits: &[per_minute(12)],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

const NTFY_SH: &str = "https://ntfy.sh";
/// Topics one address may fan out to: each is a request, and ntfy.sh allows a sender one
/// request per 5 seconds after a burst.
pub const MAX_TOPICS: usize = 5;

/// A topic on an ntfy server, with its login.
#[derive(Clone, PartialEq, Eq)]
pub struct NtfyTopic {
    pub base: String,
    /// One topic, or several (each its own request, [`Outgoing::Fanout`]).
    pub topics: Vec<String>,
    pub auth: Option<NtfyAuth>,
    pub options: NtfyOptions,
    pub ignored: Vec<IgnoredParam>,
}

/// What the address's parameters change in every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtfyOptions {
    /// 1 (min) to 5 (max); default 4 (high: a vibration and a pop-over).
    pub priority: u8,
    /// Emoji short codes and tags; default `alarm_clock` (⏰).
    pub tags: Vec<String>,
    /// Opened on tap instead of the first one-click link.
    pub click: Option<String>,
    /// ntfy also forwards the message to this address.
    pub email: Option<String>,
    /// Buttons of the address's own (`?actions=view, 打开钉钉, dingtalk://…`), after the
    /// reminder's one-click links while ntfy's three places last.
    pub actions: Vec<NtfyAction>,
}

/// A `view` button (opens the link) or an `http` button (ntfy posts to the link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtfyAction {
    pub http: bool,
    pub label: String,
    pub url: String,
}

impl Default for NtfyOptions {
    fn default() -> Self {
        Self {
            priority: 4,
            tags: vec!["alarm_clock".to_owned()],
            click: None,
            email: None,
            actions: Vec::new(),
        }
    }
}

/// ntfy's priorities by name (a name's first letters are enough, as in Apprise).
const PRIORITIES: &[(&str, u8)] = &[
    ("min", 1),
    ("low", 2),
    ("default", 3),
    ("high", 4),
    ("max", 5),
    ("urgent", 5),
];

impl NtfyOptions {
    fn take(params: &mut Params) -> Result<Self, AddressError> {
        let mut options = Self::default();
        if let Some(priority) = params.take(&["priority", "prio", "p"]) {
            let value = priority.value.to_ascii_lowercase();
            options.priority = match value.parse::<u8>() {
                Ok(number @ 1..=5) => number,
                _ => PRIORITIES
                    .iter()
                    .find(|(name, _)| name.starts_with(&value))
                    .map(|(_, number)| *number)
                    .ok_or_else(|| priority.invalid("应为 1 到 5，或 min、low、default、high、max"))?,
            };
        }
        let tags = params.take_items(&["tags", "tag", "xtags"]);
        if !tags.is_empty() {
            if tags.len() > 10 || tags.iter().any(|tag| tag.chars().count() > 64) {
                return Err(AddressError::new(
                    "参数 tags 无效：最多 10 个标签，每个最多 64 个字符",
                ));
            }
            options.tags = tags;
        }
        if let Some(click) = params.take(&["click"]) {
            options.click = Some(click.link()?);
        }
        if let Some(email) = params.take(&["email"]) {
            let valid = email.value.len() <= 254
                && matches!(email.value.split_once('@'), Some((local, domain))
                    if !local.is_empty() && domain.contains('.') && !domain.contains('@'));
            if !valid {
                return Err(email.invalid("应为邮箱地址"));
            }
            options.email = Some(email.value);
        }
        if let Some(actions) = params.take(&["actions", "action"]) {
            options.actions = parse_actions(&actions)?;
        }
        params.ignore(&["delay"], "提醒要按时送达，不能延迟");
        params.ignore(&["title"], "标题由提醒决定");
        params.ignore(&["attach", "filename"], "提醒不带附件");
        params.ignore(&["avatar_url", "icon", "image"], "提醒使用 ntfy 的默认图标");
        Ok(options)
    }

    fn query(&self) -> String {
        let actions: Vec<String> = self
            .actions
            .iter()
            .map(|action| {
                let kind = if action.http { "http" } else { "view" };
                format!("{kind}, {}, {}", action.label, action.url)
            })
            .collect();
        let mut pairs = Vec::new();
        if self.priority != 4 {
            pairs.push(format!("priority={}", self.priority));
        }
        if self.tags != ["alarm_clock"] {
            pairs.push(format!("tags={}", self.tags.join(",")));
        }
        if let Some(click) = &self.click {
            pairs.push(format!("click={click}"));
        }
        if let Some(email) = &self.email {
            pairs.push(format!("email={email}"));
        }
        if !actions.is_empty() {
            pairs.push(format!("actions={}", actions.join("; ")));
        }
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// How an ntfy server is logged in to.
#[derive(Clone, PartialEq, Eq)]
pub enum NtfyAuth {
    Basic {
        username: String,
        password: String,
    },
    /// An access token (`tk_…`), sent as `Authorization: Bearer`.
    Token(String),
}

impl fmt::Debug for NtfyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}:{MASK})"),
            Self::Token(_) => write!(f, "Token({MASK})"),
        }
    }
}


impl Channel for NtfyTopic {
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parse_short(parts)
    }

    fn parse_web(_raw: &str, parts: &Parts<'_>, host: &str) -> Option<Result<Self, AddressError>> {
        if !KIND.owns_host(host) {
            return None;
        }
        Some((|| {
            if parts.fragment.is_some() {
                return Err(parts.error("不能包含 #"));
            }
            let mut params = Params::of(parts)?;
            let mut topics: Vec<String> = parts.segments().iter().map(|s| s.to_string()).collect();
            topics.extend(params.take_items(&["to", "topic"]));
            ntfy_topic(parts, parts.origin(parts.scheme == "https")?, topics, params)
        })())
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let shown = app_form(&self.base, "ntfy");
        let (scheme, rest) = shown.split_once("://").unwrap_or(("ntfys", &shown));
        let login = match &self.auth {
            None => String::new(),
            Some(NtfyAuth::Basic { username, .. }) => {
                format!("{}:{MASK}@", encode_userinfo(username))
            }
            Some(NtfyAuth::Token(token)) => format!("{}@", mask_secret(token)),
        };
        let topics: Vec<String> = self.topics.iter().map(|topic| mask_secret(topic)).collect();
        format!(
            "{scheme}://{login}{rest}/{}{}",
            topics.join("/"),
            self.options.query()
        )
    }

    fn secrets(&self) -> Vec<&str> {
        let mut found: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        match &self.auth {
            Some(NtfyAuth::Basic { password, .. }) => found.push(password),
            Some(NtfyAuth::Token(token)) => found.push(token),
            None => {}
        }
        found
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.base)
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        _context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        let notice = Notice::of(message);
        let request = |topic: &str| {
            build(
                &self.base,
                topic,
                self.auth.as_ref(),
                &self.options,
                &notice,
            )
        };
        Ok(match self.topics.as_slice() {
            [topic] => Outgoing::Http(request(topic)),
            topics => Outgoing::Fanout(
                topics
                    .iter()
                    .enumerate()
                    .map(|(index, topic)| (format!("主题 {}", index + 1), request(topic)))
                    .collect(),
            ),
        })
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }
}

/// `ntfy://[user:pass@]host[:port]/topic[?params]`, `ntfys://` for https; `ntfy://topic` is
/// a topic on ntfy.sh, as is every path segment with `?mode=cloud` (Apprise's forms). The
/// topic may also be given as `?to=`.
fn parse_short(parts: &Parts<'_>) -> Result<NtfyTopic, AddressError> {
    if parts.fragment.is_some() {
        return Err(parts.error("不能包含 #"));
    }
    let mut params = Params::of(parts)?;
    let mode = match params.take(&["mode"]) {
        None => None,
        Some(mode) => match mode.value.to_ascii_lowercase().as_str() {
            "cloud" => Some(true),
            "private" => Some(false),
            _ => return Err(mode.invalid("应为 cloud 或 private")),
        },
    };
    let cloud = mode == Some(true);
    let mut topics: Vec<String> = parts.segments().iter().map(|s| s.to_string()).collect();
    topics.extend(params.take_items(&["to", "topic"]));
    // `ntfy://topic`, unless `mode=private` says the host is a server.
    let bare_topic = mode.is_none()
        && topics.is_empty()
        && parts.port.is_none()
        && is_ntfy_topic(parts.host);
    if cloud || bare_topic {
        if parts.port.is_some() {
            return Err(parts.error("用 ntfy.sh 时不能带端口"));
        }
        if !parts.host.is_empty() && !parts.host.eq_ignore_ascii_case("ntfy.sh") {
            topics.insert(0, parts.host.to_owned());
        }
        return ntfy_topic(parts, NTFY_SH.to_owned(), topics, params);
    }
    if topics.is_empty() {
        return Err(parts.error("缺少主题"));
    }
    ntfy_topic(parts, parts.origin(parts.scheme == "ntfys")?, topics, params)
}

fn is_ntfy_topic(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.chars().all(key_char)
}

fn ntfy_topic(
    parts: &Parts<'_>,
    base: String,
    topics: Vec<String>,
    mut params: Params,
) -> Result<NtfyTopic, AddressError> {
    let topics = dedup(topics);
    if topics.is_empty() {
        return Err(AddressError::new("ntfy 地址缺少主题（ntfys://主机/主题）"));
    }
    if topics.len() > MAX_TOPICS {
        return Err(AddressError::new(format!(
            "ntfy 地址最多 {MAX_TOPICS} 个主题，这里有 {} 个",
            topics.len()
        )));
    }
    if !topics.iter().all(|topic| is_ntfy_topic(topic)) {
        return Err(AddressError::new(
            "ntfy 主题只能包含英文字母、数字、- 和 _，最多 64 个字符",
        ));
    }
    let by_token = match params.take(&["auth"]) {
        None => false,
        Some(auth) => match auth.value.to_ascii_lowercase().as_str() {
            "token" => true,
            "basic" => false,
            _ => return Err(auth.invalid("应为 basic 或 token")),
        },
    };
    let auth = match (params.take(&["token"]), parts.userinfo) {
        (Some(given), _) => Some(NtfyAuth::Token(access_token(&given.value)?)),
        (None, None) => None,
        (None, Some(userinfo)) => Some(ntfy_auth(userinfo, by_token)?),
    };
    let options = NtfyOptions::take(&mut params)?;
    Ok(NtfyTopic {
        base,
        topics,
        auth,
        options,
        ignored: params.finish()?,
    })
}

/// ntfy's short form of buttons, `view, 标签, 链接[, clear=true]; http, 标签, 链接`, at most
/// [`MAX_ACTIONS`]; `broadcast` (Android intents) does not apply to a reminder.
fn parse_actions(param: &Param) -> Result<Vec<NtfyAction>, AddressError> {
    let expected = "应为 view, 标签, 链接（多个用 ; 分开，最多 3 个）";
    let mut actions = Vec::new();
    for written in param.value.split(';').filter(|action| !action.trim().is_empty()) {
        let fields: Vec<&str> = written.split(',').map(str::trim).collect();
        let (kind, label, url) = match fields.as_slice() {
            [kind, label, url, rest @ ..]
                if rest.iter().all(|option| option.contains('=')) =>
            {
                (kind.to_ascii_lowercase(), *label, *url)
            }
            _ => return Err(param.invalid(expected)),
        };
        let http = match kind.as_str() {
            "view" => false,
            "http" => true,
            _ => return Err(param.invalid(expected)),
        };
        let link = Param {
            name: param.name.clone(),
            value: url.to_owned(),
        }
        .link()?;
        if label.is_empty() || label.chars().count() > 40 {
            return Err(param.invalid("每个按钮的标签应为 1 到 40 个字符"));
        }
        actions.push(NtfyAction {
            http,
            label: label.to_owned(),
            url: link,
        });
    }
    if actions.is_empty() || actions.len() > MAX_ACTIONS {
        return Err(param.invalid(expected));
    }
    Ok(actions)
}

fn access_token(value: &str) -> Result<String, AddressError> {
    token(value, "ntfy 访问令牌", 128, key_char, KEY_CHARSET)
}

/// `user:password@`, `tk_token@` or, with `?auth=token`, the token as the user or the
/// password (Apprise's forms).
fn ntfy_auth(userinfo: &str, by_token: bool) -> Result<NtfyAuth, AddressError> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (decode(user, "ntfy 用户名")?, decode(password, "ntfy 密码")?),
        None => (decode(userinfo, "ntfy 访问令牌")?, String::new()),
    };
    if by_token || (password.is_empty() && user.starts_with("tk_")) {
        let token = if password.is_empty() { &user } else { &password };
        return Ok(NtfyAuth::Token(access_token(token)?));
    }
    if user.is_empty() && password.starts_with("tk_") {
        return Ok(NtfyAuth::Token(access_token(&password)?));
    }
    if user.is_empty() || password.is_empty() || user.contains(':') {
        return Err(AddressError::new(
            "ntfy 的登录信息应为 用户名:密码@ 或 tk_访问令牌@",
        ));
    }
    Ok(NtfyAuth::Basic {
        username: user,
        password,
    })
}

const SERVICE: &str = "ntfy";
/// ntfy shows at most three action buttons.
pub const MAX_ACTIONS: usize = 3;

pub fn build(
    base: &str,
    topic: &str,
    auth: Option<&NtfyAuth>,
    options: &NtfyOptions,
    notice: &Notice,
) -> HttpRequest {
    let (buttons, rest) = notice.links.split_at(notice.links.len().min(MAX_ACTIONS));
    let mut headers = vec![(
        "Content-Type".to_owned(),
        "text/plain; charset=utf-8".to_owned(),
    )];
    let mut header = |name: &str, value: String| headers.push((name.to_owned(), value));
    if !notice.title.trim().is_empty() {
        header("Title", header_value(&notice.title));
    }
    header("Priority", options.priority.to_string());
    header("Tags", header_value(&options.tags.join(",")));
    if let Some(email) = &options.email {
        header("Email", email.clone());
    }
    let click = options
        .click
        .as_deref()
        .or(buttons.first().map(|link| link.url.as_str()));
    if let Some(click) = click {
        header("Click", header_value(click));
    }
    // The JSON form, since a URL may hold the `,` and `;` the simple form splits on. The
    // reminder's links first; the address's own buttons take the places left.
    let mut actions: Vec<Value> = buttons
        .iter()
        .map(|link| {
            json!({
                "action": "view",
                "label": one_line(&link.label),
                "url": link.url,
                "clear": true,
            })
        })
        .collect();
    for own in options.actions.iter().take(MAX_ACTIONS - actions.len()) {
        actions.push(if own.http {
            json!({"action": "http", "label": own.label, "url": own.url})
        } else {
            json!({"action": "view", "label": own.label, "url": own.url})
        });
    }
    if !actions.is_empty() {
        header("Actions", header_value(&Value::Array(actions).to_string()));
    }
    match auth {
        Some(NtfyAuth::Basic { username, password }) => header(
            "Authorization",
            format!("Basic {}", BASE64.encode(format!("{username}:{password}"))),
        ),
        Some(NtfyAuth::Token(token)) => header("Authorization", format!("Bearer {token}")),
        None => {}
    }
    HttpRequest {
        url: join(base, topic),
        headers,
        body: notice.text_with_links(rest).into_bytes(),
    }
}

/// At most this many UTF-8 bytes per encoded word: 60 base64 characters, 72 with the
/// `=?UTF-8?B?…?=` wrapper, under RFC 2047's 75.
const WORD_BYTES: usize = 45;

/// `value` on one line, as is when it is printable ASCII, else as RFC 2047 encoded words
/// split on character boundaries.
pub fn header_value(value: &str) -> String {
    let value = one_line(value);
    let plain = value.bytes().all(|b| (0x20..0x7f).contains(&b)) && !value.contains("=?");
    if plain {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > WORD_BYTES {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join(" ")
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text))
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let value = serde_json::from_str::<Value>(body).ok();
    if is_success_status(http_status) {
        let stored = value
            .as_ref()
            .is_some_and(|value| value.get("id").is_some_and(Value::is_string));
        return if stored {
            Verdict::Sent
        } else {
            unrecognised(SERVICE, body)
        };
    }
    let detail = value.as_ref().and_then(|value| {
        let code = int_field(value, "code")?;
        Some(format!("code {code}：{}", str_field(value, "error")))
    });
    let hint = match http_status {
        401 | 403 => Some("没有这个主题的发布权限：请检查用户名、密码或访问令牌"),
        413 => Some("消息太长"),
        _ => None,
    };
    match (http_failure(SERVICE, http_status, body, detail), hint) {
        (Verdict::Permanent(text), Some(hint)) => Verdict::Permanent(format!("{text}；{hint}")),
        (verdict, _) => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::super::NoticeLink;
    use super::super::test_support::{bare_notice, notice};
    use super::*;

    fn decode_words(value: &str) -> String {
        value
            .split(' ')
            .map(|word| {
                let inner = word
                    .strip_prefix("=?UTF-8?B?")
                    .and_then(|w| w.strip_suffix("?="))
                    .unwrap();
                String::from_utf8(BASE64.decode(inner).unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn publish_puts_text_in_the_body_and_the_rest_in_headers() {
        let request = build("https://ntfy.sh", "kq-alerts", None, &NtfyOptions::default(), &notice());
        assert_eq!(request.url, "https://ntfy.sh/kq-alerts");
        assert_eq!(request.body, "早班 09:00 上班，记得打卡。".as_bytes());
        let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Title",
                "Priority",
                "Tags",
                "Click",
                "Actions"
            ]
        );
        assert_eq!(request.header("Priority"), Some("4"));
        assert_eq!(request.header("Tags"), Some("alarm_clock"));
        assert_eq!(
            request.header("Click"),
            Some("https://kq.example.com/a/done?t=abc")
        );
        assert_eq!(
            decode_words(request.header("Title").unwrap()),
            "上班打卡提醒"
        );
        let actions: Value =
            serde_json::from_str(&decode_words(request.header("Actions").unwrap())).unwrap();
        assert_eq!(
            actions,
            json!([
                {"action": "view", "label": "我已打卡", "url": "https://kq.example.com/a/done?t=abc", "clear": true},
                {"action": "view", "label": "今天不用提醒", "url": "https://kq.example.com/a/skip?t=abc", "clear": true},
            ])
        );
        for (_, value) in &request.headers {
            assert!(value.bytes().all(|b| (0x20..0x7f).contains(&b)), "{value}");
        }
    }

    #[test]
    fn ascii_values_are_sent_as_is_and_no_links_means_no_click_or_actions() {
        let request = build("http://ntfy.local:8080/", "t", None, &NtfyOptions::default(), &bare_notice());
        assert_eq!(request.url, "http://ntfy.local:8080/t");
        assert_eq!(request.header("Title"), Some("Clock in"));
        assert_eq!(request.header("Click"), None);
        assert_eq!(request.header("Actions"), None);
        assert_eq!(request.header("Authorization"), None);
        assert_eq!(request.body, b"Shift starts at 09:00");
    }

    #[test]
    fn more_than_three_links_spill_into_the_body() {
        let mut notice = notice();
        for n in 3..=5 {
            notice.links.push(NoticeLink {
                label: format!("L{n}"),
                url: format!("https://x.example/{n}"),
            });
        }
        let request = build("https://ntfy.sh", "t", None, &NtfyOptions::default(), &notice);
        let actions: Value =
            serde_json::from_str(&decode_words(request.header("Actions").unwrap())).unwrap();
        assert_eq!(actions.as_array().unwrap().len(), 3);
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            "早班 09:00 上班，记得打卡。\n\nL4：https://x.example/4\nL5：https://x.example/5"
        );
    }

    #[test]
    fn credentials_become_basic_or_bearer_authorization() {
        let basic = NtfyAuth::Basic {
            username: "phil".to_owned(),
            password: "p@ss:w".to_owned(),
        };
        let request = build("https://n.example", "t", Some(&basic), &NtfyOptions::default(), &bare_notice());
        assert_eq!(
            request.header("Authorization"),
            Some(format!("Basic {}", BASE64.encode("phil:p@ss:w")).as_str())
        );
        let bearer = NtfyAuth::Token("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2".to_owned());
        let request = build("https://n.example", "t", Some(&bearer), &NtfyOptions::default(), &bare_notice());
        assert_eq!(
            request.header("Authorization"),
            Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
        );
        assert!(!format!("{request:?}").contains("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"));
    }

    #[test]
    fn long_non_ascii_values_become_several_short_encoded_words() {
        let title = "上班打卡提醒：".repeat(10);
        let encoded = header_value(&title);
        assert!(encoded.split(' ').count() > 1);
        for word in encoded.split(' ') {
            assert!(word.len() <= 75, "{word}");
        }
        assert_eq!(decode_words(&encoded), title);
        // A line break would end the header; a lookalike encoded word would be decoded.
        assert_eq!(header_value("a\r\nb"), "a  b");
        assert_eq!(decode_words(&header_value("=?x?=")), "=?x?=");
    }

    #[test]
    fn a_stored_message_is_sent() {
        assert_eq!(
            classify(
                200,
                r#"{"id":"hwQ2YpKdmg","time":1635528741,"event":"message","topic":"mytopic","message":"hi"}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn rate_limits_and_server_errors_retry() {
        assert_eq!(
            classify(
                429,
                r#"{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}"#
            ),
            Verdict::RetryLater(
                "ntfy：HTTP 429，code 42901：limit reached: too many requests；发送太频繁，稍后重试"
                    .to_owned()
            )
        );
        assert!(matches!(classify(503, ""), Verdict::RetryLater(text) if text.contains("（空）")));
    }

    #[test]
    fn auth_errors_are_permanent_with_a_hint() {
        assert_eq!(
            classify(
                403,
                r#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#
            ),
            Verdict::Permanent(
                "ntfy：HTTP 403，code 40301：forbidden；没有这个主题的发布权限：请检查用户名、密码或访问令牌".to_owned()
            )
        );
        assert!(
            matches!(classify(401, r#"{"code":40101,"http":401,"error":"unauthorized"}"#), Verdict::Permanent(text) if text.contains("40101"))
        );
        assert!(
            matches!(classify(413, r#"{"code":41301,"http":413,"error":"too large"}"#), Verdict::Permanent(text) if text.ends_with("消息太长"))
        );
    }

    #[test]
    fn garbage_is_permanent() {
        assert!(
            matches!(classify(200, "OK"), Verdict::Permanent(text) if text == "ntfy返回了无法识别的应答：OK")
        );
        assert!(matches!(
            classify(200, r#"{"id":5}"#),
            Verdict::Permanent(_)
        ));
        assert!(
            matches!(classify(404, "<html>not found</html>"), Verdict::Permanent(text) if text == "ntfy：HTTP 404，<html>not found</html>")
        );
    }

    #[test]
    fn several_topics_are_one_request_each_and_one_topic_is_one_request() {
        let bases = super::super::ServiceBases::default();
        let context = super::super::test_support::app_context(&bases, None);
        let message = crate::domain::robot::test_support::message();
        let Ok(super::super::ChannelAddress::Ntfy(several)) =
            super::super::parse("ntfys://tk_token123@ntfy.example.com/kq-a/kq-b?priority=high")
        else {
            panic!()
        };
        let Ok(Outgoing::Fanout(requests)) = several.build(&message, &context) else {
            panic!("a fan-out")
        };
        let sent: Vec<(&str, &str, Option<&str>)> = requests
            .iter()
            .map(|(label, request)| {
                (
                    label.as_str(),
                    request.url.as_str(),
                    request.header("Authorization"),
                )
            })
            .collect();
        assert_eq!(
            sent,
            [
                ("主题 1", "https://ntfy.example.com/kq-a", Some("Bearer tk_token123")),
                ("主题 2", "https://ntfy.example.com/kq-b", Some("Bearer tk_token123")),
            ]
        );
        assert_eq!(requests[1].1.header("Priority"), Some("4"));
        let Ok(super::super::ChannelAddress::Ntfy(one)) = super::super::parse("ntfy://kq-a") else {
            panic!()
        };
        assert!(matches!(one.build(&message, &context), Ok(Outgoing::Http(_))));
    }

    #[test]
    fn the_address_s_own_buttons_follow_the_reminder_s_links() {
        let Ok(super::super::ChannelAddress::Ntfy(topic)) = super::super::parse(
            "ntfy://localhost/kq?actions=view%2C%E6%89%93%E5%BC%80%E9%92%89%E9%92%89%2Cdingtalk%3A%2F%2Fdingtalkclient%2Fpage%2Flink%3Bhttp%2CAck%2Chttps%3A%2F%2Fa.example%2Fack",
        ) else {
            panic!()
        };
        assert_eq!(topic.options.actions.len(), 2);
        let request = build(&topic.base, "kq", None, &topic.options, &notice());
        let actions: Vec<Value> =
            serde_json::from_str(&decode_words(request.header("Actions").unwrap())).unwrap();
        let labels: Vec<&str> = actions.iter().filter_map(|a| a["label"].as_str()).collect();
        // Two links of the reminder, then the first of the address's own: three at most.
        assert_eq!(labels.len(), 3, "{actions:?}");
        assert_eq!(actions[2]["url"], "dingtalk://dingtalkclient/page/link");
        for (value, expected) in [
            ("broadcast,x,y", "actions"),
            ("view,,https://a.example", "actions"),
            ("view,x,not a link", "actions"),
        ] {
            let url = format!("ntfy://localhost/kq?actions={}", value.replace(' ', "%20"));
            let error = super::super::parse(&url).unwrap_err().message;
            assert!(error.starts_with(&format!("参数 {expected} 的值")), "{url}: {error}");
        }
    }
}
