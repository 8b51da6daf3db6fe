//! User accounts: listing, creating, editing, deactivating, passwords. Each function checks
//! the actor's rights first (rules in `auth`), validates every field (rules in
//! `domain::account`), then writes the change and its audit entry in one transaction.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tower_sessions::session::Id as SessionId;

use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta, SessionUser};
use super::entity::user;
use super::page::PageRequest;
use super::{Services, session_store};
use crate::AppError;
use crate::domain::account::{
    self, Username, check_new_password, parse_display_name, parse_email, parse_mobile,
    parse_platform_id,
};
use crate::domain::audit::AuditKind;
use crate::domain::channel::{Binding, ChannelKind};
use crate::domain::throttle::{self, LoginVerdict};
use crate::domain::{FieldError, Role};
use crate::wire::{NewUser, Page, UserPatch, UserQuery, UserView};

pub fn to_view(model: &user::Model) -> UserView {
    UserView {
        id: model.id,
        username: model.username.clone(),
        display_name: model.display_name.clone(),
        mobile: model.mobile.clone(),
        dingtalk_user_id: model.dingtalk_user_id.clone(),
        feishu_open_id: model.feishu_open_id.clone(),
        wecom_user_id: model.wecom_user_id.clone(),
        email: model.email.clone(),
        role: Role::parse(&model.role).unwrap_or(Role::Member),
        active: model.active,
        reminders_enabled: model.reminders_enabled,
        must_change_password: model.must_change_password,
        created_at: model.created_at,
        updated_at: model.updated_at,
        last_login_at: model.last_login_at,
    }
}

pub async fn find_by_username_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<user::Model>, AppError> {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(key))
        .one(db)
        .await
        .map_err(AppError::from)
}

async fn find(db: &impl ConnectionTrait, id: i32) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("用户 {id}")))
}

fn escape_like(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    escaped.push('%');
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}

/// Admins only: one page of users, filtered.
pub async fn list(
    services: &Services,
    actor: &Actor,
    query: &UserQuery,
) -> Result<Page<UserView>, AppError> {
    actor.require_admin()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let mut select = user::Entity::find();
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if q.chars().count() > 64 {
            return Err(AppError::invalid("q", "搜索词最多 64 个字符"));
        }
        let pattern = escape_like(&q.to_lowercase());
        let like = |column: user::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            Condition::any()
                .add(like(user::Column::UsernameKey))
                .add(like(user::Column::DisplayName))
                .add(like(user::Column::Mobile))
                .add(like(user::Column::Email)),
        );
    }
    if let Some(role) = query.role {
        select = select.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(active) = query.active {
        select = select.filter(user::Column::Active.eq(active));
    }
    let total = select.clone().count(&services.db).await?;
    let items = select
        .order_by_asc(user::Column::UsernameKey)
        .offset(page.offset())
        .limit(page.limit())
        .all(&services.db)
        .await?
        .iter()
        .map(to_view)
        .collect();
    Ok(Page { items, total })
}

/// A user's own record, or anyone's for admins.
pub async fn get(services: &Services, actor: &Actor, id: i32) -> Result<UserView, AppError> {
    actor.require_self_or_admin(id)?;
    Ok(to_view(&find(&services.db, id).await?))
}

async fn ensure_username_free(
    db: &impl ConnectionTrait,
    username: &Username,
    except: Option<i32>,
) -> Result<(), AppError> {
    match find_by_username_key(db, &username.key()).await? {
        Some(existing) if Some(existing.id) != except => Err(AppError::conflict(
            "username",
            format!("“{}”已被使用", existing.username),
        )),
        _ => Ok(()),
    }
}

/// Admins only: creates an account.
pub async fn create(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewUser,
) -> Result<UserView, AppError> {
    actor.require_admin()?;
    let username = Username::parse(&input.username)?;
    let display_name = match input.display_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => parse_display_name(name)?,
        _ => username.as_str().to_owned(),
    };
    let mobile = parse_mobile(input.mobile.as_deref())?;
    let dingtalk_user_id =
        parse_platform_id("dingtalk_user_id", input.dingtalk_user_id.as_deref())?;
    let feishu_open_id = parse_platform_id("feishu_open_id", input.feishu_open_id.as_deref())?;
    let wecom_user_id = parse_platform_id("wecom_user_id", input.wecom_user_id.as_deref())?;
    let email = parse_email(input.email.as_deref())?;
    check_new_password("password", &input.password, username.as_str())?;
    let role = input.role.unwrap_or(Role::Member);
    ensure_username_free(&services.db, &username, None).await?;
    let password_hash = services.passwords.hash(&input.password).await?;

    let now = services.clock.now();
    let txn = services.begin_write().await?;
    ensure_username_free(&txn, &username, None).await?;
    let created = user::ActiveModel {
        username_key: Set(username.key()),
        username: Set(username.into_inner()),
        display_name: Set(display_name),
        mobile: Set(mobile),
        dingtalk_user_id: Set(dingtalk_user_id),
        feishu_open_id: Set(feishu_open_id),
        wecom_user_id: Set(wecom_user_id),
        email: Set(email),
        role: Set(role.as_str().to_owned()),
        active: Set(input.active.unwrap_or(true)),
        reminders_enabled: Set(input.reminders_enabled.unwrap_or(true)),
        must_change_password: Set(input.must_change_password.unwrap_or(true)),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|error| unique_violation(error, "username"))?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::UserCreated, meta)
            .about(&created.username_key)
            .detail(format!("角色 {}", role.label())),
    )
    .await?;
    txn.commit().await?;
    Ok(to_view(&created))
}

/// A unique-constraint race (two creations at once) reads as the same conflict as the
/// pre-check.
fn unique_violation(error: sea_orm::DbErr, field: &'static str) -> AppError {
    if matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        AppError::conflict(field, "已被使用")
    } else {
        AppError::from(error)
    }
}

/// The number of active admins other than `except`. On PostgreSQL every active admin row
/// is locked (in id order) until the transaction ends, so two concurrent demotions are
/// serialised and the second sees the first; SQLite serialises writers by itself.
async fn other_active_admins(txn: &DatabaseTransaction, except: i32) -> Result<u64, AppError> {
    let mut select = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        select = select.lock_exclusive();
    }
    let admins = select.all(txn).await?;
    Ok(admins.iter().filter(|admin| admin.id != except).count() as u64)
}

fn set_optional(
    target: &mut sea_orm::ActiveValue<Option<String>>,
    current: &Option<String>,
    value: Option<String>,
    changed: &mut Vec<&'static str>,
    name: &'static str,
) {
    if *current != value {
        *target = Set(value);
        changed.push(name);
    }
}

/// Edits an account. Members may edit only their own profile fields; username, role and
/// active flag are for admins, who cannot demote or deactivate the last active admin.
pub async fn update(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
    patch: UserPatch,
) -> Result<UserView, AppError> {
    actor.require_self_or_admin(id)?;
    if patch.touches_admin_fields() {
        actor.require_admin()?;
    }
    let username = patch.username.as_deref().map(Username::parse).transpose()?;
    let display_name = patch
        .display_name
        .as_deref()
        .map(parse_display_name)
        .transpose()?;
    let mobile = patch
        .mobile
        .as_ref()
        .map(|v| parse_mobile(v.as_deref()))
        .transpose()?;
    let platform = |field, value: &Option<Option<String>>| {
        value
            .as_ref()
            .map(|v| parse_platform_id(field, v.as_deref()))
            .transpose()
    };
    let dingtalk_user_id = platform("dingtalk_user_id", &patch.dingtalk_user_id)?;
    let feishu_open_id = platform("feishu_open_id", &patch.feishu_open_id)?;
    let wecom_user_id = platform("wecom_user_id", &patch.wecom_user_id)?;
    let email = patch
        .email
        .as_ref()
        .map(|v| parse_email(v.as_deref()))
        .transpose()?;

    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let current = find(&txn, id).await?;
    // With a company app connected, a platform id sends private reminders: only admins set
    // it (or bind it by mobile), so nobody points their own at a colleague.
    if !actor.is_admin() {
        for (field, binding, value, stored) in [
            (
                "dingtalk_user_id",
                Binding::DingTalk,
                &dingtalk_user_id,
                &current.dingtalk_user_id,
            ),
            (
                "feishu_open_id",
                Binding::Feishu,
                &feishu_open_id,
                &current.feishu_open_id,
            ),
            (
                "wecom_user_id",
                Binding::WeCom,
                &wecom_user_id,
                &current.wecom_user_id,
            ),
        ] {
            if let Some(value) = value
                && value != stored
                && let Some(app) = company_app_for(&txn, binding).await?
            {
                return Err(AppError::invalid(
                    field,
                    format!(
                        "已连接“{app}”：{}由管理员设置或按手机号绑定",
                        binding.label()
                    ),
                ));
            }
        }
    }
    let current_role = Role::parse(&current.role).unwrap_or(Role::Member);
    let mut row = current.clone().into_active_model();
    let mut changed = Vec::new();

    if let Some(username) = username
        && username.as_str() != current.username
    {
        ensure_username_free(&txn, &username, Some(id)).await?;
        row.username_key = Set(username.key());
        row.username = Set(username.into_inner());
        changed.push("username");
    }
    if let Some(display_name) = display_name
        && display_name != current.display_name
    {
        row.display_name = Set(display_name);
        changed.push("display_name");
    }
    if let Some(value) = mobile {
        set_optional(
            &mut row.mobile,
            &current.mobile,
            value,
            &mut changed,
            "mobile",
        );
    }
    if let Some(value) = dingtalk_user_id {
        set_optional(
            &mut row.dingtalk_user_id,
            &current.dingtalk_user_id,
            value,
            &mut changed,
            "dingtalk_user_id",
        );
    }
    if let Some(value) = feishu_open_id {
        set_optional(
            &mut row.feishu_open_id,
            &current.feishu_open_id,
            value,
            &mut changed,
            "feishu_open_id",
        );
    }
    if let Some(value) = wecom_user_id {
        set_optional(
            &mut row.wecom_user_id,
            &current.wecom_user_id,
            value,
            &mut changed,
            "wecom_user_id",
        );
    }
    if let Some(value) = email {
        set_optional(&mut row.email, &current.email, value, &mut changed, "email");
    }
    if let Some(enabled) = patch.reminders_enabled
        && enabled != current.reminders_enabled
    {
        row.reminders_enabled = Set(enabled);
        changed.push("reminders_enabled");
    }
    let new_role = patch.role.unwrap_or(current_role);
    let new_active = patch.active.unwrap_or(current.active);
    let loses_admin =
        current_role == Role::Admin && current.active && (new_role != Role::Admin || !new_active);
    if loses_admin && other_active_admins(&txn, id).await? == 0 {
        let field = if new_active { "role" } else { "active" };
        return Err(AppError::conflict(
            field,
            "不能停用或降级最后一位启用的管理员，请先指定另一位管理员",
        ));
    }
    if new_role != current_role {
        row.role = Set(new_role.as_str().to_owned());
        changed.push("role");
    }
    let active_changed = new_active != current.active;
    if active_changed {
        row.active = Set(new_active);
    }
    if changed.is_empty() && !active_changed {
        txn.commit().await?;
        return Ok(to_view(&current));
    }
    row.updated_at = Set(now);
    let updated = row
        .update(&txn)
        .await
        .map_err(|error| unique_violation(error, "username"))?;

    if !changed.is_empty() {
        let kind = if actor.user_id() == Some(id) && !patch.touches_admin_fields() {
            AuditKind::ProfileUpdated
        } else {
            AuditKind::UserUpdated
        };
        audit::record(
            &txn,
            now,
            AuditEvent::by(actor, kind, meta)
                .about(&updated.username_key)
                .detail(format!("修改字段：{}", changed.join(", "))),
        )
        .await?;
    }
    if active_changed {
        let kind = if new_active {
            AuditKind::UserReactivated
        } else {
            AuditKind::UserDeactivated
        };
        audit::record(
            &txn,
            now,
            AuditEvent::by(actor, kind, meta).about(&updated.username_key),
        )
        .await?;
        if !new_active {
            session_store::end_user_sessions(&txn, id, None).await?;
        }
    }
    txn.commit().await?;
    if loses_admin || active_changed || new_role != current_role {
        super::bootstrap::refresh_default_password_alert(services).await;
    }
    Ok(to_view(&updated))
}

/// Admins only: sets a new password the user must change at next login, and signs them
/// out everywhere.
pub async fn reset_password(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
    new_password: &str,
) -> Result<UserView, AppError> {
    actor.require_admin()?;
    let target = find(&services.db, id).await?;
    check_new_password("password", new_password, &target.username)?;
    let password_hash = services.passwords.hash(new_password).await?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let mut row = target.into_active_model();
    row.password_hash = Set(password_hash);
    row.must_change_password = Set(true);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    session_store::end_user_sessions(&txn, id, None).await?;
    // A reset means the account may be in the wrong hands: whatever else lets someone in
    // as this user (calendar feed URL, API tokens) stops working too.
    let feeds = super::entity::calendar_feed::Entity::delete_by_id(id)
        .exec(&txn)
        .await?
        .rows_affected;
    let tokens = super::access_tokens::revoke_all(&txn, id).await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::PasswordReset, meta)
            .about(&updated.username_key)
            .detail(format!("已吊销日历订阅 {feeds} 个、访问令牌 {tokens} 个")),
    )
    .await?;
    txn.commit().await?;
    super::bootstrap::refresh_default_password_alert(services).await;
    Ok(to_view(&updated))
}

/// The signed-in user changes their own password, proving they know the current one.
/// Their other sessions end; `current_session` stays. Returns the refreshed session user,
/// which the caller stores in the session so it stays valid.
pub async fn change_own_password(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    current_password: &str,
    new_password: &str,
    current_session: Option<SessionId>,
) -> Result<SessionUser, AppError> {
    let me = actor.require_user()?;
    if current_password.is_empty() {
        return Err(FieldError::new("current", "请输入当前密码").into());
    }
    let target = find(&services.db, me.id).await?;
    check_new_password("new", new_password, &target.username)?;
    if current_password == new_password {
        return Err(FieldError::new("new", "新密码不能与当前密码相同").into());
    }
    // A stolen session must not become an unlimited oracle for the password: wrong
    // current passwords are logged and limited like failed logins.
    let now = services.clock.now();
    let since = now - throttle::window();
    let (_running, in_flight) = services.attempts.reserve_password_change(me.id)?;
    let failures = audit::recent_about(
        &services.db,
        AuditKind::PasswordChangeFailed,
        &target.username_key,
        since,
    )
    .await?;
    if let LoginVerdict::Blocked { retry_after_secs } =
        throttle::password_change_verdict(&failures, in_flight, now)
    {
        if !audit::throttle_logged(
            &services.db,
            AuditKind::PasswordChangeThrottled,
            &target.username_key,
            None,
            since,
        )
        .await?
        {
            audit::record(
                &services.db,
                now,
                AuditEvent::by(actor, AuditKind::PasswordChangeThrottled, meta)
                    .about(&target.username_key)
                    .detail(format!("{retry_after_secs} 秒后可重试")),
            )
            .await?;
        }
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    if current_password.chars().count() > account::PASSWORD_MAX_CHARS
        || !services
            .passwords
            .verify(current_password, Some(&target.password_hash))
            .await?
    {
        audit::record(
            &services.db,
            now,
            AuditEvent::by(actor, AuditKind::PasswordChangeFailed, meta)
                .about(&target.username_key),
        )
        .await?;
        return Err(FieldError::new("current", "当前密码不正确").into());
    }
    let password_hash = services.passwords.hash(new_password).await?;
    let txn = services.begin_write().await?;
    let mut row = target.into_active_model();
    row.password_hash = Set(password_hash);
    row.must_change_password = Set(false);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    session_store::end_user_sessions(&txn, me.id, current_session).await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::PasswordChanged, meta).about(&updated.username_key),
    )
    .await?;
    txn.commit().await?;
    super::bootstrap::refresh_default_password_alert(services).await;
    SessionUser::from_model(&updated).ok_or(AppError::Internal)
}

/// Everyone's display name by id: two columns, not whole rows (pages that name people
/// call this on every load, and SQLite copies each value it hands out).
pub async fn display_names(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<std::collections::HashMap<i32, String>, AppError> {
    use sea_orm::QuerySelect;
    let rows: Vec<(i32, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::DisplayName)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The name of an active company-app channel that reaches people by `binding`, if any.
async fn company_app_for(
    db: &impl sea_orm::ConnectionTrait,
    binding: Binding,
) -> Result<Option<String>, AppError> {
    let apps = super::entity::channel::Entity::find()
        .filter(super::entity::channel::Column::Active.eq(true))
        .all(db)
        .await?;
    Ok(apps
        .into_iter()
        .find(|row| {
            ChannelKind::parse(&row.platform).and_then(ChannelKind::binding) == Some(binding)
        })
        .map(|row| row.name))
}
