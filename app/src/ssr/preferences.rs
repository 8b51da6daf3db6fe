//! The order in which channels are tried for a reminder: each person's own list per
//! reminder kind (their own channels and the team's), else the team's default list set by
//! admins, else the built-in order (their own channels, the team's, the default robot).
//! A list is replaced whole, in one transaction.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{channel, channel_preference, user};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::reminder::ReminderKind;
use crate::wire::ChannelOrder;

/// Channels in one list: more is no longer an order anyone reads.
pub const MAX_PER_KIND: usize = 10;

/// Every list, by owner (`None`: the team's default) and reminder kind.
pub type Orders = HashMap<(Option<i32>, ReminderKind), Vec<i32>>;

/// All lists at once, for a tick or a preview.
pub async fn load_all(services: &Services) -> Result<Orders, AppError> {
    let rows = channel_preference::Entity::find()
        .order_by_asc(channel_preference::Column::Position)
        .all(&services.db)
        .await?;
    let mut orders = Orders::new();
    for row in rows {
        if let Some(kind) = ReminderKind::parse(&row.kind) {
            orders
                .entry((row.user_id, kind))
                .or_default()
                .push(row.channel_id);
        }
    }
    Ok(orders)
}

async fn order_of(services: &Services, user_id: Option<i32>) -> Result<ChannelOrder, AppError> {
    let mut query = channel_preference::Entity::find();
    query = match user_id {
        Some(id) => query.filter(channel_preference::Column::UserId.eq(id)),
        None => query.filter(channel_preference::Column::UserId.is_null()),
    };
    let rows = query
        .order_by_asc(channel_preference::Column::Position)
        .all(&services.db)
        .await?;
    let of = |kind: ReminderKind| -> Vec<i32> {
        rows.iter()
            .filter(|row| row.kind == kind.as_str())
            .map(|row| row.channel_id)
            .collect()
    };
    Ok(ChannelOrder {
        clock_in: of(ReminderKind::ClockIn),
        clock_out: of(ReminderKind::ClockOut),
    })
}

/// A person's own order (themselves or an admin), or the team's (`None`, everyone may read).
pub async fn get(
    services: &Services,
    actor: &Actor,
    user_id: Option<i32>,
) -> Result<ChannelOrder, AppError> {
    match user_id {
        Some(id) => actor.require_self_or_admin(id)?,
        None => {
            actor.user_id().ok_or(AppError::Forbidden)?;
        }
    }
    order_of(services, user_id).await
}

/// Checks one list: known channels, each at most once, that the owner may use (their own
/// or the team's; the team's default takes team channels only).
async fn check(
    services: &Services,
    user_id: Option<i32>,
    field: &str,
    ids: &[i32],
) -> Result<(), AppError> {
    if ids.len() > MAX_PER_KIND {
        return Err(AppError::invalid(
            field,
            format!("最多 {MAX_PER_KIND} 个渠道，这里有 {} 个", ids.len()),
        ));
    }
    let rows: HashMap<i32, channel::Model> = channel::Entity::find()
        .filter(channel::Column::Id.is_in(ids.iter().copied()))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    for (index, id) in ids.iter().enumerate() {
        let field = format!("{field}[{index}]");
        if ids[..index].contains(id) {
            return Err(AppError::invalid(field, format!("渠道 {id} 重复")));
        }
        match (rows.get(id), user_id) {
            (Some(row), _) if row.user_id.is_none() => {}
            (Some(row), Some(_)) if row.user_id == user_id => {}
            // Someone's own channel in the team's default: the admin may know it exists.
            (Some(_), None) => {
                return Err(AppError::invalid(
                    field,
                    format!("渠道 {id} 不是团队渠道（团队默认顺序只能用团队渠道）"),
                ));
            }
            // Someone else's channel is answered like a missing one: its name is theirs.
            (_, Some(_)) => {
                return Err(AppError::missing(
                    field,
                    format!("渠道 {id} 不存在或不是本人或团队的渠道"),
                ));
            }
            (None, None) => {
                return Err(AppError::missing(field, format!("渠道 {id} 不存在")));
            }
        }
    }
    Ok(())
}

/// Replaces a person's order (themselves or an admin) or the team's default (admins).
pub async fn put(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Option<i32>,
    order: ChannelOrder,
) -> Result<ChannelOrder, AppError> {
    match user_id {
        Some(id) => {
            actor.require_self_or_admin(id)?;
            user::Entity::find_by_id(id)
                .one(&services.db)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("用户 {id}")))?;
        }
        None => actor.require_admin()?,
    }
    check(services, user_id, "clock_in", &order.clock_in).await?;
    check(services, user_id, "clock_out", &order.clock_out).await?;
    let txn = services.begin_write().await?;
    let mut old = channel_preference::Entity::delete_many();
    old = match user_id {
        Some(id) => old.filter(channel_preference::Column::UserId.eq(id)),
        None => old.filter(channel_preference::Column::UserId.is_null()),
    };
    old.exec(&txn).await?;
    for (kind, ids) in [
        (ReminderKind::ClockIn, &order.clock_in),
        (ReminderKind::ClockOut, &order.clock_out),
    ] {
        for (position, channel_id) in ids.iter().enumerate() {
            channel_preference::ActiveModel {
                user_id: Set(user_id),
                kind: Set(kind.as_str().to_owned()),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                channel_id: Set(*channel_id),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let subject = match user_id {
        Some(id) => format!("用户 {id} 的渠道顺序"),
        None => "团队默认渠道顺序".to_owned(),
    };
    audit::record(
        &txn,
        services.clock.now(),
        AuditEvent::by(actor, AuditKind::ChannelUpdated, meta)
            .about(&subject)
            .detail(format!(
                "上班 {:?}，下班 {:?}",
                order.clock_in, order.clock_out
            )),
    )
    .await?;
    txn.commit().await?;
    order_of(services, user_id).await
}
