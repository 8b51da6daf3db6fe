//! `/api/v1/users`: admins manage everyone; members read and edit only themselves.

use app::ssr::auth::RequestMeta;
use app::ssr::{Services, users};
use app::wire::{NewUser, Page, UserPatch, UserQuery, UserView};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{ApiActor, ApiJson, ApiQuery, parse_id};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// Lists users (admins only).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(UserQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Page<UserView>),
    )
)]
pub async fn list_users(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Page<UserView>>, ApiError> {
    Ok(Json(users::list(&services, &actor, &query).await?))
}

/// Creates a user (admins only). The user must change the password at first login unless
/// `must_change_password` is false.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUser,
    responses(
        AuthErrors,
        JsonErrors,
        (status = 201, description = "Created; `Location` points at it", body = UserView),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, description = "A field breaks its rule; `field` says which", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewUser>,
) -> Result<Response, ApiError> {
    let created = users::create(&services, &actor, &meta, input).await?;
    let location = format!("/api/v1/users/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

/// One user: members may read only themselves.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = UserView),
    )
)]
pub async fn get_user(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id, "用户")?;
    Ok(Json(users::get(&services, &actor, id).await?))
}

/// Edits a user. Members may change only their own display name, mobile, platform ids
/// and e-mail; `username`, `role` and `active` are for admins.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        AuthErrors,
        JsonErrors,
        NotFoundErrors,
        (status = 200, body = UserView),
        (status = 409, description = "Username taken, or the last active admin would be demoted or deactivated", body = ErrorBody),
    )
)]
pub async fn update_user(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id, "用户")?;
    Ok(Json(
        users::update(&services, &actor, &meta, id, patch).await?,
    ))
}

/// Deactivates a user (admins only): they are signed out everywhere and cannot sign in.
/// Accounts are never erased, so schedules and the audit log stay attributable;
/// `PATCH {"active": true}` reactivates.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, description = "Deactivated", body = UserView),
        (status = 409, description = "The last active admin cannot be deactivated", body = ErrorBody),
    )
)]
pub async fn delete_user(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id, "用户")?;
    actor.require_admin()?;
    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    Ok(Json(
        users::update(&services, &actor, &meta, id, patch).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// A temporary password (at least 8 characters); the user must change it at next login.
    #[schema(min_length = 8)]
    pub password: String,
}

/// Sets a temporary password (admins only); the user is signed out everywhere and must
/// change it at next login.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    request_body = PasswordReset,
    responses(
        AuthErrors,
        JsonErrors,
        NotFoundErrors,
        (status = 200, body = UserView),
    )
)]
pub async fn reset_password(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(reset): ApiJson<PasswordReset>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id, "用户")?;
    Ok(Json(
        users::reset_password(&services, &actor, &meta, id, &reset.password).await?,
    ))
}
