//! Writing and reading the audit log. Events are written in the same transaction as the
//! change they describe, so the log never claims something that did not happen.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::Services;
use super::auth::{Actor, RequestMeta};
use super::entity::{audit_log, user};
use super::page::PageRequest;
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::wire::{AuditEntry, AuditQuery, Page};

/// The audit log's name for things the server does by itself (first-run admin, CLI).
pub const SYSTEM_ACTOR: &str = "system";

/// One event to record. `actor_name` is whoever acted; for a failed login, the typed name.
pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub actor_user_id: Option<i32>,
    pub actor_name: &'a str,
    pub subject: Option<&'a str>,
    pub meta: &'a RequestMeta,
    pub detail: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn by(actor: &'a Actor, kind: AuditKind, meta: &'a RequestMeta) -> Self {
        Self {
            kind,
            actor_user_id: actor.user_id(),
            actor_name: actor.name(),
            subject: None,
            meta,
            detail: None,
        }
    }

    pub fn about(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}

pub async fn record(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    event: AuditEvent<'_>,
) -> Result<(), AppError> {
    audit_log::ActiveModel {
        created_at: Set(now),
        kind: Set(event.kind.as_str().to_owned()),
        actor_user_id: Set(event.actor_user_id),
        actor_name: Set(truncate(event.actor_name, 64)),
        subject: Set(event.subject.map(|subject| truncate(subject, 64))),
        ip: Set(event.meta.ip.map(|ip| ip.to_string())),
        user_agent: Set(event.meta.user_agent.as_deref().map(|ua| truncate(ua, 255))),
        detail: Set(event.detail),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn parse_day(field: &'static str, raw: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match raw.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(value) => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::invalid(field, "应为日期 YYYY-MM-DD，例如 2026-11-23")),
    }
}

/// Browses the log, newest first. Admins only.
pub async fn list(
    services: &Services,
    actor: &Actor,
    query: &AuditQuery,
) -> Result<Page<AuditEntry>, AppError> {
    actor.require_admin()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let from = parse_day("from", query.from.as_deref())?;
    let to = parse_day("to", query.to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(AppError::invalid("to", "结束日期不能早于开始日期"));
    }
    let zone = services.settings.timezone.tz();
    let start_of = |day: NaiveDate| {
        zone.from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    };

    let mut select = audit_log::Entity::find();
    if let Some(user_id) = query.user_id {
        let username = user::Entity::find_by_id(user_id)
            .one(&services.db)
            .await?
            .map(|user| user.username_key);
        let mut about = Condition::any().add(audit_log::Column::ActorUserId.eq(user_id));
        if let Some(username) = username {
            about = about.add(audit_log::Column::Subject.eq(username));
        }
        select = select.filter(about);
    }
    if let Some(kind) = query
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if kind.chars().count() > 48 {
            return Err(AppError::invalid("kind", "最多 48 个字符"));
        }
        select = select.filter(audit_log::Column::Kind.eq(kind));
    }
    if let Some(start) = from.and_then(start_of) {
        select = select.filter(audit_log::Column::CreatedAt.gte(start));
    }
    if let Some(end) = to.and_then(|day| day.succ_opt()).and_then(start_of) {
        select = select.filter(audit_log::Column::CreatedAt.lt(end));
    }
    let total = select.clone().count(&services.db).await?;
    let items = select
        .order_by_desc(audit_log::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| AuditEntry {
            id: row.id,
            created_at: row.created_at,
            kind: row.kind,
            actor_user_id: row.actor_user_id,
            actor_name: row.actor_name,
            subject: row.subject,
            ip: row.ip,
            user_agent: row.user_agent,
            detail: row.detail,
        })
        .collect();
    Ok(Page { items, total })
}

/// Deletes entries older than the retention period; returns how many.
pub async fn prune(services: &Services) -> Result<u64, AppError> {
    let cutoff =
        services.clock.now() - Duration::days(i64::from(services.settings.audit_retention_days));
    let result = audit_log::Entity::delete_many()
        .filter(audit_log::Column::CreatedAt.lt(cutoff))
        .exec(&services.db)
        .await?;
    Ok(result.rows_affected)
}

/// Failed logins from the log that the throttle counts (`domain::throttle::LoginHistory`),
/// newest first, within the window starting at `since`.
#[derive(Debug, Default)]
pub struct LoginFailures {
    /// For the username from the address, since the username's last successful login.
    pub pair: Vec<DateTime<Utc>>,
    /// From the address, any username.
    pub address: Vec<DateTime<Utc>>,
    /// For the username from any address, since its last successful login.
    pub username: Vec<DateTime<Utc>>,
    /// Whether the username has signed in from the address before (within retention).
    pub known_address: bool,
}

/// The most failures read per question: every limit and the slowdown's cap are reached
/// well below it, and the newest decide the wait.
const FAILURES_READ: u64 = 64;

fn same_ip(ip: Option<&str>) -> Condition {
    match ip {
        Some(ip) => Condition::all().add(audit_log::Column::Ip.eq(ip)),
        None => Condition::all().add(audit_log::Column::Ip.is_null()),
    }
}

/// Reads what the login throttle needs for `username_key` from `ip`.
pub async fn login_failures(
    db: &impl ConnectionTrait,
    username_key: &str,
    ip: Option<&str>,
    since: DateTime<Utc>,
) -> Result<LoginFailures, AppError> {
    let successes = || {
        audit_log::Entity::find()
            .filter(audit_log::Column::Kind.eq(AuditKind::Login.as_str()))
            .filter(audit_log::Column::Subject.eq(username_key))
    };
    let newest_id = |select: sea_orm::Select<audit_log::Entity>| {
        select
            .select_only()
            .column(audit_log::Column::Id)
            .order_by_desc(audit_log::Column::Id)
            .limit(1)
            .into_tuple::<i64>()
    };
    let last_success_id = newest_id(successes()).one(db).await?.unwrap_or(0);
    let known_address = last_success_id > 0
        && newest_id(successes().filter(same_ip(ip)))
            .one(db)
            .await?
            .is_some();
    let failures = || {
        audit_log::Entity::find()
            .filter(audit_log::Column::Kind.eq(AuditKind::LoginFailed.as_str()))
            .filter(audit_log::Column::CreatedAt.gt(since))
    };
    let of_username = || {
        failures()
            .filter(audit_log::Column::Subject.eq(username_key))
            .filter(audit_log::Column::Id.gt(last_success_id))
    };
    let times = |select: sea_orm::Select<audit_log::Entity>| {
        select
            .select_only()
            .column(audit_log::Column::CreatedAt)
            .order_by_desc(audit_log::Column::Id)
            .limit(FAILURES_READ)
            .into_tuple::<DateTime<Utc>>()
    };
    Ok(LoginFailures {
        pair: times(of_username().filter(same_ip(ip))).all(db).await?,
        address: times(failures().filter(same_ip(ip))).all(db).await?,
        username: times(of_username()).all(db).await?,
        known_address,
    })
}

/// Times of `kind` entries about `subject` within the window starting at `since`, newest
/// first (failed current passwords of a user, for throttling password changes).
pub async fn recent_about(
    db: &impl ConnectionTrait,
    kind: AuditKind,
    subject: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, AppError> {
    audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::CreatedAt)
        .filter(audit_log::Column::Kind.eq(kind.as_str()))
        .filter(audit_log::Column::Subject.eq(subject))
        .filter(audit_log::Column::CreatedAt.gt(since))
        .order_by_desc(audit_log::Column::Id)
        .limit(FAILURES_READ)
        .into_tuple::<DateTime<Utc>>()
        .all(db)
        .await
        .map_err(AppError::from)
}

/// Whether a refusal of `kind` about this subject or (when given) from this IP was logged
/// in the window: a client hammering a blocked check adds one line per window, not one
/// per request.
pub async fn throttle_logged(
    db: &impl ConnectionTrait,
    kind: AuditKind,
    subject: &str,
    ip: Option<&str>,
    since: DateTime<Utc>,
) -> Result<bool, AppError> {
    let mut about = Condition::any().add(audit_log::Column::Subject.eq(subject));
    if let Some(ip) = ip {
        about = about.add(audit_log::Column::Ip.eq(ip));
    }
    let count = audit_log::Entity::find()
        .filter(audit_log::Column::Kind.eq(kind.as_str()))
        .filter(audit_log::Column::CreatedAt.gt(since))
        .filter(about)
        .count(db)
        .await?;
    Ok(count > 0)
}
