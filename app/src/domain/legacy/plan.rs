//! Planning an import: which legacy row becomes which row here, compared with what is
//! already here, so that a repeated import plans no writes at all.
//!
//! Rows are matched by their natural keys: users by username (case-insensitive), shift
//! types by name, schedules by person and day, settings by key, log entries by the legacy
//! id kept in their detail. The original's values win over ours, with one exception: an
//! account that has already signed in here keeps its own password, role and flags.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::report::{Action, Report};
use super::{
    Legacy, LegacyConfig, LegacyLog, LegacySchedule, LegacyShift, LegacyUser, SCHEDULES,
    SHIFT_TYPES, SYSTEM_CONFIGS, SYSTEM_LOGS, USERS,
};
use crate::domain::account::{Role, parse_email};
use crate::domain::shift::ShiftColor;

/// The original's `system_configs` keys that have a setting here of the same name.
pub const IMPORTED_SETTINGS: [&str; 6] = [
    "reminder_enabled",
    "work_overtime",
    "check_url",
    "api_token",
    "working_url",
    "no_work_url",
];

/// Shift names that mean a day off, whatever their hours.
pub const REST_SHIFT_NAMES: [&str; 3] = ["休", "休息", "休息日"];

/// Starts the detail of every imported log entry, followed by the legacy id: how a repeated
/// import recognises what it already carried over.
pub const LOG_MARKER: &str = "旧系统日志 #";

const NOTE_MAX_CHARS: usize = 200;
const DEFAULT_COLOR: &str = "#1677ff";
const REST_COLOR: &str = "#95a5a6";
/// The audit log's name for entries with no (known) user, as `ssr::audit::SYSTEM_ACTOR`.
const SYSTEM_ACTOR: &str = "system";

/// The legacy id in an imported entry's detail.
pub fn log_marker_id(detail: &str) -> Option<i64> {
    let rest = detail.strip_prefix(LOG_MARKER)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// An account here, as far as the import compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurUser {
    pub id: i32,
    pub username: String,
    pub username_key: String,
    pub role: Role,
    pub active: bool,
    pub email: Option<String>,
    pub password_hash: String,
    pub must_change_password: bool,
    /// Has signed in here at least once: its password is then its own, not the original's.
    pub signed_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurShift {
    pub id: i32,
    pub name: String,
    pub label: String,
    pub color: String,
    pub start: String,
    pub end: String,
    pub rest: bool,
    pub active: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurSchedule {
    pub id: i32,
    pub user_id: i32,
    pub date: NaiveDate,
    pub shift_id: i32,
    pub note: Option<String>,
}

/// What is already here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ours {
    pub users: Vec<OurUser>,
    pub shifts: Vec<OurShift>,
    pub schedules: Vec<OurSchedule>,
    /// Stored setting values by key ("" = reset to the default).
    pub settings: HashMap<String, String>,
    /// Legacy log ids already carried over (from `log_marker_id`).
    pub imported_logs: HashSet<i64>,
}

/// How a legacy setting value fares here; decided by the settings service (its validation
/// and the environment's pins), outside this pure module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingCheck {
    /// Valid: stored in this form.
    Accept(String),
    /// An environment variable (named) pins the setting: it would never take effect.
    Pinned(&'static str),
    /// Refused, with the rule it breaks (never the value: URLs carry tokens).
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanContext {
    pub now: DateTime<Utc>,
    /// Log entries older than this would be removed by the audit log's retention at once.
    pub keep_logs_since: DateTime<Utc>,
    pub retention_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUser {
    pub legacy_id: i64,
    /// The matching account here.
    pub existing: Option<i32>,
    pub action: Action,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    /// werkzeug's hash, verified at login and then replaced with argon2id.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedShift {
    /// `None` for a rest shift created because the original had none.
    pub legacy_id: Option<i64>,
    pub existing: Option<i32>,
    pub action: Action,
    pub name: String,
    pub label: String,
    pub color: String,
    pub start: String,
    pub end: String,
    pub rest: bool,
    pub active: bool,
    pub note: Option<String>,
}

/// A shift a schedule points at: one of the plan's (by index) or one only we have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftRef {
    Planned(usize),
    Existing(i32),
}

/// A schedule entry to write (new or updated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSchedule {
    pub legacy_id: i64,
    /// Our entry for the same person and day, when there is one.
    pub existing: Option<i32>,
    pub action: Action,
    /// Index into `Plan::users`.
    pub user: usize,
    pub shift: ShiftRef,
    pub date: NaiveDate,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A setting to write (new or updated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSetting {
    pub key: &'static str,
    pub value: String,
    pub action: Action,
}

/// An audit log entry to write, already cut to the columns' sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLog {
    pub legacy_id: i64,
    /// Index into `Plan::users`.
    pub actor: Option<usize>,
    pub actor_name: String,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub detail: String,
}

/// Everything an import writes, and the report it prints. Users and shifts are listed
/// whatever their action (schedules and log entries refer to them by index); schedules,
/// settings and log entries only when they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub users: Vec<PlannedUser>,
    pub shifts: Vec<PlannedShift>,
    pub schedules: Vec<PlannedSchedule>,
    pub settings: Vec<PlannedSetting>,
    pub logs: Vec<PlannedLog>,
    pub report: Report,
}

/// Plans the import of `legacy` into `ours`. Infallible: every value was checked while
/// parsing; what cannot be carried over is skipped and reported.
pub fn plan(
    legacy: &Legacy,
    ours: &Ours,
    context: &PlanContext,
    check_setting: impl Fn(&str, &str) -> SettingCheck,
) -> Plan {
    let mut report = Report {
        left_behind: legacy.left_behind.clone(),
        ..Report::default()
    };
    let users = plan_users(&legacy.users, ours, context.now, &mut report);
    let mut shifts = plan_shifts(&legacy.shifts, ours, &mut report);
    let schedules = plan_schedules(
        &legacy.schedules,
        ours,
        &users,
        &mut shifts,
        context.now,
        &mut report,
    );
    let settings = plan_settings(&legacy.configs, ours, check_setting, &mut report);
    let logs = plan_logs(&legacy.logs, ours, &users, context, &mut report);
    Plan {
        users,
        shifts,
        schedules,
        settings,
        logs,
        report,
    }
}

fn plan_users(
    legacy: &[LegacyUser],
    ours: &Ours,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Vec<PlannedUser> {
    let mut planned = Vec::with_capacity(legacy.len());
    for user in legacy {
        let email = match parse_email(user.email.as_deref()) {
            Ok(email) => email,
            Err(error) => {
                report.conflict(
                    USERS.name,
                    Some(user.id),
                    format!(
                        "email “{}” is not imported ({})",
                        user.email.as_deref().unwrap_or_default(),
                        error.message
                    ),
                );
                None
            }
        };
        let created_at = user.created_at.unwrap_or(now);
        let mut row = PlannedUser {
            legacy_id: user.id,
            existing: None,
            action: Action::New,
            username: user.username.as_str().to_owned(),
            username_key: user.key(),
            email,
            role: if user.admin {
                Role::Admin
            } else {
                Role::Member
            },
            active: user.active,
            password_hash: user.password_hash.clone(),
            created_at,
            updated_at: user.updated_at.unwrap_or(created_at),
        };
        if let Some(our) = ours
            .users
            .iter()
            .find(|our| our.username_key == row.username_key)
        {
            row.existing = Some(our.id);
            let same = our.password_hash == row.password_hash
                && our.role == row.role
                && our.active == row.active
                && our.email == row.email
                && !our.must_change_password;
            row.action = if same {
                Action::Unchanged
            } else if our.signed_in {
                report.conflict(
                    USERS.name,
                    Some(user.id),
                    format!(
                        "“{}” already exists here and has signed in here: kept as it is (its \
                         password, role, active flag and email are not taken from the original)",
                        our.username
                    ),
                );
                Action::Skipped
            } else {
                report.conflict(
                    USERS.name,
                    Some(user.id),
                    format!(
                        "“{}” already exists here but has never signed in: it takes the \
                         original's password, role, active flag and email",
                        our.username
                    ),
                );
                Action::Updated
            };
        }
        report.users.add(row.action);
        planned.push(row);
    }
    let planned_admin = planned
        .iter()
        .any(|user| user.action.writes() && user.role == Role::Admin && user.active);
    let kept_admin = ours.users.iter().any(|our| {
        our.role == Role::Admin
            && our.active
            && !planned
                .iter()
                .any(|user| user.action.writes() && user.existing == Some(our.id))
    });
    if !planned_admin && !kept_admin {
        report.conflict(
            USERS.name,
            None,
            "no active admin after the import: create one with `dingding-attendance create-admin`",
        );
    }
    planned
}

/// The mark shown in calendar cells: the name's first character ("A班" → "A", "休" → "休").
fn label_for(name: &str) -> String {
    name.chars().next().map(String::from).unwrap_or_default()
}

/// A note as stored here: trimmed, control characters (except line breaks) replaced by
/// spaces, at most 200 characters. The flag says whether it was cut.
fn clean_note(raw: Option<&str>) -> (Option<String>, bool) {
    let Some(text) = raw.map(str::trim).filter(|text| !text.is_empty()) else {
        return (None, false);
    };
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    let cut = cleaned.chars().count() > NOTE_MAX_CHARS;
    let note: String = cleaned.chars().take(NOTE_MAX_CHARS).collect();
    (Some(note.trim_end().to_owned()), cut)
}

fn plan_shifts(legacy: &[LegacyShift], ours: &Ours, report: &mut Report) -> Vec<PlannedShift> {
    let mut planned = Vec::with_capacity(legacy.len());
    for shift in legacy {
        let color = match shift.color.as_deref() {
            None => None,
            Some(raw) => match ShiftColor::parse(raw) {
                Ok(color) => Some(color.to_string()),
                Err(_) => {
                    report.conflict(
                        SHIFT_TYPES.name,
                        Some(shift.id),
                        format!("colour “{raw}” is not #rrggbb: the shift keeps its colour here"),
                    );
                    None
                }
            },
        };
        let (note, cut) = clean_note(shift.description.as_deref());
        if cut {
            report.conflict(
                SHIFT_TYPES.name,
                Some(shift.id),
                format!("description cut to {NOTE_MAX_CHARS} characters"),
            );
        }
        let rest = shift.is_rest();
        let mut row = PlannedShift {
            legacy_id: Some(shift.id),
            existing: None,
            action: Action::New,
            name: shift.name.clone(),
            label: label_for(&shift.name),
            color: color
                .clone()
                .unwrap_or_else(|| if rest { REST_COLOR } else { DEFAULT_COLOR }.to_owned()),
            start: shift.start.to_string(),
            end: shift.end.to_string(),
            rest,
            active: shift.active,
            note,
        };
        if let Some(our) = ours.shifts.iter().find(|our| our.name == shift.name) {
            row.existing = Some(our.id);
            // The label is ours alone (the original had none).
            row.label = our.label.clone();
            if color.is_none() {
                row.color = our.color.clone();
            }
            let same = our.start == row.start
                && our.end == row.end
                && our.color == row.color
                && our.rest == row.rest
                && our.active == row.active
                && our.note == row.note;
            row.action = if same {
                Action::Unchanged
            } else {
                Action::Updated
            };
        }
        report.shifts.add(row.action);
        planned.push(row);
    }
    planned
}

/// The shift the original's rest days (`is_rest_day`) become: the original's own rest shift
/// (its `休`, which the seeded `休` here matches by name), else a rest shift of ours, else a
/// new `休`.
fn rest_shift(planned: &mut Vec<PlannedShift>, ours: &Ours, report: &mut Report) -> ShiftRef {
    let legacy_rest = planned
        .iter()
        .position(|shift| shift.rest && shift.active)
        .or_else(|| planned.iter().position(|shift| shift.rest));
    if let Some(index) = legacy_rest {
        return ShiftRef::Planned(index);
    }
    if let Some(our) = ours
        .shifts
        .iter()
        .filter(|shift| shift.rest)
        .min_by_key(|shift| {
            (
                !shift.active,
                !REST_SHIFT_NAMES.contains(&shift.name.as_str()),
                shift.id,
            )
        })
    {
        return ShiftRef::Existing(our.id);
    }
    let taken = |name: &str| {
        ours.shifts.iter().any(|shift| shift.name == name)
            || planned.iter().any(|shift| shift.name == name)
    };
    let name = REST_SHIFT_NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .chain((2..).map(|n| format!("休{n}")))
        .find(|name| !taken(name))
        .unwrap_or_default();
    report.conflict(
        SHIFT_TYPES.name,
        None,
        format!(
            "no rest shift existed: created “{name}” (00:00–00:00) for the original's rest days"
        ),
    );
    report.shifts.add(Action::New);
    planned.push(PlannedShift {
        legacy_id: None,
        existing: None,
        action: Action::New,
        label: "休".to_owned(),
        name,
        color: REST_COLOR.to_owned(),
        start: "00:00".to_owned(),
        end: "00:00".to_owned(),
        rest: true,
        active: true,
        note: None,
    });
    ShiftRef::Planned(planned.len() - 1)
}

/// A row dropped because the same person has a newer row for the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate<'a> {
    pub dropped: &'a LegacySchedule,
    pub kept: &'a LegacySchedule,
}

/// One row per person and day: the newest (`LegacySchedule::recency`) is kept; every other
/// one is returned as a duplicate. Both lists are in id order.
pub fn resolve_duplicates(rows: &[LegacySchedule]) -> (Vec<&LegacySchedule>, Vec<Duplicate<'_>>) {
    let mut groups: BTreeMap<(i64, NaiveDate), Vec<&LegacySchedule>> = BTreeMap::new();
    for row in rows {
        groups.entry((row.user_id, row.date)).or_default().push(row);
    }
    let mut kept = Vec::with_capacity(groups.len());
    let mut duplicates = Vec::new();
    for mut group in groups.into_values() {
        group.sort_by_key(|row| std::cmp::Reverse(row.recency()));
        let Some((&newest, older)) = group.split_first() else {
            continue;
        };
        kept.push(newest);
        duplicates.extend(older.iter().map(|&dropped| Duplicate {
            dropped,
            kept: newest,
        }));
    }
    kept.sort_by_key(|row| row.id);
    duplicates.sort_by_key(|duplicate| duplicate.dropped.id);
    (kept, duplicates)
}

fn plan_schedules(
    legacy: &[LegacySchedule],
    ours: &Ours,
    users: &[PlannedUser],
    shifts: &mut Vec<PlannedShift>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Vec<PlannedSchedule> {
    let user_index: HashMap<i64, usize> = users
        .iter()
        .enumerate()
        .map(|(index, user)| (user.legacy_id, index))
        .collect();
    let shift_index: HashMap<i64, usize> = shifts
        .iter()
        .enumerate()
        .filter_map(|(index, shift)| shift.legacy_id.map(|id| (id, index)))
        .collect();
    let current: HashMap<(i32, NaiveDate), &OurSchedule> = ours
        .schedules
        .iter()
        .map(|entry| ((entry.user_id, entry.date), entry))
        .collect();

    let (kept, duplicates) = resolve_duplicates(legacy);
    for duplicate in duplicates {
        report.schedules.add(Action::Skipped);
        report.conflict(
            SCHEDULES.name,
            Some(duplicate.dropped.id),
            format!(
                "duplicate: user_id {} has several rows for {}; kept row id {} (the newest), \
                 row id {} is not imported",
                duplicate.dropped.user_id,
                duplicate.dropped.date,
                duplicate.kept.id,
                duplicate.dropped.id
            ),
        );
    }

    let mut rest: Option<ShiftRef> = None;
    let mut planned = Vec::new();
    for row in kept {
        let skip = |report: &mut Report, message: String| {
            report.schedules.add(Action::Skipped);
            report.conflict(SCHEDULES.name, Some(row.id), message);
        };
        let Some(&user) = user_index.get(&row.user_id) else {
            skip(
                report,
                format!("user_id {} is not in users: not imported", row.user_id),
            );
            continue;
        };
        let shift = if row.rest_day {
            match rest {
                Some(shift) => shift,
                None => {
                    let shift = rest_shift(shifts, ours, report);
                    rest = Some(shift);
                    shift
                }
            }
        } else {
            match row.shift_type_id {
                Some(id) => match shift_index.get(&id) {
                    Some(&index) => ShiftRef::Planned(index),
                    None => {
                        skip(
                            report,
                            format!("shift_type_id {id} is not in shift_types: not imported"),
                        );
                        continue;
                    }
                },
                None => {
                    skip(
                        report,
                        "no shift (shift_type_id is empty) and not a rest day: not imported"
                            .to_owned(),
                    );
                    continue;
                }
            }
        };
        let (note, cut) = clean_note(row.note.as_deref());
        if cut {
            report.conflict(
                SCHEDULES.name,
                Some(row.id),
                format!("note cut to {NOTE_MAX_CHARS} characters"),
            );
        }
        let our_shift = match shift {
            ShiftRef::Existing(id) => Some(id),
            ShiftRef::Planned(index) => shifts.get(index).and_then(|shift| shift.existing),
        };
        let existing = users
            .get(user)
            .and_then(|user| user.existing)
            .and_then(|user_id| current.get(&(user_id, row.date)));
        let action = match existing {
            None => Action::New,
            Some(entry) if our_shift == Some(entry.shift_id) && entry.note == note => {
                Action::Unchanged
            }
            Some(_) => Action::Updated,
        };
        report.schedules.add(action);
        if action.writes() {
            planned.push(PlannedSchedule {
                legacy_id: row.id,
                existing: existing.map(|entry| entry.id),
                action,
                user,
                shift,
                date: row.date,
                note,
                updated_at: row.updated_at.or(row.created_at).unwrap_or(now),
            });
        }
    }
    planned
}

fn plan_settings(
    configs: &[LegacyConfig],
    ours: &Ours,
    check: impl Fn(&str, &str) -> SettingCheck,
    report: &mut Report,
) -> Vec<PlannedSetting> {
    let mut planned = Vec::new();
    for config in configs {
        let skip = |report: &mut Report, message: String| {
            report.settings.add(Action::Skipped);
            report.conflict(SYSTEM_CONFIGS.name, Some(config.rowid), message);
        };
        let Some(key) = IMPORTED_SETTINGS
            .iter()
            .copied()
            .find(|key| *key == config.key)
        else {
            skip(
                report,
                format!("key “{}” has no setting here: not imported", config.key),
            );
            continue;
        };
        let Some(raw) = config.value.as_deref() else {
            skip(
                report,
                format!("{key} is empty in the original: the default here stays"),
            );
            continue;
        };
        match check(key, raw) {
            SettingCheck::Pinned(variable) => skip(
                report,
                format!(
                    "{key} is set by the environment variable {variable} here, which wins: the \
                     original's value is not imported"
                ),
            ),
            SettingCheck::Invalid(rule) => skip(
                report,
                format!("{key}: the original's value cannot be used here ({rule})"),
            ),
            SettingCheck::Accept(value) => {
                let action = match ours.settings.get(key) {
                    None => Action::New,
                    Some(stored) if *stored == value => Action::Unchanged,
                    Some(_) => Action::Updated,
                };
                report.settings.add(action);
                if action.writes() {
                    planned.push(PlannedSetting { key, value, action });
                }
            }
        }
    }
    planned
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

fn log_detail(log: &LegacyLog, unknown_user: Option<i64>) -> String {
    let mut detail = format!("{LOG_MARKER}{}", log.id);
    let tags: Vec<&str> = [log.level.as_deref(), log.log_type.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !tags.is_empty() {
        detail.push_str(&format!(" [{}]", tags.join("/")));
    }
    if let Some(user_id) = unknown_user {
        detail.push_str(&format!(" (user_id {user_id})"));
    }
    if !log.message.is_empty() {
        detail.push(' ');
        detail.push_str(&log.message);
    }
    detail
}

fn plan_logs(
    logs: &[LegacyLog],
    ours: &Ours,
    users: &[PlannedUser],
    context: &PlanContext,
    report: &mut Report,
) -> Vec<PlannedLog> {
    let user_index: HashMap<i64, usize> = users
        .iter()
        .enumerate()
        .map(|(index, user)| (user.legacy_id, index))
        .collect();
    let mut planned = Vec::new();
    let mut too_old = 0usize;
    for log in logs {
        if ours.imported_logs.contains(&log.id) {
            report.logs.add(Action::Unchanged);
            continue;
        }
        // Housekeeping would delete it within hours, and a later import would bring it back.
        if log.created_at < context.keep_logs_since {
            too_old += 1;
            report.logs.add(Action::Skipped);
            continue;
        }
        let actor = log.user_id.and_then(|id| user_index.get(&id).copied());
        let (actor_name, subject) = match actor.and_then(|index| users.get(index)) {
            Some(user) => (user.username.clone(), Some(user.username_key.clone())),
            None => (SYSTEM_ACTOR.to_owned(), None),
        };
        let unknown_user = log.user_id.filter(|_| actor.is_none());
        report.logs.add(Action::New);
        planned.push(PlannedLog {
            legacy_id: log.id,
            actor,
            actor_name: truncate(&actor_name, 64),
            subject: subject.map(|subject| truncate(&subject, 64)),
            ip: log.ip.as_deref().map(|ip| truncate(ip, 45)),
            user_agent: log.user_agent.as_deref().map(|ua| truncate(ua, 255)),
            created_at: log.created_at,
            detail: log_detail(log, unknown_user),
        });
    }
    if too_old > 0 {
        report.conflict(
            SYSTEM_LOGS.name,
            None,
            format!(
                "{too_old} entries are older than the audit log keeps entries \
                 (AUDIT_RETENTION_DAYS={}): not imported",
                context.retention_days
            ),
        );
    }
    planned
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::account::Username;
    use crate::domain::shift::ClockTime;

    const HASH: &str = "pbkdf2:sha256:1000000$tPG8BW1tcW2Wv5d9$e536d498baa5feb5b4533f8193b247992330408f4fce64298b2d7b74bff5b8d8";

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .expect("valid")
    }

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("valid")
    }

    fn context() -> PlanContext {
        PlanContext {
            now: at(30, 0),
            keep_logs_since: at(1, 0),
            retention_days: 180,
        }
    }

    fn user(id: i64, name: &str, admin: bool) -> LegacyUser {
        LegacyUser {
            id,
            username: Username::parse(name).expect("valid"),
            password_hash: HASH.to_owned(),
            email: None,
            admin,
            active: true,
            created_at: Some(at(1, 1)),
            updated_at: None,
        }
    }

    fn shift(id: i64, name: &str, start: (u32, u32), end: (u32, u32), color: &str) -> LegacyShift {
        LegacyShift {
            id,
            name: name.to_owned(),
            start: ClockTime::new(start.0, start.1).expect("valid"),
            end: ClockTime::new(end.0, end.1).expect("valid"),
            color: Some(color.to_owned()),
            description: None,
            active: true,
        }
    }

    fn schedule(id: i64, user_id: i64, shift: Option<i64>, day: u32) -> LegacySchedule {
        LegacySchedule {
            id,
            user_id,
            shift_type_id: shift,
            date: date(day),
            rest_day: false,
            note: None,
            created_at: Some(at(1, 0)),
            updated_at: None,
        }
    }

    /// What a fresh database holds: the migration's seeded shifts.
    fn seeded() -> Ours {
        let shift =
            |id: i32, name: &str, label: &str, color: &str, start: &str, end: &str, rest| {
                OurShift {
                    id,
                    name: name.to_owned(),
                    label: label.to_owned(),
                    color: color.to_owned(),
                    start: start.to_owned(),
                    end: end.to_owned(),
                    rest,
                    active: true,
                    note: None,
                }
            };
        Ours {
            shifts: vec![
                shift(1, "A班", "A", "#3498db", "09:00", "18:00", false),
                shift(2, "B班", "B", "#e74c3c", "13:00", "22:00", false),
                shift(3, "休", "休", "#95a5a6", "00:00", "00:00", true),
            ],
            ..Ours::default()
        }
    }

    fn sample() -> Legacy {
        let mut rest = schedule(4, 2, None, 24);
        rest.rest_day = true;
        let mut older = schedule(2, 2, Some(1), 23);
        older.updated_at = Some(at(2, 0));
        let mut newer = schedule(3, 2, Some(2), 23);
        newer.updated_at = Some(at(3, 0));
        Legacy {
            users: vec![user(1, "admin", true), user(2, "zhang", false)],
            shifts: vec![
                shift(1, "A班", (9, 0), (18, 0), "#3498db"),
                shift(2, "B班", (13, 0), (22, 0), "#e67e22"),
                shift(3, "休", (0, 0), (0, 0), "#95a5a6"),
                shift(4, "夜班", (22, 0), (6, 0), "#2c3e50"),
            ],
            schedules: vec![schedule(1, 2, Some(4), 22), older, newer, rest],
            configs: vec![
                LegacyConfig {
                    rowid: 1,
                    key: "work_overtime".to_owned(),
                    value: Some("30".to_owned()),
                },
                LegacyConfig {
                    rowid: 2,
                    key: "check_url".to_owned(),
                    value: Some("https://example.com/check".to_owned()),
                },
                LegacyConfig {
                    rowid: 3,
                    key: "api_token".to_owned(),
                    value: None,
                },
            ],
            logs: vec![
                LegacyLog {
                    id: 1,
                    user_id: Some(1),
                    log_type: Some("login".to_owned()),
                    level: Some("INFO".to_owned()),
                    message: "管理员登录".to_owned(),
                    ip: Some("10.0.0.8".to_owned()),
                    user_agent: None,
                    created_at: at(20, 8),
                },
                LegacyLog {
                    id: 2,
                    user_id: None,
                    log_type: None,
                    level: None,
                    message: "ancient".to_owned(),
                    ip: None,
                    user_agent: None,
                    created_at: Utc
                        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
                        .single()
                        .expect("valid"),
                },
            ],
            left_behind: vec!["attendance_records (…)".to_owned()],
        }
    }

    fn accept(_key: &str, raw: &str) -> SettingCheck {
        SettingCheck::Accept(raw.to_owned())
    }

    /// Applies a plan to `ours` the way the database would, for the repeat-import test.
    fn apply(plan: &Plan, mut ours: Ours) -> Ours {
        let mut user_ids = Vec::new();
        for user in &plan.users {
            let id = match user.existing {
                Some(id) => id,
                None => i32::try_from(ours.users.len()).expect("small") + 100,
            };
            ours.users.retain(|our| our.id != id);
            ours.users.push(OurUser {
                id,
                username: user.username.clone(),
                username_key: user.username_key.clone(),
                role: user.role,
                active: user.active,
                email: user.email.clone(),
                password_hash: user.password_hash.clone(),
                must_change_password: false,
                signed_in: false,
            });
            user_ids.push(id);
        }
        let mut shift_ids = Vec::new();
        for shift in &plan.shifts {
            let id = shift
                .existing
                .unwrap_or_else(|| i32::try_from(ours.shifts.len()).expect("small") + 100);
            let label = ours
                .shifts
                .iter()
                .find(|our| our.id == id)
                .map_or_else(|| shift.label.clone(), |our| our.label.clone());
            ours.shifts.retain(|our| our.id != id);
            ours.shifts.push(OurShift {
                id,
                name: shift.name.clone(),
                label,
                color: shift.color.clone(),
                start: shift.start.clone(),
                end: shift.end.clone(),
                rest: shift.rest,
                active: shift.active,
                note: shift.note.clone(),
            });
            shift_ids.push(id);
        }
        for entry in &plan.schedules {
            let user_id = user_ids[entry.user];
            let shift_id = match entry.shift {
                ShiftRef::Existing(id) => id,
                ShiftRef::Planned(index) => shift_ids[index],
            };
            ours.schedules
                .retain(|our| !(our.user_id == user_id && our.date == entry.date));
            ours.schedules.push(OurSchedule {
                id: i32::try_from(ours.schedules.len()).expect("small") + 100,
                user_id,
                date: entry.date,
                shift_id,
                note: entry.note.clone(),
            });
        }
        for setting in &plan.settings {
            ours.settings
                .insert(setting.key.to_owned(), setting.value.clone());
        }
        for log in &plan.logs {
            ours.imported_logs
                .insert(log_marker_id(&log.detail).expect("marker"));
        }
        ours
    }

    #[test]
    fn the_newest_of_several_rows_for_one_day_is_kept() {
        let mut a = schedule(1, 7, Some(1), 23);
        a.updated_at = Some(at(5, 0));
        let mut b = schedule(2, 7, Some(2), 23);
        b.updated_at = Some(at(4, 0));
        // Same updated_at as `a`, later created_at: newer.
        let mut c = schedule(3, 7, Some(3), 23);
        c.updated_at = Some(at(5, 0));
        c.created_at = Some(at(2, 0));
        // No timestamps at all: older than any with one.
        let mut d = schedule(4, 7, Some(4), 23);
        d.created_at = None;
        let other_day = schedule(5, 7, Some(1), 24);
        let rows = [a, b, c, d, other_day];
        let (kept, duplicates) = resolve_duplicates(&rows);
        assert_eq!(kept.iter().map(|row| row.id).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(
            duplicates
                .iter()
                .map(|duplicate| (duplicate.dropped.id, duplicate.kept.id))
                .collect::<Vec<_>>(),
            [(1, 3), (2, 3), (4, 3)]
        );
        // Equal timestamps: the highest id wins.
        let tied = [schedule(8, 1, Some(1), 1), schedule(9, 1, None, 1)];
        let (kept, _) = resolve_duplicates(&tied);
        assert_eq!(kept[0].id, 9);
    }

    #[test]
    fn a_first_import_into_a_fresh_database() {
        let plan = plan(&sample(), &seeded(), &context(), accept);
        let report = &plan.report;
        assert_eq!((report.users.new, report.users.updated), (2, 0));
        // A班 and 休 as seeded; B班 has another colour there; 夜班 is new.
        assert_eq!(
            (
                report.shifts.new,
                report.shifts.updated,
                report.shifts.unchanged
            ),
            (1, 1, 2)
        );
        assert_eq!(plan.shifts[1].label, "B", "the seeded label stays");
        assert_eq!(plan.shifts[3].label, "夜");
        // Rows 1, 3 (newest of 2 and 3) and the rest day 4; row 2 is a duplicate.
        assert_eq!((report.schedules.new, report.schedules.skipped), (3, 1));
        let duplicate = report
            .conflicts
            .iter()
            .find(|conflict| conflict.row == Some(2))
            .expect("the duplicate is reported");
        assert!(duplicate.message.starts_with("duplicate"), "{duplicate:?}");
        assert!(duplicate.message.contains("kept row id 3"), "{duplicate:?}");
        // The rest day goes to the original's 休, which is the seeded one.
        let rest_day = plan
            .schedules
            .iter()
            .find(|entry| entry.legacy_id == 4)
            .expect("rest day");
        assert_eq!(rest_day.shift, ShiftRef::Planned(2));
        assert_eq!(plan.shifts[2].existing, Some(3));
        // api_token is empty in the original.
        assert_eq!((report.settings.new, report.settings.skipped), (2, 1));
        // The 2020 entry is older than the retention.
        assert_eq!((report.logs.new, report.logs.skipped), (1, 1));
        let log = &plan.logs[0];
        assert_eq!(log.actor, Some(0));
        assert_eq!(log.subject.as_deref(), Some("admin"));
        assert_eq!(log.detail, "旧系统日志 #1 [INFO/login] 管理员登录");
        assert_eq!(log_marker_id(&log.detail), Some(1));
        assert_eq!(report.left_behind.len(), 1);
    }

    #[test]
    fn a_repeated_import_plans_no_writes() {
        let legacy = sample();
        let first = plan(&legacy, &seeded(), &context(), accept);
        assert!(first.report.changes() > 0);
        let ours = apply(&first, seeded());
        let second = plan(&legacy, &ours, &context(), accept);
        assert_eq!(
            second.report.changes(),
            0,
            "{}",
            second.report.render(false)
        );
        assert!(
            second.schedules.is_empty() && second.settings.is_empty() && second.logs.is_empty()
        );
        assert_eq!(second.report.users.unchanged, 2);
        assert_eq!(second.report.shifts.unchanged, 4);
        assert_eq!(second.report.schedules.unchanged, 3);
        // The duplicate is still reported: the original still has it.
        assert_eq!(second.report.schedules.skipped, 1);
        assert_eq!(second.report.logs.unchanged, 1);
    }

    #[test]
    fn accounts_that_signed_in_here_keep_their_own_password() {
        let mut ours = seeded();
        let our = |id: i32, name: &str, signed_in: bool| OurUser {
            id,
            username: name.to_owned(),
            username_key: name.to_lowercase(),
            role: Role::Admin,
            active: true,
            email: None,
            password_hash: "$argon2id$v=19$…".to_owned(),
            must_change_password: true,
            signed_in,
        };
        // The first-run admin nobody has used yet, and someone already working here.
        ours.users = vec![our(1, "admin", false), our(2, "Zhang", true)];
        let plan = plan(&sample(), &ours, &context(), accept);
        assert_eq!(plan.users[0].action, Action::Updated);
        assert_eq!(plan.users[0].existing, Some(1));
        assert_eq!(plan.users[1].action, Action::Skipped);
        assert_eq!(plan.users[1].existing, Some(2));
        assert!(
            plan.report
                .conflicts
                .iter()
                .any(|conflict| conflict.message.contains("has signed in here"))
        );
        // Zhang's schedule is still imported, onto the account here.
        assert!(plan.schedules.iter().all(|entry| entry.user == 1));
    }

    #[test]
    fn pinned_and_invalid_settings_are_skipped_and_reported() {
        let check = |key: &str, raw: &str| match key {
            "work_overtime" => SettingCheck::Pinned("WORK_OVERTIME"),
            "check_url" => SettingCheck::Invalid("必须使用 https:// 地址".to_owned()),
            _ => SettingCheck::Accept(raw.to_owned()),
        };
        let plan = plan(&sample(), &seeded(), &context(), check);
        assert!(plan.settings.is_empty());
        assert_eq!(plan.report.settings.skipped, 3);
        let messages: Vec<&str> = plan
            .report
            .conflicts
            .iter()
            .filter(|conflict| conflict.table == "system_configs")
            .map(|conflict| conflict.message.as_str())
            .collect();
        assert!(messages[0].contains("WORK_OVERTIME"), "{messages:?}");
        assert!(messages[1].contains("https://"), "{messages:?}");
        // The original's value is never echoed (URLs carry tokens).
        assert!(!messages[1].contains("example.com"), "{messages:?}");
    }

    #[test]
    fn rest_days_find_a_rest_shift_or_get_one() {
        let mut legacy = sample();
        legacy.shifts.retain(|shift| shift.name != "休");
        // Ours has a rest shift under another name: it is used.
        let mut ours = seeded();
        ours.shifts[2].name = "休息".to_owned();
        let planned = plan(&legacy, &ours, &context(), accept);
        let rest_day = planned
            .schedules
            .iter()
            .find(|entry| entry.legacy_id == 4)
            .expect("rest day");
        assert_eq!(rest_day.shift, ShiftRef::Existing(3));
        // No rest shift anywhere: 休 is created, once, and reported.
        ours.shifts.retain(|shift| !shift.rest);
        let planned = plan(&legacy, &ours, &context(), accept);
        let created = planned.shifts.last().expect("created");
        assert_eq!((created.name.as_str(), created.rest), ("休", true));
        assert_eq!(created.action, Action::New);
        assert!(
            planned
                .report
                .conflicts
                .iter()
                .any(|conflict| conflict.message.contains("no rest shift existed"))
        );
    }

    #[test]
    fn orphans_are_skipped_and_reported() {
        let mut legacy = sample();
        legacy.schedules = vec![
            schedule(10, 99, Some(1), 1),
            schedule(11, 2, Some(99), 1),
            schedule(12, 2, None, 2),
        ];
        let plan = plan(&legacy, &seeded(), &context(), accept);
        assert!(plan.schedules.is_empty());
        assert_eq!(plan.report.schedules.skipped, 3);
        let rows: Vec<Option<i64>> = plan
            .report
            .conflicts
            .iter()
            .filter(|conflict| conflict.table == "schedules")
            .map(|conflict| conflict.row)
            .collect();
        assert_eq!(rows, [Some(10), Some(11), Some(12)]);
    }

    #[test]
    fn notes_are_cleaned_and_cut() {
        assert_eq!(clean_note(None), (None, false));
        assert_eq!(clean_note(Some("  ")), (None, false));
        assert_eq!(
            clean_note(Some(" 调休\t补班 ")),
            (Some("调休 补班".to_owned()), false)
        );
        let (long, cut) = clean_note(Some(&"长".repeat(250)));
        assert!(cut);
        assert_eq!(long.map(|note| note.chars().count()), Some(200));
    }

    #[test]
    fn a_file_without_an_admin_is_flagged() {
        let mut legacy = sample();
        legacy.users = vec![user(2, "zhang", false)];
        let plan = plan(&legacy, &Ours::default(), &context(), accept);
        assert!(
            plan.report
                .conflicts
                .iter()
                .any(|conflict| conflict.message.starts_with("no active admin"))
        );
    }
}
