//! Requests (申请): leave, swaps, covers and open shifts, decided by the people they name
//! and by admins (`domain::request` holds who may do what). An approval changes the plan in
//! the transaction that records it: schedule cells change hands (`domain::handover`) or the
//! days count as leave; queued reminders that no longer apply are cancelled, and a new owner
//! whose clock-in reminder time has already passed is reminded at once. Every step is an
//! event in the request's append-only history.
//!
//! Concurrency: the state moves by one conditional UPDATE (`WHERE state = <the state it was
//! decided from>`) before anything else is written, so of two people claiming one open shift
//! at once (or an admin approving what the requester is cancelling) exactly one wins, on
//! SQLite and on PostgreSQL; the loser's transaction writes nothing and answers 409.

mod announce;
mod cells;
mod replan;
mod views;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::channels::ChannelBook;
use super::entity::{request, request_event, schedule, user};
use super::settings::{self, ReminderSettings};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::handover::{self, Cells, Handover};
use crate::domain::request::{
    self as rule, Action, DayPart, RequestError, RequestKind, RequestState,
};
use crate::wire::{NewRequest, RequestDecision, RequestView};

use announce::*;
use cells::*;
use replan::*;
use views::person_name;
pub use views::{approved_leave, calendar_notes, colleagues, get, list, waiting_for};

/// How far ahead a request may reach.
const MAX_DAYS_AHEAD: i64 = 366;
/// Days around a change loaded to check the working-time rules (a week either side covers
/// the longest rule, six workdays in a row, and the week's hours).
const RULE_CONTEXT_DAYS: i64 = 8;
/// The history's name for the server itself.
const SYSTEM: &str = "system";

fn refusal(field: &'static str) -> impl Fn(RequestError) -> AppError {
    move |error| match error {
        RequestError::Forbidden(message) => AppError::Refused(message),
        RequestError::Conflict(message) => AppError::conflict("state", message),
        RequestError::Invalid(message) => AppError::invalid(field, message),
    }
}

fn parse_kind(model: &request::Model) -> Result<RequestKind, AppError> {
    RequestKind::parse(&model.kind).ok_or_else(|| {
        tracing::error!(id = model.id, kind = %model.kind, "a stored request of no known kind");
        AppError::Internal
    })
}

fn parse_state(model: &request::Model) -> Result<RequestState, AppError> {
    RequestState::parse(&model.state).ok_or_else(|| {
        tracing::error!(id = model.id, state = %model.state, "a stored request in no known state");
        AppError::Internal
    })
}

fn check_date(field: &'static str, date: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if date < today {
        return Err(AppError::invalid(field, format!("{date} 已经过去")));
    }
    if (date - today).num_days() > MAX_DAYS_AHEAD {
        return Err(AppError::invalid(
            field,
            format!("最多只能申请 {MAX_DAYS_AHEAD} 天以内的日期"),
        ));
    }
    Ok(())
}

async fn active_person(
    db: &impl ConnectionTrait,
    field: &'static str,
    id: i32,
) -> Result<user::Model, AppError> {
    let person = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::missing(field, format!("用户 {id} 不存在")))?;
    if !person.active {
        return Err(AppError::conflict(field, format!("用户 {id} 已停用")));
    }
    Ok(person)
}

/// Creates a request; answers it as the caller sees it.
pub async fn create(
    services: &Services,
    actor: &Actor,
    input: NewRequest,
) -> Result<RequestView, AppError> {
    let now = services.clock.now();
    let today = services.today();
    let tz = services.settings.timezone.tz();
    let (kind, for_user, written) = match &input {
        NewRequest::Leave {
            user_id, reason, ..
        } => (RequestKind::Leave, *user_id, reason),
        NewRequest::Swap {
            user_id, reason, ..
        } => (RequestKind::Swap, *user_id, reason),
        NewRequest::Cover {
            user_id, reason, ..
        } => (RequestKind::Cover, *user_id, reason),
        NewRequest::Open { reason, .. } => (RequestKind::Open, None, reason),
    };
    let requester = match for_user {
        Some(id) => id,
        None => actor.require_user()?.id,
    };
    rule::may_create(kind, actor.is_admin(), actor.user_id() == Some(requester))
        .map_err(refusal("user_id"))?;
    let reason = rule::note(written.as_deref()).map_err(refusal("reason"))?;

    let txn = services.begin_write().await?;
    active_person(&txn, "user_id", requester).await?;
    let shift_book = ShiftBook::load(&txn).await?;
    let mut model = request::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        state: Set(kind.initial_state().as_str().to_owned()),
        requester_id: Set(requester),
        reason: Set(reason),
        created_by: Set(actor.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    match input {
        NewRequest::Leave {
            from,
            to,
            leave_type,
            part,
            ..
        } => {
            let days = rule::leave_days(from, to).map_err(refusal("to"))?;
            let part = part.unwrap_or_default();
            if part != DayPart::Full && days > 1 {
                return Err(AppError::invalid("part", "半天假只能请一天"));
            }
            check_date("from", from, today)?;
            check_date("to", to, today)?;
            let overlapping = request::Entity::find()
                .filter(request::Column::Kind.eq(RequestKind::Leave.as_str()))
                .filter(request::Column::RequesterId.eq(requester))
                .filter(request::Column::State.is_in([
                    RequestState::Pending.as_str(),
                    RequestState::Approved.as_str(),
                ]))
                .filter(request::Column::Date.lte(to))
                .filter(request::Column::EndDate.gte(from))
                .one(&txn)
                .await?;
            if let Some(other) = overlapping {
                return Err(AppError::conflict(
                    "from",
                    format!("与已有的请假申请 #{} 日期重叠", other.id),
                ));
            }
            // Undecided when the first shift of the leave starts, it expires; with no
            // shift in it, at the end of its last day.
            let starts = schedule::Entity::find()
                .filter(schedule::Column::UserId.eq(requester))
                .filter(schedule::Column::Date.between(from, to))
                .order_by_asc(schedule::Column::Date)
                .all(&txn)
                .await?
                .into_iter()
                .filter(|row| shift_book.working(row.shift_id))
                .filter_map(|row| shift_book.span(row.shift_id, row.date, tz))
                .map(|(start, _)| start)
                .find(|start| *start > now);
            let end_of_leave = crate::domain::shift::resolve_local(
                tz,
                to.succ_opt()
                    .unwrap_or(to)
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            );
            model.date = Set(from);
            model.end_date = Set(Some(to));
            model.leave_type = Set(Some(leave_type.as_str().to_owned()));
            model.day_part = Set(Some(part.as_str().to_owned()));
            model.starts_at = Set(starts.unwrap_or(end_of_leave));
        }
        NewRequest::Swap {
            date,
            peer_id,
            peer_date,
            ..
        } => {
            let peer_date = peer_date.unwrap_or(date);
            check_date("date", date, today)?;
            check_date("peer_date", peer_date, today)?;
            active_person(&txn, "peer_id", peer_id).await?;
            let handover = Handover::Swap {
                requester,
                date,
                peer: peer_id,
                peer_date,
            };
            let before = read_cells(&txn, &handover.cells()).await?;
            handover
                .apply(&before, |id| shift_book.working(id))
                .map_err(|error| AppError::invalid(error.field, error.message))?;
            let starts_at = first_start(
                &shift_book,
                &before,
                &[(requester, date), (peer_id, peer_date)],
                tz,
            );
            model.starts_at = Set(started_check(starts_at, now)?);
            model.date = Set(date);
            model.peer_id = Set(Some(peer_id));
            model.peer_date = Set(Some(peer_date));
            model.cells_before = Set(Some(cells_to_json(&before)));
        }
        NewRequest::Cover { date, peer_id, .. } => {
            check_date("date", date, today)?;
            active_person(&txn, "peer_id", peer_id).await?;
            let handover = Handover::Cover {
                requester,
                date,
                peer: peer_id,
            };
            let before = read_cells(&txn, &handover.cells()).await?;
            handover
                .apply(&before, |id| shift_book.working(id))
                .map_err(|error| AppError::invalid(error.field, error.message))?;
            let starts_at = first_start(&shift_book, &before, &[(requester, date)], tz);
            model.starts_at = Set(started_check(starts_at, now)?);
            model.date = Set(date);
            model.peer_id = Set(Some(peer_id));
            model.cells_before = Set(Some(cells_to_json(&before)));
        }
        NewRequest::Open { date, shift_id, .. } => {
            check_date("date", date, today)?;
            let Some(posted) = shift_book.0.get(&shift_id) else {
                return Err(AppError::missing(
                    "shift_id",
                    format!("班次 {shift_id} 不存在"),
                ));
            };
            if !posted.active || posted.rest {
                return Err(AppError::invalid(
                    "shift_id",
                    format!(
                        "班次“{}”已归档或是休息班，不能作为空缺班次发布",
                        posted.name
                    ),
                ));
            }
            let start = shift_book.span(shift_id, date, tz).map(|(start, _)| start);
            model.starts_at = Set(started_check(start, now)?);
            model.date = Set(date);
            model.shift_id = Set(Some(shift_id));
        }
    }
    let inserted = request::Entity::insert(model).exec(&txn).await?;
    let id = inserted.last_insert_id;
    let event_id = record_event(
        &txn,
        id,
        "create",
        None,
        kind.initial_state(),
        actor_ref(actor),
        None,
        now,
    )
    .await?;
    let stored = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    let happened = Happened {
        event_id,
        action: "create",
        from: None,
        to: kind.initial_state(),
        actor_id: actor.user_id(),
        actor_name: actor.name(),
        note: stored.reason.as_deref(),
    };
    queue_notices(&txn, &stored, kind, &shift_book, &happened, now).await?;
    txn.commit().await?;
    get(services, actor, id).await
}

/// When the first of `keys`' shifts starts (the cells as in `cells`).
fn first_start(
    shift_book: &ShiftBook,
    cells: &Cells,
    keys: &[(i32, NaiveDate)],
    tz: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    keys.iter()
        .filter_map(|key| {
            let shift_id = cells.get(key).copied().flatten()?;
            shift_book.span(shift_id, key.1, tz).map(|(start, _)| start)
        })
        .min()
}

fn started_check(
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    match start {
        Some(start) if start > now => Ok(start),
        _ => Err(AppError::invalid("date", "班次已经开始，不能再申请")),
    }
}

/// Who acted, for the history: (user id, name).
fn actor_ref(actor: &Actor) -> (Option<i32>, String) {
    (actor.user_id(), actor.name().to_owned())
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    txn: &DatabaseTransaction,
    request_id: i32,
    action: &str,
    from: Option<RequestState>,
    to: RequestState,
    (actor_id, actor_name): (Option<i32>, String),
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<i32, AppError> {
    let inserted = request_event::Entity::insert(request_event::ActiveModel {
        request_id: Set(request_id),
        action: Set(action.to_owned()),
        from_state: Set(from.map(|state| state.as_str().to_owned())),
        to_state: Set(to.as_str().to_owned()),
        actor_id: Set(actor_id),
        actor_name: Set(actor_name),
        note: Set(note.map(|note| crate::domain::channel::truncate_chars(&note, 500))),
        at: Set(at),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(inserted.last_insert_id)
}

/// The rules' view of the caller on this request.
fn rule_actor(actor: &Actor, model: &request::Model) -> rule::Actor {
    let me = actor.user_id();
    rule::Actor {
        is_admin: actor.is_admin(),
        is_requester: me.is_some() && me == Some(model.requester_id),
        is_peer: me.is_some() && me == model.peer_id,
        is_system: false,
    }
}

/// Members see what they asked for or are named in, and open shifts.
fn visible(actor: &Actor, model: &request::Model) -> bool {
    let me = actor.user_id();
    actor.is_admin()
        || me == Some(model.requester_id)
        || (me.is_some() && me == model.peer_id)
        || model.kind == RequestKind::Open.as_str()
}

/// Moves the request from `from` to `to` unless someone else moved it first.
async fn move_state(
    txn: &DatabaseTransaction,
    id: i32,
    from: RequestState,
    to: RequestState,
    now: DateTime<Utc>,
    extra: impl FnOnce(sea_orm::UpdateMany<request::Entity>) -> sea_orm::UpdateMany<request::Entity>,
) -> Result<(), AppError> {
    let update = request::Entity::update_many()
        .col_expr(request::Column::State, Expr::value(to.as_str()))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::State.eq(from.as_str()));
    let moved = extra(update).exec(txn).await?.rows_affected;
    if moved == 1 {
        Ok(())
    } else {
        Err(AppError::conflict(
            "state",
            "这个申请刚被别人处理了，请刷新后再看",
        ))
    }
}

/// Takes `action` on request `id` as `actor`.
pub async fn act(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
    action: Action,
    decision: RequestDecision,
) -> Result<RequestView, AppError> {
    if matches!(action, Action::Expire | Action::Invalidate) {
        return Err(AppError::Refused("只有系统能让申请过期或失效".to_owned()));
    }
    let settings = settings::effective(services).await?;
    // Read before the write transaction: channels do not change with requests.
    let book = ChannelBook::load(services).await?;
    let now = services.clock.now();
    let tz = services.settings.timezone.tz();
    let claimant = if action == Action::Claim {
        Some(actor.require_user()?.id)
    } else {
        None
    };
    let reason = rule::reason(action, decision.reason.as_deref()).map_err(refusal("reason"))?;

    let txn = services.begin_write().await?;
    let model = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("申请 {id}")))?;
    if !visible(actor, &model) {
        return Err(AppError::Refused(
            "只有申请人、被邀请的同事和管理员能处理这个申请".to_owned(),
        ));
    }
    let kind = parse_kind(&model)?;
    let state = parse_state(&model)?;
    let next = rule::transition(
        kind,
        state,
        action,
        rule_actor(actor, &model),
        settings.request_policy,
    )
    .map_err(refusal("reason"))?;
    if action == Action::Claim && claimant == Some(model.requester_id) && !actor.is_admin() {
        return Err(AppError::Refused("不能认领自己发布的空缺班次".to_owned()));
    }
    let shift_book = ShiftBook::load(&txn).await?;
    let handover = handover_of(&model, kind, claimant);

    // A swap or cover whose cells changed since it was made is no longer what was agreed.
    if matches!(action, Action::Accept | Action::Approve)
        && let Some(handover) = handover.filter(|_| kind != RequestKind::Open)
    {
        let stored = cells_from_json(model.cells_before.as_deref())?;
        let current = read_cells(&txn, &handover.cells()).await?;
        let changed = handover::changed_cells(&stored, &current);
        if !changed.is_empty() {
            let note = format!(
                "排班已变更：{}",
                changed
                    .iter()
                    .map(|(user_id, date)| format!("用户 {user_id} {date}"))
                    .collect::<Vec<_>>()
                    .join("、")
            );
            move_state(&txn, id, state, RequestState::Invalidated, now, |update| {
                update
            })
            .await?;
            let event_id = record_event(
                &txn,
                id,
                Action::Invalidate.as_str(),
                Some(state),
                RequestState::Invalidated,
                (None, SYSTEM.to_owned()),
                Some(note),
                now,
            )
            .await?;
            let happened = Happened {
                event_id,
                action: Action::Invalidate.as_str(),
                from: Some(state),
                to: RequestState::Invalidated,
                actor_id: None,
                actor_name: SYSTEM,
                note: None,
            };
            queue_notices(&txn, &model, kind, &shift_book, &happened, now).await?;
            txn.commit().await?;
            return Err(AppError::conflict(
                "state",
                "申请提交后排班已经变更，申请已失效，请重新申请",
            ));
        }
    }

    // The state moves first, so that of two concurrent deciders only one goes on.
    let decision_reason = reason.clone().filter(|_| action.needs_reason());
    move_state(&txn, id, state, next, now, |mut update| {
        if let Some(claimant) = claimant {
            update = update.col_expr(request::Column::PeerId, Expr::value(claimant));
        }
        if let Some(text) = decision_reason {
            update = update.col_expr(request::Column::DecisionReason, Expr::value(text));
        }
        update
    })
    .await?;

    let mut note = reason;
    let mut change = PlanChange::default();
    if next == RequestState::Approved {
        let (approved, warned) = approve_plan(
            &txn,
            &model,
            handover,
            &shift_book,
            &settings,
            tz,
            (action, decision.confirm == Some(true)),
            (actor.user_id(), now),
        )
        .await?;
        change = approved;
        if let Some(warned) = warned {
            note = Some(match note {
                Some(text) => format!("{text}（{warned}）"),
                None => warned,
            });
        }
    }
    if action == Action::Revoke {
        change = revoke_plan(&txn, &model, handover, actor.user_id(), now).await?;
    }
    let event_id = record_event(
        &txn,
        id,
        action.as_str(),
        Some(state),
        next,
        actor_ref(actor),
        note.clone(),
        now,
    )
    .await?;
    replan(&txn, tz, &settings, &book, &change.cells, id, now).await?;
    let stored = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    let happened = Happened {
        event_id,
        action: action.as_str(),
        from: Some(state),
        to: next,
        actor_id: actor.user_id(),
        actor_name: actor.name(),
        note: note.as_deref(),
    };
    queue_notices(&txn, &stored, kind, &shift_book, &happened, now).await?;
    // Decisions go to the audit log too: approvals (also automatic ones and claims),
    // rejections and revokes, with the schedule cells they changed.
    let decided = match action {
        Action::Approve | Action::Reject | Action::Revoke | Action::Claim => true,
        Action::Accept => next == RequestState::Approved,
        _ => false,
    };
    if decided {
        let detail = decision_detail(&txn, &stored, kind, &shift_book, next, &change).await?;
        audit::record(
            &txn,
            now,
            AuditEvent::by(actor, AuditKind::RequestDecided, meta)
                .about(&format!("申请 #{id}"))
                .detail(detail),
        )
        .await?;
    }
    txn.commit().await?;
    get(services, actor, id).await
}

/// What an approval or a revoke changed: the cells whose reminders follow, and for swaps,
/// covers and claims the cells before and after.
#[derive(Default)]
struct PlanChange {
    cells: Vec<(i32, NaiveDate)>,
    moved: Option<(Cells, Cells)>,
}

/// Applies an approval (or a claim, or an automatic approval): the handover written, or the
/// leave's days named; with the working-time rules checked first. Also says which rules it
/// breaks when they only warn.
#[allow(clippy::too_many_arguments)]
async fn approve_plan(
    txn: &DatabaseTransaction,
    model: &request::Model,
    handover: Option<Handover>,
    shift_book: &ShiftBook,
    settings: &ReminderSettings,
    tz: chrono_tz::Tz,
    (action, confirmed): (Action, bool),
    (by, now): (Option<i32>, DateTime<Utc>),
) -> Result<(PlanChange, Option<String>), AppError> {
    let Some(handover) = handover else {
        let cells = leave_dates(model)
            .into_iter()
            .map(|date| (model.requester_id, date))
            .collect();
        return Ok((PlanChange { cells, moved: None }, None));
    };
    let before = read_cells(txn, &handover.cells()).await?;
    let after = handover
        .apply(&before, |id| shift_book.working(id))
        .map_err(|error| AppError::conflict(error.field, error.message))?;
    let breaches = rule_breaches(txn, shift_book, settings, &before, &after, tz).await?;
    let mut warned = None;
    if !breaches.is_empty() {
        let listed = breaches.join("；");
        if settings.refuse_rule_breaches {
            return Err(AppError::conflict(
                "state",
                format!("违反工时规则，不能批准：{listed}"),
            ));
        }
        // An admin confirms; a claim or an automatic approval notes them.
        if action == Action::Approve && !confirmed {
            return Err(AppError::conflict(
                "confirm",
                format!(
                    "批准后将违反工时规则：{listed}。确认仍要批准请再提交一次并勾选确认（confirm: true）"
                ),
            ));
        }
        warned = Some(format!("工时提醒：{listed}"));
    }
    write_cells(txn, &after, by, now).await?;
    request::Entity::update_many()
        .col_expr(
            request::Column::CellsBefore,
            Expr::value(cells_to_json(&before)),
        )
        .col_expr(
            request::Column::CellsAfter,
            Expr::value(cells_to_json(&after)),
        )
        .filter(request::Column::Id.eq(model.id))
        .exec(txn)
        .await?;
    let cells = handover::changed_cells(&before, &after);
    Ok((
        PlanChange {
            cells,
            moved: Some((before, after)),
        },
        warned,
    ))
}

/// Takes an approval back: a leave's days count again; a handover's cells are written back,
/// unless the schedule was edited since (then an admin edits it by hand).
async fn revoke_plan(
    txn: &DatabaseTransaction,
    model: &request::Model,
    handover: Option<Handover>,
    by: Option<i32>,
    now: DateTime<Utc>,
) -> Result<PlanChange, AppError> {
    if handover.is_none() {
        let cells = leave_dates(model)
            .into_iter()
            .map(|date| (model.requester_id, date))
            .collect();
        return Ok(PlanChange { cells, moved: None });
    }
    let before = cells_from_json(model.cells_before.as_deref())?;
    let after = cells_from_json(model.cells_after.as_deref())?;
    let keys: Vec<_> = after.keys().copied().collect();
    let current = read_cells(txn, &keys).await?;
    if !handover::changed_cells(&after, &current).is_empty() {
        return Err(AppError::conflict(
            "state",
            "批准后排班又被修改过，不能自动恢复：请直接修改排班",
        ));
    }
    write_cells(txn, &before, by, now).await?;
    Ok(PlanChange {
        cells: handover::changed_cells(&after, &before),
        moved: Some((after, before)),
    })
}

/// The audit log's account of a decision: the request, its new state, and each schedule
/// cell it changed ("alice 2026-12-08：A班 → B班").
async fn decision_detail(
    db: &impl ConnectionTrait,
    model: &request::Model,
    kind: RequestKind,
    shift_book: &ShiftBook,
    state: RequestState,
    change: &PlanChange,
) -> Result<String, AppError> {
    let mut detail = format!(
        "{}：{}",
        summary(db, model, kind, shift_book).await?,
        state.label()
    );
    if let Some(reason) = &model.decision_reason {
        detail.push_str(&format!("（{reason}）"));
    }
    let Some((from, to)) = &change.moved else {
        return Ok(detail);
    };
    let people: Vec<i32> = to.keys().map(|(user_id, _)| *user_id).collect();
    let names: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person.username))
        .collect();
    let shift_name = |cell: Option<i32>| {
        cell.and_then(|id| shift_book.0.get(&id))
            .map_or_else(|| "（无）".to_owned(), |shift| shift.name.clone())
    };
    for key in handover::changed_cells(from, to) {
        let (user_id, date) = key;
        detail.push_str(&format!(
            "\n{} {date}：{} → {}",
            names
                .get(&user_id)
                .cloned()
                .unwrap_or_else(|| user_id.to_string()),
            shift_name(from.get(&key).copied().flatten()),
            shift_name(to.get(&key).copied().flatten()),
        ));
    }
    Ok(detail)
}

/// Requests still undecided when their shift starts expire (the worker, each tick).
pub async fn expire_due(services: &Services) -> Result<u64, AppError> {
    let now = services.clock.now();
    let due: Vec<(i32, String)> = request::Entity::find()
        .select_only()
        .columns([request::Column::Id, request::Column::State])
        .filter(request::Column::State.is_in([
            RequestState::PendingPeer.as_str(),
            RequestState::Pending.as_str(),
        ]))
        .filter(request::Column::StartsAt.lte(now))
        .order_by_asc(request::Column::Id)
        .limit(200)
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut expired = 0;
    for (id, raw_state) in due {
        let Some(state) = RequestState::parse(&raw_state) else {
            continue;
        };
        let txn = services.begin_write().await?;
        // Someone may have decided it meanwhile: then it is theirs.
        if move_state(&txn, id, state, RequestState::Expired, now, |update| update)
            .await
            .is_err()
        {
            continue;
        }
        let event_id = record_event(
            &txn,
            id,
            Action::Expire.as_str(),
            Some(state),
            RequestState::Expired,
            (None, SYSTEM.to_owned()),
            Some("班次开始时仍未处理".to_owned()),
            now,
        )
        .await?;
        if let Some(model) = request::Entity::find_by_id(id).one(&txn).await?
            && let Ok(kind) = parse_kind(&model)
        {
            let shift_book = ShiftBook::load(&txn).await?;
            let happened = Happened {
                event_id,
                action: Action::Expire.as_str(),
                from: Some(state),
                to: RequestState::Expired,
                actor_id: None,
                actor_name: SYSTEM,
                note: None,
            };
            queue_notices(&txn, &model, kind, &shift_book, &happened, now).await?;
        }
        txn.commit().await?;
        expired += 1;
    }
    Ok(expired)
}
