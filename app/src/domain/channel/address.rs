//! The URL a user pastes for a channel, parsed once into a typed address. The forms are the
//! platforms' own webhook URLs and the Apprise-style URLs people already use
//! (`bark://host/key`, `ntfy://topic`, `schan://SCT…`, `mailto://user:pass@smtp.host`, …);
//! [`ChannelKind::url_forms`] lists them. Errors say exactly what is wrong, in Chinese, and
//! never quote a secret.

use std::fmt;
use std::ops::Range;

use super::ChannelKind;
use super::email::{EmailSpec, EmailTls};
use crate::domain::redact::MASK;

/// The longest address accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// The most mobiles (DingTalk), receivers (WxPusher) or recipients (e-mail) in one address.
pub const MAX_RECIPIENTS: usize = 20;

const DINGTALK_SEND: &str = "https://oapi.dingtalk.com/robot/send?access_token=";
const FEISHU_HOOK: &str = "https://open.feishu.cn/open-apis/bot/v2/hook/";
const WECOM_SEND: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=";
const NTFY_SH: &str = "https://ntfy.sh";

const SUPPORTED: &str = "https://、bark://、ntfy://、gotify://、schan://、pushplus://、wxpusher://、mailto://、dingtalk://、feishu:// 或 wecombot://";

/// What is wrong with an address, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AddressError {
    pub message: String,
}

impl AddressError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
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

/// One channel's destination. The robot variants hold the https URL to post to.
#[derive(Clone, PartialEq, Eq)]
pub enum ChannelAddress {
    DingTalk {
        webhook: String,
        /// 加签 secret (`SEC…`).
        secret: Option<String>,
        /// Mobiles to mention.
        mobiles: Vec<String>,
    },
    Feishu {
        webhook: String,
        secret: Option<String>,
    },
    WeCom {
        webhook: String,
    },
    Generic {
        url: String,
    },
    Bark {
        /// `https://host[:port][/path]`, no trailing slash.
        base: String,
        device_key: String,
    },
    Ntfy {
        base: String,
        topic: String,
        auth: Option<NtfyAuth>,
    },
    Gotify {
        base: String,
        token: String,
    },
    ServerChan {
        /// Turbo `SCT…`, or ServerChan³ `sctp{uid}t…` (see [`serverchan3_uid`]).
        sendkey: String,
    },
    PushPlus {
        token: String,
    },
    WxPusher {
        app_token: String,
        uids: Vec<String>,
        topic_ids: Vec<u64>,
    },
    Email(EmailSpec),
}

/// Shows the masked address only.
impl fmt::Debug for ChannelAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelAddress({})", self.masked())
    }
}

/// The hosted services' API bases. `Default` is the real hosts; the server overrides them
/// from `SERVERCHAN_API_BASE`, `PUSHPLUS_API_BASE` and `WXPUSHER_API_BASE` (tests point
/// them at local mocks) through [`ServiceBases::with_overrides`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBases {
    /// ServerChan Turbo: `POST {serverchan}/{sendkey}.send`.
    pub serverchan: String,
    /// ServerChan³: `None` posts to each key's own host,
    /// `https://{uid}.push.ft07.com/send/{sendkey}.send`; `Some(base)` posts to
    /// `{base}/send/{sendkey}.send` (the same path on one overriding host).
    pub serverchan3: Option<String>,
    /// `POST {pushplus}/send`.
    pub pushplus: String,
    /// `POST {wxpusher}/api/send/message`.
    pub wxpusher: String,
}

impl ServiceBases {
    pub const SERVERCHAN: &'static str = "https://sctapi.ftqq.com";
    pub const PUSHPLUS: &'static str = "https://www.pushplus.plus";
    pub const WXPUSHER: &'static str = "https://wxpusher.zjiecode.com";

    /// The real hosts, with each given base (trailing slashes dropped) replacing its
    /// service's. A ServerChan base replaces both the Turbo and the ServerChan³ host.
    pub fn with_overrides(
        serverchan: Option<&str>,
        pushplus: Option<&str>,
        wxpusher: Option<&str>,
    ) -> Self {
        let clean = |base: &str| base.trim().trim_end_matches('/').to_owned();
        let mut bases = Self::default();
        if let Some(base) = serverchan {
            bases.serverchan = clean(base);
            bases.serverchan3 = Some(clean(base));
        }
        if let Some(base) = pushplus {
            bases.pushplus = clean(base);
        }
        if let Some(base) = wxpusher {
            bases.wxpusher = clean(base);
        }
        bases
    }
}

impl Default for ServiceBases {
    fn default() -> Self {
        Self {
            serverchan: Self::SERVERCHAN.to_owned(),
            serverchan3: None,
            pushplus: Self::PUSHPLUS.to_owned(),
            wxpusher: Self::WXPUSHER.to_owned(),
        }
    }
}

/// The uid of a ServerChan³ key (`sctp{uid}t…`); `None` for Turbo keys.
pub fn serverchan3_uid(sendkey: &str) -> Option<&str> {
    let rest = sendkey.strip_prefix("sctp")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    (digits > 0 && rest[digits..].starts_with('t')).then(|| &rest[..digits])
}

impl ChannelAddress {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::DingTalk { .. } => ChannelKind::DingTalk,
            Self::Feishu { .. } => ChannelKind::Feishu,
            Self::WeCom { .. } => ChannelKind::WeCom,
            Self::Generic { .. } => ChannelKind::Generic,
            Self::Bark { .. } => ChannelKind::Bark,
            Self::Ntfy { .. } => ChannelKind::Ntfy,
            Self::Gotify { .. } => ChannelKind::Gotify,
            Self::ServerChan { .. } => ChannelKind::ServerChan,
            Self::PushPlus { .. } => ChannelKind::PushPlus,
            Self::WxPusher { .. } => ChannelKind::WxPusher,
            Self::Email(_) => ChannelKind::Email,
        }
    }

    /// The address as it may be shown or logged: every secret cut to its first four and
    /// last two characters (hidden whole when shorter than 12).
    pub fn masked(&self) -> String {
        match self {
            Self::DingTalk {
                webhook,
                secret,
                mobiles,
            } => {
                let mut shown = mask_web_url(webhook);
                if let Some(secret) = secret {
                    shown.push_str(&format!("（加签密钥 {}）", mask_secret(secret)));
                }
                if !mobiles.is_empty() {
                    shown.push_str(&format!("（提醒 {}）", mobiles.join("、")));
                }
                shown
            }
            Self::Feishu { webhook, secret } => {
                let mut shown = mask_web_url(webhook);
                if let Some(secret) = secret {
                    shown.push_str(&format!("（加签密钥 {}）", mask_secret(secret)));
                }
                shown
            }
            Self::WeCom { webhook } => mask_web_url(webhook),
            Self::Generic { url } => mask_web_url(url),
            Self::Bark { base, device_key } => {
                format!("{}/{}", app_form(base, "bark"), mask_secret(device_key))
            }
            Self::Ntfy { base, topic, auth } => {
                let shown = app_form(base, "ntfy");
                let (scheme, rest) = shown.split_once("://").unwrap_or(("ntfys", &shown));
                let login = match auth {
                    None => String::new(),
                    Some(NtfyAuth::Basic { username, .. }) => {
                        format!("{}:{MASK}@", encode_userinfo(username))
                    }
                    Some(NtfyAuth::Token(token)) => format!("{}@", mask_secret(token)),
                };
                format!("{scheme}://{login}{rest}/{}", mask_secret(topic))
            }
            Self::Gotify { base, token } => {
                format!("{}/{}", app_form(base, "gotify"), mask_secret(token))
            }
            Self::ServerChan { sendkey } => format!("schan://{}", mask_secret(sendkey)),
            Self::PushPlus { token } => format!("pushplus://{}", mask_secret(token)),
            Self::WxPusher {
                app_token,
                uids,
                topic_ids,
            } => {
                let mut shown = format!("wxpusher://{}", mask_secret(app_token));
                for uid in uids {
                    shown.push('/');
                    shown.push_str(uid);
                }
                for topic in topic_ids {
                    shown.push_str(&format!("/{topic}"));
                }
                shown
            }
            Self::Email(spec) => {
                let scheme = match spec.tls {
                    EmailTls::StartTls => "mailto",
                    EmailTls::Implicit => "mailtos",
                };
                format!(
                    "{scheme}://{}:{MASK}@{}:{}?to={}&from={}",
                    encode_userinfo(&spec.username),
                    spec.host,
                    spec.port,
                    spec.to.join(","),
                    spec.from
                )
            }
        }
    }

    /// Every secret in the address (keys, tokens, passwords, sendkeys, webhook query values
    /// and path tokens), to be removed by value from error texts
    /// (`redact::Secrets::with`).
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Self::DingTalk {
                webhook, secret, ..
            }
            | Self::Feishu { webhook, secret } => {
                let mut found = web_secrets(webhook);
                found.extend(secret.as_deref());
                found
            }
            Self::WeCom { webhook } => web_secrets(webhook),
            Self::Generic { url } => web_secrets(url),
            Self::Bark { device_key, .. } => vec![device_key],
            Self::Ntfy { topic, auth, .. } => {
                let mut found = vec![topic.as_str()];
                match auth {
                    Some(NtfyAuth::Basic { password, .. }) => found.push(password),
                    Some(NtfyAuth::Token(token)) => found.push(token),
                    None => {}
                }
                found
            }
            Self::Gotify { token, .. } => vec![token],
            Self::ServerChan { sendkey } => vec![sendkey],
            Self::PushPlus { token } => vec![token],
            Self::WxPusher { app_token, .. } => vec![app_token],
            Self::Email(spec) => vec![&spec.password],
        }
    }

    /// The e-mail settings, for the SMTP sender.
    pub fn email(&self) -> Option<&EmailSpec> {
        match self {
            Self::Email(spec) => Some(spec),
            _ => None,
        }
    }
}

/// A secret as shown: first four and last two characters. Shorter than 12 it is hidden
/// whole, since six shown characters would give most of it away.
pub fn mask_secret(secret: &str) -> String {
    let count = secret.chars().count();
    if count < 12 {
        return MASK.to_owned();
    }
    let head: String = secret.chars().take(4).collect();
    let tail: String = secret.chars().skip(count - 2).collect();
    format!("{head}{MASK}{tail}")
}

/// `https://host/path` → `barks://host/path` (and `http` → `bark`), the app form of a base.
fn app_form(base: &str, app: &str) -> String {
    if let Some(rest) = base.strip_prefix("https://") {
        format!("{app}s://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("{app}://{rest}")
    } else {
        base.to_owned()
    }
}

fn encode_userinfo(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('@', "%40")
        .replace(':', "%3A")
}

/// The byte ranges of a web URL that may hold credentials: the user info's password (all of
/// it when there is no `:`), every query value, path segments longer than 16 characters and
/// the segment after `hook` (Feishu's hook id, whatever its length).
fn web_secret_ranges(url: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let start = url.find("://").map_or(0, |at| at + 3);
    let end = url[start..].find('#').map_or(url.len(), |at| start + at);
    let authority_end = url[start..end]
        .find(['/', '?'])
        .map_or(end, |at| start + at);
    if let Some(at) = url[start..authority_end].rfind('@') {
        let userinfo = start..start + at;
        match url[userinfo.clone()].find(':') {
            Some(colon) => ranges.push(userinfo.start + colon + 1..userinfo.end),
            None => ranges.push(userinfo),
        }
    }
    let query_start = url[authority_end..end]
        .find('?')
        .map(|at| authority_end + at);
    let path_end = query_start.unwrap_or(end);
    let mut cursor = authority_end;
    let mut previous = "";
    for segment in url[authority_end..path_end].split('/') {
        let range = cursor..cursor + segment.len();
        cursor = range.end + 1;
        if segment.chars().count() > 16 || previous == "hook" {
            ranges.push(range);
        }
        previous = segment;
    }
    if let Some(query_start) = query_start {
        let mut cursor = query_start + 1;
        for pair in url[query_start + 1..end].split('&') {
            let pair_start = cursor;
            cursor += pair.len() + 1;
            if let Some(eq) = pair.find('=') {
                ranges.push(pair_start + eq + 1..pair_start + pair.len());
            }
        }
    }
    ranges.retain(|range| !range.is_empty());
    ranges
}

fn web_secrets(url: &str) -> Vec<&str> {
    web_secret_ranges(url)
        .into_iter()
        .map(|range| &url[range])
        .collect()
}

fn mask_web_url(url: &str) -> String {
    let mut shown = String::with_capacity(url.len());
    let mut at = 0;
    for range in web_secret_ranges(url) {
        shown.push_str(&url[at..range.start]);
        shown.push_str(&mask_secret(&url[range.clone()]));
        at = range.end;
    }
    shown.push_str(&url[at..]);
    shown
}

/// Parses the address a user pasted.
pub fn parse(url: &str) -> Result<ChannelAddress, AddressError> {
    let raw = url.trim();
    if raw.is_empty() {
        return Err(AddressError::new("请填写推送地址"));
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(AddressError::new(format!(
            "地址太长：最多 {MAX_URL_BYTES} 字节，这个有 {} 字节",
            raw.len()
        )));
    }
    if raw.chars().any(char::is_control) {
        return Err(AddressError::new("地址不能包含换行、制表符或其他控制字符"));
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(AddressError::new("地址中间不能有空格"));
    }
    let parts = split(raw)?;
    match parts.scheme.as_str() {
        "http" | "https" => parse_web(raw, &parts),
        "bark" | "barks" => parse_bark(&parts),
        "ntfy" | "ntfys" => parse_ntfy(&parts),
        "gotify" | "gotifys" => parse_gotify(&parts),
        "schan" => parse_serverchan(&parts),
        "pushplus" => parse_pushplus(&parts),
        "wxpusher" => parse_wxpusher(&parts),
        "mailto" | "mailtos" => parse_email(&parts),
        "dingtalk" => parse_dingtalk(&parts),
        "feishu" => parse_feishu(&parts),
        "wecombot" => parse_wecom(&parts),
        other => Err(AddressError::new(format!(
            "不支持的地址类型“{}://”：应以 {SUPPORTED} 开头",
            shorten(other, 20)
        ))),
    }
}

/// A URL cut into its parts, as typed (only the scheme is lower-cased).
struct Parts<'a> {
    scheme: String,
    userinfo: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl Parts<'_> {
    fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// `"{scheme}:// 地址"`, the subject of most messages.
    fn subject(&self) -> String {
        format!("{}:// 地址", self.scheme)
    }

    fn error(&self, what: &str) -> AddressError {
        AddressError::new(format!("{}{what}（{}）", self.subject(), self.form()))
    }

    /// The expected form, for messages.
    fn form(&self) -> String {
        let shape = match self.scheme.as_str() {
            "bark" | "barks" => "主机/设备密钥",
            "ntfy" | "ntfys" => "主机/主题",
            "gotify" | "gotifys" => "主机/应用令牌",
            "schan" => "SendKey",
            "pushplus" => "令牌",
            "wxpusher" => "AT_应用令牌/UID_用户",
            "mailto" | "mailtos" => "用户名:密码@SMTP主机?to=收件人",
            "dingtalk" => "加签密钥@令牌/手机号",
            "feishu" => "令牌/加签密钥",
            "wecombot" => "key",
            _ => "主机/路径",
        };
        format!("{}://{shape}", self.scheme)
    }

    fn no_userinfo(&self) -> Result<(), AddressError> {
        match self.userinfo {
            Some(_) => Err(self.error("不支持用户名和密码")),
            None => Ok(()),
        }
    }

    fn no_port(&self) -> Result<(), AddressError> {
        match self.port {
            Some(_) => Err(self.error("不能带端口")),
            None => Ok(()),
        }
    }

    fn no_query_or_fragment(&self) -> Result<(), AddressError> {
        if self.query.is_some() {
            return Err(self.error("不支持 ? 之后的参数"));
        }
        if self.fragment.is_some() {
            return Err(self.error("不能包含 #"));
        }
        Ok(())
    }

    fn no_path(&self) -> Result<(), AddressError> {
        if self.segments().is_empty() {
            Ok(())
        } else {
            Err(self.error("格式不对"))
        }
    }

    /// The host and port as a base URL prefix, e.g. `https://host:8080`.
    fn origin(&self, secure: bool) -> Result<String, AddressError> {
        let host = network_host(self.host, &self.subject())?;
        let port = port(self.port)?;
        let scheme = if secure { "https" } else { "http" };
        Ok(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        })
    }
}

fn split(raw: &str) -> Result<Parts<'_>, AddressError> {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(AddressError::new(format!(
            "无法识别的地址：应以 {SUPPORTED} 开头"
        )));
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(AddressError::new(format!(
            "无法识别的地址：应以 {SUPPORTED} 开头"
        )));
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = if host_port.starts_with('[') {
        let end = host_port
            .find(']')
            .ok_or_else(|| AddressError::new("IPv6 主机地址缺少 ]"))?;
        let after = &host_port[end + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| {
                AddressError::new(format!("主机名“{}”无效", shorten(host_port, 64)))
            })?),
        };
        (&host_port[..=end], port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    Ok(Parts {
        scheme: scheme.to_ascii_lowercase(),
        userinfo,
        host,
        port,
        path,
        query,
        fragment,
    })
}

fn shorten(value: &str, max: usize) -> String {
    super::truncate_chars(value, max)
}

/// A host name, IPv4 address or bracketed IPv6 address, lower-cased.
fn network_host(host: &str, subject: &str) -> Result<String, AddressError> {
    if host.is_empty() {
        return Err(AddressError::new(format!("{subject}缺少主机名")));
    }
    let invalid = || AddressError::new(format!("主机名“{}”无效", shorten(host, 64)));
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(invalid());
        }
        return Ok(host.to_ascii_lowercase());
    }
    let valid = host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        });
    if valid {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

fn port(raw: Option<&str>) -> Result<Option<u16>, AddressError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let invalid = || AddressError::new(format!("端口“{}”无效，应为 1–65535", shorten(raw, 16)));
    if raw.is_empty() || raw.len() > 5 || !raw.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    match raw.parse::<u16>() {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(port) => Ok(Some(port)),
    }
}

/// Checks a token-like value: present, at most `max` characters, each one `allowed`.
/// The messages name the value but never quote it.
fn token(
    value: &str,
    name: &str,
    max: usize,
    allowed: fn(char) -> bool,
    charset: &str,
) -> Result<String, AddressError> {
    if value.is_empty() {
        return Err(AddressError::new(format!("{name}不能为空")));
    }
    if !value.chars().all(allowed) {
        return Err(AddressError::new(format!("{name}只能包含{charset}")));
    }
    let count = value.chars().count();
    if count > max {
        return Err(AddressError::new(format!(
            "{name}最多 {max} 个字符，这个有 {count} 个"
        )));
    }
    Ok(value.to_owned())
}

fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

const KEY_CHARSET: &str = "英文字母、数字、- 和 _";
const ALNUM_CHARSET: &str = "英文字母和数字";

/// Path segments before the key of a self-hosted service behind a reverse proxy.
fn path_prefix(segments: &[&str]) -> Result<String, AddressError> {
    let mut prefix = String::new();
    for segment in segments {
        if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
        {
            return Err(AddressError::new(format!(
                "路径“{}”含有不支持的字符",
                shorten(segment, 64)
            )));
        }
        prefix.push('/');
        prefix.push_str(segment);
    }
    Ok(prefix)
}

/// Percent-decodes `value` strictly (`+` stays `+`): a bad escape, invalid UTF-8 or a
/// decoded control character is an error naming `what`.
fn decode(value: &str, what: &str) -> Result<String, AddressError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
            match (hex(index + 1), hex(index + 2)) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    index += 3;
                }
                _ => return Err(AddressError::new(format!("{what}中的 % 编码无效"))),
            }
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    let decoded =
        String::from_utf8(out).map_err(|_| AddressError::new(format!("{what}不是有效的 UTF-8")))?;
    if decoded.chars().any(char::is_control) {
        return Err(AddressError::new(format!("{what}不能包含控制字符")));
    }
    Ok(decoded)
}

fn query_pairs(query: &str) -> Result<Vec<(String, String)>, AddressError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name, "参数名")?, decode(value, "参数值")?))
        })
        .collect()
}

/// The value of query parameter `name` in a raw query, as typed.
fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Removes repeats, keeping the first of each.
fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

fn at_most(count: usize, what: &str) -> Result<(), AddressError> {
    if count > MAX_RECIPIENTS {
        Err(AddressError::new(format!(
            "最多 {MAX_RECIPIENTS} 个{what}，这里有 {count} 个"
        )))
    } else {
        Ok(())
    }
}

/// `https://…` and `http://…`: the platforms' own URLs, recognised by host and, failing
/// that, by path (as `robot::Platform::detect` does, so local mock robots count), else a
/// generic webhook.
fn parse_web(raw: &str, parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    let host = network_host(parts.host, "网址")?;
    port(parts.port)?;
    let secure = parts.scheme == "https";
    let segments = parts.segments();
    match host.as_str() {
        "api.day.app" => {
            // The Bark app shares `https://api.day.app/KEY/推送内容`: the key is the first
            // segment, the rest is a sample message.
            let Some(key) = segments.first() else {
                return Err(AddressError::new(
                    "Bark 地址缺少设备密钥（https://api.day.app/设备密钥）",
                ));
            };
            return Ok(ChannelAddress::Bark {
                base: parts.origin(secure)?,
                device_key: token(key, "Bark 设备密钥", 128, key_char, KEY_CHARSET)?,
            });
        }
        "ntfy.sh" => {
            parts.no_query_or_fragment()?;
            return ntfy_topic(parts, parts.origin(secure)?, &segments);
        }
        "sctapi.ftqq.com" => {
            let key = match segments.as_slice() {
                [file] => file.strip_suffix(".send"),
                _ => None,
            };
            let Some(key) = key else {
                return Err(AddressError::new(
                    "Server酱地址应为 https://sctapi.ftqq.com/SendKey.send",
                ));
            };
            return Ok(ChannelAddress::ServerChan {
                sendkey: serverchan_key(key)?,
            });
        }
        _ => {}
    }
    if let Some(uid) = host.strip_suffix(".push.ft07.com") {
        let key = match segments.as_slice() {
            ["send", file] => file.strip_suffix(".send"),
            _ => None,
        };
        let Some(key) = key else {
            return Err(AddressError::new(
                "Server酱³地址应为 https://数字.push.ft07.com/send/SendKey.send",
            ));
        };
        let sendkey = serverchan_key(key)?;
        if serverchan3_uid(&sendkey) != Some(uid) {
            return Err(AddressError::new(
                "Server酱³地址的主机和 SendKey 不一致（SendKey 应为 sctp主机里的数字t…）",
            ));
        }
        return Ok(ChannelAddress::ServerChan { sendkey });
    }
    let path = parts.path.trim_end_matches('/');
    let dingtalk = host == "oapi.dingtalk.com";
    let feishu = matches!(host.as_str(), "open.feishu.cn" | "open.larksuite.com");
    let wecom = host == "qyapi.weixin.qq.com";
    let by_host = dingtalk || feishu || wecom;
    if dingtalk || (!by_host && path.ends_with("/robot/send")) {
        if query_value(parts.query, "access_token").is_none() {
            return Err(AddressError::new(
                "钉钉机器人地址缺少 access_token（https://oapi.dingtalk.com/robot/send?access_token=…）",
            ));
        }
        return Ok(ChannelAddress::DingTalk {
            webhook: raw.to_owned(),
            secret: None,
            mobiles: Vec::new(),
        });
    }
    if feishu || (!by_host && path.contains("/open-apis/bot/v2/hook/")) {
        let hook = path
            .split_once("/open-apis/bot/v2/hook/")
            .map(|(_, hook)| hook)
            .unwrap_or_default();
        if hook.is_empty() || hook.contains('/') {
            return Err(AddressError::new(
                "飞书机器人地址缺少 hook 令牌（https://open.feishu.cn/open-apis/bot/v2/hook/…）",
            ));
        }
        return Ok(ChannelAddress::Feishu {
            webhook: raw.to_owned(),
            secret: None,
        });
    }
    if wecom || (!by_host && path.ends_with("/cgi-bin/webhook/send")) {
        if query_value(parts.query, "key").is_none() {
            return Err(AddressError::new(
                "企业微信机器人地址缺少 key（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）",
            ));
        }
        return Ok(ChannelAddress::WeCom {
            webhook: raw.to_owned(),
        });
    }
    Ok(ChannelAddress::Generic {
        url: raw.to_owned(),
    })
}

/// `bark://host[:port][/path]/device_key`, `barks://` for https.
fn parse_bark(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_query_or_fragment()?;
    let segments = parts.segments();
    let Some((key, prefix)) = segments.split_last() else {
        return Err(parts.error("缺少设备密钥"));
    };
    let base = format!(
        "{}{}",
        parts.origin(parts.scheme == "barks")?,
        path_prefix(prefix)?
    );
    Ok(ChannelAddress::Bark {
        base,
        device_key: token(key, "Bark 设备密钥", 128, key_char, KEY_CHARSET)?,
    })
}

/// `ntfy://[user:pass@]host[:port]/topic`, `ntfys://` for https; `ntfy://topic` is a topic
/// on ntfy.sh (as in Apprise).
fn parse_ntfy(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_query_or_fragment()?;
    let segments = parts.segments();
    if segments.is_empty() {
        let is_topic = parts.port.is_none() && is_ntfy_topic(parts.host);
        if !is_topic {
            return Err(parts.error("缺少主题"));
        }
        return ntfy_topic(parts, NTFY_SH.to_owned(), &[parts.host]);
    }
    ntfy_topic(parts, parts.origin(parts.scheme == "ntfys")?, &segments)
}

fn is_ntfy_topic(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.chars().all(key_char)
}

fn ntfy_topic(
    parts: &Parts<'_>,
    base: String,
    segments: &[&str],
) -> Result<ChannelAddress, AddressError> {
    let topic = match segments {
        [] => return Err(AddressError::new("ntfy 地址缺少主题（ntfys://主机/主题）")),
        [topic] => *topic,
        _ => {
            return Err(AddressError::new(
                "ntfy 地址只能有一个主题（ntfys://主机/主题）",
            ));
        }
    };
    if !is_ntfy_topic(topic) {
        return Err(AddressError::new(
            "ntfy 主题只能包含英文字母、数字、- 和 _，最多 64 个字符",
        ));
    }
    let auth = match parts.userinfo {
        None => None,
        Some(userinfo) => Some(ntfy_auth(userinfo)?),
    };
    Ok(ChannelAddress::Ntfy {
        base,
        topic: topic.to_owned(),
        auth,
    })
}

fn ntfy_auth(userinfo: &str) -> Result<NtfyAuth, AddressError> {
    let bad = || AddressError::new("ntfy 的登录信息应为 用户名:密码@ 或 tk_访问令牌@");
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (decode(user, "ntfy 用户名")?, decode(password, "ntfy 密码")?),
        None => (decode(userinfo, "ntfy 访问令牌")?, String::new()),
    };
    if password.is_empty() && user.starts_with("tk_") {
        return Ok(NtfyAuth::Token(token(
            &user,
            "ntfy 访问令牌",
            128,
            key_char,
            KEY_CHARSET,
        )?));
    }
    if user.is_empty() && password.starts_with("tk_") {
        return Ok(NtfyAuth::Token(token(
            &password,
            "ntfy 访问令牌",
            128,
            key_char,
            KEY_CHARSET,
        )?));
    }
    if user.is_empty() || password.is_empty() || user.contains(':') {
        return Err(bad());
    }
    Ok(NtfyAuth::Basic {
        username: user,
        password,
    })
}

/// `gotify://host[:port][/path]/token`, `gotifys://` for https.
fn parse_gotify(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_query_or_fragment()?;
    let segments = parts.segments();
    let Some((app_token, prefix)) = segments.split_last() else {
        return Err(parts.error("缺少应用令牌"));
    };
    let base = format!(
        "{}{}",
        parts.origin(parts.scheme == "gotifys")?,
        path_prefix(prefix)?
    );
    Ok(ChannelAddress::Gotify {
        base,
        token: token(
            app_token,
            "Gotify 应用令牌",
            128,
            gotify_char,
            "英文字母、数字、-、_ 和 .",
        )?,
    })
}

fn gotify_char(c: char) -> bool {
    key_char(c) || c == '.'
}

/// `schan://sendkey`.
fn parse_serverchan(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    parts.no_path()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少 SendKey"));
    }
    Ok(ChannelAddress::ServerChan {
        sendkey: serverchan_key(parts.host)?,
    })
}

fn serverchan_key(key: &str) -> Result<String, AddressError> {
    let key = token(key, "Server酱 SendKey ", 128, alnum, ALNUM_CHARSET)?;
    if key.starts_with("sctp") && serverchan3_uid(&key).is_none() {
        return Err(AddressError::new(
            "Server酱³ 的 SendKey 应为 sctp数字t…（从 sc3.ft07.com 复制完整的 SendKey）",
        ));
    }
    Ok(key)
}

/// `pushplus://token`.
fn parse_pushplus(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    parts.no_path()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少令牌"));
    }
    Ok(ChannelAddress::PushPlus {
        token: token(parts.host, "PushPlus 令牌", 64, alnum, ALNUM_CHARSET)?,
    })
}

/// `wxpusher://AT_xxx/UID_a[/UID_b…][/topic_id…]`.
fn parse_wxpusher(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少 appToken"));
    }
    if !parts.host.starts_with("AT_") {
        return Err(parts.error("的 appToken 应以 AT_ 开头"));
    }
    let app_token = token(parts.host, "WxPusher appToken ", 128, key_char, KEY_CHARSET)?;
    let segments = parts.segments();
    if segments.is_empty() {
        return Err(parts.error("缺少接收人"));
    }
    at_most(segments.len(), "接收人")?;
    let mut uids = Vec::new();
    let mut topic_ids = Vec::new();
    for segment in segments {
        if segment.starts_with("UID_") && segment.len() <= 64 && segment.chars().all(key_char) {
            uids.push(segment.to_owned());
        } else if let Some(topic) = segment
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0 && segment.chars().all(|c| c.is_ascii_digit()))
        {
            if !topic_ids.contains(&topic) {
                topic_ids.push(topic);
            }
        } else {
            return Err(AddressError::new(format!(
                "WxPusher 接收人“{}”无效：用户应以 UID_ 开头，主题是数字",
                shorten(segment, 64)
            )));
        }
    }
    Ok(ChannelAddress::WxPusher {
        app_token,
        uids: dedup(uids),
        topic_ids,
    })
}

/// `mailto://user:pass@smtp.host[:port]?to=a@b[,c@d][&from=…]` (STARTTLS, default port
/// 587) and `mailtos://` (implicit TLS, default 465).
fn parse_email(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    let implicit = parts.scheme == "mailtos";
    if parts.fragment.is_some() {
        return Err(parts.error("不能包含 #"));
    }
    if !parts.segments().is_empty() {
        return Err(parts.error("不能有路径，收件人请写在 ?to= 里"));
    }
    let Some(userinfo) = parts.userinfo else {
        return Err(parts.error("缺少登录信息"));
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return Err(parts.error("缺少密码"));
    };
    let username = decode(user, "邮箱用户名")?;
    let password = decode(password, "邮箱密码")?;
    if username.is_empty() {
        return Err(parts.error("缺少用户名"));
    }
    if password.is_empty() {
        return Err(parts.error("缺少密码"));
    }
    let host = network_host(parts.host, &parts.subject())?;
    let port = port(parts.port)?.unwrap_or(if implicit { 465 } else { 587 });
    let mut to = Vec::new();
    let mut from = None;
    for (name, value) in query_pairs(parts.query.unwrap_or_default())? {
        match name.to_ascii_lowercase().as_str() {
            "to" => {
                for address in value.split(',').filter(|a| !a.trim().is_empty()) {
                    to.push(email_address(address)?);
                }
            }
            "from" => from = Some(email_address(&value)?),
            _ => {
                return Err(AddressError::new(format!(
                    "{}不支持参数“{}”（可用 to、from）",
                    parts.subject(),
                    shorten(&name, 32)
                )));
            }
        }
    }
    let user_address = email_address(&username).ok();
    if to.is_empty() {
        match &user_address {
            Some(address) => to.push(address.clone()),
            None => {
                return Err(AddressError::new(format!(
                    "{}缺少收件人：用户名不是邮箱地址，请加上 ?to=收件人",
                    parts.subject()
                )));
            }
        }
    }
    let to = dedup(to);
    at_most(to.len(), "收件人")?;
    let from = match from.or(user_address) {
        Some(from) => from,
        None => {
            return Err(AddressError::new(format!(
                "{}缺少发件人：用户名不是邮箱地址，请加上 &from=发件人",
                parts.subject()
            )));
        }
    };
    Ok(ChannelAddress::Email(EmailSpec {
        host,
        port,
        tls: if implicit {
            EmailTls::Implicit
        } else {
            EmailTls::StartTls
        },
        username,
        password,
        from,
        to,
    }))
}

/// A minimal check: one `@` with something on both sides, no spaces or control
/// characters, at most 254 characters.
fn email_address(value: &str) -> Result<String, AddressError> {
    let value = value.trim();
    let invalid = || AddressError::new(format!("邮箱地址“{}”无效", shorten(value, 64)));
    let valid = value.chars().count() <= 254
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && matches!(value.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(invalid())
    }
}

/// `dingtalk://[secret@]token[/mobile[/mobile…]]`.
fn parse_dingtalk(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少 access_token"));
    }
    let access_token = token(
        parts.host,
        "钉钉机器人 access_token ",
        128,
        key_char,
        KEY_CHARSET,
    )?;
    let secret = match parts.userinfo {
        None => None,
        Some(secret) => {
            if !secret.starts_with("SEC") || !secret.chars().all(alnum) || secret.len() > 128 {
                return Err(AddressError::new(
                    "钉钉加签密钥应以 SEC 开头，只含英文字母和数字（dingtalk://SEC…@令牌）",
                ));
            }
            Some(secret.to_owned())
        }
    };
    let segments = parts.segments();
    at_most(segments.len(), "手机号")?;
    let mut mobiles = Vec::new();
    for segment in segments {
        mobiles.push(mobile(segment)?);
    }
    Ok(ChannelAddress::DingTalk {
        webhook: format!("{DINGTALK_SEND}{access_token}"),
        secret,
        mobiles: dedup(mobiles),
    })
}

/// Digits, optionally a leading `+` and `-` separators (`+86-13800138000`), 5–20 long.
fn mobile(value: &str) -> Result<String, AddressError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    let valid = (5..=20).contains(&value.len())
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(AddressError::new(format!(
            "手机号“{}”无效",
            shorten(value, 24)
        )))
    }
}

/// `feishu://token[/secret]`.
fn parse_feishu(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少令牌"));
    }
    let hook = token(parts.host, "飞书机器人令牌", 128, key_char, KEY_CHARSET)?;
    let secret = match parts.segments().as_slice() {
        [] => None,
        [secret] => Some(token(secret, "飞书加签密钥", 128, key_char, KEY_CHARSET)?),
        _ => return Err(parts.error("格式不对")),
    };
    Ok(ChannelAddress::Feishu {
        webhook: format!("{FEISHU_HOOK}{hook}"),
        secret,
    })
}

/// `wecombot://key`.
fn parse_wecom(parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    parts.no_userinfo()?;
    parts.no_port()?;
    parts.no_query_or_fragment()?;
    parts.no_path()?;
    if parts.host.is_empty() {
        return Err(parts.error("缺少 key"));
    }
    let key = token(
        parts.host,
        "企业微信机器人 key ",
        128,
        key_char,
        KEY_CHARSET,
    )?;
    Ok(ChannelAddress::WeCom {
        webhook: format!("{WECOM_SEND}{key}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> ChannelAddress {
        parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn err(url: &str) -> String {
        match parse(url) {
            Ok(address) => panic!("{url} parsed as {address:?}"),
            Err(error) => error.message,
        }
    }

    fn bark(base: &str, key: &str) -> ChannelAddress {
        ChannelAddress::Bark {
            base: base.to_owned(),
            device_key: key.to_owned(),
        }
    }

    const KEY: &str = "NxLsF7kQ2Bv9pR4tW8yZcA";

    // ---- Bark ----

    #[test]
    fn bark_forms() {
        assert_eq!(
            ok(&format!("bark://bark.example.com/{KEY}")),
            bark("http://bark.example.com", KEY)
        );
        assert_eq!(
            ok(&format!("barks://Bark.Example.com:8443/push/v1/{KEY}/")),
            bark("https://bark.example.com:8443/push/v1", KEY)
        );
        assert_eq!(
            ok(&format!("BARKS://[::1]:8080/{KEY}")),
            bark("https://[::1]:8080", KEY)
        );
        assert_eq!(
            ok(&format!("https://api.day.app/{KEY}")),
            bark("https://api.day.app", KEY)
        );
        // The app shares the key followed by a sample message.
        assert_eq!(
            ok(&format!(
                "https://api.day.app/{KEY}/这里改成你自己的推送内容"
            )),
            bark("https://api.day.app", KEY)
        );
        assert_eq!(
            ok(&format!("  https://api.day.app/{KEY}?group=x  ")),
            bark("https://api.day.app", KEY)
        );
    }

    #[test]
    fn bark_errors() {
        assert_eq!(
            err("bark://bark.example.com"),
            "bark:// 地址缺少设备密钥（bark://主机/设备密钥）"
        );
        assert_eq!(
            err("barks://bark.example.com/"),
            "barks:// 地址缺少设备密钥（barks://主机/设备密钥）"
        );
        assert_eq!(
            err("https://api.day.app/"),
            "Bark 地址缺少设备密钥（https://api.day.app/设备密钥）"
        );
        assert_eq!(err(&format!("bark:///{KEY}")), "bark:// 地址缺少主机名");
        assert_eq!(
            err(&format!("bark://user:pw@host/{KEY}")),
            "bark:// 地址不支持用户名和密码（bark://主机/设备密钥）"
        );
        assert_eq!(
            err(&format!("bark://host/{KEY}?sound=bell")),
            "bark:// 地址不支持 ? 之后的参数（bark://主机/设备密钥）"
        );
        assert_eq!(
            err(&format!("bark://host/{KEY}#x")),
            "bark:// 地址不能包含 #（bark://主机/设备密钥）"
        );
        assert_eq!(
            err("bark://host/key%21"),
            "Bark 设备密钥只能包含英文字母、数字、- 和 _"
        );
        assert_eq!(
            err(&format!("bark://host/{}", "k".repeat(129))),
            "Bark 设备密钥最多 128 个字符，这个有 129 个"
        );
        assert_eq!(
            err(&format!("bark://host/a%20b/{KEY}")),
            "路径“a%20b”含有不支持的字符"
        );
        assert_eq!(err(&format!("bark://ho$t/{KEY}")), "主机名“ho$t”无效");
        assert_eq!(
            err(&format!("bark://host:0/{KEY}")),
            "端口“0”无效，应为 1–65535"
        );
        assert_eq!(
            err(&format!("bark://host:70000/{KEY}")),
            "端口“70000”无效，应为 1–65535"
        );
        assert_eq!(
            err(&format!("bark://host:/{KEY}")),
            "端口“”无效，应为 1–65535"
        );
        assert_eq!(err(&format!("bark://-host/{KEY}")), "主机名“-host”无效");
        assert_eq!(err(&format!("bark://a..b/{KEY}")), "主机名“a..b”无效");
    }

    // ---- ntfy ----

    fn ntfy(base: &str, topic: &str, auth: Option<NtfyAuth>) -> ChannelAddress {
        ChannelAddress::Ntfy {
            base: base.to_owned(),
            topic: topic.to_owned(),
            auth,
        }
    }

    #[test]
    fn ntfy_forms() {
        assert_eq!(
            ok("ntfy://kq-alerts_42"),
            ntfy("https://ntfy.sh", "kq-alerts_42", None)
        );
        assert_eq!(
            ok("ntfys://kq-alerts"),
            ntfy("https://ntfy.sh", "kq-alerts", None)
        );
        assert_eq!(
            ok("ntfy://ntfy.local:8080/alerts/"),
            ntfy("http://ntfy.local:8080", "alerts", None)
        );
        assert_eq!(
            ok("ntfys://phil:p%40ss%3Aw@ntfy.example.com/alerts"),
            ntfy(
                "https://ntfy.example.com",
                "alerts",
                Some(NtfyAuth::Basic {
                    username: "phil".to_owned(),
                    password: "p@ss:w".to_owned()
                })
            )
        );
        assert_eq!(
            ok("ntfys://tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2@ntfy.example.com/alerts"),
            ntfy(
                "https://ntfy.example.com",
                "alerts",
                Some(NtfyAuth::Token(
                    "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2".to_owned()
                ))
            )
        );
        assert_eq!(
            ok("ntfys://:tk_abc@ntfy.example.com/alerts"),
            ntfy(
                "https://ntfy.example.com",
                "alerts",
                Some(NtfyAuth::Token("tk_abc".to_owned()))
            )
        );
        assert_eq!(
            ok("https://ntfy.sh/kq-alerts"),
            ntfy("https://ntfy.sh", "kq-alerts", None)
        );
        assert_eq!(
            ok("ntfys://user:pass@kq-alerts"),
            ntfy(
                "https://ntfy.sh",
                "kq-alerts",
                Some(NtfyAuth::Basic {
                    username: "user".to_owned(),
                    password: "pass".to_owned()
                })
            )
        );
    }

    #[test]
    fn ntfy_errors() {
        assert_eq!(err("ntfy://"), "ntfy:// 地址缺少主题（ntfy://主机/主题）");
        assert_eq!(
            err("ntfy://ntfy.example.com"),
            "ntfy:// 地址缺少主题（ntfy://主机/主题）"
        );
        assert_eq!(
            err("ntfys://host:8080"),
            "ntfys:// 地址缺少主题（ntfys://主机/主题）"
        );
        assert_eq!(
            err("ntfy://host/a/b"),
            "ntfy 地址只能有一个主题（ntfys://主机/主题）"
        );
        assert_eq!(
            err("https://ntfy.sh/"),
            "ntfy 地址缺少主题（ntfys://主机/主题）"
        );
        assert_eq!(
            err("ntfy://host/bad.topic"),
            "ntfy 主题只能包含英文字母、数字、- 和 _，最多 64 个字符"
        );
        assert_eq!(
            err(&format!("ntfy://host/{}", "t".repeat(65))),
            "ntfy 主题只能包含英文字母、数字、- 和 _，最多 64 个字符"
        );
        assert_eq!(
            err("ntfy://host/topic?priority=5"),
            "ntfy:// 地址不支持 ? 之后的参数（ntfy://主机/主题）"
        );
        assert_eq!(
            err("ntfy://justuser@host/topic"),
            "ntfy 的登录信息应为 用户名:密码@ 或 tk_访问令牌@"
        );
        assert_eq!(
            err("ntfy://user:@host/topic"),
            "ntfy 的登录信息应为 用户名:密码@ 或 tk_访问令牌@"
        );
        assert_eq!(
            err("ntfy://user:p%zz@host/topic"),
            "ntfy 密码中的 % 编码无效"
        );
        assert_eq!(
            err("ntfy://user:p%0A@host/topic"),
            "ntfy 密码不能包含控制字符"
        );
        assert_eq!(
            err("ntfy://us%3Aer:p@host/topic"),
            "ntfy 的登录信息应为 用户名:密码@ 或 tk_访问令牌@"
        );
    }

    // ---- Gotify ----

    #[test]
    fn gotify_forms_and_errors() {
        assert_eq!(
            ok("gotify://gotify.local/AbCdEf.0123-_x"),
            ChannelAddress::Gotify {
                base: "http://gotify.local".to_owned(),
                token: "AbCdEf.0123-_x".to_owned()
            }
        );
        assert_eq!(
            ok("gotifys://example.com:8443/gotify/AbCdEf"),
            ChannelAddress::Gotify {
                base: "https://example.com:8443/gotify".to_owned(),
                token: "AbCdEf".to_owned()
            }
        );
        assert_eq!(
            err("gotifys://example.com"),
            "gotifys:// 地址缺少应用令牌（gotifys://主机/应用令牌）"
        );
        assert_eq!(
            err("gotify://example.com/tok?priority=1"),
            "gotify:// 地址不支持 ? 之后的参数（gotify://主机/应用令牌）"
        );
        assert_eq!(
            err("gotify://example.com/to+k"),
            "Gotify 应用令牌只能包含英文字母、数字、-、_ 和 ."
        );
        assert_eq!(
            err("gotify://u:p@example.com/tok"),
            "gotify:// 地址不支持用户名和密码（gotify://主机/应用令牌）"
        );
    }

    // ---- ServerChan ----

    const TURBO: &str = "SCT123456TAbCdEfGhIjKlMnOpQrStUvWxYz";
    const SC3: &str = "sctp8848tAbCdEfGhIjKlMnOpQrSt";

    fn serverchan(key: &str) -> ChannelAddress {
        ChannelAddress::ServerChan {
            sendkey: key.to_owned(),
        }
    }

    #[test]
    fn serverchan_forms() {
        assert_eq!(ok(&format!("schan://{TURBO}")), serverchan(TURBO));
        assert_eq!(ok(&format!("schan://{TURBO}/")), serverchan(TURBO));
        assert_eq!(ok(&format!("schan://{SC3}")), serverchan(SC3));
        assert_eq!(
            ok(&format!("https://sctapi.ftqq.com/{TURBO}.send")),
            serverchan(TURBO)
        );
        assert_eq!(
            ok(&format!("https://8848.push.ft07.com/send/{SC3}.send")),
            serverchan(SC3)
        );
        assert_eq!(serverchan3_uid(SC3), Some("8848"));
        assert_eq!(serverchan3_uid(TURBO), None);
        assert_eq!(serverchan3_uid("sctpt1"), None);
        assert_eq!(serverchan3_uid("sctp123"), None);
    }

    #[test]
    fn serverchan_errors() {
        assert_eq!(
            err("schan://"),
            "schan:// 地址缺少 SendKey（schan://SendKey）"
        );
        assert_eq!(
            err("schan://SCT-123"),
            "Server酱 SendKey 只能包含英文字母和数字"
        );
        assert_eq!(
            err("schan://sctpabc"),
            "Server酱³ 的 SendKey 应为 sctp数字t…（从 sc3.ft07.com 复制完整的 SendKey）"
        );
        assert_eq!(
            err(&format!("schan://{TURBO}/extra")),
            "schan:// 地址格式不对（schan://SendKey）"
        );
        assert_eq!(
            err(&format!("schan://{TURBO}:80")),
            "schan:// 地址不能带端口（schan://SendKey）"
        );
        assert_eq!(
            err(&format!("schan://{TURBO}?title=x")),
            "schan:// 地址不支持 ? 之后的参数（schan://SendKey）"
        );
        assert_eq!(
            err("https://sctapi.ftqq.com/"),
            "Server酱地址应为 https://sctapi.ftqq.com/SendKey.send"
        );
        assert_eq!(
            err(&format!("https://9999.push.ft07.com/send/{SC3}.send")),
            "Server酱³地址的主机和 SendKey 不一致（SendKey 应为 sctp主机里的数字t…）"
        );
        assert_eq!(
            err("https://8848.push.ft07.com/"),
            "Server酱³地址应为 https://数字.push.ft07.com/send/SendKey.send"
        );
    }

    // ---- PushPlus ----

    #[test]
    fn pushplus_forms_and_errors() {
        assert_eq!(
            ok("pushplus://0123456789abcdef0123456789abcdef"),
            ChannelAddress::PushPlus {
                token: "0123456789abcdef0123456789abcdef".to_owned()
            }
        );
        assert_eq!(
            err("pushplus://"),
            "pushplus:// 地址缺少令牌（pushplus://令牌）"
        );
        assert_eq!(
            err("pushplus://abc-def"),
            "PushPlus 令牌只能包含英文字母和数字"
        );
        assert_eq!(
            err(&format!("pushplus://{}", "a".repeat(65))),
            "PushPlus 令牌最多 64 个字符，这个有 65 个"
        );
        assert_eq!(
            err("pushplus://token/topic"),
            "pushplus:// 地址格式不对（pushplus://令牌）"
        );
    }

    // ---- WxPusher ----

    const AT: &str = "AT_qHT0cTQfLwYOlBV9cJj9zDSyEmspsmyM";

    #[test]
    fn wxpusher_forms() {
        assert_eq!(
            ok(&format!("wxpusher://{AT}/UID_a1/UID_b2/123/UID_a1/123")),
            ChannelAddress::WxPusher {
                app_token: AT.to_owned(),
                uids: vec!["UID_a1".to_owned(), "UID_b2".to_owned()],
                topic_ids: vec![123],
            }
        );
    }

    #[test]
    fn wxpusher_errors() {
        assert_eq!(
            err("wxpusher://"),
            "wxpusher:// 地址缺少 appToken（wxpusher://AT_应用令牌/UID_用户）"
        );
        assert_eq!(
            err("wxpusher://abc/UID_a"),
            "wxpusher:// 地址的 appToken 应以 AT_ 开头（wxpusher://AT_应用令牌/UID_用户）"
        );
        assert_eq!(
            err(&format!("wxpusher://{AT}")),
            "wxpusher:// 地址缺少接收人（wxpusher://AT_应用令牌/UID_用户）"
        );
        assert_eq!(
            err(&format!("wxpusher://{AT}/bob")),
            "WxPusher 接收人“bob”无效：用户应以 UID_ 开头，主题是数字"
        );
        assert_eq!(
            err(&format!("wxpusher://{AT}/0")),
            "WxPusher 接收人“0”无效：用户应以 UID_ 开头，主题是数字"
        );
        let many: Vec<String> = (0..21).map(|n| format!("UID_{n}")).collect();
        assert_eq!(
            err(&format!("wxpusher://{AT}/{}", many.join("/"))),
            "最多 20 个接收人，这里有 21 个"
        );
        assert_eq!(
            err("wxpusher://AT_x.y/UID_a"),
            "WxPusher appToken 只能包含英文字母、数字、- 和 _"
        );
    }

    // ---- e-mail ----

    fn email(url: &str) -> EmailSpec {
        ok(url).email().cloned().unwrap()
    }

    #[test]
    fn email_forms() {
        assert_eq!(
            email(
                "mailto://bot:secret@smtp.example.com?to=a@example.com,b@example.com&from=bot@example.com"
            ),
            EmailSpec {
                host: "smtp.example.com".to_owned(),
                port: 587,
                tls: EmailTls::StartTls,
                username: "bot".to_owned(),
                password: "secret".to_owned(),
                from: "bot@example.com".to_owned(),
                to: vec!["a@example.com".to_owned(), "b@example.com".to_owned()],
            }
        );
        // The user name is an address: it is also the sender and, without `to`, the recipient.
        let spec = email("mailtos://me%40qq.com:auth+code@smtp.qq.com");
        assert_eq!(spec.port, 465);
        assert_eq!(spec.tls, EmailTls::Implicit);
        assert_eq!(spec.username, "me@qq.com");
        assert_eq!(spec.password, "auth+code");
        assert_eq!(spec.from, "me@qq.com");
        assert_eq!(spec.to, ["me@qq.com"]);
        // An unencoded `@` in the user name still works: the host follows the last `@`.
        let spec = email(
            "mailto://me@example.com:pw@smtp.example.com:2525?to=x@example.com&to=y@example.com,x@example.com",
        );
        assert_eq!(spec.username, "me@example.com");
        assert_eq!(spec.port, 2525);
        assert_eq!(spec.to, ["x@example.com", "y@example.com"]);
    }

    #[test]
    fn email_errors() {
        assert_eq!(
            err("mailto://smtp.example.com?to=a@example.com"),
            "mailto:// 地址缺少登录信息（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
        assert_eq!(
            err("mailto://bot@smtp.example.com?to=a@example.com"),
            "mailto:// 地址缺少密码（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
        assert_eq!(
            err("mailto://bot:@smtp.example.com?to=a@example.com"),
            "mailto:// 地址缺少密码（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
        assert_eq!(
            err("mailto://:pw@smtp.example.com?to=a@example.com"),
            "mailto:// 地址缺少用户名（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com"),
            "mailto:// 地址缺少收件人：用户名不是邮箱地址，请加上 ?to=收件人"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a@example.com"),
            "mailto:// 地址缺少发件人：用户名不是邮箱地址，请加上 &from=发件人"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a@@example.com&from=b@example.com"),
            "邮箱地址“a@@example.com”无效"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a%20b@example.com&from=b@example.com"),
            "邮箱地址“a b@example.com”无效"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a%0D%0ABcc:x@example.com&from=b@example.com"),
            "参数值不能包含控制字符"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a@example.com&cc=b@example.com"),
            "mailto:// 地址不支持参数“cc”（可用 to、from）"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com/inbox?to=a@example.com"),
            "mailto:// 地址不能有路径，收件人请写在 ?to= 里（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com:99999?to=a@example.com"),
            "端口“99999”无效，应为 1–65535"
        );
        let many: Vec<String> = (0..21).map(|n| format!("u{n}@example.com")).collect();
        assert_eq!(
            err(&format!(
                "mailto://bot:pw@smtp.example.com?from=b@example.com&to={}",
                many.join(",")
            )),
            "最多 20 个收件人，这里有 21 个"
        );
        assert_eq!(
            err("mailto://bot:pw@smtp.example.com?to=a@example.com#x"),
            "mailto:// 地址不能包含 #（mailto://用户名:密码@SMTP主机?to=收件人）"
        );
    }

    // ---- robots ----

    const DT_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn dingtalk_forms() {
        assert_eq!(
            ok(&format!("dingtalk://{DT_TOKEN}")),
            ChannelAddress::DingTalk {
                webhook: format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"),
                secret: None,
                mobiles: Vec::new(),
            }
        );
        assert_eq!(
            ok(&format!(
                "dingtalk://SECtestsecret0123456789@{DT_TOKEN}/13800138000/+86-13900139000/13800138000"
            )),
            ChannelAddress::DingTalk {
                webhook: format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"),
                secret: Some("SECtestsecret0123456789".to_owned()),
                mobiles: vec!["13800138000".to_owned(), "+86-13900139000".to_owned()],
            }
        );
        let native = format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}");
        assert_eq!(
            ok(&native),
            ChannelAddress::DingTalk {
                webhook: native.clone(),
                secret: None,
                mobiles: Vec::new(),
            }
        );
        // Mock robots in tests are recognised by their path.
        let mock = "http://127.0.0.1:18080/robot/send?access_token=abc";
        assert_eq!(ok(mock).kind(), ChannelKind::DingTalk);
        assert_eq!(
            ok("http://127.0.0.1:18080/robot/send/?x=1&access_token=abc").kind(),
            ChannelKind::DingTalk
        );
    }

    #[test]
    fn dingtalk_errors() {
        assert_eq!(
            err("dingtalk://"),
            "dingtalk:// 地址缺少 access_token（dingtalk://加签密钥@令牌/手机号）"
        );
        assert_eq!(
            err(&format!("dingtalk://notsec@{DT_TOKEN}")),
            "钉钉加签密钥应以 SEC 开头，只含英文字母和数字（dingtalk://SEC…@令牌）"
        );
        assert_eq!(
            err(&format!("dingtalk://{DT_TOKEN}/12ab")),
            "手机号“12ab”无效"
        );
        let many: Vec<String> = (0..21).map(|n| format!("138001380{n:02}")).collect();
        assert_eq!(
            err(&format!("dingtalk://{DT_TOKEN}/{}", many.join("/"))),
            "最多 20 个手机号，这里有 21 个"
        );
        assert_eq!(
            err("https://oapi.dingtalk.com/robot/send"),
            "钉钉机器人地址缺少 access_token（https://oapi.dingtalk.com/robot/send?access_token=…）"
        );
        assert_eq!(
            err("http://127.0.0.1:1/robot/send?access_token="),
            "钉钉机器人地址缺少 access_token（https://oapi.dingtalk.com/robot/send?access_token=…）"
        );
        assert_eq!(
            err("dingtalk://to%6Ben"),
            "钉钉机器人 access_token 只能包含英文字母、数字、- 和 _"
        );
    }

    #[test]
    fn feishu_forms_and_errors() {
        let hook = "2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a";
        assert_eq!(
            ok(&format!("feishu://{hook}/feishusecret123")),
            ChannelAddress::Feishu {
                webhook: format!("https://open.feishu.cn/open-apis/bot/v2/hook/{hook}"),
                secret: Some("feishusecret123".to_owned()),
            }
        );
        for native in [
            format!("https://open.feishu.cn/open-apis/bot/v2/hook/{hook}"),
            format!("https://open.larksuite.com/open-apis/bot/v2/hook/{hook}"),
            format!("http://127.0.0.1:9/open-apis/bot/v2/hook/{hook}"),
        ] {
            assert_eq!(
                ok(&native),
                ChannelAddress::Feishu {
                    webhook: native.clone(),
                    secret: None
                }
            );
        }
        assert_eq!(
            err("https://open.feishu.cn/open-apis/bot/v2/"),
            "飞书机器人地址缺少 hook 令牌（https://open.feishu.cn/open-apis/bot/v2/hook/…）"
        );
        assert_eq!(
            err("https://open.feishu.cn/open-apis/bot/v2/hook/"),
            "飞书机器人地址缺少 hook 令牌（https://open.feishu.cn/open-apis/bot/v2/hook/…）"
        );
        assert_eq!(
            err("feishu://hook/secret/extra"),
            "feishu:// 地址格式不对（feishu://令牌/加签密钥）"
        );
        assert_eq!(
            err("feishu://"),
            "feishu:// 地址缺少令牌（feishu://令牌/加签密钥）"
        );
    }

    #[test]
    fn wecom_forms_and_errors() {
        let key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
        assert_eq!(
            ok(&format!("wecombot://{key}")),
            ChannelAddress::WeCom {
                webhook: format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}")
            }
        );
        let mock = format!("http://localhost:8/cgi-bin/webhook/send?key={key}");
        assert_eq!(
            ok(&mock),
            ChannelAddress::WeCom {
                webhook: mock.clone()
            }
        );
        assert_eq!(
            err("https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
            "企业微信机器人地址缺少 key（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）"
        );
        assert_eq!(
            err("wecombot://"),
            "wecombot:// 地址缺少 key（wecombot://key）"
        );
        assert_eq!(
            err("wecombot://k/x"),
            "wecombot:// 地址格式不对（wecombot://key）"
        );
    }

    #[test]
    fn other_web_urls_are_generic_webhooks() {
        for url in [
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "http://10.0.0.5:8080/hook?token=abc",
            "https://user:pw@example.com/x#frag",
            "http://[::1]:9000/",
            // Platform::detect checks the host first: a DingTalk path on Feishu's host is Feishu.
        ] {
            assert_eq!(
                ok(url),
                ChannelAddress::Generic {
                    url: url.to_owned()
                }
            );
        }
        assert_eq!(err("https:///path"), "网址缺少主机名");
        assert_eq!(err("https://exa mple.com"), "地址中间不能有空格");
    }

    // ---- common rules ----

    #[test]
    fn common_errors() {
        assert_eq!(err(""), "请填写推送地址");
        assert_eq!(err("   "), "请填写推送地址");
        assert_eq!(
            err(&format!("https://example.com/{}", "a".repeat(2048))),
            "地址太长：最多 2048 字节，这个有 2068 字节"
        );
        assert_eq!(
            err("https://example.com/\nx"),
            "地址不能包含换行、制表符或其他控制字符"
        );
        assert_eq!(
            err("bark://host/\u{7f}"),
            "地址不能包含换行、制表符或其他控制字符"
        );
        assert_eq!(err("bark://host/\u{3000}key"), "地址中间不能有空格");
        assert_eq!(
            err("api.day.app/KEY"),
            format!("无法识别的地址：应以 {SUPPORTED} 开头")
        );
        assert_eq!(
            err("mailto:me@example.com"),
            format!("无法识别的地址：应以 {SUPPORTED} 开头")
        );
        assert_eq!(
            err("ftp://example.com/x"),
            format!("不支持的地址类型“ftp://”：应以 {SUPPORTED} 开头")
        );
        assert_eq!(err("bark://[::1/key"), "IPv6 主机地址缺少 ]");
        assert_eq!(err("bark://[xyz]/key"), "主机名“[xyz]”无效");
        assert_eq!(err("bark://[::1]x/key"), "主机名“[::1]x”无效");
        // Exactly at the limit is fine.
        let url = format!("https://example.com/{}", "a".repeat(2048 - 20));
        assert_eq!(url.len(), 2048);
        assert_eq!(ok(&url).kind(), ChannelKind::Generic);
    }

    // ---- masking and secrets ----

    /// Every address form with secrets in it, and the secrets it holds.
    fn secret_cases() -> Vec<(String, Vec<&'static str>)> {
        vec![
            (format!("barks://bark.example.com/{KEY}"), vec![KEY]),
            (format!("https://api.day.app/{KEY}"), vec![KEY]),
            (
                "ntfys://phil:SuperSecretPass1@ntfy.example.com/kq-alerts-9f8e7d6c".to_owned(),
                vec!["SuperSecretPass1", "kq-alerts-9f8e7d6c"],
            ),
            (
                "ntfys://tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2@ntfy.example.com/kq-alerts-9f8e7d6c".to_owned(),
                vec!["tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", "kq-alerts-9f8e7d6c"],
            ),
            (
                "gotifys://push.example.com/AbCdEf.0123-_xyz".to_owned(),
                vec!["AbCdEf.0123-_xyz"],
            ),
            (format!("schan://{TURBO}"), vec![TURBO]),
            (format!("schan://{SC3}"), vec![SC3]),
            (
                "pushplus://0123456789abcdef0123456789abcdef".to_owned(),
                vec!["0123456789abcdef0123456789abcdef"],
            ),
            (format!("wxpusher://{AT}/UID_a1"), vec![AT]),
            (
                "mailtos://me%40qq.com:AuthorisationCode42@smtp.qq.com".to_owned(),
                vec!["AuthorisationCode42"],
            ),
            (
                format!("dingtalk://SECtestsecret0123456789@{DT_TOKEN}/13800138000"),
                vec![DT_TOKEN, "SECtestsecret0123456789"],
            ),
            (
                format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"),
                vec![DT_TOKEN],
            ),
            (
                "feishu://2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a/feishusecret123".to_owned(),
                vec!["2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a", "feishusecret123"],
            ),
            (
                "http://127.0.0.1:9/open-apis/bot/v2/hook/shorthook12".to_owned(),
                vec!["shorthook12"],
            ),
            (
                "wecombot://693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa".to_owned(),
                vec!["693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"],
            ),
            (
                "https://hook:HookPassword99@hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?token=abcdefgh1234&x=1".to_owned(),
                vec!["HookPassword99", "XXXXXXXXXXXXXXXXXXXXXXXX", "abcdefgh1234"],
            ),
        ]
    }

    #[test]
    fn masked_addresses_never_show_a_secret() {
        for (url, secrets) in secret_cases() {
            let address = ok(&url);
            let masked = address.masked();
            let debug = format!("{address:?}");
            for secret in &secrets {
                assert!(!masked.contains(secret), "{url} → {masked}");
                assert!(!debug.contains(secret), "{url} → {debug}");
                assert!(
                    address.secrets().contains(secret),
                    "{url}: {secret} missing from {:?}",
                    address.secrets()
                );
            }
        }
    }

    #[test]
    fn masked_addresses_keep_what_tells_them_apart() {
        assert_eq!(
            ok(&format!("https://api.day.app/{KEY}")).masked(),
            "barks://api.day.app/NxLs***cA"
        );
        assert_eq!(
            ok(&format!("bark://10.0.0.2:8080/bark/{KEY}")).masked(),
            "bark://10.0.0.2:8080/bark/NxLs***cA"
        );
        assert_eq!(
            ok("ntfys://phil:SuperSecretPass1@ntfy.example.com/kq-alerts-9f8e7d6c").masked(),
            "ntfys://phil:***@ntfy.example.com/kq-a***6c"
        );
        assert_eq!(ok("ntfy://alerts").masked(), "ntfys://ntfy.sh/***");
        assert_eq!(
            ok("gotify://push.example.com/AbCdEf.0123-_xyz").masked(),
            "gotify://push.example.com/AbCd***yz"
        );
        assert_eq!(
            ok(&format!("schan://{TURBO}")).masked(),
            "schan://SCT1***Yz"
        );
        assert_eq!(
            ok("pushplus://0123456789abcdef0123456789abcdef").masked(),
            "pushplus://0123***ef"
        );
        assert_eq!(
            ok(&format!("wxpusher://{AT}/UID_a1/7")).masked(),
            "wxpusher://AT_q***yM/UID_a1/7"
        );
        assert_eq!(
            ok("mailtos://me%40qq.com:AuthorisationCode42@smtp.qq.com").masked(),
            "mailtos://me%40qq.com:***@smtp.qq.com:465?to=me@qq.com&from=me@qq.com"
        );
        assert_eq!(
            ok(&format!(
                "dingtalk://SECtestsecret0123456789@{DT_TOKEN}/13800138000"
            ))
            .masked(),
            "https://oapi.dingtalk.com/robot/send?access_token=0123***ef（加签密钥 SECt***89）（提醒 13800138000）"
        );
        assert_eq!(
            ok("feishu://2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a").masked(),
            "https://open.feishu.cn/open-apis/bot/v2/hook/2c5b***3a"
        );
        assert_eq!(
            ok("https://hook:HookPassword99@hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?token=abc&x=1").masked(),
            "https://hook:Hook***99@hooks.example.com/services/T000/B000/XXXX***XX?token=***&x=***"
        );
    }

    #[test]
    fn short_secrets_are_hidden_whole() {
        assert_eq!(mask_secret("abcdefghijk"), MASK);
        assert_eq!(mask_secret("abcdefghijkl"), "abcd***kl");
        assert_eq!(mask_secret("上班打卡提醒上班打卡提醒"), "上班打卡***提醒");
        assert_eq!(mask_secret(""), MASK);
    }

    #[test]
    fn secrets_feed_redaction() {
        let address = ok(&format!("schan://{TURBO}"));
        let secrets = address
            .secrets()
            .into_iter()
            .fold(crate::domain::redact::Secrets::new(), |s, v| s.with(v));
        let text = format!("error sending request for url (https://sctapi.ftqq.com/{TURBO}.send)");
        assert!(!secrets.redact(&text).contains(TURBO));
    }

    #[test]
    fn service_bases_default_to_the_real_hosts_and_take_overrides() {
        let bases = ServiceBases::default();
        assert_eq!(bases.serverchan, "https://sctapi.ftqq.com");
        assert_eq!(bases.serverchan3, None);
        assert_eq!(bases.pushplus, "https://www.pushplus.plus");
        assert_eq!(bases.wxpusher, "https://wxpusher.zjiecode.com");
        assert_eq!(ServiceBases::with_overrides(None, None, None), bases);
        let overridden = ServiceBases::with_overrides(
            Some(" http://127.0.0.1:1/sc/ "),
            Some("http://127.0.0.1:2"),
            Some("http://127.0.0.1:3/"),
        );
        assert_eq!(overridden.serverchan, "http://127.0.0.1:1/sc");
        assert_eq!(
            overridden.serverchan3.as_deref(),
            Some("http://127.0.0.1:1/sc")
        );
        assert_eq!(overridden.pushplus, "http://127.0.0.1:2");
        assert_eq!(overridden.wxpusher, "http://127.0.0.1:3");
    }
}
