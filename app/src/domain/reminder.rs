//! Clock-in and clock-out reminders (打卡提醒): which reminders a schedule produces, and which
//! of them are due in a time window.
//!
//! # Rules
//!
//! For a user scheduled on a shift on date D (the *shift date*):
//!
//! - the clock-in reminder fires `before_minutes` before the shift starts (D at `hours.start`);
//! - the clock-out reminder fires `after_minutes` after the shift ends (an overnight shift
//!   ends on D + 1, see [`ShiftHours::span_on`]);
//! - follow-up n (1..=count) of each kind fires n × `every_minutes` after its reminder.
//!
//! Every reminder carries the shift date D even when it fires on another calendar day (a
//! 00:10 shift with 15 minutes' notice reminds at 23:55 the day before; a night shift's
//! clock-out reminder fires the next morning).
//!
//! A scheduled day produces nothing, for the first reason that applies: the user is missing
//! or inactive ([`NoReminder::UserInactive`]), the user turned reminders off
//! ([`NoReminder::UserOptedOut`]), the shift does not exist ([`NoReminder::UnknownShift`]),
//! the shift is a rest shift ([`NoReminder::RestDay`]), or holidays are skipped and D is a
//! statutory or company off day ([`NoReminder::Holiday`]; ordinary weekends are not holidays:
//! whoever is scheduled on a Sunday is reminded), or the user has approved leave for the day
//! ([`NoReminder::OnLeave`]; half a day's leave drops only that half's reminder).
//!
//! # Windows and keys
//!
//! The runner asks for the reminders due in a half-open [`Window`] `(from, to]`, so adjacent
//! windows split the reminders exactly: an instant on a boundary belongs to the window that
//! ends there. Each reminder has a stable [`ReminderKey`] (user, shift date, kind, sequence)
//! that the delivery log holds unique, so a repeated or overlapping tick cannot send twice.
//! [`schedule_dates_for`] says which shift dates can have a reminder in a window, so the
//! runner loads only those schedules.
//!
//! # Daylight saving
//!
//! Wall-clock times become instants with [`resolve_local`], the rule used everywhere:
//!
//! - a time the clocks skip (spring forward) fires at the first instant after the gap, when
//!   the clocks jumped: Europe/Berlin 2026-03-29 02:30 → 03:00 CEST = 01:00Z;
//! - a time that occurs twice (fall back) fires once, at the earlier offset: Europe/Berlin
//!   2026-10-25 02:30 → 02:30 CEST = 00:30Z, never again at 02:30 CET.
//!
//! Offsets and follow-up intervals are real durations added to those instants: "15 minutes
//! before" a shift starting in the gap fires at 00:45Z, and "60 minutes after" a night shift
//! ending at 06:00 on the fall-back morning fires one real hour after 06:00 CET.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::InvalidValue;
use super::holiday::{WorkCalendar, WorkdayReason};
use super::request::{DayPart, Leave};
use super::shift::{ShiftHours, resolve_local};

/// The most minutes a reminder may fire before a shift starts or after it ends.
pub const MAX_OFFSET_MINUTES: u16 = 720;
/// The longest interval between follow-ups.
pub const MAX_FOLLOW_UP_EVERY_MINUTES: u16 = 240;
/// The most follow-ups per reminder.
pub const MAX_FOLLOW_UPS: u8 = 10;

/// How long after its reminder the last follow-up can fire.
const MAX_FOLLOW_UP_SPAN_MINUTES: i64 = MAX_FOLLOW_UP_EVERY_MINUTES as i64 * MAX_FOLLOW_UPS as i64;

/// What a reminder asks the user to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    ClockIn,
    ClockOut,
}

impl ReminderKind {
    pub const ALL: [Self; 2] = [Self::ClockIn, Self::ClockOut];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClockIn => "clock_in",
            Self::ClockOut => "clock_out",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// "上班" or "下班", as in "上班打卡提醒".
    pub fn label(self) -> &'static str {
        match self {
            Self::ClockIn => "上班",
            Self::ClockOut => "下班",
        }
    }
}

impl fmt::Display for ReminderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Repeats of a reminder for someone who has not clocked in or out yet: `count` more
/// reminders, `every_minutes` apart. A count of 0 turns them off.
///
/// [`FollowUps::new`] and deserialisation check the ranges. The fields are public for
/// pattern matching; values built around `new` are read as the nearest valid value (interval
/// 1–240 minutes, at most 10), so that [`schedule_dates_for`] stays a safe bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawFollowUps")]
pub struct FollowUps {
    pub every_minutes: u16,
    pub count: u8,
}

#[derive(Deserialize)]
struct RawFollowUps {
    every_minutes: u16,
    count: u8,
}

impl TryFrom<RawFollowUps> for FollowUps {
    type Error = InvalidValue;
    fn try_from(raw: RawFollowUps) -> Result<Self, Self::Error> {
        Self::new(raw.every_minutes, raw.count)
    }
}

impl FollowUps {
    /// No follow-ups. The interval is what a form offers when they are turned on.
    pub const OFF: Self = Self {
        every_minutes: 15,
        count: 0,
    };

    pub fn new(every_minutes: u16, count: u8) -> Result<Self, InvalidValue> {
        if !(1..=MAX_FOLLOW_UP_EVERY_MINUTES).contains(&every_minutes) {
            return Err(InvalidValue {
                expected: "追加提醒间隔应为 1 至 240 分钟",
            });
        }
        if count > MAX_FOLLOW_UPS {
            return Err(InvalidValue {
                expected: "追加提醒次数应为 0 至 10 次",
            });
        }
        Ok(Self {
            every_minutes,
            count,
        })
    }

    pub fn is_off(self) -> bool {
        self.count == 0
    }

    /// (sequence, delay after the reminder) for the reminder itself (0) and each follow-up.
    fn sequence(self) -> impl Iterator<Item = (u8, Duration)> {
        let every = i64::from(self.every_minutes.clamp(1, MAX_FOLLOW_UP_EVERY_MINUTES));
        (0..=self.count.min(MAX_FOLLOW_UPS))
            .map(move |n| (n, Duration::minutes(every * i64::from(n))))
    }
}

impl Default for FollowUps {
    fn default() -> Self {
        Self::OFF
    }
}

/// A shift as the reminder rules see it, with its offsets already resolved by the caller
/// (`after_minutes` defaults to `WORK_OVERTIME` upstream). Offsets above
/// [`MAX_OFFSET_MINUTES`] are read as that maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderShift {
    pub id: i32,
    pub name: String,
    pub hours: ShiftHours,
    pub rest: bool,
    pub before_minutes: u16,
    pub after_minutes: u16,
    pub follow_ups: FollowUps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReminderUser {
    pub id: i32,
    pub active: bool,
    pub reminders_enabled: bool,
}

/// One user working one shift on one date (the date the shift starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduledDay {
    pub user_id: i32,
    pub date: NaiveDate,
    pub shift_id: i32,
}

/// What identifies a reminder across ticks and restarts. `sequence` 0 is the reminder
/// itself, n its n-th follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReminderKey {
    pub user_id: i32,
    pub date: NaiveDate,
    pub kind: ReminderKind,
    pub sequence: u8,
}

/// A reminder to send at `at`. `date` is the shift date, which is not always the calendar
/// date of `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reminder {
    pub user_id: i32,
    pub date: NaiveDate,
    pub kind: ReminderKind,
    pub sequence: u8,
    pub at: DateTime<Utc>,
    pub shift_id: i32,
}

impl Reminder {
    pub fn key(&self) -> ReminderKey {
        ReminderKey {
            user_id: self.user_id,
            date: self.date,
            kind: self.kind,
            sequence: self.sequence,
        }
    }
}

/// The half-open interval `(from, to]`: `from` is excluded, `to` included, so that windows
/// `(a, b]` and `(b, c]` share no instant and miss none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    /// `None` when `to` is before `from`. `from == to` is an empty window.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    pub fn contains(self, at: DateTime<Utc>) -> bool {
        self.from < at && at <= self.to
    }

    pub fn from(self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(self) -> DateTime<Utc> {
        self.to
    }
}

/// Everything the rules read besides the schedules.
#[derive(Debug, Clone, Copy)]
pub struct ReminderRules<'a> {
    pub tz: Tz,
    pub shifts: &'a HashMap<i32, ReminderShift>,
    pub users: &'a HashMap<i32, ReminderUser>,
    pub calendar: &'a WorkCalendar,
    /// Send nothing on statutory and company off days.
    pub skip_holidays: bool,
    /// Approved leave by person and shift date (see [`crate::domain::request::Leave`]).
    pub leave: &'a HashMap<(i32, NaiveDate), Leave>,
}

/// Why a day has no reminders.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoReminder {
    NoSchedule,
    RestDay {
        shift: String,
    },
    Holiday {
        name: String,
    },
    UserInactive,
    UserOptedOut,
    UnknownShift,
    /// Approved leave for the whole day.
    OnLeave {
        leave_type: String,
    },
}

impl NoReminder {
    /// A short zh-CN explanation for the preview.
    pub fn label(&self) -> String {
        match self {
            Self::NoSchedule => "未排班".to_owned(),
            Self::RestDay { shift } => format!("休息（{shift}）"),
            Self::Holiday { name } => format!("节假日不提醒（{name}）"),
            Self::UserInactive => "账号已停用".to_owned(),
            Self::UserOptedOut => "本人关闭了提醒".to_owned(),
            Self::UnknownShift => "班次不存在".to_owned(),
            Self::OnLeave { leave_type } => format!("休假（{leave_type}）"),
        }
    }
}

impl fmt::Display for NoReminder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Every reminder of one scheduled day, whatever the time, sorted by instant (then kind and
/// sequence); or why there is none.
pub fn reminders_for_day(
    rules: &ReminderRules<'_>,
    day: &ScheduledDay,
) -> Result<Vec<Reminder>, NoReminder> {
    let user = rules
        .users
        .get(&day.user_id)
        .filter(|user| user.active)
        .ok_or(NoReminder::UserInactive)?;
    if !user.reminders_enabled {
        return Err(NoReminder::UserOptedOut);
    }
    let shift = rules
        .shifts
        .get(&day.shift_id)
        .ok_or(NoReminder::UnknownShift)?;
    if shift.rest {
        return Err(NoReminder::RestDay {
            shift: shift.name.clone(),
        });
    }
    if rules.skip_holidays
        && let Some(name) = holiday_name(rules.calendar, day.date)
    {
        return Err(NoReminder::Holiday { name });
    }
    let leave = rules.leave.get(&(day.user_id, day.date)).copied();
    if let Some(leave) = leave.filter(|leave| leave.part == DayPart::Full) {
        return Err(NoReminder::OnLeave {
            leave_type: leave.leave_type.label().to_owned(),
        });
    }
    // Half a day off: the morning's leave needs no clock-in, the afternoon's no clock-out.
    let kinds = [ReminderKind::ClockIn, ReminderKind::ClockOut]
        .into_iter()
        .filter(|kind| {
            !matches!(
                (leave.map(|leave| leave.part), kind),
                (Some(DayPart::Morning), ReminderKind::ClockIn)
                    | (Some(DayPart::Afternoon), ReminderKind::ClockOut)
            )
        });

    let (start, end) = shift.hours.span_on(day.date, rules.tz);
    let clock_in = earlier(start, offset(shift.before_minutes));
    let clock_out = later(end, offset(shift.after_minutes));
    let mut reminders: Vec<Reminder> = kinds
        .map(|kind| match kind {
            ReminderKind::ClockIn => (kind, clock_in),
            ReminderKind::ClockOut => (kind, clock_out),
        })
        .flat_map(|(kind, main)| {
            shift
                .follow_ups
                .sequence()
                .map(move |(sequence, delay)| Reminder {
                    user_id: day.user_id,
                    date: day.date,
                    kind,
                    sequence,
                    at: later(main, delay),
                    shift_id: day.shift_id,
                })
        })
        .collect();
    reminders.sort_by_key(|reminder| (reminder.at, reminder.kind, reminder.sequence));
    Ok(reminders)
}

/// The inclusive range of shift dates whose reminders can fall inside `window`, whatever
/// the shifts' hours, offsets and follow-ups: loading the schedules of exactly these dates
/// gives the same [`due`] as loading all of them.
///
/// Every reminder of date D lies within [midnight of D − 12 h, midnight of D + 2 + 12 h +
/// 40 h]: the clock-in fires at most [`MAX_OFFSET_MINUTES`] before a start on D, and the
/// latest follow-up of a clock-out fires at most 12 h + 10 × 240 min after an end before
/// the midnight starting D + 2. The midnights are resolved in `tz` like any wall-clock time,
/// so the bounds hold across offset changes, and the range is a few days wide.
pub fn schedule_dates_for(window: &Window, tz: Tz) -> (NaiveDate, NaiveDate) {
    let earliest = |date: NaiveDate| earlier(midnight(tz, date), offset(MAX_OFFSET_MINUTES));
    let latest = |date: NaiveDate| {
        later(
            midnight(tz, days_after(date, 2)),
            offset(MAX_OFFSET_MINUTES) + Duration::minutes(MAX_FOLLOW_UP_SPAN_MINUTES),
        )
    };
    // Both bounds grow with the date, so the dates whose span meets the window are a range:
    // from the first date whose latest reminder is after `from` to the last date whose
    // earliest reminder is not after `to`. Start from a guess and walk to each end.
    let mut first = days_after(window.from.date_naive(), -5);
    while latest(first) > window.from {
        match first.pred_opt() {
            Some(previous) => first = previous,
            None => break,
        }
    }
    while latest(first) <= window.from {
        match first.succ_opt() {
            Some(next) => first = next,
            None => break,
        }
    }
    let mut last = days_after(window.to.date_naive(), 2);
    while earliest(last) > window.to {
        match last.pred_opt() {
            Some(previous) => last = previous,
            None => break,
        }
    }
    while let Some(next) = last.succ_opt().filter(|next| earliest(*next) <= window.to) {
        last = next;
    }
    (first, last)
}

/// The reminders due in `window`, sorted by (instant, user, kind, sequence, date). When
/// `schedules` lists a (user, date) more than once, the last entry is the one in force, so no
/// key appears twice.
pub fn due(
    rules: &ReminderRules<'_>,
    schedules: &[ScheduledDay],
    window: &Window,
) -> Vec<Reminder> {
    let mut due: Vec<Reminder> = in_force(schedules)
        .filter_map(|day| reminders_for_day(rules, day).ok())
        .flatten()
        .filter(|reminder| window.contains(reminder.at))
        .collect();
    due.sort_by_key(|reminder| {
        (
            reminder.at,
            reminder.user_id,
            reminder.kind,
            reminder.sequence,
            reminder.date,
        )
    });
    due
}

/// One user's day in the "upcoming reminders" preview: the shift, its reminders, or why there
/// are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPlan {
    pub user_id: i32,
    pub date: NaiveDate,
    pub shift_id: Option<i32>,
    pub reminders: Vec<Reminder>,
    pub none: Option<NoReminder>,
}

/// One plan per user (in the order given, each once) per date in `from..=to`. Schedules of
/// other users or dates are ignored; a (user, date) listed twice takes the last entry.
pub fn day_plans(
    rules: &ReminderRules<'_>,
    user_ids: &[i32],
    from: NaiveDate,
    to: NaiveDate,
    schedules: &[ScheduledDay],
) -> Vec<DayPlan> {
    let by_day: HashMap<(i32, NaiveDate), &ScheduledDay> = schedules
        .iter()
        .map(|day| ((day.user_id, day.date), day))
        .collect();
    let mut seen = HashSet::new();
    user_ids
        .iter()
        .copied()
        .filter(|user_id| seen.insert(*user_id))
        .flat_map(|user_id| {
            from.iter_days()
                .take_while(move |date| *date <= to)
                .map(move |date| (user_id, date))
        })
        .map(|(user_id, date)| {
            let Some(day) = by_day.get(&(user_id, date)) else {
                return DayPlan {
                    user_id,
                    date,
                    shift_id: None,
                    reminders: Vec::new(),
                    none: Some(NoReminder::NoSchedule),
                };
            };
            let (reminders, none) = match reminders_for_day(rules, day) {
                Ok(reminders) => (reminders, None),
                Err(reason) => (Vec::new(), Some(reason)),
            };
            DayPlan {
                user_id,
                date,
                shift_id: Some(day.shift_id),
                reminders,
                none,
            }
        })
        .collect()
}

/// The name of the statutory or company off day on `date`, if it is one.
fn holiday_name(calendar: &WorkCalendar, date: NaiveDate) -> Option<String> {
    let workday = calendar.workday(date);
    if !workday.is_holiday() {
        return None;
    }
    Some(match workday.reason {
        WorkdayReason::StatutoryHoliday { name } | WorkdayReason::CompanyOffDay { name } => name,
        other => other.label(),
    })
}

/// The schedules in force: the last entry for each (user, date).
fn in_force(schedules: &[ScheduledDay]) -> impl Iterator<Item = &ScheduledDay> {
    let mut seen = HashSet::new();
    schedules
        .iter()
        .rev()
        .filter(move |day| seen.insert((day.user_id, day.date)))
}

fn offset(minutes: u16) -> Duration {
    Duration::minutes(i64::from(minutes.min(MAX_OFFSET_MINUTES)))
}

fn midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve_local(tz, date.and_time(NaiveTime::MIN))
}

// Saturating arithmetic: chrono panics on overflow, and dates near its limits are not worth
// a panic in the reminder runner.
fn earlier(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at.checked_sub_signed(by)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at.checked_add_signed(by)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn days_after(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::holiday::{CompanyDay, HolidayDay, HolidayYear};
    use crate::domain::shift::ClockTime;
    use chrono::NaiveDateTime;
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};

    fn date(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    fn window(from: &str, to: &str) -> Window {
        Window::new(utc(from), utc(to)).unwrap()
    }

    fn shift(id: i32, start: &str, end: &str) -> ReminderShift {
        ReminderShift {
            id,
            name: format!("班次{id}"),
            hours: ShiftHours::new(
                ClockTime::parse(start).unwrap(),
                ClockTime::parse(end).unwrap(),
            ),
            rest: false,
            before_minutes: 0,
            after_minutes: 0,
            follow_ups: FollowUps::OFF,
        }
    }

    fn offsets(mut shift: ReminderShift, before: u16, after: u16) -> ReminderShift {
        shift.before_minutes = before;
        shift.after_minutes = after;
        shift
    }

    fn user(id: i32) -> ReminderUser {
        ReminderUser {
            id,
            active: true,
            reminders_enabled: true,
        }
    }

    fn scheduled(user_id: i32, raw_date: &str, shift_id: i32) -> ScheduledDay {
        ScheduledDay {
            user_id,
            date: date(raw_date),
            shift_id,
        }
    }

    /// Real 2026 data (holiday-cn 2026.json): the National Day week and its make-up
    /// Saturday, plus two days of the Spring Festival.
    fn calendar_2026(company: Vec<CompanyDay>) -> WorkCalendar {
        let mut days: Vec<HolidayDay> = (1..=7)
            .map(|day| HolidayDay {
                date: NaiveDate::from_ymd_opt(2026, 10, day).unwrap(),
                name: "国庆节".to_owned(),
                off_day: true,
            })
            .collect();
        days.push(HolidayDay {
            date: date("2026-10-10"),
            name: "国庆节".to_owned(),
            off_day: false,
        });
        for (raw, off_day) in [("2026-02-14", false), ("2026-02-16", true)] {
            days.push(HolidayDay {
                date: date(raw),
                name: "春节".to_owned(),
                off_day,
            });
        }
        days.sort_by_key(|day| day.date);
        WorkCalendar::new(vec![HolidayYear { year: 2026, days }], company)
    }

    struct Setup {
        tz: Tz,
        shifts: HashMap<i32, ReminderShift>,
        users: HashMap<i32, ReminderUser>,
        calendar: WorkCalendar,
        skip_holidays: bool,
        leave: HashMap<(i32, NaiveDate), Leave>,
    }

    impl Setup {
        fn new(tz: Tz, shifts: Vec<ReminderShift>) -> Self {
            Self {
                tz,
                shifts: shifts.into_iter().map(|s| (s.id, s)).collect(),
                users: [1, 2, 3].map(|id| (id, user(id))).into_iter().collect(),
                calendar: calendar_2026(vec![]),
                skip_holidays: true,
                leave: HashMap::new(),
            }
        }

        fn rules(&self) -> ReminderRules<'_> {
            ReminderRules {
                tz: self.tz,
                shifts: &self.shifts,
                users: &self.users,
                calendar: &self.calendar,
                skip_holidays: self.skip_holidays,
                leave: &self.leave,
            }
        }

        fn day(&self, day: ScheduledDay) -> Result<Vec<Reminder>, NoReminder> {
            reminders_for_day(&self.rules(), &day)
        }

        /// (kind, sequence, instant in UTC) of each reminder of `day`.
        fn summary(&self, day: ScheduledDay) -> Vec<(ReminderKind, u8, String)> {
            summary(&self.day(day).unwrap())
        }
    }

    fn summary(reminders: &[Reminder]) -> Vec<(ReminderKind, u8, String)> {
        reminders
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.sequence,
                    r.at.format("%Y-%m-%d %H:%M").to_string(),
                )
            })
            .collect()
    }

    fn expected(rows: &[(ReminderKind, u8, &str)]) -> Vec<(ReminderKind, u8, String)> {
        rows.iter()
            .map(|(kind, sequence, at)| (*kind, *sequence, (*at).to_owned()))
            .collect()
    }

    use ReminderKind::{ClockIn, ClockOut};

    #[test]
    fn day_shift_reminds_before_start_and_after_end() {
        let setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "09:00", "18:00"), 10, 30)],
        );
        let day = scheduled(1, "2026-03-02", 1);
        let reminders = setup.day(day).unwrap();
        assert_eq!(
            summary(&reminders),
            expected(&[
                (ClockIn, 0, "2026-03-02 00:50"),
                (ClockOut, 0, "2026-03-02 10:30"),
            ])
        );
        for reminder in &reminders {
            assert_eq!((reminder.user_id, reminder.date), (1, date("2026-03-02")));
            assert_eq!(reminder.shift_id, 1);
        }
        assert_eq!(
            reminders[1].key(),
            ReminderKey {
                user_id: 1,
                date: date("2026-03-02"),
                kind: ClockOut,
                sequence: 0
            }
        );
    }

    #[test]
    fn overnight_shift_clock_out_is_next_morning() {
        let setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "22:00", "06:00"), 30, 30)],
        );
        let reminders = setup.day(scheduled(1, "2026-03-02", 1)).unwrap();
        assert_eq!(
            summary(&reminders),
            expected(&[
                (ClockIn, 0, "2026-03-02 13:30"),
                (ClockOut, 0, "2026-03-02 22:30"),
            ])
        );
        // 06:30 on 3 March in Shanghai, still the reminder of the 2 March shift.
        let clock_out = reminders[1].at.with_timezone(&Asia::Shanghai);
        assert_eq!(clock_out.date_naive(), date("2026-03-03"));
        assert_eq!(reminders[1].date, date("2026-03-02"));
    }

    #[test]
    fn clock_in_before_midnight_belongs_to_the_shift_date() {
        let setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "00:10", "08:00"), 15, 0)],
        );
        let day = scheduled(1, "2026-03-02", 1);
        let reminders = setup.day(day).unwrap();
        assert_eq!(
            summary(&reminders),
            expected(&[
                (ClockIn, 0, "2026-03-01 15:55"),
                (ClockOut, 0, "2026-03-02 00:00"),
            ])
        );
        let local = reminders[0].at.with_timezone(&Asia::Shanghai);
        assert_eq!(local.naive_local().to_string(), "2026-03-01 23:55:00");
        assert_eq!(reminders[0].date, date("2026-03-02"));

        // A runner ticking over 23:55 on 1 March loads the 2 March schedule and finds it.
        let tick = window("2026-03-01 15:50", "2026-03-01 15:55");
        let (first, last) = schedule_dates_for(&tick, Asia::Shanghai);
        assert!(first <= day.date && day.date <= last);
        assert_eq!(
            due(&setup.rules(), &[day], &tick)
                .iter()
                .map(Reminder::key)
                .collect::<Vec<_>>(),
            vec![reminders[0].key()]
        );
    }

    #[test]
    fn follow_ups_repeat_each_kind() {
        let mut night = offsets(shift(1, "20:00", "02:00"), 0, 0);
        night.follow_ups = FollowUps::new(10, 3).unwrap();
        let setup = Setup::new(Asia::Shanghai, vec![night]);
        let reminders = setup.day(scheduled(1, "2026-03-02", 1)).unwrap();
        assert_eq!(
            summary(&reminders),
            expected(&[
                (ClockIn, 0, "2026-03-02 12:00"),
                (ClockIn, 1, "2026-03-02 12:10"),
                (ClockIn, 2, "2026-03-02 12:20"),
                (ClockIn, 3, "2026-03-02 12:30"),
                (ClockOut, 0, "2026-03-02 18:00"),
                (ClockOut, 1, "2026-03-02 18:10"),
                (ClockOut, 2, "2026-03-02 18:20"),
                (ClockOut, 3, "2026-03-02 18:30"),
            ])
        );
        let keys: HashSet<_> = reminders.iter().map(Reminder::key).collect();
        assert_eq!(keys.len(), reminders.len());
    }

    #[test]
    fn follow_ups_of_clock_in_and_clock_out_interleave_in_time() {
        // A one-hour shift with follow-ups every 40 minutes: the clock-in's second follow-up
        // comes after the clock-out reminder.
        let mut short = shift(1, "09:00", "10:00");
        short.follow_ups = FollowUps::new(40, 2).unwrap();
        let setup = Setup::new(UTC_TZ, vec![short]);
        assert_eq!(
            setup.summary(scheduled(1, "2026-03-02", 1)),
            expected(&[
                (ClockIn, 0, "2026-03-02 09:00"),
                (ClockIn, 1, "2026-03-02 09:40"),
                (ClockOut, 0, "2026-03-02 10:00"),
                (ClockIn, 2, "2026-03-02 10:20"),
                (ClockOut, 1, "2026-03-02 10:40"),
                (ClockOut, 2, "2026-03-02 11:20"),
            ])
        );
    }

    const UTC_TZ: Tz = chrono_tz::UTC;

    #[test]
    fn follow_ups_check_their_ranges() {
        assert_eq!(
            FollowUps::new(240, 10),
            Ok(FollowUps {
                every_minutes: 240,
                count: 10
            })
        );
        assert!(FollowUps::new(1, 0).unwrap().is_off());
        assert!(FollowUps::OFF.is_off());
        assert_eq!(FollowUps::default(), FollowUps::OFF);
        for (every, count, hint) in [
            (0, 1, "间隔"),
            (241, 1, "间隔"),
            (0, 0, "间隔"),
            (10, 11, "次数"),
            (10, u8::MAX, "次数"),
        ] {
            let error = FollowUps::new(every, count).unwrap_err();
            assert!(error.expected.contains(hint), "{every} {count}");
        }
        let json = serde_json::to_value(FollowUps::new(30, 2).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"every_minutes": 30, "count": 2}));
        assert_eq!(
            serde_json::from_value::<FollowUps>(json).unwrap(),
            FollowUps::new(30, 2).unwrap()
        );
        assert!(serde_json::from_str::<FollowUps>(r#"{"every_minutes":0,"count":2}"#).is_err());
        assert!(serde_json::from_str::<FollowUps>(r#"{"every_minutes":5,"count":11}"#).is_err());
    }

    #[test]
    fn values_beyond_the_limits_are_read_as_the_limits() {
        let mut wild = offsets(shift(1, "12:00", "13:00"), 2000, u16::MAX);
        wild.follow_ups = FollowUps {
            every_minutes: 0,
            count: 50,
        };
        let setup = Setup::new(UTC_TZ, vec![wild]);
        let reminders = setup.day(scheduled(1, "2026-03-02", 1)).unwrap();
        assert_eq!(reminders.len(), 2 * 11);
        let first = reminders.first().unwrap();
        let last = reminders.last().unwrap();
        assert_eq!((first.kind, first.sequence), (ClockIn, 0));
        assert_eq!(first.at, utc("2026-03-02 00:00"));
        assert_eq!((last.kind, last.sequence), (ClockOut, 10));
        assert_eq!(last.at, utc("2026-03-03 01:10"));
    }

    #[test]
    fn rest_shift_has_no_reminders() {
        let mut rest = shift(1, "00:00", "00:00");
        rest.name = "休息".to_owned();
        rest.rest = true;
        let setup = Setup::new(Asia::Shanghai, vec![rest]);
        let reason = setup.day(scheduled(1, "2026-03-02", 1)).unwrap_err();
        assert_eq!(
            reason,
            NoReminder::RestDay {
                shift: "休息".to_owned()
            }
        );
        assert_eq!(reason.label(), "休息（休息）");
    }

    #[test]
    fn inactive_or_missing_user_has_no_reminders() {
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        setup.users.get_mut(&2).unwrap().active = false;
        assert_eq!(
            setup.day(scheduled(2, "2026-03-02", 1)),
            Err(NoReminder::UserInactive)
        );
        assert_eq!(
            setup.day(scheduled(42, "2026-03-02", 1)),
            Err(NoReminder::UserInactive)
        );
        // Inactive wins over having turned reminders off.
        setup.users.get_mut(&2).unwrap().reminders_enabled = false;
        assert_eq!(
            setup.day(scheduled(2, "2026-03-02", 1)),
            Err(NoReminder::UserInactive)
        );
    }

    #[test]
    fn opted_out_user_has_no_reminders() {
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        setup.users.get_mut(&1).unwrap().reminders_enabled = false;
        assert_eq!(
            setup.day(scheduled(1, "2026-03-02", 1)),
            Err(NoReminder::UserOptedOut)
        );
        assert!(setup.day(scheduled(2, "2026-03-02", 1)).is_ok());
    }

    #[test]
    fn unknown_shift_has_no_reminders() {
        let setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        assert_eq!(
            setup.day(scheduled(1, "2026-03-02", 7)),
            Err(NoReminder::UnknownShift)
        );
    }

    #[test]
    fn reasons_are_checked_user_first_then_shift_then_holiday() {
        let mut rest = shift(2, "00:00", "00:00");
        rest.rest = true;
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00"), rest]);
        // 1 October 2026 is a statutory holiday.
        assert_eq!(
            setup.day(scheduled(1, "2026-10-01", 2)),
            Err(NoReminder::RestDay {
                shift: "班次2".to_owned()
            })
        );
        assert_eq!(
            setup.day(scheduled(1, "2026-10-01", 9)),
            Err(NoReminder::UnknownShift)
        );
        setup.users.get_mut(&1).unwrap().reminders_enabled = false;
        assert_eq!(
            setup.day(scheduled(1, "2026-10-01", 9)),
            Err(NoReminder::UserOptedOut)
        );
    }

    #[test]
    fn reminder_is_skipped_on_statutory_holiday() {
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        let national_day = scheduled(1, "2026-10-01", 1);
        let reason = setup.day(national_day).unwrap_err();
        assert_eq!(
            reason,
            NoReminder::Holiday {
                name: "国庆节".to_owned()
            }
        );
        assert_eq!(reason.label(), "节假日不提醒（国庆节）");
        assert!(setup.day(scheduled(1, "2026-02-16", 1)).is_err());

        setup.skip_holidays = false;
        assert_eq!(
            setup.summary(national_day),
            expected(&[
                (ClockIn, 0, "2026-10-01 01:00"),
                (ClockOut, 0, "2026-10-01 10:00"),
            ])
        );
    }

    #[test]
    fn leave_drops_the_day_or_the_half_it_covers() {
        use crate::domain::request::LeaveType;
        let mut setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "22:00", "06:00"), 30, 30)],
        );
        let night = scheduled(1, "2026-03-02", 1);
        let mut on_leave = |part| {
            let leave = Leave {
                leave_type: LeaveType::Sick,
                part,
            };
            setup.leave.insert((1, date("2026-03-02")), leave);
            setup.day(night)
        };
        let reason = on_leave(DayPart::Full).unwrap_err();
        assert_eq!(reason.label(), "休假（病假）");
        assert_eq!(
            summary(&on_leave(DayPart::Morning).unwrap()),
            expected(&[(ClockOut, 0, "2026-03-02 22:30")])
        );
        assert_eq!(
            summary(&on_leave(DayPart::Afternoon).unwrap()),
            expected(&[(ClockIn, 0, "2026-03-02 13:30")])
        );
        // Only that person and that shift date.
        assert_eq!(setup.day(scheduled(2, "2026-03-02", 1)).unwrap().len(), 2);
        assert_eq!(setup.day(scheduled(1, "2026-03-03", 1)).unwrap().len(), 2);
    }

    #[test]
    fn makeup_saturday_and_ordinary_weekends_still_remind() {
        let setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        assert!(setup.skip_holidays);
        // 调休上班 on Saturday 10 October, an ordinary Sunday on the 11th, and the Saturday
        // before the Spring Festival.
        for raw in ["2026-10-10", "2026-10-11", "2026-02-14", "2026-03-07"] {
            assert_eq!(setup.day(scheduled(1, raw, 1)).unwrap().len(), 2, "{raw}");
        }
    }

    #[test]
    fn night_shift_before_a_holiday_still_reminds() {
        // The rule looks at the shift date only: 30 September is a working day.
        let setup = Setup::new(Asia::Shanghai, vec![shift(1, "22:00", "06:00")]);
        assert_eq!(
            setup.summary(scheduled(1, "2026-09-30", 1)),
            expected(&[
                (ClockIn, 0, "2026-09-30 14:00"),
                (ClockOut, 0, "2026-09-30 22:00"),
            ])
        );
    }

    #[test]
    fn company_days_decide_over_statutory_ones() {
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        setup.calendar = calendar_2026(vec![
            CompanyDay {
                date: date("2026-03-06"),
                name: "年会".to_owned(),
                off_day: true,
            },
            CompanyDay {
                date: date("2026-10-02"),
                name: "值班".to_owned(),
                off_day: false,
            },
        ]);
        assert_eq!(
            setup.day(scheduled(1, "2026-03-06", 1)),
            Err(NoReminder::Holiday {
                name: "年会".to_owned()
            })
        );
        // A company working day inside the National Day week.
        assert_eq!(
            setup.summary(scheduled(1, "2026-10-02", 1)),
            expected(&[
                (ClockIn, 0, "2026-10-02 01:00"),
                (ClockOut, 0, "2026-10-02 10:00"),
            ])
        );
        assert!(setup.day(scheduled(1, "2026-10-03", 1)).is_err());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn builtin_spring_festival_is_skipped() {
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00")]);
        setup.calendar = WorkCalendar::new(crate::domain::holiday::builtin_years(), vec![]);
        assert_eq!(
            setup.day(scheduled(1, "2026-02-17", 1)),
            Err(NoReminder::Holiday {
                name: "春节".to_owned()
            })
        );
        assert!(setup.day(scheduled(1, "2026-02-14", 1)).is_ok());
        assert!(setup.day(scheduled(1, "2026-02-24", 1)).is_ok());
    }

    #[test]
    fn berlin_spring_forward_gap_fires_when_the_clocks_jump() {
        let setup = Setup::new(
            Europe::Berlin,
            vec![
                shift(1, "02:30", "10:00"),
                offsets(shift(2, "02:30", "10:00"), 15, 0),
                offsets(shift(3, "00:30", "02:15"), 0, 10),
            ],
        );
        assert_eq!(
            setup.summary(scheduled(1, "2026-03-29", 1)),
            expected(&[
                (ClockIn, 0, "2026-03-29 01:00"),
                (ClockOut, 0, "2026-03-29 08:00"),
            ])
        );
        // "15 minutes before" is 15 real minutes before the jump.
        assert_eq!(
            setup.day(scheduled(1, "2026-03-29", 2)).unwrap()[0].at,
            utc("2026-03-29 00:45")
        );
        // An end inside the gap is the jump too; "after" counts from there.
        assert_eq!(
            setup.summary(scheduled(1, "2026-03-29", 3)),
            expected(&[
                (ClockIn, 0, "2026-03-28 23:30"),
                (ClockOut, 0, "2026-03-29 01:10"),
            ])
        );
    }

    #[test]
    fn berlin_fall_back_overlap_fires_once_at_the_earlier_offset() {
        let setup = Setup::new(Europe::Berlin, vec![shift(1, "02:30", "10:00")]);
        let day = scheduled(1, "2026-10-25", 1);
        assert_eq!(
            setup.summary(day),
            expected(&[
                (ClockIn, 0, "2026-10-25 00:30"),
                (ClockOut, 0, "2026-10-25 09:00"),
            ])
        );
        // Minute-by-minute ticks through both 02:30s: the clock-in is due exactly once.
        let mut tick = utc("2026-10-24 22:00");
        let mut fired = Vec::new();
        while tick < utc("2026-10-25 03:00") {
            let next = tick + Duration::minutes(1);
            fired.extend(due(
                &setup.rules(),
                &[day],
                &Window::new(tick, next).unwrap(),
            ));
            tick = next;
        }
        assert_eq!(
            summary(&fired),
            expected(&[(ClockIn, 0, "2026-10-25 00:30")])
        );
    }

    #[test]
    fn night_shift_over_fall_back_clock_out_is_a_real_hour_later() {
        let setup = Setup::new(
            Europe::Berlin,
            vec![offsets(shift(1, "22:00", "06:00"), 0, 60)],
        );
        assert_eq!(
            setup.summary(scheduled(1, "2026-10-24", 1)),
            expected(&[
                (ClockIn, 0, "2026-10-24 20:00"),
                (ClockOut, 0, "2026-10-25 06:00"),
            ])
        );
    }

    #[test]
    fn shanghai_has_no_daylight_saving() {
        let setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "02:30", "10:00"), 5, 5)],
        );
        for raw in ["2026-03-29", "2026-10-25"] {
            let day = date(raw);
            let reminders = setup.day(scheduled(1, raw, 1)).unwrap();
            let local: Vec<_> = reminders
                .iter()
                .map(|r| r.at.with_timezone(&Asia::Shanghai).naive_local())
                .collect();
            assert_eq!(
                local,
                vec![
                    day.and_hms_opt(2, 25, 0).unwrap(),
                    day.and_hms_opt(10, 5, 0).unwrap()
                ]
            );
        }
    }

    #[test]
    fn kinds_travel_as_snake_case() {
        assert_eq!(ReminderKind::ALL, [ClockIn, ClockOut]);
        for kind in ReminderKind::ALL {
            assert_eq!(ReminderKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(ClockIn.as_str(), "clock_in");
        assert_eq!(ClockOut.as_str(), "clock_out");
        assert_eq!((ClockIn.label(), ClockOut.label()), ("上班", "下班"));
        for raw in ["", "ClockIn", "clock-in", " clock_in", "CLOCK_OUT"] {
            assert_eq!(ReminderKind::parse(raw), None, "{raw:?}");
        }
        assert!(ClockIn < ClockOut);
    }

    #[test]
    fn no_reminder_reasons_have_labels_and_tags() {
        for (reason, label, json) in [
            (
                NoReminder::NoSchedule,
                "未排班",
                serde_json::json!({"reason": "no_schedule"}),
            ),
            (
                NoReminder::RestDay {
                    shift: "休".to_owned(),
                },
                "休息（休）",
                serde_json::json!({"reason": "rest_day", "shift": "休"}),
            ),
            (
                NoReminder::Holiday {
                    name: "春节".to_owned(),
                },
                "节假日不提醒（春节）",
                serde_json::json!({"reason": "holiday", "name": "春节"}),
            ),
            (
                NoReminder::UserInactive,
                "账号已停用",
                serde_json::json!({"reason": "user_inactive"}),
            ),
            (
                NoReminder::UserOptedOut,
                "本人关闭了提醒",
                serde_json::json!({"reason": "user_opted_out"}),
            ),
            (
                NoReminder::UnknownShift,
                "班次不存在",
                serde_json::json!({"reason": "unknown_shift"}),
            ),
        ] {
            assert_eq!(reason.label(), label);
            assert_eq!(reason.to_string(), label);
            assert_eq!(serde_json::to_value(&reason).unwrap(), json);
            assert_eq!(serde_json::from_value::<NoReminder>(json).unwrap(), reason);
        }
    }

    #[test]
    fn windows_are_half_open() {
        assert!(Window::new(utc("2026-03-02 10:00"), utc("2026-03-02 09:59")).is_none());
        let w = window("2026-03-02 09:00", "2026-03-02 10:00");
        assert_eq!(
            (w.from(), w.to()),
            (utc("2026-03-02 09:00"), utc("2026-03-02 10:00"))
        );
        assert!(!w.contains(utc("2026-03-02 09:00")));
        assert!(w.contains(utc("2026-03-02 09:00") + Duration::seconds(1)));
        assert!(w.contains(utc("2026-03-02 10:00")));
        assert!(!w.contains(utc("2026-03-02 10:00") + Duration::seconds(1)));
        let empty = window("2026-03-02 09:00", "2026-03-02 09:00");
        assert!(!empty.contains(utc("2026-03-02 09:00")));
    }

    #[test]
    fn adjacent_windows_split_reminders_on_their_boundary() {
        let setup = Setup::new(UTC_TZ, vec![shift(1, "09:00", "18:00")]);
        let schedules = [scheduled(1, "2026-03-02", 1)];
        let keys = |from: &str, to: &str| {
            due(&setup.rules(), &schedules, &window(from, to))
                .iter()
                .map(|r| r.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("2026-03-02 08:00", "2026-03-02 09:00"), vec![ClockIn]);
        assert_eq!(keys("2026-03-02 09:00", "2026-03-02 18:00"), vec![ClockOut]);
        assert!(keys("2026-03-02 18:00", "2026-03-02 23:00").is_empty());
        assert!(keys("2026-03-02 09:00", "2026-03-02 09:00").is_empty());
    }

    #[test]
    fn due_keeps_the_last_schedule_for_a_repeated_day() {
        let setup = Setup::new(
            UTC_TZ,
            vec![shift(1, "09:00", "18:00"), shift(2, "10:00", "19:00")],
        );
        let day = window("2026-03-02 00:00", "2026-03-03 00:00");
        let changed = [scheduled(1, "2026-03-02", 1), scheduled(1, "2026-03-02", 2)];
        let reminders = due(&setup.rules(), &changed, &day);
        assert_eq!(
            summary(&reminders),
            expected(&[
                (ClockIn, 0, "2026-03-02 10:00"),
                (ClockOut, 0, "2026-03-02 19:00"),
            ])
        );
        assert!(reminders.iter().all(|r| r.shift_id == 2));
        // The last entry decides even when it means "no reminders".
        let mut rest = shift(3, "00:00", "00:00");
        rest.rest = true;
        let mut setup = setup;
        setup.shifts.insert(3, rest);
        let to_rest = [scheduled(1, "2026-03-02", 1), scheduled(1, "2026-03-02", 3)];
        assert!(due(&setup.rules(), &to_rest, &day).is_empty());
    }

    #[test]
    fn due_sorts_by_instant_then_user_kind_and_sequence() {
        let mut early = shift(1, "09:00", "10:00");
        early.follow_ups = FollowUps::new(60, 1).unwrap();
        let setup = Setup::new(UTC_TZ, vec![early, shift(2, "10:00", "11:00")]);
        let schedules = [
            scheduled(3, "2026-03-02", 2),
            scheduled(2, "2026-03-02", 1),
            scheduled(1, "2026-03-02", 2),
            scheduled(1, "2026-03-01", 1),
        ];
        let reminders = due(
            &setup.rules(),
            &schedules,
            &window("2026-03-02 00:00", "2026-03-03 00:00"),
        );
        let order: Vec<_> = reminders
            .iter()
            .map(|r| {
                (
                    r.at.format("%H:%M").to_string(),
                    r.user_id,
                    r.kind,
                    r.sequence,
                )
            })
            .collect();
        let row = |at: &str, user, kind, sequence| (at.to_owned(), user, kind, sequence);
        assert_eq!(
            order,
            vec![
                row("09:00", 2, ClockIn, 0),
                row("10:00", 1, ClockIn, 0),
                row("10:00", 2, ClockIn, 1),
                row("10:00", 2, ClockOut, 0),
                row("10:00", 3, ClockIn, 0),
                row("11:00", 1, ClockOut, 0),
                row("11:00", 2, ClockOut, 1),
                row("11:00", 3, ClockOut, 0),
            ]
        );
    }

    #[test]
    fn schedule_dates_reach_back_for_late_follow_ups() {
        // Shanghai is UTC+8. The earliest reminder of a date is 12 hours before its local
        // midnight; the latest 52 hours after the midnight two days on.
        let tick = window("2026-03-02 00:00", "2026-03-02 01:00");
        assert_eq!(
            schedule_dates_for(&tick, Asia::Shanghai),
            (date("2026-02-27"), date("2026-03-02"))
        );
        // A 27 February shift can still reach it: 23:59–23:58 ends at 23:58 on 28 February
        // (15:58Z); 62 minutes plus 8 follow-ups of 240 minutes later is 01:00Z on 2 March.
        let mut late = shift(1, "23:59", "23:58");
        late.after_minutes = 62;
        late.follow_ups = FollowUps::new(240, 10).unwrap();
        let setup = Setup::new(Asia::Shanghai, vec![late]);
        let day = scheduled(1, "2026-02-27", 1);
        assert_eq!(
            summary(&due(&setup.rules(), &[day], &tick)),
            expected(&[(ClockOut, 8, "2026-03-02 01:00")])
        );
        // With 2 minutes instead, that follow-up falls exactly on the window's open start
        // and belongs to the window before.
        let mut setup = setup;
        setup.shifts.get_mut(&1).unwrap().after_minutes = 2;
        assert!(due(&setup.rules(), &[day], &tick).is_empty());
    }

    #[test]
    fn schedule_dates_cover_extreme_offsets_in_every_zone() {
        let mut shifts = Vec::new();
        for (id, (start, end)) in [
            ("00:00", "23:59"),
            ("23:59", "23:58"),
            ("00:00", "00:00"),
            ("02:30", "02:15"),
            ("12:00", "12:00"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut extreme = offsets(
                shift(i32::try_from(id).unwrap() + 1, start, end),
                MAX_OFFSET_MINUTES,
                MAX_OFFSET_MINUTES,
            );
            extreme.follow_ups = FollowUps::new(240, 10).unwrap();
            shifts.push(extreme);
        }
        for tz in ZONES {
            let setup = Setup::new(tz, shifts.clone());
            for anchor in ["2011-12-27", "2026-03-26", "2026-10-22", "2026-10-29"] {
                for day in date(anchor).iter_days().take(8) {
                    for id in 1..=5 {
                        let scheduled_day = ScheduledDay {
                            user_id: 1,
                            date: day,
                            shift_id: id,
                        };
                        for reminder in setup.day(scheduled_day).unwrap() {
                            let tick = Window::new(reminder.at - Duration::seconds(1), reminder.at)
                                .unwrap();
                            let (first, last) = schedule_dates_for(&tick, tz);
                            assert!(
                                first <= day && day <= last,
                                "{tz} {day} shift {id} at {}: {first}..{last}",
                                reminder.at
                            );
                            assert!((last - first).num_days() <= 7, "{tz} {first}..{last}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn schedule_dates_survive_the_ends_of_time() {
        let far = Window::new(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).unwrap();
        let (first, last) = schedule_dates_for(&far, Asia::Shanghai);
        assert!(first <= last);
        let setup = Setup::new(
            Asia::Shanghai,
            vec![offsets(shift(1, "00:00", "00:00"), 720, 720)],
        );
        assert_eq!(setup.day(scheduled(1, "2026-03-02", 1)).unwrap().len(), 2);
        let edge = ScheduledDay {
            user_id: 1,
            date: NaiveDate::MAX,
            shift_id: 1,
        };
        // No panic at chrono's limits; the instants saturate.
        assert_eq!(setup.day(edge).unwrap().len(), 2);
    }

    #[test]
    fn day_plans_cover_every_user_and_date() {
        let mut rest = shift(2, "00:00", "00:00");
        rest.name = "休".to_owned();
        rest.rest = true;
        let mut setup = Setup::new(Asia::Shanghai, vec![shift(1, "09:00", "18:00"), rest]);
        setup.users.get_mut(&3).unwrap().reminders_enabled = false;
        let schedules = [
            scheduled(1, "2026-09-30", 1),
            scheduled(1, "2026-10-01", 1),
            scheduled(2, "2026-09-30", 2),
            scheduled(2, "2026-10-01", 1),
            scheduled(2, "2026-10-01", 2),
            scheduled(3, "2026-09-30", 1),
            scheduled(9, "2026-09-30", 1),
            scheduled(1, "2026-10-05", 1),
        ];
        let plans = day_plans(
            &setup.rules(),
            &[2, 1, 3, 2],
            date("2026-09-30"),
            date("2026-10-01"),
            &schedules,
        );
        let rows: Vec<_> = plans
            .iter()
            .map(|p| {
                (
                    p.user_id,
                    p.date.to_string(),
                    p.shift_id,
                    p.reminders.len(),
                    p.none.as_ref().map(NoReminder::label),
                )
            })
            .collect();
        let row = |user, day: &str, shift, count, none: Option<&str>| {
            (user, day.to_owned(), shift, count, none.map(str::to_owned))
        };
        assert_eq!(
            rows,
            vec![
                row(2, "2026-09-30", Some(2), 0, Some("休息（休）")),
                row(2, "2026-10-01", Some(2), 0, Some("休息（休）")),
                row(1, "2026-09-30", Some(1), 2, None),
                row(1, "2026-10-01", Some(1), 0, Some("节假日不提醒（国庆节）")),
                row(3, "2026-09-30", Some(1), 0, Some("本人关闭了提醒")),
                row(3, "2026-10-01", None, 0, Some("未排班")),
            ]
        );
        assert_eq!(
            plans[2].reminders,
            setup.day(scheduled(1, "2026-09-30", 1)).unwrap()
        );
        assert!(
            day_plans(
                &setup.rules(),
                &[1],
                date("2026-10-02"),
                date("2026-10-01"),
                &schedules
            )
            .is_empty()
        );
        let json = serde_json::to_value(&plans[5]).unwrap();
        assert_eq!(json["none"], serde_json::json!({"reason": "no_schedule"}));
    }

    const ZONES: [Tz; 7] = [
        Asia::Shanghai,
        Europe::Berlin,
        America::New_York,
        Australia::Lord_Howe,
        Pacific::Apia,
        America::Sao_Paulo,
        UTC_TZ,
    ];

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::Index;
        use proptest::test_runner::Config;

        /// Starts of the tested ranges: Berlin's and New York's clock changes, Lord Howe's
        /// half-hour ones, the end of the year, and Samoa's skipped day.
        const ANCHORS: [&str; 8] = [
            "2026-03-27 00:00",
            "2026-03-06 12:00",
            "2026-04-03 00:00",
            "2026-10-02 00:00",
            "2026-10-23 00:00",
            "2026-10-30 00:00",
            "2026-12-29 00:00",
            "2011-12-28 00:00",
        ];
        const RANGE_MAX_MINUTES: i64 = 4 * 24 * 60;
        /// Schedules cover the anchor's date −4 to +7, wider than any range needs.
        const SCHEDULE_DAYS: i64 = 12;

        #[derive(Debug, Clone)]
        struct Case {
            zone: usize,
            anchor: usize,
            start_offset: i64,
            length: i64,
            cuts: Vec<i64>,
            reminder_cuts: Vec<Index>,
            shifts: Vec<ReminderShift>,
            users: Vec<ReminderUser>,
            schedules: Vec<(i32, i64, i32)>,
            skip_holidays: bool,
        }

        fn clock_time() -> impl Strategy<Value = ClockTime> {
            prop_oneof![
                // Midnight, the usual gap and overlap hours and the ends of the day.
                prop::sample::select(vec![
                    0u32, 10, 60, 90, 120, 135, 150, 165, 180, 1320, 1430, 1439
                ]),
                0u32..1440,
            ]
            .prop_map(|m| ClockTime::new(m / 60, m % 60).unwrap())
        }

        fn minutes_offset() -> impl Strategy<Value = u16> {
            prop_oneof![
                Just(0u16),
                Just(MAX_OFFSET_MINUTES),
                0u16..=MAX_OFFSET_MINUTES
            ]
        }

        fn follow_ups() -> impl Strategy<Value = FollowUps> {
            (
                prop_oneof![
                    Just(MAX_FOLLOW_UP_EVERY_MINUTES),
                    1u16..=MAX_FOLLOW_UP_EVERY_MINUTES
                ],
                prop_oneof![Just(0u8), Just(MAX_FOLLOW_UPS), 0u8..=MAX_FOLLOW_UPS],
            )
                .prop_map(|(every, count)| FollowUps::new(every, count).unwrap())
        }

        fn reminder_shift() -> impl Strategy<Value = ReminderShift> {
            (
                clock_time(),
                clock_time(),
                prop::bool::weighted(0.15),
                minutes_offset(),
                minutes_offset(),
                follow_ups(),
            )
                .prop_map(|(start, end, rest, before, after, follow_ups)| {
                    ReminderShift {
                        id: 0,
                        name: "班".to_owned(),
                        hours: ShiftHours::new(start, end),
                        rest,
                        before_minutes: before,
                        after_minutes: after,
                        follow_ups,
                    }
                })
        }

        fn case() -> impl Strategy<Value = Case> {
            (
                (
                    0..ZONES.len(),
                    0..ANCHORS.len(),
                    0i64..1440,
                    1i64..=RANGE_MAX_MINUTES,
                    prop::collection::vec(0i64..=RANGE_MAX_MINUTES, 0..12),
                    prop::collection::vec(any::<Index>(), 0..6),
                ),
                prop::collection::vec(reminder_shift(), 1..=4),
                prop::collection::vec(
                    (prop::bool::weighted(0.9), prop::bool::weighted(0.9)),
                    1..=3,
                ),
                // User 1–4 (4 never exists), date index, shift 1–5 (5 never exists).
                prop::collection::vec((1i32..=4, 0..SCHEDULE_DAYS, 1i32..=5), 0..50),
                any::<bool>(),
            )
                .prop_map(
                    |(
                        (zone, anchor, start_offset, length, cuts, reminder_cuts),
                        mut shifts,
                        users,
                        schedules,
                        skip_holidays,
                    )| {
                        for (id, shift) in (1..).zip(shifts.iter_mut()) {
                            shift.id = id;
                        }
                        let users = (1..)
                            .zip(users)
                            .map(|(id, (active, reminders_enabled))| ReminderUser {
                                id,
                                active,
                                reminders_enabled,
                            })
                            .collect();
                        Case {
                            zone,
                            anchor,
                            start_offset,
                            length,
                            cuts,
                            reminder_cuts,
                            shifts,
                            users,
                            schedules,
                            skip_holidays,
                        }
                    },
                )
        }

        fn check(case: &Case) -> Result<(), TestCaseError> {
            let tz = ZONES[case.zone];
            let anchor = utc(ANCHORS[case.anchor]);
            let shifts: HashMap<i32, ReminderShift> =
                case.shifts.iter().map(|s| (s.id, s.clone())).collect();
            let users: HashMap<i32, ReminderUser> = case.users.iter().map(|u| (u.id, *u)).collect();
            // Holidays on the clock-change days, so that skipping them is exercised too.
            let calendar = WorkCalendar::new(
                vec![HolidayYear {
                    year: 2026,
                    days: vec![HolidayDay {
                        date: date("2026-03-29"),
                        name: "测试假日".to_owned(),
                        off_day: true,
                    }],
                }],
                vec![CompanyDay {
                    date: date("2026-10-25"),
                    name: "公司假日".to_owned(),
                    off_day: true,
                }],
            );
            let no_leave = HashMap::new();
            let rules = ReminderRules {
                tz,
                shifts: &shifts,
                users: &users,
                calendar: &calendar,
                skip_holidays: case.skip_holidays,
                leave: &no_leave,
            };
            let first_date = days_after(anchor.date_naive(), -4);
            let schedules: Vec<ScheduledDay> = case
                .schedules
                .iter()
                .map(|(user_id, day, shift_id)| ScheduledDay {
                    user_id: *user_id,
                    date: days_after(first_date, *day),
                    shift_id: *shift_id,
                })
                .collect();

            let start = anchor + Duration::minutes(case.start_offset);
            let end = start + Duration::minutes(case.length);
            let whole = Window::new(start, end).unwrap();
            let expected = due(&rules, &schedules, &whole);

            // Every reminder of the days in force, worked out independently of `due`.
            let mut in_force: HashMap<(i32, NaiveDate), ScheduledDay> = HashMap::new();
            for day in &schedules {
                in_force.insert((day.user_id, day.date), *day);
            }
            let all: Vec<Reminder> = in_force
                .values()
                .filter_map(|day| reminders_for_day(&rules, day).ok())
                .flatten()
                .collect();
            let in_range: HashMap<ReminderKey, Reminder> = all
                .iter()
                .filter(|r| whole.contains(r.at))
                .map(|r| (r.key(), *r))
                .collect();

            // Cut points: random minutes, plus instants of reminders so that boundaries fall
            // exactly on some of them.
            let mut cuts: Vec<DateTime<Utc>> = case
                .cuts
                .iter()
                .map(|m| start + Duration::minutes((*m).min(case.length)))
                .collect();
            if !all.is_empty() {
                cuts.extend(
                    case.reminder_cuts
                        .iter()
                        .map(|i| all[i.index(all.len())].at.clamp(start, end)),
                );
            }
            cuts.push(start);
            cuts.push(end);
            cuts.sort();
            let windows: Vec<Window> = cuts
                .windows(2)
                .map(|pair| Window::new(pair[0], pair[1]).unwrap())
                .collect();

            let mut union = Vec::new();
            let mut seen = HashSet::new();
            for window in &windows {
                let got = due(&rules, &schedules, window);
                let mut sorted = got.clone();
                sorted.sort_by_key(|r| (r.at, r.user_id, r.kind, r.sequence, r.date));
                prop_assert_eq!(&sorted, &got);
                // (4) The dates to load cover everything due, and loading only them changes
                // nothing.
                let (first, last) = schedule_dates_for(window, tz);
                let loaded: Vec<ScheduledDay> = schedules
                    .iter()
                    .filter(|day| first <= day.date && day.date <= last)
                    .copied()
                    .collect();
                prop_assert_eq!(&due(&rules, &loaded, window), &got, "{:?}", window);
                for reminder in &got {
                    prop_assert!(window.contains(reminder.at));
                    prop_assert!(first <= reminder.date && reminder.date <= last);
                    // (2) No key twice, within a window or across windows.
                    prop_assert!(seen.insert(reminder.key()), "{:?}", reminder);
                }
                union.extend(got);
            }
            // (4) again, at its tightest: a one-second window ending on any reminder loads
            // that reminder's date.
            for reminder in &all {
                let tick = Window::new(reminder.at - Duration::seconds(1), reminder.at).unwrap();
                let (first, last) = schedule_dates_for(&tick, tz);
                prop_assert!(
                    first <= reminder.date && reminder.date <= last,
                    "{:?}: {}..{}",
                    reminder,
                    first,
                    last
                );
            }
            // (1) The windows together give what one window over the range gives.
            prop_assert_eq!(&union, &expected);
            // (3) Every reminder in the range is due in exactly one window.
            prop_assert_eq!(union.len(), in_range.len());
            for reminder in in_range.values() {
                let windows_due = windows.iter().filter(|w| w.contains(reminder.at)).count();
                prop_assert_eq!(windows_due, 1, "{:?}", reminder);
                prop_assert!(union.contains(reminder), "{:?}", reminder);
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(Config {
                cases: 256,
                failure_persistence: None,
                ..Config::default()
            })]

            #[test]
            fn adjacent_windows_split_reminders_exactly(case in case()) {
                check(&case)?;
            }
        }
    }
}
