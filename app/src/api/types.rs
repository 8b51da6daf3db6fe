//! The shapes that cross the wire, shared by the browser, the server functions and the
//! REST API (whose OpenAPI document is generated from them).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Role;

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
    pub username: String,
    /// At least 8 characters, not the username, not a well-known password.
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
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
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
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

/// Filters for the user list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Matches username, display name, mobile or e-mail (case-insensitive substring).
    #[serde(default)]
    pub q: Option<String>,
    /// `admin` or `member`.
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    /// 1-based page number (default 1).
    #[serde(default)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[serde(default)]
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
    pub kind: Option<String>,
    /// First day, `YYYY-MM-DD`, in the server's time zone.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
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
    pub name: String,
    pub label: String,
    /// `#rrggbb` (default `#1677ff`).
    #[serde(default)]
    pub color: Option<String>,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub rest: Option<bool>,
    /// Default 15.
    #[serde(default)]
    pub remind_before_min: Option<u32>,
    /// Default `WORK_OVERTIME`.
    #[serde(default)]
    pub remind_after_min: Option<u32>,
    #[serde(default)]
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
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_before_min: Option<u32>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<u32>))]
    pub remind_after_min: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
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
    #[serde(default)]
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
    pub entries: Vec<ScheduleEntry>,
    pub days: Vec<CalendarDay>,
    /// Years in the range without holiday data (weekdays assumed working).
    pub years_without_data: Vec<i32>,
    /// Whether the viewer may edit other people's schedules.
    pub admin: bool,
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
