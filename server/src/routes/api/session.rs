//! `POST /api/v1/session` (sign in) and `DELETE /api/v1/session` (sign out).

use app::AppError;
use app::domain::account::username_key;
use app::domain::audit::AuditKind;
use app::ssr::audit::{self, AuditEvent};
use app::ssr::auth::{self, Actor, AuthSession, RequestMeta, SessionUser};
use app::ssr::{Services, login, users};
use app::wire::UserView;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::extract::ApiJson;
use super::responses::{JsonErrors, PasswordCheckErrors};
use crate::routes::error::{ApiError, ErrorBody};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Keep the session for days of inactivity instead of hours (default false).
    #[serde(default)]
    pub remember: bool,
}

fn session_error(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "session store failed");
    ApiError(AppError::Internal)
}

/// Signs in and sets the session cookie.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = LoginRequest,
    security(()),
    responses(
        JsonErrors,
        PasswordCheckErrors,
        (status = 401, description = "Wrong username or password (which is never said)", body = ErrorBody),
        (status = 200, description = "Signed in; the `Set-Cookie` header carries the session", body = UserView),
        (status = 403, description = "Right password, deactivated account", body = ErrorBody),
    )
)]
pub async fn create_session(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    mut session: AuthSession,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<UserView>, ApiError> {
    let user = login::login(&services, &request.username, &request.password, &meta).await?;
    let session_user = SessionUser::from_model(&user).ok_or(ApiError(AppError::Internal))?;
    auth::start_session(
        &mut session,
        &session_user,
        request.remember,
        &services.settings,
    )
    .await?;
    Ok(Json(users::to_view(&user)))
}

/// Signs out: the session is deleted on the server.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out (also when there was no session)"),
    )
)]
pub async fn delete_session(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    mut session: AuthSession,
) -> Result<StatusCode, ApiError> {
    if let Some(user) = session.logout().await.map_err(session_error)? {
        let subject = username_key(&user.username);
        let actor = Actor::User(user);
        audit::record(
            &services.db,
            services.clock.now(),
            AuditEvent::by(&actor, AuditKind::Logout, &meta).about(&subject),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
