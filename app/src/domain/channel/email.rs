//! E-mail reminders: the SMTP settings taken from a `mailto://` / `mailtos://` address and
//! the plain-text message. Sending (SMTP, with `lettre`) is the server's.

use std::fmt;

use super::{Notice, one_line};
use crate::domain::redact::MASK;

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
        parse(url).unwrap().email().unwrap().clone()
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
