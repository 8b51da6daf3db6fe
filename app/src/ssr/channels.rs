//! Notification channels (通知渠道): group robots and webhooks, team-wide or a person's own,
//! plus the default robots from `WORKING_URL`/`NO_WORK_URL`. Secrets are write-only.

use sea_orm::sea_query::ExprTrait;
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{channel, delivery, user};
use super::notify;
use super::reminders::pacing::{self, Slot};
use super::reminders::status;
use super::secret_box::{self, SecretBox, SecretError, channel_aad};
use super::settings::{self, ReminderSettings, mask_url};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::channel::{
    self as kinds, Binding, ChannelAddress, ChannelKind, IgnoredParam, Verdict,
};
use crate::domain::reminder::ReminderKind;
use crate::domain::robot::{MessageFormat, OutgoingMessage, Recipient};
use crate::wire::{ChannelPatch, ChannelTestResult, ChannelView, NewChannel};

const NAME_MAX_CHARS: usize = 40;

/// Where one reminder goes: the channel's address, parsed when it was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub address: ChannelAddress,
    pub format: MessageFormat,
}

impl Target {
    pub fn kind(&self) -> ChannelKind {
        self.address.kind()
    }

    /// A group robot's pacing (its limits and bans, shared through the database); `None`
    /// for the personal channels.
    pub fn robot(&self, services: &Services) -> Option<pacing::Robot> {
        let kind = self.kind();
        let (url, _) = self.address.webhook().filter(|_| kind.is_group_robot())?;
        Some(pacing::Robot::new(services, kind, url))
    }

    /// A group robot with a rate limit: its messages are queued, merged and paced.
    pub fn is_paced(&self) -> bool {
        self.kind().is_group_robot() && !self.kind().rate_limits().is_empty()
    }

    /// A send that may take more than one lease: a company app (several calls) or a
    /// personal channel paced by its own limits.
    pub fn is_slow(&self) -> bool {
        let kind = self.kind();
        kind.binding().is_some() || (!kind.is_group_robot() && !kind.rate_limits().is_empty())
    }

    /// A personal channel with limits of its own (ntfy's per-topic refill, a company app's
    /// per-app rate): its sends take slots shared through the database, one at a time.
    pub fn personal_pacing(&self, services: &Services) -> Option<pacing::Robot> {
        let kind = self.kind();
        (!kind.is_group_robot() && !kind.rate_limits().is_empty())
            .then(|| pacing::Robot::new(services, kind, &self.address.pacing_identity()))
    }
}

/// The channel chosen for a reminder, as stored on its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// `None`: the default robot for the kind (or none at all).
    pub channel_id: Option<i32>,
    pub name: String,
    pub platform: Option<ChannelKind>,
    /// Why a channel that would have come first was passed over (a company app the person
    /// has no id for).
    pub why: Option<String>,
}

impl Choice {
    /// The channel as the preview and the delivery history show it, with why.
    /// At most [`SHOWN_MAX_CHARS`], the length the delivery history keeps.
    pub fn shown(&self) -> String {
        let shown = match &self.why {
            Some(why) => format!("{}（{why}）", self.name),
            None => self.name.clone(),
        };
        crate::domain::channel::truncate_chars(&shown, SHOWN_MAX_CHARS)
    }
}

pub const NO_CHANNEL: &str = "（没有通知渠道）";

/// `deliveries.channel_name` holds 60 characters.
const SHOWN_MAX_CHARS: usize = 60;

fn default_name(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::ClockIn => "默认上班机器人（WORKING_URL）",
        ReminderKind::ClockOut => "默认下班机器人（NO_WORK_URL）",
    }
}

/// A person's id and their DingTalk, Feishu and WeCom ids.
type PlatformIds = (i32, Option<String>, Option<String>, Option<String>);

/// All active channels, loaded once per tick or preview, and the platform ids people have
/// for the company apps among them.
pub struct ChannelBook {
    rows: Vec<channel::Model>,
    ids: HashMap<i32, Recipient>,
    /// Platform ids on more than one profile: a private message to one would reach the
    /// other too, so neither is reached that way.
    shared: HashSet<(Binding, String)>,
    orders: super::preferences::Orders,
}

impl ChannelBook {
    pub async fn load(services: &Services) -> Result<Self, AppError> {
        let rows = channel::Entity::find()
            .filter(channel::Column::Active.eq(true))
            .order_by_asc(channel::Column::Id)
            .all(&services.db)
            .await?;
        let orders = super::preferences::load_all(services).await?;
        let apps = rows.iter().any(|row| {
            ChannelKind::parse(&row.platform).is_some_and(|kind| kind.binding().is_some())
        });
        let mut ids = HashMap::new();
        if apps {
            let people: Vec<PlatformIds> = user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .column(user::Column::DingtalkUserId)
                .column(user::Column::FeishuOpenId)
                .column(user::Column::WecomUserId)
                .into_tuple()
                .all(&services.db)
                .await?;
            for (id, dingtalk_user_id, feishu_open_id, wecom_user_id) in people {
                let recipient = Recipient {
                    dingtalk_user_id,
                    feishu_open_id,
                    wecom_user_id,
                    ..Recipient::default()
                };
                ids.insert(id, recipient);
            }
        }
        let mut seen = HashSet::new();
        let mut shared = HashSet::new();
        for recipient in ids.values() {
            for binding in Binding::ALL {
                if let Some(id) = binding.id_of(recipient) {
                    let key = (binding, id.to_owned());
                    if !seen.insert(key.clone()) {
                        shared.insert(key);
                    }
                }
            }
        }
        Ok(Self {
            rows,
            ids,
            shared,
            orders,
        })
    }

    /// Why `row` cannot reach the person: a company app whose platform id they lack.
    fn unreachable(&self, row: &channel::Model, user_id: i32) -> Option<String> {
        let binding = ChannelKind::parse(&row.platform)?.binding()?;
        let id = self.ids.get(&user_id).and_then(|ids| binding.id_of(ids));
        match id {
            None => Some(format!("未填写{}，不用“{}”", binding.label(), row.name)),
            Some(id) if self.shared.contains(&(binding, id.to_owned())) => {
                Some(format!("{}与他人重复，不用“{}”", binding.label(), row.name))
            }
            Some(_) => None,
        }
    }

    /// The first usable channel of the person's order for `kind`, else of the team's
    /// default order, else the built-in order; the choice says why a channel before it was
    /// passed over.
    pub fn choose(&self, user_id: i32, kind: ReminderKind, settings: &ReminderSettings) -> Choice {
        let order = self
            .orders
            .get(&(Some(user_id), kind))
            .or_else(|| self.orders.get(&(None, kind)));
        let Some(order) = order else {
            return self.builtin(user_id, kind, settings);
        };
        let mut why = None;
        for id in order {
            // The book holds active channels only.
            let Some(row) = self.rows.iter().find(|row| row.id == *id) else {
                why.get_or_insert_with(|| format!("渠道 {id} 已停用"));
                continue;
            };
            // A channel given to someone else since the order was set.
            if row.user_id.is_some() && row.user_id != Some(user_id) {
                continue;
            }
            match self.unreachable(row, user_id) {
                Some(reason) => {
                    why.get_or_insert(reason);
                }
                None => {
                    return Choice {
                        channel_id: Some(row.id),
                        name: row.name.clone(),
                        platform: ChannelKind::parse(&row.platform),
                        why,
                    };
                }
            }
        }
        let fallback = self.builtin(user_id, kind, settings);
        let why = why.unwrap_or_else(|| "设置的渠道都不可用".to_owned());
        let why = match fallback.why {
            Some(more) if more != why => format!("{why}；{more}"),
            _ => why,
        };
        Choice {
            why: Some(why),
            ..fallback
        }
    }

    /// The person's own channel for the purpose, else a team-wide one, else the default
    /// robot for the kind.
    fn builtin(&self, user_id: i32, kind: ReminderKind, settings: &ReminderSettings) -> Choice {
        let serves = |row: &&channel::Model| match kind {
            ReminderKind::ClockIn => row.clock_in,
            ReminderKind::ClockOut => row.clock_out,
        };
        // The person's own channels first, then the team's; a company app the person has
        // no id for is passed over, and the choice says so.
        let mut why = None;
        let candidates = self
            .rows
            .iter()
            .filter(serves)
            .filter(|row| row.user_id == Some(user_id))
            .chain(
                self.rows
                    .iter()
                    .filter(serves)
                    .filter(|row| row.user_id.is_none()),
            );
        for row in candidates {
            match self.unreachable(row, user_id) {
                Some(reason) => {
                    why.get_or_insert(reason);
                }
                None => {
                    return Choice {
                        channel_id: Some(row.id),
                        name: row.name.clone(),
                        platform: ChannelKind::parse(&row.platform),
                        why,
                    };
                }
            }
        }
        let default = match kind {
            ReminderKind::ClockIn => settings.working.as_ref(),
            ReminderKind::ClockOut => settings.no_work.as_ref(),
        };
        match default {
            Some(robot) => Choice {
                channel_id: None,
                name: default_name(kind).to_owned(),
                platform: ChannelAddress::default_robot(&robot.url, None)
                    .map(|address| address.kind()),
                why,
            },
            None => Choice {
                channel_id: None,
                name: NO_CHANNEL.to_owned(),
                platform: None,
                why,
            },
        }
    }
}

/// The robot a stored delivery goes to now, or why there is none.
pub async fn target_of(
    services: &Services,
    settings: &ReminderSettings,
    channel_id: Option<i32>,
    kind: ReminderKind,
) -> Result<Target, String> {
    if let Some(id) = channel_id {
        let row = channel::Entity::find_by_id(id)
            .one(&services.db)
            .await
            .map_err(|error| format!("读取通知渠道失败：{error}"))?
            .ok_or_else(|| "通知渠道已被删除".to_owned())?;
        if !row.active {
            return Err(format!("通知渠道“{}”已停用", row.name));
        }
        // Nothing unreadable is ever sent: the delivery fails with the reason instead.
        let open = open_row(&services.secrets, &row)
            .map_err(|error| format!("通知渠道“{}”{error}", row.name))?;
        return target_of_row(&open);
    }
    let (default, key, variable) = match kind {
        ReminderKind::ClockIn => (settings.working.as_ref(), "working_url", "WORKING_URL"),
        ReminderKind::ClockOut => (settings.no_work.as_ref(), "no_work_url", "NO_WORK_URL"),
    };
    let robot = default.ok_or_else(|| {
        if settings.unreadable.contains(&key) {
            format!("默认机器人（{variable}）{}", secret_box::UNREADABLE)
        } else {
            "没有可用的通知渠道：请在“通知渠道”里添加机器人，或设置 WORKING_URL / NO_WORK_URL"
                .to_owned()
        }
    })?;
    let address = ChannelAddress::default_robot(&robot.url, robot.secret.as_deref())
        .ok_or_else(|| format!("默认机器人（{variable}）的地址不是 http(s) 网址"))?;
    Ok(Target {
        address,
        format: settings.message_format,
    })
}

/// The row with its URL and secret opened: the one place stored channel secrets are read.
fn open_row(secrets: &SecretBox, row: &channel::Model) -> Result<channel::Model, SecretError> {
    Ok(channel::Model {
        url: secrets.open(&channel_aad("url", row.id), &row.url)?,
        secret: secrets.open_opt(&channel_aad("secret", row.id), row.secret.as_deref())?,
        ..row.clone()
    })
}

/// The URL and secret of row `id` in stored (sealed) form: the one place they are written.
fn seal_fields(
    secrets: &SecretBox,
    id: i32,
    url: Option<&str>,
    secret: Option<Option<&str>>,
) -> Result<(Option<String>, Option<Option<String>>), SecretError> {
    let url = url
        .map(|url| secrets.seal(&channel_aad("url", id), url))
        .transpose()?;
    let secret = secret
        .map(|secret| {
            secret
                .map(|secret| secrets.seal(&channel_aad("secret", id), secret))
                .transpose()
        })
        .transpose()?;
    Ok((url, secret))
}

/// The view of a stored row; one whose secrets do not open says so in place of its URL.
fn stored_view(
    secrets: &SecretBox,
    row: &channel::Model,
    user_name: Option<String>,
) -> ChannelView {
    match open_row(secrets, row) {
        Ok(open) => to_view(&open, user_name),
        Err(error) => ChannelView {
            url: error.to_string(),
            ..to_view(row, user_name)
        },
    }
}

/// A stored row's target: its secrets opened and its address parsed; the error says why
/// the channel cannot be used.
pub fn open_target(services: &Services, row: &channel::Model) -> Result<Target, String> {
    let open = open_row(&services.secrets, row)
        .map_err(|error| format!("通知渠道“{}”{error}", row.name))?;
    target_of_row(&open)
}

/// An opened row's target: its address parsed once, here.
fn target_of_row(row: &channel::Model) -> Result<Target, String> {
    let kind = ChannelKind::parse(&row.platform)
        .ok_or_else(|| format!("通知渠道“{}”的类型 {} 未知", row.name, row.platform))?;
    let address = ChannelAddress::load(kind, &row.url, row.secret.as_deref())
        .map_err(|error| format!("通知渠道“{}”的地址无效：{error}", row.name))?;
    Ok(Target {
        address,
        format: MessageFormat::parse(&row.format).unwrap_or(MessageFormat::Text),
    })
}

/// A stored address as it may be shown (every key, token and password masked), with the
/// parameters it ignores.
fn masked_address(kind: &str, url: &str) -> (String, Vec<IgnoredParam>) {
    let personal = ChannelKind::parse(kind)
        .filter(|kind| !kind.is_group_robot())
        .and_then(|kind| ChannelAddress::load(kind, url, None).ok());
    match personal {
        Some(address) => (address.masked(), address.ignored().to_vec()),
        None => (mask_url(url), Vec::new()),
    }
}

fn purposes_of(row: &channel::Model) -> Vec<String> {
    let mut purposes = Vec::new();
    if row.clock_in {
        purposes.push("clock_in".to_owned());
    }
    if row.clock_out {
        purposes.push("clock_out".to_owned());
    }
    purposes
}

fn to_view(row: &channel::Model, user_name: Option<String>) -> ChannelView {
    let (url, ignored_params) = masked_address(&row.platform, &row.url);
    ChannelView {
        id: row.id,
        name: row.name.clone(),
        kind: row.platform.clone(),
        url,
        has_secret: row.secret.is_some(),
        format: row.format.clone(),
        user_id: row.user_id,
        user_name,
        purposes: purposes_of(row),
        active: row.active,
        banned_until: None,
        ban_reason: None,
        last_result: None,
        ignored_params,
    }
}

async fn user_names(
    services: &Services,
) -> Result<std::collections::HashMap<i32, String>, AppError> {
    super::users::display_names(&services.db).await
}

/// Admins see every channel; members see team-wide ones and their own.
pub async fn list(services: &Services, actor: &Actor) -> Result<Vec<ChannelView>, AppError> {
    let mut query = channel::Entity::find().order_by_asc(channel::Column::Id);
    if !actor.is_admin() {
        let me = actor.user_id().ok_or(AppError::Forbidden)?;
        query = query.filter(
            channel::Column::UserId
                .is_null()
                .or(channel::Column::UserId.eq(me)),
        );
    }
    let rows = query.all(&services.db).await?;
    let names = user_names(services).await?;
    let bans = pacing::current_bans(services).await?;
    let last_results = last_results(services, rows.iter().map(|row| row.id)).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut view = stored_view(
                &services.secrets,
                row,
                row.user_id.and_then(|id| names.get(&id).cloned()),
            );
            let ban = open_row(&services.secrets, row)
                .ok()
                .and_then(|open| bans.get(&pacing::robot_key(&open.url)));
            if let Some((until, reason)) = ban {
                view.banned_until = Some(services.settings.local_minute(*until));
                view.ban_reason = Some(reason.clone());
            }
            view.last_result = last_results.get(&row.id).cloned();
            view
        })
        .collect())
}

/// Each channel's latest sent or failed reminder, in words.
async fn last_results(
    services: &Services,
    ids: impl Iterator<Item = i32>,
) -> Result<std::collections::HashMap<i32, String>, AppError> {
    use sea_orm::QuerySelect;
    let ids: Vec<i32> = ids.collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let latest: Vec<Option<i32>> = delivery::Entity::find()
        .select_only()
        .column_as(delivery::Column::Id.max(), "id")
        .filter(delivery::Column::ChannelId.is_in(ids))
        .filter(delivery::Column::Status.is_in([status::SENT, status::FAILED]))
        .group_by(delivery::Column::ChannelId)
        .into_tuple()
        .all(&services.db)
        .await?;
    let rows = delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(latest.into_iter().flatten()))
        .all(&services.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let at = services
                .settings
                .local_minute(row.sent_at.unwrap_or(row.updated_at));
            let mut text = format!("{} · {at}", status::label(&row.status));
            if row.status == status::FAILED {
                let reason: String = row.answer.unwrap_or_default().chars().take(80).collect();
                text.push_str(&format!("：{reason}"));
            }
            Some((row.channel_id?, text))
        })
        .collect())
}

async fn find(services: &Services, actor: &Actor, id: i32) -> Result<channel::Model, AppError> {
    let row = channel::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("通知渠道 {id}")))?;
    match row.user_id {
        Some(owner) => actor.require_self_or_admin(owner)?,
        None if actor.is_admin() => {}
        // Members may read a team-wide channel but not change or test it.
        None => return Err(AppError::Forbidden),
    }
    Ok(row)
}

pub async fn get(services: &Services, actor: &Actor, id: i32) -> Result<ChannelView, AppError> {
    let row = channel::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("通知渠道 {id}")))?;
    if let Some(owner) = row.user_id {
        actor.require_self_or_admin(owner)?;
    }
    let names = user_names(services).await?;
    Ok(stored_view(
        &services.secrets,
        &row,
        row.user_id.and_then(|id| names.get(&id).cloned()),
    ))
}

fn parse_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "请填写渠道名称"));
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            format!("最多 {NAME_MAX_CHARS} 个字符，且不能包含控制字符"),
        ));
    }
    Ok(name.to_owned())
}

/// A channel's address as pasted: its kind, the URL to store (a group robot's https
/// webhook; a personal service's address as given) and a signing secret it carries
/// (`dingtalk://SEC…@token`). An explicit `kind` must agree with the address, except that
/// any https URL may be declared a robot of any platform (a relay or mock in front of it).
struct ParsedAddress {
    kind: ChannelKind,
    url: String,
    secret: Option<String>,
    /// A group robot's `?format=`, used when the request names no format.
    format: Option<MessageFormat>,
}

fn parse_address(
    services: &Services,
    raw_kind: Option<&str>,
    raw_url: &str,
) -> Result<ParsedAddress, AppError> {
    let declared = match raw_kind.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => Some(ChannelKind::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = kinds::KINDS.iter().map(|kind| kind.as_str()).collect();
            AppError::invalid("kind", format!("应为 {} 之一", known.join("、")))
        })?),
    };
    let parsed = kinds::parse(raw_url).map_err(|error| AppError::invalid("url", error.message))?;
    let found = parsed.kind();
    let address = match declared {
        Some(kind) if kind == found => parsed,
        Some(kind) if kind.is_group_robot() && found.is_group_robot() => parsed
            .webhook()
            .and_then(|(url, secret)| ChannelAddress::webhook_of(kind, url, secret))
            .ok_or_else(|| AppError::invalid("url", "应为 http:// 或 https:// 网址"))?,
        Some(kind) => {
            return Err(AppError::invalid(
                "url",
                format!("这是{}的地址，不是{}", found.label(), kind.label()),
            ));
        }
        None => parsed,
    };
    // What we post to must be a public https address (or a private one when allowed).
    if let Some(endpoint) = address.endpoint() {
        services.outbound.check_url("url", endpoint)?;
    }
    let (url, secret) = match address.webhook() {
        Some((url, secret)) => (url.to_owned(), secret.map(str::to_owned)),
        None => (raw_url.trim().to_owned(), None),
    };
    Ok(ParsedAddress {
        kind: address.kind(),
        url,
        secret,
        format: address
            .kind()
            .is_group_robot()
            .then(|| kinds::address::requested_format(raw_url))
            .flatten(),
    })
}

fn parse_format(raw: Option<&str>) -> Result<MessageFormat, AppError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(MessageFormat::Text),
        Some(raw) => MessageFormat::parse(raw)
            .ok_or_else(|| AppError::invalid("format", "应为 text 或 markdown")),
    }
}

fn parse_purposes(raw: Option<&[String]>) -> Result<(bool, bool), AppError> {
    let Some(list) = raw else {
        return Ok((true, true));
    };
    let (mut clock_in, mut clock_out) = (false, false);
    for (index, purpose) in list.iter().enumerate() {
        match purpose.as_str() {
            "clock_in" => clock_in = true,
            "clock_out" => clock_out = true,
            other => {
                return Err(AppError::invalid(
                    format!("purposes[{index}]"),
                    format!("未知用途 {other:?}，应为 clock_in 或 clock_out"),
                ));
            }
        }
    }
    if !clock_in && !clock_out {
        return Err(AppError::invalid("purposes", "至少选择上班或下班提醒之一"));
    }
    Ok((clock_in, clock_out))
}

fn parse_secret(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(secret) if secret.len() > 200 || secret.chars().any(char::is_control) => Err(
            AppError::invalid("secret", "最多 200 个字符，且不能包含控制字符"),
        ),
        Some(secret) => Ok(Some(secret.to_owned())),
    }
}

/// A company app reaches everyone in the company: only admins connect one, and only as a
/// team-wide channel (it delivers privately to each person it covers).
fn check_company_app(
    actor: &Actor,
    kind: ChannelKind,
    user_id: Option<i32>,
) -> Result<(), AppError> {
    if kind.binding().is_none() {
        return Ok(());
    }
    actor.require_admin()?;
    match user_id {
        Some(_) => Err(AppError::invalid(
            "user_id",
            format!(
                "{}是团队渠道，会分别私信每个人：user_id 应为 null",
                kind.label()
            ),
        )),
        None => Ok(()),
    }
}

async fn check_owner(
    services: &Services,
    actor: &Actor,
    user_id: Option<i32>,
) -> Result<(), AppError> {
    match user_id {
        None => actor.require_admin(),
        Some(id) => {
            actor.require_self_or_admin(id)?;
            user::Entity::find_by_id(id)
                .one(&services.db)
                .await?
                .map(|_| ())
                .ok_or_else(|| AppError::missing("user_id", format!("用户 {id} 不存在")))
        }
    }
}

/// Admins add team-wide or anyone's channels; members add their own.
pub async fn create(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewChannel,
) -> Result<ChannelView, AppError> {
    let user_id = match input.user_id {
        Some(id) => Some(id),
        None if actor.is_admin() => None,
        None => actor.user_id(),
    };
    check_owner(services, actor, user_id).await?;
    let name = parse_name(&input.name)?;
    let address = parse_address(services, input.kind.as_deref(), &input.url)?;
    check_company_app(actor, address.kind, user_id)?;
    let (platform, url) = (address.kind, address.url);
    let format = match (input.format.as_deref(), address.format) {
        (None, Some(requested)) => requested,
        (given, _) => parse_format(given)?,
    };
    let (clock_in, clock_out) = parse_purposes(input.purposes.as_deref())?;
    let secret = parse_secret(input.secret.as_deref())?.or(address.secret);
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    // Sealed values name their row, so the row is inserted first and filled in the same
    // transaction.
    let created = channel::ActiveModel {
        name: Set(name),
        platform: Set(platform.as_str().to_owned()),
        url: Set(String::new()),
        secret: Set(None),
        format: Set(format.as_str().to_owned()),
        user_id: Set(user_id),
        clock_in: Set(clock_in),
        clock_out: Set(clock_out),
        active: Set(input.active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (sealed_url, sealed_secret) = seal_fields(
        &services.secrets,
        created.id,
        Some(&url),
        Some(secret.as_deref()),
    )?;
    let mut sealed = created.clone().into_active_model();
    sealed.url = Set(sealed_url.unwrap_or_default());
    sealed.secret = Set(sealed_secret.flatten());
    sealed.update(&txn).await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::ChannelCreated, meta)
            .about(&created.name)
            .detail(format!(
                "{} {}",
                platform.label(),
                masked_address(platform.as_str(), &url).0
            )),
    )
    .await?;
    txn.commit().await?;
    get(services, actor, created.id).await
}

pub async fn update(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
    patch: ChannelPatch,
) -> Result<ChannelView, AppError> {
    let row = find(services, actor, id).await?;
    let mut model = row.clone().into_active_model();
    if let Some(name) = &patch.name {
        model.name = Set(parse_name(name)?);
    }
    let mut address_secret = None;
    let mut new_url = None;
    let mut kind = ChannelKind::parse(&row.platform);
    if patch.kind.is_some() || patch.url.is_some() {
        let raw = match &patch.url {
            Some(raw) => raw.clone(),
            // Only opened when the kind is checked against the stored URL.
            None => open_row(&services.secrets, &row)?.url,
        };
        let address = parse_address(services, patch.kind.as_deref(), &raw)?;
        kind = Some(address.kind);
        model.platform = Set(address.kind.as_str().to_owned());
        if patch.url.is_some() {
            new_url = Some(address.url);
            address_secret = address.secret;
            if let (None, Some(requested)) = (&patch.format, address.format) {
                model.format = Set(requested.as_str().to_owned());
            }
        }
    }
    if let Some(kind) = kind {
        check_company_app(actor, kind, patch.user_id.unwrap_or(row.user_id))?;
    }
    let new_secret = match (&patch.secret, address_secret) {
        (Some(secret), _) => Some(parse_secret(secret.as_deref())?),
        (None, Some(secret)) => Some(Some(secret)),
        (None, None) => None,
    };
    let (sealed_url, sealed_secret) = seal_fields(
        &services.secrets,
        id,
        new_url.as_deref(),
        new_secret.as_ref().map(Option::as_deref),
    )?;
    if let Some(url) = sealed_url {
        model.url = Set(url);
    }
    if let Some(secret) = sealed_secret {
        model.secret = Set(secret);
    }
    if let Some(format) = &patch.format {
        model.format = Set(parse_format(Some(format))?.as_str().to_owned());
    }
    if let Some(owner) = patch.user_id {
        check_owner(services, actor, owner).await?;
        model.user_id = Set(owner);
    }
    if let Some(purposes) = &patch.purposes {
        let (clock_in, clock_out) = parse_purposes(Some(purposes))?;
        model.clock_in = Set(clock_in);
        model.clock_out = Set(clock_out);
    }
    if let Some(active) = patch.active {
        model.active = Set(active);
    }
    let now = services.clock.now();
    model.updated_at = Set(now);
    let txn = services.begin_write().await?;
    let updated = model.update(&txn).await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::ChannelUpdated, meta).about(&updated.name),
    )
    .await?;
    txn.commit().await?;
    get(services, actor, id).await
}

pub async fn remove(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    id: i32,
) -> Result<(), AppError> {
    let row = find(services, actor, id).await?;
    let now = services.clock.now();
    let txn = services.begin_write().await?;
    channel::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        now,
        AuditEvent::by(actor, AuditKind::ChannelDeleted, meta).about(&row.name),
    )
    .await?;
    txn.commit().await.map_err(AppError::from)
}

/// Sends a test message and reports the robot's real answer.
pub async fn test(
    services: &Services,
    actor: &Actor,
    id: i32,
) -> Result<ChannelTestResult, AppError> {
    let row = find(services, actor, id).await?;
    let row = match open_row(&services.secrets, &row) {
        Ok(row) => row,
        Err(error) => {
            return Ok(ChannelTestResult {
                ok: false,
                verdict: "permanent".to_owned(),
                http_status: None,
                answer: String::new(),
                message: error.to_string(),
            });
        }
    };
    let settings = settings::effective(services).await?;
    let me = match actor.user_id() {
        Some(me) => user::Entity::find_by_id(me).one(&services.db).await?,
        None => None,
    };
    let target = match target_of_row(&row) {
        Ok(target) => target,
        Err(message) => {
            return Ok(ChannelTestResult {
                ok: false,
                verdict: "permanent".to_owned(),
                http_status: None,
                answer: String::new(),
                message,
            });
        }
    };
    Ok(send_test(services, &settings, &target, me.as_ref()).await)
}

/// A test message to the default robot of `kind` (the settings page's button).
pub async fn test_default(
    services: &Services,
    actor: &Actor,
    kind: ReminderKind,
) -> Result<ChannelTestResult, AppError> {
    actor.require_admin()?;
    let settings = settings::effective(services).await?;
    let target = target_of(services, &settings, None, kind)
        .await
        .map_err(|message| AppError::invalid(kind.as_str(), message))?;
    Ok(send_test(services, &settings, &target, None).await)
}

async fn send_test(
    services: &Services,
    settings: &ReminderSettings,
    target: &Target,
    me: Option<&user::Model>,
) -> ChannelTestResult {
    let now = services.clock.now();
    let local = services.settings.local_minute(now);
    let recipient = me.map(recipient_of).unwrap_or_else(|| Recipient {
        name: "管理员".to_owned(),
        mobile: None,
        dingtalk_user_id: None,
        feishu_open_id: None,
        wecom_user_id: None,
    });
    // The keyword a robot may require is usually in the templates, so the test carries the
    // clock-in template's fixed text too.
    let template = settings.template(crate::domain::template::TemplateKind::ClockIn);
    let text = format!(
        "【测试消息】钉钉打卡提醒系统 {local}：这是一条测试消息。模板示例：{}",
        template.as_str()
    );
    let message = OutgoingMessage {
        context: serde_json::json!({"kind": "test"}),
        ..OutgoingMessage::single(
            "测试消息".to_owned(),
            recipient,
            text,
            format!("test-{}", now.timestamp_millis()),
        )
    };
    // A test is a real message: to a group robot or a paced personal channel it counts
    // against the channel's limit like a reminder, and is not sent into a ban.
    let robot = target
        .robot(services)
        .or_else(|| target.personal_pacing(services));
    let slot = match &robot {
        None => 0,
        Some(robot) => match pacing::take_slot(services, &robot.key, &robot.limits).await {
            Ok(Slot::Taken(slot)) => slot,
            Ok(Slot::WaitUntil(at)) => {
                return ChannelTestResult {
                    ok: false,
                    verdict: "retryable".to_owned(),
                    http_status: None,
                    answer: String::new(),
                    message: format!(
                        "这个渠道这一分钟的发送次数已用完（提醒优先），请在 {} 之后再测试",
                        services.settings.local_minute(at)
                    ),
                };
            }
            Ok(Slot::BannedUntil(until)) => {
                return ChannelTestResult {
                    ok: false,
                    verdict: "throttled".to_owned(),
                    http_status: None,
                    answer: String::new(),
                    message: format!(
                        "机器人因发送太频繁暂停接收，{} 之后才能再发",
                        services.settings.local_minute(until)
                    ),
                };
            }
            Err(_) => 0,
        },
    };
    let sent = notify::send(services, target, &message).await;
    if sent.http_status.is_some() {
        let _ = pacing::sent(services, slot).await;
    }
    let (ok, name, text) = match sent.verdict {
        Verdict::Sent if target.kind().is_group_robot() => {
            (true, "accepted", "机器人已接收".to_owned())
        }
        Verdict::Sent => (true, "accepted", format!("{}已接收", target.kind().label())),
        Verdict::RetryLater(message) if sent.http_status.is_none() => (false, "network", message),
        Verdict::RetryLater(message) => (false, "retryable", message),
        Verdict::Throttled(message) => {
            if let Some(robot) = &robot {
                let _ = robot.throttled(services, &message).await;
            }
            (false, "throttled", message)
        }
        Verdict::Permanent(message) => (false, "permanent", message),
    };
    ChannelTestResult {
        ok,
        verdict: name.to_owned(),
        http_status: sent.http_status,
        answer: sent.answer.unwrap_or_default(),
        message: text,
    }
}

pub fn recipient_of(row: &user::Model) -> Recipient {
    Recipient {
        name: row.display_name.clone(),
        mobile: row.mobile.clone(),
        dingtalk_user_id: row.dingtalk_user_id.clone(),
        feishu_open_id: row.feishu_open_id.clone(),
        wecom_user_id: row.wecom_user_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_shown_with_why_fits_the_history_column() {
        let choice = Choice {
            channel_id: Some(1),
            name: "一个名字很长很长的团队通知渠道".repeat(2),
            platform: None,
            why: Some(
                "未填写钉钉 userid，不用“钉钉工作通知（企业内部应用）”；设置的渠道都不可用"
                    .to_owned(),
            ),
        };
        let shown = choice.shown();
        assert_eq!(shown.chars().count(), SHOWN_MAX_CHARS, "{shown}");
        assert!(shown.ends_with('…'));
        let short = Choice {
            why: None,
            name: "团队群".to_owned(),
            ..choice
        };
        assert_eq!(short.shown(), "团队群");
    }
}
