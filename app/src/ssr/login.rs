//! Checking a login attempt: throttling, constant-time verification, audit.

use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use super::audit::{self, AuditEvent};
use super::auth::RequestMeta;
use super::entity::user;
use super::{Services, db_error, users};
use crate::AppError;
use crate::domain::account::{PASSWORD_MAX_CHARS, username_key};
use crate::domain::audit::AuditKind;
use crate::domain::throttle::{self, LoginVerdict};

/// Verifies a username and password. Unknown users, inactive users and wrong passwords
/// get the same answer after the same amount of work; too many recent failures for the
/// username or the client's IP get `TooManyAttempts` without checking anything.
pub async fn login(
    services: &Services,
    username: &str,
    password: &str,
    meta: &RequestMeta,
) -> Result<user::Model, AppError> {
    // Truncated like the audit log's column, so a 10,000-character name is still counted.
    let key: String = username_key(username).chars().take(64).collect();
    let typed_name: String = username.trim().chars().take(64).collect();
    let now = services.clock.now();
    let ip = meta.ip.map(|ip| ip.to_string());
    let (by_username, by_ip) =
        audit::recent_login_failures(services, &key, ip.as_deref(), now - throttle::window())
            .await?;
    let remaining = match throttle::login_verdict(&by_username, &by_ip, now) {
        LoginVerdict::Blocked { retry_after_secs } => {
            audit::record(
                &services.db,
                now,
                AuditEvent {
                    kind: AuditKind::LoginThrottled,
                    actor_user_id: None,
                    actor_name: &typed_name,
                    subject: Some(&key),
                    meta,
                    detail: Some(format!("{retry_after_secs} 秒后可重试")),
                },
            )
            .await?;
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        LoginVerdict::Allowed { remaining } => remaining,
    };

    let candidate = if key.is_empty() {
        None
    } else {
        users::find_by_username_key(&services.db, &key).await?
    };
    let plausible = !password.is_empty() && password.chars().count() <= PASSWORD_MAX_CHARS;
    let verified = services
        .passwords
        .verify(
            if plausible { password } else { "" },
            candidate.as_ref().map(|user| user.password_hash.as_str()),
        )
        .await?;
    match candidate {
        Some(user) if verified && plausible && user.active => {
            let mut row = user.into_active_model();
            row.last_login_at = Set(Some(now));
            let user = row.update(&services.db).await.map_err(db_error)?;
            audit::record(
                &services.db,
                now,
                AuditEvent {
                    kind: AuditKind::Login,
                    actor_user_id: Some(user.id),
                    actor_name: &user.username,
                    subject: Some(&user.username_key),
                    meta,
                    detail: None,
                },
            )
            .await?;
            Ok(user)
        }
        // Only someone who knows the password learns that the account exists.
        Some(user) if verified && plausible => {
            audit::record(
                &services.db,
                now,
                AuditEvent {
                    kind: AuditKind::LoginFailed,
                    actor_user_id: None,
                    actor_name: &typed_name,
                    subject: Some(&user.username_key),
                    meta,
                    detail: Some("账号已停用".to_owned()),
                },
            )
            .await?;
            Err(AppError::AccountDisabled)
        }
        _ => {
            audit::record(
                &services.db,
                now,
                AuditEvent {
                    kind: AuditKind::LoginFailed,
                    actor_user_id: None,
                    actor_name: &typed_name,
                    subject: Some(&key),
                    meta,
                    detail: None,
                },
            )
            .await?;
            let remaining = remaining.saturating_sub(1);
            Err(AppError::InvalidCredentials {
                remaining_attempts: u32::try_from(remaining).ok(),
            })
        }
    }
}
