//! Bark (iOS): `POST {base}/push` with a JSON body. Answers are `{"code":200,"message":
//! "success","timestamp":…}`; bark-server answers HTTP 400 `failed to get device token`
//! for an unknown key and HTTP 500 `push failed: …` when APNs refuses (its route_push.go).

use serde_json::{Value, json};

use super::address::{
    AddressError, IgnoredParam, KEY_CHARSET, Params, Parts, app_form, at_most, decode, dedup,
    encode_userinfo, key_char, mask_secret, path_prefix, token,
};
use super::{
    Channel, ChannelKind, HttpRequest, KindInfo, MINUTE, Notice, Outgoing, SendContext, Verdict,
    basic_auth, excerpt, http_failure, int_field, is_success_status, join, json_request,
    str_field, unrecognised,
};
use crate::domain::redact::MASK;
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
        "bark://host:8080/proxy/path/NxLsF7kQ2Bv9pR4tW8yZcA",
        "barks://user:password@host/device_key/device_key2",
        "barks://host/device_key?sound=alarm&level=critical&volume=5&call=1",
    ],
    // api.day.app and bark-server document no rate limit.
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// The Bark parameters a reminder honours, as in Apprise's Bark URLs.
pub const PARAMS: &[&str] = &[
    "sound", "level", "volume", "call", "group", "click", "icon", "badge", "subtitle", "copy",
    "action", "archive", "to",
];

/// The ringtones the Bark app ships (Apprise's list); `.caf` may be written or not.
const SOUNDS: &[&str] = &[
    "alarm", "anticipate", "bell", "birdsong", "bloom", "calypso", "chime", "choo", "descent",
    "electronic", "fanfare", "glass", "gotosleep", "healthnotification", "horn", "ladder",
    "mailsent", "minuet", "multiwayinvitation", "newmail", "newsflash", "noir",
    "paymentsuccess", "shake", "sherwoodforest", "silence", "spell", "suspense", "telegraph",
    "tiptoes", "typewriters", "update",
];

const LEVELS: &[&str] = &["active", "timeSensitive", "passive", "critical"];

/// One or more iPhones' Bark keys on a Bark server.
#[derive(Clone, PartialEq, Eq)]
pub struct BarkDevice {
    /// `https://host[:port][/path]`, no trailing slash.
    pub base: String,
    /// One key, or several pushed at once (bark-server's `device_keys`).
    pub device_keys: Vec<String>,
    /// A bark-server behind HTTP basic auth (`bark://user:password@host/key`).
    pub login: Option<(String, String)>,
    pub options: BarkOptions,
    pub ignored: Vec<IgnoredParam>,
}

/// What the address's parameters change in every push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BarkOptions {
    pub sound: Option<String>,
    /// Default `timeSensitive`: through Focus modes, not through silence (`critical`).
    pub level: Option<String>,
    /// A critical alert's volume, 0–10.
    pub volume: Option<u8>,
    /// Ring for 30 seconds.
    pub call: bool,
    /// Default [`GROUP`].
    pub group: Option<String>,
    /// Opened on tap instead of the first one-click link (e.g. `dingtalk://…` to punch).
    pub click: Option<String>,
    pub icon: Option<String>,
    pub badge: Option<u32>,
    pub subtitle: Option<String>,
    pub copy: Option<String>,
    /// `alert` or `none` (a tap does nothing).
    pub action: Option<String>,
    /// Whether Bark keeps the push in its history.
    pub archive: Option<bool>,
    /// `?format=markdown`: the text as Markdown (Bark's `markdown` field), links tappable.
    pub markdown: bool,
}

fn device_key(key: &str) -> Result<String, AddressError> {
    token(key, "Bark 设备密钥", 128, key_char, KEY_CHARSET)
}

impl BarkOptions {
    fn take(params: &mut Params) -> Result<Self, AddressError> {
        let mut options = Self::default();
        if let Some(sound) = params.take(&["sound"]) {
            let name = sound.value.to_ascii_lowercase();
            let name = name.strip_suffix(".caf").unwrap_or(&name);
            let known = SOUNDS.iter().find(|known| **known == name);
            options.sound = Some(
                known
                    .ok_or_else(|| sound.invalid("应为 Bark 自带的铃声，如 alarm、bell、minuet"))?
                    .to_string(),
            );
        }
        if let Some(level) = params.take(&["level"]) {
            let known = LEVELS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(&level.value));
            options.level = Some(
                known
                    .ok_or_else(|| level.invalid("应为 active、timeSensitive、passive 或 critical"))?
                    .to_string(),
            );
        }
        if let Some(volume) = params.take(&["volume"]) {
            options.volume = Some(volume.number(0..=10)? as u8);
        }
        if let Some(call) = params.take(&["call"]) {
            options.call = call.flag()?;
        }
        if let Some(group) = params.take(&["group"]) {
            options.group = Some(group.text(64)?);
        }
        if let Some(click) = params.take(&["click", "url"]) {
            options.click = Some(click.link()?);
        }
        if let Some(icon) = params.take(&["icon"]) {
            options.icon = Some(icon.web_link()?);
        }
        if let Some(badge) = params.take(&["badge"]) {
            options.badge = Some(badge.number(0..=99_999)? as u32);
        }
        if let Some(subtitle) = params.take(&["subtitle"]) {
            options.subtitle = Some(subtitle.text(100)?);
        }
        if let Some(copy) = params.take(&["copy"]) {
            options.copy = Some(copy.text(200)?);
        }
        if let Some(action) = params.take(&["action"]) {
            let value = action.value.to_ascii_lowercase();
            if !matches!(value.as_str(), "alert" | "none") {
                return Err(action.invalid("应为 alert 或 none"));
            }
            options.action = Some(value);
        }
        if let Some(archive) = params.take(&["archive"]) {
            options.archive = Some(archive.flag()?);
        }
        if let Some(format) = params.take(&["format"]) {
            options.markdown = match format.value.to_ascii_lowercase().as_str() {
                "markdown" => true,
                "text" => false,
                _ => return Err(format.invalid("应为 text 或 markdown")),
            };
        }
        if let Some(delete) = params.take(&["delete"])
            && delete.flag()?
        {
            return Err(AddressError::new(
                "参数 delete=yes 会删除 Bark 上已有的通知，不能用来发送提醒",
            ));
        }
        params.ignore(&["id"], "每条提醒单独显示，不按编号替换或删除");
        params.ignore(&["category"], "Bark 保留的参数，没有作用");
        params.ignore(&["image"], "不附带 Apprise 的图标");
        params.ignore(&["ttl"], "提醒只在当天有用，不设置保存期限");
        params.ignore(&["key", "iv"], "不支持 Bark 的加密推送，提醒以普通推送发送");
        Ok(options)
    }

    /// The parameters as written in the address, for the masked form.
    fn query(&self) -> String {
        let mut pairs: Vec<String> = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push(format!("{name}={value}"));
            }
        };
        push("sound", self.sound.clone());
        push("level", self.level.clone());
        push("volume", self.volume.map(|v| v.to_string()));
        push("call", self.call.then(|| "yes".to_owned()));
        push("group", self.group.clone());
        push("click", self.click.clone());
        push("icon", self.icon.clone());
        push("badge", self.badge.map(|v| v.to_string()));
        push("subtitle", self.subtitle.clone());
        push("copy", self.copy.clone());
        push("action", self.action.clone());
        push("archive", self.archive.map(|v| if v { "yes" } else { "no" }.to_owned()));
        push("format", self.markdown.then(|| "markdown".to_owned()));
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// The keys from the path and `?to=`, each checked, repeats dropped.
fn device_keys(path: &[&str], params: &mut Params) -> Result<Vec<String>, AddressError> {
    let mut keys = Vec::new();
    for key in path.iter().map(|key| key.to_string()).chain(params.take_items(&["to"])) {
        keys.push(device_key(&key)?);
    }
    let keys = dedup(keys);
    at_most(keys.len(), "设备密钥")?;
    Ok(keys)
}

fn login(parts: &Parts<'_>) -> Result<Option<(String, String)>, AddressError> {
    let Some(userinfo) = parts.userinfo else {
        return Ok(None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = decode(user, "Bark 用户名")?;
    if user.is_empty() {
        return Err(parts.error("的用户名不能为空"));
    }
    Ok(Some((user, decode(password, "Bark 密码")?)))
}

impl Channel for BarkDevice {
    /// `bark://[user:password@]host[:port][/path]/device_key[/device_key…][?params]`,
    /// `barks://` for https; the keys may also be given as `?to=`. A path prefix before a
    /// single key is kept (a bark-server behind a reverse proxy); with several keys the path
    /// is all keys.
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        if parts.fragment.is_some() {
            return Err(parts.error("不能包含 #"));
        }
        let mut params = Params::of(parts)?;
        let segments = parts.segments();
        let (prefix, keys): (&[&str], &[&str]) = match segments.split_last() {
            Some((key, prefix))
                if !prefix.is_empty()
                    && looks_like_key(key)
                    && !prefix.iter().any(|segment| looks_like_key(segment)) =>
            {
                (prefix, std::slice::from_ref(key))
            }
            _ => (&[], &segments),
        };
        let device_keys = device_keys(keys, &mut params)?;
        if device_keys.is_empty() {
            return Err(parts.error("缺少设备密钥"));
        }
        let base = format!(
            "{}{}",
            parts.origin(parts.scheme == "barks")?,
            path_prefix(prefix)?
        );
        let options = BarkOptions::take(&mut params)?;
        Ok(Self {
            base,
            device_keys,
            login: login(parts)?,
            options,
            ignored: params.finish()?,
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
            let mut params = Params::of(parts)?;
            let options = BarkOptions::take(&mut params)?;
            Ok(Self {
                base: parts.origin(parts.scheme == "https")?,
                device_keys: device_keys(&[key], &mut params)?,
                login: None,
                options,
                ignored: params.finish()?,
            })
        })())
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let shown = app_form(&self.base, "bark");
        let (scheme, rest) = shown.split_once("://").unwrap_or(("barks", &shown));
        let login = match &self.login {
            None => String::new(),
            Some((user, _)) => format!("{}:{MASK}@", encode_userinfo(user)),
        };
        let keys: Vec<String> = self.device_keys.iter().map(|key| mask_secret(key)).collect();
        format!(
            "{scheme}://{login}{rest}/{}{}",
            keys.join("/"),
            self.options.query()
        )
    }

    fn secrets(&self) -> Vec<&str> {
        let mut found: Vec<&str> = self.device_keys.iter().map(String::as_str).collect();
        if let Some((_, password)) = &self.login {
            found.push(password);
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
        Ok(Outgoing::Http(self.request(&Notice::of(message))))
    }

    fn classify(&self, http_status: u16, body: &str) -> Verdict {
        classify(http_status, body)
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }
}

/// Device keys are long random strings; path segments before one (a reverse proxy's prefix)
/// are short words. Short segments alone are keys, as in Apprise (`/device_key/device_key2`).
fn looks_like_key(segment: &str) -> bool {
    segment.len() >= 16 && segment.chars().all(key_char)
}

const SERVICE: &str = "Bark";
/// Notifications are grouped under this name in Bark's history.
pub const GROUP: &str = "打卡提醒";

impl BarkDevice {
    /// One key, with the default options: what the tests and the simplest address build.
    pub fn new(base: &str, device_key: &str) -> Self {
        Self {
            base: base.to_owned(),
            device_keys: vec![device_key.to_owned()],
            login: None,
            options: BarkOptions::default(),
            ignored: Vec::new(),
        }
    }

    /// `timeSensitive` unless the address says otherwise: through Focus modes without ringing
    /// through silence (`critical`). The first link (or `click`) opens on tap; all links are
    /// also listed in the body.
    pub fn request(&self, notice: &Notice) -> HttpRequest {
        let options = &self.options;
        let mut body = json!({
            "title": notice.title,
            "level": options.level.as_deref().unwrap_or("timeSensitive"),
            "group": options.group.as_deref().unwrap_or(GROUP),
        });
        if options.markdown {
            body["markdown"] = json!(notice.markdown());
        } else {
            body["body"] = json!(notice.text_with_links(&notice.links));
        }
        match self.device_keys.as_slice() {
            [key] => body["device_key"] = json!(key),
            keys => body["device_keys"] = json!(keys),
        }
        let click = options
            .click
            .clone()
            .or_else(|| notice.links.first().map(|link| link.url.clone()));
        let mut set = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                body[name] = value;
            }
        };
        set("url", click.map(Value::String));
        set("sound", options.sound.clone().map(Value::String));
        set("volume", options.volume.map(|v| json!(v)));
        set("call", options.call.then(|| json!("1")));
        set("icon", options.icon.clone().map(Value::String));
        set("badge", options.badge.map(|v| json!(v)));
        set("subtitle", options.subtitle.clone().map(Value::String));
        set("copy", options.copy.clone().map(Value::String));
        set("action", options.action.clone().map(Value::String));
        set(
            "isArchive",
            options.archive.map(|keep| json!(if keep { "1" } else { "0" })),
        );
        let mut request = json_request(join(&self.base, "push"), &body);
        if let Some((user, password)) = &self.login {
            request.headers.push(basic_auth(user, password));
        }
        request
    }
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
        let request = BarkDevice::new("https://api.day.app", "DeviceKey0123456789").request(&notice());
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
        let request = BarkDevice::new("http://10.0.0.2:8080/bark/", "k").request(&bare_notice());
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

    #[test]
    fn format_markdown_sends_bark_s_markdown_field_with_the_links_as_links() {
        let Ok(super::super::ChannelAddress::Bark(device)) =
            super::super::parse("barks://bark.example.com/NxLsF7kQ2Bv9pR4tW8yZcA?format=markdown")
        else {
            panic!()
        };
        let body = body_json(&device.request(&notice()));
        assert_eq!(body.get("body"), None);
        assert_eq!(
            body["markdown"],
            "早班 09:00 上班，记得打卡。\n\n[我已打卡](https://kq.example.com/a/done?t=abc)\n\n[今天不用提醒](https://kq.example.com/a/skip?t=abc)"
        );
        assert!(super::super::parse("bark://h/NxLsF7kQ2Bv9pR4tW8yZcA?format=html").is_err());
    }
}
