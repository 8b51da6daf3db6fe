//! Who is asking, and what they may do. Every authorization rule lives here, once; the
//! services call these checks, whatever the entry point (server function, REST API).

use std::net::IpAddr;

use axum_login::{AuthUser, AuthnBackend};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::entity::user;
use crate::AppError;
use crate::domain::Role;

/// The signed-in user as the session layer keeps it (reloaded on every request).
#[derive(Clone)]
pub struct SessionUser {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    /// The password hash: a session stays valid only while it is unchanged, so a password
    /// change or reset ends every other session.
    password_hash: String,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl SessionUser {
    pub fn from_model(model: &user::Model) -> Option<Self> {
        Some(Self {
            id: model.id,
            username: model.username.clone(),
            display_name: model.display_name.clone(),
            role: Role::parse(&model.role).ok()?,
            must_change_password: model.must_change_password,
            password_hash: model.password_hash.clone(),
        })
    }
}

impl AuthUser for SessionUser {
    type Id = i32;

    fn id(&self) -> i32 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// axum-login's view of our users. Credentials are checked by `login::login` (throttling
/// and audit need more than a username and password), so `authenticate` only loads.
#[derive(Debug, Clone)]
pub struct AuthBackend {
    db: DatabaseConnection,
}

impl AuthBackend {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot load the signed-in user: {0}")]
pub struct BackendError(#[from] sea_orm::DbErr);

impl AuthnBackend for AuthBackend {
    type User = SessionUser;
    /// An id whose password has already been verified.
    type Credentials = i32;
    type Error = BackendError;

    async fn authenticate(&self, user_id: i32) -> Result<Option<SessionUser>, BackendError> {
        self.get_user(&user_id).await
    }

    /// Inactive users have no session: deactivating someone signs them out everywhere.
    async fn get_user(&self, user_id: &i32) -> Result<Option<SessionUser>, BackendError> {
        Ok(user::Entity::find_by_id(*user_id)
            .filter(user::Column::Active.eq(true))
            .one(&self.db)
            .await?
            .as_ref()
            .and_then(SessionUser::from_model))
    }
}

pub type AuthSession = axum_login::AuthSession<AuthBackend>;

/// Session keys of our own, beside axum-login's.
const REMEMBER_KEY: &str = "dda.remember";
const TOUCHED_KEY: &str = "dda.touched";
/// How often an active session's expiry is pushed forward (one write per interval).
const TOUCH_INTERVAL_SECS: i64 = 10 * 60;

fn session_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "session store failed");
    AppError::Internal
}

async fn remembered(session: &tower_sessions::Session) -> bool {
    session
        .get::<bool>(REMEMBER_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

fn idle_limit(settings: &super::RuntimeSettings, remember: bool) -> tower_sessions::Expiry {
    tower_sessions::Expiry::OnInactivity(if remember {
        settings.session_remember
    } else {
        settings.session_idle
    })
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Signs `user` in under a fresh session id, whatever the request's cookie carried (even a
/// signed-in session planted by someone else: session fixation).
pub async fn start_session(
    auth: &mut AuthSession,
    user: &SessionUser,
    remember: bool,
    settings: &super::RuntimeSettings,
) -> Result<(), AppError> {
    auth.session.cycle_id().await.map_err(session_error)?;
    auth.session
        .insert(REMEMBER_KEY, remember)
        .await
        .map_err(session_error)?;
    auth.session
        .insert(TOUCHED_KEY, unix_now())
        .await
        .map_err(session_error)?;
    auth.session
        .set_expiry(Some(idle_limit(settings, remember)));
    auth.login(user).await.map_err(session_error)
}

/// Stores the user's new password fingerprint in this session (after a password change),
/// keeping its idle limit.
pub async fn refresh_session_user(
    auth: &mut AuthSession,
    user: &SessionUser,
    settings: &super::RuntimeSettings,
) -> Result<(), AppError> {
    let remember = remembered(&auth.session).await;
    auth.session
        .set_expiry(Some(idle_limit(settings, remember)));
    auth.login(user).await.map_err(session_error)
}

/// Slides a signed-in session's idle expiry forward, writing at most once per
/// `TOUCH_INTERVAL_SECS`: the limit counts from the last activity, not from the login.
pub async fn keep_session_alive(auth: &AuthSession, settings: &super::RuntimeSettings) {
    if auth.user.is_none() {
        return;
    }
    let now = unix_now();
    let touched = auth
        .session
        .get::<i64>(TOUCHED_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    if now - touched < TOUCH_INTERVAL_SECS {
        return;
    }
    let remember = remembered(&auth.session).await;
    auth.session
        .set_expiry(Some(idle_limit(settings, remember)));
    if let Err(error) = auth.session.insert(TOUCHED_KEY, now).await {
        tracing::warn!(%error, "cannot extend the session");
    }
}

/// Where a request came from, for the audit log and login throttling. Filled in once per
/// request by the server's middleware.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// Whoever is making a request that needs authentication.
#[derive(Debug, Clone)]
pub enum Actor {
    User(SessionUser),
    /// `Authorization: Bearer <API_TOKEN>`: a service account with admin rights.
    ApiToken,
}

/// The name the audit log shows for the API token.
pub const API_TOKEN_ACTOR: &str = "api-token";

impl Actor {
    pub fn is_admin(&self) -> bool {
        match self {
            Self::User(user) => user.role == Role::Admin,
            Self::ApiToken => true,
        }
    }

    pub fn user_id(&self) -> Option<i32> {
        match self {
            Self::User(user) => Some(user.id),
            Self::ApiToken => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::User(user) => &user.username,
            Self::ApiToken => API_TOKEN_ACTOR,
        }
    }

    /// Admin-only resources: user management, the audit log.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A user's own data: members reach only themselves, admins everyone.
    pub fn require_self_or_admin(&self, user_id: i32) -> Result<(), AppError> {
        if self.is_admin() || self.user_id() == Some(user_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The signed-in user, for actions only a person can take (changing one's password).
    pub fn require_user(&self) -> Result<&SessionUser, AppError> {
        match self {
            Self::User(user) => Ok(user),
            Self::ApiToken => Err(AppError::NotAPerson),
        }
    }
}

/// The request's signed-in user, as the server's middleware found it. Server functions
/// read this instead of the session itself, so the resources of one server-rendered page
/// do not all contend for the session store's lock.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Option<SessionUser>);

/// The signed-in user of a server function call: from the middleware's `SignedIn`, or
/// from the session where no middleware ran.
pub async fn signed_in_user() -> Result<Option<SessionUser>, AppError> {
    if let Ok(axum::Extension(SignedIn(user))) =
        leptos_axum::extract::<axum::Extension<SignedIn>>().await
    {
        return Ok(user);
    }
    let session: AuthSession = leptos_axum::extract().await.map_err(|error| {
        tracing::error!(%error, "the session layer is missing");
        AppError::Internal
    })?;
    Ok(session.user)
}

/// The actor of a server function call: the session's user, or `Unauthorized`.
pub async fn session_actor() -> Result<Actor, AppError> {
    signed_in_user()
        .await?
        .map(Actor::User)
        .ok_or(AppError::Unauthorized)
}

/// The request's origin details for a server function.
pub async fn request_meta() -> RequestMeta {
    leptos_axum::extract::<axum::Extension<RequestMeta>>()
        .await
        .map(|axum::Extension(meta)| meta)
        .unwrap_or_default()
}
