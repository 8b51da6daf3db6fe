//! iCalendar feeds: `GET /api/calendar/<token>.ics` for phone calendars (the token is the
//! credential), and `POST/DELETE /api/v1/me/calendar-feed` to create or revoke one's own.

use app::ssr::auth::RequestMeta;
use app::ssr::{Services, calendar_feed};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use super::extract::ApiActor;
use super::responses::AuthErrors;
use crate::routes::error::ApiError;

/// The subscription feed. Unknown or revoked tokens are a plain 404.
pub async fn calendar_feed(
    State(services): State<Services>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    match calendar_feed::render_feed(&services, token).await? {
        Some(body) => Ok((
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response()),
        None => Err(ApiError(app::AppError::NotFound("日历订阅".to_owned()))),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedCreated {
    /// The subscription path (append it to the server's address); shown only now.
    pub path: String,
}

/// Creates a new iCalendar subscription address for the signed-in user; the previous one
/// stops working.
#[utoipa::path(
    post,
    path = "/api/v1/me/calendar-feed",
    tag = "me",
    responses(
        AuthErrors,
        (status = 201, body = FeedCreated),
    )
)]
pub async fn reset_feed(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
) -> Result<Response, ApiError> {
    let id = actor.require_user()?.id;
    let path = calendar_feed::reset(&services, &actor, &meta, id).await?;
    Ok((StatusCode::CREATED, Json(FeedCreated { path })).into_response())
}

/// Revokes the signed-in user's subscription address.
#[utoipa::path(
    delete,
    path = "/api/v1/me/calendar-feed",
    tag = "me",
    responses(
        AuthErrors,
        (status = 204, description = "Revoked (or there was none)"),
    )
)]
pub async fn revoke_feed(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
) -> Result<Response, ApiError> {
    let id = actor.require_user()?.id;
    calendar_feed::revoke(&services, &actor, &meta, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
