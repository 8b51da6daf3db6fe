//! The one-click links in reminders, `/r/<token>`: opening one (GET) shows what it will do
//! and a button; the button (POST) does it. Chat apps fetch links to preview them, so a
//! GET must never act. No session is needed: the signed token is the credential.

use app::domain::request::Action;
use app::ssr::Services;
use app::ssr::action_links::{self, LinkRefusal};
use app::ssr::auth::RequestMeta;
use app::wire::RequestView;
use axum::Extension;
use axum::extract::{Form, Path, State};
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

/// A request as a notice's link shows it.
fn request_summary(view: &RequestView) -> String {
    let mut lines = vec![format!("{} · {}", view.kind_label, view.state_label)];
    lines.push(view.summary());
    if let Some(reason) = &view.reason {
        lines.push(format!("原因：{reason}"));
    }
    if let Some(reason) = &view.decision_reason {
        lines.push(format!("处理意见：{reason}"));
    }
    for warning in &view.warnings {
        lines.push(format!("⚠ {warning}"));
    }
    lines
        .iter()
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect()
}

/// Shows the request a notice is about, with its person's answers when the link may act.
pub async fn show_request(
    State(services): State<Services>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let linked = match app::ssr::notices::open_link(&services, &token).await? {
        Ok(linked) => linked,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let view = &linked.view;
    let mut body = format!(
        "<div data-testid=\"link-request\">{}</div>",
        request_summary(view)
    );
    let answers: Vec<Action> = view
        .actions
        .iter()
        .copied()
        .filter(|action| !matches!(action, Action::Revoke))
        .collect();
    if linked.can_act && !answers.is_empty() {
        for action in answers {
            let reason = if action.needs_reason() {
                "<input name=\"reason\" required maxlength=\"200\" placeholder=\"原因\">"
            } else {
                ""
            };
            body.push_str(&format!(
                "<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"{}\">{reason}\
                 <button class=\"button\" type=\"submit\" data-testid=\"link-{}\">{}</button></form>",
                action.as_str(),
                action.as_str(),
                escape(action.label())
            ));
        }
    } else if !view.actions.is_empty() {
        body.push_str("<p>请登录后在“申请”页面处理。</p>");
    }
    body.push_str("<p><a href=\"/requests\">打开申请页面</a></p>");
    Ok(page(
        StatusCode::OK,
        &format!("{}申请", view.kind_label),
        &body,
    ))
}

#[derive(Debug, serde::Deserialize)]
pub struct RequestAnswer {
    action: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Answers the request as the link's person.
pub async fn follow_request(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    Path(token): Path<String>,
    Form(answer): Form<RequestAnswer>,
) -> Result<Response, ApiError> {
    let Some(action) = Action::ALL
        .into_iter()
        .filter(|action| !matches!(action, Action::Expire | Action::Invalidate | Action::Revoke))
        .find(|action| action.as_str() == answer.action)
    else {
        return Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "链接不能使用",
            "<p class=\"alert error\">不认识的操作</p>",
        ));
    };
    match app::ssr::notices::act_by_link(&services, &meta, &token, action, answer.reason).await {
        Ok(Ok(view)) => Ok(page(
            StatusCode::OK,
            "已完成",
            &format!(
                "<p class=\"alert ok\" data-testid=\"link-done\">{}：{}</p>{}",
                escape(action.label()),
                escape(&view.state_label),
                request_summary(&view)
            ),
        )),
        Ok(Err(refusal)) => Ok(refused(&refusal)),
        Err(error) => Ok(page(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            "没有完成",
            &format!(
                "<p class=\"alert error\" data-testid=\"link-refused\">{}</p>",
                escape(&error.to_string())
            ),
        )),
    }
}
