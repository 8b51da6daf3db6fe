//! E-mail reminders: the SMTP settings taken from a `mailto://` / `mailtos://` address and
//! the plain-text message. Sending (SMTP, with `lettre`) is the server's.

use std::fmt;

use super::address::{
    AddressError, Parts, at_most, decode, dedup, encode_userinfo, network_host, port,
    query_pairs, shorten,
};
use super::{Channel, ChannelKind, KindInfo, MINUTE, Notice, Outgoing, SendContext, Verdict, one_line};
use crate::domain::redact::MASK;
use crate::domain::robot::{OutgoingMessage, RobotError};

pub const KIND: ChannelKind = ChannelKind::new(&KindInfo {
    id: "email",
    label: "电子邮件",
    schemes: &["mailto", "mailtos"],
    form: "用户名:密码@SMTP主机?to=收件人",
    hosts: &[],
    url_forms: &[
        "mailto://user%40example.com:password@smtp.host?to=name@example.com",
        "mailtos://user:password@smtp.host:465?to=name@example.com&from=user@example.com",
    ],
    rate_limits: &[],
    group: false,
    throttle_ban: MINUTE,
    binding: None,
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTls {
    /// `mailto://`: plain connection upgraded with STARTTLS (submission port 587).
    StartTls,
    /// `mailtos://`: TLS from the first byte (port 465).
    Implicit,
}

/// Where and as whom to send; parsed by [`super::address::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct EmailSpec {
    pub host: String,
    pub port: u16,
    pub tls: EmailTls,
    pub username: String,
    pub password: String,
    pub from: String,
    pub to: Vec<String>,
}

/// Never prints the password.
impl fmt::Debug for EmailSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSpec")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &MASK)
            .field("from", &self.from)
            .field("to", &self.to)
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
            EmailTls::StartTls => "mailto",
            EmailTls::Implicit => "mailtos",
        };
        format!(
            "{scheme}://{}:{MASK}@{}:{}?to={}&from={}",
            encode_userinfo(&self.username),
            self.host,
            self.port,
            self.to.join(","),
            self.from
        )
    }

    fn secrets(&self) -> Vec<&str> {
        vec![&self.password]
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
}

/// `mailto://user:pass@smtp.host[:port]?to=a@b[,c@d][&from=…]` (STARTTLS, default port
/// 587) and `mailtos://` (implicit TLS, default 465).
fn parse_email(parts: &Parts<'_>) -> Result<EmailSpec, AddressError> {
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
    Ok(EmailSpec {
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
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
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
                username: "bot@example.com".to_owned(),
                password: "p@ss:word".to_owned(),
                from: "bot@example.com".to_owned(),
                to: vec!["a@example.com".to_owned()],
            }
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
