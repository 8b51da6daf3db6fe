//! The period a calendar view shows: a month in whole weeks (Monday first), a week, or
//! the bare month of the team grid. Shared by the browser and the server, which answers
//! the first load (before the browser knows what "today" is) with the same period.

use chrono::{Datelike, Days, Months, NaiveDate};

/// 一 … 日, for “周一” labels.
pub fn weekday_name(date: NaiveDate) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "日"][date.weekday().num_days_from_monday() as usize]
}
use serde::{Deserialize, Serialize};

/// Month or week (the personal calendar); the team grid always shows a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    Month,
    Week,
}

/// The dates a view shows around `anchor`: whole weeks (Monday first) covering the month,
/// or the week containing `anchor`; the team grid shows just the month.
pub fn visible_range(anchor: NaiveDate, span: Span, team: bool) -> (NaiveDate, NaiveDate) {
    match span {
        Span::Week => {
            let monday = anchor - Days::new(u64::from(anchor.weekday().num_days_from_monday()));
            (monday, monday + Days::new(6))
        }
        Span::Month => {
            let first = anchor.with_day(1).unwrap_or(anchor);
            let last = (first + Months::new(1)) - Days::new(1);
            if team {
                return (first, last);
            }
            let start = first - Days::new(u64::from(first.weekday().num_days_from_monday()));
            let end = last + Days::new(u64::from(6 - last.weekday().num_days_from_monday()));
            (start, end)
        }
    }
}

/// Moves the shown period back (`-1`) or forward (`1`).
pub fn step(anchor: NaiveDate, span: Span, direction: i32) -> NaiveDate {
    match (span, direction >= 0) {
        (Span::Week, true) => anchor + Days::new(7),
        (Span::Week, false) => anchor - Days::new(7),
        (Span::Month, true) => anchor.with_day(1).unwrap_or(anchor) + Months::new(1),
        (Span::Month, false) => anchor.with_day(1).unwrap_or(anchor) - Months::new(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_view_covers_whole_weeks_monday_first() {
        // November 2026 starts on a Sunday and ends on a Monday.
        assert_eq!(
            visible_range(date(2026, 11, 23), Span::Month, false),
            (date(2026, 10, 26), date(2026, 12, 6))
        );
        assert_eq!(
            visible_range(date(2026, 11, 23), Span::Month, true),
            (date(2026, 11, 1), date(2026, 11, 30))
        );
    }

    #[test]
    fn week_view_is_monday_to_sunday() {
        assert_eq!(
            visible_range(date(2026, 11, 29), Span::Week, false),
            (date(2026, 11, 23), date(2026, 11, 29))
        );
    }

    #[test]
    fn stepping_months_lands_on_the_first() {
        assert_eq!(step(date(2026, 1, 31), Span::Month, 1), date(2026, 2, 1));
        assert_eq!(step(date(2026, 1, 31), Span::Month, -1), date(2025, 12, 1));
        assert_eq!(step(date(2026, 1, 31), Span::Week, 1), date(2026, 2, 7));
    }
}
