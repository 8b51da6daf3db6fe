//! The working-time rules a change of plan is checked against before an admin approves it
//! (a swap, a cover, a claimed open shift): no two shifts at once, enough rest between two
//! shifts, not too many workdays in a row, not too many hours in a week. Each broken rule
//! is a [`Breach`] with its reason; whether it warns or refuses is the caller's setting.
//! Only breaches that involve a changed date are reported: a problem elsewhere in the plan
//! is not this request's.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// One shift a person works: the local date it starts on and its real instants
/// ([`crate::domain::shift::ShiftHours::span_on`], so overnight shifts and daylight saving
/// are as everywhere else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duty {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Duty {
    fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes().max(0)
    }
}

/// The limits; the defaults follow common practice in China (11 h rest, six days in a row,
/// the 44-hour week).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub min_rest_minutes: i64,
    pub max_consecutive_days: u32,
    pub max_week_minutes: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_rest_minutes: 11 * 60,
            max_consecutive_days: 6,
            max_week_minutes: 44 * 60,
        }
    }
}

/// A rule the changed plan breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// Two shifts at once: the ones starting on these dates.
    Overlap { first: NaiveDate, second: NaiveDate },
    /// Less rest than the minimum between the shift of `before` and the next, of `after`.
    ShortRest {
        before: NaiveDate,
        after: NaiveDate,
        rest_minutes: i64,
    },
    /// Workdays in a row, from `from` to `to`.
    TooManyDays {
        from: NaiveDate,
        to: NaiveDate,
        days: u32,
    },
    /// Hours in the week (Monday to Sunday) starting `monday`, counted by the day each
    /// shift starts.
    LongWeek { monday: NaiveDate, minutes: i64 },
}

impl Breach {
    /// The reason as shown to the admin.
    pub fn message(&self, limits: &Limits) -> String {
        let hours = |minutes: i64| {
            if minutes % 60 == 0 {
                format!("{} 小时", minutes / 60)
            } else {
                format!("{} 小时 {} 分", minutes / 60, minutes % 60)
            }
        };
        match *self {
            Self::Overlap { first, second } => {
                format!("{first} 和 {second} 的班次时间重叠")
            }
            Self::ShortRest {
                before,
                after,
                rest_minutes,
            } => format!(
                "{before} 的班次到 {after} 的班次之间只休息 {}，少于 {}",
                hours(rest_minutes),
                hours(limits.min_rest_minutes)
            ),
            Self::TooManyDays { from, to, days } => format!(
                "{from} 到 {to} 连续上班 {days} 天，超过 {} 天",
                limits.max_consecutive_days
            ),
            Self::LongWeek { monday, minutes } => format!(
                "{monday} 开始的一周排班 {}，超过 {}",
                hours(minutes),
                hours(limits.max_week_minutes)
            ),
        }
    }
}

/// The rules a person's plan after the change (`duties`, any order) breaks around the
/// `changed` dates.
pub fn check(duties: &[Duty], changed: &[NaiveDate], limits: &Limits) -> Vec<Breach> {
    let mut sorted: Vec<Duty> = duties.to_vec();
    sorted.sort_by_key(|duty| (duty.start, duty.date));
    let touches = |a: &Duty, b: &Duty| changed.contains(&a.date) || changed.contains(&b.date);
    let mut breaches = Vec::new();

    // Overlaps: any two (sorted by start, a later one overlaps if it starts before an
    // earlier one ends).
    for (index, first) in sorted.iter().enumerate() {
        for second in sorted[index + 1..]
            .iter()
            .take_while(|second| second.start < first.end)
        {
            if touches(first, second) {
                breaches.push(Breach::Overlap {
                    first: first.date,
                    second: second.date,
                });
            }
        }
    }

    // Rest between a shift and the next one that does not overlap it.
    for pair in sorted.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let rest = (after.start - before.end).num_minutes();
        if rest >= 0 && rest < limits.min_rest_minutes && touches(before, after) {
            breaches.push(Breach::ShortRest {
                before: before.date,
                after: after.date,
                rest_minutes: rest,
            });
        }
    }

    // Runs of consecutive workdays that contain a changed date.
    let mut dates: Vec<NaiveDate> = sorted.iter().map(|duty| duty.date).collect();
    dates.sort();
    dates.dedup();
    let mut run_start = 0;
    for index in 0..dates.len() {
        let run_ends =
            index + 1 == dates.len() || dates[index + 1] != dates[index] + Duration::days(1);
        if !run_ends {
            continue;
        }
        let run = &dates[run_start..=index];
        let days = run.len() as u32;
        if days > limits.max_consecutive_days && run.iter().any(|date| changed.contains(date)) {
            breaches.push(Breach::TooManyDays {
                from: run[0],
                to: run[run.len() - 1],
                days,
            });
        }
        run_start = index + 1;
    }

    // Hours in each week that contains a changed date.
    let mut mondays: Vec<NaiveDate> = changed.iter().map(|date| monday_of(*date)).collect();
    mondays.sort();
    mondays.dedup();
    for monday in mondays {
        let minutes: i64 = sorted
            .iter()
            .filter(|duty| monday_of(duty.date) == monday)
            .map(Duty::minutes)
            .sum();
        if minutes > limits.max_week_minutes {
            breaches.push(Breach::LongWeek { monday, minutes });
        }
    }
    breaches
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use chrono_tz::Asia::Shanghai;

    use super::*;
    use crate::domain::shift::{ClockTime, ShiftHours};

    fn day(d: u32) -> NaiveDate {
        // December 2026: the 7th is a Monday.
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn duty(d: u32, start: (u32, u32), end: (u32, u32)) -> Duty {
        let hours = ShiftHours::new(
            ClockTime::new(start.0, start.1).unwrap(),
            ClockTime::new(end.0, end.1).unwrap(),
        );
        let (start, end) = hours.span_on(day(d), Shanghai);
        Duty {
            date: day(d),
            start,
            end,
        }
    }

    fn nine_to_five(days: &[u32]) -> Vec<Duty> {
        days.iter().map(|d| duty(*d, (9, 0), (17, 0))).collect()
    }

    #[test]
    fn a_plain_week_breaks_nothing() {
        let plan = nine_to_five(&[7, 8, 9, 10, 11]);
        assert_eq!(check(&plan, &[day(9)], &Limits::default()), []);
    }

    #[test]
    fn two_shifts_at_once_overlap() {
        let mut plan = nine_to_five(&[7]);
        plan.push(duty(7, (16, 0), (22, 0)));
        assert_eq!(
            check(&plan, &[day(7)], &Limits::default()),
            [Breach::Overlap {
                first: day(7),
                second: day(7)
            }]
        );
    }

    #[test]
    fn a_night_shift_then_an_early_one_is_short_rest_and_an_overnight_end_counts() {
        // 22:00–06:00 overnight, then 09:00 the same morning: 3 hours' rest.
        let plan = vec![duty(7, (22, 0), (6, 0)), duty(8, (9, 0), (17, 0))];
        let limits = Limits::default();
        let breaches = check(&plan, &[day(8)], &limits);
        assert_eq!(
            breaches,
            [Breach::ShortRest {
                before: day(7),
                after: day(8),
                rest_minutes: 180
            }]
        );
        assert_eq!(
            breaches[0].message(&limits),
            "2026-12-07 的班次到 2026-12-08 的班次之间只休息 3 小时，少于 11 小时"
        );
        // Exactly the minimum is enough.
        let plan = vec![duty(7, (8, 0), (22, 0)), duty(8, (9, 0), (17, 0))];
        assert_eq!(check(&plan, &[day(8)], &limits), []);
    }

    #[test]
    fn a_seventh_day_in_a_row_is_too_many() {
        let plan = nine_to_five(&[7, 8, 9, 10, 11, 12, 13]);
        let limits = Limits {
            max_week_minutes: 100 * 60,
            ..Limits::default()
        };
        let breaches = check(&plan, &[day(13)], &limits);
        assert_eq!(
            breaches,
            [Breach::TooManyDays {
                from: day(7),
                to: day(13),
                days: 7
            }]
        );
        assert_eq!(
            breaches[0].message(&limits),
            "2026-12-07 到 2026-12-13 连续上班 7 天，超过 6 天"
        );
        // A day off in between breaks the run.
        let plan = nine_to_five(&[7, 8, 9, 11, 12, 13, 14]);
        assert_eq!(check(&plan, &[day(14)], &limits), []);
    }

    #[test]
    fn more_than_44_hours_in_a_week_is_a_long_week() {
        // Six 8-hour days: 48 hours from Monday the 7th.
        let plan = nine_to_five(&[7, 8, 9, 10, 11, 12]);
        let limits = Limits::default();
        let breaches = check(&plan, &[day(12)], &limits);
        assert_eq!(
            breaches,
            [Breach::LongWeek {
                monday: day(7),
                minutes: 48 * 60
            }]
        );
        assert_eq!(
            breaches[0].message(&limits),
            "2026-12-07 开始的一周排班 48 小时，超过 44 小时"
        );
        // The same days split over two weeks are fine: Thursday to Tuesday.
        let plan = nine_to_five(&[10, 11, 12, 13, 14, 15]);
        assert_eq!(
            check(
                &plan,
                &[day(13), day(14)],
                &Limits {
                    max_consecutive_days: 7,
                    ..limits
                }
            ),
            []
        );
    }

    #[test]
    fn only_breaches_that_involve_a_changed_date_are_reported() {
        // An overlap on the 7th is not about a change on the 10th.
        let mut plan = nine_to_five(&[7, 10]);
        plan.push(duty(7, (16, 0), (22, 0)));
        assert_eq!(check(&plan, &[day(10)], &Limits::default()), []);
        assert_eq!(check(&plan, &[day(7)], &Limits::default()).len(), 1);
    }

    #[test]
    fn minutes_read_as_hours_and_minutes() {
        let limits = Limits::default();
        let breach = Breach::ShortRest {
            before: day(7),
            after: day(8),
            rest_minutes: 150,
        };
        assert!(breach.message(&limits).contains("2 小时 30 分"));
    }
}
