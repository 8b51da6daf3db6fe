//! Binding people to a company app: each person's DingTalk, Feishu or WeCom id found by
//! their mobile in the company's directory, for one person or everyone at once, with a
//! report of who could not be found and why.

use std::sync::Arc;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::channels;
use super::entity::{channel, user};
use super::notify;
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::channel::{Binding, ChannelAddress, SendContext, Verdict};
use crate::domain::robot::MessageFormat;
use crate::wire::{BindReport, BindRequest, BoundPerson, UnboundPerson};

/// People named in one request.
pub const MAX_PEOPLE: usize = 1000;
/// Lookups asked at once: the platforms allow far more, a directory of thousands still
/// takes seconds, and a burst would only count against the app's quota.
const CONCURRENT_LOOKUPS: usize = 4;

enum Found {
    Id(String),
    NotFound(String),
}

async fn look_up(
    services: &Services,
    address: &ChannelAddress,
    token: &str,
    mobile: &str,
) -> Found {
    let bases = &services.settings.service_bases;
    let context = SendContext {
        format: MessageFormat::Text,
        now: services.clock.now(),
        bases,
        access_token: Some(token),
        stamp: "",
    };
    let Some(call) = address.lookup(mobile, &context) else {
        return Found::NotFound(format!("{}不能按手机号查找", address.kind().label()));
    };
    let mut answer = match notify::call(services, &call).await {
        Ok(answer) => answer,
        Err(error) => return Found::NotFound(format!("查找失败：{}", error.message)),
    };
    // A token revoked since it was fetched: a new one, once.
    if address.token_expired(answer.status, &answer.body) {
        let Ok(fresh) = notify::app_token(services, address, Some(token)).await else {
            return Found::NotFound("查找失败：无法重新获取 access_token".to_owned());
        };
        let context = SendContext {
            access_token: Some(&fresh),
            ..context
        };
        let Some(call) = address.lookup(mobile, &context) else {
            return Found::NotFound(format!("{}不能按手机号查找", address.kind().label()));
        };
        answer = match notify::call(services, &call).await {
            Ok(answer) => answer,
            Err(error) => return Found::NotFound(format!("查找失败：{}", error.message)),
        };
    }
    match address.read_lookup(answer.status, &answer.body) {
        Ok(Some(id)) => Found::Id(id),
        Ok(None) => Found::NotFound("通讯录里没有这个手机号".to_owned()),
        Err(Verdict::RetryLater(why) | Verdict::Throttled(why) | Verdict::Permanent(why)) => {
            Found::NotFound(format!("查找失败：{why}"))
        }
        Err(Verdict::Sent) => Found::NotFound("查找失败".to_owned()),
    }
}

fn stored_id(person: &user::Model, binding: Binding) -> Option<&str> {
    match binding {
        Binding::DingTalk => person.dingtalk_user_id.as_deref(),
        Binding::Feishu => person.feishu_open_id.as_deref(),
        Binding::WeCom => person.wecom_user_id.as_deref(),
    }
}

/// Who else (by name) has `id` on their profile.
async fn holder_of(
    db: &impl sea_orm::ConnectionTrait,
    binding: Binding,
    id: &str,
    except: i32,
) -> Result<Option<String>, AppError> {
    let column = match binding {
        Binding::DingTalk => user::Column::DingtalkUserId,
        Binding::Feishu => user::Column::FeishuOpenId,
        Binding::WeCom => user::Column::WecomUserId,
    };
    Ok(user::Entity::find()
        .filter(column.eq(id))
        .filter(user::Column::Id.ne(except))
        .one(db)
        .await?
        .map(|other| other.display_name))
}

/// Looks the people up in the directory of company-app channel `channel_id` and stores
/// each id found on their profile. Admins only.
pub async fn bind_by_mobile(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    channel_id: i32,
    request: BindRequest,
) -> Result<BindReport, AppError> {
    actor.require_admin()?;
    let row = channel::Entity::find_by_id(channel_id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("通知渠道 {channel_id}")))?;
    let target =
        channels::open_target(services, &row).map_err(|why| AppError::invalid("id", why))?;
    let Some(binding) = target.kind().binding() else {
        return Err(AppError::invalid(
            "id",
            format!("{}不是企业应用，不能按手机号绑定", row.name),
        ));
    };
    let mut query = user::Entity::find();
    match &request.user_ids {
        Some(ids) if ids.len() > MAX_PEOPLE => {
            return Err(AppError::invalid(
                "user_ids",
                format!("一次最多 {MAX_PEOPLE} 人，这里有 {} 人", ids.len()),
            ));
        }
        Some(ids) => query = query.filter(user::Column::Id.is_in(ids.iter().copied())),
        None => query = query.filter(user::Column::Active.eq(true)),
    }
    let people = query.all(&services.db).await?;
    let mut report = BindReport::default();
    if let Some(ids) = &request.user_ids {
        for id in ids {
            if !people.iter().any(|person| person.id == *id) {
                report.not_found.push(UnboundPerson {
                    user_id: *id,
                    name: String::new(),
                    reason: "用户不存在".to_owned(),
                });
            }
        }
    }
    let token = notify::app_token(services, &target.address, None)
        .await
        .map_err(|why| AppError::invalid("id", format!("无法登录{}：{why}", row.name)))?;
    let address = Arc::new(target.address);
    let token = Arc::new(token);
    let permits = Arc::new(Semaphore::new(CONCURRENT_LOOKUPS));
    let mut lookups = JoinSet::new();
    for person in people {
        let Some(mobile) = person
            .mobile
            .clone()
            .filter(|mobile| !mobile.trim().is_empty())
        else {
            report.not_found.push(UnboundPerson {
                user_id: person.id,
                name: person.display_name.clone(),
                reason: "没有填写手机号".to_owned(),
            });
            continue;
        };
        let (services, address, token, permits) = (
            services.clone(),
            address.clone(),
            token.clone(),
            permits.clone(),
        );
        lookups.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let found = look_up(&services, &address, &token, mobile.trim()).await;
            (person, found)
        });
    }
    let mut found = Vec::new();
    while let Some(joined) = lookups.join_next().await {
        let Ok((person, outcome)) = joined else {
            continue;
        };
        match outcome {
            Found::Id(id) => found.push((person, id)),
            Found::NotFound(reason) => report.not_found.push(UnboundPerson {
                user_id: person.id,
                name: person.display_name.clone(),
                reason,
            }),
        }
    }
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    let mut changed = 0;
    for (person, id) in found {
        // An id the platform answered with must be one (a value with `|` or `,` would
        // address several people), and one person's: two profiles with one id would send
        // one person's reminders to the other.
        let valid = crate::domain::account::parse_platform_id("id", Some(&id)).is_ok();
        let holder = if valid {
            holder_of(&txn, binding, &id, person.id).await?
        } else {
            None
        };
        if !valid || holder.is_some() {
            let reason = match holder {
                Some(other) => format!("{}“{id}”已在“{other}”的资料里", binding.label()),
                None => format!("平台返回的{}无效", binding.label()),
            };
            report.not_found.push(UnboundPerson {
                user_id: person.id,
                name: person.display_name.clone(),
                reason,
            });
            continue;
        }
        if stored_id(&person, binding) != Some(id.as_str()) {
            changed += 1;
            let mut model = person.clone().into_active_model();
            match binding {
                Binding::DingTalk => model.dingtalk_user_id = Set(Some(id.clone())),
                Binding::Feishu => model.feishu_open_id = Set(Some(id.clone())),
                Binding::WeCom => model.wecom_user_id = Set(Some(id.clone())),
            }
            model.updated_at = Set(now);
            model.update(&txn).await?;
        }
        report.bound.push(BoundPerson {
            user_id: person.id,
            name: person.display_name,
            platform_id: id,
        });
    }
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::UserUpdated, meta)
            .about(&row.name)
            .detail(format!(
                "按手机号绑定{}：找到 {} 人（更新 {changed} 人），未找到 {} 人",
                binding.label(),
                report.bound.len(),
                report.not_found.len()
            )),
    )
    .await?;
    txn.commit().await?;
    report.bound.sort_by_key(|person| person.user_id);
    report.not_found.sort_by_key(|person| person.user_id);
    Ok(report)
}
