//! Checking a login attempt: throttling, constant-time verification, audit.
//!
//! The attempt is reserved among the running ones (`attempts`) before the throttle reads
//! the failures from the audit log, and released after its own outcome is written there,
//! so simultaneous guesses cannot slip past a limit while the first hashes run. The policy
//! itself is `domain::throttle`. Each checked attempt leaves one `login` or `login_failed`
//! entry; refused ones leave one `login_throttled` entry per window.

use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use super::audit::{self, AuditEvent};
use super::auth::RequestMeta;
use super::entity::user;
use super::password::needs_upgrade;
use super::{Services, users};
use crate::AppError;
use crate::domain::account::{PASSWORD_MAX_CHARS, check_new_password, username_key};
use crate::domain::audit::AuditKind;
use crate::domain::throttle::{self, LoginHistory, LoginVerdict};

/// Verifies a username and password. Unknown users, inactive users and wrong passwords
/// get the same answer after the same amount of work; attempts the throttle refuses get
/// `TooManyAttempts` without checking anything.
pub async fn login(
    services: &Services,
    username: &str,
    password: &str,
    meta: &RequestMeta,
) -> Result<user::Model, AppError> {
    // No name contains NUL, and PostgreSQL cannot store one in the audit log: it becomes
    // U+FFFD, which matches nobody.
    let username = username.replace('\0', "\u{FFFD}");
    // Truncated like the audit log's column, so a 10,000-character name is still counted.
    let key: String = username_key(&username).chars().take(64).collect();
    let typed_name: String = username.trim().chars().take(64).collect();
    let now = services.clock.now();
    let since = now - throttle::window();
    let ip = meta.ip.map(|ip| ip.to_string());
    // Held until this attempt's outcome is in the log (the end of this function).
    let (_running, in_flight) = services.attempts.reserve_login(&key, meta.ip)?;
    let failures = audit::login_failures(&services.db, &key, ip.as_deref(), since).await?;
    let history = LoginHistory {
        pair_failures: &failures.pair,
        address_failures: &failures.address,
        username_failures: &failures.username,
        in_flight,
        known_address: failures.known_address,
    };
    let remaining = match throttle::login_verdict(&history, now) {
        LoginVerdict::Blocked { retry_after_secs } => {
            if !audit::throttle_logged(
                &services.db,
                AuditKind::LoginThrottled,
                &key,
                ip.as_deref(),
                since,
            )
            .await?
            {
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
            }
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        LoginVerdict::Allowed { remaining } => remaining,
    };
    let failed = |detail: Option<String>| AuditEvent {
        kind: AuditKind::LoginFailed,
        actor_user_id: None,
        actor_name: &typed_name,
        subject: Some(&key),
        meta,
        detail,
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
            let user = row.update(&txn).await?;
            audit::record(
                &txn,
                now,
                AuditEvent {
                    kind: AuditKind::Login,
                    actor_user_id: Some(user.id),
                    actor_name: &user.username,
                    subject: Some(&key),
                    meta,
                    detail: None,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(user)
        }
        // Only someone who knows the password learns that the account exists.
        Some(_) if verified => {
            audit::record(&services.db, now, failed(Some("账号已停用".to_owned()))).await?;
            Err(AppError::AccountDisabled)
        }
        _ => {
            audit::record(&services.db, now, failed(None)).await?;
            Err(AppError::InvalidCredentials {
                remaining_attempts: u32::try_from(remaining).ok(),
            })
        }
    }
}
