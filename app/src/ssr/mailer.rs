//! E-mail reminders over SMTP (`lettre`) in the address's TLS mode: STARTTLS required
//! (except on a loopback host when `ALLOW_PRIVATE_WEBHOOKS` is on, so tests can use a local
//! sink), TLS from the first byte, or STARTTLS when offered (a relay without a login).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Services;
use super::notify::SendOutcome;
use crate::domain::channel::Verdict;
use crate::domain::channel::{EmailSpec, EmailTls, Notice, email};

const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

fn failure(permanent: bool, message: String) -> SendOutcome {
    SendOutcome::unanswered(!permanent, message)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mailbox(address: &str, what: &str) -> Result<Mailbox, String> {
    address
        .parse()
        .map_err(|_| format!("{what}地址无效：{address}"))
}

fn message_of(spec: &EmailSpec, notice: &Notice) -> Result<Message, String> {
    let (subject, body) = email::subject_and_body(notice);
    let mut from = mailbox(&spec.from, "发件人")?;
    from.name = spec.from_name.clone();
    let mut builder = Message::builder().from(from).subject(subject);
    for to in &spec.to {
        builder = builder.to(mailbox(to, "收件人")?);
    }
    for cc in &spec.cc {
        builder = builder.cc(mailbox(cc, "抄送")?);
    }
    for bcc in &spec.bcc {
        builder = builder.bcc(mailbox(bcc, "密送")?);
    }
    for reply in &spec.reply_to {
        builder = builder.reply_to(mailbox(reply, "回复")?);
    }
    let built = if spec.html {
        builder.multipart(MultiPart::alternative_plain_html(
            body,
            email::html_body(notice),
        ))
    } else {
        builder.header(ContentType::TEXT_PLAIN).body(body)
    };
    built.map_err(|error| format!("无法生成邮件：{error}"))
}

pub async fn send(services: &Services, spec: &EmailSpec, notice: &Notice) -> SendOutcome {
    if !services.settings.allow_private_webhooks && is_loopback(&spec.host) {
        return failure(true, format!("SMTP 服务器 {} 是本机地址", spec.host));
    }
    let message = match message_of(spec, notice) {
        Ok(message) => message,
        Err(error) => return failure(true, error),
    };
    let tls_parameters = match TlsParameters::new(spec.host.clone()) {
        Ok(parameters) => parameters,
        Err(error) => return failure(true, format!("TLS 设置失败：{error}")),
    };
    let local_sink = services.settings.allow_private_webhooks && is_loopback(&spec.host);
    let tls = match spec.tls {
        EmailTls::Implicit => Tls::Wrapper(tls_parameters),
        EmailTls::StartTls if local_sink => Tls::Opportunistic(tls_parameters),
        EmailTls::StartTls => Tls::Required(tls_parameters),
        EmailTls::Opportunistic => Tls::Opportunistic(tls_parameters),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(spec.host.as_str())
        .port(spec.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(login) = &spec.login {
        builder = builder.credentials(Credentials::new(
            login.username.clone(),
            login.password.clone(),
        ));
    }
    let mailer = builder.build();
    match mailer.send(message).await {
        Ok(response) => SendOutcome {
            verdict: Verdict::Sent,
            http_status: None,
            answer: Some(format!(
                "SMTP {}: {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
        },
        Err(error) => {
            // 5xx answers (bad credentials, unknown recipient) will not change by retrying;
            // connection trouble and 4xx may.
            let message = format!("SMTP 发送失败：{error}");
            failure(error.is_permanent(), message)
        }
    }
}
