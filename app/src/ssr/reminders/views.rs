//! What people see of the engine: upcoming reminders, delivery history, punches, the
//! worker's status and the home dashboard.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::super::audit::{self, AuditEvent};
use super::super::auth::{Actor, RequestMeta};
use super::super::channels::ChannelBook;
use super::super::entity::{delivery, punch, user};
use super::super::page::PageRequest;
use super::super::{Services, read_models, schedules, settings, shifts};
use super::{rules, status};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::redact::redact_named;
use crate::domain::reminder::{self, NoReminder, ReminderKind};
use crate::wire::{
    Dashboard, DeliveryQuery, DeliveryView, NewPunch, NoReminderDay, Page, PunchView, ShiftToday,
    ShiftView, TeamMember, UpcomingQuery, UpcomingReminder, UpcomingView, WorkerStatus,
};

/// The preview's default span.
const UPCOMING_DAYS: i64 = 7;
/// A worker that has not ticked for this long is stalled (the health check answers 503).
pub const STALLED_AFTER: Duration = Duration::minutes(3);
const DELIVERIES_PER_PAGE: u64 = 50;

fn rfc3339(services: &Services, at: DateTime<Utc>) -> String {
    at.with_timezone(&services.settings.timezone.tz())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn reason_code(reason: &NoReminder) -> &'static str {
    match reason {
        NoReminder::NoSchedule => "no_schedule",
        NoReminder::RestDay { .. } => "rest_day",
        NoReminder::Holiday { .. } => "holiday",
        NoReminder::UserInactive => "user_inactive",
        NoReminder::UserOptedOut => "user_opted_out",
        NoReminder::UnknownShift => "unknown_shift",
        NoReminder::OnLeave { .. } => "on_leave",
    }
}

/// Reminders due `from..=to` (default: the next 7 days), for one person or — admins — all.
pub async fn upcoming(
    services: &Services,
    actor: &Actor,
    query: &UpcomingQuery,
) -> Result<UpcomingView, AppError> {
    let today = services.today();
    let from = query.from.unwrap_or(today);
    let to = query.to.unwrap_or(from + Duration::days(UPCOMING_DAYS - 1));
    schedules::check_range(from, to)?;
    if to - from > Duration::days(61) {
        return Err(AppError::invalid("to", "预览最多 62 天"));
    }
    let user_ids: Vec<i32> = match (query.user_id, actor.user_id()) {
        (Some(id), _) => {
            actor.require_self_or_admin(id)?;
            vec![id]
        }
        (None, _) if actor.is_admin() => Vec::new(),
        (None, Some(own)) => vec![own],
        (None, None) => return Err(AppError::Forbidden),
    };
    let plan = if to - from < Duration::days(KEPT_PLAN_DAYS) {
        team_plan(services, from, to).await?
    } else {
        // Long ranges are not kept: built for the people asked about only.
        let only = (!user_ids.is_empty()).then_some(user_ids.as_slice());
        Arc::new(build_plan(services, from, to, only).await?)
    };
    Ok(plan.slice(&user_ids))
}

/// Plans of at most this many days are kept in memory (the home page's two, the preview's
/// default week).
const KEPT_PLAN_DAYS: i64 = UPCOMING_DAYS;

/// Everyone's reminders (active or not) for a range, as the preview shows them, with what
/// the home page needs besides.
pub struct TeamPlan {
    /// All people's reminders and days without, people by display name.
    view: UpcomingView,
    active: HashSet<i32>,
    /// Display names of everyone, by id.
    names: HashMap<i32, String>,
    shifts: HashMap<i32, ShiftView>,
    /// Who works which shift on the range's first day.
    first_day: Vec<(i32, i32)>,
}

impl TeamPlan {
    /// Who works which shift on the first day, active people only (as in the team grid and
    /// the preview): shifts by start time, people by name.
    fn team_on_first_day(&self) -> Vec<ShiftToday> {
        let mut by_shift: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for (user_id, shift_id) in &self.first_day {
            if let Some(name) = self.names.get(user_id)
                && self.active.contains(user_id)
            {
                by_shift.entry(*shift_id).or_default().push(name.clone());
            }
        }
        let mut shifts: Vec<ShiftToday> = by_shift
            .into_iter()
            .filter_map(|(shift_id, mut people)| {
                people.sort();
                Some(ShiftToday {
                    shift: self.shifts.get(&shift_id)?.clone(),
                    people,
                })
            })
            .collect();
        shifts.sort_by(|a, b| {
            (a.shift.start.as_str(), a.shift.id).cmp(&(b.shift.start.as_str(), b.shift.id))
        });
        shifts
    }

    /// The preview for `only` (everyone active when empty).
    fn slice(&self, only: &[i32]) -> UpcomingView {
        let wanted = |id: i32| {
            if only.is_empty() {
                self.active.contains(&id)
            } else {
                only.contains(&id)
            }
        };
        UpcomingView {
            from: self.view.from,
            to: self.view.to,
            reminders: self
                .view
                .reminders
                .iter()
                .filter(|item| wanted(item.user_id))
                .cloned()
                .collect(),
            none: self
                .view
                .none
                .iter()
                .filter(|day| wanted(day.user_id))
                .cloned()
                .collect(),
            sending_enabled: self.view.sending_enabled,
            users: self
                .view
                .users
                .iter()
                .filter(|person| wanted(person.id))
                .cloned()
                .collect(),
        }
    }
}

/// The whole team's plan for `from..=to`, from memory while the data has not changed.
async fn team_plan(
    services: &Services,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Arc<TeamPlan>, AppError> {
    let version = read_models::data_version(&services.db).await?;
    services
        .read_models
        .plans
        .get_or_build(version, (from, to), || build_plan(services, from, to, None))
        .await
}

/// Computes the plan of `only` (everyone when `None`) for `from..=to`.
async fn build_plan(
    services: &Services,
    from: NaiveDate,
    to: NaiveDate,
    only: Option<&[i32]>,
) -> Result<TeamPlan, AppError> {
    let settings = settings::effective(services).await?;
    let data = rules::load(services, &settings, from, to, only).await?;
    let mut people: Vec<&rules::Person> = data
        .people
        .values()
        .filter(|row| only.is_none_or(|ids| ids.contains(&row.id)))
        .collect();
    people.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    let ids: Vec<i32> = people.iter().map(|row| row.id).collect();
    let plans = reminder::day_plans(&data.rules(), &ids, from, to, &data.schedules);
    let book = ChannelBook::load(services).await?;
    let mut reminders = Vec::new();
    let mut none = Vec::new();
    for plan in plans {
        if let Some(reason) = &plan.none {
            none.push(NoReminderDay {
                user_id: plan.user_id,
                date: plan.date,
                reason: reason_code(reason).to_owned(),
                label: reason.label(),
            });
            continue;
        }
        if !settings.reminder_enabled {
            none.push(NoReminderDay {
                user_id: plan.user_id,
                date: plan.date,
                reason: "reminders_disabled".to_owned(),
                label: "提醒已关闭（仍会计算，不发送）".to_owned(),
            });
        }
        for item in plan.reminders {
            let choice = book.choose(item.user_id, item.kind, &settings);
            reminders.push(UpcomingReminder {
                user_id: item.user_id,
                date: item.date,
                kind: item.kind.as_str().to_owned(),
                sequence: item.sequence,
                at: rfc3339(services, item.at),
                shift_id: item.shift_id,
                channel_id: choice.channel_id,
                channel: choice.shown(),
            });
        }
    }
    reminders.sort_by(|a, b| a.at.cmp(&b.at).then(a.user_id.cmp(&b.user_id)));
    let shifts = shifts::all_models(&services.db)
        .await?
        .iter()
        .map(|row| (row.id, shifts::to_view(row, settings.work_overtime)))
        .collect();
    Ok(TeamPlan {
        active: people
            .iter()
            .filter(|row| row.active)
            .map(|row| row.id)
            .collect(),
        names: people
            .iter()
            .map(|row| (row.id, row.display_name.clone()))
            .collect(),
        shifts,
        first_day: data
            .schedules
            .iter()
            .filter(|day| day.date == from)
            .map(|day| (day.user_id, day.shift_id))
            .collect(),
        view: UpcomingView {
            from,
            to,
            reminders,
            none,
            sending_enabled: settings.reminder_enabled,
            users: people
                .iter()
                .map(|row| TeamMember {
                    id: row.id,
                    username: row.username.clone(),
                    display_name: row.display_name.clone(),
                })
                .collect(),
        },
    })
}

fn delivery_view(
    services: &Services,
    row: delivery::Model,
    names: &HashMap<i32, String>,
) -> DeliveryView {
    DeliveryView {
        id: row.id,
        user_id: row.user_id,
        user_name: names.get(&row.user_id).cloned().unwrap_or_default(),
        date: row.date,
        kind: row.kind.clone(),
        sequence: u8::try_from(row.sequence).unwrap_or(0),
        shift: row.shift_name.clone(),
        due_at: rfc3339(services, row.due_at),
        sent_at: row.sent_at.map(|at| rfc3339(services, at)),
        lateness_secs: row.sent_at.map(|at| (at - row.due_at).num_seconds()),
        status_label: status::label(&row.status).to_owned(),
        status: row.status,
        channel: row.channel_name,
        attempts: row.attempts,
        // Rows written before answers were redacted may still quote a robot URL.
        answer: row.answer.as_deref().map(redact_named),
        check_result: row.check_result.as_deref().map(redact_named),
        message_key: row.message_key,
        message_people: Vec::new(),
    }
}

async fn names(services: &Services) -> Result<HashMap<i32, String>, AppError> {
    super::super::users::display_names(&services.db).await
}

/// Delivery history, newest first. Members see their own.
pub async fn deliveries(
    services: &Services,
    actor: &Actor,
    query: &DeliveryQuery,
) -> Result<Page<DeliveryView>, AppError> {
    let mut select = delivery::Entity::find();
    match (query.user_id, actor.user_id()) {
        (Some(id), _) => {
            actor.require_self_or_admin(id)?;
            select = select.filter(delivery::Column::UserId.eq(id));
        }
        (None, _) if actor.is_admin() => {}
        (None, Some(own)) => select = select.filter(delivery::Column::UserId.eq(own)),
        (None, None) => return Err(AppError::Forbidden),
    }
    if let Some(kind) = query.kind.as_deref().filter(|kind| !kind.is_empty()) {
        ReminderKind::parse(kind)
            .ok_or_else(|| AppError::invalid("kind", "应为 clock_in 或 clock_out"))?;
        select = select.filter(delivery::Column::Kind.eq(kind));
    }
    if let Some(state) = query.status.as_deref().filter(|state| !state.is_empty()) {
        if !status::ALL.contains(&state) {
            return Err(AppError::invalid(
                "status",
                format!("应为 {} 之一", status::ALL.join("、")),
            ));
        }
        select = select.filter(delivery::Column::Status.eq(state));
    }
    if let Some(from) = query.from {
        select = select.filter(delivery::Column::Date.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(delivery::Column::Date.lte(to));
    }
    let page = PageRequest::with_default_size(query.page, query.per_page, DELIVERIES_PER_PAGE)?;
    let total = select.clone().count(&services.db).await?;
    let rows = select
        .order_by_desc(delivery::Column::DueAt)
        .order_by_desc(delivery::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&services.db)
        .await?;
    let names = names(services).await?;
    // Everyone in each merged message shown on this page.
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|row| row.message_key.clone())
        .collect();
    let mut together: HashMap<String, Vec<String>> = HashMap::new();
    if !keys.is_empty() {
        let members: Vec<(Option<String>, i32)> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::MessageKey)
            .column(delivery::Column::UserId)
            .filter(delivery::Column::MessageKey.is_in(keys))
            .order_by_asc(delivery::Column::Id)
            .into_tuple()
            .all(&services.db)
            .await?;
        for (key, user_id) in members {
            if let Some(key) = key {
                together
                    .entry(key)
                    .or_default()
                    .push(names.get(&user_id).cloned().unwrap_or_default());
            }
        }
    }
    Ok(Page {
        items: rows
            .into_iter()
            .map(|row| {
                let people = row
                    .message_key
                    .as_ref()
                    .and_then(|key| together.get(key))
                    .filter(|people| people.len() > 1)
                    .cloned()
                    .unwrap_or_default();
                DeliveryView {
                    message_people: people,
                    ..delivery_view(services, row, &names)
                }
            })
            .collect(),
        total,
    })
}

/// Sends a failed (or missed) delivery again now, with a fresh deadline. Admins only.
pub async fn retry(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
) -> Result<DeliveryView, AppError> {
    actor.require_admin()?;
    let row = delivery::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("发送记录 {id}")))?;
    if ![status::FAILED, status::MISSED, status::DISABLED].contains(&row.status.as_str()) {
        return Err(AppError::conflict(
            "status",
            format!(
                "只有失败、错过或关闭时的提醒可以重发（当前：{}）",
                status::label(&row.status)
            ),
        ));
    }
    let now = services.clock.now();
    let settings = settings::effective(services).await?;
    let txn = services.begin_write().await?;
    let changed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::PENDING))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            delivery::Column::DeadlineAt,
            Expr::value(now + Duration::minutes(i64::from(settings.retry_minutes))),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(row.status.clone()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::conflict(
            "status",
            "发送记录刚被修改，请刷新后再试",
        ));
    }
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::DeliveryRetried, meta)
            .detail(format!("{} {} {}", row.date, row.kind, row.shift_name)),
    )
    .await?;
    txn.commit().await?;
    super::dispatch::enqueue_due(services).await?;
    let fresh = delivery::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("发送记录 {id}")))?;
    Ok(delivery_view(services, fresh, &names(services).await?))
}

/// Records a punch: members their own, admins and the API token anyone's.
pub async fn record_punch(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewPunch,
) -> Result<PunchView, AppError> {
    let kind = ReminderKind::parse(input.kind.trim())
        .ok_or_else(|| AppError::invalid("kind", "应为 clock_in 或 clock_out"))?;
    let person = match (input.user_id, input.username.as_deref().map(str::trim)) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "username",
                "user_id 和 username 只能填一个",
            ));
        }
        (Some(id), None) => user::Entity::find_by_id(id)
            .one(&services.db)
            .await?
            .ok_or_else(|| AppError::missing("user_id", format!("用户 {id} 不存在")))?,
        (None, Some(name)) => user::Entity::find()
            .filter(user::Column::UsernameKey.eq(name.to_lowercase()))
            .one(&services.db)
            .await?
            .ok_or_else(|| AppError::missing("username", format!("用户 {name} 不存在")))?,
        (None, None) => {
            let own = actor
                .user_id()
                .ok_or_else(|| AppError::invalid("user_id", "请填写 user_id 或 username"))?;
            user::Entity::find_by_id(own)
                .one(&services.db)
                .await?
                .ok_or(AppError::Unauthorized)?
        }
    };
    actor.require_self_or_admin(person.id)?;
    let now = services.clock.now();
    let at = input.at.unwrap_or(now);
    if at > now + Duration::minutes(5) {
        return Err(AppError::invalid("at", "打卡时间不能晚于现在"));
    }
    if at < now - Duration::days(31) {
        return Err(AppError::invalid("at", "只能记录 31 天内的打卡"));
    }
    let txn = services.begin_write().await?;
    let row = punch::ActiveModel {
        user_id: Set(person.id),
        kind: Set(kind.as_str().to_owned()),
        at: Set(at),
        source: Set(match actor {
            Actor::ApiToken => "api".to_owned(),
            Actor::User(user) => format!("user:{}", user.username),
        }),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::PunchRecorded, meta)
            .about(&person.username_key)
            .detail(format!(
                "{} {}",
                kind.label(),
                services.settings.local_minute(at)
            )),
    )
    .await?;
    txn.commit().await?;
    Ok(PunchView {
        id: row.id,
        user_id: row.user_id,
        kind: row.kind,
        at: rfc3339(services, row.at),
        source: row.source,
    })
}

/// The worker as this process sees it.
pub async fn worker_status(services: &Services) -> Result<WorkerStatus, AppError> {
    let now = services.clock.now();
    let queued = delivery::Entity::find()
        .filter(delivery::Column::Status.is_in([status::PENDING, status::SENDING]))
        .count(&services.db)
        .await?;
    let settings = settings::effective(services).await?;
    let last = services.heartbeat.last_tick_at();
    let reference = last.unwrap_or(services.heartbeat.started_at());
    let state = if now - reference > STALLED_AFTER {
        "stalled"
    } else if last.is_none() {
        "starting"
    } else {
        "running"
    };
    Ok(WorkerStatus {
        state: state.to_owned(),
        last_tick_at: last.map(|at| rfc3339(services, at)),
        lag_secs: last.map(|at| (now - at).num_seconds()),
        queued,
        sending_enabled: settings.reminder_enabled,
    })
}

/// The home page: today's shifts, the next reminders, today's deliveries, the worker. The
/// team's part comes from the kept plan; deliveries, the worker and requests are read live.
pub async fn dashboard(services: &Services, actor: &Actor) -> Result<Dashboard, AppError> {
    let me = actor.user_id();
    let today = services.today();
    let now = services.clock.now();
    let plan = team_plan(services, today, today + Duration::days(1)).await?;
    let my_shift = plan
        .first_day
        .iter()
        .find(|(user_id, _)| Some(*user_id) == me)
        .and_then(|(_, shift_id)| plan.shifts.get(shift_id).cloned());
    let team_today = if actor.is_admin() {
        plan.team_on_first_day()
    } else {
        Vec::new()
    };
    let now_text = rfc3339(services, now);
    // Reminders are in time order: from the first not yet due.
    let first_due = plan
        .view
        .reminders
        .partition_point(|item| item.at < now_text);
    let next_reminders: Vec<UpcomingReminder> = plan.view.reminders[first_due..]
        .iter()
        .filter(|item| {
            if actor.is_admin() {
                plan.active.contains(&item.user_id)
            } else {
                Some(item.user_id) == me
            }
        })
        .take(10)
        .cloned()
        .collect();
    // Names for the reminders shown only: the page carries them as hydration state.
    let user_names: BTreeMap<i32, String> = next_reminders
        .iter()
        .filter_map(|item| Some((item.user_id, plan.names.get(&item.user_id)?.clone())))
        .collect();
    let shift_names: BTreeMap<i32, String> = next_reminders
        .iter()
        .filter_map(|item| Some((item.shift_id, plan.shifts.get(&item.shift_id)?.name.clone())))
        .collect();
    let deliveries_today = deliveries(
        services,
        actor,
        &DeliveryQuery {
            from: Some(today),
            to: Some(today),
            per_page: Some(20),
            ..Default::default()
        },
    )
    .await?
    .items;
    Ok(Dashboard {
        today,
        local_time: services.settings.local_minute(now),
        timezone: services.settings.timezone.name().to_owned(),
        my_shift,
        team_today,
        next_reminders,
        deliveries_today,
        worker: worker_status(services).await?,
        admin: actor.is_admin(),
        user_names: user_names.into_iter().collect(),
        shift_names: shift_names.into_iter().collect(),
        requests_waiting: super::super::requests::waiting_for(&services.db, actor).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(id: i32, name: &str, start: &str) -> ShiftView {
        ShiftView {
            id,
            name: name.to_owned(),
            label: name.chars().take(1).collect(),
            color: "#3498db".to_owned(),
            start: start.to_owned(),
            end: "18:00".to_owned(),
            rest: false,
            remind_before_min: 15,
            remind_after_min: 30,
            remind_after_default: true,
            follow_up_count: None,
            follow_up_every_min: None,
            note: None,
            active: true,
            overnight: false,
        }
    }

    fn plan(first_day: Vec<(i32, i32)>, active: &[i32]) -> TeamPlan {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        TeamPlan {
            view: UpcomingView {
                from: today,
                to: today,
                reminders: Vec::new(),
                none: Vec::new(),
                sending_enabled: true,
                users: Vec::new(),
            },
            active: active.iter().copied().collect(),
            names: [(1, "丙"), (2, "甲"), (3, "乙"), (4, "丁")]
                .into_iter()
                .map(|(id, name)| (id, name.to_owned()))
                .collect(),
            shifts: [
                (10, shift(10, "B班", "13:00")),
                (20, shift(20, "A班", "09:00")),
            ]
            .into_iter()
            .collect(),
            first_day,
        }
    }

    #[test]
    fn todays_team_is_one_entry_per_shift_by_start_with_active_people_by_name() {
        let plan = plan(vec![(1, 20), (2, 10), (3, 20), (4, 20)], &[1, 2, 3]);
        let team: Vec<(String, Vec<String>)> = plan
            .team_on_first_day()
            .into_iter()
            .map(|entry| (entry.shift.name, entry.people))
            .collect();
        // 丁 (4) is inactive; names sort by code point: 丙 U+4E19 before 乙 U+4E59.
        assert_eq!(
            team,
            [
                ("A班".to_owned(), vec!["丙".to_owned(), "乙".to_owned()]),
                ("B班".to_owned(), vec!["甲".to_owned()]),
            ]
        );
    }

    #[test]
    fn a_shift_nobody_active_works_today_is_not_listed() {
        let plan = plan(vec![(4, 10)], &[1, 2, 3]);
        assert!(plan.team_on_first_day().is_empty());
    }

    #[test]
    fn the_preview_slice_is_everyone_active_or_exactly_the_people_asked_for() {
        let mut plan = plan(Vec::new(), &[1, 2]);
        plan.view.users = [1, 2, 4]
            .into_iter()
            .map(|id| TeamMember {
                id,
                username: format!("u{id}"),
                display_name: format!("u{id}"),
            })
            .collect();
        let ids = |view: UpcomingView| view.users.iter().map(|user| user.id).collect::<Vec<_>>();
        assert_eq!(ids(plan.slice(&[])), [1, 2]);
        // An inactive person asking for their own preview still gets it.
        assert_eq!(ids(plan.slice(&[4])), [4]);
        assert_eq!(ids(plan.slice(&[2])), [2]);
    }
}
