//! The JSON API for automation under `/api/v1`, and its OpenAPI document, generated from
//! the handlers' annotations so the two cannot drift apart.

mod audit;
mod extract;
mod feed;
mod holidays;
mod me;
mod reminders;
mod requests;
mod responses;
mod schedules;
mod session;
mod shifts;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The session cookie's name, also documented in the OpenAPI document.
pub const SESSION_COOKIE: &str = "dda_session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dingding-attendance API",
        description = "钉钉打卡提醒系统的 JSON API。认证方式：会话 Cookie（`POST /api/v1/session` 登录获得），\
                       或 `Authorization: Bearer <令牌>`：个人访问令牌（`dda_pat_…`，在个人资料页创建，\
                       代表本人，权限为 read / write / admin 且不超过本人角色），\
                       或安装级 `API_TOKEN`（服务账号，管理员权限）。\
                       错误统一为 `{\"error\":{\"code\",\"message\",\"field\"}}`。",
    ),
    modifiers(&SecuritySchemes),
    components(schemas(crate::routes::error::ErrorBody, crate::routes::error::ErrorDetail)),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "session", description = "Sign in and out"),
        (name = "me", description = "The signed-in user"),
        (name = "users", description = "User accounts"),
        (name = "audit", description = "The audit log (操作日志)"),
        (name = "shifts", description = "Shift types (班次)"),
        (name = "schedules", description = "Who works which shift on which day (排班)"),
        (name = "holidays", description = "Statutory holidays, make-up workdays (调休) and company days"),
        (name = "reminders", description = "Reminders, deliveries, channels (通知渠道), settings and punches"),
        (name = "requests", description = "Leave, swaps, covers and open shifts, with approvals (申请与审批)"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        responses::add_components(components);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal access token (dda_pat_…) or the installation's API_TOKEN",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

/// The channel kinds a request may name, read from the registry (`domain::channel::KINDS`)
/// so that a new kind is documented without touching this file.
fn document_channel_kinds(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Schema};
    let ids: Vec<&str> = app::domain::channel::KINDS
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    let pattern = format!("^({})?$", ids.join("|"));
    let description = format!(
        "The channel kind, one of {}; empty or absent: what the URL shows.",
        ids.join(", ")
    );
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for name in ["NewChannel", "ChannelPatch"] {
        let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut(name) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Object(kind))) = schema.properties.get_mut("kind") {
            kind.pattern = Some(pattern.clone());
            kind.description = Some(description.clone());
        }
    }
}

/// No text holds U+0000: every JSON body refuses it (`extract::refuse_nul`, PostgreSQL
/// cannot store it), so every free string in the document says so, once, here. Strings
/// with a pattern of their own already exclude it; enums, formats and files are left alone.
fn document_no_nul(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};

    fn is_string(schema_type: &SchemaType) -> bool {
        match schema_type {
            SchemaType::Type(kind) => *kind == Type::String,
            SchemaType::Array(kinds) => kinds.contains(&Type::String),
            SchemaType::AnyValue => false,
        }
    }

    fn visit(schema: &mut RefOr<Schema>) {
        let RefOr::T(schema) = schema else { return };
        match schema {
            Schema::Object(object) => {
                if is_string(&object.schema_type)
                    && object.pattern.is_none()
                    && object.enum_values.is_none()
                    && object.format.is_none()
                {
                    object.pattern = Some("^[^\\u0000]*$".to_owned());
                }
                object.properties.values_mut().for_each(visit);
                if let Some(extra) = object.additional_properties.as_deref_mut()
                    && let AdditionalProperties::RefOr(extra) = extra
                {
                    visit(extra);
                }
            }
            Schema::Array(array) => {
                if let ArrayItems::RefOrSchema(items) = &mut array.items {
                    visit(items);
                }
            }
            Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(visit),
            Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(visit),
            Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(visit),
            _ => {}
        }
    }

    if let Some(components) = openapi.components.as_mut() {
        components.schemas.values_mut().for_each(visit);
    }
}

/// The `/api/v1` routes and `/api/openapi.json`.
pub fn router() -> Router<AppState> {
    let (router, openapi) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::create_session, session::delete_session))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(
            users::get_user,
            users::update_user,
            users::delete_user
        ))
        .routes(routes!(users::reset_password))
        .routes(routes!(audit::list_audit))
        .routes(routes!(shifts::list_shifts, shifts::create_shift))
        .routes(routes!(
            shifts::get_shift,
            shifts::update_shift,
            shifts::delete_shift
        ))
        .routes(routes!(schedules::list_schedules, schedules::put_schedules))
        .routes(routes!(schedules::import_schedules))
        .routes(routes!(schedules::export_schedules))
        .routes(routes!(feed::reset_feed, feed::revoke_feed))
        .routes(routes!(holidays::list_holidays))
        .routes(routes!(holidays::import_holidays))
        .routes(routes!(holidays::set_company_day))
        .routes(routes!(holidays::delete_company_day))
        .routes(routes!(holidays::list_workdays))
        .routes(routes!(reminders::upcoming))
        .routes(routes!(reminders::list_deliveries))
        .routes(routes!(reminders::retry_delivery))
        .routes(routes!(reminders::list_channels, reminders::create_channel))
        .routes(routes!(
            reminders::get_channel,
            reminders::update_channel,
            reminders::delete_channel
        ))
        .routes(routes!(reminders::test_channel))
        .routes(routes!(reminders::bind_channel_people))
        .routes(routes!(
            reminders::get_my_channel_order,
            reminders::put_my_channel_order
        ))
        .routes(routes!(
            reminders::get_user_channel_order,
            reminders::put_user_channel_order
        ))
        .routes(routes!(
            reminders::get_team_channel_order,
            reminders::put_team_channel_order
        ))
        .routes(routes!(reminders::get_settings, reminders::update_settings))
        .routes(routes!(reminders::create_punch))
        .routes(routes!(requests::list_requests, requests::create_request))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::accept_request))
        .routes(routes!(requests::decline_request))
        .routes(routes!(requests::approve_request))
        .routes(routes!(requests::reject_request))
        .routes(routes!(requests::cancel_request))
        .routes(routes!(requests::claim_request))
        .routes(routes!(requests::revoke_request))
        .split_for_parts();
    let mut openapi = openapi;
    document_channel_kinds(&mut openapi);
    document_no_nul(&mut openapi);
    let document: Arc<str> = openapi
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
        .into();
    // axum's own extractors (bytes, multipart) stop at this; the real, per-route and
    // per-caller limit is `body_limit`, applied before any handler runs.
    let router = router.layer(DefaultBodyLimit::max(extract::MAX_UPLOAD_BYTES));
    let router = router.route("/api/calendar/{file}", get(feed::calendar_feed));
    let router = router.route(
        "/r/{token}",
        get(crate::routes::links::show).post(crate::routes::links::follow),
    );
    let router = router.route(
        "/q/{token}",
        get(crate::routes::links::show_request).post(crate::routes::links::follow_request),
    );
    router.route(
        "/api/openapi.json",
        get(move || {
            let document = document.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    document.to_string(),
                )
                    .into_response()
            }
        }),
    )
}
