//! Where a reminder can be sent: the group robots (DingTalk, Feishu, WeCom, a generic
//! webhook) and the personal push services (Bark, ntfy, Gotify, ServerChan, PushPlus,
//! WxPusher, e-mail). Everything here is pure: a kind's identity and limits, the URL a user
//! pastes, the request a service expects and what its answer means. The server does the I/O.
//!
//! One seam, [`Channel`]: each kind is one module with its [`KindInfo`] (`KIND`: id, label,
//! URL forms, limits) and its address type, which implements [`Channel`]: parse and
//! validate its URL forms, mask it, name its secrets, build and sign its request, classify
//! the answer into one [`Verdict`], escape values for its markup and say how many people one
//! message may carry. What the group robots share (messages, merging, reply codes, pacing)
//! is in `domain::robot`, below the kinds: it knows none of them.
//!
//! Adding a kind is its module plus one line in the `registry!` call below; the UI's kind
//! list, the REST API and the dispatcher read [`KINDS`] and [`ChannelAddress`].

// The browser reads only the kinds' plain data; the linker drops the rest from the bundle.
#![cfg_attr(not(feature = "ssr"), allow(dead_code))]

pub mod address;
mod app_api;
#[cfg(test)]
mod apprise_urls;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use address::{AddressError, IgnoredParam, Parts, ServiceBases, parse};
pub use email::{EmailSpec, EmailTls};
pub use ntfy::NtfyAuth;

use super::redact::{MASK, mask_url};
use super::robot::{Entry, MergeLimits, MessageFormat, OutgoingMessage, Recipient, RobotError};

/// A request that is not a message: a company app's sign-in, a delivery confirmation, a
/// user lookup.
#[derive(Clone, PartialEq, Eq)]
pub enum Call {
    Get {
        url: String,
        query: Vec<(String, String)>,
    },
    Post(HttpRequest),
}

/// Query values (`appsecret`, `corpsecret`) and the request's secrets are not shown.
impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Get { url, query } => {
                let names: Vec<&str> = query.iter().map(|(name, _)| name.as_str()).collect();
                write!(f, "Get({}, {names:?} = {MASK})", mask_url(url))
            }
            Self::Post(request) => write!(f, "Post({request:?})"),
        }
    }
}

/// A kind's address shown as [`Channel::masked`] only: the structs hold raw keys and tokens.
macro_rules! masked_debug {
    ($($address:ty),+ $(,)?) => {$(
        impl fmt::Debug for $address {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($address), Channel::masked(self))
            }
        }
    )+};
}

masked_debug!(
    dingtalk::DingTalkRobot,
    feishu::FeishuRobot,
    wecom::WeComRobot,
    generic::GenericWebhook,
    bark::BarkDevice,
    ntfy::NtfyTopic,
    gotify::GotifyApp,
    serverchan::ServerChanKey,
    pushplus::PushPlusToken,
    wxpusher::WxPusherTarget,
);

/// A company app's access token and how long it may be used (already shortened by a safety
/// margin).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub lifetime: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken({MASK}, {:?})", self.lifetime)
    }
}

/// Platforms' tokens last two hours; refresh well before they lapse.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// The lifetime to cache a token for: `expires_in` seconds less [`TOKEN_MARGIN`], at least a
/// minute.
pub fn token_lifetime(expires_in: u64) -> Duration {
    Duration::from_secs(expires_in.saturating_sub(TOKEN_MARGIN.as_secs()).max(60))
}

/// What the registry knows about one kind: plain data, read by the browser too.
#[derive(Debug)]
pub struct KindInfo {
    /// The stable id stored in the database and used in the API.
    pub id: &'static str,
    /// The name shown to users.
    pub label: &'static str,
    /// The URL schemes of its own short forms (`bark`, `barks`); https URLs are recognised
    /// by [`Channel::parse_web`].
    pub schemes: &'static [&'static str],
    /// The shape of the short form after `scheme://`, for error messages.
    pub form: &'static str,
    /// The hosts whose https URLs are this kind's and no other's (`.suffix` for a domain's
    /// subdomains); URLs on other hosts are offered to every kind (`Channel::parse_web`).
    pub hosts: &'static [&'static str],
    /// The URL forms it accepts, as shown to users.
    pub url_forms: &'static [&'static str],
    /// The documented limits of one channel (one robot, one device key, one token).
    pub rate_limits: &'static [RateLimit],
    /// A group robot: several people's reminders merged into one message that mentions them.
    pub group: bool,
    /// How long the channel is left alone after it answered "too fast".
    pub throttle_ban: Duration,
    /// Company apps: the platform id a person must have to be reached privately; a person
    /// without it is reminded through their next channel.
    pub binding: Option<Binding>,
}

/// The platform user ids kept on each person's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    DingTalk,
    Feishu,
    WeCom,
}

impl Binding {
    /// The person's id on this platform, if they have one that is an id: a value written
    /// before the profile's rules (`@all`, `a|b`, `a,b`) would address others, and is none.
    pub fn id_of(self, recipient: &Recipient) -> Option<&str> {
        let id = match self {
            Self::DingTalk => &recipient.dingtalk_user_id,
            Self::Feishu => &recipient.feishu_open_id,
            Self::WeCom => &recipient.wecom_user_id,
        };
        super::robot::mention(id)
    }

    pub const ALL: [Self; 3] = [Self::DingTalk, Self::Feishu, Self::WeCom];

    /// The profile field, as shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::DingTalk => "钉钉 userid",
            Self::Feishu => "飞书 open_id",
            Self::WeCom => "企业微信 userid",
        }
    }
}

/// One kind of channel, as stored (`channel.platform`) and shown.
#[derive(Clone, Copy)]
pub struct ChannelKind(&'static KindInfo);

impl ChannelKind {
    pub const fn new(info: &'static KindInfo) -> Self {
        Self(info)
    }

    pub fn as_str(self) -> &'static str {
        self.0.id
    }

    pub fn parse(value: &str) -> Option<Self> {
        KINDS.iter().copied().find(|kind| kind.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        self.0.label
    }

    /// Group robots and the generic webhook: people merged into one message.
    pub fn is_group_robot(self) -> bool {
        self.0.group
    }

    pub fn url_forms(self) -> &'static [&'static str] {
        self.0.url_forms
    }

    pub fn schemes(self) -> &'static [&'static str] {
        self.0.schemes
    }

    pub fn form(self) -> &'static str {
        self.0.form
    }

    /// Whether https URLs on `host` (lower-cased) belong to this kind alone.
    pub fn owns_host(self, host: &str) -> bool {
        self.0
            .hosts
            .iter()
            .any(|owned| match owned.strip_prefix('.') {
                Some(_) => host.ends_with(owned) && host.len() > owned.len(),
                None => host == *owned,
            })
    }

    pub fn rate_limits(self) -> &'static [RateLimit] {
        self.0.rate_limits
    }

    pub fn throttle_ban(self) -> Duration {
        self.0.throttle_ban
    }

    pub fn binding(self) -> Option<Binding> {
        self.0.binding
    }
}

impl PartialEq for ChannelKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ChannelKind {}

impl Hash for ChannelKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelKind({})", self.as_str())
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ChannelKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChannelKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Self::parse(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown channel kind {id:?}")))
    }
}

/// At most `max` sends in any half-open interval of length `per`. Plain data, so tests can
/// use short intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub per: Duration,
}

pub const fn per_minute(max: u32) -> RateLimit {
    RateLimit {
        max,
        per: Duration::from_secs(60),
    }
}

/// Kinds that are never told "too fast" by a code of their own still get a ban length.
pub const MINUTE: Duration = Duration::from_secs(60);

/// What a service's answer means for the delivery. The text, in Chinese, carries the
/// service's own code and message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Sent,
    /// Try again later (timeout, busy, server error).
    RetryLater(String),
    /// The channel refuses because we sent too fast (DingTalk 130101, Feishu 11232, WeCom
    /// 45009). DingTalk keeps refusing for about ten minutes: everything for this channel
    /// waits [`KindInfo::throttle_ban`] instead of retrying into the ban and prolonging it.
    Throttled(String),
    /// Retrying will not help (wrong key or secret, missing keyword, quota used up, …); the
    /// text is for the person who set the channel up.
    Permanent(String),
}

/// What sending one message takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// One HTTP POST; its answer goes to [`Channel::classify`].
    Http(HttpRequest),
    /// One e-mail over SMTP.
    Mail(Box<EmailSpec>, Notice),
    /// Several POSTs for one person (an ntfy address with several topics, PushPlus groups),
    /// each with a label for the answer; [`fanout_verdict`] reads their answers together.
    Fanout(Vec<(String, HttpRequest)>),
}

/// What a fan-out's answers mean together. Every target reaches the same person, so the
/// reminder is delivered when any accepted it; a retry would send it again to those, so
/// there is none then. When none accepted, the most hopeful failure decides: a retry sends
/// nothing twice.
pub fn fanout_verdict(verdicts: &[Verdict]) -> Verdict {
    if verdicts.contains(&Verdict::Sent) {
        return Verdict::Sent;
    }
    let find = |wanted: fn(&Verdict) -> bool| verdicts.iter().find(|verdict| wanted(verdict));
    find(|verdict| matches!(verdict, Verdict::RetryLater(_)))
        .or_else(|| find(|verdict| matches!(verdict, Verdict::Throttled(_))))
        .or_else(|| verdicts.first())
        .cloned()
        .unwrap_or_else(|| Verdict::Permanent("没有要发送的目标".to_owned()))
}

/// What a build may read besides the message.
#[derive(Debug, Clone, Copy)]
pub struct SendContext<'a> {
    pub format: MessageFormat,
    /// For signature timestamps: the real time, since platforms check them against theirs.
    pub now: chrono::DateTime<chrono::Utc>,
    pub bases: &'a ServiceBases,
    /// A company app's access token, when the kind signs in ([`Channel::sign_in`]).
    pub access_token: Option<&'a str>,
    /// The local time of this attempt (`2026-03-02 08:45:07`), for platforms that drop a
    /// repeated text: a retry or a follow-up never reads the same.
    pub stamp: &'a str,
}

/// The seam every kind implements, on its parsed address.
pub trait Channel: Send + Sync {
    /// Reads the kind's own short form (one of [`KindInfo::schemes`]).
    fn parse(parts: &Parts<'_>) -> Result<Self, AddressError>
    where
        Self: Sized;

    /// Recognises an http(s) URL as this kind's (by host, else by path); `None`: not ours.
    fn parse_web(_raw: &str, _parts: &Parts<'_>, _host: &str) -> Option<Result<Self, AddressError>>
    where
        Self: Sized,
    {
        None
    }

    /// Group robots: this kind's robot at any http(s) URL (a relay or mock in front of the
    /// platform), with its signing secret. `None` for the other kinds.
    fn from_webhook(_url: &str, _secret: Option<&str>) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    fn kind(&self) -> ChannelKind;

    /// The address as it may be shown or logged: every secret masked.
    fn masked(&self) -> String;

    /// Every secret in the address, to be removed by value from texts that are shown.
    fn secrets(&self) -> Vec<&str>;

    /// A group robot's webhook and signing secret, stored apart (the secret sealed on its
    /// own); `None`: the address is stored as the user wrote it.
    fn webhook(&self) -> Option<(&str, Option<&str>)> {
        None
    }

    /// The self-hosted base requests go to, checked against private addresses when the
    /// channel is saved; `None` for the fixed hosted services and SMTP.
    fn endpoint(&self) -> Option<&str> {
        self.webhook().map(|(url, _)| url)
    }

    fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError>;

    fn classify(&self, http_status: u16, body: &str) -> Verdict;

    /// `value` (a name, a shift: text people type) made inert for the kind's markup.
    fn escape(&self, _format: MessageFormat, value: &str) -> String {
        value.to_owned()
    }

    /// Company apps sign in first: the key the token is cached under (one per app) and the
    /// request for it. `None`: the kind needs no token.
    fn sign_in(&self, _bases: &ServiceBases) -> Option<(String, Call)> {
        None
    }

    /// Reads the sign-in's answer.
    fn read_token(&self, http_status: u16, body: &str) -> Result<AccessToken, Verdict> {
        let _ = body;
        Err(Verdict::Permanent(format!(
            "{} 不需要登录（HTTP {http_status}）",
            self.kind().label()
        )))
    }

    /// Whether the answer says the access token expired or was revoked: the token is then
    /// fetched again and the message sent once more.
    fn token_expired(&self, _http_status: u16, _body: &str) -> bool {
        false
    }

    /// After an accepted send, the request that asks whether it reached the person (DingTalk's
    /// `getsendresult`); `None` when the platform has none.
    fn confirm(&self, _answer: &str, _context: &SendContext<'_>) -> Option<Call> {
        None
    }

    /// Reads the confirmation's answer for the message's recipients.
    fn classify_confirmation(&self, _http_status: u16, _body: &str, _to: &[&str]) -> Verdict {
        Verdict::Sent
    }

    /// Company apps: the request that finds a person's platform id by their mobile in the
    /// company's directory (`context.access_token` set).
    fn lookup(&self, _mobile: &str, _context: &SendContext<'_>) -> Option<Call> {
        None
    }

    /// Reads the lookup's answer: the id, `Ok(None)` when the directory has no such
    /// mobile, or why the lookup failed.
    fn read_lookup(&self, http_status: u16, body: &str) -> Result<Option<String>, Verdict> {
        let _ = body;
        Err(Verdict::Permanent(format!(
            "{} 不能按手机号查找（HTTP {http_status}）",
            self.kind().label()
        )))
    }

    /// The address's `?parameters` that change nothing for a reminder, with the reason.
    fn ignored(&self) -> &[IgnoredParam] {
        &[]
    }

    /// How many people, and how much text, one message may carry.
    fn merge_limits(&self, _format: MessageFormat) -> MergeLimits {
        MergeLimits::ALONE
    }

    /// The bytes the mention markup for `recipient` adds to a merged line.
    fn mention_bytes(&self, _format: MessageFormat, _recipient: &Recipient) -> usize {
        0
    }
}

/// Lists the kinds: `Variant => module::AddressType`. Generates [`KINDS`] (in this order in
/// the UI), [`ChannelAddress`] and the parsers' dispatch.
macro_rules! registry {
    ($($variant:ident => $module:ident :: $address:ident,)+) => {
        $(pub mod $module;)+

        /// Every kind, in the order the UI lists them.
        pub const KINDS: &[ChannelKind] = &[$($module::KIND,)+];

        /// One channel's parsed destination.
        #[derive(Clone, PartialEq, Eq)]
        pub enum ChannelAddress {
            $($variant($module::$address),)+
        }

        $(
            impl From<$module::$address> for ChannelAddress {
                fn from(address: $module::$address) -> Self {
                    Self::$variant(address)
                }
            }
        )+

        impl ChannelAddress {
            /// The kind's implementation of the seam.
            pub fn channel(&self) -> &dyn Channel {
                match self {
                    $(Self::$variant(address) => address,)+
                }
            }
        }

        fn parse_scheme(
            scheme: &str,
            parts: &Parts<'_>,
        ) -> Option<Result<ChannelAddress, AddressError>> {
            $(
                if $module::KIND.schemes().contains(&scheme) {
                    return Some(<$module::$address as Channel>::parse(parts).map(ChannelAddress::from));
                }
            )+
            None
        }

        /// The kind an http(s) URL belongs to, with its parse.
        fn parse_web(
            raw: &str,
            parts: &Parts<'_>,
            host: &str,
        ) -> Option<(ChannelKind, Result<ChannelAddress, AddressError>)> {
            let owner = KINDS.iter().copied().find(|kind| kind.owns_host(host));
            $(
                if owner.is_none_or(|owner| owner == $module::KIND)
                    && let Some(found) = <$module::$address as Channel>::parse_web(raw, parts, host)
                {
                    return Some(($module::KIND, found.map(ChannelAddress::from)));
                }
            )+
            None
        }

        fn from_webhook(kind: ChannelKind, url: &str, secret: Option<&str>) -> Option<ChannelAddress> {
            $(
                if kind == $module::KIND {
                    return <$module::$address as Channel>::from_webhook(url, secret).map(ChannelAddress::from);
                }
            )+
            None
        }
    };
}

registry! {
    DingTalk => dingtalk::DingTalkRobot,
    Feishu => feishu::FeishuRobot,
    WeCom => wecom::WeComRobot,
    Generic => generic::GenericWebhook,
    DingTalkApp => dingtalk_app::DingTalkApp,
    WeComApp => wecom_app::WeComApp,
    FeishuApp => feishu_app::FeishuApp,
    Bark => bark::BarkDevice,
    Ntfy => ntfy::NtfyTopic,
    Gotify => gotify::GotifyApp,
    ServerChan => serverchan::ServerChanKey,
    PushPlus => pushplus::PushPlusToken,
    WxPusher => wxpusher::WxPusherTarget,
    Email => email::EmailSpec,
}

impl ChannelAddress {
    pub fn kind(&self) -> ChannelKind {
        self.channel().kind()
    }

    pub fn masked(&self) -> String {
        self.channel().masked()
    }

    pub fn secrets(&self) -> Vec<&str> {
        self.channel().secrets()
    }

    pub fn webhook(&self) -> Option<(&str, Option<&str>)> {
        self.channel().webhook()
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.channel().endpoint()
    }

    pub fn ignored(&self) -> &[IgnoredParam] {
        self.channel().ignored()
    }

    /// What the channel's limits are counted by: a robot's webhook, else the kind, its
    /// endpoint and its credentials (one ntfy topic, one company app). Hashed before it is
    /// stored.
    pub fn pacing_identity(&self) -> String {
        if let Some((webhook, _)) = self.webhook() {
            return webhook.to_owned();
        }
        format!(
            "{}\n{}\n{}",
            self.kind(),
            self.endpoint().unwrap_or_default(),
            self.secrets().join("\n")
        )
    }

    /// A group robot of `kind` at `url` (any http(s) URL), as stored or configured
    /// (`WORKING_URL`); `None` when `kind` is not a group robot or `url` is not http(s).
    pub fn webhook_of(kind: ChannelKind, url: &str, secret: Option<&str>) -> Option<Self> {
        from_webhook(kind, url, secret)
    }

    /// A stored channel's address: a group robot's webhook with its secret, any other kind's
    /// address as the user wrote it, which must still be of `kind`.
    pub fn load(kind: ChannelKind, url: &str, secret: Option<&str>) -> Result<Self, AddressError> {
        if let Some(address) = from_webhook(kind, url, secret) {
            return Ok(address);
        }
        let address = parse(url)?;
        if address.kind() != kind {
            return Err(AddressError::new(format!(
                "地址是{}的，不是{}的",
                address.kind().label(),
                kind.label()
            )));
        }
        Ok(address)
    }

    /// A robot the settings name (`WORKING_URL`): recognised by host, then by path, else a
    /// generic webhook.
    pub fn default_robot(url: &str, secret: Option<&str>) -> Option<Self> {
        let kind = address::web_kind(url)
            .filter(|kind| kind.is_group_robot())
            .unwrap_or(generic::KIND);
        from_webhook(kind, url, secret)
    }

    pub fn build(
        &self,
        message: &OutgoingMessage,
        context: &SendContext<'_>,
    ) -> Result<Outgoing, RobotError> {
        self.channel().build(message, context)
    }

    pub fn classify(&self, http_status: u16, body: &str) -> Verdict {
        self.channel().classify(http_status, body)
    }

    pub fn escape(&self, format: MessageFormat, value: &str) -> String {
        self.channel().escape(format, value)
    }

    pub fn sign_in(&self, bases: &ServiceBases) -> Option<(String, Call)> {
        self.channel().sign_in(bases)
    }

    pub fn read_token(&self, http_status: u16, body: &str) -> Result<AccessToken, Verdict> {
        self.channel().read_token(http_status, body)
    }

    pub fn token_expired(&self, http_status: u16, body: &str) -> bool {
        self.channel().token_expired(http_status, body)
    }

    pub fn confirm(&self, answer: &str, context: &SendContext<'_>) -> Option<Call> {
        self.channel().confirm(answer, context)
    }

    pub fn classify_confirmation(&self, http_status: u16, body: &str, to: &[&str]) -> Verdict {
        self.channel().classify_confirmation(http_status, body, to)
    }

    pub fn lookup(&self, mobile: &str, context: &SendContext<'_>) -> Option<Call> {
        self.channel().lookup(mobile, context)
    }

    pub fn read_lookup(&self, http_status: u16, body: &str) -> Result<Option<String>, Verdict> {
        self.channel().read_lookup(http_status, body)
    }

    /// Splits one merged reminder into messages that each keep the kind's limits.
    pub fn split_entries(&self, format: MessageFormat, entries: Vec<Entry>) -> Vec<Vec<Entry>> {
        let channel = self.channel();
        super::robot::split_entries(channel.merge_limits(format), entries, |entry| {
            super::robot::line_bytes(format, entry)
                + channel.mention_bytes(format, &entry.recipient)
        })
    }
}

/// Shows the masked address only.
impl fmt::Debug for ChannelAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelAddress({})", self.masked())
    }
}

/// A reminder as the personal push services show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notice {
    pub title: String,
    pub text: String,
    /// One-click answers ("我已打卡", "今天不用提醒"), in the order they should appear.
    pub links: Vec<NoticeLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLink {
    pub label: String,
    pub url: String,
}

impl Notice {
    /// A personal push: one person, their text and their links.
    pub fn of(message: &OutgoingMessage) -> Self {
        Self {
            title: message.title.clone(),
            text: message
                .entries
                .iter()
                .map(|entry| entry.text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            links: message
                .entries
                .iter()
                .flat_map(|entry| &entry.links)
                .map(|link| NoticeLink {
                    label: link.label.clone(),
                    url: link.url.clone(),
                })
                .collect(),
        }
    }

    /// The text followed by one `label：url` line per link, for services that show plain
    /// text (most clients make the URLs tappable).
    pub fn text_with_links(&self, links: &[NoticeLink]) -> String {
        let mut out = self.text.clone();
        if !links.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            let lines: Vec<String> = links
                .iter()
                .map(|link| format!("{}：{}", one_line(&link.label), link.url))
                .collect();
            out.push_str(&lines.join("\n"));
        }
        out
    }

    /// The text as Markdown paragraphs followed by one Markdown link per line.
    pub fn markdown(&self) -> String {
        let mut blocks: Vec<String> = self
            .text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        blocks.extend(self.links.iter().map(|link| {
            format!(
                "[{}]({})",
                markdown_label(&link.label),
                markdown_url(&link.url)
            )
        }));
        // A blank line between blocks: a single newline is not a line break in Markdown.
        blocks.join("\n\n")
    }
}

/// `value` with line breaks and other control characters replaced by spaces.
pub(crate) fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `max` characters, the last replaced by `…` when cut.
pub fn truncate_chars(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn markdown_label(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in one_line(label).chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn markdown_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

/// One HTTP request to a channel; always a POST.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Tokens travel in the URL (ServerChan's path, Gotify's query), in the body (Bark's device
/// key, PushPlus's token, WxPusher's appToken) and in `Authorization` (ntfy): the URL is
/// masked, credentials headers hidden and the body shown only by its size.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let hidden = name.eq_ignore_ascii_case("authorization")
                    || name.to_ascii_lowercase().contains("token")
                    || name.to_ascii_lowercase().contains("key");
                (name.as_str(), if hidden { MASK } else { value.as_str() })
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("url", &mask_url(&self.url))
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// `base` and `path` joined with exactly one slash.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

pub(crate) const JSON: (&str, &str) = ("Content-Type", "application/json; charset=utf-8");

/// `Authorization: Basic …` for a login in the address.
pub(crate) fn basic_auth(username: &str, password: &str) -> (String, String) {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    ("Authorization".to_owned(), format!("Basic {encoded}"))
}

pub(crate) fn json_request(url: String, body: &serde_json::Value) -> HttpRequest {
    HttpRequest {
        url,
        headers: vec![(JSON.0.to_owned(), JSON.1.to_owned())],
        body: body.to_string().into_bytes(),
    }
}

/// The first 200 characters of an answer, for messages.
pub(crate) fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "（空）".to_owned();
    }
    truncate_chars(&one_line(body), 200)
}

/// The verdict for an answer whose HTTP status is not 2xx: 408, 429 and 5xx are worth
/// retrying later, every other status is a configuration error. `detail` is the service's
/// own code and message when the body carried them.
pub(crate) fn http_failure(
    service: &str,
    http_status: u16,
    body: &str,
    detail: Option<String>,
) -> Verdict {
    let detail = detail.unwrap_or_else(|| excerpt(body));
    let text = format!("{service}：HTTP {http_status}，{detail}");
    if is_retryable_status(http_status) {
        let hint = if http_status == 429 {
            "发送太频繁，稍后重试"
        } else {
            "服务暂时不可用，稍后重试"
        };
        Verdict::RetryLater(format!("{text}；{hint}"))
    } else {
        Verdict::Permanent(text)
    }
}

pub(crate) fn is_retryable_status(http_status: u16) -> bool {
    matches!(http_status, 408 | 429 | 500..=599)
}

pub(crate) fn is_success_status(http_status: u16) -> bool {
    (200..300).contains(&http_status)
}

/// A 2xx answer that is not what the service answers on success.
pub(crate) fn unrecognised(service: &str, body: &str) -> Verdict {
    Verdict::Permanent(format!("{service}返回了无法识别的应答：{}", excerpt(body)))
}

/// An integer field that services send either as a number or as a string.
pub(crate) fn int_field(value: &serde_json::Value, name: &str) -> Option<i64> {
    let field = value.get(name)?;
    field
        .as_i64()
        .or_else(|| field.as_str().and_then(|text| text.trim().parse().ok()))
}

pub(crate) fn str_field<'a>(value: &'a serde_json::Value, name: &str) -> &'a str {
    value
        .get(name)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

/// Messages of services that only say "too frequent" in words.
pub(crate) fn says_too_frequent(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["频繁", "频率", "too many", "too frequent", "rate limit"]
        .iter()
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::{Notice, NoticeLink};

    pub fn notice() -> Notice {
        Notice {
            title: "上班打卡提醒".to_owned(),
            text: "早班 09:00 上班，记得打卡。".to_owned(),
            links: vec![
                NoticeLink {
                    label: "我已打卡".to_owned(),
                    url: "https://kq.example.com/a/done?t=abc".to_owned(),
                },
                NoticeLink {
                    label: "今天不用提醒".to_owned(),
                    url: "https://kq.example.com/a/skip?t=abc".to_owned(),
                },
            ],
        }
    }

    /// What a company app's build gets: the real hosts, a token, a fixed stamp.
    pub fn app_context<'a>(
        bases: &'a super::ServiceBases,
        token: Option<&'a str>,
    ) -> super::SendContext<'a> {
        super::SendContext {
            format: crate::domain::robot::MessageFormat::Text,
            now: crate::domain::robot::test_support::now(),
            bases,
            access_token: token,
            stamp: "2026-03-02 08:45:07",
        }
    }

    pub fn bare_notice() -> Notice {
        Notice {
            title: "Clock in".to_owned(),
            text: "Shift starts at 09:00".to_owned(),
            links: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::notice;
    use super::*;

    #[test]
    fn every_kind_has_a_stable_unique_id_that_parses_back() {
        let ids: Vec<&str> = KINDS.iter().map(|kind| kind.as_str()).collect();
        // Stored in the database since the first release of each: never renamed.
        for stored in [
            "dingtalk",
            "feishu",
            "wecom",
            "generic",
            "bark",
            "ntfy",
            "gotify",
            "serverchan",
            "pushplus",
            "wxpusher",
            "email",
        ] {
            assert!(ids.contains(&stored), "{stored}");
        }
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        for kind in KINDS.iter().copied() {
            assert!(
                kind.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{kind}"
            );
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(ChannelKind::parse("Bark"), None);
        assert_eq!(ChannelKind::parse(""), None);
    }

    #[test]
    fn a_platform_id_that_would_address_others_is_none() {
        let with = |id: &str| crate::domain::robot::Recipient {
            dingtalk_user_id: Some(id.to_owned()),
            wecom_user_id: Some(id.to_owned()),
            ..Default::default()
        };
        assert_eq!(
            Binding::DingTalk.id_of(&with(" dt_zhang ")),
            Some("dt_zhang")
        );
        for hostile in ["@all", "a|b", "a,b", "", "   "] {
            assert_eq!(Binding::DingTalk.id_of(&with(hostile)), None, "{hostile:?}");
            assert_eq!(Binding::WeCom.id_of(&with(hostile)), None, "{hostile:?}");
        }
    }

    #[test]
    fn addresses_and_calls_never_print_their_secrets() {
        let robot = parse("dingtalk://SECabcdef0123456789@TOKENabcdef0123456789").unwrap();
        let ChannelAddress::DingTalk(inner) = &robot else {
            panic!()
        };
        for shown in [format!("{robot:?}"), format!("{inner:?}")] {
            assert!(!shown.contains("TOKENabcdef0123456789"), "{shown}");
            assert!(!shown.contains("SECabcdef0123456789"), "{shown}");
        }
        let call = Call::Get {
            url: "https://oapi.dingtalk.com/gettoken".to_owned(),
            query: vec![("appsecret".to_owned(), "S3cr3tS3cr3tS3cr3t".to_owned())],
        };
        assert!(!format!("{call:?}").contains("S3cr3t"), "{call:?}");
    }

    #[test]
    fn serde_uses_the_stable_ids() {
        for kind in KINDS.iter().copied() {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: ChannelKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn labels_are_the_chinese_names() {
        let labels: Vec<&str> = KINDS.iter().map(|kind| kind.label()).collect();
        for label in [
            "钉钉群机器人",
            "飞书群机器人",
            "企业微信群机器人",
            "Server酱",
            "电子邮件",
        ] {
            assert!(labels.contains(&label), "{label}");
        }
        let mut unique = labels.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), labels.len(), "{labels:?}");
    }

    #[test]
    fn only_the_group_robots_merge_people() {
        let robots: Vec<ChannelKind> = KINDS
            .iter()
            .copied()
            .filter(|kind| kind.is_group_robot())
            .collect();
        assert_eq!(
            robots,
            [dingtalk::KIND, feishu::KIND, wecom::KIND, generic::KIND]
        );
    }

    #[test]
    fn a_fanout_is_delivered_when_any_target_took_it_else_the_most_hopeful_failure_decides() {
        let retry = Verdict::RetryLater("HTTP 502".to_owned());
        let throttled = Verdict::Throttled("HTTP 429".to_owned());
        let permanent = Verdict::Permanent("HTTP 401".to_owned());
        assert_eq!(
            fanout_verdict(&[permanent.clone(), Verdict::Sent, retry.clone()]),
            Verdict::Sent
        );
        assert_eq!(
            fanout_verdict(&[permanent.clone(), throttled.clone(), retry.clone()]),
            retry
        );
        assert_eq!(
            fanout_verdict(&[permanent.clone(), throttled.clone()]),
            throttled
        );
        assert_eq!(fanout_verdict(std::slice::from_ref(&permanent)), permanent);
        assert!(matches!(fanout_verdict(&[]), Verdict::Permanent(_)));
    }

    #[test]
    fn every_url_form_shown_to_users_parses_as_its_kind() {
        for kind in KINDS.iter().copied() {
            assert!(!kind.url_forms().is_empty(), "{kind}");
            for form in kind.url_forms() {
                let parsed = parse(form).unwrap_or_else(|e| panic!("{form}: {e}"));
                assert_eq!(parsed.kind(), kind, "{form}");
            }
        }
    }

    #[test]
    fn robot_rate_limits_are_the_platforms_documented_ones() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            dingtalk::KIND.rate_limits(),
            [RateLimit {
                max: 20,
                per: minute
            }]
        );
        assert_eq!(
            feishu::KIND.rate_limits(),
            [
                RateLimit {
                    max: 5,
                    per: Duration::from_secs(1)
                },
                RateLimit {
                    max: 100,
                    per: minute
                }
            ]
        );
        assert_eq!(
            wecom::KIND.rate_limits(),
            [RateLimit {
                max: 20,
                per: minute
            }]
        );
        assert!(generic::KIND.rate_limits().is_empty());
        assert_eq!(
            ntfy::KIND.rate_limits(),
            [RateLimit {
                max: 12,
                per: minute
            }]
        );
        for kind in [
            bark::KIND,
            gotify::KIND,
            serverchan::KIND,
            pushplus::KIND,
            wxpusher::KIND,
            email::KIND,
        ] {
            assert!(kind.rate_limits().is_empty(), "{kind}");
        }
    }

    #[test]
    fn plain_text_lists_each_link_on_its_own_line() {
        let notice = notice();
        assert_eq!(
            notice.text_with_links(&notice.links),
            "早班 09:00 上班，记得打卡。\n\n我已打卡：https://kq.example.com/a/done?t=abc\n今天不用提醒：https://kq.example.com/a/skip?t=abc"
        );
        assert_eq!(notice.text_with_links(&[]), "早班 09:00 上班，记得打卡。");
        let no_text = Notice {
            text: String::new(),
            ..notice.clone()
        };
        assert!(
            no_text
                .text_with_links(&notice.links)
                .starts_with("我已打卡：")
        );
    }

    #[test]
    fn markdown_keeps_lines_apart_and_links_clickable() {
        let mut notice = notice();
        notice.text = "第一行\n第二行".to_owned();
        notice.links[0].label = "我[已]打卡".to_owned();
        notice.links[0].url = "https://x.example/a (b)".to_owned();
        assert_eq!(
            notice.markdown(),
            "第一行\n\n第二行\n\n[我\\[已\\]打卡](https://x.example/a%20%28b%29)\n\n[今天不用提醒](https://kq.example.com/a/skip?t=abc)"
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("上班打卡提醒", 6), "上班打卡提醒");
        assert_eq!(truncate_chars("上班打卡提醒", 4), "上班打…");
        assert_eq!(one_line("a\r\nb\tc"), "a  b c");
    }

    #[test]
    fn request_debug_hides_tokens_keys_and_credentials() {
        let request = HttpRequest {
            url: "https://gotify.example.com/message?token=AbCdEf0123456789".to_owned(),
            headers: vec![
                ("Authorization".to_owned(), "Basic dXNlcjpwYXNz".to_owned()),
                ("X-Gotify-Key".to_owned(), "AbCdEf0123456789".to_owned()),
                ("Title".to_owned(), "hello".to_owned()),
            ],
            body: br#"{"device_key":"SECRETDEVICEKEY0123"}"#.to_vec(),
        };
        let shown = format!("{request:?}");
        for leaked in ["AbCdEf0123456789", "dXNlcjpwYXNz", "SECRETDEVICEKEY0123"] {
            assert!(!shown.contains(leaked), "{shown}");
        }
        assert!(shown.contains("hello"), "{shown}");
        assert!(shown.contains("bytes"), "{shown}");
        assert_eq!(request.header("authorization"), Some("Basic dXNlcjpwYXNz"));
        assert_eq!(request.header("missing"), None);
    }
}
