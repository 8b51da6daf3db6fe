//! The one-click links in reminders, `/r/<token>`: opening one (GET) shows what it will do
//! and a button; the button (POST) does it. Chat apps fetch links to preview them, so a
//! GET must never act. No session is needed: the signed token is the credential.

use app::ssr::Services;
use app::ssr::action_links::{self, LinkRefusal};
use app::ssr::auth::RequestMeta;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::routes::error::ApiError;

/// Only our stylesheet, and a form that posts back here.
const LINK_PAGE_CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                             frame-ancestors 'none'; base-uri 'none'";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title} · 钉钉打卡提醒</title>\
         <link rel=\"stylesheet\" href=\"/pkg/dingding-attendance.css\"></head>\
         <body><main class=\"card auth-card\" data-testid=\"link-page\"><h2>{title}</h2>{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LINK_PAGE_CSP),
    );
    response
}

fn refused(refusal: &LinkRefusal) -> Response {
    let status = match refusal {
        LinkRefusal::Invalid(app::domain::action_link::LinkError::Expired) => StatusCode::GONE,
        LinkRefusal::Invalid(_) => StatusCode::NOT_FOUND,
        LinkRefusal::NoPerson => StatusCode::GONE,
    };
    page(
        status,
        "链接不能使用",
        &format!(
            "<p class=\"alert error\" data-testid=\"link-refused\">{}</p>",
            escape(&refusal.message())
        ),
    )
}

/// Shows what the link will do.
pub async fn show(
    State(services): State<Services>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let preview = match action_links::preview(&services, &token).await? {
        Ok(preview) => preview,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let question = match preview.action {
        app::domain::action_link::LinkAction::Punched(kind) => {
            format!(
                "{}，确认您已经{}打卡了吗？确认后这个班次不再提醒{}打卡。",
                preview.person,
                kind.label(),
                kind.label()
            )
        }
        app::domain::action_link::LinkAction::SkipToday => format!(
            "{}，确认 {} 不再需要打卡提醒吗？确认后当天其余的提醒都不发送。",
            preview.person, preview.date
        ),
    };
    let used = if preview.used {
        "<p class=\"alert ok\">这个链接已经用过了。</p>"
    } else {
        ""
    };
    Ok(page(
        StatusCode::OK,
        preview.action.label(),
        &format!(
            "{used}<p data-testid=\"link-question\">{}</p>\
             <form method=\"post\"><button class=\"button primary\" type=\"submit\" \
             data-testid=\"link-confirm\">{}</button></form>",
            escape(&question),
            escape(preview.action.label()),
        ),
    ))
}

/// Does what the link says.
pub async fn follow(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match action_links::follow(&services, &meta, &token).await? {
        Ok(message) => Ok(page(
            StatusCode::OK,
            "已完成",
            &format!(
                "<p class=\"alert ok\" data-testid=\"link-done\">{}</p>",
                escape(&message)
            ),
        )),
        Err(refusal) => Ok(refused(&refusal)),
    }
}
