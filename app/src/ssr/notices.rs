//! Notices (通知) about requests: the colleague asked to accept a swap, the admins when a
//! request waits for them, the people free on the day of a new open shift, the people
//! concerned when it is decided, and each morning the
//! admins' list of requests still waiting. A notice is written to the `notices` outbox in
//! the transaction that records what it is about, under a key naming that event and the
//! person (so it exists once, whoever retries), and the worker sends it through the
//! person's channel for clock-in reminders, taking the same send slots as reminders (a
//! group robot's limit, a personal channel's own), so notices never push a robot over its
//! limit or starve reminders.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::channels::{self, ChannelBook, NO_CHANNEL, Target};
use super::entity::{channel, notice, request, user};
use super::notify::{self, SendOutcome};
use super::reminders::pacing::{self, Slot};
use super::{Services, settings};
use crate::AppError;
use crate::domain::Role;
use crate::domain::action_link::{self, RequestClaim};
use crate::domain::channel::Verdict;
use crate::domain::reminder::ReminderKind;
use crate::domain::request::RequestState;
use crate::domain::robot::{Link, OutgoingMessage};

/// Notice states as stored.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
}

/// What a notice is about.
pub mod kind {
    /// A colleague is asked to accept a swap or cover.
    pub const ASKED: &str = "request_asked";
    /// A request waits for the admins.
    pub const WAITING: &str = "request_waiting";
    /// An open shift was posted and this person is free that day.
    pub const OPEN: &str = "request_open";
    /// A request was decided (or expired, invalidated, withdrawn) and this person is in it.
    pub const DECIDED: &str = "request_decided";
    /// The admins' morning list of requests still waiting.
    pub const DIGEST: &str = "requests_digest";
}

/// Notices sent per tick; the rest wait for the next.
const PER_TICK: u64 = 50;
/// How long a claimed notice is ours to send.
const LEASE: Duration = Duration::seconds(60);
/// A notice not delivered within this is given up (failed), with the last answer.
const GIVE_UP_AFTER: Duration = Duration::hours(6);
/// The admins' digest goes out at this local time, once a day, when anything waits.
const DIGEST_AT: (u32, u32) = (9, 0);
/// How long the link in a notice works.
const LINK_VALID: Duration = Duration::days(14);
/// Where request links are served; the token follows.
pub const REQUEST_LINK_PATH: &str = "/q/";
const BODY_MAX_CHARS: usize = 2000;

/// A notice to write.
pub struct NewNotice {
    pub user_id: i32,
    pub request_id: Option<i32>,
    pub kind: &'static str,
    /// Unique across all notices: the event and the person.
    pub dedupe_key: String,
    pub title: String,
    pub body: String,
}

fn random_key() -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a notice key");
        AppError::Internal
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Writes notices (in the caller's transaction); one already written under the same key
/// stays as it is.
pub async fn queue(
    db: &impl ConnectionTrait,
    notices: Vec<NewNotice>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if notices.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(notices.len());
    for new in notices {
        rows.push(notice::ActiveModel {
            user_id: Set(new.user_id),
            request_id: Set(new.request_id),
            kind: Set(new.kind.to_owned()),
            dedupe_key: Set(new.dedupe_key),
            title: Set(crate::domain::channel::truncate_chars(&new.title, 64)),
            body: Set(crate::domain::channel::truncate_chars(
                &new.body,
                BODY_MAX_CHARS,
            )),
            status: Set(status::PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            deadline_at: Set(now + GIVE_UP_AFTER),
            lease_until: Set(None),
            channel_name: Set(None),
            answer: Set(None),
            idempotency_key: Set(random_key()?),
            sent_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
    }
    notice::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(notice::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The active admins, but `except` (who acted: they need no notice of their own action).
pub async fn admins(db: &impl ConnectionTrait, except: Option<i32>) -> Result<Vec<i32>, AppError> {
    let ids: Vec<i32> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().filter(|id| Some(*id) != except).collect())
}

/// Writes today's digest for each admin once, at `DIGEST_AT` or later, when requests made
/// before then still wait.
async fn queue_digest(services: &Services, now: DateTime<Utc>) -> Result<(), AppError> {
    let tz = services.settings.timezone.tz();
    let local = now.with_timezone(&tz);
    let at = NaiveTime::from_hms_opt(DIGEST_AT.0, DIGEST_AT.1, 0).unwrap_or_default();
    if local.time() < at {
        return Ok(());
    }
    let digest_at = crate::domain::shift::resolve_local(tz, local.date_naive().and_time(at));
    let date = local.date_naive();
    let admins = admins(&services.db, None).await?;
    let keys: Vec<String> = admins
        .iter()
        .map(|admin| format!("digest:{date}:{admin}"))
        .collect();
    // Each tick after the digest time asks; only the first one of the day writes (a write
    // every tick would contend for SQLite's lock with the reminders).
    let written = notice::Entity::find()
        .filter(notice::Column::DedupeKey.is_in(keys.clone()))
        .count(&services.db)
        .await?;
    if written >= keys.len() as u64 {
        return Ok(());
    }
    let waiting: Vec<(i32, String)> = request::Entity::find()
        .select_only()
        .columns([request::Column::Id, request::Column::Kind])
        .filter(request::Column::State.eq(RequestState::Pending.as_str()))
        .filter(request::Column::Kind.ne("open"))
        // Still waiting: made before today's digest time (a newer one was just announced).
        .filter(request::Column::CreatedAt.lt(digest_at))
        .order_by_asc(request::Column::Id)
        .limit(51)
        .into_tuple()
        .all(&services.db)
        .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let mut body = if waiting.len() > 50 {
        "有 50 多个申请等待审批：".to_owned()
    } else {
        format!("有 {} 个申请等待审批：", waiting.len())
    };
    for (id, kind) in waiting.iter().take(50) {
        let label =
            crate::domain::request::RequestKind::parse(kind).map_or("申请", |kind| kind.label());
        body.push_str(&format!(" #{id} {label}"));
    }
    if waiting.len() > 50 {
        body.push_str(" ……");
    }
    body.push_str("。请在“申请”页面处理。");
    let notices = admins
        .into_iter()
        .zip(keys)
        .map(|(admin, dedupe_key)| NewNotice {
            user_id: admin,
            request_id: None,
            kind: kind::DIGEST,
            dedupe_key,
            title: "待审批的申请".to_owned(),
            body: body.clone(),
        })
        .collect();
    queue(&services.db, notices, now).await
}

/// One worker pass: today's digest if due, then the notices that are due, sent.
pub async fn run(services: &Services) -> Result<usize, AppError> {
    let now = services.clock.now();
    queue_digest(services, now).await?;
    let due: Vec<i32> = notice::Entity::find()
        .select_only()
        .column(notice::Column::Id)
        .filter(due_condition(now))
        .order_by_asc(notice::Column::NextAttemptAt)
        .order_by_asc(notice::Column::Id)
        .limit(PER_TICK)
        .into_tuple()
        .all(&services.db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let settings = settings::effective(services).await?;
    let book = ChannelBook::load(services).await?;
    let mut sent = 0;
    for id in due {
        if send_one(services, &settings, &book, id).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

fn due_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(notice::Column::Status.eq(status::PENDING))
                .add(notice::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(notice::Column::Status.eq(status::SENDING))
                .add(notice::Column::LeaseUntil.lt(now)),
        )
}

/// Claims one notice and takes it one step; whether it was sent.
async fn send_one(
    services: &Services,
    settings: &settings::ReminderSettings,
    book: &ChannelBook,
    id: i32,
) -> Result<bool, AppError> {
    let now = services.clock.now();
    let lease = now + LEASE;
    let claimed = notice::Entity::update_many()
        .col_expr(notice::Column::Status, Expr::value(status::SENDING))
        .col_expr(notice::Column::LeaseUntil, Expr::value(lease))
        .col_expr(
            notice::Column::Attempts,
            Expr::col(notice::Column::Attempts).add(1),
        )
        .col_expr(notice::Column::UpdatedAt, Expr::value(now))
        .filter(notice::Column::Id.eq(id))
        .filter(due_condition(now))
        .exec(&services.db)
        .await?
        .rows_affected;
    if claimed != 1 {
        return Ok(false);
    }
    let Some(row) = notice::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(false);
    };
    let finish = |state: &'static str,
                  answer: String,
                  channel: Option<String>,
                  next: Option<DateTime<Utc>>| {
        let mut update = notice::Entity::update_many()
            .col_expr(notice::Column::Status, Expr::value(state))
            .col_expr(notice::Column::Answer, Expr::value(answer))
            .col_expr(
                notice::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(notice::Column::UpdatedAt, Expr::value(services.clock.now()))
            .filter(notice::Column::Id.eq(id))
            .filter(notice::Column::Status.eq(status::SENDING))
            .filter(notice::Column::LeaseUntil.eq(lease));
        if let Some(channel) = channel {
            update = update.col_expr(notice::Column::ChannelName, Expr::value(channel));
        }
        if let Some(next) = next {
            update = update.col_expr(notice::Column::NextAttemptAt, Expr::value(next));
        }
        if state == status::SENT {
            update = update.col_expr(notice::Column::SentAt, Expr::value(services.clock.now()));
        }
        update
    };
    let Some(person) = user::Entity::find_by_id(row.user_id)
        .one(&services.db)
        .await?
        .filter(|person| person.active)
    else {
        finish(status::FAILED, "用户已停用或不存在".to_owned(), None, None)
            .exec(&services.db)
            .await?;
        return Ok(false);
    };
    let choice = book.choose(person.id, ReminderKind::ClockIn, settings);
    if choice.name == NO_CHANNEL {
        finish(status::FAILED, "没有可用的通知渠道".to_owned(), None, None)
            .exec(&services.db)
            .await?;
        return Ok(false);
    }
    let target =
        match channels::target_of(services, settings, choice.channel_id, ReminderKind::ClockIn)
            .await
        {
            Ok(target) => target,
            Err(why) => {
                finish(status::FAILED, why, Some(choice.shown()), None)
                    .exec(&services.db)
                    .await?;
                return Ok(false);
            }
        };
    // Only a channel of the person's own may carry a link that answers for them: a team
    // channel's messages are read by everyone in the group.
    let own_channel = match choice.channel_id {
        Some(channel_id) => channel::Entity::find_by_id(channel_id)
            .one(&services.db)
            .await?
            .is_some_and(|channel| channel.user_id == Some(person.id)),
        None => false,
    };
    let links = row
        .request_id
        .and_then(|request_id| request_link(services, request_id, person.id, own_channel, now))
        .map(|url| {
            vec![Link {
                label: "查看申请".to_owned(),
                url,
            }]
        })
        .unwrap_or_default();
    let text = target.address.escape(target.format, &row.body);
    let mut message = OutgoingMessage::single(
        row.title.clone(),
        channels::recipient_of(&person),
        text,
        row.idempotency_key.clone(),
    );
    if let Some(entry) = message.entries.first_mut() {
        entry.links = links;
    }
    message.context = serde_json::json!({
        "kind": row.kind,
        "request_id": row.request_id,
        "user_id": person.id,
        "username": person.username,
    });
    let outcome = match paced_send(services, &target, &message).await? {
        Ok(outcome) => outcome,
        Err(at) => {
            finish(
                status::PENDING,
                "等待发送名额（渠道限流）".to_owned(),
                Some(choice.shown()),
                Some(at),
            )
            .exec(&services.db)
            .await?;
            return Ok(false);
        }
    };
    let answer = describe(&outcome);
    let (state, next) = match &outcome.verdict {
        Verdict::Sent => (status::SENT, None),
        Verdict::Permanent(_) => (status::FAILED, None),
        Verdict::RetryLater(_) | Verdict::Throttled(_) => {
            let backoff = Duration::minutes(1 << row.attempts.clamp(0, 5));
            let next = services.clock.now() + backoff;
            if next > row.deadline_at {
                (status::FAILED, None)
            } else {
                (status::PENDING, Some(next))
            }
        }
    };
    finish(state, answer, Some(choice.shown()), next)
        .exec(&services.db)
        .await?;
    Ok(state == status::SENT)
}

fn describe(outcome: &SendOutcome) -> String {
    let text = match &outcome.verdict {
        Verdict::Sent => "已发送".to_owned(),
        Verdict::RetryLater(text) | Verdict::Throttled(text) | Verdict::Permanent(text) => {
            text.clone()
        }
    };
    crate::domain::channel::truncate_chars(&text, BODY_MAX_CHARS)
}

/// Sends with a slot where the channel has limits (a group robot's, shared with the
/// reminders; a personal channel's own); without a slot now, when to try again.
async fn paced_send(
    services: &Services,
    target: &Target,
    message: &OutgoingMessage,
) -> Result<Result<SendOutcome, DateTime<Utc>>, AppError> {
    let pacer = if target.is_paced() {
        let url = target.address.webhook().map_or("", |(url, _)| url);
        Some(pacing::Robot::new(services, target.kind(), url))
    } else {
        target.personal_pacing(services)
    };
    let Some(pacer) = pacer else {
        return Ok(Ok(notify::send(services, target, message).await));
    };
    match pacing::take_slot(services, &pacer.key, &pacer.limits).await? {
        Slot::Taken(slot) => {
            let sent = notify::send(services, target, message).await;
            pacing::sent(services, slot).await?;
            if let Verdict::Throttled(reason) = &sent.verdict {
                pacer.throttled(services, reason).await?;
            }
            Ok(Ok(sent))
        }
        Slot::WaitUntil(at) | Slot::BannedUntil(at) => Ok(Err(at)),
    }
}

/// The signed link to the request for this person; none without `PUBLIC_URL`. With `act`
/// (the notice goes to their own channel, not to a group chat) it lets them answer.
fn request_link(
    services: &Services,
    request_id: i32,
    user_id: i32,
    act: bool,
    now: DateTime<Utc>,
) -> Option<String> {
    let base = services.settings.public_url.as_deref()?;
    let token = action_link::sign_request(
        services.secrets.link_key(),
        &RequestClaim {
            request_id,
            user_id,
            act,
            expires_at: now + LINK_VALID,
        },
    );
    Some(format!(
        "{}{REQUEST_LINK_PATH}{token}",
        base.trim_end_matches('/')
    ))
}

/// A notice's link, opened: the request as its person sees it, and whether the link may
/// act for them.
pub struct LinkedRequest {
    pub view: crate::wire::RequestView,
    pub can_act: bool,
}

async fn link_actor(
    services: &Services,
    token: &str,
) -> Result<Result<(RequestClaim, super::auth::Actor), super::action_links::LinkRefusal>, AppError>
{
    use super::action_links::LinkRefusal;
    let now = services.clock.now();
    let claim = match action_link::verify_request(services.secrets.link_key(), token, now) {
        Ok(claim) => claim,
        Err(error) => return Ok(Err(LinkRefusal::Invalid(error))),
    };
    let person = user::Entity::find_by_id(claim.user_id)
        .one(&services.db)
        .await?
        .filter(|person| person.active)
        .and_then(|person| super::auth::SessionUser::from_model(&person));
    Ok(match person {
        Some(person) => Ok((claim, super::auth::Actor::User(person))),
        None => Err(LinkRefusal::NoPerson),
    })
}

/// Opens a request link (showing never acts: chat apps open links to preview them).
pub async fn open_link(
    services: &Services,
    token: &str,
) -> Result<Result<LinkedRequest, super::action_links::LinkRefusal>, AppError> {
    let (claim, actor) = match link_actor(services, token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let view = super::requests::get(services, &actor, claim.request_id).await?;
    Ok(Ok(LinkedRequest {
        view,
        can_act: claim.act,
    }))
}

/// Takes `action` through a request link, as the link's person; only links sent to the
/// person's own channel may act.
pub async fn act_by_link(
    services: &Services,
    meta: &super::auth::RequestMeta,
    token: &str,
    action: crate::domain::request::Action,
    reason: Option<String>,
) -> Result<Result<crate::wire::RequestView, super::action_links::LinkRefusal>, AppError> {
    let (claim, actor) = match link_actor(services, token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if !claim.act {
        return Err(AppError::Refused(
            "这个链接发在群里，只能查看：请登录后在“申请”页面处理".to_owned(),
        ));
    }
    let decision = crate::wire::RequestDecision {
        reason,
        confirm: None,
    };
    super::requests::act(services, &actor, meta, claim.request_id, action, decision)
        .await
        .map(Ok)
}
