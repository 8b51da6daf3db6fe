//! Requests as callers see them, and what other pages read of them (the reminder rules'
//! leave, the calendar's marks).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::super::Services;
use super::super::auth::Actor;
use super::super::entity::{request, request_event, user};
use super::super::page::PageRequest;
use super::super::settings::{self};
use super::*;
use crate::AppError;
use crate::domain::request::{
    self as rule, Action, DayPart, Leave, LeaveType, RequestKind, RequestState,
};
use crate::wire::{Page, RequestEventView, RequestPerson, RequestQuery, RequestView};

/// Approved leave on `from..=to`, by person and date (for the reminder rules).
pub async fn approved_leave(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    only_users: Option<&[i32]>,
) -> Result<HashMap<(i32, NaiveDate), Leave>, AppError> {
    let mut query = request::Entity::find()
        .filter(request::Column::Kind.eq(RequestKind::Leave.as_str()))
        .filter(request::Column::State.eq(RequestState::Approved.as_str()))
        .filter(request::Column::Date.lte(to))
        .filter(request::Column::EndDate.gte(from));
    if let Some(ids) = only_users {
        query = query.filter(request::Column::RequesterId.is_in(ids.to_vec()));
    }
    let mut leave = HashMap::new();
    for model in query.all(db).await? {
        let leave_type = model
            .leave_type
            .as_deref()
            .and_then(LeaveType::parse)
            .unwrap_or(LeaveType::Other);
        let part = model
            .day_part
            .as_deref()
            .and_then(DayPart::parse)
            .unwrap_or_default();
        for date in leave_dates(&model) {
            if (from..=to).contains(&date) {
                leave.insert((model.requester_id, date), Leave { leave_type, part });
            }
        }
    }
    Ok(leave)
}

/// The active people a request may name: everyone but the caller (members see their
/// colleagues' names, as on a printed rota).
pub async fn colleagues(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<crate::wire::TeamMember>, AppError> {
    let me = actor.user_id();
    if me.is_none() && !actor.is_admin() {
        return Err(AppError::NotAPerson);
    }
    Ok(user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::DisplayName)
        .order_by_asc(user::Column::Id)
        .all(&services.db)
        .await?
        .into_iter()
        .filter(|person| Some(person.id) != me)
        .map(|person| crate::wire::TeamMember {
            id: person.id,
            username: person.username,
            display_name: person.display_name,
        })
        .collect())
}

/// What the calendar marks on each person's day from `from` to `to`: approved leave, and
/// swaps, covers and leave still undecided.
pub async fn calendar_notes(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    people: &[i32],
) -> Result<Vec<crate::wire::CalendarNote>, AppError> {
    let models = request::Entity::find()
        .filter(request::Column::Kind.ne(RequestKind::Open.as_str()))
        .filter(request::Column::State.is_in([
            RequestState::PendingPeer.as_str(),
            RequestState::Pending.as_str(),
            RequestState::Approved.as_str(),
        ]))
        .filter(request::Column::Date.lte(to))
        .filter(
            Condition::any()
                .add(request::Column::Date.gte(from))
                .add(request::Column::EndDate.gte(from))
                .add(request::Column::PeerDate.gte(from)),
        )
        .all(db)
        .await?;
    let mut notes = Vec::new();
    for model in models {
        let (Ok(kind), Ok(state)) = (parse_kind(&model), parse_state(&model)) else {
            continue;
        };
        // An approved swap or cover is in the schedule itself.
        if state == RequestState::Approved && kind != RequestKind::Leave {
            continue;
        }
        let label = match kind {
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
                    .filter(|part| *part != DayPart::Full)
                    .map_or("", DayPart::label);
                if state == RequestState::Approved {
                    format!("{leave_type}{part}")
                } else {
                    format!("{leave_type}{part}待批")
                }
            }
            _ => format!("{}待定", kind.label()),
        };
        let mut cells: Vec<(i32, NaiveDate)> = match kind {
            RequestKind::Leave => leave_dates(&model)
                .into_iter()
                .map(|date| (model.requester_id, date))
                .collect(),
            _ => {
                let mut cells = vec![(model.requester_id, model.date)];
                if let Some(peer) = model.peer_id {
                    cells.push((peer, model.peer_date.unwrap_or(model.date)));
                }
                cells
            }
        };
        cells.retain(|(user_id, date)| people.contains(user_id) && (from..=to).contains(date));
        for (user_id, date) in cells {
            notes.push(crate::wire::CalendarNote {
                user_id,
                date,
                request_id: model.id,
                label: label.clone(),
                pending: state != RequestState::Approved,
            });
        }
    }
    Ok(notes)
}

pub(super) fn person_name(person: &user::Model) -> String {
    if person.display_name.trim().is_empty() {
        person.username.clone()
    } else {
        person.display_name.clone()
    }
}

/// One request as the caller sees it.
pub async fn get(services: &Services, actor: &Actor, id: i32) -> Result<RequestView, AppError> {
    let model = request::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .filter(|model| visible(actor, model))
        .ok_or_else(|| AppError::NotFound(format!("申请 {id}")))?;
    let mut views = views(services, actor, vec![model]).await?;
    views.pop().ok_or(AppError::Internal)
}

/// Requests the caller may see, newest first, filtered.
pub async fn list(
    services: &Services,
    actor: &Actor,
    query: &RequestQuery,
) -> Result<Page<RequestView>, AppError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    if query.user_id.is_some_and(|id| id < 1) {
        return Err(AppError::invalid("user_id", "应为正整数"));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(AppError::invalid("from", "开始日期不能晚于结束日期"));
    }
    let mut select = request::Entity::find();
    if !actor.is_admin() {
        let me = actor.require_user()?.id;
        select = select.filter(
            Condition::any()
                .add(request::Column::RequesterId.eq(me))
                .add(request::Column::PeerId.eq(me))
                .add(request::Column::Kind.eq(RequestKind::Open.as_str())),
        );
    }
    if let Some(state) = query.state {
        select = select.filter(request::Column::State.eq(state.as_str()));
    }
    if let Some(kind) = query.kind {
        select = select.filter(request::Column::Kind.eq(kind.as_str()));
    }
    if let Some(person) = query.user_id {
        select = select.filter(
            Condition::any()
                .add(request::Column::RequesterId.eq(person))
                .add(request::Column::PeerId.eq(person)),
        );
    }
    if let Some(to) = query.to {
        select = select.filter(request::Column::Date.lte(to));
    }
    if let Some(from) = query.from {
        select = select.filter(
            Condition::any()
                .add(request::Column::Date.gte(from))
                .add(request::Column::EndDate.gte(from))
                .add(request::Column::PeerDate.gte(from)),
        );
    }
    let total = select.clone().count(&services.db).await?;
    let models = select
        .order_by_desc(request::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&services.db)
        .await?;
    Ok(Page {
        items: views(services, actor, models).await?,
        total,
    })
}

pub(super) async fn views(
    services: &Services,
    actor: &Actor,
    models: Vec<request::Model>,
) -> Result<Vec<RequestView>, AppError> {
    let db = &services.db;
    let tz = services.settings.timezone.tz();
    let settings = settings::effective(services).await?;
    let shift_book = ShiftBook::load(db).await?;
    let people: BTreeSet<i32> = models
        .iter()
        .flat_map(|model| [Some(model.requester_id), model.peer_id])
        .flatten()
        .collect();
    let names: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person_name(&person)))
        .collect();
    let ids: Vec<i32> = models.iter().map(|model| model.id).collect();
    let mut history: HashMap<i32, Vec<RequestEventView>> = HashMap::new();
    for event in request_event::Entity::find()
        .filter(request_event::Column::RequestId.is_in(ids))
        .order_by_asc(request_event::Column::Id)
        .all(db)
        .await?
    {
        let action_label = match Action::ALL
            .into_iter()
            .find(|action| action.as_str() == event.action)
        {
            Some(action) => action.label().to_owned(),
            None => "提交".to_owned(),
        };
        history
            .entry(event.request_id)
            .or_default()
            .push(RequestEventView {
                action: event.action,
                action_label,
                from_state: event.from_state.as_deref().and_then(RequestState::parse),
                to_state: RequestState::parse(&event.to_state).unwrap_or(RequestState::Pending),
                actor: event.actor_name,
                note: event.note,
                at: event.at,
            });
    }
    let person = |id: i32| RequestPerson {
        id,
        name: names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("用户 {id}")),
    };
    let mut views = Vec::with_capacity(models.len());
    for model in models {
        let kind = parse_kind(&model)?;
        let state = parse_state(&model)?;
        let cells = cells_from_json(model.cells_before.as_deref())?;
        let cell = |user_id: i32, date: NaiveDate| {
            cells
                .get(&(user_id, date))
                .copied()
                .flatten()
                .and_then(|id| shift_book.view(id))
        };
        let (shift, peer_shift) = match kind {
            RequestKind::Leave => (None, None),
            RequestKind::Open => (model.shift_id.and_then(|id| shift_book.view(id)), None),
            RequestKind::Swap => (
                cell(model.requester_id, model.date),
                model
                    .peer_id
                    .and_then(|peer| cell(peer, model.peer_date.unwrap_or(model.date))),
            ),
            RequestKind::Cover => (cell(model.requester_id, model.date), None),
        };
        let rules_actor = rule_actor(actor, &model);
        let actions: Vec<Action> = [
            Action::Accept,
            Action::Decline,
            Action::Approve,
            Action::Reject,
            Action::Cancel,
            Action::Claim,
            Action::Revoke,
        ]
        .into_iter()
        .filter(|action| {
            rule::transition(kind, state, *action, rules_actor, settings.request_policy).is_ok()
        })
        .filter(|action| {
            *action != Action::Claim
                || (actor.user_id().is_some() && actor.user_id() != Some(model.requester_id))
        })
        .collect();
        let warnings = if actor.is_admin()
            && state.is_undecided()
            && matches!(kind, RequestKind::Swap | RequestKind::Cover)
            && let Some(handover) = handover_of(&model, kind, None)
        {
            let before = read_cells(db, &handover.cells()).await?;
            match handover.apply(&before, |id| shift_book.working(id)) {
                Ok(after) => rule_breaches(db, &shift_book, &settings, &before, &after, tz).await?,
                Err(error) => vec![format!("排班已变更，无法执行：{}", error.message)],
            }
        } else {
            Vec::new()
        };
        views.push(RequestView {
            id: model.id,
            kind,
            kind_label: kind.label().to_owned(),
            state,
            state_label: state.label().to_owned(),
            requester: person(model.requester_id),
            peer: model.peer_id.map(person),
            date: model.date,
            end_date: model.end_date,
            peer_date: model.peer_date,
            shift,
            peer_shift,
            leave_type: model.leave_type.as_deref().and_then(LeaveType::parse),
            part: model.day_part.as_deref().and_then(DayPart::parse),
            reason: model.reason,
            decision_reason: model.decision_reason,
            starts_at: model.starts_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
            actions,
            warnings,
            history: history.remove(&model.id).unwrap_or_default(),
        });
    }
    Ok(views)
}

/// How many requests wait for `actor`: for admins, those to approve or reject; for others,
/// the swaps and covers they are asked to accept.
pub async fn waiting_for(db: &impl ConnectionTrait, actor: &Actor) -> Result<u64, AppError> {
    let select = request::Entity::find();
    let select = if actor.is_admin() {
        select
            .filter(request::Column::State.eq(RequestState::Pending.as_str()))
            .filter(request::Column::Kind.ne(RequestKind::Open.as_str()))
    } else {
        let Some(me) = actor.user_id() else {
            return Ok(0);
        };
        select
            .filter(request::Column::State.eq(RequestState::PendingPeer.as_str()))
            .filter(request::Column::PeerId.eq(me))
    };
    Ok(select.count(db).await?)
}
