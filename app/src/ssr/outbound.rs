//! Every request this server makes to the outside (robots, punch checks): one HTTP client
//! with connect and total timeouts, no redirects, and a guard against server-side request
//! forgery. Robot and check URLs are typed by admins, so without the guard an admin — or
//! anyone holding the API token — could make the server probe the internal network or a
//! cloud metadata endpoint.
//!
//! The guard runs twice: on the URL when it is saved (scheme, IP literals) and in the DNS
//! resolver on every request, after resolution, so a name that later resolves to a private
//! address (DNS rebinding) is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::AppError;
use crate::domain::redact::{Secrets, mask_url};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Robot answers are small; anything longer is cut before it is stored or shown.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

const PRIVATE_HINT: &str = "如确需使用内网地址，请设置环境变量 ALLOW_PRIVATE_WEBHOOKS=true";

/// The shared outbound HTTP client and its address policy.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

/// A response as far as the caller needs it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Why a request did not produce an answer. `retryable` is false for refusals that will
/// not change by trying again (a private address, a malformed URL).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub retryable: bool,
}

impl Outbound {
    /// `proxy`: `OUTBOUND_PROXY`. Without it the process environment's `HTTP(S)_PROXY` /
    /// `ALL_PROXY` are ignored: a proxy resolves names itself, beyond our private-address
    /// guard, so it is used only when an admin names one on purpose.
    pub fn new(allow_private: bool, proxy: Option<&str>) -> Result<Self, AppError> {
        let builder = match proxy {
            None => reqwest::Client::builder().no_proxy(),
            Some(url) => {
                reqwest::Client::builder().proxy(reqwest::Proxy::all(url).map_err(|error| {
                    tracing::error!(error = %error.without_url(), "OUTBOUND_PROXY is not usable");
                    AppError::Internal
                })?)
            }
        };
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("dingding-attendance/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()
            .map_err(|error| {
                tracing::error!(%error, "cannot build the HTTP client");
                AppError::Internal
            })?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Checks a URL an admin typed for `field`: absolute, https (http only when private
    /// addresses are allowed, for local robots and tests), no credentials, and no literal
    /// private address.
    pub fn check_url(&self, field: &str, raw: &str) -> Result<reqwest::Url, AppError> {
        let raw = raw.trim();
        let url = reqwest::Url::parse(raw).map_err(|_| {
            AppError::invalid(
                field,
                "应为完整的网址，例如 https://oapi.dingtalk.com/robot/send?access_token=…",
            )
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => {
                return Err(AppError::invalid(
                    field,
                    "必须使用 https:// 地址（机器人和打卡检测接口的密钥不能明文传输）",
                ));
            }
            other => {
                return Err(AppError::invalid(
                    field,
                    format!("不支持的协议 {other}:，应为 https://"),
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AppError::invalid(field, "网址里不能包含用户名或密码"));
        }
        match url.host() {
            None => return Err(AppError::invalid(field, "网址缺少主机名")),
            Some(url::Host::Ipv4(ip)) if !self.allow_private && is_forbidden(IpAddr::V4(ip)) => {
                return Err(AppError::invalid(
                    field,
                    format!("{ip} 是内网、本机或元数据地址，已拒绝；{PRIVATE_HINT}"),
                ));
            }
            Some(url::Host::Ipv6(ip)) if !self.allow_private && is_forbidden(IpAddr::V6(ip)) => {
                return Err(AppError::invalid(
                    field,
                    format!("{ip} 是内网、本机或元数据地址，已拒绝；{PRIVATE_HINT}"),
                ));
            }
            Some(url::Host::Domain(domain))
                if !self.allow_private && domain.eq_ignore_ascii_case("localhost") =>
            {
                return Err(AppError::invalid(
                    field,
                    format!("localhost 是本机地址，已拒绝；{PRIVATE_HINT}"),
                ));
            }
            Some(_) => {}
        }
        Ok(url)
    }

    /// POSTs a JSON body. Any HTTP status is an answer; only network failures are errors.
    pub async fn post_json(
        &self,
        url: &str,
        body: String,
        headers: &[(String, String)],
    ) -> Result<Answer, SendError> {
        let mut all = vec![(
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        )];
        all.extend(
            headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
                .cloned(),
        );
        self.post(url, body.into_bytes(), &all).await
    }

    /// POSTs `body` as it is; `headers` name its content type.
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> Result<Answer, SendError> {
        let secrets = secrets_of(url, &[], headers);
        let shown = mask_url(url);
        let url = self.check_url("url", url).map_err(|error| SendError {
            message: secrets.redact(&error.to_string()),
            retryable: false,
        })?;
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        self.finish(request, &secrets, &shown).await
    }

    /// GETs a URL with query parameters and extra headers.
    pub async fn get(
        &self,
        url: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
    ) -> Result<Answer, SendError> {
        let secrets = secrets_of(url, query, headers);
        let shown = mask_url(url);
        let url = self.check_url("url", url).map_err(|error| SendError {
            message: secrets.redact(&error.to_string()),
            retryable: false,
        })?;
        let mut request = self.client.get(url).query(query);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        self.finish(request, &secrets, &shown).await
    }

    async fn finish(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &Secrets,
        shown_url: &str,
    ) -> Result<Answer, SendError> {
        let failed = |error: reqwest::Error| {
            let error = describe(error, secrets);
            tracing::warn!(url = %shown_url, error = %error.message, "outbound request failed");
            error
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(failed)?;
        let cut = &bytes[..bytes.len().min(MAX_ANSWER_BYTES)];
        // A server that echoes our request (URL, token) back must not get it stored. Only
        // the request's own values go: a token endpoint's fresh token is still parsed.
        Ok(Answer {
            status,
            body: secrets.redact_values(&String::from_utf8_lossy(cut)),
        })
    }
}

/// The credentials of one request: the URL's query values and long path segments, the
/// extra query pairs and the values of credential headers.
fn secrets_of(url: &str, query: &[(String, String)], headers: &[(String, String)]) -> Secrets {
    let mut secrets = Secrets::new().with_url(url);
    for (_, value) in query {
        secrets = secrets.with(value);
    }
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if ["token", "authorization", "secret", "signature", "key"]
            .iter()
            .any(|word| name.contains(word))
            && name != "idempotency-key"
        {
            secrets = secrets.with(value.trim_start_matches("Bearer ").trim());
        }
    }
    secrets
}

/// A network failure in words an admin can act on, with no URL in it: reqwest's own text
/// names the full URL, query string (the robot's token) included, so it is dropped with
/// `without_url` and whatever the rest of the chain says is redacted too.
fn describe(error: reqwest::Error, secrets: &Secrets) -> SendError {
    use std::error::Error as _;
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        detail = format!("{detail}: {inner}");
        source = inner.source();
    }
    let detail = secrets.redact(&detail);
    let lower = detail.to_ascii_lowercase();
    let refused_private = detail.contains(PRIVATE_MARK);
    let cause = if refused_private {
        return SendError {
            message: format!("目标解析到内网、本机或元数据地址，已拒绝；{PRIVATE_HINT}"),
            retryable: false,
        };
    } else if error.is_timeout() {
        "请求超时"
    } else if [
        "dns error",
        "lookup address",
        "name or service",
        "no such host",
    ]
    .iter()
    .any(|mark| lower.contains(mark))
    {
        "无法解析域名"
    } else if [
        "certificate",
        "tls",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
    ]
    .iter()
    .any(|mark| lower.contains(mark))
    {
        "TLS（https）握手失败"
    } else if lower.contains("connection refused") {
        "连接被拒绝（目标端口没有服务在监听）"
    } else if error.is_connect() {
        "无法连接"
    } else if error.is_body() || error.is_decode() {
        "读取应答失败"
    } else {
        "网络错误"
    };
    SendError {
        message: format!("{cause}：{detail}"),
        retryable: true,
    }
}

const PRIVATE_MARK: &str = "refused non-public address";

/// Resolves with the system resolver, then drops every address the policy forbids; a name
/// left with none fails.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = allowed_addresses(&host, resolved, allow_private)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// What is left of a name's addresses after the policy; none left is an error that names
/// the host (a name with no addresses at all is the resolver's own error).
fn allowed_addresses(
    host: &str,
    resolved: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let found = !resolved.is_empty();
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|addr| allow_private || !is_forbidden(addr.ip()))
        .collect();
    if allowed.is_empty() && found {
        return Err(format!("{PRIVATE_MARK}: {host}"));
    }
    Ok(allowed)
}

/// Loopback, private, link-local (incl. the 169.254.169.254 metadata service), carrier-grade
/// NAT, unspecified, broadcast, multicast, documentation and unique-local addresses.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => forbidden_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(ip),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_forbidden() {
        for raw in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = raw.parse().expect("test address");
            assert!(is_forbidden(ip), "{raw} should be refused");
        }
        for raw in ["203.0.113.1", "8.8.8.8", "106.11.1.1", "2400:3200::1"] {
            let ip: IpAddr = raw.parse().expect("test address");
            let expected = raw == "203.0.113.1"; // documentation range
            assert_eq!(is_forbidden(ip), expected, "{raw}");
        }
    }

    #[test]
    fn urls_must_be_https_and_public() {
        let strict = Outbound::new(false, None).expect("client");
        assert!(
            strict
                .check_url("url", "https://oapi.dingtalk.com/robot/send?access_token=x")
                .is_ok()
        );
        for (raw, needle) in [
            ("http://oapi.dingtalk.com/robot/send", "https://"),
            ("https://127.0.0.1/hook", "127.0.0.1"),
            (
                "https://169.254.169.254/latest/meta-data",
                "169.254.169.254",
            ),
            ("https://[::1]/hook", "::1"),
            ("https://localhost:8080/x", "localhost"),
            ("ftp://example.com/x", "ftp"),
            ("not a url", "完整的网址"),
            ("https://user:pw@example.com/", "用户名"),
        ] {
            let error = strict.check_url("url", raw).expect_err(raw).to_string();
            assert!(error.contains(needle), "{raw}: {error}");
        }
        let relaxed = Outbound::new(true, None).expect("client");
        assert!(
            relaxed
                .check_url("url", "http://127.0.0.1:9/robot/send")
                .is_ok()
        );
    }

    #[test]
    fn a_name_resolving_to_private_addresses_is_refused_after_resolution() {
        let addr = |text: &str| text.parse::<SocketAddr>().expect("address");
        let internal = vec![addr("127.0.0.1:0"), addr("10.0.0.7:0"), addr("[::1]:0")];
        let error = allowed_addresses("intranet.example", internal.clone(), false)
            .expect_err("only private addresses");
        assert!(error.contains(PRIVATE_MARK) && error.contains("intranet.example"));
        assert_eq!(
            allowed_addresses("intranet.example", internal.clone(), true),
            Ok(internal)
        );
        // Mixed answers keep only the public addresses, so a rebinding name cannot
        // smuggle a private one in.
        let mixed = vec![addr("127.0.0.1:0"), addr("203.0.114.5:0")];
        assert_eq!(
            allowed_addresses("mixed.example", mixed, false),
            Ok(vec![addr("203.0.114.5:0")])
        );
    }
}
