//! Server functions for sessions, profiles, user management and the audit log. Each one
//! finds out who is asking and calls the same service the REST API calls.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::wire::{
    AccessTokenView, AuditEntry, AuditQuery, CreatedAccessToken, Listed, NewAccessToken, NewUser,
    Page, SessionInfo, UserPatch, UserQuery, UserView,
};

#[cfg(feature = "ssr")]
use crate::ssr::server_fn as server;

/// Only same-site paths are followed after login: no open redirects.
#[cfg(feature = "ssr")]
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.starts_with("/login")
                && path.len() <= 512
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The signed-in user, or `None` on the login page.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionInfo>, AppError> {
    server::respond(
        async move {
            let Some(user) = crate::ssr::auth::signed_in_user().await? else {
                return Ok(None);
            };
            let services = server::services();
            let actor = crate::ssr::auth::Actor::User(user.clone());
            let user = crate::ssr::users::get(&services, &actor, user.id).await?;
            let default_password_in_use =
                user.role == crate::domain::Role::Admin && services.default_password_in_use();
            Ok(Some(SessionInfo {
                user,
                default_password_in_use,
            }))
        }
        .await,
    )
}

/// Signs in and answers where to go next. `remember` (a checkbox: "on") keeps the session
/// for days of inactivity instead of hours.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    #[server(default)] remember: Option<String>,
    #[server(default)] next: Option<String>,
) -> Result<String, AppError> {
    server::respond(
        async move {
            let services = server::services();
            let meta = server::request_meta().await;
            let user = crate::ssr::login::login(&services, &username, &password, &meta).await?;
            let user = server::SessionUser::from_model(&user).ok_or(AppError::Internal)?;
            let mut session = server::auth_session().await?;
            let remember = remember.is_some_and(|value| !value.is_empty() && value != "false");
            crate::ssr::auth::start_session(&mut session, &user, remember, &services.settings)
                .await?;
            Ok(if user.must_change_password {
                "/account/password".to_owned()
            } else {
                safe_next(next.as_deref())
            })
        }
        .await,
    )
}

/// Signs out: the session is deleted on the server, not just forgotten by the browser.
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    server::respond(
        async move {
            let services = server::services();
            let meta = server::request_meta().await;
            let mut session = server::auth_session().await?;
            if let Some(user) = session.logout().await.map_err(server::session_error)? {
                let actor = crate::ssr::auth::Actor::User(user);
                crate::ssr::audit::record(
                    &services.db,
                    services.clock.now(),
                    crate::ssr::audit::AuditEvent::by(
                        &actor,
                        crate::domain::audit::AuditKind::Logout,
                        &meta,
                    )
                    .about(&crate::domain::account::username_key(actor.name())),
                )
                .await?;
            }
            Ok(())
        }
        .await,
    )
}

/// Changes the signed-in user's password; their other sessions end.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            if new != confirm {
                return Err(AppError::invalid("confirm", "两次输入的新密码不一致"));
            }
            let mut session = server::auth_session().await?;
            let user = crate::ssr::users::change_own_password(
                &services,
                &actor,
                &meta,
                &current,
                &new,
                session.session.id(),
            )
            .await?;
            // Store the new password's fingerprint so this session stays valid.
            crate::ssr::auth::refresh_session_user(&mut session, &user, &services.settings).await?;
            Ok(())
        },
    )
    .await
}

/// Updates the signed-in user's own profile (display name, mobile, platform ids, e-mail).
#[server(prefix = "/api/fn", endpoint = "update_profile", input = Json)]
pub async fn update_profile(patch: UserPatch) -> Result<UserView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            let me = actor.require_user()?.id;
            crate::ssr::users::update(&services, &actor, &meta, me, patch).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "list_users", input = Json)]
pub async fn list_users(query: UserQuery) -> Result<Page<Listed<UserView>>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            let services = services;
            let page = crate::ssr::users::list(&services, &actor, &query).await?;
            Ok(page.map(|user| Listed {
                local_time: user
                    .last_login_at
                    .map(|at| services.settings.local_minute(at)),
                item: user,
            }))
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "get_user", input = Json)]
pub async fn get_user(id: i32) -> Result<UserView, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::users::get(&services, &actor, id).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "create_user", input = Json)]
pub async fn create_user(user: NewUser) -> Result<UserView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::users::create(&services, &actor, &meta, user).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "update_user", input = Json)]
pub async fn update_user(id: i32, patch: UserPatch) -> Result<UserView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::users::update(&services, &actor, &meta, id, patch).await },
    )
    .await
}

/// Admins: sets a temporary password the user must change at next login.
#[server(prefix = "/api/fn", endpoint = "reset_user_password", input = Json)]
pub async fn reset_user_password(id: i32, password: String) -> Result<UserView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::users::reset_password(&services, &actor, &meta, id, &password).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "list_audit", input = Json)]
pub async fn list_audit(query: AuditQuery) -> Result<Page<Listed<AuditEntry>>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            let services = services;
            let page = crate::ssr::audit::list(&services, &actor, &query).await?;
            Ok(page.map(|entry| Listed {
                local_time: Some(services.settings.local_minute(entry.created_at)),
                item: entry,
            }))
        },
    )
    .await
}

/// The signed-in user's personal access tokens.
#[server(prefix = "/api/fn", endpoint = "list_access_tokens", input = Json)]
pub async fn list_access_tokens() -> Result<Vec<AccessTokenView>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::access_tokens::list(&services, &actor).await },
    )
    .await
}

/// Creates a personal access token; the answer holds the token this once.
#[server(prefix = "/api/fn", endpoint = "create_access_token", input = Json)]
pub async fn create_access_token(request: NewAccessToken) -> Result<CreatedAccessToken, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::access_tokens::create(&services, &actor, &meta, request).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "revoke_access_token", input = Json)]
pub async fn revoke_access_token(id: i32) -> Result<(), AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::access_tokens::revoke(&services, &actor, &meta, id).await },
    )
    .await
}
