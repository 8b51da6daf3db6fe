//! Checking a login attempt: throttling, constant-time verification, audit.
//!
//! Every attempt is written to the audit log *before* the password is checked, and the
//! throttle counts only the entries recorded before it. Concurrent attempts (even in
//! several server processes) are thereby ordered by the database: a burst of simultaneous
//! guesses for one username cannot all slip past the limit while the first hashes run.
//! The attempt's entry then becomes a `login`, a `login_failed` or a `login_throttled`.

use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use super::audit::{self, AuditEvent};
use super::auth::RequestMeta;
use super::entity::user;
use super::password::needs_upgrade;
use super::{Services, db_error, users};
use crate::AppError;
use crate::domain::account::{PASSWORD_MAX_CHARS, check_new_password, username_key};
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
    let since = now - throttle::window();
    let ip = meta.ip.map(|ip| ip.to_string());
    let attempt = audit::record_returning_id(
        &services.db,
        now,
        AuditEvent {
            kind: AuditKind::LoginAttempt,
            actor_user_id: None,
            actor_name: &typed_name,
            subject: Some(&key),
            meta,
            detail: None,
        },
    )
    .await?;
    let (by_username, by_ip) =
        audit::recent_login_failures(&services.db, &key, ip.as_deref(), since, attempt).await?;
    let remaining = match throttle::login_verdict(&by_username, &by_ip, now) {
        LoginVerdict::Blocked { retry_after_secs } => {
            audit::settle_login_attempt(
                &services.db,
                attempt,
                AuditKind::LoginThrottled,
                None,
                Some(format!("{retry_after_secs} 秒后可重试")),
            )
            .await?;
            // A client hammering a blocked login adds one line per window, not thousands.
            if audit::throttle_logged_before(&services.db, &key, ip.as_deref(), since, attempt)
                .await?
            {
                audit::forget_login_attempt(&services.db, attempt).await?;
            }
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
        .await?
        && plausible;
    match candidate {
        Some(user) if verified && user.active => {
            // A werkzeug hash from the Flask original is replaced at its first successful
            // login, while the password is at hand. The original had no password rules: a
            // password ours would refuse (admin123, too short, the username) must be changed
            // now, as for every account created with a weak one.
            let upgrade = if needs_upgrade(&user.password_hash) {
                let weak = check_new_password("password", password, &user.username).is_err();
                Some((services.passwords.hash(password).await?, weak))
            } else {
                None
            };
            let txn = services.begin_write().await?;
            let mut row = user.into_active_model();
            row.last_login_at = Set(Some(now));
            if let Some((argon2_hash, weak)) = upgrade {
                row.password_hash = Set(argon2_hash);
                if weak {
                    row.must_change_password = Set(true);
                }
                row.updated_at = Set(now);
            }
            let user = row.update(&txn).await.map_err(db_error)?;
            audit::settle_login_attempt(
                &txn,
                attempt,
                AuditKind::Login,
                Some((user.id, &user.username)),
                None,
            )
            .await?;
            txn.commit().await.map_err(db_error)?;
            Ok(user)
        }
        // Only someone who knows the password learns that the account exists.
        Some(_) if verified => {
            audit::settle_login_attempt(
                &services.db,
                attempt,
                AuditKind::LoginFailed,
                None,
                Some("账号已停用".to_owned()),
            )
            .await?;
            Err(AppError::AccountDisabled)
        }
        _ => {
            audit::settle_login_attempt(&services.db, attempt, AuditKind::LoginFailed, None, None)
                .await?;
            Err(AppError::InvalidCredentials {
                remaining_attempts: u32::try_from(remaining.saturating_sub(1)).ok(),
            })
        }
    }
}
