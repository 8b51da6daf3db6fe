//! Bearer authentication for the REST API: personal access tokens (created by a user on
//! the profile page, shown once, stored as SHA-256) and the installation's `API_TOKEN`.
//!
//! Wrong tokens are audited with the client's address, and an address with too many
//! recent wrong tokens is refused before anything is compared.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta, SessionUser};
use super::calendar_feed::digest;
use super::entity::{access_token, audit_log, user};
use super::{Services, settings};
use crate::AppError;
use crate::domain::access_token::{
    MAX_TOKENS_PER_USER, TOKEN_PREFIX, TokenScope, check_expiry_days, check_name, check_scope,
    looks_like_token, visible_part,
};
use crate::domain::audit::AuditKind;
use crate::domain::throttle::{self, LoginVerdict};
use crate::wire::{AccessTokenView, CreatedAccessToken, NewAccessToken};

/// `last_used_at` is written at most this often per token, not on every request.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

fn view(row: access_token::Model, now: DateTime<Utc>) -> AccessTokenView {
    AccessTokenView {
        id: row.id,
        name: row.name,
        scope: TokenScope::parse(&row.scope).unwrap_or(TokenScope::Read),
        prefix: row.prefix,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        expired: row.expires_at.is_some_and(|at| at <= now),
    }
}

/// The signed-in user's tokens, newest first.
pub async fn list(services: &Services, actor: &Actor) -> Result<Vec<AccessTokenView>, AppError> {
    let owner = actor.require_user()?;
    let now = services.clock.now();
    Ok(access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(owner.id))
        .order_by_desc(access_token::Column::Id)
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| view(row, now))
        .collect())
}

/// Creates a token for the signed-in user; the answer is the only time it is shown.
pub async fn create(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    request: NewAccessToken,
) -> Result<CreatedAccessToken, AppError> {
    let owner = actor.require_user()?;
    let name = check_name(&request.name)?;
    let scope = check_scope(request.scope, owner.role)?;
    let expires_in_days = check_expiry_days(request.expires_in_days)?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|error| {
        tracing::error!(%error, "no randomness for an access token");
        AppError::Internal
    })?;
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let existing = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(owner.id))
        .count(&txn)
        .await?;
    if existing >= MAX_TOKENS_PER_USER as u64 {
        return Err(AppError::conflict(
            "name",
            format!("每人最多 {MAX_TOKENS_PER_USER} 个令牌，请先吊销不用的令牌"),
        ));
    }
    let row = access_token::ActiveModel {
        user_id: Set(owner.id),
        name: Set(name.clone()),
        scope: Set(scope.as_str().to_owned()),
        token_hash: Set(digest(&token)),
        prefix: Set(visible_part(&token)),
        created_at: Set(now),
        expires_at: Set(expires_in_days.map(|days| now + Duration::days(i64::from(days)))),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::AccessTokenCreated, meta)
            .about(&owner.username)
            .detail(format!("{name}（{}，{}）", scope.as_str(), row.prefix)),
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedAccessToken {
        token,
        info: view(row, now),
    })
}

/// Revokes one of the signed-in user's tokens.
pub async fn revoke(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
) -> Result<(), AppError> {
    let owner = actor.require_user()?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let row = access_token::Entity::find_by_id(id)
        .filter(access_token::Column::UserId.eq(owner.id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("令牌 {id}")))?;
    access_token::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::AccessTokenRevoked, meta)
            .about(&owner.username)
            .detail(format!("{}（{}）", row.name, row.prefix)),
    )
    .await?;
    txn.commit().await.map_err(AppError::from)
}

/// Revokes all of a user's tokens (an admin reset their password).
pub async fn revoke_all(db: &impl sea_orm::ConnectionTrait, user_id: i32) -> Result<u64, AppError> {
    Ok(access_token::Entity::delete_many()
        .filter(access_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub enum BearerRefusal {
    /// Unknown, expired or revoked (audited and counted against the address).
    Wrong,
    /// Not a personal token, and no `API_TOKEN` is configured to compare it with.
    NoApiToken,
    /// A `read` token on a request that changes something.
    ReadOnly,
    Error(AppError),
}

impl From<AppError> for BearerRefusal {
    fn from(error: AppError) -> Self {
        Self::Error(error)
    }
}

/// Who a bearer token speaks for. `writes` says whether the request changes something,
/// which a `read` token may not.
pub async fn authenticate(
    services: &Services,
    presented: &str,
    meta: &RequestMeta,
    writes: bool,
) -> Result<Actor, BearerRefusal> {
    let now = services.clock.now();
    let ip = meta.ip.map(|ip| ip.to_string());
    if let Some(ip) = &ip {
        let failures = recent_failures(services, ip, now - throttle::window()).await?;
        if let LoginVerdict::Blocked { retry_after_secs } =
            throttle::address_verdict(&failures, now)
        {
            return Err(AppError::TooManyAttempts { retry_after_secs }.into());
        }
    }
    let (found, refusal) = if looks_like_token(presented) {
        (
            personal_token(services, presented, now).await?,
            BearerRefusal::Wrong,
        )
    } else {
        match settings::api_token(services).await? {
            Some(token) => (
                token
                    .matches(presented)
                    .then_some((Actor::ApiToken, TokenScope::Admin)),
                BearerRefusal::Wrong,
            ),
            None => (None, BearerRefusal::NoApiToken),
        }
    };
    let Some((actor, scope)) = found else {
        audit::record(
            &services.db,
            now,
            AuditEvent {
                kind: AuditKind::BearerFailed,
                actor_user_id: None,
                actor_name: "bearer",
                // Enough to tell which token a script used, never enough to use it.
                subject: Some(&visible_part(presented)),
                meta,
                detail: None,
            },
        )
        .await?;
        return Err(refusal);
    };
    if writes && !scope.may_write() {
        return Err(BearerRefusal::ReadOnly);
    }
    Ok(actor)
}

async fn personal_token(
    services: &Services,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Actor, TokenScope)>, AppError> {
    let Some(row) = access_token::Entity::find()
        .filter(access_token::Column::TokenHash.eq(digest(presented)))
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    if row.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let Some(scope) = TokenScope::parse(&row.scope) else {
        return Ok(None);
    };
    let Some(mut owner) = user::Entity::find_by_id(row.user_id)
        .filter(user::Column::Active.eq(true))
        .one(&services.db)
        .await?
        .as_ref()
        .and_then(SessionUser::from_model)
    else {
        return Ok(None);
    };
    owner.role = scope.effective_role(owner.role);
    let stale = row
        .last_used_at
        .is_none_or(|at| now - at >= Duration::seconds(LAST_USED_RESOLUTION_SECS));
    if stale {
        access_token::Entity::update_many()
            .col_expr(access_token::Column::LastUsedAt, Expr::value(now))
            .filter(access_token::Column::Id.eq(row.id))
            .exec(&services.db)
            .await?;
    }
    Ok(Some((Actor::User(owner), scope)))
}

async fn recent_failures(
    services: &Services,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, AppError> {
    audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::CreatedAt)
        .filter(audit_log::Column::Kind.eq(AuditKind::BearerFailed.as_str()))
        .filter(audit_log::Column::Ip.eq(ip))
        .filter(audit_log::Column::CreatedAt.gt(since))
        .order_by_desc(audit_log::Column::Id)
        .limit(50)
        .into_tuple::<DateTime<Utc>>()
        .all(&services.db)
        .await
        .map_err(AppError::from)
}
