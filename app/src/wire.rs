//! The shapes that cross the wire, shared by the browser, the server functions and the
//! REST API (whose OpenAPI document is generated from them).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Role;

mod requests;
pub use requests::*;

/// Present-but-null deserialises to `Some(None)` ("clear it"), absent to `None` ("leave it").
fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A user account as clients see it; never includes the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    /// 11-digit mainland China mobile number, used for DingTalk @mentions.
    pub mobile: Option<String>,
    pub dingtalk_user_id: Option<String>,
    pub feishu_open_id: Option<String>,
    pub wecom_user_id: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    /// Whether this person gets clock-in/out reminders (they can switch them off).
    pub reminders_enabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A new account. `display_name` defaults to the username, `role` to member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1–32 letters, digits, `_ . -` or CJK ideographs, once trimmed.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[A-Za-z0-9_.\\-\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff]{1,32}[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub username: String,
    /// At least 8 characters, not the username, not a well-known password.
    #[cfg_attr(feature = "ssr", schema(min_length = 8))]
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// 11-digit mainland China mobile number (empty: none).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(1[3-9][0-9]{9})?$"))]
    pub mobile: Option<String>,
    #[serde(default)]
    pub dingtalk_user_id: Option<String>,
    #[serde(default)]
    pub feishu_open_id: Option<String>,
    #[serde(default)]
    pub wecom_user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    /// Default true.
    #[serde(default)]
    pub reminders_enabled: Option<bool>,
    /// Ask the user to choose their own password at first login (default true).
    #[serde(default)]
    pub must_change_password: Option<bool>,
}

/// Changes to an account: absent fields stay as they are; `null` or `""` clears an
/// optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[A-Za-z0-9_.\\-\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff]{1,32}[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub display_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "ssr",
        schema(value_type = Option<String>, pattern = "^(1[3-9][0-9]{9})?$")
    )]
    pub mobile: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub dingtalk_user_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub feishu_open_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub wecom_user_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Admins only; `false` signs the user out everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Whether this person gets reminders; members may change their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders_enabled: Option<bool>,
}

impl UserPatch {
    /// Whether the patch touches anything only an admin may change.
    pub fn touches_admin_fields(&self) -> bool {
        self.username.is_some() || self.role.is_some() || self.active.is_some()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match, over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;
/// The highest page number any list accepts.
pub const MAX_PAGE: u64 = 1_000_000;

/// Filters for the user list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Matches username, display name, mobile or e-mail (case-insensitive substring).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(max_length = 64))]
    pub q: Option<String>,
    /// `admin` or `member`.
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    /// 1-based page number (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// Event kind, e.g. `login`, `login_failed`, `user_created`.
    pub kind: String,
    pub actor_user_id: Option<i32>,
    /// Username of whoever acted, `api-token`, `system` or the typed name of a failed login.
    pub actor_name: String,
    /// What the event is about (usually a username).
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Events by or about this user id.
    #[serde(default)]
    pub user_id: Option<i32>,
    /// Event kind name, e.g. `login_failed`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(max_length = 48))]
    pub kind: Option<String>,
    /// First day, `YYYY-MM-DD`, in the server's time zone (empty: no bound).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"))]
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`, not before `from` (empty: no bound).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"))]
    pub to: Option<String>,
    /// 1-based page number (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// The signed-in user, as the page layout needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: UserView,
    /// Shown to admins while any active admin still uses the original's `admin123`.
    pub default_password_in_use: bool,
}

/// A list row for the pages: the item and its time as shown, in the server's `TIMEZONE`.
/// Formatted on the server so the browser bundle needs no time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub item: T,
    /// "YYYY-MM-DD HH:MM"; `None` when there is no time (a user who never signed in).
    pub local_time: Option<String>,
}

/// A shift type (班次) as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShiftView {
    pub id: i32,
    pub name: String,
    /// 1–2 characters shown in the calendar, e.g. 早 / 中 / 夜 / 休.
    pub label: String,
    /// `#rrggbb`.
    pub color: String,
    /// Wall-clock start, `HH:MM` in the server's `TIMEZONE`.
    pub start: String,
    /// Wall-clock end; at or before `start` means the next day.
    pub end: String,
    /// A rest shift (休息, 年假, 调休, 病假): no reminders.
    pub rest: bool,
    /// Minutes before the start for the clock-in reminder.
    pub remind_before_min: u16,
    /// Minutes after the end for the clock-out reminder (`WORK_OVERTIME` unless set).
    pub remind_after_min: u16,
    /// Whether `remind_after_min` follows `WORK_OVERTIME`.
    pub remind_after_default: bool,
    /// Follow-ups while still not punched (追加提醒); `None` follows the global setting.
    pub follow_up_count: Option<u8>,
    /// Minutes between follow-ups; `None` follows the global setting.
    pub follow_up_every_min: Option<u16>,
    pub note: Option<String>,
    /// Archived shifts are hidden from pickers but keep their history.
    pub active: bool,
    pub overnight: bool,
}

/// A new shift type. Times are `HH:MM`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    /// 1–20 characters once trimmed; no control characters.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\u0000-\\u001f\\u007f-\\u009f]([^\\u0000-\\u001f\\u007f-\\u009f]{0,18}[^\\s\\u0000-\\u001f\\u007f-\\u009f])?[ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\u0000-\\u001f\\u007f-\\u009f]{1,2}[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub label: String,
    /// `#rrggbb` (default `#1677ff`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^#[0-9a-fA-F]{6}$"))]
    pub color: Option<String>,
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub end: String,
    #[serde(default)]
    pub rest: Option<bool>,
    /// 0–1440 minutes; default 15.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 1440))]
    pub remind_before_min: Option<u32>,
    /// 0–1440 minutes; default `WORK_OVERTIME`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 1440))]
    pub remind_after_min: Option<u32>,
    /// 0–10 follow-ups; default the global setting.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 10))]
    pub follow_up_count: Option<u32>,
    /// 1–240 minutes between follow-ups; default the global setting.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 240))]
    pub follow_up_every_min: Option<u32>,
    /// At most 200 characters; line breaks but no other control characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub note: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// Changes to a shift type: absent fields stay; `remind_after_min: null` follows
/// `WORK_OVERTIME` again; `note: null` or `""` clears the note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShiftPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\u0000-\\u001f\\u007f-\\u009f]([^\\u0000-\\u001f\\u007f-\\u009f]{0,18}[^\\s\\u0000-\\u001f\\u007f-\\u009f])?[ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\u0000-\\u001f\\u007f-\\u009f]{1,2}[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(pattern = "^#[0-9a-fA-F]{6}$"))]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(maximum = 1440))]
    pub remind_before_min: Option<u32>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<u32>, maximum = 1440))]
    pub remind_after_min: Option<Option<u32>>,
    /// `null` follows the global setting again.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<u32>, maximum = 10))]
    pub follow_up_count: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<u32>, minimum = 1, maximum = 240))]
    pub follow_up_every_min: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "ssr",
        schema(value_type = Option<String>, max_length = 200, pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$")
    )]
    pub note: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// What `DELETE /api/v1/shifts/{id}` did: a shift in use is archived instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShiftRemoval {
    Deleted,
    Archived,
}

/// One schedule entry (排班): this user works this shift on this date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleEntry {
    pub user_id: i32,
    /// `YYYY-MM-DD`, in the server's `TIMEZONE`.
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub shift_id: i32,
    pub note: Option<String>,
}

/// One item of a batch write: `shift_id: null` clears the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleWrite {
    pub user_id: i32,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub shift_id: Option<i32>,
    /// No control characters (line breaks included).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\u0000-\\u001f\\u007f-\\u009f]*[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub note: Option<String>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WriteSummary {
    /// Entries created or changed.
    pub written: u32,
    /// Entries removed.
    pub cleared: u32,
    /// Items that matched what was already stored.
    pub unchanged: u32,
}

/// A date range, both ends inclusive, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct ScheduleQuery {
    /// Whose schedule; members may only ask for their own (the default). Admins get
    /// everyone's when it is left out.
    #[serde(default)]
    pub user_id: Option<i32>,
    #[cfg_attr(feature = "ssr", param(value_type = String, format = Date))]
    pub from: NaiveDate,
    #[cfg_attr(feature = "ssr", param(value_type = String, format = Date))]
    pub to: NaiveDate,
}

/// A date range query for working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct DateRange {
    #[cfg_attr(feature = "ssr", param(value_type = String, format = Date))]
    pub from: NaiveDate,
    #[cfg_attr(feature = "ssr", param(value_type = String, format = Date))]
    pub to: NaiveDate,
}

/// The longest range one request may read or write.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A listed holiday or company day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HolidayEntry {
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub name: String,
    /// `true`: a day off; `false`: a (make-up) working day.
    pub off_day: bool,
    /// `statutory` (built in or imported) or `company`.
    pub source: String,
}

/// A year of holidays as listed by `GET /api/v1/holidays`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HolidayYearView {
    pub year: i32,
    /// Whether statutory data exists for the year; without it weekdays are working days.
    pub has_statutory_data: bool,
    /// `builtin`, `imported` or `none`.
    pub statutory_source: String,
    pub days: Vec<HolidayEntry>,
}

/// A company-specific day off or working day, added by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompanyDayInput {
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub name: String,
    pub off_day: bool,
}

/// Whether a date is a working day, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkdayView {
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub working: bool,
    /// `weekday`, `weekend`, `statutory_holiday`, `make_up_workday`, `company_off_day` or
    /// `company_workday`.
    pub reason: String,
    /// Human-readable, e.g. “法定节假日：春节”.
    pub label: String,
    /// The holiday's name, if any.
    pub name: Option<String>,
    /// True when the year has no holiday data and Monday–Friday was assumed.
    pub estimated: bool,
}

/// One day of a calendar view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub working: bool,
    /// A listed holiday or make-up day: its name and whether it is a day off.
    pub marker: Option<(String, bool)>,
}

/// A person in the team grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub id: i32,
    pub username: String,
    pub display_name: String,
}

/// Everything a calendar view needs for a range, loaded in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarData {
    /// The date the period was chosen around (today on a first load).
    pub anchor: NaiveDate,
    pub span: crate::domain::period::Span,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Today in the server's `TIMEZONE`.
    pub today: NaiveDate,
    pub shifts: Vec<ShiftView>,
    pub members: Vec<TeamMember>,
    #[serde(with = "compact_entries")]
    pub entries: Vec<ScheduleEntry>,
    pub days: Vec<CalendarDay>,
    /// Years in the range without holiday data (weekdays assumed working).
    pub years_without_data: Vec<i32>,
    /// Whether the viewer may edit other people's schedules.
    pub admin: bool,
    /// Leave and undecided requests on people's days.
    pub notes: Vec<CalendarNote>,
}

/// A mark on a person's day in the calendar: approved leave ("年假"), or a request still
/// undecided ("换班待定").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarNote {
    pub user_id: i32,
    pub date: NaiveDate,
    pub request_id: i32,
    pub label: String,
    pub pending: bool,
}

/// Schedule entries on the wire as `[user, day, shift]` or `[user, day, shift, note]`
/// (day: days since 0001-01-01). A 200-person month is 6,200 entries, serialized into the
/// team grid's page for hydration: arrays of numbers are a fifth of the named fields.
mod compact_entries {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    use super::ScheduleEntry;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Plain(i32, i32, i32),
        Noted(i32, i32, i32, String),
    }

    pub fn serialize<S: Serializer>(
        entries: &[ScheduleEntry],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(entries.iter().map(|entry| {
            let day = entry.date.num_days_from_ce();
            match &entry.note {
                None => Wire::Plain(entry.user_id, day, entry.shift_id),
                Some(note) => Wire::Noted(entry.user_id, day, entry.shift_id, note.clone()),
            }
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<ScheduleEntry>, D::Error> {
        Vec::<Wire>::deserialize(deserializer)?
            .into_iter()
            .map(|wire| {
                let (user_id, day, shift_id, note) = match wire {
                    Wire::Plain(user_id, day, shift_id) => (user_id, day, shift_id, None),
                    Wire::Noted(user_id, day, shift_id, note) => {
                        (user_id, day, shift_id, Some(note))
                    }
                };
                let date = NaiveDate::from_num_days_from_ce_opt(day)
                    .ok_or_else(|| D::Error::custom(format!("day {day} is out of range")))?;
                Ok(ScheduleEntry {
                    user_id,
                    date,
                    shift_id,
                    note,
                })
            })
            .collect()
    }
}

/// What a batch plan would do: counts over everything, and the rows to show (changes
/// first, at most 1,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPreview {
    pub summary: crate::domain::plan::PlanSummary,
    pub total: usize,
    pub rows: Vec<crate::domain::plan::PlannedDay>,
}

/// One row of an import preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportRow {
    /// The line (CSV, data.json) or row (XLSX) number in the file.
    pub line: usize,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = Date))]
    pub date: Option<NaiveDate>,
    pub username: String,
    pub shift: String,
    pub note: Option<String>,
    /// `new`, `change`, `unchanged` or `error`.
    pub status: String,
    /// For `change`: the shift that would be replaced.
    pub previous: Option<String>,
    /// For `error`: what is wrong with the row.
    pub message: Option<String>,
}

/// Counts over an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub rows: usize,
    pub new: usize,
    pub change: usize,
    pub unchanged: usize,
    pub errors: usize,
}

/// The answer to an import: the per-row preview and, unless `dry_run`, whether it was
/// written (only when no row has an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub format: String,
    pub dry_run: bool,
    pub committed: bool,
    pub summary: ImportSummary,
    pub rows: Vec<ImportRow>,
}

// ---------------------------------------------------------------------------------------
// Reminders (提醒): settings, channels, upcoming reminders, deliveries, punches.

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    /// Set by an environment variable: read-only here.
    Environment,
    /// Stored in the database by an admin.
    Database,
    /// Neither: the built-in default.
    Default,
}

/// How the settings page edits a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettingInput {
    Toggle,
    Number {
        min: u32,
        max: u32,
    },
    Text,
    Url,
    /// Write-only: the value is never sent back in full.
    Secret,
    Choice {
        options: Vec<SettingOption>,
    },
    Template,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SettingOption {
    pub value: String,
    pub label: String,
}

/// One system setting (系统设置) as the settings page and `GET /api/v1/settings` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SettingField {
    pub key: String,
    pub group: String,
    pub label: String,
    pub help: String,
    pub input: SettingInput,
    /// The effective value; secrets are masked (`已设置（…abcd）`) or empty.
    pub value: String,
    pub is_set: bool,
    pub source: SettingSource,
    /// The environment variable that can pin this setting.
    pub env_var: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SettingsView {
    pub fields: Vec<SettingField>,
    /// `PUBLIC_URL` (its origin): the address of the one-click links in reminders; none
    /// without it, and the settings page says how to turn them on.
    #[serde(default)]
    pub public_url: Option<String>,
}

/// Changes to settings: key → new value as text (`"true"`, `"15"`, a URL, a template).
/// An empty string returns a setting to its default (or clears a secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct SettingsPatch(pub std::collections::BTreeMap<String, String>);

/// A notification channel (通知渠道): one group robot or webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: i32,
    pub name: String,
    /// The channel kind: `dingtalk`, `feishu`, `wecom`, `generic` or a personal push service.
    pub kind: String,
    /// The URL with its token masked.
    pub url: String,
    /// Whether a signing secret is stored (never returned).
    pub has_secret: bool,
    /// `text` or `markdown`.
    pub format: String,
    /// The person whose own robot this is; `None` for a team-wide channel.
    pub user_id: Option<i32>,
    pub user_name: Option<String>,
    /// Any of `clock_in`, `clock_out`.
    pub purposes: Vec<String>,
    pub active: bool,
    /// Set while the robot refuses us as too fast (DingTalk 130101 and the like): nothing
    /// is sent to it before this local time (`YYYY-MM-DD HH:MM`).
    #[serde(default)]
    pub banned_until: Option<String>,
    /// The robot's own words when it banned us.
    #[serde(default)]
    pub ban_reason: Option<String>,
    /// The channel's latest sent or failed reminder: status, local time, and the reason
    /// of a failure.
    #[serde(default)]
    pub last_result: Option<String>,
    /// The address's `?parameters` that change nothing for a reminder, each with the reason
    /// (Apprise's `overflow`, a PGP key, a value that names nobody).
    #[serde(default)]
    pub ignored_params: Vec<crate::domain::channel::IgnoredParam>,
}

/// A new channel. `kind` defaults to what the URL shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub name: String,
    /// A channel kind (`domain::channel::KINDS`; the OpenAPI document lists them); empty or
    /// absent: what the URL shows.
    #[serde(default)]
    pub kind: Option<String>,
    pub url: String,
    #[serde(default)]
    pub secret: Option<String>,
    /// `text` (default) or `markdown`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(text|markdown)?$"))]
    pub format: Option<String>,
    #[serde(default)]
    pub user_id: Option<i32>,
    /// Default both.
    #[serde(default)]
    pub purposes: Option<Vec<String>>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// Changes to a channel: absent fields stay; `secret: null` or `""` removes the secret;
/// `user_id: null` makes it team-wide.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub name: Option<String>,
    /// A channel kind, as in [`NewChannel::kind`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub secret: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(text|markdown)?$"))]
    pub format: Option<String>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i32>))]
    pub user_id: Option<Option<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// What a robot answered to a test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelTestResult {
    pub ok: bool,
    /// `accepted`, `retryable` or `permanent` (or `network` when no answer came).
    pub verdict: String,
    pub http_status: Option<u16>,
    /// The robot's answer body (cut to 2,000 characters).
    pub answer: String,
    /// What it means, in zh-CN.
    pub message: String,
}

/// The channels a reminder tries, in order, per reminder kind (channel ids). Empty: the
/// built-in order (a person's own channels, then the team's, then the default robot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelOrder {
    /// At most 10.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub clock_in: Vec<i32>,
    /// At most 10.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub clock_out: Vec<i32>,
}

/// Whom to look up by mobile in a company app's directory: the people named, or everyone
/// active when `user_ids` is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindRequest {
    /// At most 1,000.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 1000))]
    pub user_ids: Option<Vec<i32>>,
}

/// Who was found in the directory (their id is now on their profile) and who was not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BindReport {
    pub bound: Vec<BoundPerson>,
    pub not_found: Vec<UnboundPerson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BoundPerson {
    pub user_id: i32,
    pub name: String,
    /// The DingTalk userid, Feishu open_id or WeCom userid found.
    pub platform_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnboundPerson {
    pub user_id: i32,
    pub name: String,
    /// Why, in zh-CN: no mobile, not in the directory, or the platform's own answer.
    pub reason: String,
}

/// One reminder that will be due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpcomingReminder {
    pub user_id: i32,
    pub date: NaiveDate,
    /// `clock_in` or `clock_out`.
    pub kind: String,
    /// 0 for the reminder itself, n for the nth follow-up.
    pub sequence: u8,
    /// RFC 3339 with the `TIMEZONE` offset.
    pub at: String,
    pub shift_id: i32,
    /// The channel it would go to; `None` for the default robot (`WORKING_URL`/`NO_WORK_URL`)
    /// or when there is none (then `channel` says so).
    pub channel_id: Option<i32>,
    pub channel: String,
}

/// A user's day with no reminder, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NoReminderDay {
    pub user_id: i32,
    pub date: NaiveDate,
    /// `no_schedule`, `rest_day`, `holiday`, `user_inactive`, `user_opted_out`,
    /// `unknown_shift`, `on_leave` (approved leave for the whole day) or `reminders_disabled`.
    pub reason: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpcomingView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reminders: Vec<UpcomingReminder>,
    pub none: Vec<NoReminderDay>,
    /// Whether sending is switched on (computing always is).
    pub sending_enabled: bool,
    pub users: Vec<TeamMember>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct UpcomingQuery {
    /// Default today (in `TIMEZONE`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, format = Date))]
    pub from: Option<NaiveDate>,
    /// Default `from` + 6 days; at most 62 days.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, format = Date))]
    pub to: Option<NaiveDate>,
    /// One person; admins get everyone when left out, members themselves.
    #[serde(default)]
    pub user_id: Option<i32>,
}

/// One delivery: a reminder's journey to its robot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: i32,
    pub user_id: i32,
    pub user_name: String,
    pub date: NaiveDate,
    pub kind: String,
    pub sequence: u8,
    pub shift: String,
    /// When it was due (RFC 3339 with offset).
    pub due_at: String,
    pub sent_at: Option<String>,
    /// Seconds between due and sent.
    pub lateness_secs: Option<i64>,
    /// `pending`, `sending`, `sent`, `skipped`, `missed`, `failed` or `disabled`.
    pub status: String,
    pub status_label: String,
    pub channel: String,
    pub attempts: i32,
    /// The robot's last answer or the reason for the status.
    pub answer: Option<String>,
    pub check_result: Option<String>,
    /// Shared by the deliveries that went out together as one merged group message.
    #[serde(default)]
    pub message_key: Option<String>,
    /// Everyone in that merged message (their display names), when it had more than one.
    #[serde(default)]
    pub message_people: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct DeliveryQuery {
    #[serde(default)]
    pub user_id: Option<i32>,
    /// `clock_in` or `clock_out` (empty: both).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = "^(clock_in|clock_out)?$"))]
    pub kind: Option<String>,
    /// `pending`, `sending`, `sent`, `skipped`, `missed`, `failed`, `disabled` or `cancelled` (empty: all).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(pattern = "^(pending|sending|sent|skipped|missed|failed|disabled|cancelled)?$")
    )]
    pub status: Option<String>,
    /// Reminder dates from (inclusive).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, format = Date))]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, format = Date))]
    pub to: Option<NaiveDate>,
    /// 1-based page number (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// A punch (打卡) recorded by a phone shortcut, another tool or a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPunch {
    #[serde(default)]
    pub user_id: Option<i32>,
    #[serde(default)]
    pub username: Option<String>,
    /// `clock_in` or `clock_out`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(clock_in|clock_out)$"))]
    pub kind: String,
    /// RFC 3339; default now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PunchView {
    pub id: i32,
    pub user_id: i32,
    pub kind: String,
    pub at: String,
    pub source: String,
}

/// The reminder worker as the health check and the dashboard see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkerStatus {
    /// `running`, `stalled` (no tick for 3 minutes) or `starting`.
    pub state: String,
    pub last_tick_at: Option<String>,
    pub lag_secs: Option<i64>,
    /// Deliveries waiting to be sent (pending or sending).
    pub queued: u64,
    pub sending_enabled: bool,
}

/// One shift of today on the home page: the shift and who works it, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftToday {
    pub shift: ShiftView,
    pub people: Vec<String>,
}

/// The home dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub today: NaiveDate,
    pub local_time: String,
    pub timezone: String,
    pub my_shift: Option<ShiftView>,
    /// Admins: who works what today, one entry per shift (by start time), so that a big
    /// team's page carries each shift once.
    pub team_today: Vec<ShiftToday>,
    pub next_reminders: Vec<UpcomingReminder>,
    pub deliveries_today: Vec<DeliveryView>,
    pub worker: WorkerStatus,
    pub admin: bool,
    /// The people and shifts of `next_reminders`.
    pub user_names: Vec<(i32, String)>,
    pub shift_names: Vec<(i32, String)>,
    /// Requests waiting for the viewer: admins, those to approve; others, those they are
    /// asked to accept.
    pub requests_waiting: u64,
}

/// A personal access token as its owner sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessTokenView {
    pub id: i32,
    pub name: String,
    pub scope: crate::domain::access_token::TokenScope,
    /// The token's first characters, e.g. `dda_pat_Ab3x`.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// `null`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expired: bool,
}

/// A token to create for the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAccessToken {
    /// What the token is for, 1–64 characters.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 64))]
    pub name: String,
    /// `read`, `write`, or (admins only) `admin`.
    pub scope: crate::domain::access_token::TokenScope,
    /// Days until it expires, 1–3650; `null` or absent: never.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 3650))]
    pub expires_in_days: Option<u32>,
}

/// A new token: `token` is shown this once and cannot be read again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedAccessToken {
    pub token: String,
    pub info: AccessTokenView,
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn calendar_entries_travel_as_compact_arrays_and_come_back_unchanged() {
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        let data = CalendarData {
            anchor: date("2026-12-03"),
            span: crate::domain::period::Span::Month,
            from: date("2026-11-30"),
            to: date("2027-01-03"),
            today: date("2026-12-03"),
            shifts: Vec::new(),
            members: Vec::new(),
            entries: vec![
                ScheduleEntry {
                    user_id: 7,
                    date: date("2026-12-01"),
                    shift_id: 2,
                    note: None,
                },
                ScheduleEntry {
                    user_id: 8,
                    date: date("0001-01-01"),
                    shift_id: 3,
                    note: Some("值班, \"含\" 周会".to_owned()),
                },
            ],
            days: Vec::new(),
            years_without_data: Vec::new(),
            admin: true,
            notes: Vec::new(),
        };
        let json = serde_json::to_string(&data).expect("serialize");
        assert!(
            json.contains(r#""entries":[[7,739951,2],[8,1,3,"值班, \"含\" 周会"]]"#),
            "{json}"
        );
        let back: CalendarData = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, data);
        let out_of_range = json.replace("[7,739951,2]", "[7,2147483647,2]");
        assert!(serde_json::from_str::<CalendarData>(&out_of_range).is_err());
    }
}

/// What the home page shows about this installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemOverview {
    pub version: String,
    pub timezone: String,
    /// Wall-clock time in `timezone`, "YYYY-MM-DD HH:MM:SS".
    pub local_time: String,
    /// The UTC offset of `timezone` now, e.g. "+08:00".
    pub utc_offset: String,
    pub reminder_enabled: bool,
    pub work_overtime_min: u32,
}
