//! Shift types (班次): their names, labels, colours and hours, and the one rule that turns a
//! wall-clock time in the service's time zone into a real instant.

use std::fmt;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::account::{describe_char, is_invisible_or_control};
use super::{FieldError, InvalidValue};

pub const SHIFT_NAME_MAX_CHARS: usize = 20;
pub const SHIFT_LABEL_MAX_CHARS: usize = 2;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A wall-clock time of day, HH:MM from 00:00 to 23:59, with no date and no time zone.
///
/// [`ClockTime::parse`] accepts one- or two-digit hours and two-digit minutes ("9:05",
/// "09:05"), surrounding spaces and a full-width colon ("9：05", typed by Chinese input
/// methods). Seconds are accepted only when they are ":00" (what `<input type="time">` can
/// send); any other seconds are refused rather than silently dropped. "24:00" is refused: a
/// shift that ends at midnight ends at 00:00 of the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: Self = Self(0);
    const EXPECTED: &'static str = "应为 00:00 至 23:59 之间的时间，例如 09:00";

    pub fn new(hour: u32, minute: u32) -> Result<Self, InvalidValue> {
        if hour < 24 && minute < 60 {
            // Both bounds checked above, so the product fits in u16.
            Ok(Self((hour * 60 + minute) as u16))
        } else {
            Err(Self::invalid())
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let normalised = raw.trim().replace('：', ":");
        let mut parts = normalised.split(':');
        let (Some(hour), Some(minute), seconds, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Self::invalid());
        };
        let digits = |s: &str, lengths: std::ops::RangeInclusive<usize>| {
            lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(hour, 1..=2) || !digits(minute, 2..=2) || seconds.is_some_and(|s| s != "00") {
            return Err(Self::invalid());
        }
        let hour = hour.parse::<u32>().map_err(|_| Self::invalid())?;
        let minute = minute.parse::<u32>().map_err(|_| Self::invalid())?;
        Self::new(hour, minute)
    }

    pub fn hour(self) -> u32 {
        u32::from(self.0 / 60)
    }

    pub fn minute(self) -> u32 {
        u32::from(self.0 % 60)
    }

    pub fn minutes_since_midnight(self) -> u32 {
        u32::from(self.0)
    }

    pub fn to_naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour(), self.minute(), 0).unwrap_or(NaiveTime::MIN)
    }

    fn invalid() -> InvalidValue {
        InvalidValue {
            expected: Self::EXPECTED,
        }
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl TryFrom<String> for ClockTime {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> Self {
        time.to_string()
    }
}

/// A shift's colour in the calendar, always stored as lower-case "#rrggbb". [`ShiftColor::parse`]
/// also accepts upper case and the short "#RGB" form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShiftColor(String);

impl ShiftColor {
    const EXPECTED: &'static str = "应为 #RRGGBB 格式的颜色，例如 #1677ff";

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue {
            expected: Self::EXPECTED,
        };
        let hex = raw.trim().strip_prefix('#').ok_or_else(invalid)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let hex = hex.to_ascii_lowercase();
        match hex.len() {
            6 => Ok(Self(format!("#{hex}"))),
            3 => Ok(Self(hex.chars().fold(String::from("#"), |mut out, c| {
                out.push(c);
                out.push(c);
                out
            }))),
            _ => Err(invalid()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShiftColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ShiftColor {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ShiftColor> for String {
    fn from(color: ShiftColor) -> Self {
        color.0
    }
}

/// A shift's name (早班, 夜班, 休息): trimmed, 1–20 characters, no control, zero-width or
/// bidi characters.
pub fn parse_shift_name(raw: &str) -> Result<String, FieldError> {
    const FIELD: &str = "name";
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(FIELD, "不能为空"));
    }
    let length = value.chars().count();
    if length > SHIFT_NAME_MAX_CHARS {
        return Err(FieldError::new(
            FIELD,
            format!("最多 {SHIFT_NAME_MAX_CHARS} 个字符（当前 {length} 个）"),
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

/// The one- or two-character mark shown in calendar cells ("早", "夜", "休", "A1"): trimmed,
/// no whitespace, control or invisible characters.
pub fn parse_shift_label(raw: &str) -> Result<String, FieldError> {
    const FIELD: &str = "label";
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(FIELD, "不能为空"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_whitespace() || is_invisible_or_control(*c))
    {
        return Err(FieldError::new(
            FIELD,
            format!("不能包含{}", describe_char(bad)),
        ));
    }
    let length = value.chars().count();
    if length > SHIFT_LABEL_MAX_CHARS {
        return Err(FieldError::new(
            FIELD,
            format!("最多 {SHIFT_LABEL_MAX_CHARS} 个字符（当前 {length} 个）"),
        ));
    }
    Ok(value.to_owned())
}

/// When a shift starts and ends on the wall clock. An end at or before the start means the
/// shift ends the next day; equal times are a 24-hour shift. Whether a shift is a rest shift
/// is recorded on the shift itself, not here: the original system's "休" is 00:00–00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShiftHours {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl ShiftHours {
    pub fn new(start: ClockTime, end: ClockTime) -> Self {
        Self { start, end }
    }

    /// Whether the shift ends on the day after it starts.
    pub fn overnight(self) -> bool {
        self.end <= self.start
    }

    /// The length on the wall clock, 1–1440 minutes. On daylight-saving days the real length
    /// differs; [`ShiftHours::span_on`] gives the real instants.
    pub fn duration_minutes(self) -> u32 {
        let (start, end) = (self.start.0, self.end.0);
        u32::from(if end > start {
            end - start
        } else {
            MINUTES_PER_DAY - start + end
        })
    }

    /// The date on which a shift that starts on `date` ends.
    pub fn end_date(self, date: NaiveDate) -> NaiveDate {
        if self.overnight() {
            date.succ_opt().unwrap_or(NaiveDate::MAX)
        } else {
            date
        }
    }

    /// The real start and end instants of the shift that starts on `date` in `tz`, both
    /// resolved with [`resolve_local`]. The end is never before the start; across a
    /// daylight-saving change the real length is an hour (or half an hour) off the wall-clock
    /// length, and a shift lying wholly inside a spring-forward gap has zero length.
    pub fn span_on(self, date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = resolve_local(tz, date.and_time(self.start.to_naive()));
        let end = resolve_local(tz, self.end_date(date).and_time(self.end.to_naive()));
        (start, end)
    }
}

/// Turns a wall-clock time in `tz` into a real instant. This is the daylight-saving rule
/// every schedule, reminder and export uses:
///
/// - a time that occurs once is that instant;
/// - a time that occurs twice (the clocks go back, chrono's `LocalResult::Ambiguous`) is the
///   **earlier** of the two: Europe/Berlin 2026-10-25 02:30 → 02:30 CEST = 00:30Z;
/// - a time that does not occur (the clocks go forward, `LocalResult::None`) is the **first
///   instant after the gap**, the moment the clocks jumped: Europe/Berlin 2026-03-29 02:30 →
///   03:00 CEST = 01:00Z. This holds for any size of jump (Lord Howe Island moves 30 minutes;
///   Samoa skipped all of 2011-12-30).
///
/// Put together: the earliest instant at which a clock in `tz` reads `local` or later. So the
/// mapping never goes backwards: a later wall-clock time never gives an earlier instant.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => end_of_gap(tz, local),
    }
}

/// The instant the clocks jumped over `local`: the earliest second at which the clock reads
/// `local` or later. UTC offsets in use lie within −12 h and +14 h, so that second lies
/// within 15 hours of `local` read as UTC, and inside that window the reading only moves
/// forward (no zone turns its clocks back within hours of turning them forward).
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    const WINDOW_SECONDS: i64 = 15 * 3600;
    let base = local.and_utc().timestamp();
    let reads_at_or_after = |seconds: i64| match DateTime::from_timestamp(seconds, 0) {
        Some(at) => at.with_timezone(&tz).naive_local() >= local,
        None => seconds > base,
    };
    // Invariant: the clock reads before `local` at `low` and at or after it at `high`.
    let (mut low, mut high) = (base - WINDOW_SECONDS, base + WINDOW_SECONDS);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if reads_at_or_after(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    DateTime::from_timestamp(high, 0).unwrap_or_else(|| local.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};

    fn time(raw: &str) -> ClockTime {
        ClockTime::parse(raw).unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    fn local(raw: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        local(raw).and_utc()
    }

    #[test]
    fn clock_times_accept_common_spellings() {
        for (raw, expected) in [
            ("09:00", "09:00"),
            ("9:00", "09:00"),
            (" 9:05 ", "09:05"),
            ("00:00", "00:00"),
            ("23:59", "23:59"),
            ("18:30:00", "18:30"),
            ("8：30", "08:30"),
        ] {
            assert_eq!(
                ClockTime::parse(raw).unwrap().to_string(),
                expected,
                "{raw:?}"
            );
        }
        let t = time("22:45");
        assert_eq!((t.hour(), t.minute()), (22, 45));
        assert_eq!(t.minutes_since_midnight(), 22 * 60 + 45);
        assert_eq!(t.to_naive(), NaiveTime::from_hms_opt(22, 45, 0).unwrap());
        assert_eq!(ClockTime::MIDNIGHT, time("0:00"));
    }

    #[test]
    fn clock_times_refuse_anything_else() {
        for raw in [
            "",
            " ",
            "9",
            "24:00",
            "9:60",
            "09:00:30",
            "09:00:00:00",
            "9:5",
            "009:00",
            "-1:00",
            "+9:00",
            "09-00",
            "09:0a",
            "٠٩:٠٠",
            "９:００",
            "09:00pm",
            ":",
            "9:",
            ":30",
        ] {
            let error = ClockTime::parse(raw).unwrap_err();
            assert!(error.expected.contains("00:00"), "{raw:?}");
        }
        assert!(ClockTime::new(24, 0).is_err());
        assert!(ClockTime::new(0, 60).is_err());
    }

    #[test]
    fn clock_times_travel_as_hh_mm_strings() {
        let json = serde_json::to_string(&time("7:05")).unwrap();
        assert_eq!(json, "\"07:05\"");
        assert_eq!(
            serde_json::from_str::<ClockTime>("\"7:05\"").unwrap(),
            time("07:05")
        );
        assert!(serde_json::from_str::<ClockTime>("\"25:00\"").is_err());
        assert!(serde_json::from_str::<ClockTime>("425").is_err());
    }

    #[test]
    fn clock_times_order_by_time_of_day() {
        assert!(time("08:59") < time("09:00"));
        assert!(time("00:00") < time("23:59"));
    }

    #[test]
    fn colours_are_normalised_to_lower_case_six_digits() {
        for (raw, expected) in [
            ("#1677ff", "#1677ff"),
            ("#1677FF", "#1677ff"),
            (" #AbC ", "#aabbcc"),
            ("#000", "#000000"),
        ] {
            assert_eq!(
                ShiftColor::parse(raw).unwrap().as_str(),
                expected,
                "{raw:?}"
            );
        }
        for raw in [
            "",
            "1677ff",
            "#",
            "#12",
            "#1234",
            "#12345",
            "#1234567",
            "#ggg",
            "red",
            "# 123",
            "#１２３",
        ] {
            assert!(ShiftColor::parse(raw).is_err(), "{raw:?}");
        }
        let color = ShiftColor::parse("#F00").unwrap();
        assert_eq!(serde_json::to_string(&color).unwrap(), "\"#ff0000\"");
        assert_eq!(
            serde_json::from_str::<ShiftColor>("\"#FF0000\"").unwrap(),
            color
        );
        assert!(serde_json::from_str::<ShiftColor>("\"blue\"").is_err());
    }

    #[test]
    fn shift_names_are_trimmed_and_visible() {
        assert_eq!(parse_shift_name("  早班 A ").unwrap(), "早班 A");
        assert!(parse_shift_name(&"班".repeat(20)).is_ok());
        for (raw, hint) in [
            ("", "不能为空"),
            ("  ", "不能为空"),
            (&"班".repeat(21), "最多 20"),
            ("早\u{200B}班", "U+200B"),
            ("早\u{202E}班", "U+202E"),
            ("早\n班", "U+000A"),
        ] {
            let error = parse_shift_name(raw).unwrap_err();
            assert_eq!(error.field, "name");
            assert!(error.message.contains(hint), "{raw:?}: {}", error.message);
        }
    }

    #[test]
    fn shift_labels_are_one_or_two_visible_characters() {
        for raw in ["早", "夜", "A", "休", "A1", " 中 ", "☀"] {
            assert_eq!(parse_shift_label(raw).unwrap(), raw.trim(), "{raw:?}");
        }
        for (raw, hint) in [
            ("", "不能为空"),
            ("早班班", "最多 2"),
            ("A 1", "U+0020"),
            ("早\u{3000}班", "U+3000"),
        ] {
            let error = parse_shift_label(raw).unwrap_err();
            assert_eq!(error.field, "label");
            assert!(error.message.contains(hint), "{raw:?}: {}", error.message);
        }
        // A trailing ideographic space is trimmed like any other whitespace.
        assert_eq!(parse_shift_label("早\u{3000}").unwrap(), "早");
        assert!(parse_shift_label("A\u{200D}").is_err());
        assert!(parse_shift_label("\u{7}").is_err());
    }

    #[test]
    fn day_shift_is_not_overnight() {
        let hours = ShiftHours::new(time("09:00"), time("18:00"));
        assert!(!hours.overnight());
        assert_eq!(hours.duration_minutes(), 9 * 60);
        assert_eq!(hours.end_date(date("2026-03-02")), date("2026-03-02"));
        assert_eq!(
            hours.span_on(date("2026-03-02"), Asia::Shanghai),
            (utc("2026-03-02 01:00"), utc("2026-03-02 10:00"))
        );
    }

    #[test]
    fn overnight_shift_ends_next_morning() {
        let hours = ShiftHours::new(time("22:00"), time("06:00"));
        assert!(hours.overnight());
        assert_eq!(hours.duration_minutes(), 8 * 60);
        // Crossing a month and a year boundary.
        assert_eq!(
            hours.span_on(date("2026-12-31"), Asia::Shanghai),
            (utc("2026-12-31 14:00"), utc("2026-12-31 22:00"))
        );
        assert_eq!(hours.end_date(date("2026-01-31")), date("2026-02-01"));
    }

    #[test]
    fn equal_start_and_end_is_a_whole_day() {
        let rest = ShiftHours::new(ClockTime::MIDNIGHT, ClockTime::MIDNIGHT);
        assert!(rest.overnight());
        assert_eq!(rest.duration_minutes(), 24 * 60);
        assert_eq!(
            rest.span_on(date("2026-02-17"), Asia::Shanghai),
            (utc("2026-02-16 16:00"), utc("2026-02-17 16:00"))
        );
        let ending_at_midnight = ShiftHours::new(time("16:00"), ClockTime::MIDNIGHT);
        assert!(ending_at_midnight.overnight());
        assert_eq!(ending_at_midnight.duration_minutes(), 8 * 60);
    }

    #[test]
    fn shift_hours_travel_as_strings() {
        let hours = ShiftHours::new(time("22:00"), time("6:00"));
        let json = serde_json::to_string(&hours).unwrap();
        assert_eq!(json, r#"{"start":"22:00","end":"06:00"}"#);
        assert_eq!(serde_json::from_str::<ShiftHours>(&json).unwrap(), hours);
    }

    #[test]
    fn resolve_local_follows_the_daylight_saving_rule() {
        for (tz, wall, expected) in [
            // No daylight saving: plain offset.
            (Asia::Shanghai, "2026-03-29 02:30", "2026-03-28 18:30"),
            (Asia::Shanghai, "2026-10-25 02:30", "2026-10-24 18:30"),
            // Berlin spring forward: 02:00–03:00 does not exist.
            (Europe::Berlin, "2026-03-29 01:59", "2026-03-29 00:59"),
            (Europe::Berlin, "2026-03-29 02:00", "2026-03-29 01:00"),
            (Europe::Berlin, "2026-03-29 02:30", "2026-03-29 01:00"),
            (Europe::Berlin, "2026-03-29 02:59", "2026-03-29 01:00"),
            (Europe::Berlin, "2026-03-29 03:00", "2026-03-29 01:00"),
            (Europe::Berlin, "2026-03-29 03:01", "2026-03-29 01:01"),
            // Berlin fall back: 02:00–03:00 happens twice; the earlier (CEST) wins.
            (Europe::Berlin, "2026-10-25 01:59", "2026-10-24 23:59"),
            (Europe::Berlin, "2026-10-25 02:00", "2026-10-25 00:00"),
            (Europe::Berlin, "2026-10-25 02:30", "2026-10-25 00:30"),
            (Europe::Berlin, "2026-10-25 03:00", "2026-10-25 02:00"),
            // New York: 02:00–03:00 skipped on 8 March, 01:00–02:00 twice on 1 November.
            (America::New_York, "2026-03-08 02:30", "2026-03-08 07:00"),
            (America::New_York, "2026-03-08 03:30", "2026-03-08 07:30"),
            (America::New_York, "2026-11-01 01:30", "2026-11-01 05:30"),
            (America::New_York, "2026-11-01 02:30", "2026-11-01 07:30"),
            // Lord Howe Island moves its clocks by 30 minutes (+10:30 ↔ +11:00).
            (Australia::Lord_Howe, "2026-10-04 02:15", "2026-10-03 15:30"),
            (Australia::Lord_Howe, "2026-10-04 02:29", "2026-10-03 15:30"),
            (Australia::Lord_Howe, "2026-10-04 02:30", "2026-10-03 15:30"),
            (Australia::Lord_Howe, "2026-10-04 01:59", "2026-10-03 15:29"),
            (Australia::Lord_Howe, "2026-04-05 01:45", "2026-04-04 14:45"),
            (Australia::Lord_Howe, "2026-04-05 02:00", "2026-04-04 15:30"),
            // Samoa skipped the whole of 2011-12-30 when it moved across the date line.
            (Pacific::Apia, "2011-12-29 23:59", "2011-12-30 09:59"),
            (Pacific::Apia, "2011-12-30 12:00", "2011-12-30 10:00"),
            (Pacific::Apia, "2011-12-31 00:00", "2011-12-30 10:00"),
        ] {
            assert_eq!(resolve_local(tz, local(wall)), utc(expected), "{tz} {wall}");
        }
    }

    #[test]
    fn resolve_local_gives_the_earliest_instant_reading_that_time_or_later() {
        // Every quarter hour of 2026 in zones with one-hour, half-hour and no shifts: the
        // defining property, and that a later wall-clock time never gives an earlier instant.
        for tz in [
            Asia::Shanghai,
            Europe::Berlin,
            America::New_York,
            Australia::Lord_Howe,
        ] {
            let reading = |at: DateTime<Utc>| at.with_timezone(&tz).naive_local();
            let mut wall = local("2026-01-01 00:00");
            let mut previous = resolve_local(tz, wall);
            while wall < local("2027-01-01 00:00") {
                let at = resolve_local(tz, wall);
                assert!(reading(at) >= wall, "{tz} {wall}");
                assert!(
                    reading(at - chrono::Duration::seconds(1)) < wall,
                    "{tz} {wall}"
                );
                assert!(at >= previous, "{tz} {wall}");
                previous = at;
                wall += chrono::Duration::minutes(15);
            }
        }
    }

    #[test]
    fn early_shift_on_spring_forward_day_lasts_three_real_hours() {
        let hours = ShiftHours::new(time("01:00"), time("05:00"));
        let (start, end) = hours.span_on(date("2026-03-29"), Europe::Berlin);
        assert_eq!(start, utc("2026-03-29 00:00"));
        assert_eq!(end, utc("2026-03-29 03:00"));
        assert_eq!((end - start).num_hours(), 3);
        assert_eq!(hours.duration_minutes(), 4 * 60);
    }

    #[test]
    fn night_shift_over_fall_back_lasts_one_hour_longer() {
        let hours = ShiftHours::new(time("22:00"), time("06:00"));
        let (start, end) = hours.span_on(date("2026-10-24"), Europe::Berlin);
        assert_eq!(start, utc("2026-10-24 20:00"));
        assert_eq!(end, utc("2026-10-25 05:00"));
        assert_eq!((end - start).num_hours(), 9);
    }

    #[test]
    fn shift_inside_the_gap_has_no_length() {
        let hours = ShiftHours::new(time("02:00"), time("02:45"));
        let (start, end) = hours.span_on(date("2026-03-29"), Europe::Berlin);
        assert_eq!(
            (start, end),
            (utc("2026-03-29 01:00"), utc("2026-03-29 01:00"))
        );
    }
}
