//! What a request's events tell the people concerned (`ssr::notices` sends it).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};

use super::super::entity::{request, schedule, user};
use super::*;
use crate::AppError;
use crate::domain::request::{DayPart, LeaveType, RequestKind, RequestState};

/// What happened, for the notices about it.
pub(super) struct Happened<'a> {
    pub(super) event_id: i32,
    pub(super) action: &'a str,
    pub(super) from: Option<RequestState>,
    pub(super) to: RequestState,
    pub(super) actor_id: Option<i32>,
    pub(super) actor_name: &'a str,
    pub(super) note: Option<&'a str>,
}

/// The request in one line, as notices say it.
pub(super) async fn summary(
    db: &impl ConnectionTrait,
    model: &request::Model,
    kind: RequestKind,
    shift_book: &ShiftBook,
) -> Result<String, AppError> {
    let name = |id: Option<i32>| async move {
        match id {
            None => Ok::<_, AppError>(String::new()),
            Some(id) => Ok(user::Entity::find_by_id(id)
                .one(db)
                .await?
                .map_or_else(|| format!("用户 {id}"), |person| person_name(&person))),
        }
    };
    let requester = name(Some(model.requester_id)).await?;
    let peer = name(model.peer_id).await?;
    let cells = cells_from_json(model.cells_before.as_deref())?;
    let shift_at = |user_id: i32, date: NaiveDate| {
        cells
            .get(&(user_id, date))
            .copied()
            .flatten()
            .and_then(|id| shift_book.view(id))
            .map_or_else(String::new, |shift| {
                format!("{}（{}）", shift.name, shift.hours)
            })
    };
    Ok(match kind {
        RequestKind::Leave => {
            let leave_type = model
                .leave_type
                .as_deref()
                .and_then(LeaveType::parse)
                .map_or("请假", LeaveType::label);
            let part = model
                .day_part
                .as_deref()
                .and_then(DayPart::parse)
                .unwrap_or_default();
            let end = model.end_date.unwrap_or(model.date);
            let dates = if end == model.date {
                format!("{} {}", model.date, part.label())
            } else {
                format!("{} 至 {}", model.date, end)
            };
            format!("{requester} 请假（{leave_type}）：{dates}")
        }
        RequestKind::Swap => {
            let peer_date = model.peer_date.unwrap_or(model.date);
            format!(
                "{requester} 用 {} {} 换 {peer} {peer_date} {}",
                model.date,
                shift_at(model.requester_id, model.date),
                model
                    .peer_id
                    .map_or_else(String::new, |id| shift_at(id, peer_date)),
            )
        }
        RequestKind::Cover => format!(
            "{requester} 请 {peer} 代班：{} {}",
            model.date,
            shift_at(model.requester_id, model.date)
        ),
        RequestKind::Open => {
            let shift = model
                .shift_id
                .and_then(|id| shift_book.view(id))
                .map_or_else(String::new, |shift| {
                    format!("{}（{}）", shift.name, shift.hours)
                });
            if peer.is_empty() {
                format!("空缺班次：{} {shift}", model.date)
            } else {
                format!("空缺班次 {} {shift} 由 {peer} 认领", model.date)
            }
        }
    })
}

/// Who hears about what happened, and what they read: the colleague asked to accept, the
/// admins when it waits for them, the people in it when it is decided. Whoever acted hears
/// nothing of their own action.
pub(super) async fn queue_notices(
    txn: &DatabaseTransaction,
    model: &request::Model,
    kind: RequestKind,
    shift_book: &ShiftBook,
    happened: &Happened<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use super::super::notices::{self, NewNotice};
    let people_in_it = [Some(model.requester_id), model.peer_id];
    let (people, notice_kind): (Vec<i32>, &'static str) = match happened.to {
        RequestState::PendingPeer => (model.peer_id.into_iter().collect(), notices::kind::ASKED),
        RequestState::Pending if kind == RequestKind::Open => (
            free_on(txn, model.date, shift_book).await?,
            notices::kind::OPEN,
        ),
        RequestState::Pending => (
            notices::admins(txn, happened.actor_id).await?,
            notices::kind::WAITING,
        ),
        // Decided, withdrawn, revoked, expired or invalidated: everyone in it hears.
        _ => (
            people_in_it.into_iter().flatten().collect(),
            notices::kind::DECIDED,
        ),
    };
    let mut people: Vec<i32> = people
        .into_iter()
        .filter(|id| Some(*id) != happened.actor_id)
        .collect();
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        return Ok(());
    }
    let line = summary(txn, model, kind, shift_book).await?;
    let by = if happened.actor_name == SYSTEM {
        String::new()
    } else {
        format!("（{}）", happened.actor_name)
    };
    let tail = match happened.to {
        RequestState::Pending if kind == RequestKind::Open => {
            "，你那天有空，可以认领：先到先得。".to_owned()
        }
        RequestState::PendingPeer => "。请同意或婉拒。".to_owned(),
        RequestState::Pending => format!("，等待管理员审批{by}。"),
        RequestState::Approved if kind == RequestKind::Leave => format!("，已批准{by}。"),
        RequestState::Approved => format!("，已批准{by}，排班已更新。"),
        RequestState::Rejected => format!("，已被拒绝{by}。"),
        RequestState::Cancelled if happened.from == Some(RequestState::Approved) => {
            format!("，已撤销批准{by}，排班已恢复。")
        }
        RequestState::Cancelled => format!("，已撤回{by}。"),
        RequestState::Expired => "，班次开始时仍未处理，已过期。".to_owned(),
        RequestState::Invalidated => "，提交后排班已变更，申请已失效。".to_owned(),
    };
    let reason = happened
        .note
        .map(|note| format!("原因：{note}"))
        .unwrap_or_default();
    let title = if kind == RequestKind::Open && happened.to == RequestState::Pending {
        "空缺班次可认领".to_owned()
    } else {
        format!("{}{}", kind.label(), happened.to.label())
    };
    let body = format!("{line}{tail}{reason}");
    let notices = people
        .into_iter()
        .map(|user_id| NewNotice {
            user_id,
            request_id: Some(model.id),
            kind: notice_kind,
            dedupe_key: format!(
                "request:{}:{}:{}:{user_id}",
                model.id, happened.event_id, happened.action
            ),
            title: title.clone(),
            body: body.clone(),
        })
        .collect();
    notices::queue(txn, notices, now).await
}

/// The active people with no working shift on `date`: who may claim an open shift then.
async fn free_on(
    db: &impl ConnectionTrait,
    date: NaiveDate,
    shift_book: &ShiftBook,
) -> Result<Vec<i32>, AppError> {
    let busy: Vec<(i32, i32)> = schedule::Entity::find()
        .select_only()
        .columns([schedule::Column::UserId, schedule::Column::ShiftId])
        .filter(schedule::Column::Date.eq(date))
        .into_tuple()
        .all(db)
        .await?;
    let busy: std::collections::HashSet<i32> = busy
        .into_iter()
        .filter(|(_, shift_id)| shift_book.working(*shift_id))
        .map(|(user_id, _)| user_id)
        .collect();
    let people: Vec<i32> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(people.into_iter().filter(|id| !busy.contains(id)).collect())
}
