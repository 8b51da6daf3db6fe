//! Middleware every request passes: who is calling from where, cross-site checks, and the
//! page-level rules of the session (sign in first; change the initial password first).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::AppError;
use app::ssr::RuntimeSettings;
use app::ssr::auth::{AuthSession, RequestMeta, SignedIn, keep_session_alive};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::reject;

/// How much to believe about the client and which origins count as ours.
#[derive(Debug, Clone, Default)]
pub struct RequestPolicy {
    pub trust_proxy: bool,
    /// `PUBLIC_URL`'s origin, accepted besides the request's own `Host`.
    pub public_origin: Option<String>,
}

pub type SharedPolicy = Arc<RequestPolicy>;

/// Records the client's IP and user agent for the audit log and login throttling.
pub async fn client_meta(
    State(policy): State<SharedPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = policy
        .trust_proxy
        .then(|| forwarded_client(request.headers()))
        .flatten();
    let meta = RequestMeta {
        ip: forwarded.or(peer),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|ua| ua.chars().take(255).collect()),
    };
    request.extensions_mut().insert(meta);
    next.run(request).await
}

/// The client as the nearest proxy saw it: the last `X-Forwarded-For` entry is the only
/// one our proxy wrote itself; earlier ones may be forged by the client.
fn forwarded_client(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|entry| entry.trim().parse().ok())
        .or_else(|| {
            headers
                .get("x-real-ip")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok())
        })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `scheme://host[:port]` → `host[:port]` without the scheme's default port.
fn authority_of(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    Some(
        authority
            .strip_suffix(default_port)
            .map_or(authority.clone(), str::to_owned),
    )
}

fn strip_default_port(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    host.strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .map_or(host.clone(), str::to_owned)
}

/// Whether a state-changing request may proceed: browsers say where a request comes from
/// (`Sec-Fetch-Site`, `Origin`, `Referer`); it must be this server. Clients that send none
/// of them (scripts, curl) are not browsers and cannot be tricked into sending a cookie.
fn same_site(headers: &HeaderMap, policy: &RequestPolicy) -> bool {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if header(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return false;
    }
    let claimed = match (header(header::ORIGIN), header(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return true,
    };
    let Some(claimed_authority) = authority_of(claimed) else {
        // `Origin: null` (sandboxed frames, some redirects) or garbage.
        return false;
    };
    let mut ours: Vec<String> = Vec::new();
    if let Some(host) = header(header::HOST) {
        ours.push(strip_default_port(host));
    }
    if policy.trust_proxy
        && let Some(host) = header(header::HeaderName::from_static("x-forwarded-host"))
    {
        ours.push(strip_default_port(host));
    }
    if let Some(public) = policy.public_origin.as_deref().and_then(authority_of) {
        ours.push(public);
    }
    ours.contains(&claimed_authority)
}

/// Refuses state-changing requests sent by another site (CSRF).
pub async fn reject_cross_site(
    State(policy): State<SharedPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) || same_site(request.headers(), &policy) {
        return next.run(request).await;
    }
    tracing::warn!(
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "cross-site request refused"
    );
    reject(request.uri().path(), AppError::CrossOrigin)
}

/// Whether a request's `Host` is one this server answers to. With `PUBLIC_URL` set, only
/// that host, or a name no public DNS can point at us: an IP literal (direct or LAN
/// access), `localhost`, or a single-label name (a container or proxy upstream such as
/// `web:5000`). This defeats DNS rebinding, where a page on the attacker's own domain,
/// re-resolved to this server's address, would otherwise read our answers.
fn host_is_ours(headers: &HeaderMap, policy: &RequestPolicy) -> bool {
    let Some(public) = policy.public_origin.as_deref().and_then(authority_of) else {
        return true;
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let matches_public = |host: &str| strip_default_port(host) == public;
    if policy.trust_proxy && header("x-forwarded-host").is_some_and(matches_public) {
        return true;
    }
    let Some(host) = header("host") else {
        // HTTP/1.0 without Host: not a browser page on some other name.
        return true;
    };
    if matches_public(host) {
        return true;
    }
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok()
        || (!name.is_empty() && !name.contains('.'))
}

/// `host[:port]` or `[v6]:port` → the name or address alone.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Refuses requests addressed to a host name other than `PUBLIC_URL`'s (see `host_is_ours`).
pub async fn reject_foreign_host(
    State(policy): State<SharedPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if host_is_ours(request.headers(), &policy) {
        return next.run(request).await;
    }
    tracing::warn!(host = ?request.headers().get(header::HOST), "request for another host refused");
    super::error::ApiError::custom(
        axum::http::StatusCode::MISDIRECTED_REQUEST,
        "misdirected_request",
        "此地址不属于本服务（Host 与 PUBLIC_URL 不符）",
        None,
    )
}

/// Files that are public whatever the session: the compiled site and the few static
/// files in `public/`. Listed exactly, so a future route cannot become public by accident.
fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
        // One-click links in reminders: the signed token is the credential.
        || path.starts_with(app::ssr::action_links::LINK_PATH)
        // Links in notices about requests: the same.
        || path.starts_with(app::ssr::notices::REQUEST_LINK_PATH)
        || matches!(
            path,
            "/favicon.svg" | "/robots.txt" | "/api/health" | "/api/openapi.json"
        )
}

pub const LOGIN_PATH: &str = "/login";
pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

/// What a session that must change its password may still do.
fn allowed_before_password_change(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET", CHANGE_PASSWORD_PATH)
            | ("POST", "/api/fn/change_password")
            | ("POST", "/api/fn/logout")
            | ("POST", "/api/fn/current_user")
            | ("POST", "/api/v1/me/password")
            | ("DELETE", "/api/v1/session")
            | ("POST", "/api/v1/session")
    )
}

/// Pages need a session (else: to the login page, coming back afterwards). A session that
/// must change its password gets only the change-password page and logout, on every
/// route: pages redirect there, API calls answer 403 `must_change_password`.
pub async fn session_rules(
    State(settings): State<Arc<RuntimeSettings>>,
    auth: AuthSession,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if is_public_asset(path) {
        return next.run(request).await;
    }
    keep_session_alive(&auth, &settings).await;
    let is_api = path.starts_with("/api/");
    match &auth.user {
        None if !is_api && path != LOGIN_PATH => {
            let back = request
                .uri()
                .path_and_query()
                .map_or(path, |target| target.as_str());
            let target = format!("{LOGIN_PATH}?next={}", urlencode(back));
            Redirect::to(&target).into_response()
        }
        Some(user)
            if user.must_change_password
                && !allowed_before_password_change(request.method(), path) =>
        {
            if is_api {
                reject(path, AppError::MustChangePassword)
            } else {
                Redirect::to(CHANGE_PASSWORD_PATH).into_response()
            }
        }
        _ => {
            let mut request = request;
            request.extensions_mut().insert(SignedIn(auth.user.clone()));
            next.run(request).await
        }
    }
}

fn urlencode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn with_public_url_only_its_host_and_unroutable_names_are_served() {
        let open = RequestPolicy::default();
        assert!(host_is_ours(&headers(&[("host", "evil.example")]), &open));
        let policy = RequestPolicy {
            trust_proxy: false,
            public_origin: Some("https://kaoqin.example.com".to_owned()),
        };
        for host in [
            "kaoqin.example.com",
            "KAOQIN.example.com:443",
            "127.0.0.1:5000",
            "192.168.1.20",
            "[::1]:5000",
            "localhost:5000",
            "web:5000",
        ] {
            assert!(host_is_ours(&headers(&[("host", host)]), &policy), "{host}");
        }
        for host in [
            "evil.example",
            "kaoqin.example.com.evil.example",
            "kaoqin.example.com:8443",
            "127.0.0.1.nip.io",
        ] {
            assert!(
                !host_is_ours(&headers(&[("host", host)]), &policy),
                "{host}"
            );
        }
        // X-Forwarded-Host counts only behind a trusted proxy.
        let forwarded = headers(&[
            ("host", "upstream.internal"),
            ("x-forwarded-host", "kaoqin.example.com"),
        ]);
        assert!(!host_is_ours(&forwarded, &policy));
        let behind_proxy = RequestPolicy {
            trust_proxy: true,
            ..policy
        };
        assert!(host_is_ours(&forwarded, &behind_proxy));
    }

    #[test]
    fn same_origin_requests_pass_and_others_do_not() {
        let policy = RequestPolicy::default();
        let host = ("host", "10.0.0.5:5000");
        assert!(same_site(
            &headers(&[host, ("origin", "http://10.0.0.5:5000")]),
            &policy
        ));
        assert!(same_site(&headers(&[host]), &policy));
        assert!(same_site(
            &headers(&[host, ("referer", "http://10.0.0.5:5000/admin/users?page=2")]),
            &policy
        ));
        assert!(!same_site(
            &headers(&[host, ("origin", "http://evil.example")]),
            &policy
        ));
        assert!(!same_site(
            &headers(&[host, ("origin", "http://10.0.0.5:5001")]),
            &policy
        ));
        assert!(!same_site(&headers(&[host, ("origin", "null")]), &policy));
        assert!(!same_site(
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            &policy
        ));
        assert!(same_site(
            &headers(&[
                ("host", "kaoqin.example.com"),
                ("origin", "https://kaoqin.example.com:443")
            ]),
            &policy
        ));
    }

    #[test]
    fn public_url_and_trusted_proxy_hosts_count_as_ours() {
        let policy = RequestPolicy {
            trust_proxy: true,
            public_origin: Some("https://kaoqin.example.com".to_owned()),
        };
        let internal = ("host", "127.0.0.1:5000");
        assert!(same_site(
            &headers(&[internal, ("origin", "https://kaoqin.example.com")]),
            &policy
        ));
        assert!(same_site(
            &headers(&[
                internal,
                ("x-forwarded-host", "a.example"),
                ("origin", "http://a.example")
            ]),
            &policy
        ));
        let untrusting = RequestPolicy::default();
        assert!(!same_site(
            &headers(&[
                internal,
                ("x-forwarded-host", "a.example"),
                ("origin", "http://a.example")
            ]),
            &untrusting
        ));
    }

    #[test]
    fn forwarded_for_uses_the_entry_our_proxy_added() {
        let map = headers(&[("x-forwarded-for", "1.2.3.4, 10.0.0.9")]);
        assert_eq!(forwarded_client(&map), Some("10.0.0.9".parse().unwrap()));
        assert_eq!(forwarded_client(&HeaderMap::new()), None);
    }

    #[test]
    fn login_redirects_keep_the_target_encoded() {
        assert_eq!(
            urlencode("/admin/users?q=张"),
            "/admin/users%3Fq%3D%E5%BC%A0"
        );
    }
}
