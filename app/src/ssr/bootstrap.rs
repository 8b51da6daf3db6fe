//! Accounts the server creates by itself: the first admin on an empty database, and the
//! `create-admin` command. Also the watch for admins still using the original's default
//! password.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};

use super::audit::{self, AuditEvent, SYSTEM_ACTOR};
use super::auth::RequestMeta;
use super::entity::user;
use super::{Services, session_store, users};
use crate::AppError;
use crate::domain::Role;
use crate::domain::account::{LEGACY_DEFAULT_PASSWORD, Username, check_new_password};
use crate::domain::audit::AuditKind;

pub const FIRST_ADMIN_USERNAME: &str = "admin";

/// Where the first admin's password came from, so the caller can say what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdminPassword {
    /// `ADMIN_PASSWORD` was set.
    FromEnvironment,
    /// Development: the original's `admin123`, to be changed at first login.
    LegacyDefault,
    /// Production without `ADMIN_PASSWORD`: a random password, shown once.
    Generated(String),
}

/// 16 characters from an alphabet without look-alikes (0/O, 1/l/I).
pub fn generate_password() -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(16);
    while password.len() < 16 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| {
            tracing::error!(%error, "no randomness available");
            AppError::Internal
        })?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for byte in bytes {
            if usize::from(byte) < limit && password.len() < 16 {
                password.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Ok(password)
}

/// On an empty database, creates `admin`. Returns how its password was chosen, or `None`
/// when users already exist (or another server process just created the admin).
pub async fn ensure_first_admin(
    services: &Services,
    admin_password: Option<&str>,
    production: bool,
) -> Result<Option<FirstAdminPassword>, AppError> {
    let existing = user::Entity::find().count(&services.db).await?;
    if existing > 0 {
        return Ok(None);
    }
    let (password, origin) = match admin_password {
        Some(password) => (password.to_owned(), FirstAdminPassword::FromEnvironment),
        None if production => {
            let password = generate_password()?;
            (password.clone(), FirstAdminPassword::Generated(password))
        }
        None => (
            LEGACY_DEFAULT_PASSWORD.to_owned(),
            FirstAdminPassword::LegacyDefault,
        ),
    };
    // A weak ADMIN_PASSWORD is accepted (refusing would stop the deployment) but must be
    // changed at first login, like the defaults.
    let must_change = origin != FirstAdminPassword::FromEnvironment
        || check_new_password("ADMIN_PASSWORD", &password, FIRST_ADMIN_USERNAME).is_err();
    let password_hash = services.passwords.hash(&password).await?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let inserted = user::ActiveModel {
        username: Set(FIRST_ADMIN_USERNAME.to_owned()),
        username_key: Set(FIRST_ADMIN_USERNAME.to_owned()),
        display_name: Set("管理员".to_owned()),
        role: Set(Role::Admin.as_str().to_owned()),
        active: Set(true),
        must_change_password: Set(must_change),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        // Another process sharing the database won the race: its admin stands.
        Err(error)
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(AppError::from(error)),
    }
    audit::record(
        &txn,
        now,
        AuditEvent {
            kind: AuditKind::AdminBootstrapped,
            actor_user_id: None,
            actor_name: SYSTEM_ACTOR,
            subject: Some(FIRST_ADMIN_USERNAME),
            meta: &RequestMeta::default(),
            detail: Some(
                match &origin {
                    FirstAdminPassword::FromEnvironment => "密码来自 ADMIN_PASSWORD",
                    FirstAdminPassword::LegacyDefault => "开发环境默认密码 admin123",
                    FirstAdminPassword::Generated(_) => "随机密码（仅在日志中显示一次）",
                }
                .to_owned(),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Some(origin))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateAdminOutcome {
    Created,
    /// The user existed: new password, admin role, active, other sessions ended.
    Reset,
}

/// `create-admin`: creates an admin, or resets an existing user's password and makes them
/// an active admin. Weak passwords are refused.
pub async fn create_admin(
    services: &Services,
    username: &str,
    password: &str,
) -> Result<CreateAdminOutcome, AppError> {
    let username = Username::parse(username)?;
    check_new_password("password", password, username.as_str())?;
    let password_hash = services.passwords.hash(password).await?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let existing = users::find_by_username_key(&txn, &username.key()).await?;
    let outcome = match existing {
        Some(user) => {
            let id = user.id;
            let mut row = user.into_active_model();
            row.password_hash = Set(password_hash);
            row.role = Set(Role::Admin.as_str().to_owned());
            row.active = Set(true);
            row.must_change_password = Set(false);
            row.updated_at = Set(now);
            row.update(&txn).await?;
            session_store::end_user_sessions(&txn, id, None).await?;
            CreateAdminOutcome::Reset
        }
        None => {
            user::ActiveModel {
                username_key: Set(username.key()),
                username: Set(username.as_str().to_owned()),
                display_name: Set(username.as_str().to_owned()),
                role: Set(Role::Admin.as_str().to_owned()),
                active: Set(true),
                must_change_password: Set(false),
                password_hash: Set(password_hash),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            CreateAdminOutcome::Created
        }
    };
    audit::record(
        &txn,
        now,
        AuditEvent {
            kind: match outcome {
                CreateAdminOutcome::Created => AuditKind::UserCreated,
                CreateAdminOutcome::Reset => AuditKind::PasswordReset,
            },
            actor_user_id: None,
            actor_name: SYSTEM_ACTOR,
            subject: Some(&username.key()),
            meta: &RequestMeta::default(),
            detail: Some("命令行 create-admin".to_owned()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}

/// The usernames of active admins whose password is still `admin123`.
pub async fn admins_with_default_password(services: &Services) -> Result<Vec<String>, AppError> {
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .all(&services.db)
        .await?;
    let mut found = Vec::new();
    for admin in admins {
        if services
            .passwords
            .verify(LEGACY_DEFAULT_PASSWORD, Some(&admin.password_hash))
            .await?
        {
            found.push(admin.username);
        }
    }
    Ok(found)
}

/// Re-checks the admins for `admin123` and updates the banner flag; returns the names.
pub async fn refresh_default_password_alert(services: &Services) -> Vec<String> {
    match admins_with_default_password(services).await {
        Ok(names) => {
            services.set_default_password_in_use(!names.is_empty());
            names
        }
        Err(_) => Vec::new(),
    }
}
