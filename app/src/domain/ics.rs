//! An iCalendar (RFC 5545) feed of one user's shifts, for subscribing from a phone or
//! desktop calendar. Pure text building: the caller passes the events and the stamp time.
//!
//! Event times are local wall-clock times in the service's zone, written with `TZID` and a
//! `VTIMEZONE` generated from chrono-tz, so calendar apps show 09:00 as 09:00 whatever zone
//! the phone is in and however DST moves. A local time inside a spring-forward gap is
//! written as it is; RFC 5545 §3.3.5 says readers shift it forward by the gap length, which
//! is also how the reminder rules treat it.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

pub const PRODID: &str = "-//dingding-attendance//zh-CN";

/// RFC 5545 §3.1: content lines should not be longer than 75 octets, excluding CRLF.
const FOLD_AT_OCTETS: usize = 75;

/// One calendar entry: a shift (timed) or a rest day (all day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Stable across feed refreshes, e.g. `shift-42-20260105@dingding-attendance`, so a
    /// calendar updates the event instead of duplicating it.
    pub uid: String,
    pub date: NaiveDate,
    pub summary: String,
    /// Local wall-clock time in the calendar's zone; ignored when `all_day`.
    pub start: NaiveDateTime,
    /// Local wall-clock end; an end not after `start` is taken as the next day's (overnight).
    pub end: NaiveDateTime,
    /// Rest days: written as `VALUE=DATE` covering `date` only, and marked free (transparent).
    pub all_day: bool,
    pub description: Option<String>,
    /// Alarms at the reminder instants, so a subscribed phone calendar alerts even when
    /// every network channel fails.
    pub alarms: Vec<IcsAlarm>,
}

/// A `VALARM`: a display alert some minutes before or after the event's start or end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsAlarm {
    /// Relative to DTEND instead of DTSTART (clock-out reminders).
    pub from_end: bool,
    /// Negative: before; positive: after.
    pub offset_minutes: i64,
    pub description: String,
}

impl IcsAlarm {
    fn trigger(&self) -> String {
        let related = if self.from_end { ";RELATED=END" } else { "" };
        let sign = if self.offset_minutes < 0 { "-" } else { "" };
        format!(
            "TRIGGER{related}:{sign}PT{}M",
            self.offset_minutes.unsigned_abs()
        )
    }
}

impl IcsEvent {
    /// A timed event on `date` from `start` to `end`; an `end` at or before `start` is on
    /// the next day (a night shift 22:00–06:00).
    pub fn timed(
        uid: impl Into<String>,
        date: NaiveDate,
        summary: impl Into<String>,
        start: NaiveTime,
        end: NaiveTime,
        description: Option<String>,
    ) -> Self {
        let end_date = if end <= start {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        Self {
            uid: uid.into(),
            date,
            summary: summary.into(),
            start: date.and_time(start),
            end: end_date.and_time(end),
            all_day: false,
            description,
            alarms: Vec::new(),
        }
    }

    /// An all-day event on `date` (a rest day).
    pub fn all_day(
        uid: impl Into<String>,
        date: NaiveDate,
        summary: impl Into<String>,
        description: Option<String>,
    ) -> Self {
        let midnight = date.and_time(NaiveTime::MIN);
        Self {
            uid: uid.into(),
            date,
            summary: summary.into(),
            start: midnight,
            end: midnight,
            all_day: true,
            description,
            alarms: Vec::new(),
        }
    }

    /// The end actually written: overnight ends that the caller left on the start day are
    /// moved to the next day, so DTEND is always after DTSTART.
    fn effective_end(&self) -> NaiveDateTime {
        if self.end > self.start {
            self.end
        } else {
            let next = self.end.date().succ_opt().unwrap_or(self.end.date());
            let candidate = next.and_time(self.end.time());
            if candidate > self.start {
                candidate
            } else {
                self.start
                    .checked_add_signed(Duration::minutes(1))
                    .unwrap_or(self.start)
            }
        }
    }
}

/// The whole `.ics` document: CRLF line endings, lines folded at 75 octets.
pub fn render(calendar_name: &str, tz: Tz, events: &[IcsEvent], stamp: DateTime<Utc>) -> String {
    let mut out = Lines::default();
    out.push("BEGIN:VCALENDAR");
    out.push("VERSION:2.0");
    out.push(&format!("PRODID:{PRODID}"));
    out.push("CALSCALE:GREGORIAN");
    out.push("METHOD:PUBLISH");
    out.push(&format!("X-WR-CALNAME:{}", escape_text(calendar_name)));
    out.push(&format!("X-WR-TIMEZONE:{}", tz.name()));
    // Subscribed calendars poll; once an hour keeps a changed schedule visible the same day.
    out.push("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    out.push("X-PUBLISHED-TTL:PT1H");

    let years = event_years(events).unwrap_or_else(|| {
        let year = stamp.with_timezone(&tz).year();
        (year, year)
    });
    write_vtimezone(&mut out, tz, years);

    let dtstamp = format_utc(stamp);
    for event in events {
        out.push("BEGIN:VEVENT");
        out.push(&format!("UID:{}", escape_text(&event.uid)));
        out.push(&format!("DTSTAMP:{dtstamp}"));
        if event.all_day {
            let next = event.date.succ_opt().unwrap_or(event.date);
            out.push(&format!("DTSTART;VALUE=DATE:{}", format_date(event.date)));
            out.push(&format!("DTEND;VALUE=DATE:{}", format_date(next)));
            out.push("TRANSP:TRANSPARENT");
        } else {
            let name = tz.name();
            out.push(&format!(
                "DTSTART;TZID={name}:{}",
                format_local(event.start)
            ));
            out.push(&format!(
                "DTEND;TZID={name}:{}",
                format_local(event.effective_end())
            ));
        }
        out.push(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if let Some(description) = &event.description {
            out.push(&format!("DESCRIPTION:{}", escape_text(description)));
        }
        for alarm in event.alarms.iter().filter(|_| !event.all_day) {
            out.push("BEGIN:VALARM");
            out.push("ACTION:DISPLAY");
            out.push(&format!("DESCRIPTION:{}", escape_text(&alarm.description)));
            out.push(&alarm.trigger());
            out.push("END:VALARM");
        }
        out.push("END:VEVENT");
    }
    out.push("END:VCALENDAR");
    out.text
}

#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn push(&mut self, line: &str) {
        fold_into(&mut self.text, line);
    }
}

/// Appends `line` folded per RFC 5545 §3.1: every physical line at most 75 octets
/// (continuations start with one space, which counts), never splitting a UTF-8 character.
fn fold_into(out: &mut String, line: &str) {
    let mut budget = FOLD_AT_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > budget {
            out.push_str("\r\n ");
            budget = FOLD_AT_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

/// TEXT values (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, any line break
/// written as `\n`; other control characters cannot appear in TEXT and are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn event_years(events: &[IcsEvent]) -> Option<(i32, i32)> {
    let mut years = events.iter().flat_map(|event| {
        [
            event.date.year(),
            event.start.year(),
            event.effective_end().year(),
        ]
    });
    let first = years.next()?;
    Some(years.fold((first, first), |(low, high), year| {
        (low.min(year), high.max(year))
    }))
}

/// One UTC-offset change of a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observance {
    daylight: bool,
    /// Local wall-clock time just before the change, in the offset it changes from.
    start: NaiveDateTime,
    offset_from: i32,
    offset_to: i32,
    name: Option<String>,
}

/// RFC 5545 §3.6.5 `VTIMEZONE` with one STANDARD/DAYLIGHT per actual transition covering
/// `years` (plus the one in force when they begin). Explicit transitions, not RRULEs: the
/// rules of a zone change over time, the transitions chrono-tz knows are the truth.
fn write_vtimezone(out: &mut Lines, tz: Tz, years: (i32, i32)) {
    out.push("BEGIN:VTIMEZONE");
    out.push(&format!("TZID:{}", tz.name()));
    for observance in observances(tz, years) {
        let kind = if observance.daylight {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        out.push(&format!("BEGIN:{kind}"));
        out.push(&format!("DTSTART:{}", format_local(observance.start)));
        out.push(&format!(
            "TZOFFSETFROM:{}",
            format_offset(observance.offset_from)
        ));
        out.push(&format!(
            "TZOFFSETTO:{}",
            format_offset(observance.offset_to)
        ));
        if let Some(name) = &observance.name {
            out.push(&format!("TZNAME:{}", escape_text(name)));
        }
        out.push(&format!("END:{kind}"));
    }
    out.push("END:VTIMEZONE");
}

fn observances(tz: Tz, (first_year, last_year): (i32, i32)) -> Vec<Observance> {
    // Shift dates are near the present; the clamp bounds the scan for absurd input.
    let (first_year, last_year) = (first_year.clamp(1900, 2200), last_year.clamp(1900, 2200));
    let utc_midnight = |year: i32| {
        NaiveDate::from_ymd_opt(year, 1, 1)
            .map(|date| date.and_time(NaiveTime::MIN).and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    // Margins of two days cover any zone's offset from UTC at the year boundaries; the
    // look-back of a year finds the transition in force on 1 January.
    let range_start = utc_midnight(first_year) - Duration::days(2);
    let range_end = utc_midnight(last_year + 1) + Duration::days(2);
    let scan_start = range_start - Duration::days(400);

    let transitions = transitions_between(tz, scan_start, range_end);
    let mut result = Vec::new();
    let keep_from = match transitions.iter().rposition(|(at, _)| *at < range_start) {
        Some(index) => index,
        None => {
            // Nothing changed within a year before the range: the offset in force then has
            // held for long (Asia/Shanghai since 1991); one open-ended observance describes it.
            let offset = tz.offset_from_utc_datetime(&range_start.naive_utc());
            let seconds = total_seconds(&offset);
            result.push(Observance {
                daylight: !offset.dst_offset().is_zero(),
                start: DateTime::<Utc>::UNIX_EPOCH.naive_utc(),
                offset_from: seconds,
                offset_to: seconds,
                name: offset.abbreviation().map(str::to_owned),
            });
            0
        }
    };
    for (at, observance) in transitions.into_iter().skip(keep_from) {
        if at <= range_end {
            result.push(observance);
        }
    }
    result
}

/// Every change of offset (or of DST status) in `[from, to]`, found by stepping a day at a
/// time and then narrowing to the exact second: zones change at most a few times a year,
/// never twice within a day.
fn transitions_between(
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Observance)> {
    let key = |at: DateTime<Utc>| {
        let offset = tz.offset_from_utc_datetime(&at.naive_utc());
        (total_seconds(&offset), offset.dst_offset().num_seconds())
    };
    let mut result = Vec::new();
    let mut at = from;
    let mut current = key(at);
    while at < to {
        let next = (at + Duration::days(1)).min(to);
        let next_key = key(next);
        if next_key != current {
            // Invariant: key(low) == current, key(high) != current.
            let (mut low, mut high) = (at, next);
            while high - low > Duration::seconds(1) {
                let middle = low + (high - low) / 2;
                if key(middle) == current {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            let before = tz.offset_from_utc_datetime(&low.naive_utc());
            let after = tz.offset_from_utc_datetime(&high.naive_utc());
            let offset_from = total_seconds(&before);
            result.push((
                high,
                Observance {
                    daylight: !after.dst_offset().is_zero(),
                    start: high.naive_utc() + Duration::seconds(i64::from(offset_from)),
                    offset_from,
                    offset_to: total_seconds(&after),
                    name: after.abbreviation().map(str::to_owned),
                },
            ));
            current = key(high);
            // A second change on the same day would be missed by daily steps; continue
            // from the change itself.
            at = high;
            continue;
        }
        at = next;
    }
    result
}

fn total_seconds(offset: &chrono_tz::TzOffset) -> i32 {
    let total = offset.base_utc_offset() + offset.dst_offset();
    i32::try_from(total.num_seconds()).unwrap_or(0)
}

/// `+0800`, `-0330`; seconds only when present (`+004530`), as RFC 5545 UTC-OFFSET allows.
fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (hours, minutes, secs) = (abs / 3600, abs / 60 % 60, abs % 60);
    let mut text = format!("{sign}{hours:02}{minutes:02}");
    if secs != 0 {
        let _ = write!(text, "{secs:02}");
    }
    text
}

fn format_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

fn format_local(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%S").to_string()
}

fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn stamp() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 8, 30, 0).unwrap()
    }

    /// Undoes folding: CRLF followed by one space joins the lines.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    fn component<'a>(text: &'a str, begin: &str) -> Vec<&'a str> {
        let mut found = Vec::new();
        let mut rest = text;
        let open = format!("BEGIN:{begin}\r\n");
        let close = format!("END:{begin}\r\n");
        while let Some(start) = rest.find(&open) {
            let after = &rest[start..];
            let end = after.find(&close).unwrap() + close.len();
            found.push(&after[..end]);
            rest = &after[end..];
        }
        found
    }

    fn shift_event() -> IcsEvent {
        IcsEvent::timed(
            "shift-1-20260105@dingding-attendance",
            date(2026, 1, 5),
            "A班 早班",
            time(9, 0),
            time(18, 0),
            Some("打卡提醒：上班前 10 分钟".to_owned()),
        )
    }

    #[test]
    fn calendar_has_the_required_header_and_crlf_line_endings() {
        let text = render("张三的排班", Tz::Asia__Shanghai, &[shift_event()], stamp());
        assert!(text.starts_with(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//dingding-attendance//zh-CN\r\n\
             CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:张三的排班\r\n\
             X-WR-TIMEZONE:Asia/Shanghai\r\n"
        ));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(!text.replace("\r\n", "").contains('\r'));
    }

    #[test]
    fn timed_event_uses_tzid_and_utc_stamp() {
        let text = render("排班", Tz::Asia__Shanghai, &[shift_event()], stamp());
        let events = component(&text, "VEVENT");
        assert_eq!(
            events,
            vec![
                "BEGIN:VEVENT\r\n\
                 UID:shift-1-20260105@dingding-attendance\r\n\
                 DTSTAMP:20260101T083000Z\r\n\
                 DTSTART;TZID=Asia/Shanghai:20260105T090000\r\n\
                 DTEND;TZID=Asia/Shanghai:20260105T180000\r\n\
                 SUMMARY:A班 早班\r\n\
                 DESCRIPTION:打卡提醒：上班前 10 分钟\r\n\
                 END:VEVENT\r\n"
            ]
        );
    }

    #[test]
    fn rest_day_is_an_all_day_event_ending_the_next_day() {
        let rest = IcsEvent::all_day("rest-1-20261231", date(2026, 12, 31), "休", None);
        let text = render("排班", Tz::Asia__Shanghai, &[rest], stamp());
        assert!(text.contains(
            "DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\nTRANSP:TRANSPARENT\r\n"
        ));
        assert!(!text.contains("DESCRIPTION"));
    }

    #[test]
    fn overnight_shift_ends_the_next_morning() {
        let night = IcsEvent::timed(
            "n",
            date(2026, 2, 28),
            "夜班",
            time(22, 0),
            time(6, 0),
            None,
        );
        assert_eq!(night.end, date(2026, 3, 1).and_time(time(6, 0)));
        let text = render(
            "排班",
            Tz::Asia__Shanghai,
            std::slice::from_ref(&night),
            stamp(),
        );
        assert!(text.contains("DTSTART;TZID=Asia/Shanghai:20260228T220000\r\n"));
        assert!(text.contains("DTEND;TZID=Asia/Shanghai:20260301T060000\r\n"));

        // An end the caller left on the start day is still written on the next day.
        let same_day = IcsEvent {
            end: date(2026, 2, 28).and_time(time(6, 0)),
            ..night
        };
        let text = render("排班", Tz::Asia__Shanghai, &[same_day], stamp());
        assert!(text.contains("DTEND;TZID=Asia/Shanghai:20260301T060000\r\n"));
    }

    #[test]
    fn alarms_are_written_relative_to_start_or_end() {
        let event = IcsEvent {
            alarms: vec![
                IcsAlarm {
                    from_end: false,
                    offset_minutes: -15,
                    description: "上班打卡提醒".to_owned(),
                },
                IcsAlarm {
                    from_end: true,
                    offset_minutes: 30,
                    description: "下班打卡提醒".to_owned(),
                },
                IcsAlarm {
                    from_end: true,
                    offset_minutes: 0,
                    description: "下班".to_owned(),
                },
            ],
            ..shift_event()
        };
        let text = render("排班", Tz::Asia__Shanghai, &[event], stamp());
        let alarms = component(&text, "VALARM");
        assert_eq!(
            alarms,
            vec![
                "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:上班打卡提醒\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n",
                "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:下班打卡提醒\r\nTRIGGER;RELATED=END:PT30M\r\nEND:VALARM\r\n",
                "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:下班\r\nTRIGGER;RELATED=END:PT0M\r\nEND:VALARM\r\n",
            ]
        );
        // Inside the event.
        let event = &component(&text, "VEVENT")[0];
        assert!(event.contains("TRIGGER:-PT15M"));
        // Rest days carry none.
        let rest = IcsEvent {
            alarms: vec![IcsAlarm {
                from_end: false,
                offset_minutes: -15,
                description: "x".to_owned(),
            }],
            ..IcsEvent::all_day("rest-1", date(2026, 1, 6), "休", None)
        };
        assert!(!render("排班", Tz::Asia__Shanghai, &[rest], stamp()).contains("VALARM"));
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\rg\u{7}h\ti"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ngh\ti"
        );
        let event = IcsEvent {
            description: Some("带班: 李四, 王五; 备注\n第二行".to_owned()),
            ..shift_event()
        };
        let text = unfold(&render("a,b;c", Tz::Asia__Shanghai, &[event], stamp()));
        assert!(text.contains("X-WR-CALNAME:a\\,b\\;c\r\n"));
        assert!(text.contains("DESCRIPTION:带班: 李四\\, 王五\\; 备注\\n第二行\r\n"));
    }

    #[test]
    fn folding_never_splits_utf8_and_keeps_lines_within_75_octets() {
        for length in [1, 20, 24, 25, 26, 50, 74, 75, 76, 200] {
            for filler in ["班", "a", "😀", "a班"] {
                let summary = filler.repeat(length);
                let event = IcsEvent {
                    summary: summary.clone(),
                    description: Some(format!("x{summary}")),
                    ..shift_event()
                };
                // The whole output is a String, so no character was split; check each line.
                let text = render(&summary, Tz::Europe__Berlin, &[event], stamp());
                for line in text.split("\r\n") {
                    assert!(line.len() <= 75, "{} octets: {line}", line.len());
                }
                let unfolded = unfold(&text);
                assert!(unfolded.contains(&format!("SUMMARY:{summary}\r\n")));
                assert!(unfolded.contains(&format!("DESCRIPTION:x{summary}\r\n")));
            }
        }
    }

    #[test]
    fn fold_splits_between_characters_at_the_octet_limit() {
        let mut out = String::new();
        // "SUMMARY:" is 8 octets; 22 CJK characters fill 74, the 23rd would make 77.
        fold_into(&mut out, &format!("SUMMARY:{}", "班".repeat(30)));
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines[0], format!("SUMMARY:{}", "班".repeat(22)));
        assert_eq!(lines[1], format!(" {}", "班".repeat(8)));
        let mut exact = String::new();
        fold_into(&mut exact, &"a".repeat(75));
        assert_eq!(exact, format!("{}\r\n", "a".repeat(75)));
        let mut over = String::new();
        fold_into(&mut over, &"a".repeat(76));
        assert_eq!(over, format!("{}\r\n a\r\n", "a".repeat(75)));
    }

    #[test]
    fn shanghai_has_one_fixed_standard_observance() {
        let text = render("排班", Tz::Asia__Shanghai, &[shift_event()], stamp());
        let zones = component(&text, "VTIMEZONE");
        assert_eq!(
            zones,
            vec![
                "BEGIN:VTIMEZONE\r\n\
                 TZID:Asia/Shanghai\r\n\
                 BEGIN:STANDARD\r\n\
                 DTSTART:19700101T000000\r\n\
                 TZOFFSETFROM:+0800\r\n\
                 TZOFFSETTO:+0800\r\n\
                 TZNAME:CST\r\n\
                 END:STANDARD\r\n\
                 END:VTIMEZONE\r\n"
            ]
        );
    }

    #[test]
    fn berlin_2026_has_both_transitions_with_exact_local_times() {
        let event = IcsEvent::timed("b", date(2026, 6, 1), "A", time(9, 0), time(17, 0), None);
        let text = render("排班", Tz::Europe__Berlin, &[event], stamp());
        let zone = component(&text, "VTIMEZONE")[0];
        let daylight = component(zone, "DAYLIGHT");
        let standard = component(zone, "STANDARD");
        assert!(daylight.contains(
            &"BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\n\
              TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        ));
        assert!(standard.contains(
            &"BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\n\
              TZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        ));
        // The change in force on 1 January 2026 (October 2025) is included, nothing older.
        assert!(standard.contains(
            &"BEGIN:STANDARD\r\nDTSTART:20251026T030000\r\nTZOFFSETFROM:+0200\r\n\
              TZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        ));
        assert_eq!(daylight.len() + standard.len(), 3, "{zone}");
        assert!(text.contains("DTSTART;TZID=Europe/Berlin:20260601T090000\r\n"));
    }

    #[test]
    fn vtimezone_covers_every_year_of_the_events() {
        let events = [
            IcsEvent::all_day("a", date(2025, 12, 31), "休", None),
            IcsEvent::all_day("b", date(2027, 1, 2), "休", None),
        ];
        let text = render("排班", Tz::America__New_York, &events, stamp());
        let zone = component(&text, "VTIMEZONE")[0];
        for start in [
            "DTSTART:20241103T020000", // in force on 1 January 2025
            "DTSTART:20250309T020000",
            "DTSTART:20251102T020000",
            "DTSTART:20260308T020000",
            "DTSTART:20261101T020000",
            "DTSTART:20270314T020000",
            "DTSTART:20271107T020000",
        ] {
            assert!(zone.contains(start), "{start} missing in {zone}");
        }
        assert!(zone.contains("TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT"));
        assert!(!zone.contains("2023"));
    }

    #[test]
    fn zone_without_events_describes_the_stamp_year() {
        let text = render("空", Tz::Europe__Berlin, &[], stamp());
        assert!(text.contains("DTSTART:20260329T020000"));
        assert!(!text.contains("BEGIN:VEVENT"));
        let utc = render("空", Tz::UTC, &[], stamp());
        assert!(utc.contains("TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nTZNAME:UTC\r\n"));
    }

    #[test]
    fn offsets_with_minutes_and_seconds_are_formatted() {
        assert_eq!(format_offset(8 * 3600), "+0800");
        assert_eq!(format_offset(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(format_offset(5 * 3600 + 45 * 60), "+0545");
        assert_eq!(format_offset(0), "+0000");
        assert_eq!(format_offset(45 * 60 + 30), "+004530");
    }
}
