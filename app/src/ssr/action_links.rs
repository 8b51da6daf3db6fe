//! The one-click links in reminders ("我已打卡", "今天不用提醒"): issuing them for a delivery,
//! and following one without signing in. Opening a link only shows what it will do; the
//! page's button does it (chat apps open links to preview them, and that must not punch).

use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::RequestMeta;
use super::calendar_feed::digest;
use super::entity::{punch, reminder_skip, used_link, user};
use crate::AppError;
use crate::domain::action_link::{self, ActionClaim, LinkAction, LinkError};
use crate::domain::audit::AuditKind;
use crate::domain::reminder::ReminderKind;

/// Where links are served; the token follows.
pub const LINK_PATH: &str = "/r/";

/// One link of a reminder, ready to put into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderLink {
    pub action: LinkAction,
    pub url: String,
}

/// The two links for a person's reminder of `kind` for schedule `date` due at `due_at`;
/// none without `PUBLIC_URL` (the links need an address people can open).
pub fn links_for(
    services: &Services,
    user_id: i32,
    date: NaiveDate,
    kind: ReminderKind,
    due_at: DateTime<Utc>,
) -> Vec<ReminderLink> {
    let Some(base) = services.settings.public_url.as_deref() else {
        return Vec::new();
    };
    let expires_at = end_of_reminder_day(services, date, due_at);
    [LinkAction::Punched(kind), LinkAction::SkipToday]
        .into_iter()
        .map(|action| {
            let token = action_link::sign(
                services.secrets.link_key(),
                &ActionClaim {
                    user_id,
                    date,
                    action,
                    expires_at,
                },
            );
            ReminderLink {
                action,
                url: format!("{}{LINK_PATH}{token}", base.trim_end_matches('/')),
            }
        })
        .collect()
}

/// The end of the local day the reminder is for: its schedule date, or the next morning
/// for a clock-out reminder after an overnight shift.
fn end_of_reminder_day(
    services: &Services,
    date: NaiveDate,
    due_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let tz = services.settings.timezone.tz();
    let day = date.max(due_at.with_timezone(&tz).date_naive());
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    crate::domain::shift::resolve_local(tz, next.and_time(chrono::NaiveTime::MIN))
}

/// What a link will do, for its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    pub person: String,
    pub action: LinkAction,
    pub date: NaiveDate,
    /// When it was already used.
    pub used: bool,
}

/// Why a link does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefusal {
    Invalid(LinkError),
    /// The person no longer exists or is deactivated.
    NoPerson,
}

impl LinkRefusal {
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(error) => error.to_string(),
            Self::NoPerson => "链接对应的账号已停用或不存在".to_owned(),
        }
    }
}

async fn claim_of(
    services: &Services,
    token: &str,
) -> Result<Result<(ActionClaim, user::Model), LinkRefusal>, AppError> {
    let now = services.clock.now();
    let claim = match action_link::verify(services.secrets.link_key(), token, now) {
        Ok(claim) => claim,
        Err(error) => return Ok(Err(LinkRefusal::Invalid(error))),
    };
    let person = user::Entity::find_by_id(claim.user_id)
        .one(&services.db)
        .await?
        .filter(|person| person.active);
    Ok(person
        .map(|person| (claim, person))
        .ok_or(LinkRefusal::NoPerson))
}

pub async fn preview(
    services: &Services,
    token: &str,
) -> Result<Result<LinkPreview, LinkRefusal>, AppError> {
    let (claim, person) = match claim_of(services, token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let used = used_link::Entity::find_by_id(digest(token))
        .one(&services.db)
        .await?
        .is_some();
    Ok(Ok(LinkPreview {
        person: person.display_name,
        action: claim.action,
        date: claim.date,
        used,
    }))
}

/// Does what the link says, once. Returns the message to show.
pub async fn follow(
    services: &Services,
    meta: &RequestMeta,
    token: &str,
) -> Result<Result<String, LinkRefusal>, AppError> {
    let (claim, person) = match claim_of(services, token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let first_use = used_link::Entity::insert(used_link::ActiveModel {
        token_hash: Set(digest(token)),
        used_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(used_link::Column::TokenHash)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?
        == 1;
    if !first_use {
        txn.rollback().await?;
        return Ok(Ok(match claim.action {
            LinkAction::Punched(kind) => {
                format!("这个链接已经用过了：{}打卡已记录，不会再提醒", kind.label())
            }
            LinkAction::SkipToday => format!("这个链接已经用过了：{} 的提醒已经停止", claim.date),
        }));
    }
    let event = |kind: AuditKind, detail: String| AuditEvent {
        kind,
        actor_user_id: Some(person.id),
        actor_name: &person.username,
        subject: Some(&person.username_key),
        meta,
        detail: Some(detail),
    };
    let message = match claim.action {
        LinkAction::Punched(kind) => {
            punch::ActiveModel {
                user_id: Set(person.id),
                kind: Set(kind.as_str().to_owned()),
                at: Set(now),
                source: Set("link".to_owned()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit::record(
                &txn,
                now,
                event(
                    AuditKind::PunchRecorded,
                    format!(
                        "{}打卡 {}（提醒消息中的链接）",
                        kind.label(),
                        services.settings.local_minute(now)
                    ),
                ),
            )
            .await?;
            format!(
                "已记录{}打卡（{}），这个班次不会再提醒{}打卡",
                kind.label(),
                services.settings.local_minute(now),
                kind.label()
            )
        }
        LinkAction::SkipToday => {
            reminder_skip::Entity::insert(reminder_skip::ActiveModel {
                user_id: Set(person.id),
                date: Set(claim.date),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::columns([reminder_skip::Column::UserId, reminder_skip::Column::Date])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            audit::record(
                &txn,
                now,
                event(
                    AuditKind::RemindersSkipped,
                    format!("{} 的提醒（提醒消息中的链接）", claim.date),
                ),
            )
            .await?;
            format!("好的，{} 的其余提醒都不再发送", claim.date)
        }
    };
    txn.commit().await?;
    Ok(Ok(message))
}

/// Whether the person asked for no more reminders for that schedule date.
pub async fn skipped(services: &Services, user_id: i32, date: NaiveDate) -> Result<bool, AppError> {
    Ok(reminder_skip::Entity::find_by_id((user_id, date))
        .one(&services.db)
        .await?
        .is_some())
}
