//! `/api/v1/shifts`: shift types (班次). Everyone signed in reads them; admins change them.

use app::ssr::auth::RequestMeta;
use app::ssr::{Services, shifts};
use app::wire::{NewShift, ShiftPatch, ShiftRemoval, ShiftView};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::extract::{ApiActor, ApiJson, ApiQuery, parse_id};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors};
use crate::routes::error::{ApiError, ErrorBody};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShiftListQuery {
    /// Include archived shifts (default false).
    #[serde(default)]
    pub archived: Option<bool>,
}

/// Lists shift types, active ones first.
#[utoipa::path(
    get,
    path = "/api/v1/shifts",
    tag = "shifts",
    params(ShiftListQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Vec<ShiftView>),
    )
)]
pub async fn list_shifts(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<ShiftListQuery>,
) -> Result<Json<Vec<ShiftView>>, ApiError> {
    Ok(Json(
        shifts::list(&services, &actor, query.archived.unwrap_or(false)).await?,
    ))
}

/// Creates a shift type (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/shifts",
    tag = "shifts",
    request_body = NewShift,
    responses(
        AuthErrors,
        JsonErrors,
        (status = 201, description = "Created; `Location` points at it", body = ShiftView),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A field breaks its rule; `field` says which", body = ErrorBody),
    )
)]
pub async fn create_shift(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewShift>,
) -> Result<Response, ApiError> {
    let created = shifts::create(&services, &actor, &meta, input).await?;
    let location = format!("/api/v1/shifts/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

/// One shift type.
#[utoipa::path(
    get,
    path = "/api/v1/shifts/{id}",
    tag = "shifts",
    params(("id" = i32, Path, description = "Shift id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = ShiftView),
    )
)]
pub async fn get_shift(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ShiftView>, ApiError> {
    let id = parse_id(&id, "班次")?;
    Ok(Json(shifts::get(&services, &actor, id).await?))
}

/// Edits a shift type (admins only); `active: false` archives it.
#[utoipa::path(
    patch,
    path = "/api/v1/shifts/{id}",
    tag = "shifts",
    params(("id" = i32, Path, description = "Shift id")),
    request_body = ShiftPatch,
    responses(
        AuthErrors,
        JsonErrors,
        NotFoundErrors,
        (status = 200, body = ShiftView),
        (status = 409, body = ErrorBody),
    )
)]
pub async fn update_shift(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ShiftPatch>,
) -> Result<Json<ShiftView>, ApiError> {
    let id = parse_id(&id, "班次")?;
    Ok(Json(
        shifts::update(&services, &actor, &meta, id, patch).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShiftRemoved {
    /// `deleted`, or `archived` when schedules use the shift.
    pub result: ShiftRemoval,
}

/// Deletes an unused shift type; one that schedules use is archived instead (admins only).
#[utoipa::path(
    delete,
    path = "/api/v1/shifts/{id}",
    tag = "shifts",
    params(("id" = i32, Path, description = "Shift id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = ShiftRemoved),
    )
)]
pub async fn delete_shift(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ShiftRemoved>, ApiError> {
    let id = parse_id(&id, "班次")?;
    Ok(Json(ShiftRemoved {
        result: shifts::remove(&services, &actor, &meta, id).await?,
    }))
}
