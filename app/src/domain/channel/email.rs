//! E-mail reminders: the SMTP settings taken from a `mailto://` / `mailtos://` address and
//! the plain-text message. Sending (SMTP, with `lettre`) is the server's.

use std::fmt;

use super::address::{
    AddressError, IgnoredParam, Param, Params, Parts, at_most, decode, dedup, encode_userinfo,
    network_host, port, shorten,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Notice, Outgoing, SendContext, Verdict, one_line};
use crate::domain::redact::MASK;
use crate::domain::robot::{OutgoingMessage, RobotError};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "email",
    label: "电子邮件",
    schemes: &["mailto", "mailtos"],
    form: "用户名:密码@邮箱域名或SMTP主机",
    hosts: &[],
    url_forms: &[
        "mailto://user:授权码@qq.com",
        "mailto://user:password@163.com?to=name@example.com",
        "mailtos://user%40example.com:password@smtp.example.com:465?to=a@example.com,b@example.com",
        "mailto://user:password@company.com?smtp=smtp.exmail.qq.com&from=打卡提醒<user@company.com>",
        "mailto://relay.local:25?from=kq@example.com&to=name@example.com",
    ],
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

/// The parameters an e-mail address honours.
pub const PARAMS: &[&str] = &[
    "to", "cc", "bcc", "from", "name", "reply", "smtp", "mode", "user", "pass",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTls {
    /// A plain connection that must be upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// STARTTLS when the server offers it, else plain: an internal relay (`mode=insecure`,
    /// or `mailto://` without a login; port 25).
    Opportunistic,
}

impl EmailTls {
    /// As Apprise's `mode=` names it.
    pub fn mode(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Implicit => "ssl",
            Self::Opportunistic => "insecure",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Implicit => 465,
            Self::Opportunistic => 25,
        }
    }
}

/// An SMTP login.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailLogin {
    pub username: String,
    pub password: String,
}

/// Where and as whom to send; parsed by [`super::address::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct EmailSpec {
    pub host: String,
    pub port: u16,
    pub tls: EmailTls,
    /// `None`: a relay that takes mail without a login.
    pub login: Option<EmailLogin>,
    pub from: String,
    /// The sender's display name (`?name=`, or `?from=名字<地址>`).
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    /// `?format=html` (or `markdown`): an HTML part with real links besides the text.
    pub html: bool,
    pub ignored: Vec<IgnoredParam>,
}

/// Never prints the password.
impl fmt::Debug for EmailSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSpec")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field(
                "login",
                &self
                    .login
                    .as_ref()
                    .map(|login| format!("{}:{MASK}", login.username)),
            )
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("to", &self.to)
            .field("cc", &self.cc)
            .field("bcc", &self.bcc)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

impl Channel for EmailSpec {
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError> {
        parse_email(parts)
    }

    fn kind(&self) -> ChannelKind {
        KIND
    }

    fn masked(&self) -> String {
        let scheme = match self.tls {
            EmailTls::Implicit => "mailtos",
            EmailTls::StartTls | EmailTls::Opportunistic => "mailto",
        };
        let login = match &self.login {
            Some(login) => format!("{}:{MASK}@", encode_userinfo(&login.username)),
            None => String::new(),
        };
        let mut shown = format!(
            "{scheme}://{login}{}:{}?mode={}&from={}",
            self.host,
            self.port,
            self.tls.mode(),
            self.from
        );
        if let Some(name) = &self.from_name {
            shown.push_str(&format!("&name={name}"));
        }
        if self.html {
            shown.push_str("&format=html");
        }
        for (name, list) in [
            ("to", &self.to),
            ("cc", &self.cc),
            ("bcc", &self.bcc),
            ("reply", &self.reply_to),
        ] {
            if !list.is_empty() {
                shown.push_str(&format!("&{name}={}", list.join(",")));
            }
        }
        shown
    }

    fn secrets(&self) -> Vec<&str> {
        self.login
            .as_ref()
            .map(|login| vec![login.password.as_str()])
            .unwrap_or_default()
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        _context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        Ok(Outgoing::Mail(Box::new(self.clone()), Notice::of(message)))
    }

    /// SMTP answers are read by the server's mailer; there is no HTTP answer.
    fn classify(&self, http_status: u16, _body: &str) -> Verdict {
        Verdict::Permanent(format!("邮件不经 HTTP 发送（HTTP {http_status}）"))
    }

    fn ignored(&self) -> &[IgnoredParam] {
        &self.ignored
    }
}

/// A mail provider's SMTP service, known by the domain of its addresses.
struct Provider {
    domains: &'static [&'static str],
    host: &'static str,
    tls: EmailTls,
    /// The login is the whole address (`user@qq.com`), not only the part before `@`.
    full_login: bool,
}

const fn provider(
    domains: &'static [&'static str],
    host: &'static str,
    tls: EmailTls,
) -> Provider {
    Provider {
        domains,
        host,
        tls,
        full_login: true,
    }
}

/// The providers people in China use, and the big international ones, from their help
/// pages: QQ 邮箱 and Foxmail (smtp.qq.com, SSL 465), 腾讯企业邮/企业微信邮箱
/// (smtp.exmail.qq.com), 网易 163/126/yeah/188, 阿里邮箱 (personal and 企业), 新浪, 搜狐,
/// 139, Outlook/Hotmail (smtp-mail.outlook.com, STARTTLS 587), Office 365, Gmail, iCloud,
/// Yahoo, Zoho, Yandex, GMX, Fastmail. Each wants an app password (授权码) rather than the
/// web login's.
const PROVIDERS: &[Provider] = &[
    provider(&["qq.com", "vip.qq.com", "foxmail.com"], "smtp.qq.com", EmailTls::Implicit),
    provider(&["exmail.qq.com"], "smtp.exmail.qq.com", EmailTls::Implicit),
    provider(&["163.com"], "smtp.163.com", EmailTls::Implicit),
    provider(&["126.com"], "smtp.126.com", EmailTls::Implicit),
    provider(&["yeah.net"], "smtp.yeah.net", EmailTls::Implicit),
    provider(&["188.com"], "smtp.188.com", EmailTls::Implicit),
    provider(&["vip.163.com"], "smtp.vip.163.com", EmailTls::Implicit),
    provider(&["aliyun.com"], "smtp.aliyun.com", EmailTls::Implicit),
    provider(&["qiye.aliyun.com"], "smtp.qiye.aliyun.com", EmailTls::Implicit),
    provider(&["sina.com", "sina.cn"], "smtp.sina.com", EmailTls::Implicit),
    provider(&["sohu.com"], "smtp.sohu.com", EmailTls::Implicit),
    provider(&["139.com"], "smtp.139.com", EmailTls::Implicit),
    provider(
        &["outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.com.au", "live.com.au"],
        "smtp-mail.outlook.com",
        EmailTls::StartTls,
    ),
    provider(&["office365.com"], "smtp.office365.com", EmailTls::StartTls),
    provider(&["gmail.com", "googlemail.com"], "smtp.gmail.com", EmailTls::StartTls),
    provider(&["icloud.com", "me.com", "mac.com"], "smtp.mail.me.com", EmailTls::StartTls),
    provider(
        &["yahoo.com", "yahoo.ca", "yahoo.co.uk", "yahoo.com.cn"],
        "smtp.mail.yahoo.com",
        EmailTls::Implicit,
    ),
    provider(&["zoho.com", "zohomail.com"], "smtp.zoho.com", EmailTls::StartTls),
    provider(
        &["yandex.com", "yandex.ru", "yandex.fr", "yandex.ua", "yandex.by", "yandex.kz"],
        "smtp.yandex.ru",
        EmailTls::Implicit,
    ),
    provider(&["gmx.net", "gmx.com", "gmx.de"], "mail.gmx.com", EmailTls::StartTls),
    provider(&["fastmail.com", "fastmail.fm"], "smtp.fastmail.com", EmailTls::Implicit),
    provider(&["comcast.net"], "smtp.comcast.net", EmailTls::Implicit),
    Provider {
        domains: &["sendgrid.com", "sendgrid.net"],
        host: "smtp.sendgrid.net",
        tls: EmailTls::Implicit,
        full_login: false,
    },
];

fn provider_of(domain: &str) -> Option<&'static Provider> {
    PROVIDERS
        .iter()
        .find(|provider| provider.domains.contains(&domain))
}

fn mode(param: &Param) -> Result<EmailTls, AddressError> {
    match param.value.to_ascii_lowercase().as_str() {
        "starttls" | "tls" => Ok(EmailTls::StartTls),
        "ssl" | "smtps" => Ok(EmailTls::Implicit),
        "insecure" | "plain" => Ok(EmailTls::Opportunistic),
        _ => Err(param.invalid("应为 starttls、ssl 或 insecure")),
    }
}

/// `from=名字<地址>` or `from=地址`.
fn sender(param: &Param) -> Result<(Option<String>, String), AddressError> {
    let value = param.value.trim();
    if let Some((name, rest)) = value.split_once('<')
        && let Some(address) = rest.strip_suffix('>')
    {
        let address = email_address(address).map_err(|_| param.invalid("应为邮箱地址"))?;
        let name = name.trim().trim_matches('"').trim();
        return Ok(((!name.is_empty()).then(|| name.to_owned()), address));
    }
    Ok((
        None,
        email_address(value).map_err(|_| param.invalid("应为邮箱地址"))?,
    ))
}

/// The host an address's mail domain is written without: `smtp.example.com` → `example.com`.
fn mail_domain(host: &str) -> &str {
    ["smtp.", "smtpdm.", "mail."]
        .iter()
        .find_map(|prefix| host.strip_prefix(prefix))
        .filter(|rest| rest.contains('.'))
        .unwrap_or(host)
}

/// Recipients from a list, each checked; what is not an address is dropped and listed as
/// ignored, as Apprise drops it.
fn recipients(items: Vec<String>, name: &str, params: &mut Params) -> Vec<String> {
    let mut kept = Vec::new();
    for item in items {
        match email_address(&item) {
            Ok(address) => kept.push(address),
            Err(_) => params.drop_value(name, &item, "不是邮箱地址，已忽略"),
        }
    }
    dedup(kept)
}

/// `mailto://[user[:password]@]domain-or-host[:port][/recipient…][?params]`: a provider's
/// domain (`qq.com`, `163.com`, `gmail.com`, …) brings its SMTP server, port and TLS mode;
/// any other host is the SMTP server. `mailto://` uses STARTTLS (587) with a login and
/// takes a relay without one as it comes (25); `mailtos://` uses TLS from the first byte
/// (465); `?mode=` and a port override both. The sender defaults to the login's address,
/// the recipient to the sender.
fn parse_email(parts: &Parts<'_>) -> Result<EmailSpec, AddressError> {
    if parts.fragment.is_some() {
        return Err(parts.error("不能包含 #"));
    }
    let mut params = Params::of(parts)?;
    let domain = network_host(parts.host, &parts.subject())?;
    let (mut user, mut password) = match parts.userinfo {
        None => (String::new(), String::new()),
        Some(userinfo) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (decode(user, "邮箱用户名")?, decode(password, "邮箱密码")?)
        }
    };
    if let Some(param) = params.take(&["user"]) {
        user = param.value;
    }
    if let Some(param) = params.take(&["pass", "password"]) {
        password = param.value;
    }
    let user = user.trim().to_owned();
    let smtp = match params.take(&["smtp"]) {
        Some(param) => {
            Some(network_host(&param.value, "参数 smtp ").map_err(|_| param.invalid("应为主机名"))?)
        }
        None => None,
    };
    let provider = smtp.is_none().then(|| provider_of(&domain)).flatten();
    let explicit_mode = params.take(&["mode", "secure"]).map(|param| mode(&param)).transpose()?;
    let explicit_port = port(parts.port)?;
    let (sender_name, sender) = match params.take(&["from"]) {
        Some(param) => {
            let (name, address) = sender(&param)?;
            (name, Some(address))
        }
        None => (None, None),
    };
    let from_name = match params.take(&["name"]) {
        Some(param) => Some(param.text(64)?),
        None => sender_name,
    };
    // The login's own address: `user` when it is one, else `user@domain`.
    let user_address = if user.contains('@') {
        email_address(&user).ok()
    } else if user.is_empty() {
        None
    } else {
        email_address(&format!("{user}@{}", mail_domain(&domain))).ok()
    };
    let login = (!user.is_empty() && !password.is_empty()).then(|| EmailLogin {
        username: match (provider, &user_address) {
            (Some(provider), Some(address)) if provider.full_login => address.clone(),
            _ => user.clone(),
        },
        password,
    });
    let Some(from) = sender.or(user_address) else {
        return Err(AddressError::new(format!(
            "{}缺少发件人：请写成 用户名:密码@邮箱域名，或加上 ?from=发件人地址",
            parts.subject()
        )));
    };
    let tls = explicit_mode.unwrap_or(match (provider, parts.scheme.as_str()) {
        (Some(provider), _) => provider.tls,
        (None, "mailtos") => EmailTls::Implicit,
        (None, _) if explicit_port == Some(465) => EmailTls::Implicit,
        (None, _) if login.is_some() => EmailTls::StartTls,
        (None, _) => EmailTls::Opportunistic,
    });
    let port = explicit_port.unwrap_or(tls.default_port());
    let host = smtp.unwrap_or_else(|| provider.map_or(domain.clone(), |p| p.host.to_owned()));
    let mut to_items: Vec<String> = Vec::new();
    for segment in parts.segments() {
        to_items.push(decode(segment, "收件人")?);
    }
    to_items.extend(params.take_items(&["to"]));
    let mut to = recipients(to_items, "to", &mut params);
    let cc_items = params.take_items(&["cc"]);
    let cc = recipients(cc_items, "cc", &mut params);
    let bcc_items = params.take_items(&["bcc"]);
    let bcc = recipients(bcc_items, "bcc", &mut params);
    let reply_items = params.take_items(&["reply"]);
    let reply_to = recipients(reply_items, "reply", &mut params);
    if to.is_empty() {
        to.push(from.clone());
    }
    at_most(to.len() + cc.len() + bcc.len(), "收件人")?;
    let pgp = params.take(&["pgp"]);
    if let Some(pgp) = &pgp
        && !matches!(
            pgp.value.to_ascii_lowercase().as_str(),
            "no" | "n" | "sign" | "s" | "encrypt" | "e"
        )
    {
        return Err(pgp.invalid("应为 no、sign 或 encrypt"));
    }
    const NO_PGP: &str = "提醒邮件不做 PGP 签名或加密";
    if pgp.is_some() {
        params.note("pgp", NO_PGP);
    }
    params.ignore(&["pgppub", "pgpprv", "wkd", "inline"], NO_PGP);
    params.ignore_prefixed("+", "不添加自定义邮件头");
    let html = match params.take(&["format"]) {
        None => false,
        Some(format) => match format.value.to_ascii_lowercase().as_str() {
            "html" | "markdown" => true,
            "text" => false,
            _ => return Err(format.invalid("应为 text 或 html")),
        },
    };
    Ok(EmailSpec {
        host,
        port,
        tls,
        login,
        from,
        from_name,
        to,
        cc,
        bcc,
        reply_to,
        html,
        ignored: params.finish()?,
    })
}

/// A minimal check: one `@` with something on both sides, no spaces or control
/// characters, at most 254 characters.
fn email_address(value: &str) -> Result<String, AddressError> {
    let value = value.trim();
    let invalid = || AddressError::new(format!("邮箱地址“{}”无效", shorten(value, 64)));
    let valid = value.chars().count() <= 254
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"' | '/'))
        && matches!(value.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(invalid())
    }
}

/// The subject (one line) and the plain-text body: the text, then each link on its own
/// line as `label：url` (mail clients make URLs clickable).
pub fn subject_and_body(notice: &Notice) -> (String, String) {
    let subject = one_line(&notice.title).trim().to_owned();
    (subject, notice.text_with_links(&notice.links))
}

/// The HTML part: each line of the text a paragraph, each link a link.
pub fn html_body(notice: &Notice) -> String {
    let escape = |value: &str| {
        value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut html = String::from("<!DOCTYPE html><html><body>");
    for line in notice.text.lines().filter(|line| !line.trim().is_empty()) {
        html.push_str(&format!("<p>{}</p>", escape(line)));
    }
    for link in &notice.links {
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(&link.url),
            escape(&one_line(&link.label))
        ));
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::super::address::parse;
    use super::super::test_support::notice;
    use super::*;

    fn spec(url: &str) -> EmailSpec {
        match parse(url).unwrap() {
            super::super::ChannelAddress::Email(spec) => spec,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn subject_is_one_line_and_body_lists_the_links() {
        let mut notice = notice();
        notice.title = "上班\r\n打卡提醒".to_owned();
        let (subject, body) = subject_and_body(&notice);
        assert_eq!(subject, "上班  打卡提醒");
        assert_eq!(
            body,
            "早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc"
        );
    }

    #[test]
    fn spec_comes_from_the_address() {
        assert_eq!(
            spec("mailtos://bot%40example.com:p%40ss%3Aword@smtp.example.com?to=a@example.com"),
            EmailSpec {
                host: "smtp.example.com".to_owned(),
                port: 465,
                tls: EmailTls::Implicit,
                login: Some(EmailLogin {
                    username: "bot@example.com".to_owned(),
                    password: "p@ss:word".to_owned(),
                }),
                from: "bot@example.com".to_owned(),
                from_name: None,
                to: vec!["a@example.com".to_owned()],
                cc: vec![],
                bcc: vec![],
                reply_to: vec![],
                html: false,
                ignored: vec![],
            }
        );
    }

    /// (host, port, mode, login, from, to) as parsed.
    fn summary(url: &str) -> (String, u16, &'static str, Option<String>, String, Vec<String>) {
        let spec = spec(url);
        (
            spec.host,
            spec.port,
            spec.tls.mode(),
            spec.login.map(|login| login.username),
            spec.from,
            spec.to,
        )
    }

    fn refused(url: &str) -> String {
        match parse(url) {
            Ok(address) => panic!("{url} parsed as {address:?}"),
            Err(error) => error.message,
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn a_provider_s_domain_brings_its_server_port_tls_and_login_form() {
        let cases = [
            ("mailto://me:授权码@qq.com", "smtp.qq.com", 465, "ssl", "me@qq.com"),
            ("mailto://me:code@foxmail.com", "smtp.qq.com", 465, "ssl", "me@foxmail.com"),
            ("mailto://me:code@163.com", "smtp.163.com", 465, "ssl", "me@163.com"),
            ("mailto://me:code@126.com", "smtp.126.com", 465, "ssl", "me@126.com"),
            ("mailto://me:code@yeah.net", "smtp.yeah.net", 465, "ssl", "me@yeah.net"),
            ("mailto://me:code@aliyun.com", "smtp.aliyun.com", 465, "ssl", "me@aliyun.com"),
            ("mailto://me:code@sina.com", "smtp.sina.com", 465, "ssl", "me@sina.com"),
            ("mailto://me:code@139.com", "smtp.139.com", 465, "ssl", "me@139.com"),
            ("mailto://me:pw@outlook.com", "smtp-mail.outlook.com", 587, "starttls", "me@outlook.com"),
            ("mailto://me:pw@hotmail.com", "smtp-mail.outlook.com", 587, "starttls", "me@hotmail.com"),
            ("mailtos://me:pw@gmail.com", "smtp.gmail.com", 587, "starttls", "me@gmail.com"),
            ("mailto://me:pw@icloud.com", "smtp.mail.me.com", 587, "starttls", "me@icloud.com"),
            ("mailto://me:pw@yahoo.com", "smtp.mail.yahoo.com", 465, "ssl", "me@yahoo.com"),
        ];
        for (url, host, port, mode, address) in cases {
            assert_eq!(
                summary(url),
                (
                    host.to_owned(),
                    port,
                    mode,
                    Some(address.to_owned()),
                    address.to_owned(),
                    strings(&[address])
                ),
                "{url}"
            );
        }
        // SendGrid logs in as the user part (`apikey`).
        assert_eq!(
            summary("mailto://apikey:SG.x@sendgrid.com?from=kq@example.com").3,
            Some("apikey".to_owned())
        );
    }

    #[test]
    fn company_mail_on_its_own_domain_names_the_provider_s_server() {
        // 腾讯企业邮 / 企业微信邮箱 and 阿里企业邮箱: the address is the company's own.
        assert_eq!(
            summary("mailto://me%40corp.cn:code@corp.cn?smtp=smtp.exmail.qq.com&mode=ssl"),
            (
                "smtp.exmail.qq.com".to_owned(),
                465,
                "ssl",
                Some("me@corp.cn".to_owned()),
                "me@corp.cn".to_owned(),
                strings(&["me@corp.cn"])
            )
        );
        assert_eq!(
            summary("mailtos://me%40corp.cn:code@smtp.qiye.aliyun.com?to=boss@corp.cn"),
            (
                "smtp.qiye.aliyun.com".to_owned(),
                465,
                "ssl",
                Some("me@corp.cn".to_owned()),
                "me@corp.cn".to_owned(),
                strings(&["boss@corp.cn"])
            )
        );
    }

    #[test]
    fn any_other_host_is_the_smtp_server() {
        // Apprise's form: the user part logs in; the sender is user@domain (without the
        // server's `smtp.`).
        assert_eq!(
            summary("mailto://bot:pw@smtp.example.com?to=a@example.com"),
            (
                "smtp.example.com".to_owned(),
                587,
                "starttls",
                Some("bot".to_owned()),
                "bot@example.com".to_owned(),
                strings(&["a@example.com"])
            )
        );
        assert_eq!(
            summary("mailtos://user:pass@nuxref.com:567"),
            (
                "nuxref.com".to_owned(),
                567,
                "ssl",
                Some("user".to_owned()),
                "user@nuxref.com".to_owned(),
                strings(&["user@nuxref.com"])
            )
        );
        // Port 465 means TLS from the first byte whatever the scheme; `mode` decides over
        // the scheme and brings its port.
        assert_eq!(summary("mailto://u:p@mx.example.com:465").2, "ssl");
        let explicit = summary("mailtos://user:pass@gmail.com?mode=ssl");
        assert_eq!((explicit.1, explicit.2), (465, "ssl"));
        let explicit = summary("mailto://user:pass@example.com?mode=starttls");
        assert_eq!((explicit.1, explicit.2), (587, "starttls"));
        // `smtp=`, `user=` and `pass=` as parameters.
        assert_eq!(
            summary("mailto://user:pass@example.com:2525?user=l2g@example.com&pass=secret"),
            (
                "example.com".to_owned(),
                2525,
                "starttls",
                Some("l2g@example.com".to_owned()),
                "l2g@example.com".to_owned(),
                strings(&["l2g@example.com"])
            )
        );
        let spec = spec("mailtos://nuxref.com?user=l2g&pass=.");
        assert_eq!(spec.login.map(|l| (l.username, l.password)), Some(("l2g".to_owned(), ".".to_owned())));
    }

    #[test]
    fn a_relay_without_login_takes_mail_as_it_comes() {
        assert_eq!(
            summary("mailto://relay.local:25?from=kq@example.com&to=a@example.com"),
            (
                "relay.local".to_owned(),
                25,
                "insecure",
                None,
                "kq@example.com".to_owned(),
                strings(&["a@example.com"])
            )
        );
        assert_eq!(
            summary("mailto://relay.local?from=kq@example.com").2,
            "insecure",
            "port 25 by default"
        );
        assert_eq!(summary("mailto://relay.local?from=kq@example.com").1, 25);
        // A user without a password: no login, the user's address still sends.
        let spec = spec("mailtos://user:@nuxref.com");
        assert!(spec.login.is_none());
        assert_eq!(spec.from, "user@nuxref.com");
    }

    #[test]
    fn senders_names_and_every_kind_of_recipient() {
        let spec = spec(
            "mailtos://user:pass@example.com?smtp=smtp.example.com&name=l2g&to=a@x.cn&cc=b@x.cn,c@x.cn&bcc=d@x.cn&reply=e@x.cn",
        );
        assert_eq!(spec.from_name.as_deref(), Some("l2g"));
        assert_eq!(spec.host, "smtp.example.com");
        assert_eq!(spec.cc, ["b@x.cn", "c@x.cn"]);
        assert_eq!(spec.bcc, ["d@x.cn"]);
        assert_eq!(spec.reply_to, ["e@x.cn"]);
        assert_eq!(spec.to, ["a@x.cn"]);
        let spec = spec_of("mailtos://user:pass@nuxref.com?from=jack@gmail.com&name=Jason");
        assert_eq!((spec.from.as_str(), spec.from_name.as_deref()), ("jack@gmail.com", Some("Jason")));
        let spec = spec_of("mailto://u:p@example.com?from=%E6%89%93%E5%8D%A1%E6%8F%90%E9%86%92%3Ckq@example.com%3E");
        assert_eq!((spec.from.as_str(), spec.from_name.as_deref()), ("kq@example.com", Some("打卡提醒")));
        // Recipients in the path, as Apprise writes them; what is not an address is dropped
        // and shown as ignored.
        let spec = spec_of("mailto://user:pass@localhost/test@example.com/test2@/?cc=x@example.com,@");
        assert_eq!(spec.to, ["test@example.com"]);
        assert_eq!(spec.cc, ["x@example.com"]);
        let dropped: Vec<&str> = spec.ignored.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(dropped, ["to=test2@", "cc=@"]);
        // Only nonsense in `to`: the sender gets it.
        assert_eq!(spec_of("mailtos://user:pass@nuxref.com?to=@").to, ["user@nuxref.com"]);
    }

    fn spec_of(url: &str) -> EmailSpec {
        spec(url)
    }

    #[test]
    fn what_does_not_apply_is_ignored_with_the_reason() {
        let spec = spec("mailto://u:p@fastmail.com?tz=UTC&pgp=encrypt&pgppub=%2Fk.asc&+X-Campaign=1&format=html&color=red");
        let ignored: Vec<(&str, &str)> = spec
            .ignored
            .iter()
            .map(|i| (i.name.as_str(), i.reason.as_str()))
            .collect();
        assert_eq!(
            ignored,
            [
                ("pgp", "提醒邮件不做 PGP 签名或加密"),
                ("pgppub", "提醒邮件不做 PGP 签名或加密"),
                ("+x-campaign", "不添加自定义邮件头"),
                ("tz", "提醒时间按团队设置的时区计算"),
                ("color", "不认识的参数"),
            ]
        );
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        assert_eq!(
            refused("mailtos://user:pass@example.com?mode=notamode"),
            "参数 mode 的值“notamode”无效：应为 starttls、ssl 或 insecure"
        );
        assert_eq!(
            refused("mailtos://u@domain.com?pgp=yes"),
            "参数 pgp 的值“yes”无效：应为 no、sign 或 encrypt"
        );
        assert_eq!(
            refused("mailto://user:pass@fastmail.com?tz=invalid"),
            "参数 tz 的值“invalid”无效：应为时区名称，如 Asia/Shanghai"
        );
        assert_eq!(
            refused("mailtos://nuxref.com?to=test@x.cn"),
            "mailtos:// 地址缺少发件人：请写成 用户名:密码@邮箱域名，或加上 ?from=发件人地址"
        );
        assert_eq!(
            refused("mailtos://:pass@nuxref.com:567"),
            "mailtos:// 地址缺少发件人：请写成 用户名:密码@邮箱域名，或加上 ?from=发件人地址"
        );
        assert_eq!(
            refused("mailtos://user:pass@nuxref.com?from=@"),
            "参数 from 的值“@”无效：应为邮箱地址"
        );
        assert_eq!(
            refused("mailto://bot:pw@smtp.example.com?to=a%0D%0ABcc:x@example.com"),
            "参数值不能包含控制字符"
        );
        assert_eq!(
            refused("mailto://bot:pw@smtp.example.com?smtp=bad%20host"),
            "参数 smtp 的值“bad host”无效：应为主机名"
        );
        assert_eq!(
            refused("mailto://bot:pw@smtp.example.com:99999"),
            "端口“99999”无效，应为 1–65535"
        );
        let many: Vec<String> = (0..21).map(|n| format!("u{n}@example.com")).collect();
        assert_eq!(
            refused(&format!("mailto://bot:pw@example.com?to={}", many.join(","))),
            "最多 20 个收件人，这里有 21 个"
        );
        assert_eq!(
            refused("mailto://bot:pw@example.com#x"),
            "mailto:// 地址不能包含 #（mailto://用户名:密码@邮箱域名或SMTP主机）"
        );
    }

    #[test]
    fn format_html_adds_an_html_part_with_the_text_escaped_and_the_links_as_links() {
        assert!(spec("mailto://u:p@qq.com?format=html").html);
        assert!(!spec("mailto://u:p@qq.com?format=text").html);
        assert!(parse("mailto://u:p@qq.com?format=rtf").is_err());
        let mut notice = notice();
        notice.text = "早班 <b>&</b>\n\n09:00".to_owned();
        assert_eq!(
            html_body(&notice),
            "<!DOCTYPE html><html><body><p>早班 &lt;b&gt;&amp;&lt;/b&gt;</p><p>09:00</p>\
             <p><a href=\"https://kq.example.com/a/done?t=abc\">我已打卡</a></p>\
             <p><a href=\"https://kq.example.com/a/skip?t=abc\">今天不用提醒</a></p></body></html>"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let spec = spec(
            "mailto://bot:VerySecretPassword@smtp.example.com?to=a@example.com&from=bot@example.com",
        );
        let shown = format!("{spec:?}");
        assert!(!shown.contains("VerySecretPassword"), "{shown}");
        assert!(shown.contains("smtp.example.com"), "{shown}");
    }
}
