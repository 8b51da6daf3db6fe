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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::auth::Actor;
use super::channels::{ChannelBook, NO_CHANNEL};
use super::entity::{delivery, request, request_event, schedule, shift, user};
use super::page::PageRequest;
use super::reminders::{rules, status, tick};
use super::settings::{self, ReminderSettings};
use super::{Services, shifts};
use crate::AppError;
use crate::domain::handover::{self, Cells, Handover};
use crate::domain::reminder::{self, Reminder, ReminderKind, ScheduledDay};
use crate::domain::request::{
    self as rule, Action, DayPart, Leave, LeaveType, RequestError, RequestKind, RequestState,
};
use crate::domain::work_rules::{self, Duty};
use crate::wire::{
    NewRequest, Page, RequestDecision, RequestEventView, RequestPerson, RequestQuery, RequestShift,
    RequestView,
};

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

fn cells_to_json(cells: &Cells) -> String {
    let rows: Vec<(i32, NaiveDate, Option<i32>)> = cells
        .iter()
        .map(|(&(user_id, date), &shift_id)| (user_id, date, shift_id))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

fn cells_from_json(raw: Option<&str>) -> Result<Cells, AppError> {
    let Some(raw) = raw else {
        return Ok(Cells::new());
    };
    let rows: Vec<(i32, NaiveDate, Option<i32>)> = serde_json::from_str(raw).map_err(|error| {
        tracing::error!(%error, "a stored request's cells do not read");
        AppError::Internal
    })?;
    Ok(rows
        .into_iter()
        .map(|(user_id, date, shift_id)| ((user_id, date), shift_id))
        .collect())
}

/// The cells' current content.
async fn read_cells(
    db: &impl ConnectionTrait,
    keys: &[(i32, NaiveDate)],
) -> Result<Cells, AppError> {
    let mut cells: Cells = keys.iter().map(|key| (*key, None)).collect();
    if keys.is_empty() {
        return Ok(cells);
    }
    let users: BTreeSet<i32> = keys.iter().map(|(user_id, _)| *user_id).collect();
    let dates: BTreeSet<NaiveDate> = keys.iter().map(|(_, date)| *date).collect();
    let rows: Vec<(i32, NaiveDate, i32)> = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
        ])
        .filter(schedule::Column::UserId.is_in(users))
        .filter(schedule::Column::Date.is_in(dates))
        .into_tuple()
        .all(db)
        .await?;
    for (user_id, date, shift_id) in rows {
        if let Some(cell) = cells.get_mut(&(user_id, date)) {
            *cell = Some(shift_id);
        }
    }
    Ok(cells)
}

/// Writes the cells: a shift, or no entry.
async fn write_cells(
    txn: &DatabaseTransaction,
    cells: &Cells,
    by: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for (&(user_id, date), &shift_id) in cells {
        match shift_id {
            None => {
                schedule::Entity::delete_many()
                    .filter(schedule::Column::UserId.eq(user_id))
                    .filter(schedule::Column::Date.eq(date))
                    .exec(txn)
                    .await?;
            }
            Some(shift_id) => {
                schedule::Entity::insert(schedule::ActiveModel {
                    user_id: Set(user_id),
                    date: Set(date),
                    shift_id: Set(shift_id),
                    note: Set(None),
                    updated_by: Set(by),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::columns([schedule::Column::UserId, schedule::Column::Date])
                        .update_columns([
                            schedule::Column::ShiftId,
                            schedule::Column::UpdatedBy,
                            schedule::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            }
        }
    }
    Ok(())
}

/// The shifts by id, and whether one is worked (a rest shift is not).
struct ShiftBook(HashMap<i32, shift::Model>);

impl ShiftBook {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, AppError> {
        Ok(Self(
            shifts::all_models(db)
                .await?
                .into_iter()
                .map(|model| (model.id, model))
                .collect(),
        ))
    }

    fn working(&self, id: i32) -> bool {
        self.0.get(&id).is_some_and(|model| !model.rest)
    }

    /// When the shift starts and ends on `date`.
    fn span(
        &self,
        id: i32,
        date: NaiveDate,
        tz: chrono_tz::Tz,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let model = self.0.get(&id)?;
        Some(shifts::hours_of(model)?.span_on(date, tz))
    }

    fn view(&self, id: i32) -> Option<RequestShift> {
        let model = self.0.get(&id)?;
        Some(RequestShift {
            id,
            name: model.name.clone(),
            hours: format!("{}-{}", model.start_time, model.end_time),
        })
    }
}

/// The handover a swap, cover or claimed open shift makes (`claimant` for open shifts).
fn handover_of(
    model: &request::Model,
    kind: RequestKind,
    claimant: Option<i32>,
) -> Option<Handover> {
    match kind {
        RequestKind::Leave => None,
        RequestKind::Swap => Some(Handover::Swap {
            requester: model.requester_id,
            date: model.date,
            peer: model.peer_id?,
            peer_date: model.peer_date.unwrap_or(model.date),
        }),
        RequestKind::Cover => Some(Handover::Cover {
            requester: model.requester_id,
            date: model.date,
            peer: model.peer_id?,
        }),
        RequestKind::Open => Some(Handover::Claim {
            claimant: claimant.or(model.peer_id)?,
            date: model.date,
            shift_id: model.shift_id?,
        }),
    }
}

fn leave_dates(model: &request::Model) -> Vec<NaiveDate> {
    let last = model.end_date.unwrap_or(model.date);
    model
        .date
        .iter_days()
        .take_while(|date| *date <= last)
        .take(rule::MAX_LEAVE_DAYS as usize)
        .collect()
}

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
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|person| person.active)
        .ok_or_else(|| AppError::invalid(field, format!("用户 {id} 不存在或已停用")))
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
                return Err(AppError::invalid(
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

/// What happened, for the notices about it.
struct Happened<'a> {
    event_id: i32,
    action: &'a str,
    from: Option<RequestState>,
    to: RequestState,
    actor_id: Option<i32>,
    actor_name: &'a str,
    note: Option<&'a str>,
}

/// The request in one line, as notices say it.
async fn summary(
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
async fn queue_notices(
    txn: &DatabaseTransaction,
    model: &request::Model,
    kind: RequestKind,
    shift_book: &ShiftBook,
    happened: &Happened<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use super::notices::{self, NewNotice};
    let people_in_it = [Some(model.requester_id), model.peer_id];
    let (people, notice_kind): (Vec<i32>, &'static str) = match happened.to {
        RequestState::PendingPeer => (model.peer_id.into_iter().collect(), notices::kind::ASKED),
        RequestState::Pending if kind == RequestKind::Open => (Vec::new(), notices::kind::WAITING),
        RequestState::Pending => (
            notices::admins(txn, happened.actor_id).await?,
            notices::kind::WAITING,
        ),
        // Withdrawn before the colleague was asked to do anything more: both still hear.
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
    let title = format!("{}{}", kind.label(), happened.to.label());
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
    let mut changed_cells: Vec<(i32, NaiveDate)> = Vec::new();
    if next == RequestState::Approved {
        match handover {
            None => {
                changed_cells = leave_dates(&model)
                    .into_iter()
                    .map(|date| (model.requester_id, date))
                    .collect()
            }
            Some(handover) => {
                let before = read_cells(&txn, &handover.cells()).await?;
                let after = handover
                    .apply(&before, |id| shift_book.working(id))
                    .map_err(|error| AppError::conflict(error.field, error.message))?;
                let breaches =
                    rule_breaches(&txn, &shift_book, &settings, &before, &after, tz).await?;
                if !breaches.is_empty() {
                    let listed = breaches.join("；");
                    if settings.refuse_rule_breaches {
                        return Err(AppError::conflict(
                            "state",
                            format!("违反工时规则，不能批准：{listed}"),
                        ));
                    }
                    // An admin confirms; a claim or an automatic approval notes them.
                    if action == Action::Approve && decision.confirm != Some(true) {
                        return Err(AppError::conflict(
                            "confirm",
                            format!(
                                "批准后将违反工时规则：{listed}。确认仍要批准请再提交一次并勾选确认（confirm: true）"
                            ),
                        ));
                    }
                    let warned = format!("工时提醒：{listed}");
                    note = Some(match note {
                        Some(text) => format!("{text}（{warned}）"),
                        None => warned,
                    });
                }
                write_cells(&txn, &after, actor.user_id(), now).await?;
                request::Entity::update_many()
                    .col_expr(
                        request::Column::CellsBefore,
                        Expr::value(cells_to_json(&before)),
                    )
                    .col_expr(
                        request::Column::CellsAfter,
                        Expr::value(cells_to_json(&after)),
                    )
                    .filter(request::Column::Id.eq(id))
                    .exec(&txn)
                    .await?;
                changed_cells = handover::changed_cells(&before, &after);
            }
        }
    }
    if action == Action::Revoke {
        match handover {
            None => {
                changed_cells = leave_dates(&model)
                    .into_iter()
                    .map(|date| (model.requester_id, date))
                    .collect()
            }
            Some(_) => {
                let before = cells_from_json(model.cells_before.as_deref())?;
                let after = cells_from_json(model.cells_after.as_deref())?;
                let keys: Vec<_> = after.keys().copied().collect();
                let current = read_cells(&txn, &keys).await?;
                if !handover::changed_cells(&after, &current).is_empty() {
                    return Err(AppError::conflict(
                        "state",
                        "批准后排班又被修改过，不能自动恢复：请直接修改排班",
                    ));
                }
                write_cells(&txn, &before, actor.user_id(), now).await?;
                changed_cells = handover::changed_cells(&after, &before);
            }
        }
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
    replan(&txn, tz, &settings, &book, &changed_cells, id, now).await?;
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
    txn.commit().await?;
    get(services, actor, id).await
}

/// The working-time rules the change from `before` to `after` breaks, each with the
/// person's name.
async fn rule_breaches(
    db: &impl ConnectionTrait,
    shift_book: &ShiftBook,
    settings: &ReminderSettings,
    before: &Cells,
    after: &Cells,
    tz: chrono_tz::Tz,
) -> Result<Vec<String>, AppError> {
    let changed = handover::changed_cells(before, after);
    let people: BTreeSet<i32> = changed.iter().map(|(user_id, _)| *user_id).collect();
    let (Some(first), Some(last)) = (
        changed.iter().map(|(_, date)| *date).min(),
        changed.iter().map(|(_, date)| *date).max(),
    ) else {
        return Ok(Vec::new());
    };
    let from = first - Duration::days(RULE_CONTEXT_DAYS);
    let to = last + Duration::days(RULE_CONTEXT_DAYS);
    let rows: Vec<(i32, NaiveDate, i32)> = schedule::Entity::find()
        .select_only()
        .columns([
            schedule::Column::UserId,
            schedule::Column::Date,
            schedule::Column::ShiftId,
        ])
        .filter(schedule::Column::UserId.is_in(people.iter().copied()))
        .filter(schedule::Column::Date.between(from, to))
        .into_tuple()
        .all(db)
        .await?;
    let mut plan: BTreeMap<(i32, NaiveDate), Option<i32>> = rows
        .into_iter()
        .map(|(user_id, date, shift_id)| ((user_id, date), Some(shift_id)))
        .collect();
    plan.extend(after.iter().map(|(key, shift)| (*key, *shift)));
    let names: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person_name(&person)))
        .collect();
    let mut messages = Vec::new();
    for person in people {
        let duties: Vec<Duty> = plan
            .iter()
            .filter(|((user_id, _), _)| *user_id == person)
            .filter_map(|(&(_, date), shift)| {
                let shift_id = (*shift).filter(|id| shift_book.working(*id))?;
                let (start, end) = shift_book.span(shift_id, date, tz)?;
                Some(Duty { date, start, end })
            })
            .collect();
        let dates: Vec<NaiveDate> = changed
            .iter()
            .filter(|(user_id, _)| *user_id == person)
            .map(|(_, date)| *date)
            .collect();
        let name = names
            .get(&person)
            .cloned()
            .unwrap_or_else(|| person.to_string());
        for breach in work_rules::check(&duties, &dates, &settings.work_limits) {
            messages.push(format!("{name}：{}", breach.message(&settings.work_limits)));
        }
    }
    Ok(messages)
}

/// After the plan of `cells` changed: queued reminders that no longer apply are cancelled,
/// and whoever now works a cell whose clock-in reminder time has passed (before the shift
/// starts) is reminded at once. Reminders still to come follow the plan by themselves: the
/// worker reads the schedule when they are due.
async fn replan(
    txn: &DatabaseTransaction,
    tz: chrono_tz::Tz,
    settings: &ReminderSettings,
    book: &ChannelBook,
    cells: &[(i32, NaiveDate)],
    request_id: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (Some(from), Some(to)) = (
        cells.iter().map(|(_, date)| *date).min(),
        cells.iter().map(|(_, date)| *date).max(),
    ) else {
        return Ok(());
    };
    let users: Vec<i32> = cells
        .iter()
        .map(|(user_id, _)| *user_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let data = rules::load_in(txn, tz, settings, from, to, Some(&users)).await?;
    let rules = data.rules();
    let wanted: HashMap<(i32, NaiveDate), Vec<Reminder>> = data
        .schedules
        .iter()
        .filter(|day| cells.contains(&(day.user_id, day.date)))
        .map(|day: &ScheduledDay| {
            (
                (day.user_id, day.date),
                reminder::reminders_for_day(&rules, day).unwrap_or_default(),
            )
        })
        .collect();

    let queued = delivery::Entity::find()
        .filter(delivery::Column::UserId.is_in(users.clone()))
        .filter(delivery::Column::Date.between(from, to))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .all(txn)
        .await?;
    let stale: Vec<i32> = queued
        .iter()
        .filter(|row| cells.contains(&(row.user_id, row.date)))
        .filter(|row| {
            !wanted
                .get(&(row.user_id, row.date))
                .is_some_and(|reminders| {
                    reminders.iter().any(|reminder| {
                        reminder.kind.as_str() == row.kind
                            && i32::from(reminder.sequence) == row.sequence
                            && reminder.shift_id == row.shift_id
                    })
                })
        })
        .map(|row| row.id)
        .collect();
    if !stale.is_empty() {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status::CANCELLED))
            .col_expr(
                delivery::Column::Answer,
                Expr::value(format!("申请 #{request_id} 生效，排班已变更，不再提醒")),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.is_in(stale))
            .filter(delivery::Column::Status.eq(status::PENDING))
            .exec(txn)
            .await?;
    }

    let deadline = tick::retry_deadline(settings);
    let mut late = Vec::new();
    for (&(user_id, date), reminders) in &wanted {
        let Some(first) = reminders
            .iter()
            .find(|reminder| reminder.kind == ReminderKind::ClockIn && reminder.sequence == 0)
        else {
            continue;
        };
        let started = data
            .shifts
            .get(&first.shift_id)
            .map(|shift| shift.hours.span_on(date, tz).0)
            .is_none_or(|start| start <= now);
        if first.at > now || started {
            continue;
        }
        let choice = book.choose(user_id, first.kind, settings);
        let (state, answer) = if !settings.reminder_enabled {
            (status::DISABLED, "提醒已关闭".to_owned())
        } else if choice.name == NO_CHANNEL {
            (status::FAILED, "没有可用的通知渠道".to_owned())
        } else {
            (
                status::PENDING,
                format!("申请 #{request_id} 生效时已过提醒时间，立即提醒"),
            )
        };
        let shift_name = data
            .shifts
            .get(&first.shift_id)
            .map(|shift| shift.name.clone())
            .unwrap_or_default();
        late.push(
            tick::NewDelivery {
                reminder: first,
                shift_name,
                choice: &choice,
                status: state,
                answer: Some(answer),
                due_at: now,
            }
            .into_model(deadline, now)?,
        );
    }
    if !late.is_empty() {
        delivery::Entity::insert_many(late)
            .on_conflict(
                OnConflict::columns([
                    delivery::Column::UserId,
                    delivery::Column::Date,
                    delivery::Column::Kind,
                    delivery::Column::Sequence,
                    delivery::Column::ShiftId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
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

fn person_name(person: &user::Model) -> String {
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

async fn views(
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
