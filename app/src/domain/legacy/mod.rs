//! The original Flask system's SQLite database (its `app.db`) and how its rows become ours.
//!
//! Recognising the file (`classify`), checking its tables and columns (`TableSpec`), reading
//! its values, planning an import against what we already hold (`plan`) and reporting it
//! (`Report`). Pure: `ssr::legacy_import` reads the files and writes the plan.
//!
//! SQLite keeps whatever value it was given whatever the declared type, so every legacy
//! value reaches this module as text (or NULL) and is parsed here, where a bad one can be
//! named by table, row and column.

mod plan;
mod report;
mod werkzeug;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::account::{Username, username_key};
use super::shift::{ClockTime, parse_shift_name};

pub use plan::{
    Duplicate, IMPORTED_SETTINGS, LOG_MARKER, OurSchedule, OurShift, OurUser, Ours, Plan,
    PlanContext, PlannedLog, PlannedSchedule, PlannedSetting, PlannedShift, PlannedUser,
    REST_SHIFT_NAMES, SettingCheck, ShiftRef, log_marker_id, plan, resolve_duplicates,
};
pub use report::{Action, Conflict, Counts, Report};
pub use werkzeug::{HashProblem, Pbkdf2Digest, WerkzeugHash, WerkzeugMethod};

/// The table our migrations record themselves in: a file with it is ours.
pub const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// The tables that together mark the original's database.
pub const MARKER_TABLES: [&str; 3] = ["users", "shift_types", "system_configs"];

/// What a SQLite file holds, judged by its table names alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// No tables: a new (or empty) file.
    Empty,
    /// Ours: our migrations have run on it.
    Ours,
    /// The Flask original's: `users`, `shift_types` and `system_configs`, and none of our
    /// migrations. Never migrated or written to.
    Legacy,
    /// Tables of something else.
    Other,
}

/// Classifies a file by its table names (SQLite compares them case-insensitively).
pub fn classify(tables: &[String]) -> SchemaKind {
    let has = |name: &str| tables.iter().any(|table| table.eq_ignore_ascii_case(name));
    if has(MIGRATIONS_TABLE) {
        SchemaKind::Ours
    } else if MARKER_TABLES.iter().all(|table| has(table)) {
        SchemaKind::Legacy
    } else if tables.iter().all(|table| table.starts_with("sqlite_")) {
        SchemaKind::Empty
    } else {
        SchemaKind::Other
    }
}

/// A problem with the legacy file, located as precisely as possible; its `Display` is the
/// one line the command prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyError {
    pub table: Option<String>,
    /// The row's `id` (its rowid for tables without one).
    pub row: Option<i64>,
    pub column: Option<String>,
    pub problem: String,
}

impl LegacyError {
    pub fn file(problem: impl Into<String>) -> Self {
        Self {
            table: None,
            row: None,
            column: None,
            problem: problem.into(),
        }
    }

    pub fn table(table: &str, problem: impl Into<String>) -> Self {
        Self {
            table: Some(table.to_owned()),
            ..Self::file(problem)
        }
    }

    pub fn row(table: &str, row: i64, problem: impl Into<String>) -> Self {
        Self {
            row: Some(row),
            ..Self::table(table, problem)
        }
    }

    pub fn cell(table: &str, row: i64, column: &str, problem: impl Into<String>) -> Self {
        Self {
            column: Some(column.to_owned()),
            ..Self::row(table, row, problem)
        }
    }
}

impl std::error::Error for LegacyError {}

impl std::fmt::Display for LegacyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut place = Vec::new();
        if let Some(table) = &self.table {
            place.push(format!("table {table}"));
        }
        if let Some(row) = self.row {
            place.push(format!("row id {row}"));
        }
        if let Some(column) = &self.column {
            place.push(format!("column {column}"));
        }
        if place.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", place.join(", "), self.problem)
        }
    }
}

/// The columns of one legacy table that the import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    /// Without these the table cannot be imported.
    pub required: &'static [&'static str],
    /// Read when present; a missing one takes its default (older versions lacked some).
    pub optional: &'static [&'static str],
}

pub const USERS: TableSpec = TableSpec {
    name: "users",
    required: &["id", "username", "password_hash", "is_admin"],
    optional: &["email", "is_active", "created_at", "updated_at"],
};

pub const SHIFT_TYPES: TableSpec = TableSpec {
    name: "shift_types",
    required: &["id", "name", "start_time", "end_time"],
    optional: &["color", "description", "is_active"],
};

pub const SCHEDULES: TableSpec = TableSpec {
    name: "schedules",
    required: &["id", "user_id", "shift_type_id", "work_date"],
    optional: &["is_rest_day", "note", "created_at", "updated_at"],
};

pub const SYSTEM_CONFIGS: TableSpec = TableSpec {
    name: "system_configs",
    required: &["key", "value"],
    optional: &[],
};

pub const SYSTEM_LOGS: TableSpec = TableSpec {
    name: "system_logs",
    required: &["message", "created_at"],
    optional: &[
        "user_id",
        "log_type",
        "log_level",
        "ip_address",
        "user_agent",
    ],
};

/// Tables the import needs.
pub const REQUIRED_TABLES: [TableSpec; 4] = [USERS, SHIFT_TYPES, SCHEDULES, SYSTEM_CONFIGS];

/// Read when present: an install that never logged anything may lack the table.
pub const OPTIONAL_TABLES: [TableSpec; 1] = [SYSTEM_LOGS];

/// Tables of the original that are deliberately left behind, with the reason shown.
pub const LEFT_BEHIND: &[(&str, &str)] = &[(
    "attendance_records",
    "the original's punch records are not carried over; reminders here use their own punch check",
)];

impl TableSpec {
    /// The columns to read: every required one and the optional ones that exist. A missing
    /// required column is an error naming it.
    pub fn columns_to_read(&self, present: &[String]) -> Result<Vec<&'static str>, LegacyError> {
        let has = |name: &str| {
            present
                .iter()
                .any(|column| column.eq_ignore_ascii_case(name))
        };
        if let Some(missing) = self.required.iter().find(|column| !has(column)) {
            return Err(LegacyError {
                column: Some((*missing).to_owned()),
                ..LegacyError::table(
                    self.name,
                    format!(
                        "the column is missing (columns found: {}); this does not look like the \
                         original system's database",
                        list_or_none(present)
                    ),
                )
            });
        }
        Ok(self
            .required
            .iter()
            .chain(self.optional.iter().filter(|column| has(column)))
            .copied()
            .collect())
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Checks that the file is the original's database: the error says which table is
/// missing, or that the file is ours.
pub fn check_tables(tables: &[String]) -> Result<(), LegacyError> {
    match classify(tables) {
        SchemaKind::Ours => {
            return Err(LegacyError::file(
                "this is a dingding-attendance database (it has our migrations table), not the \
                 original Flask system's app.db",
            ));
        }
        SchemaKind::Empty => {
            return Err(LegacyError::file(
                "the file has no tables: it is not the original Flask system's app.db",
            ));
        }
        SchemaKind::Legacy | SchemaKind::Other => {}
    }
    let has = |name: &str| tables.iter().any(|table| table.eq_ignore_ascii_case(name));
    match REQUIRED_TABLES.iter().find(|spec| !has(spec.name)) {
        Some(spec) => Err(LegacyError::table(
            spec.name,
            format!(
                "the table is missing (tables found: {}); this is not the original Flask \
                 system's app.db",
                list_or_none(tables)
            ),
        )),
        None => Ok(()),
    }
}

/// The tables in the file that the import does not read, each with the reason.
pub fn tables_left_behind(tables: &[String]) -> Vec<String> {
    let read = |name: &str| {
        REQUIRED_TABLES
            .iter()
            .chain(OPTIONAL_TABLES.iter())
            .any(|spec| spec.name.eq_ignore_ascii_case(name))
    };
    tables
        .iter()
        .filter(|table| !table.starts_with("sqlite_") && !read(table))
        .map(|table| {
            match LEFT_BEHIND
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(table))
            {
                Some((_, reason)) => format!("{table} ({reason})"),
                None => format!("{table} (not used by this system)"),
            }
        })
        .collect()
}

/// One row as read from the file: its rowid and each read column's value as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRow {
    pub rowid: i64,
    pub cells: Vec<(&'static str, Option<String>)>,
}

impl RawRow {
    /// The value of `column`; `None` when NULL or not read (an absent optional column).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(name, _)| *name == column)
            .and_then(|(_, value)| value.as_deref())
    }
}

/// Reads typed values out of one row, naming table, row and column on failure.
struct Cells<'a> {
    table: &'static str,
    row: &'a RawRow,
    /// The id errors name: the row's `id` once read, its rowid before.
    id: i64,
}

impl<'a> Cells<'a> {
    fn new(table: &'static str, row: &'a RawRow) -> Self {
        Self {
            table,
            row,
            id: row.rowid,
        }
    }

    fn error(&self, column: &str, problem: impl Into<String>) -> LegacyError {
        LegacyError::cell(self.table, self.id, column, problem)
    }

    /// Non-blank text, trimmed; `None` for NULL or blank.
    fn text(&self, column: &str) -> Option<String> {
        self.row
            .get(column)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    fn required_text(&self, column: &str) -> Result<String, LegacyError> {
        self.text(column)
            .ok_or_else(|| self.error(column, "the value is empty"))
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, LegacyError> {
        self.text(column)
            .map(|raw| {
                raw.parse::<i64>().map_err(|_| {
                    self.error(column, format!("expected a whole number, found “{raw}”"))
                })
            })
            .transpose()
    }

    fn required_integer(&self, column: &str) -> Result<i64, LegacyError> {
        self.integer(column)?
            .ok_or_else(|| self.error(column, "the value is empty"))
    }

    fn flag(&self, column: &str, default: bool) -> Result<bool, LegacyError> {
        match self.text(column) {
            None => Ok(default),
            Some(raw) => parse_flag(&raw)
                .ok_or_else(|| self.error(column, format!("expected 1 or 0, found “{raw}”"))),
        }
    }

    fn timestamp(&self, column: &str) -> Result<Option<DateTime<Utc>>, LegacyError> {
        self.text(column)
            .map(|raw| {
                parse_timestamp(&raw).ok_or_else(|| {
                    self.error(
                        column,
                        format!("expected a time such as 2026-11-23 09:30:00, found “{raw}”"),
                    )
                })
            })
            .transpose()
    }
}

fn parse_flag(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// SQLAlchemy's text forms of a `DateTime`: `2026-11-23 09:30:00[.123456]`, also with `T`,
/// without seconds, or a bare date (midnight). Times without an offset are UTC, which is
/// what both `datetime.utcnow` and SQLite's `CURRENT_TIMESTAMP` write; an explicit offset is
/// honoured.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(at) = DateTime::parse_from_str(raw, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .map(|day| day.and_time(NaiveTime::MIN).and_utc())
}

/// A `Date` as SQLAlchemy stores it (`2026-11-23`); a midnight `DateTime` in a date column
/// is accepted too. Anything else (`2026/11/23`, `23.11.2026`) is refused, not guessed.
pub fn parse_work_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        && raw.len() == 10
    {
        return Some(day);
    }
    let (day, time) = raw.split_once([' ', 'T'])?;
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    if time != NaiveTime::MIN || day.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// A `Time` (`09:00:00.000000`) or the `HH:MM` text the original stored; seconds other than
/// zero are refused.
pub fn parse_clock(raw: &str) -> Option<ClockTime> {
    let raw = raw.trim();
    let without_fraction = match raw.split_once('.') {
        Some((time, fraction)) if fraction.bytes().all(|b| b == b'0') => time,
        Some(_) => return None,
        None => raw,
    };
    ClockTime::parse(without_fraction).ok()
}

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUser {
    pub id: i64,
    pub username: Username,
    /// A werkzeug hash, checked to be one; kept as it is so the password keeps working.
    pub password_hash: String,
    pub email: Option<String>,
    pub admin: bool,
    pub active: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl LegacyUser {
    pub fn from_row(row: &RawRow) -> Result<Self, LegacyError> {
        let mut cells = Cells::new(USERS.name, row);
        cells.id = cells.required_integer("id")?;
        let raw_name = cells.required_text("username")?;
        let username = Username::parse(&raw_name).map_err(|error| {
            cells.error(
                "username",
                format!(
                    "“{raw_name}” cannot be a username here ({}); rename the user in the original first",
                    error.message
                ),
            )
        })?;
        let password_hash = cells.required_text("password_hash")?;
        if let Err(problem) = WerkzeugHash::parse(&password_hash) {
            // The hash itself is never printed: it is a secret too.
            return Err(cells.error(
                "password_hash",
                format!("not a usable werkzeug password hash: {problem}"),
            ));
        }
        Ok(Self {
            id: cells.id,
            username,
            password_hash,
            email: cells.text("email"),
            admin: cells.flag("is_admin", false)?,
            active: cells.flag("is_active", true)?,
            created_at: cells.timestamp("created_at")?,
            updated_at: cells.timestamp("updated_at")?,
        })
    }

    pub fn key(&self) -> String {
        self.username.key()
    }
}

/// A row of `shift_types`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyShift {
    pub id: i64,
    pub name: String,
    pub start: ClockTime,
    pub end: ClockTime,
    pub color: Option<String>,
    pub description: Option<String>,
    pub active: bool,
}

impl LegacyShift {
    pub fn from_row(row: &RawRow) -> Result<Self, LegacyError> {
        let mut cells = Cells::new(SHIFT_TYPES.name, row);
        cells.id = cells.required_integer("id")?;
        let raw_name = cells.required_text("name")?;
        let name = parse_shift_name(&raw_name)
            .map_err(|error| cells.error("name", format!("“{raw_name}”: {}", error.message)))?;
        let clock = |column: &str| {
            let raw = cells.required_text(column)?;
            parse_clock(&raw).ok_or_else(|| {
                cells.error(
                    column,
                    format!("expected a time of day such as 09:00, found “{raw}”"),
                )
            })
        };
        Ok(Self {
            id: cells.id,
            name,
            start: clock("start_time")?,
            end: clock("end_time")?,
            color: cells.text("color"),
            description: cells.text("description"),
            active: cells.flag("is_active", true)?,
        })
    }

    /// The original's `休` is 00:00–00:00: a shift of no hours, or one named as a day off.
    pub fn is_rest(&self) -> bool {
        (self.start == ClockTime::MIDNIGHT && self.end == ClockTime::MIDNIGHT)
            || REST_SHIFT_NAMES.contains(&self.name.as_str())
    }
}

/// A row of `schedules`. The original had no unique constraint: one person may have several
/// rows for a day (`resolve_duplicates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacySchedule {
    pub id: i64,
    pub user_id: i64,
    pub shift_type_id: Option<i64>,
    pub date: NaiveDate,
    pub rest_day: bool,
    pub note: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl LegacySchedule {
    pub fn from_row(row: &RawRow) -> Result<Self, LegacyError> {
        let mut cells = Cells::new(SCHEDULES.name, row);
        cells.id = cells.required_integer("id")?;
        let raw_date = cells.required_text("work_date")?;
        let date = parse_work_date(&raw_date).ok_or_else(|| {
            cells.error(
                "work_date",
                format!("expected a date YYYY-MM-DD such as 2026-11-23, found “{raw_date}”"),
            )
        })?;
        Ok(Self {
            id: cells.id,
            user_id: cells.required_integer("user_id")?,
            shift_type_id: cells.integer("shift_type_id")?,
            date,
            rest_day: cells.flag("is_rest_day", false)?,
            note: cells.text("note"),
            created_at: cells.timestamp("created_at")?,
            updated_at: cells.timestamp("updated_at")?,
        })
    }

    /// Which of several rows for the same person and day is the newest: the latest
    /// `updated_at`, then `created_at`, then the highest id.
    pub fn recency(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64) {
        (self.updated_at, self.created_at, self.id)
    }
}

/// A row of `system_configs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyConfig {
    pub rowid: i64,
    pub key: String,
    pub value: Option<String>,
}

impl LegacyConfig {
    pub fn from_row(row: &RawRow) -> Result<Self, LegacyError> {
        let cells = Cells::new(SYSTEM_CONFIGS.name, row);
        Ok(Self {
            rowid: row.rowid,
            key: cells.required_text("key")?,
            value: cells.text("value"),
        })
    }
}

/// A row of `system_logs`, identified by its rowid (the log id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyLog {
    pub id: i64,
    pub user_id: Option<i64>,
    pub log_type: Option<String>,
    pub level: Option<String>,
    pub message: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl LegacyLog {
    pub fn from_row(row: &RawRow) -> Result<Self, LegacyError> {
        let cells = Cells::new(SYSTEM_LOGS.name, row);
        Ok(Self {
            id: row.rowid,
            user_id: cells.integer("user_id")?,
            log_type: cells.text("log_type"),
            level: cells.text("log_level"),
            message: cells.text("message").unwrap_or_default(),
            ip: cells.text("ip_address"),
            user_agent: cells.text("user_agent"),
            created_at: cells
                .timestamp("created_at")?
                .ok_or_else(|| cells.error("created_at", "the value is empty"))?,
        })
    }
}

/// Everything read from the legacy file, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Legacy {
    pub users: Vec<LegacyUser>,
    pub shifts: Vec<LegacyShift>,
    pub schedules: Vec<LegacySchedule>,
    pub configs: Vec<LegacyConfig>,
    pub logs: Vec<LegacyLog>,
    /// Tables in the file the import does not read, with the reason (for the report).
    pub left_behind: Vec<String>,
}

impl Legacy {
    /// Parses rows table by table; the first bad value stops everything.
    pub fn parse(
        users: &[RawRow],
        shifts: &[RawRow],
        schedules: &[RawRow],
        configs: &[RawRow],
        logs: &[RawRow],
        left_behind: Vec<String>,
    ) -> Result<Self, LegacyError> {
        let legacy = Self {
            users: users
                .iter()
                .map(LegacyUser::from_row)
                .collect::<Result<_, _>>()?,
            shifts: shifts
                .iter()
                .map(LegacyShift::from_row)
                .collect::<Result<_, _>>()?,
            schedules: schedules
                .iter()
                .map(LegacySchedule::from_row)
                .collect::<Result<_, _>>()?,
            configs: configs
                .iter()
                .map(LegacyConfig::from_row)
                .collect::<Result<_, _>>()?,
            logs: logs
                .iter()
                .map(LegacyLog::from_row)
                .collect::<Result<_, _>>()?,
            left_behind,
        };
        legacy.check_unique()?;
        Ok(legacy)
    }

    /// Names must stay apart here too: usernames are case-insensitive in this system, and
    /// shift names are compared after trimming.
    fn check_unique(&self) -> Result<(), LegacyError> {
        let mut seen: Vec<(String, &LegacyUser)> = Vec::new();
        for user in &self.users {
            let key = username_key(user.username.as_str());
            if let Some((_, first)) = seen.iter().find(|(seen_key, _)| *seen_key == key) {
                return Err(LegacyError::cell(
                    USERS.name,
                    user.id,
                    "username",
                    format!(
                        "“{}” differs from row id {}'s “{}” only in letter case; usernames are \
                         case-insensitive here: rename one of them in the original first",
                        user.username.as_str(),
                        first.id,
                        first.username.as_str()
                    ),
                ));
            }
            seen.push((key, user));
        }
        for (index, shift) in self.shifts.iter().enumerate() {
            if let Some(first) = self.shifts[..index]
                .iter()
                .find(|other| other.name == shift.name)
            {
                return Err(LegacyError::cell(
                    SHIFT_TYPES.name,
                    shift.id,
                    "name",
                    format!(
                        "“{}” is also the name of row id {}; rename one of them in the original first",
                        shift.name, first.id
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    pub(super) fn row(rowid: i64, cells: &[(&'static str, Option<&str>)]) -> RawRow {
        RawRow {
            rowid,
            cells: cells
                .iter()
                .map(|(name, value)| (*name, value.map(str::to_owned)))
                .collect(),
        }
    }

    #[test]
    fn files_are_recognised_by_their_tables() {
        let legacy = names(&[
            "attendance_records",
            "schedules",
            "shift_types",
            "system_configs",
            "system_logs",
            "users",
        ]);
        assert_eq!(classify(&legacy), SchemaKind::Legacy);
        let mut migrated = legacy.clone();
        migrated.push("seaql_migrations".to_owned());
        assert_eq!(classify(&migrated), SchemaKind::Ours);
        assert_eq!(classify(&[]), SchemaKind::Empty);
        assert_eq!(classify(&names(&["sqlite_sequence"])), SchemaKind::Empty);
        assert_eq!(classify(&names(&["users", "orders"])), SchemaKind::Other);
        // Our own schema has `users` too, but also the migrations table.
        assert_eq!(
            classify(&names(&["users", "shifts", "setting", "seaql_migrations"])),
            SchemaKind::Ours
        );
    }

    #[test]
    fn a_file_with_other_tables_names_the_missing_one() {
        let error = check_tables(&names(&["customers", "orders"])).unwrap_err();
        assert_eq!(error.table.as_deref(), Some("users"));
        assert!(error.to_string().contains("customers, orders"), "{error}");
        let error = check_tables(&names(&["users", "shift_types", "system_configs"])).unwrap_err();
        assert_eq!(error.table.as_deref(), Some("schedules"));
        assert!(check_tables(&names(&["seaql_migrations", "users"])).is_err());
        assert!(check_tables(&[]).is_err());
        assert!(
            check_tables(&names(&[
                "users",
                "shift_types",
                "schedules",
                "system_configs"
            ]))
            .is_ok()
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let error = USERS
            .columns_to_read(&names(&["id", "username", "is_admin", "email"]))
            .unwrap_err();
        assert_eq!(error.table.as_deref(), Some("users"));
        assert_eq!(error.column.as_deref(), Some("password_hash"));
        assert!(
            error
                .to_string()
                .starts_with("table users, column password_hash:"),
            "{error}"
        );
        let columns = USERS
            .columns_to_read(&names(&[
                "ID",
                "username",
                "password_hash",
                "is_admin",
                "email",
            ]))
            .expect("enough columns");
        assert_eq!(
            columns,
            ["id", "username", "password_hash", "is_admin", "email"]
        );
    }

    #[test]
    fn unread_tables_are_listed_with_the_reason() {
        let left = tables_left_behind(&names(&[
            "attendance_records",
            "users",
            "sqlite_sequence",
            "alembic_version",
        ]));
        assert_eq!(left.len(), 2);
        assert!(left[0].starts_with("attendance_records (the original's punch records"));
        assert_eq!(left[1], "alembic_version (not used by this system)");
    }

    #[test]
    fn sqlalchemy_timestamps_are_utc_unless_they_say_otherwise() {
        let utc = |raw: &str| parse_timestamp(raw).map(|at| at.to_rfc3339());
        assert_eq!(
            utc("2026-11-23 09:30:00.123456").as_deref(),
            Some("2026-11-23T09:30:00.123456+00:00")
        );
        assert_eq!(
            utc("2026-11-23T09:30:00").as_deref(),
            Some("2026-11-23T09:30:00+00:00")
        );
        assert_eq!(
            utc("2026-11-23 09:30").as_deref(),
            Some("2026-11-23T09:30:00+00:00")
        );
        assert_eq!(
            utc("2026-11-23 17:30:00+08:00").as_deref(),
            Some("2026-11-23T09:30:00+00:00")
        );
        assert_eq!(
            utc("2026-11-23").as_deref(),
            Some("2026-11-23T00:00:00+00:00")
        );
        for odd in [
            "23/11/2026 09:30",
            "yesterday",
            "2026-13-01 00:00:00",
            "1700000000",
        ] {
            assert_eq!(utc(odd), None, "{odd}");
        }
    }

    #[test]
    fn work_dates_must_be_iso_dates() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23);
        assert_eq!(parse_work_date("2026-11-23"), day);
        assert_eq!(parse_work_date(" 2026-11-23 "), day);
        assert_eq!(parse_work_date("2026-11-23 00:00:00.000000"), day);
        assert_eq!(parse_work_date("2026-11-23T00:00:00"), day);
        for odd in [
            "2026/11/23",
            "23.11.2026",
            "2026-11-23 08:00:00",
            "2026-2-3",
            "20261123",
            "",
        ] {
            assert_eq!(parse_work_date(odd), None, "{odd}");
        }
    }

    #[test]
    fn clock_times_accept_sqlalchemy_time_and_hh_mm() {
        let nine = ClockTime::new(9, 0).ok();
        assert_eq!(parse_clock("09:00"), nine);
        assert_eq!(parse_clock("09:00:00"), nine);
        assert_eq!(parse_clock("09:00:00.000000"), nine);
        assert_eq!(parse_clock("9:00"), nine);
        assert_eq!(parse_clock("09:00:30"), None);
        assert_eq!(parse_clock("09:00:00.5"), None);
        assert_eq!(parse_clock("nine"), None);
    }

    const PBKDF2: &str = "pbkdf2:sha256:600000$abcdefgh$0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn user_row(id: &str, username: &str, hash: &str) -> RawRow {
        row(
            7,
            &[
                ("id", Some(id)),
                ("username", Some(username)),
                ("password_hash", Some(hash)),
                ("is_admin", Some("1")),
                ("email", Some(" zhang@example.com ")),
                ("created_at", Some("2025-01-02 03:04:05.000000")),
            ],
        )
    }

    #[test]
    fn a_user_row_is_read_with_defaults_for_absent_columns() {
        let user = LegacyUser::from_row(&user_row("7", "Zhang", PBKDF2)).expect("valid");
        assert_eq!(user.id, 7);
        assert_eq!(user.username.as_str(), "Zhang");
        assert_eq!(user.key(), "zhang");
        assert!(user.admin);
        assert!(user.active, "is_active absent: active");
        assert_eq!(user.email.as_deref(), Some("zhang@example.com"));
        assert!(user.created_at.is_some());
        assert_eq!(user.updated_at, None);
    }

    #[test]
    fn a_broken_hash_names_the_row_but_never_shows_the_hash() {
        let error = LegacyUser::from_row(&user_row("7", "zhang", "md5$nope$deadbeef")).unwrap_err();
        assert_eq!(error.row, Some(7));
        assert_eq!(error.column.as_deref(), Some("password_hash"));
        assert!(!error.to_string().contains("deadbeef"), "{error}");
        let error = LegacyUser::from_row(&user_row("x", "zhang", PBKDF2)).unwrap_err();
        assert_eq!(error.column.as_deref(), Some("id"));
        let error = LegacyUser::from_row(&user_row("7", "zhang san@x", PBKDF2)).unwrap_err();
        assert_eq!(error.column.as_deref(), Some("username"));
    }

    #[test]
    fn an_odd_date_names_table_row_and_column() {
        let error = LegacySchedule::from_row(&row(
            3,
            &[
                ("id", Some("12")),
                ("user_id", Some("1")),
                ("shift_type_id", None),
                ("work_date", Some("2026/11/23")),
            ],
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "table schedules, row id 12, column work_date: expected a date YYYY-MM-DD such as \
             2026-11-23, found “2026/11/23”"
        );
    }

    #[test]
    fn the_originals_rest_shift_is_recognised() {
        let shift = |name: &str, start: &str, end: &str| {
            LegacyShift::from_row(&row(
                1,
                &[
                    ("id", Some("1")),
                    ("name", Some(name)),
                    ("start_time", Some(start)),
                    ("end_time", Some(end)),
                ],
            ))
            .expect("valid")
        };
        assert!(shift("休", "00:00", "00:00").is_rest());
        assert!(shift("Off", "00:00:00.000000", "00:00").is_rest());
        assert!(shift("休息", "09:00", "09:00").is_rest());
        assert!(!shift("A班", "09:00", "18:00").is_rest());
        assert!(!shift("夜班", "22:00", "06:00").is_rest());
    }

    #[test]
    fn usernames_differing_only_in_case_are_refused() {
        let users = [
            user_row("1", "admin", PBKDF2),
            RawRow {
                rowid: 2,
                ..user_row("2", "Admin", PBKDF2)
            },
        ];
        let error = Legacy::parse(&users, &[], &[], &[], &[], Vec::new()).unwrap_err();
        assert_eq!(error.row, Some(2));
        assert!(error.to_string().contains("row id 1"), "{error}");
    }
}
