//! The URL a user pastes for a channel, parsed once into a typed address. The forms are the
//! platforms' own webhook URLs and the Apprise-style URLs people already use
//! (`bark://host/key`, `ntfy://topic`, `schan://SCT…`, `mailto://user:pass@smtp.host`, …);
//! [`ChannelKind::url_forms`] lists them. This module is the grammar every kind shares (the
//! URL cut into [`Parts`], hosts, ports, tokens, percent-decoding, masking) and the dispatch
//! to the kind that owns a scheme or host; each kind reads its own forms in its module.
//! Errors say exactly what is wrong, in Chinese, and never quote a secret.

use std::ops::Range;

use super::{ChannelAddress, ChannelKind, KINDS, generic};
use crate::domain::redact::MASK;

/// The longest address accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// The most mobiles (DingTalk), receivers (WxPusher) or recipients (e-mail) in one address.
pub const MAX_RECIPIENTS: usize = 20;

/// "https://、dingtalk://、… 或 mailto://": the first scheme of every kind.
fn supported() -> String {
    let mut schemes: Vec<String> = vec!["https://".to_owned()];
    schemes.extend(
        KINDS
            .iter()
            .filter_map(|kind| kind.schemes().first())
            .map(|scheme| format!("{scheme}://")),
    );
    let last = schemes.pop().unwrap_or_default();
    format!("{} 或 {last}", schemes.join("、"))
}

/// What is wrong with an address, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AddressError {
    pub message: String,
}

impl AddressError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
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
    /// DingTalk's open platform (`DINGTALK_API_BASE`): `gettoken`, work notifications.
    pub dingtalk: String,
    /// Feishu's open platform (`FEISHU_API_BASE`): `https://open.feishu.cn`.
    pub feishu: String,
    /// WeCom's API (`WECOM_API_BASE`): `https://qyapi.weixin.qq.com`.
    pub wecom: String,
}

impl ServiceBases {
    pub const SERVERCHAN: &'static str = "https://sctapi.ftqq.com";
    pub const PUSHPLUS: &'static str = "https://www.pushplus.plus";
    pub const WXPUSHER: &'static str = "https://wxpusher.zjiecode.com";
    pub const DINGTALK: &'static str = "https://oapi.dingtalk.com";
    pub const FEISHU: &'static str = "https://open.feishu.cn";
    pub const WECOM: &'static str = "https://qyapi.weixin.qq.com";

    /// The company platforms' bases, each given one (trailing slashes dropped) replacing the
    /// real host.
    pub fn with_platforms(
        mut self,
        dingtalk: Option<&str>,
        feishu: Option<&str>,
        wecom: Option<&str>,
    ) -> Self {
        let clean = |base: &str| base.trim().trim_end_matches('/').to_owned();
        if let Some(base) = dingtalk {
            self.dingtalk = clean(base);
        }
        if let Some(base) = feishu {
            self.feishu = clean(base);
        }
        if let Some(base) = wecom {
            self.wecom = clean(base);
        }
        self
    }

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
            dingtalk: Self::DINGTALK.to_owned(),
            feishu: Self::FEISHU.to_owned(),
            wecom: Self::WECOM.to_owned(),
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
pub(crate) fn app_form(base: &str, app: &str) -> String {
    if let Some(rest) = base.strip_prefix("https://") {
        format!("{app}s://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("{app}://{rest}")
    } else {
        base.to_owned()
    }
}

pub(crate) fn encode_userinfo(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('@', "%40")
        .replace(':', "%3A")
}

/// The byte ranges of a web URL that may hold credentials: the user info's password (all of
/// it when there is no `:`), every query value, path segments longer than 16 characters and
/// the segment after `hook` (Feishu's hook id, whatever its length).
pub(crate) fn web_secret_ranges(url: &str) -> Vec<Range<usize>> {
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

pub(crate) fn web_secrets(url: &str) -> Vec<&str> {
    web_secret_ranges(url)
        .into_iter()
        .map(|range| &url[range])
        .collect()
}

pub(crate) fn mask_web_url(url: &str) -> String {
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
    if matches!(parts.scheme.as_str(), "http" | "https") {
        return parse_web(raw, &parts);
    }
    super::parse_scheme(&parts.scheme, &parts).unwrap_or_else(|| {
        Err(AddressError::new(format!(
            "不支持的地址类型“{}://”：应以 {} 开头",
            shorten(&parts.scheme, 20),
            supported()
        )))
    })
}

/// `https://…` and `http://…`: the platforms' own URLs, recognised by host and, failing
/// that, by path (so local mock robots count), else a generic webhook.
fn parse_web(raw: &str, parts: &Parts<'_>) -> Result<ChannelAddress, AddressError> {
    let host = network_host(parts.host, "网址")?;
    port(parts.port)?;
    super::parse_web(raw, parts, &host)
        .map(|(_, parsed)| parsed)
        .unwrap_or_else(|| {
            Ok(generic::GenericWebhook {
                url: raw.to_owned(),
                secret: None,
            }
            .into())
        })
}

/// The kind an http(s) URL is recognised as (by host, then by path), even when it is not
/// a valid address of that kind; `None` for anything else.
pub(crate) fn web_kind(url: &str) -> Option<ChannelKind> {
    let raw = url.trim();
    let parts = split(raw).ok()?;
    if !matches!(parts.scheme.as_str(), "http" | "https") {
        return None;
    }
    let host = network_host(parts.host, "网址").ok()?;
    Some(super::parse_web(raw, &parts, &host).map_or(generic::KIND, |(kind, _)| kind))
}

/// A URL cut into its parts, as typed (only the scheme is lower-cased).
pub struct Parts<'a> {
    pub(crate) scheme: String,
    pub(crate) userinfo: Option<&'a str>,
    pub(crate) host: &'a str,
    pub(crate) port: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) fragment: Option<&'a str>,
}

impl Parts<'_> {
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// `"{scheme}:// 地址"`, the subject of most messages.
    pub(crate) fn subject(&self) -> String {
        format!("{}:// 地址", self.scheme)
    }

    pub(crate) fn error(&self, what: &str) -> AddressError {
        AddressError::new(format!("{}{what}（{}）", self.subject(), self.form()))
    }

    /// The expected form, for messages.
    fn form(&self) -> String {
        let shape = KINDS
            .iter()
            .find(|kind| kind.schemes().contains(&self.scheme.as_str()))
            .map_or("主机/路径", |kind| kind.form());
        format!("{}://{shape}", self.scheme)
    }

    pub(crate) fn no_userinfo(&self) -> Result<(), AddressError> {
        match self.userinfo {
            Some(_) => Err(self.error("不支持用户名和密码")),
            None => Ok(()),
        }
    }

    pub(crate) fn no_port(&self) -> Result<(), AddressError> {
        match self.port {
            Some(_) => Err(self.error("不能带端口")),
            None => Ok(()),
        }
    }

    pub(crate) fn no_query_or_fragment(&self) -> Result<(), AddressError> {
        if self.query.is_some() {
            return Err(self.error("不支持 ? 之后的参数"));
        }
        if self.fragment.is_some() {
            return Err(self.error("不能包含 #"));
        }
        Ok(())
    }

    pub(crate) fn no_path(&self) -> Result<(), AddressError> {
        if self.segments().is_empty() {
            Ok(())
        } else {
            Err(self.error("格式不对"))
        }
    }

    /// The host and port as a base URL prefix, e.g. `https://host:8080`.
    pub(crate) fn origin(&self, secure: bool) -> Result<String, AddressError> {
        let host = network_host(self.host, &self.subject())?;
        let port = port(self.port)?;
        let scheme = if secure { "https" } else { "http" };
        Ok(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        })
    }
}

pub(crate) fn split(raw: &str) -> Result<Parts<'_>, AddressError> {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(AddressError::new(format!(
            "无法识别的地址：应以 {} 开头",
            supported()
        )));
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(AddressError::new(format!(
            "无法识别的地址：应以 {} 开头",
            supported()
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

pub(crate) fn shorten(value: &str, max: usize) -> String {
    super::truncate_chars(value, max)
}

/// A host name, IPv4 address or bracketed IPv6 address, lower-cased.
pub(crate) fn network_host(host: &str, subject: &str) -> Result<String, AddressError> {
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

pub(crate) fn port(raw: Option<&str>) -> Result<Option<u16>, AddressError> {
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
pub(crate) fn token(
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

pub(crate) fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

pub(crate) fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

pub(crate) const KEY_CHARSET: &str = "英文字母、数字、- 和 _";
pub(crate) const ALNUM_CHARSET: &str = "英文字母和数字";

/// Path segments before the key of a self-hosted service behind a reverse proxy.
pub(crate) fn path_prefix(segments: &[&str]) -> Result<String, AddressError> {
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
pub(crate) fn decode(value: &str, what: &str) -> Result<String, AddressError> {
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

pub(crate) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, AddressError> {
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
pub(crate) fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The most `?name=value` parameters one address may carry.
pub const MAX_PARAMS: usize = 32;

/// A `?parameter` that was accepted but changes nothing for a reminder, and why. Only the
/// name is kept: values may be secrets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IgnoredParam {
    pub name: String,
    pub reason: String,
}

/// Apprise's parameters shared by every service (its `URLBase`), none of which changes a
/// reminder here.
const COMMON_PARAMS: &[(&str, &str)] = &[
    ("format", "此渠道的提醒格式固定，由服务决定"),
    ("overflow", "提醒很短，不需要拆分或截断"),
    ("emojis", "提醒不含表情简码"),
    ("store", "不保存 Apprise 的本地状态"),
    ("retry", "失败后的重试由提醒引擎负责"),
    ("wait", "失败后的重试由提醒引擎负责"),
    ("optional", "每个渠道都按同样的规则发送"),
    ("verify", "始终校验 TLS 证书"),
    ("redirect", "出站请求不跟随重定向"),
    ("cto", "连接和读取超时由服务统一设定"),
    ("rto", "连接和读取超时由服务统一设定"),
];

/// The message format a group robot's address asks for with Apprise's `?format=`
/// (`markdown`; `text`), for the channel's own setting when none is given with it.
pub fn requested_format(url: &str) -> Option<crate::domain::robot::MessageFormat> {
    let parts = split(url.trim()).ok()?;
    let (_, value) = query_pairs(parts.query?)
        .ok()?
        .into_iter()
        .rfind(|(name, _)| name.eq_ignore_ascii_case("format"))?;
    crate::domain::robot::MessageFormat::parse(value.trim())
}

/// A group robot's short form read with Apprise's parameters: the token from the host or
/// `?{token_names}=` (an empty host is then allowed), and `format`, which the channel's own
/// setting decides. Returns the token and the parameters left for the kind.
pub(crate) fn robot_token(
    parts: &Parts<'_>,
    token_names: &[&str],
) -> Result<(String, Params), AddressError> {
    if parts.fragment.is_some() {
        return Err(parts.error("不能包含 #"));
    }
    let mut params = Params::of(parts)?;
    let token = match params.take(token_names) {
        Some(given) => given.value,
        None => parts.host.to_owned(),
    };
    // Read when the channel is saved (`requested_format`): it sets the channel's format.
    params.ignore(&["format"], "消息格式在渠道的“格式”里选择");
    Ok((token, params))
}

/// One parameter's value, with the name it was given under (for messages).
pub(crate) struct Param {
    pub name: String,
    pub value: String,
}

impl Param {
    /// "参数 sound 的值“x”无效：{expected}".
    pub(crate) fn invalid(&self, expected: &str) -> AddressError {
        AddressError::new(format!(
            "参数 {} 的值“{}”无效：{expected}",
            self.name,
            shorten(&self.value, 40)
        ))
    }

    /// A yes/no value the way Apprise reads one.
    pub(crate) fn flag(&self) -> Result<bool, AddressError> {
        match self.value.to_ascii_lowercase().as_str() {
            "1" | "yes" | "y" | "true" | "t" | "on" | "enable" | "enabled" => Ok(true),
            "0" | "no" | "n" | "false" | "f" | "off" | "disable" | "disabled" => Ok(false),
            _ => Err(self.invalid("应为 yes 或 no")),
        }
    }

    /// A link to open (`https://…`, or an app's own scheme such as `dingtalk://…`).
    pub(crate) fn link(&self) -> Result<String, AddressError> {
        let valid = self.value.len() <= 1024
            && self.value.split_once("://").is_some_and(|(scheme, rest)| {
                !rest.is_empty()
                    && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            });
        if valid {
            Ok(self.value.clone())
        } else {
            Err(self.invalid("应为完整的链接，如 https://… 或 dingtalk://…"))
        }
    }

    /// A web link (`http://` or `https://`).
    pub(crate) fn web_link(&self) -> Result<String, AddressError> {
        let link = self.link()?;
        let lower = link.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            Ok(link)
        } else {
            Err(self.invalid("应为 http:// 或 https:// 链接"))
        }
    }

    /// Text of at most `max` characters.
    pub(crate) fn text(&self, max: usize) -> Result<String, AddressError> {
        if self.value.chars().count() > max {
            return Err(self.invalid(&format!("最多 {max} 个字符")));
        }
        Ok(self.value.clone())
    }

    /// A whole number in `range`.
    pub(crate) fn number(&self, range: std::ops::RangeInclusive<i64>) -> Result<i64, AddressError> {
        self.value
            .parse::<i64>()
            .ok()
            .filter(|number| range.contains(number))
            .ok_or_else(|| {
                self.invalid(&format!("应为 {} 到 {} 的整数", range.start(), range.end()))
            })
    }
}

pub(crate) fn list_items(value: &str) -> Vec<String> {
    value
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `?name=value` parameters of an address. The kind takes those it reads; whatever is
/// left is listed as ignored, with the reason, by [`Params::finish`]. Names are compared
/// without case and, as in Apprise, the last of repeated names wins.
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
    taken: Vec<bool>,
    ignored: Vec<IgnoredParam>,
}

impl Params {
    pub(crate) fn of(parts: &Parts<'_>) -> Result<Self, AddressError> {
        let pairs = query_pairs(parts.query.unwrap_or_default())?;
        if pairs.len() > MAX_PARAMS {
            return Err(AddressError::new(format!(
                "参数太多：最多 {MAX_PARAMS} 个，这里有 {} 个",
                pairs.len()
            )));
        }
        let taken = vec![false; pairs.len()];
        Ok(Self {
            pairs,
            taken,
            ignored: Vec::new(),
        })
    }

    /// The last non-empty value under any of `names`; every one of them counts as read.
    pub(crate) fn take(&mut self, names: &[&str]) -> Option<Param> {
        let mut found = None;
        for (index, (name, value)) in self.pairs.iter().enumerate() {
            if names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)) {
                self.taken[index] = true;
                if !value.trim().is_empty() {
                    found = Some(Param {
                        name: name.to_ascii_lowercase(),
                        value: value.trim().to_owned(),
                    });
                }
            }
        }
        found
    }

    /// Every item of every parameter under `names` (`to=a,b&to=c`).
    pub(crate) fn take_items(&mut self, names: &[&str]) -> Vec<String> {
        let mut items = Vec::new();
        for (index, (name, value)) in self.pairs.iter().enumerate() {
            if names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)) {
                self.taken[index] = true;
                items.extend(list_items(value));
            }
        }
        items
    }

    /// Marks `names` as read and, when given, lists them as ignored for `reason`.
    pub(crate) fn ignore(&mut self, names: &[&str], reason: &str) {
        let mut given = Vec::new();
        for (index, (name, _)) in self.pairs.iter().enumerate() {
            if names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)) && !self.taken[index] {
                self.taken[index] = true;
                given.push(name.to_ascii_lowercase());
            }
        }
        for name in given {
            self.note(name, reason);
        }
    }

    /// Lists a value the kind dropped (`to=…` naming nobody it can reach) as ignored.
    pub(crate) fn drop_value(&mut self, name: &str, value: &str, reason: &str) {
        self.note(format!("{name}={}", shorten(value, 40)), reason);
    }

    /// Every parameter whose name starts with `prefix` (e-mail's `+Header=`), ignored.
    pub(crate) fn ignore_prefixed(&mut self, prefix: &str, reason: &str) {
        let names: Vec<String> = self
            .pairs
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            self.ignore(&[&name], reason);
        }
    }

    /// Lists a parameter the kind read (to check its value) as ignored.
    pub(crate) fn note(&mut self, name: impl Into<String>, reason: &str) {
        let name = name.into();
        if !self.ignored.iter().any(|seen| seen.name == name) {
            self.ignored.push(IgnoredParam {
                name,
                reason: reason.to_owned(),
            });
        }
    }

    /// The parameters the kind did not read: Apprise's shared ones with their reasons
    /// (`tz` must still name a time zone), anything else as unknown.
    pub(crate) fn finish(mut self) -> Result<Vec<IgnoredParam>, AddressError> {
        if let Some(zone) = self.take(&["tz"]) {
            if zone.value.parse::<chrono_tz::Tz>().is_err() {
                return Err(zone.invalid("应为时区名称，如 Asia/Shanghai"));
            }
            self.note("tz".to_owned(), "提醒时间按团队设置的时区计算");
        }
        for (index, (name, _)) in self.pairs.iter().enumerate() {
            if self.taken[index] {
                continue;
            }
            let name = name.to_ascii_lowercase();
            let reason = COMMON_PARAMS
                .iter()
                .find(|(common, _)| *common == name)
                .map_or("不认识的参数", |(_, reason)| reason);
            if !self.ignored.iter().any(|seen| seen.name == name) {
                self.ignored.push(IgnoredParam {
                    name,
                    reason: reason.to_owned(),
                });
            }
        }
        Ok(self.ignored)
    }
}

/// Removes repeats, keeping the first of each.
pub(crate) fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

pub(crate) fn at_most(count: usize, what: &str) -> Result<(), AddressError> {
    if count > MAX_RECIPIENTS {
        Err(AddressError::new(format!(
            "最多 {MAX_RECIPIENTS} 个{what}，这里有 {count} 个"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::ntfy::NtfyAuth;
    use super::super::serverchan::serverchan3_uid;
    use super::super::{dingtalk, generic};
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
        ChannelAddress::from(super::super::bark::BarkDevice::new(base, key))
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
        let grouped = ok(&format!("  https://api.day.app/{KEY}?group=x  "));
        assert_eq!(grouped.masked(), "barks://api.day.app/NxLs***cA?group=x");
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
        let login = ok(&format!("bark://user:pw@host/{KEY}"));
        assert_eq!(login.masked(), "bark://user:***@host/NxLs***cA");
        assert!(login.secrets().contains(&"pw"));
        assert_eq!(
            err(&format!("bark://host/{KEY}?sound=trumpet")),
            "参数 sound 的值“trumpet”无效：应为 Bark 自带的铃声，如 alarm、bell、minuet"
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
        ChannelAddress::from(super::super::ntfy::NtfyTopic {
            base: base.to_owned(),
            topics: vec![topic.to_owned()],
            auth,
            options: Default::default(),
            ignored: Vec::new(),
        })
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
            err("ntfy://host/a/b/c/d/e/f"),
            "ntfy 地址最多 5 个主题，这里有 6 个"
        );
        assert_eq!(
            err("ntfy://user:pass@localhost?mode=private"),
            "ntfy:// 地址缺少主题（ntfy://主机/主题）"
        );
        let Ok(ChannelAddress::Ntfy(several)) = parse("ntfy://u:p@host:8089/topic/topic2/topic")
        else {
            panic!()
        };
        assert_eq!(several.topics, ["topic", "topic2"]);
        assert_eq!(
            ChannelAddress::from(several.clone()).masked(),
            "ntfy://u:***@host:8089/***/***"
        );
        let Ok(ChannelAddress::Ntfy(cloud)) = parse("ntfy://user:pass@topic1/topic2/?mode=cloud")
        else {
            panic!()
        };
        assert_eq!(
            (cloud.base.as_str(), cloud.topics.len()),
            ("https://ntfy.sh", 2)
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
            err("ntfy://host/topic?priority=6"),
            "参数 priority 的值“6”无效：应为 1 到 5，或 min、low、default、high、max"
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
            ChannelAddress::from(super::super::gotify::GotifyApp::new(
                "http://gotify.local",
                "AbCdEf.0123-_x"
            ))
        );
        assert_eq!(
            ok("gotifys://example.com:8443/gotify/AbCdEf"),
            ChannelAddress::from(super::super::gotify::GotifyApp::new(
                "https://example.com:8443/gotify",
                "AbCdEf"
            ))
        );
        assert_eq!(
            err("gotifys://example.com"),
            "gotifys:// 地址缺少应用令牌（gotifys://主机/应用令牌）"
        );
        assert_eq!(
            err("gotify://example.com/tok?priority=urgent"),
            "参数 priority 的值“urgent”无效：应为 0 到 10，或 low、moderate、normal、high、emergency"
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
        ChannelAddress::from(super::super::serverchan::ServerChanKey {
            sendkey: key.to_owned(),
        })
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
            ChannelAddress::from(super::super::pushplus::PushPlusToken::new(
                "0123456789abcdef0123456789abcdef"
            ))
        );
        assert_eq!(
            err("pushplus://"),
            "PushPlus 地址缺少令牌（pushplus://令牌）"
        );
        assert_eq!(
            err("pushplus://abc!def0123456789abcdef0123456789abcdef"),
            "PushPlus 令牌只能包含英文字母、数字、- 和 _"
        );
        assert_eq!(err("pushplus://short"), "PushPlus 令牌应有 32 到 64 个字符");
        assert_eq!(
            err(&format!("pushplus://{}", "a".repeat(65))),
            "PushPlus 令牌最多 64 个字符，这个有 65 个"
        );
        let pp = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            err(&format!("pushplus://{pp}/g1/g2/g3/g4/g5/g6")),
            "PushPlus 地址最多 5 个群组，这里有 6 个"
        );
        let Ok(ChannelAddress::PushPlus(groups)) = parse(&format!("pushplus://{pp}/g1/%23g2/@f1"))
        else {
            panic!()
        };
        assert_eq!(
            (groups.topics.as_slice(), groups.friends.as_slice()),
            (
                &["g1".to_owned(), "g2".to_owned()][..],
                &["f1".to_owned()][..]
            )
        );
        assert_eq!(
            err(&format!("pushplus://{pp}?channel=wechat,bogus")),
            "参数 channel 的值“wechat,bogus”无效：应为 wechat、webhook、cp、mail、sms、app、extension、clawbot、cmcc、qq 或 voice"
        );
        let Ok(ChannelAddress::PushPlus(group)) = parse(&format!(
            "pushplus://hook1@{pp}/kq_group?channel=webhook&callback=https://x.cn"
        )) else {
            panic!()
        };
        assert_eq!(group.topics, ["kq_group"]);
        assert_eq!(group.channel.as_deref(), Some("webhook"));
        assert_eq!(group.option.as_deref(), Some("hook1"));
        assert_eq!(group.ignored[0].name, "callback");
        let Ok(ChannelAddress::PushPlus(friends)) = parse(&format!(
            "pushplus://?token={pp}&to=@f1,@f2,bad!code&mode=wecom"
        )) else {
            panic!()
        };
        assert_eq!(friends.friends, ["f1", "f2"]);
        assert_eq!(friends.channel.as_deref(), Some("cp"));
        assert_eq!(friends.ignored[0].name, "to=bad!code");
        let Ok(ChannelAddress::PushPlus(web)) =
            parse(&format!("https://www.pushplus.plus/send/{pp}"))
        else {
            panic!()
        };
        assert_eq!(web.token, pp);
    }

    // ---- WxPusher ----

    const AT: &str = "AT_qHT0cTQfLwYOlBV9cJj9zDSyEmspsmyM";

    #[test]
    fn wxpusher_forms() {
        assert_eq!(
            ok(&format!("wxpusher://{AT}/UID_a1/UID_b2/123/UID_a1/123")),
            ChannelAddress::from(super::super::wxpusher::WxPusherTarget {
                app_token: AT.to_owned(),
                uids: vec!["UID_a1".to_owned(), "UID_b2".to_owned()],
                topic_ids: vec![123],
                ignored: Vec::new(),
            })
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
            "wxpusher:// 地址缺少接收人：用户以 UID_ 开头，主题是数字（wxpusher://AT_应用令牌/UID_用户）"
        );
        assert_eq!(
            err(&format!("wxpusher://{AT}/bob/0")),
            "wxpusher:// 地址缺少接收人：用户以 UID_ 开头，主题是数字（wxpusher://AT_应用令牌/UID_用户）"
        );
        let Ok(ChannelAddress::WxPusher(apprise)) =
            parse(&format!("wxpusher://123?token={AT}&to=UID_a,bob"))
        else {
            panic!()
        };
        assert_eq!(
            (apprise.uids, apprise.topic_ids),
            (vec!["UID_a".to_owned()], vec![123])
        );
        assert_eq!(apprise.ignored[0].name, "to=bob");
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

    // ---- robots ----

    const DT_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn dingtalk_forms() {
        assert_eq!(
            ok(&format!("dingtalk://{DT_TOKEN}")),
            ChannelAddress::from(super::super::dingtalk::DingTalkRobot {
                webhook: format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"),
                secret: None,
                mobiles: Vec::new(),
            })
        );
        assert_eq!(
            ok(&format!(
                "dingtalk://SECtestsecret0123456789@{DT_TOKEN}/13800138000/+86-13900139000/13800138000"
            )),
            ChannelAddress::from(super::super::dingtalk::DingTalkRobot {
                webhook: format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"),
                secret: Some("SECtestsecret0123456789".to_owned()),
                mobiles: vec!["13800138000".to_owned(), "+86-13900139000".to_owned()],
            })
        );
        let native = format!("https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}");
        assert_eq!(
            ok(&native),
            ChannelAddress::from(super::super::dingtalk::DingTalkRobot {
                webhook: native.clone(),
                secret: None,
                mobiles: Vec::new(),
            })
        );
        // Mock robots in tests are recognised by their path.
        let mock = "http://127.0.0.1:18080/robot/send?access_token=abc";
        assert_eq!(ok(mock).kind(), dingtalk::KIND);
        assert_eq!(
            ok("http://127.0.0.1:18080/robot/send/?x=1&access_token=abc").kind(),
            dingtalk::KIND
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
            "钉钉机器人 access_token 只能包含英文字母和数字"
        );
    }

    #[test]
    fn feishu_forms_and_errors() {
        let hook = "2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a";
        assert_eq!(
            ok(&format!("feishu://{hook}/feishusecret123")),
            ChannelAddress::from(super::super::feishu::FeishuRobot {
                webhook: format!("https://open.feishu.cn/open-apis/bot/v2/hook/{hook}"),
                secret: Some("feishusecret123".to_owned()),
            })
        );
        for native in [
            format!("https://open.feishu.cn/open-apis/bot/v2/hook/{hook}"),
            format!("https://open.larksuite.com/open-apis/bot/v2/hook/{hook}"),
            format!("http://127.0.0.1:9/open-apis/bot/v2/hook/{hook}"),
        ] {
            assert_eq!(
                ok(&native),
                ChannelAddress::from(super::super::feishu::FeishuRobot {
                    webhook: native.clone(),
                    secret: None
                })
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
            ChannelAddress::from(super::super::wecom::WeComRobot {
                webhook: format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}")
            })
        );
        let mock = format!("http://localhost:8/cgi-bin/webhook/send?key={key}");
        assert_eq!(
            ok(&mock),
            ChannelAddress::from(super::super::wecom::WeComRobot {
                webhook: mock.clone()
            })
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
            // The host is checked first: a DingTalk path on Feishu's host is Feishu.
        ] {
            assert_eq!(
                ok(url),
                ChannelAddress::from(super::super::generic::GenericWebhook {
                    url: url.to_owned(),
                    secret: None,
                })
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
            format!("无法识别的地址：应以 {} 开头", supported())
        );
        assert_eq!(
            err("mailto:me@example.com"),
            format!("无法识别的地址：应以 {} 开头", supported())
        );
        assert_eq!(
            err("ftp://example.com/x"),
            format!("不支持的地址类型“ftp://”：应以 {} 开头", supported())
        );
        assert_eq!(err("bark://[::1/key"), "IPv6 主机地址缺少 ]");
        assert_eq!(err("bark://[xyz]/key"), "主机名“[xyz]”无效");
        assert_eq!(err("bark://[::1]x/key"), "主机名“[::1]x”无效");
        // Exactly at the limit is fine.
        let url = format!("https://example.com/{}", "a".repeat(2048 - 20));
        assert_eq!(url.len(), 2048);
        assert_eq!(ok(&url).kind(), generic::KIND);
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
            "mailtos://me%40qq.com:***@smtp.qq.com:465?mode=ssl&from=me@qq.com&to=me@qq.com"
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
