//! China's statutory holidays (法定节假日) and make-up workdays (调休上班), company-specific
//! days, and the answer to "is this date a working day, and why".
//!
//! The rule: a date is a working day when it is listed as a make-up workday, or when it is
//! Monday to Friday and not listed as an off day. Company days override statutory data for
//! their date. A year without holiday data falls back to Monday–Friday and says so
//! (`Workday::estimated`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::account::{describe_char, is_invisible_or_control};

pub const HOLIDAY_NAME_MAX_CHARS: usize = 32;
/// Supported years of statutory data.
pub const HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// More days than any real year lists; a larger file is not a holiday-cn file.
pub const HOLIDAY_FILE_MAX_DAYS: usize = 400;
/// A holiday-cn year file is a few KiB; the JSON is read into memory whole, so its size is
/// bounded before that (nesting is bounded by serde_json's recursion limit).
pub const HOLIDAY_FILE_MAX_BYTES: usize = 1024 * 1024;

/// One listed day of a statutory year: an off day (`off_day`) or a make-up workday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayDay {
    pub date: NaiveDate,
    pub name: String,
    pub off_day: bool,
}

/// One year of statutory data, as published by the State Council and collected by
/// holiday-cn. `days` is sorted by date and may include a few days of the neighbouring years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayYear {
    pub year: i32,
    pub days: Vec<HolidayDay>,
}

/// A holiday-cn file that cannot be used; `message` says what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HolidayFileError {
    pub message: String,
}

impl HolidayFileError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Reads a holiday-cn year file (`{"year":2026,"days":[{"name":"春节","date":"2026-02-15",
/// "isOffDay":true},…]}`; other fields are ignored). Strict: every day needs a real
/// YYYY-MM-DD date within a month of the stated year, a name and a boolean `isOffDay`. A date
/// listed twice with the same `isOffDay` is kept once; with conflicting values it is refused.
#[cfg(feature = "ssr")]
pub fn parse_holiday_cn(json: &str) -> Result<HolidayYear, HolidayFileError> {
    use serde_json::Value;

    if json.len() > HOLIDAY_FILE_MAX_BYTES {
        return Err(HolidayFileError::new(format!(
            "文件超过 {} MiB，不像是 holiday-cn 的年份文件",
            HOLIDAY_FILE_MAX_BYTES / 1024 / 1024
        )));
    }
    let root: Value = serde_json::from_str(json).map_err(|error| {
        HolidayFileError::new(format!(
            "不是有效的 JSON（第 {} 行第 {} 列）",
            error.line(),
            error.column()
        ))
    })?;
    let Value::Object(root) = root else {
        return Err(HolidayFileError::new(
            "应为 JSON 对象，包含 year 和 days 字段",
        ));
    };
    let year = match root.get("year") {
        None => return Err(HolidayFileError::new("缺少 year 字段")),
        Some(value) => value.as_i64().ok_or_else(|| {
            HolidayFileError::new(format!("year: {value} 应为整数年份，例如 2026"))
        })?,
    };
    let year = i32::try_from(year)
        .ok()
        .filter(|year| HOLIDAY_YEARS.contains(year))
        .ok_or_else(|| {
            HolidayFileError::new(format!(
                "year: {year} 超出支持范围 {}–{}",
                HOLIDAY_YEARS.start(),
                HOLIDAY_YEARS.end()
            ))
        })?;
    let days = match root.get("days") {
        None => return Err(HolidayFileError::new("缺少 days 字段")),
        Some(Value::Array(days)) => days,
        Some(_) => return Err(HolidayFileError::new("days 应为数组")),
    };
    if days.is_empty() {
        return Err(HolidayFileError::new(format!(
            "days 为空：{year} 年没有任何节假日或调休"
        )));
    }
    if days.len() > HOLIDAY_FILE_MAX_DAYS {
        return Err(HolidayFileError::new(format!(
            "days 有 {} 条，最多 {HOLIDAY_FILE_MAX_DAYS} 条",
            days.len()
        )));
    }
    let (earliest, latest) = year_window(year);

    // date → (index of its first listing, the day)
    let mut listed: BTreeMap<NaiveDate, (usize, HolidayDay)> = BTreeMap::new();
    for (index, day) in days.iter().enumerate() {
        let Value::Object(day) = day else {
            return Err(HolidayFileError::new(format!("days[{index}] 应为对象")));
        };
        let field = |name: &str| {
            day.get(name)
                .ok_or_else(|| HolidayFileError::new(format!("days[{index}] 缺少 {name} 字段")))
        };

        let date = field("date")?;
        let raw_date = date.as_str().ok_or_else(|| {
            HolidayFileError::new(format!(
                "days[{index}].date: {date} 应为字符串，例如 \"{year}-10-01\""
            ))
        })?;
        let date = parse_iso_date(raw_date).ok_or_else(|| {
            HolidayFileError::new(format!(
                "days[{index}].date: {raw_date} 不是有效日期（应为 YYYY-MM-DD）"
            ))
        })?;
        if date < earliest || date > latest {
            return Err(HolidayFileError::new(format!(
                "days[{index}].date: {date} 不在 {year} 年及其前后一个月内"
            )));
        }

        let name = field("name")?;
        let name = name
            .as_str()
            .ok_or_else(|| HolidayFileError::new(format!("days[{index}].name: {name} 应为字符串")))
            .and_then(|raw| {
                parse_day_name(raw).map_err(|error| {
                    HolidayFileError::new(format!("days[{index}].name: {}", error.message))
                })
            })?;

        let off_day = field("isOffDay")?;
        let off_day = off_day.as_bool().ok_or_else(|| {
            HolidayFileError::new(format!(
                "days[{index}].isOffDay: {off_day} 应为 true 或 false"
            ))
        })?;

        match listed.get(&date) {
            Some((first, earlier)) if earlier.off_day != off_day => {
                return Err(HolidayFileError::new(format!(
                    "days[{index}].date: {date} 与 days[{first}] 重复，且 isOffDay 不一致"
                )));
            }
            Some(_) => {}
            None => {
                listed.insert(
                    date,
                    (
                        index,
                        HolidayDay {
                            date,
                            name,
                            off_day,
                        },
                    ),
                );
            }
        }
    }
    Ok(HolidayYear {
        year,
        days: listed.into_values().map(|(_, day)| day).collect(),
    })
}

/// The statutory years shipped with the server (holiday-cn 2024–2026). A file that fails to
/// parse is left out; the tests make sure none does.
#[cfg(feature = "ssr")]
pub fn builtin_years() -> Vec<HolidayYear> {
    const FILES: [&str; 3] = [
        include_str!("../../data/holiday-cn/2024.json"),
        include_str!("../../data/holiday-cn/2025.json"),
        include_str!("../../data/holiday-cn/2026.json"),
    ];
    FILES
        .iter()
        .filter_map(|json| parse_holiday_cn(json).ok())
        .collect()
}

/// The dates a year file may list: the year itself and a month either side (holiday-cn lists
/// a late-December make-up day in the next year's file when the holiday straddles New Year).
#[cfg(feature = "ssr")]
fn year_window(year: i32) -> (NaiveDate, NaiveDate) {
    let earliest = NaiveDate::from_ymd_opt(year - 1, 12, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(year + 1, 1, 31).unwrap_or(NaiveDate::MAX);
    (earliest, latest)
}

/// Exactly `YYYY-MM-DD` with a real calendar date (chrono alone would also take "2026-2-5").
#[cfg(feature = "ssr")]
fn parse_iso_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let year = raw.get(0..4)?.parse().ok()?;
    let month = raw.get(5..7)?.parse().ok()?;
    let day = raw.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The name of a holiday or company day ("春节", "公司年会"): trimmed, 1–32 characters, no
/// control or invisible characters.
pub fn parse_day_name(raw: &str) -> Result<String, FieldError> {
    const FIELD: &str = "name";
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(FIELD, "不能为空"));
    }
    let length = value.chars().count();
    if length > HOLIDAY_NAME_MAX_CHARS {
        return Err(FieldError::new(
            FIELD,
            format!("最多 {HOLIDAY_NAME_MAX_CHARS} 个字符（当前 {length} 个）"),
        ));
    }
    if let Some(bad) = value.chars().find(|c| is_invisible_or_control(*c)) {
        return Err(FieldError::new(
            FIELD,
            format!("不能包含{}", describe_char(bad)),
        ));
    }
    Ok(value.to_owned())
}

/// A day an admin declared for this company only (年会放假, 盘点加班). It overrides the
/// statutory data for its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyDay {
    pub date: NaiveDate,
    pub name: String,
    pub off_day: bool,
}

/// Whether a date is a working day, why, and whether that is only the Monday–Friday guess
/// for a year without holiday data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workday {
    pub date: NaiveDate,
    pub working: bool,
    pub reason: WorkdayReason,
    /// True when the year has no statutory data and the answer is the Monday–Friday fallback.
    pub estimated: bool,
}

impl Workday {
    /// A short zh-CN reason for the calendar: "工作日", "法定节假日：春节", …
    pub fn reason_label(&self) -> String {
        self.reason.label()
    }

    /// Off because of a listed holiday (statutory or company), not an ordinary weekend.
    pub fn is_holiday(&self) -> bool {
        matches!(
            self.reason,
            WorkdayReason::StatutoryHoliday { .. } | WorkdayReason::CompanyOffDay { .. }
        )
    }

    /// A Saturday or Sunday that is a working day because it is listed (调休上班 or a company
    /// workday).
    pub fn is_weekend_workday(&self) -> bool {
        is_weekend(self.date)
            && matches!(
                self.reason,
                WorkdayReason::MakeUpWorkday { .. } | WorkdayReason::CompanyWorkday { .. }
            )
    }
}

/// Why a date is, or is not, a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkdayReason {
    /// Monday to Friday, not listed.
    Weekday,
    /// Saturday or Sunday, not listed.
    Weekend,
    /// A statutory off day (法定节假日 or the weekday it was moved to).
    StatutoryHoliday {
        name: String,
    },
    /// A weekend day worked to make up for a holiday (调休上班).
    MakeUpWorkday {
        name: String,
    },
    CompanyOffDay {
        name: String,
    },
    CompanyWorkday {
        name: String,
    },
}

impl WorkdayReason {
    pub fn label(&self) -> String {
        match self {
            Self::Weekday => "工作日".to_owned(),
            Self::Weekend => "周末".to_owned(),
            Self::StatutoryHoliday { name } => format!("法定节假日：{name}"),
            Self::MakeUpWorkday { name } => format!("调休上班：{name}"),
            Self::CompanyOffDay { name } => format!("公司休息日：{name}"),
            Self::CompanyWorkday { name } => format!("公司工作日：{name}"),
        }
    }
}

/// Where a calendar marker comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaySource {
    Statutory,
    Company,
}

/// A listed day to mark in the calendar UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMarker {
    pub date: NaiveDate,
    pub name: String,
    pub off_day: bool,
    pub source: DaySource,
}

impl DayMarker {
    /// The corner badge Chinese calendars use: "休" for an off day, "班" for a workday.
    pub fn badge(&self) -> &'static str {
        if self.off_day { "休" } else { "班" }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    name: String,
    off_day: bool,
}

/// Statutory years plus company days, indexed by date: every lookup is a map lookup, cheap
/// enough for month views of hundreds of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeSet<i32>,
    statutory: BTreeMap<NaiveDate, Listed>,
    company: BTreeMap<NaiveDate, Listed>,
}

impl WorkCalendar {
    /// When `years` holds the same year twice, the later one replaces the earlier one whole
    /// (pass the built-in years first, then imported ones). A date listed by two files is
    /// taken from the file of its own year. For company days listed twice, the later wins.
    pub fn new(years: Vec<HolidayYear>, company: Vec<CompanyDay>) -> Self {
        let by_year: BTreeMap<i32, HolidayYear> =
            years.into_iter().map(|year| (year.year, year)).collect();
        let mut statutory = BTreeMap::new();
        // Neighbouring-year entries first, so that each date's own year file wins.
        for own_year in [false, true] {
            for year in by_year.values() {
                for day in year
                    .days
                    .iter()
                    .filter(|day| (day.date.year() == year.year) == own_year)
                {
                    statutory.insert(
                        day.date,
                        Listed {
                            name: day.name.clone(),
                            off_day: day.off_day,
                        },
                    );
                }
            }
        }
        let company = company
            .into_iter()
            .map(|day| {
                (
                    day.date,
                    Listed {
                        name: day.name,
                        off_day: day.off_day,
                    },
                )
            })
            .collect();
        Self {
            years: by_year.into_keys().collect(),
            statutory,
            company,
        }
    }

    /// Whether statutory data for `year` was loaded.
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years with statutory data, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    pub fn workday(&self, date: NaiveDate) -> Workday {
        let listed = |listed: &Listed, working: WorkdayReason, off: WorkdayReason| Workday {
            date,
            working: !listed.off_day,
            reason: if listed.off_day { off } else { working },
            estimated: false,
        };
        if let Some(day) = self.company.get(&date) {
            return listed(
                day,
                WorkdayReason::CompanyWorkday {
                    name: day.name.clone(),
                },
                WorkdayReason::CompanyOffDay {
                    name: day.name.clone(),
                },
            );
        }
        if let Some(day) = self.statutory.get(&date) {
            return listed(
                day,
                WorkdayReason::MakeUpWorkday {
                    name: day.name.clone(),
                },
                WorkdayReason::StatutoryHoliday {
                    name: day.name.clone(),
                },
            );
        }
        let weekend = is_weekend(date);
        Workday {
            date,
            working: !weekend,
            reason: if weekend {
                WorkdayReason::Weekend
            } else {
                WorkdayReason::Weekday
            },
            estimated: !self.covers_year(date.year()),
        }
    }

    pub fn is_working(&self, date: NaiveDate) -> bool {
        self.workday(date).working
    }

    /// The listed days in `from..=to`, one per date, sorted: where a company day and a
    /// statutory day share a date, only the company day (the one in force) is returned.
    pub fn markers_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<DayMarker> {
        if from > to {
            return Vec::new();
        }
        let marker = |source: DaySource| {
            move |(date, listed): (&NaiveDate, &Listed)| {
                (
                    *date,
                    DayMarker {
                        date: *date,
                        name: listed.name.clone(),
                        off_day: listed.off_day,
                        source,
                    },
                )
            }
        };
        let mut markers: BTreeMap<NaiveDate, DayMarker> = self
            .statutory
            .range(from..=to)
            .map(marker(DaySource::Statutory))
            .collect();
        markers.extend(
            self.company
                .range(from..=to)
                .map(marker(DaySource::Company)),
        );
        markers.into_values().collect()
    }

    /// The years touched by `from..=to` that have no statutory data, for the notice
    /// "2027 年无节假日数据，按周一至周五计算".
    pub fn years_without_data(&self, from: NaiveDate, to: NaiveDate) -> Vec<i32> {
        if from > to {
            return Vec::new();
        }
        (from.year()..=to.year())
            .filter(|year| !self.covers_year(*year))
            .collect()
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    fn statutory(year: i32, days: &[(&str, &str, bool)]) -> HolidayYear {
        HolidayYear {
            year,
            days: days
                .iter()
                .map(|(raw, name, off_day)| HolidayDay {
                    date: date(raw),
                    name: (*name).to_owned(),
                    off_day: *off_day,
                })
                .collect(),
        }
    }

    fn company(raw: &str, name: &str, off_day: bool) -> CompanyDay {
        CompanyDay {
            date: date(raw),
            name: name.to_owned(),
            off_day,
        }
    }

    #[test]
    fn unlisted_days_follow_monday_to_friday() {
        let calendar = WorkCalendar::new(vec![statutory(2026, &[])], vec![]);
        let monday = calendar.workday(date("2026-03-02"));
        assert!(monday.working && !monday.estimated);
        assert_eq!(monday.reason, WorkdayReason::Weekday);
        assert_eq!(monday.reason_label(), "工作日");
        let saturday = calendar.workday(date("2026-03-07"));
        assert!(!saturday.working && !saturday.estimated);
        assert_eq!(saturday.reason_label(), "周末");
        assert!(!saturday.is_holiday() && !saturday.is_weekend_workday());
    }

    #[test]
    fn years_without_data_are_estimated() {
        let calendar = WorkCalendar::new(vec![statutory(2026, &[])], vec![]);
        let day = calendar.workday(date("2027-10-01"));
        assert!(day.working && day.estimated);
        assert_eq!(day.reason, WorkdayReason::Weekday);
        assert!(calendar.workday(date("2027-10-02")).estimated);
        assert_eq!(
            calendar.years_without_data(date("2025-12-01"), date("2028-01-01")),
            vec![2025, 2027, 2028]
        );
        assert!(
            calendar
                .years_without_data(date("2026-01-01"), date("2026-12-31"))
                .is_empty()
        );
        assert!(
            calendar
                .years_without_data(date("2027-01-02"), date("2027-01-01"))
                .is_empty()
        );
        assert!(
            WorkCalendar::default()
                .workday(date("2026-10-01"))
                .estimated
        );
    }

    #[test]
    fn listed_days_from_a_neighbouring_year_are_known_not_estimated() {
        let calendar = WorkCalendar::new(
            vec![statutory(2027, &[("2026-12-26", "元旦", false)])],
            vec![],
        );
        let day = calendar.workday(date("2026-12-26"));
        assert!(day.working && !day.estimated);
        assert!(!calendar.covers_year(2026));
        assert!(calendar.workday(date("2026-12-28")).estimated);
    }

    #[test]
    fn a_date_is_taken_from_its_own_year_file() {
        let calendar = WorkCalendar::new(
            vec![
                statutory(2026, &[("2026-12-31", "元旦", true)]),
                statutory(2027, &[("2026-12-31", "旧数据", false)]),
            ],
            vec![],
        );
        let day = calendar.workday(date("2026-12-31"));
        assert_eq!(
            day.reason,
            WorkdayReason::StatutoryHoliday {
                name: "元旦".into()
            }
        );
    }

    #[test]
    fn a_later_file_for_the_same_year_replaces_the_earlier_one() {
        let calendar = WorkCalendar::new(
            vec![
                statutory(2026, &[("2026-10-08", "国庆节", true)]),
                statutory(2026, &[("2026-10-07", "国庆节", true)]),
            ],
            vec![],
        );
        assert!(calendar.is_working(date("2026-10-08")));
        assert!(!calendar.is_working(date("2026-10-07")));
    }

    #[test]
    fn company_days_override_statutory_days() {
        let calendar = WorkCalendar::new(
            vec![statutory(
                2026,
                &[
                    ("2026-10-01", "国庆节", true),
                    ("2026-10-10", "国庆节", false),
                ],
            )],
            vec![
                company("2026-10-01", "值班", false),
                company("2026-10-10", "补休", true),
                company("2026-03-06", "年会", true),
                company("2026-03-07", "盘点", false),
            ],
        );
        let cases = [
            ("2026-10-01", true, "公司工作日：值班"),
            ("2026-10-10", false, "公司休息日：补休"),
            ("2026-03-06", false, "公司休息日：年会"),
            ("2026-03-07", true, "公司工作日：盘点"),
        ];
        for (raw, working, label) in cases {
            let day = calendar.workday(date(raw));
            assert_eq!((day.working, day.reason_label().as_str()), (working, label));
            assert!(!day.estimated);
        }
        assert!(calendar.workday(date("2026-03-06")).is_holiday());
        assert!(calendar.workday(date("2026-03-07")).is_weekend_workday());
        // Company days are known even in a year without statutory data.
        let day = WorkCalendar::new(vec![], vec![company("2030-01-02", "年会", true)])
            .workday(date("2030-01-02"));
        assert!(!day.working && !day.estimated);
    }

    #[test]
    fn markers_show_the_day_in_force_once_per_date() {
        let calendar = WorkCalendar::new(
            vec![statutory(
                2026,
                &[
                    ("2026-09-30", "x", true),
                    ("2026-10-01", "国庆节", true),
                    ("2026-10-10", "国庆节", false),
                ],
            )],
            vec![
                company("2026-10-01", "值班", false),
                company("2026-10-05", "团建", true),
            ],
        );
        let markers = calendar.markers_between(date("2026-10-01"), date("2026-10-10"));
        let summary: Vec<_> = markers
            .iter()
            .map(|m| (m.date.to_string(), m.name.as_str(), m.badge(), m.source))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("2026-10-01".to_owned(), "值班", "班", DaySource::Company),
                ("2026-10-05".to_owned(), "团建", "休", DaySource::Company),
                (
                    "2026-10-10".to_owned(),
                    "国庆节",
                    "班",
                    DaySource::Statutory
                ),
            ]
        );
        assert!(
            calendar
                .markers_between(date("2026-10-10"), date("2026-10-01"))
                .is_empty()
        );
    }

    #[test]
    fn reasons_travel_with_a_kind_tag() {
        let json = serde_json::to_value(WorkdayReason::MakeUpWorkday {
            name: "春节".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "make_up_workday", "name": "春节"})
        );
        assert_eq!(
            serde_json::to_value(WorkdayReason::Weekend).unwrap(),
            serde_json::json!({"kind": "weekend"})
        );
        assert_eq!(
            serde_json::to_value(DaySource::Statutory).unwrap(),
            serde_json::json!("statutory")
        );
    }

    #[test]
    fn day_names_are_checked() {
        assert_eq!(parse_day_name(" 公司年会 ").unwrap(), "公司年会");
        assert_eq!(parse_day_name("").unwrap_err().field, "name");
        assert!(parse_day_name(&"节".repeat(33)).is_err());
        assert!(parse_day_name("年\u{202E}会").is_err());
    }

    #[cfg(feature = "ssr")]
    mod statutory_data {
        use super::*;

        /// The 2024–2026 files read independently of `parse_holiday_cn`: date → off day.
        fn raw_listings() -> BTreeMap<NaiveDate, (String, bool)> {
            let mut listed = BTreeMap::new();
            for json in [
                include_str!("../../data/holiday-cn/2024.json"),
                include_str!("../../data/holiday-cn/2025.json"),
                include_str!("../../data/holiday-cn/2026.json"),
            ] {
                let file: serde_json::Value = serde_json::from_str(json).unwrap();
                for day in file["days"].as_array().unwrap() {
                    let previous = listed.insert(
                        date(day["date"].as_str().unwrap()),
                        (
                            day["name"].as_str().unwrap().to_owned(),
                            day["isOffDay"].as_bool().unwrap(),
                        ),
                    );
                    assert!(previous.is_none());
                }
            }
            listed
        }

        fn builtin() -> WorkCalendar {
            WorkCalendar::new(builtin_years(), vec![])
        }

        #[test]
        fn builtin_years_parse_and_cover_2024_to_2026() {
            let years = builtin_years();
            assert_eq!(
                years
                    .iter()
                    .map(|y| (y.year, y.days.len()))
                    .collect::<Vec<_>>(),
                vec![(2024, 36), (2025, 33), (2026, 39)]
            );
            let calendar = builtin();
            assert!(calendar.covers_year(2024) && calendar.covers_year(2026));
            assert!(!calendar.covers_year(2023) && !calendar.covers_year(2027));
            assert_eq!(calendar.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        }

        #[test]
        fn every_listed_day_agrees_with_its_file() {
            let calendar = builtin();
            for (day, (name, off_day)) in raw_listings() {
                let workday = calendar.workday(day);
                let expected = if off_day {
                    WorkdayReason::StatutoryHoliday { name }
                } else {
                    WorkdayReason::MakeUpWorkday { name }
                };
                assert_eq!(workday.working, !off_day, "{day}");
                assert_eq!(workday.reason, expected, "{day}");
                assert!(!workday.estimated, "{day}");
            }
        }

        #[test]
        fn every_date_of_2024_to_2026_follows_the_rule() {
            let calendar = builtin();
            let listed = raw_listings();
            let mut counts = (0, 0);
            for day in date("2024-01-01")
                .iter_days()
                .take_while(|d| d.year() <= 2026)
            {
                let workday = calendar.workday(day);
                let expected = match listed.get(&day) {
                    Some((_, off_day)) => !off_day,
                    None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                };
                assert_eq!(workday.working, expected, "{day}");
                assert_eq!(workday.date, day);
                assert!(!workday.estimated, "{day}");
                if workday.working {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
            // 2024: 251 working days, 2025 and 2026: 248 each.
            assert_eq!(counts.0 + counts.1, 366 + 365 + 365);
            assert_eq!(counts.0, 251 + 248 + 248);
        }

        #[test]
        fn spring_festival_2026_is_off_and_its_saturdays_are_worked() {
            let calendar = builtin();
            for (raw, working, label) in [
                ("2026-02-13", true, "工作日"),
                ("2026-02-14", true, "调休上班：春节"),
                ("2026-02-15", false, "法定节假日：春节"),
                ("2026-02-23", false, "法定节假日：春节"),
                ("2026-02-24", true, "工作日"),
                ("2026-02-28", true, "调休上班：春节"),
                ("2026-03-01", false, "周末"),
                ("2026-10-01", false, "法定节假日：国庆节"),
                ("2026-10-10", true, "调休上班：国庆节"),
                ("2026-10-11", false, "周末"),
                ("2025-10-08", false, "法定节假日：国庆节、中秋节"),
            ] {
                let day = calendar.workday(date(raw));
                assert_eq!(
                    (day.working, day.reason_label().as_str()),
                    (working, label),
                    "{raw}"
                );
            }
            assert!(calendar.workday(date("2026-02-14")).is_weekend_workday());
            assert!(calendar.workday(date("2026-10-01")).is_holiday());
            let estimated = calendar.workday(date("2027-02-08"));
            assert!(estimated.working && estimated.estimated);
        }

        #[test]
        fn markers_list_the_national_day_week() {
            let markers = builtin().markers_between(date("2026-09-19"), date("2026-10-11"));
            let off: Vec<_> = markers
                .iter()
                .filter(|m| m.off_day)
                .map(|m| m.date)
                .collect();
            let work: Vec<_> = markers
                .iter()
                .filter(|m| !m.off_day)
                .map(|m| m.date)
                .collect();
            assert_eq!(off.len(), 3 + 7);
            assert_eq!(work, vec![date("2026-09-20"), date("2026-10-10")]);
            assert!(markers.iter().all(|m| m.source == DaySource::Statutory));
        }

        fn file_error(json: &str) -> String {
            parse_holiday_cn(json).unwrap_err().message
        }

        fn with_days(days: &str) -> String {
            format!(r#"{{"year":2026,"papers":[],"days":[{days}]}}"#)
        }

        #[test]
        fn holiday_files_are_read_strictly() {
            let ok = r#"{"name":"春节","date":"2026-02-15","isOffDay":true}"#;
            for (json, hint) in [
                ("not json".to_owned(), "不是有效的 JSON"),
                ("[1,2]".to_owned(), "应为 JSON 对象"),
                (r#"{"days":[]}"#.to_owned(), "缺少 year"),
                (
                    r#"{"year":"2026","days":[]}"#.to_owned(),
                    "year: \"2026\" 应为整数",
                ),
                (
                    r#"{"year":1999,"days":[]}"#.to_owned(),
                    "year: 1999 超出支持范围",
                ),
                (
                    r#"{"year":2101,"days":[]}"#.to_owned(),
                    "超出支持范围 2000–2100",
                ),
                (r#"{"year":2026}"#.to_owned(), "缺少 days"),
                (r#"{"year":2026,"days":{}}"#.to_owned(), "days 应为数组"),
                (with_days(""), "days 为空"),
                (with_days("1"), "days[0] 应为对象"),
                (
                    with_days(&format!(
                        r#"{ok},{ok},{ok},{{"name":"春节","date":"2026-02-30","isOffDay":true}}"#
                    )),
                    "days[3].date: 2026-02-30 不是有效日期",
                ),
                (
                    with_days(r#"{"name":"春节","date":"2026-2-15","isOffDay":true}"#),
                    "days[0].date: 2026-2-15 不是有效日期",
                ),
                (
                    with_days(r#"{"name":"春节","date":20260215,"isOffDay":true}"#),
                    "days[0].date: 20260215 应为字符串",
                ),
                (
                    with_days(r#"{"name":"春节","isOffDay":true}"#),
                    "days[0] 缺少 date",
                ),
                (
                    with_days(r#"{"name":"春节","date":"2027-03-01","isOffDay":true}"#),
                    "days[0].date: 2027-03-01 不在 2026 年",
                ),
                (
                    with_days(r#"{"name":"春节","date":"2025-11-30","isOffDay":true}"#),
                    "不在 2026 年",
                ),
                (
                    with_days(r#"{"name":" ","date":"2026-02-15","isOffDay":true}"#),
                    "days[0].name: 不能为空",
                ),
                (
                    with_days(r#"{"date":"2026-02-15","isOffDay":true}"#),
                    "days[0] 缺少 name",
                ),
                (
                    with_days(r#"{"name":"春节","date":"2026-02-15","isOffDay":"true"}"#),
                    "days[0].isOffDay: \"true\" 应为 true 或 false",
                ),
                (
                    with_days(r#"{"name":"春节","date":"2026-02-15"}"#),
                    "days[0] 缺少 isOffDay",
                ),
                (
                    with_days(&format!(
                        r#"{ok},{{"name":"春节","date":"2026-02-15","isOffDay":false}}"#
                    )),
                    "days[1].date: 2026-02-15 与 days[0] 重复，且 isOffDay 不一致",
                ),
                (
                    with_days(&vec![ok; HOLIDAY_FILE_MAX_DAYS + 1].join(",")),
                    "最多 400 条",
                ),
            ] {
                let message = file_error(&json);
                assert!(message.contains(hint), "{json}: {message}");
            }
        }

        #[test]
        fn oversized_deep_or_wide_holiday_files_are_refused_cleanly() {
            let oversized = format!(
                r#"{{"year":2026,"days":[],"pad":"{}"}}"#,
                "x".repeat(HOLIDAY_FILE_MAX_BYTES)
            );
            assert_eq!(
                file_error(&oversized),
                "文件超过 1 MiB，不像是 holiday-cn 的年份文件"
            );
            // Nesting far beyond serde_json's recursion limit: an error, not a stack overflow.
            let deep = format!(
                r#"{{"year":2026,"days":{}{}}}"#,
                "[".repeat(200_000),
                "]".repeat(200_000)
            );
            assert!(file_error(&deep).starts_with("不是有效的 JSON"));
            // Just under the size bound, as many values as fit: refused by the day count.
            let wide = format!(r#"{{"year":2026,"days":[{}0]}}"#, "0,".repeat(500_000));
            assert_eq!(file_error(&wide), "days 有 500001 条，最多 400 条");
        }

        #[test]
        fn holiday_files_keep_neighbouring_dates_and_drop_exact_repeats() {
            let year = parse_holiday_cn(&with_days(
                r#"{"name":"春节","date":"2026-02-15","isOffDay":true},
                   {"name":"元旦","date":"2025-12-01","isOffDay":false},
                   {"name":"春节","date":"2026-02-15","isOffDay":true},
                   {"name":"元旦","date":"2027-01-31","isOffDay":true}"#,
            ))
            .unwrap();
            assert_eq!(year.year, 2026);
            assert_eq!(
                year.days
                    .iter()
                    .map(|d| d.date.to_string())
                    .collect::<Vec<_>>(),
                vec!["2025-12-01", "2026-02-15", "2027-01-31"]
            );
        }

        #[test]
        fn holiday_years_round_trip_through_json() {
            for year in builtin_years() {
                let json = serde_json::to_string(&year).unwrap();
                assert_eq!(serde_json::from_str::<HolidayYear>(&json).unwrap(), year);
            }
        }
    }
}
