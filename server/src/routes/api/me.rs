//! `GET /api/v1/me` and `POST /api/v1/me/password`.

use app::ssr::auth::{self, AuthSession, RequestMeta};
use app::ssr::{Services, users};
use app::wire::UserView;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::extract::{ApiActor, ApiJson};
use super::responses::{AuthErrors, JsonErrors, PasswordCheckErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    responses(
        AuthErrors,
        (status = 200, body = UserView),
        (status = 403, description = "The initial password must be changed first", body = ErrorBody),
    )
)]
pub async fn me(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
) -> Result<Json<UserView>, ApiError> {
    let id = actor.require_user()?.id;
    Ok(Json(users::get(&services, &actor, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(min_length = 1)]
    pub current: String,
    /// At least 8 characters, not the username, not a well-known password.
    #[schema(min_length = 8)]
    pub new: String,
}

/// Changes the signed-in user's password. Their other sessions end; this one stays.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "me",
    request_body = PasswordChange,
    responses(
        AuthErrors,
        JsonErrors,
        PasswordCheckErrors,
        (status = 204, description = "Changed"),
        (status = 422, description = "Wrong current password or a weak new one; `field` says which", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    mut session: AuthSession,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user = users::change_own_password(
        &services,
        &actor,
        &meta,
        &change.current,
        &change.new,
        session.session.id(),
    )
    .await?;
    auth::refresh_session_user(&mut session, &user, &services.settings).await?;
    Ok(StatusCode::NO_CONTENT)
}
