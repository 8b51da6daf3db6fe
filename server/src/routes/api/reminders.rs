//! The reminder engine's API: upcoming reminders, delivery history, channels (通知渠道),
//! settings (系统设置) and punch records. Thin layers over `app::ssr`.

use app::ssr::auth::RequestMeta;
use app::ssr::reminders::views;
use app::ssr::{Services, channels, platform_ids, preferences, settings};
use app::wire::{
    BindReport, BindRequest, ChannelOrder, ChannelPatch, ChannelTestResult, ChannelView,
    DeliveryQuery, DeliveryView, NewChannel, NewPunch, Page, PunchView, SettingsPatch,
    SettingsView, UpcomingQuery, UpcomingView,
};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::extract::{ApiActor, ApiJson, ApiQuery, parse_id};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// Reminders due in a date range (default the next 7 days), with the reason for each
/// person-day without one.
#[utoipa::path(
    get,
    path = "/api/v1/reminders/upcoming",
    tag = "reminders",
    params(UpcomingQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = UpcomingView),
    )
)]
pub async fn upcoming(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<UpcomingQuery>,
) -> Result<Json<UpcomingView>, ApiError> {
    Ok(Json(views::upcoming(&services, &actor, &query).await?))
}

/// Delivery history, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    tag = "reminders",
    params(DeliveryQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Page<DeliveryView>),
    )
)]
pub async fn list_deliveries(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    Ok(Json(views::deliveries(&services, &actor, &query).await?))
}

/// Sends a failed, missed or switched-off delivery again now (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/deliveries/{id}/retry",
    tag = "reminders",
    params(("id" = i32, Path, description = "Delivery id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = DeliveryView),
        (status = 409, body = ErrorBody),
    )
)]
pub async fn retry_delivery(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let id = parse_id(&id, "发送记录")?;
    Ok(Json(views::retry(&services, &actor, &meta, id).await?))
}

/// Channels: admins see all; members see team-wide ones and their own.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "reminders",
    responses(
        AuthErrors,
        (status = 200, body = Vec<ChannelView>),
    )
)]
pub async fn list_channels(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(channels::list(&services, &actor).await?))
}

/// Adds a channel: admins team-wide or for anyone, members for themselves. `secret` is
/// write-only.
#[utoipa::path(
    post,
    path = "/api/v1/channels",
    tag = "reminders",
    request_body = NewChannel,
    responses(
        NotFoundErrors,
        AuthErrors,
        JsonErrors,
        (status = 201, body = ChannelView),
        (status = 422, description = "e.g. not https, or a private address", body = ErrorBody),
    )
)]
pub async fn create_channel(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewChannel>,
) -> Result<Response, ApiError> {
    let created = channels::create(&services, &actor, &meta, input).await?;
    let location = format!("/api/v1/channels/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}",
    tag = "reminders",
    params(("id" = i32, Path, description = "Channel id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = ChannelView),
    )
)]
pub async fn get_channel(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ChannelView>, ApiError> {
    let id = parse_id(&id, "通知渠道")?;
    Ok(Json(channels::get(&services, &actor, id).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/channels/{id}",
    tag = "reminders",
    params(("id" = i32, Path, description = "Channel id")),
    request_body = ChannelPatch,
    responses(
        AuthErrors,
        JsonErrors,
        NotFoundErrors,
        (status = 200, body = ChannelView),
    )
)]
pub async fn update_channel(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ChannelPatch>,
) -> Result<Json<ChannelView>, ApiError> {
    let id = parse_id(&id, "通知渠道")?;
    Ok(Json(
        channels::update(&services, &actor, &meta, id, patch).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/channels/{id}",
    tag = "reminders",
    params(("id" = i32, Path, description = "Channel id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 204),
    )
)]
pub async fn delete_channel(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "通知渠道")?;
    channels::remove(&services, &actor, &meta, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test message; the answer is the robot's own.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/test",
    tag = "reminders",
    params(("id" = i32, Path, description = "Channel id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = ChannelTestResult),
    )
)]
pub async fn test_channel(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ChannelTestResult>, ApiError> {
    let id = parse_id(&id, "通知渠道")?;
    Ok(Json(channels::test(&services, &actor, id).await?))
}

/// Finds people's ids in a company app's directory by their mobile and stores them on
/// their profiles (admins only): the people named, or everyone active.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/bind",
    tag = "reminders",
    params(("id" = i32, Path, description = "A company-app channel's id")),
    request_body = BindRequest,
    responses(
        AuthErrors,
        NotFoundErrors,
        JsonErrors,
        (status = 200, body = BindReport),
    )
)]
pub async fn bind_channel_people(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<BindRequest>,
) -> Result<Json<BindReport>, ApiError> {
    let id = parse_id(&id, "通知渠道")?;
    Ok(Json(
        platform_ids::bind_by_mobile(&services, &actor, &meta, id, request).await?,
    ))
}

/// The signed-in person's channel order per reminder kind (channel ids; empty: the team's
/// default order, else the built-in one).
#[utoipa::path(
    get,
    path = "/api/v1/me/channel-order",
    tag = "reminders",
    responses(AuthErrors, (status = 200, body = ChannelOrder))
)]
pub async fn get_my_channel_order(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
) -> Result<Json<ChannelOrder>, ApiError> {
    let me = actor.user_id().ok_or(app::AppError::Forbidden)?;
    Ok(Json(preferences::get(&services, &actor, Some(me)).await?))
}

/// Replaces the signed-in person's channel order: their own channels and the team's, each
/// once, at most 10 per kind.
#[utoipa::path(
    put,
    path = "/api/v1/me/channel-order",
    tag = "reminders",
    request_body = ChannelOrder,
    responses(
        NotFoundErrors,AuthErrors, JsonErrors, (status = 200, body = ChannelOrder))
)]
pub async fn put_my_channel_order(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(order): ApiJson<ChannelOrder>,
) -> Result<Json<ChannelOrder>, ApiError> {
    let me = actor.user_id().ok_or(app::AppError::Forbidden)?;
    Ok(Json(
        preferences::put(&services, &actor, &meta, Some(me), order).await?,
    ))
}

/// A person's channel order (themselves or an admin).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/channel-order",
    tag = "reminders",
    params(("id" = i32, Path, description = "User id")),
    responses(AuthErrors, NotFoundErrors, (status = 200, body = ChannelOrder))
)]
pub async fn get_user_channel_order(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ChannelOrder>, ApiError> {
    let id = parse_id(&id, "用户")?;
    Ok(Json(preferences::get(&services, &actor, Some(id)).await?))
}

/// Replaces a person's channel order (themselves or an admin).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/channel-order",
    tag = "reminders",
    params(("id" = i32, Path, description = "User id")),
    request_body = ChannelOrder,
    responses(AuthErrors, NotFoundErrors, JsonErrors, (status = 200, body = ChannelOrder))
)]
pub async fn put_user_channel_order(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(order): ApiJson<ChannelOrder>,
) -> Result<Json<ChannelOrder>, ApiError> {
    let id = parse_id(&id, "用户")?;
    Ok(Json(
        preferences::put(&services, &actor, &meta, Some(id), order).await?,
    ))
}

/// The team's default channel order, for people without one of their own.
#[utoipa::path(
    get,
    path = "/api/v1/channel-order",
    tag = "reminders",
    responses(AuthErrors, (status = 200, body = ChannelOrder))
)]
pub async fn get_team_channel_order(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
) -> Result<Json<ChannelOrder>, ApiError> {
    Ok(Json(preferences::get(&services, &actor, None).await?))
}

/// Replaces the team's default channel order (admins; team-wide channels only).
#[utoipa::path(
    put,
    path = "/api/v1/channel-order",
    tag = "reminders",
    request_body = ChannelOrder,
    responses(
        NotFoundErrors,AuthErrors, JsonErrors, (status = 200, body = ChannelOrder))
)]
pub async fn put_team_channel_order(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(order): ApiJson<ChannelOrder>,
) -> Result<Json<ChannelOrder>, ApiError> {
    Ok(Json(
        preferences::put(&services, &actor, &meta, None, order).await?,
    ))
}

/// System settings (admins only); secrets are masked.
#[utoipa::path(
    get,
    path = "/api/v1/settings",
    tag = "reminders",
    responses(
        AuthErrors,
        (status = 200, body = SettingsView),
    )
)]
pub async fn get_settings(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(settings::view(&services, &actor).await?))
}

/// Changes settings all-or-nothing: `{"grace_minutes":"5","reminder_enabled":"false"}`.
/// Settings pinned by the environment answer 409.
#[utoipa::path(
    patch,
    path = "/api/v1/settings",
    tag = "reminders",
    request_body = SettingsPatch,
    responses(
        AuthErrors,
        JsonErrors,
        (status = 200, body = SettingsView),
        (status = 409, description = "Pinned by an environment variable", body = ErrorBody),
    )
)]
pub async fn update_settings(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(
        settings::update(&services, &actor, &meta, patch).await?,
    ))
}

/// Records a punch (打卡) so reminders for it are skipped: `{"username":"zhang","kind":"clock_in"}`.
#[utoipa::path(
    post,
    path = "/api/v1/punches",
    tag = "reminders",
    request_body = NewPunch,
    responses(
        NotFoundErrors,
        AuthErrors,
        JsonErrors,
        (status = 201, body = PunchView),
    )
)]
pub async fn create_punch(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewPunch>,
) -> Result<Response, ApiError> {
    let punch = views::record_punch(&services, &actor, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(punch)).into_response())
}
