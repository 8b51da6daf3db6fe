//! Batch scheduling (批量排班): from a set of users, a date range and a pattern, work out
//! exactly which schedule entries would be written, so the admin can preview them before
//! anything is committed. Pure: existing entries come in through a lookup function.

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::holiday::{WorkCalendar, Workday};

/// The longest range one plan may cover, both ends included.
pub const PLAN_MAX_DAYS: i64 = 366;
/// The longest rotation cycle: two months of distinct days.
pub const ROTATION_MAX_SLOTS: usize = 62;

/// What to put on each day, by shift id. `None` leaves a day without an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// A repeating cycle (早,早,中,中,夜,夜,休,休) whose first slot falls on `anchor`. The
    /// anchor may lie before, inside or after the planned range.
    Rotation {
        anchor: NaiveDate,
        cycle: Vec<Option<i32>>,
    },
    /// One shift per weekday, index 0 = Monday … 6 = Sunday.
    Weekdays([Option<i32>; 7]),
}

impl Pattern {
    /// The shift the pattern gives `date` for a user whose rotation is moved on by `offset`
    /// slots (user k starts at `cycle[(day_index + offset) % len]`; ignored for weekdays).
    pub fn shift_for(&self, date: NaiveDate, offset: u32) -> Option<i32> {
        match self {
            Self::Rotation { anchor, cycle } => {
                let length = i64::try_from(cycle.len()).ok().filter(|len| *len > 0)?;
                // Euclidean remainder: days before the anchor count backwards through the cycle.
                let slot = ((date - *anchor).num_days() + i64::from(offset)).rem_euclid(length);
                cycle.get(usize::try_from(slot).ok()?).copied().flatten()
            }
            Self::Weekdays(shifts) => shifts
                .get(date.weekday().num_days_from_monday() as usize)
                .copied()
                .flatten(),
        }
    }

    /// Every shift id the pattern uses.
    pub fn shift_ids(&self) -> BTreeSet<i32> {
        let slots: &[Option<i32>] = match self {
            Self::Rotation { cycle, .. } => cycle,
            Self::Weekdays(shifts) => shifts,
        };
        slots.iter().flatten().copied().collect()
    }
}

/// One selected user. `offset` moves this user's rotation on by that many slots, so a team
/// can share one cycle in staggered turns; weekday patterns ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanUser {
    pub user_id: i32,
    #[serde(default)]
    pub offset: u32,
}

/// How statutory and company days change the pattern. `None` means the pattern applies as
/// on any other day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayRule {
    /// The shift for every listed off day (statutory holiday or company off day, whatever the
    /// weekday); ordinary weekends are left to the pattern.
    pub rest_on_holidays: Option<i32>,
    /// The shift for a listed workday (调休上班 or company workday) that falls on a Saturday
    /// or Sunday.
    pub work_on_makeup_days: Option<i32>,
}

impl HolidayRule {
    fn shift_for(&self, day: &Workday) -> Option<(i32, PlanRule)> {
        if day.is_holiday() {
            self.rest_on_holidays
                .map(|shift| (shift, PlanRule::HolidayRest))
        } else if day.is_weekend_workday() {
            self.work_on_makeup_days
                .map(|shift| (shift, PlanRule::MakeUpWork))
        } else {
            None
        }
    }
}

/// What to do where a user already has a different shift on a planned day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Existing {
    #[default]
    Keep,
    Overwrite,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub users: Vec<PlanUser>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub pattern: Pattern,
    #[serde(default)]
    pub holidays: HolidayRule,
    #[serde(default)]
    pub existing: Existing,
}

impl PlanRequest {
    /// The number of days in `from..=to`.
    pub fn day_count(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Every shift id the request may write: the caller checks that they all exist.
    pub fn shift_ids(&self) -> BTreeSet<i32> {
        let mut ids = self.pattern.shift_ids();
        ids.extend(self.holidays.rest_on_holidays);
        ids.extend(self.holidays.work_on_makeup_days);
        ids
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if self.users.is_empty() {
            return Err(FieldError::new("users", "请至少选择一个人员"));
        }
        let mut seen = HashSet::with_capacity(self.users.len());
        if let Some(user) = self.users.iter().find(|user| !seen.insert(user.user_id)) {
            return Err(FieldError::new(
                "users",
                format!("人员重复：用户 {} 出现了不止一次", user.user_id),
            ));
        }
        if self.from > self.to {
            return Err(FieldError::new("to", "结束日期不能早于开始日期"));
        }
        let days = self.day_count();
        if days > PLAN_MAX_DAYS {
            return Err(FieldError::new(
                "to",
                format!("日期范围最多 {PLAN_MAX_DAYS} 天（当前 {days} 天）"),
            ));
        }
        if let Pattern::Rotation { cycle, .. } = &self.pattern {
            if cycle.is_empty() {
                return Err(FieldError::new("pattern", "轮换周期不能为空"));
            }
            if cycle.len() > ROTATION_MAX_SLOTS {
                return Err(FieldError::new(
                    "pattern",
                    format!(
                        "轮换周期最多 {ROTATION_MAX_SLOTS} 天（当前 {} 天）",
                        cycle.len()
                    ),
                ));
            }
        }
        if self.shift_ids().is_empty() {
            return Err(FieldError::new("pattern", "至少要选择一个班次"));
        }
        Ok(())
    }
}

/// Which rule chose a planned day's shift, for the preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanRule {
    Pattern,
    HolidayRest,
    MakeUpWork,
}

/// What committing a planned day would do to the user's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// No entry yet: one is created.
    New,
    /// The same shift is already there: nothing to write.
    Unchanged,
    /// A different shift is there and `Existing::Overwrite` replaces it.
    Replace { previous: i32 },
    /// A different shift is there and `Existing::Keep` leaves it.
    Kept { previous: i32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDay {
    pub user_id: i32,
    pub date: NaiveDate,
    pub shift_id: i32,
    pub outcome: Outcome,
    pub rule: PlanRule,
}

/// Works out every entry the request would produce, in the order the users were given and
/// then by date. Days the pattern leaves empty produce nothing: a plan never deletes.
/// `existing(user_id, date)` returns the shift a user already has on a date.
pub fn plan(
    request: &PlanRequest,
    calendar: &WorkCalendar,
    existing: &impl Fn(i32, NaiveDate) -> Option<i32>,
) -> Result<Vec<PlannedDay>, FieldError> {
    request.validate()?;
    // Validated above: 1..=366 days.
    let day_count = usize::try_from(request.day_count()).unwrap_or(0);
    // The calendar answer is the same for every user: look it up once per date.
    let days: Vec<(NaiveDate, Option<(i32, PlanRule)>)> = request
        .from
        .iter_days()
        .take(day_count)
        .map(|date| (date, request.holidays.shift_for(&calendar.workday(date))))
        .collect();

    let mut planned = Vec::with_capacity(request.users.len() * day_count);
    for user in &request.users {
        for (date, holiday) in &days {
            let chosen = holiday.or_else(|| {
                request
                    .pattern
                    .shift_for(*date, user.offset)
                    .map(|shift| (shift, PlanRule::Pattern))
            });
            let Some((shift_id, rule)) = chosen else {
                continue;
            };
            let outcome = match existing(user.user_id, *date) {
                None => Outcome::New,
                Some(previous) if previous == shift_id => Outcome::Unchanged,
                Some(previous) => match request.existing {
                    Existing::Keep => Outcome::Kept { previous },
                    Existing::Overwrite => Outcome::Replace { previous },
                },
            };
            planned.push(PlannedDay {
                user_id: user.user_id,
                date: *date,
                shift_id,
                outcome,
                rule,
            });
        }
    }
    Ok(planned)
}

/// The planned days that must be written: new entries and replacements.
pub fn writes(planned: &[PlannedDay]) -> impl Iterator<Item = &PlannedDay> {
    planned
        .iter()
        .filter(|day| matches!(day.outcome, Outcome::New | Outcome::Replace { .. }))
}

/// Counts for the preview ("新增 120，覆盖 8，保留 3，不变 40").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub new: usize,
    pub unchanged: usize,
    pub replaced: usize,
    pub kept: usize,
}

impl PlanSummary {
    /// How many rows committing the plan writes.
    pub fn writes(&self) -> usize {
        self.new + self.replaced
    }
}

pub fn summarise(planned: &[PlannedDay]) -> PlanSummary {
    planned
        .iter()
        .fold(PlanSummary::default(), |mut summary, day| {
            match day.outcome {
                Outcome::New => summary.new += 1,
                Outcome::Unchanged => summary.unchanged += 1,
                Outcome::Replace { .. } => summary.replaced += 1,
                Outcome::Kept { .. } => summary.kept += 1,
            }
            summary
        })
}

#[cfg(test)]
#[cfg(feature = "ssr")] // the tests use the built-in holiday data
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::holiday::{CompanyDay, builtin_years};

    const EARLY: i32 = 1; // 早
    const MIDDLE: i32 = 2; // 中
    const NIGHT: i32 = 3; // 夜
    const REST: i32 = 4; // 休
    const MAKEUP: i32 = 5; // 班

    fn date(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    fn calendar() -> WorkCalendar {
        WorkCalendar::new(builtin_years(), vec![])
    }

    fn nothing(_: i32, _: NaiveDate) -> Option<i32> {
        None
    }

    fn users(list: &[(i32, u32)]) -> Vec<PlanUser> {
        list.iter()
            .map(|(user_id, offset)| PlanUser {
                user_id: *user_id,
                offset: *offset,
            })
            .collect()
    }

    /// 早,早,中,中,夜,夜,休,休
    fn four_team_cycle(anchor: &str) -> Pattern {
        Pattern::Rotation {
            anchor: date(anchor),
            cycle: [EARLY, EARLY, MIDDLE, MIDDLE, NIGHT, NIGHT, REST, REST]
                .into_iter()
                .map(Some)
                .collect(),
        }
    }

    fn request(users: Vec<PlanUser>, from: &str, to: &str, pattern: Pattern) -> PlanRequest {
        PlanRequest {
            users,
            from: date(from),
            to: date(to),
            pattern,
            holidays: HolidayRule::default(),
            existing: Existing::Keep,
        }
    }

    /// (user, date, shift) for compact comparison.
    fn cells(planned: &[PlannedDay]) -> Vec<(i32, String, i32)> {
        planned
            .iter()
            .map(|day| {
                (
                    day.user_id,
                    day.date.format("%m-%d").to_string(),
                    day.shift_id,
                )
            })
            .collect()
    }

    fn expected(user_id: i32, days: &[(&str, i32)]) -> Vec<(i32, String, i32)> {
        days.iter()
            .map(|(day, shift)| (user_id, (*day).to_owned(), *shift))
            .collect()
    }

    #[test]
    fn rotation_runs_across_a_month_boundary_with_staggered_users() {
        let request = request(
            users(&[(10, 0), (20, 2)]),
            "2026-01-28",
            "2026-02-05",
            four_team_cycle("2026-01-28"),
        );
        let planned = plan(&request, &calendar(), &nothing).unwrap();
        let mut want = expected(
            10,
            &[
                ("01-28", EARLY),
                ("01-29", EARLY),
                ("01-30", MIDDLE),
                ("01-31", MIDDLE),
                ("02-01", NIGHT),
                ("02-02", NIGHT),
                ("02-03", REST),
                ("02-04", REST),
                ("02-05", EARLY),
            ],
        );
        want.extend(expected(
            20,
            &[
                ("01-28", MIDDLE),
                ("01-29", MIDDLE),
                ("01-30", NIGHT),
                ("01-31", NIGHT),
                ("02-01", REST),
                ("02-02", REST),
                ("02-03", EARLY),
                ("02-04", EARLY),
                ("02-05", MIDDLE),
            ],
        ));
        assert_eq!(cells(&planned), want);
        assert!(planned.iter().all(|day| day.outcome == Outcome::New));
        assert!(planned.iter().all(|day| day.rule == PlanRule::Pattern));
    }

    #[test]
    fn rotation_anchor_may_lie_before_or_after_the_range() {
        let run = |anchor: &str| {
            let request = request(
                users(&[(1, 0)]),
                "2026-01-28",
                "2026-02-05",
                four_team_cycle(anchor),
            );
            cells(&plan(&request, &calendar(), &nothing).unwrap())
        };
        let anchored_on_first_day = run("2026-01-28");
        // A whole number of cycles earlier or later changes nothing.
        assert_eq!(run("2025-12-27"), anchored_on_first_day);
        assert_eq!(run("2026-02-05"), anchored_on_first_day);
        assert_eq!(run("2028-04-07"), anchored_on_first_day); // 100 cycles later
        // Anchored four days after the range starts: the range opens in slot −4 ≡ 4 (夜).
        assert_eq!(
            run("2026-02-01"),
            expected(
                1,
                &[
                    ("01-28", NIGHT),
                    ("01-29", NIGHT),
                    ("01-30", REST),
                    ("01-31", REST),
                    ("02-01", EARLY),
                    ("02-02", EARLY),
                    ("02-03", MIDDLE),
                    ("02-04", MIDDLE),
                    ("02-05", NIGHT),
                ],
            )
        );
    }

    #[test]
    fn rotation_offsets_wrap_around_the_cycle() {
        let pattern = four_team_cycle("2026-01-28");
        let day = date("2026-01-28");
        assert_eq!(pattern.shift_for(day, 0), Some(EARLY));
        assert_eq!(pattern.shift_for(day, 8), Some(EARLY));
        assert_eq!(pattern.shift_for(day, 10), Some(MIDDLE));
        assert_eq!(pattern.shift_for(day, u32::MAX), Some(REST)); // 2³²−1 ≡ 7 (mod 8)
        assert_eq!(pattern.shift_for(date("2026-01-27"), 0), Some(REST));
        let empty = Pattern::Rotation {
            anchor: day,
            cycle: vec![],
        };
        assert_eq!(empty.shift_for(day, 0), None);
    }

    #[test]
    fn empty_slots_leave_days_without_an_entry() {
        let request = request(
            users(&[(1, 0)]),
            "2026-03-02",
            "2026-03-07",
            Pattern::Rotation {
                anchor: date("2026-03-02"),
                cycle: vec![Some(EARLY), None, Some(NIGHT)],
            },
        );
        assert_eq!(
            cells(&plan(&request, &calendar(), &nothing).unwrap()),
            expected(
                1,
                &[
                    ("03-02", EARLY),
                    ("03-04", NIGHT),
                    ("03-05", EARLY),
                    ("03-07", NIGHT),
                ]
            )
        );
    }

    /// Mon–Fri 早, weekends empty, over 2026-09-19 (Sat) … 2026-10-11 (Sun): 中秋节
    /// 09-25…27, 国庆节 10-01…07, make-up workdays Sunday 09-20 and Saturday 10-10.
    fn national_day(holidays: HolidayRule) -> Vec<(i32, String, i32)> {
        let mut request = request(
            users(&[(1, 0)]),
            "2026-09-19",
            "2026-10-11",
            Pattern::Weekdays([
                Some(EARLY),
                Some(EARLY),
                Some(EARLY),
                Some(EARLY),
                Some(EARLY),
                None,
                None,
            ]),
        );
        request.holidays = holidays;
        cells(&plan(&request, &calendar(), &nothing).unwrap())
    }

    #[test]
    fn weekday_template_alone_ignores_the_national_day_holiday() {
        let weekdays = [
            "09-21", "09-22", "09-23", "09-24", "09-25", "09-28", "09-29", "09-30", "10-01",
            "10-02", "10-05", "10-06", "10-07", "10-08", "10-09",
        ];
        let days: Vec<_> = weekdays.iter().map(|day| (*day, EARLY)).collect();
        assert_eq!(national_day(HolidayRule::default()), expected(1, &days));
    }

    #[test]
    fn holidays_get_the_rest_shift_and_makeup_weekends_the_work_shift() {
        let both = national_day(HolidayRule {
            rest_on_holidays: Some(REST),
            work_on_makeup_days: Some(MAKEUP),
        });
        assert_eq!(
            both,
            expected(
                1,
                &[
                    // 09-19 Saturday: an ordinary weekend, left empty.
                    ("09-20", MAKEUP),
                    ("09-21", EARLY),
                    ("09-22", EARLY),
                    ("09-23", EARLY),
                    ("09-24", EARLY),
                    ("09-25", REST),
                    ("09-26", REST),
                    ("09-27", REST),
                    ("09-28", EARLY),
                    ("09-29", EARLY),
                    ("09-30", EARLY),
                    ("10-01", REST),
                    ("10-02", REST),
                    ("10-03", REST),
                    ("10-04", REST),
                    ("10-05", REST),
                    ("10-06", REST),
                    ("10-07", REST),
                    ("10-08", EARLY),
                    ("10-09", EARLY),
                    ("10-10", MAKEUP),
                    // 10-11 Sunday: an ordinary weekend, left empty.
                ]
            )
        );
        let rest_only = national_day(HolidayRule {
            rest_on_holidays: Some(REST),
            work_on_makeup_days: None,
        });
        let without_makeup: Vec<_> = both
            .iter()
            .filter(|(_, _, shift)| *shift != MAKEUP)
            .cloned()
            .collect();
        assert_eq!(rest_only, without_makeup);
        let makeup_only = national_day(HolidayRule {
            rest_on_holidays: None,
            work_on_makeup_days: Some(MAKEUP),
        });
        assert_eq!(makeup_only.len(), 15 + 2);
        assert!(makeup_only.contains(&(1, "10-01".into(), EARLY)));
        assert!(makeup_only.contains(&(1, "10-10".into(), MAKEUP)));
    }

    #[test]
    fn planned_days_say_which_rule_chose_them() {
        let mut request = request(
            users(&[(1, 0)]),
            "2026-10-07",
            "2026-10-10",
            four_team_cycle("2026-10-07"),
        );
        request.holidays = HolidayRule {
            rest_on_holidays: Some(REST),
            work_on_makeup_days: Some(MAKEUP),
        };
        let rules: Vec<_> = plan(&request, &calendar(), &nothing)
            .unwrap()
            .iter()
            .map(|day| (day.date.format("%m-%d").to_string(), day.shift_id, day.rule))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("10-07".into(), REST, PlanRule::HolidayRest),
                ("10-08".into(), EARLY, PlanRule::Pattern),
                ("10-09".into(), MIDDLE, PlanRule::Pattern),
                ("10-10".into(), MAKEUP, PlanRule::MakeUpWork),
            ]
        );
    }

    #[test]
    fn company_days_count_as_holidays_and_makeup_days() {
        let calendar = WorkCalendar::new(
            builtin_years(),
            vec![
                CompanyDay {
                    date: date("2026-03-06"),
                    name: "年会".into(),
                    off_day: true,
                },
                CompanyDay {
                    date: date("2026-03-07"),
                    name: "盘点".into(),
                    off_day: false,
                },
            ],
        );
        let mut request = request(
            users(&[(1, 0)]),
            "2026-03-05",
            "2026-03-08",
            Pattern::Weekdays([Some(EARLY); 7]),
        );
        request.holidays = HolidayRule {
            rest_on_holidays: Some(REST),
            work_on_makeup_days: Some(MAKEUP),
        };
        assert_eq!(
            cells(&plan(&request, &calendar, &nothing).unwrap()),
            expected(
                1,
                &[
                    ("03-05", EARLY),
                    ("03-06", REST),
                    ("03-07", MAKEUP),
                    ("03-08", EARLY),
                ]
            )
        );
    }

    #[test]
    fn existing_entries_are_kept_or_overwritten() {
        let current: HashMap<(i32, NaiveDate), i32> = [
            ((1, date("2026-01-28")), EARLY),  // same as planned
            ((1, date("2026-01-29")), NIGHT),  // differs
            ((2, date("2026-01-29")), MIDDLE), // same as planned
            ((2, date("2026-01-30")), REST),   // differs
        ]
        .into_iter()
        .collect();
        let lookup = |user_id: i32, day: NaiveDate| current.get(&(user_id, day)).copied();
        let mut request = request(
            users(&[(1, 0), (2, 2)]),
            "2026-01-28",
            "2026-01-30",
            four_team_cycle("2026-01-28"),
        );

        let kept = plan(&request, &calendar(), &lookup).unwrap();
        let outcomes: Vec<_> = kept.iter().map(|day| day.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                Outcome::Unchanged,
                Outcome::Kept { previous: NIGHT },
                Outcome::New,
                Outcome::New,
                Outcome::Unchanged,
                Outcome::Kept { previous: REST },
            ]
        );
        assert_eq!(
            summarise(&kept),
            PlanSummary {
                new: 2,
                unchanged: 2,
                replaced: 0,
                kept: 2
            }
        );
        assert_eq!(writes(&kept).count(), 2);

        request.existing = Existing::Overwrite;
        let overwritten = plan(&request, &calendar(), &lookup).unwrap();
        assert_eq!(overwritten[1].outcome, Outcome::Replace { previous: NIGHT });
        assert_eq!(overwritten[5].outcome, Outcome::Replace { previous: REST });
        let summary = summarise(&overwritten);
        assert_eq!(
            (summary.replaced, summary.kept, summary.writes()),
            (2, 0, 4)
        );
        let written: Vec<_> = writes(&overwritten)
            .map(|day| (day.user_id, day.date.format("%m-%d").to_string()))
            .collect();
        assert_eq!(
            written,
            vec![
                (1, "01-29".into()),
                (1, "01-30".into()),
                (2, "01-28".into()),
                (2, "01-30".into()),
            ]
        );
    }

    #[test]
    fn invalid_requests_are_refused_with_the_field_at_fault() {
        let valid = || {
            request(
                users(&[(1, 0), (2, 0)]),
                "2026-01-01",
                "2026-01-31",
                four_team_cycle("2026-01-01"),
            )
        };
        assert!(plan(&valid(), &calendar(), &nothing).is_ok());
        let cases: Vec<(PlanRequest, &str, &str)> = vec![
            (
                PlanRequest {
                    users: vec![],
                    ..valid()
                },
                "users",
                "至少选择一个人员",
            ),
            (
                PlanRequest {
                    users: users(&[(1, 0), (2, 0), (1, 3)]),
                    ..valid()
                },
                "users",
                "用户 1 出现了不止一次",
            ),
            (
                PlanRequest {
                    from: date("2026-02-01"),
                    ..valid()
                },
                "to",
                "结束日期不能早于开始日期",
            ),
            (
                PlanRequest {
                    to: date("2027-01-02"),
                    ..valid()
                },
                "to",
                "日期范围最多 366 天（当前 367 天）",
            ),
            (
                PlanRequest {
                    pattern: Pattern::Rotation {
                        anchor: date("2026-01-01"),
                        cycle: vec![],
                    },
                    ..valid()
                },
                "pattern",
                "轮换周期不能为空",
            ),
            (
                PlanRequest {
                    pattern: Pattern::Rotation {
                        anchor: date("2026-01-01"),
                        cycle: vec![Some(EARLY); 63],
                    },
                    ..valid()
                },
                "pattern",
                "轮换周期最多 62 天（当前 63 天）",
            ),
            (
                PlanRequest {
                    pattern: Pattern::Rotation {
                        anchor: date("2026-01-01"),
                        cycle: vec![None, None],
                    },
                    ..valid()
                },
                "pattern",
                "至少要选择一个班次",
            ),
            (
                PlanRequest {
                    pattern: Pattern::Weekdays([None; 7]),
                    ..valid()
                },
                "pattern",
                "至少要选择一个班次",
            ),
        ];
        for (request, field, message) in cases {
            let error = plan(&request, &calendar(), &nothing).unwrap_err();
            assert_eq!(error.field, field, "{message}");
            assert!(error.message.contains(message), "{}", error.message);
        }
        // The limits themselves are allowed: 366 days, 62 slots.
        assert!(
            plan(
                &PlanRequest {
                    from: date("2024-01-01"), // a leap year: 366 days
                    to: date("2024-12-31"),
                    ..valid()
                },
                &calendar(),
                &nothing
            )
            .is_ok()
        );
        assert!(
            plan(
                &PlanRequest {
                    pattern: Pattern::Rotation {
                        anchor: date("2026-01-01"),
                        cycle: vec![Some(EARLY); 62],
                    },
                    ..valid()
                },
                &calendar(),
                &nothing
            )
            .is_ok()
        );
    }

    #[test]
    fn an_empty_pattern_may_still_mark_holidays() {
        let mut request = request(
            users(&[(1, 0)]),
            "2026-09-28",
            "2026-10-11",
            Pattern::Weekdays([None; 7]),
        );
        request.holidays.rest_on_holidays = Some(REST);
        let planned = plan(&request, &calendar(), &nothing).unwrap();
        assert_eq!(planned.len(), 7);
        assert!(planned.iter().all(|day| day.shift_id == REST));
    }

    #[test]
    fn a_full_year_for_ten_users_is_planned_in_the_order_given() {
        let team: Vec<PlanUser> = (0..10)
            .map(|k| PlanUser {
                user_id: 100 - k * 7,
                offset: u32::try_from(k).unwrap(),
            })
            .collect();
        let request = PlanRequest {
            holidays: HolidayRule {
                rest_on_holidays: Some(REST),
                work_on_makeup_days: Some(MAKEUP),
            },
            ..request(
                team.clone(),
                "2024-02-01",
                "2025-01-31",
                four_team_cycle("2024-01-01"),
            )
        };
        assert_eq!(request.day_count(), 366);
        let planned = plan(&request, &calendar(), &nothing).unwrap();
        assert_eq!(planned.len(), 366 * 10);
        for (k, rows) in planned.chunks(366).enumerate() {
            assert!(rows.iter().all(|day| day.user_id == team[k].user_id));
            assert!(rows.windows(2).all(|pair| pair[0].date < pair[1].date));
            assert_eq!(rows[0].date, date("2024-02-01"));
            assert_eq!(rows[365].date, date("2025-01-31"));
        }
        assert_eq!(summarise(&planned).new, 3660);
        assert_eq!(writes(&planned).count(), 3660);
    }

    #[test]
    fn requests_and_plans_travel_as_json() {
        let request = PlanRequest {
            holidays: HolidayRule {
                rest_on_holidays: Some(REST),
                work_on_makeup_days: None,
            },
            ..request(
                users(&[(1, 3)]),
                "2026-01-01",
                "2026-01-02",
                Pattern::Weekdays([Some(EARLY), None, None, None, None, None, Some(REST)]),
            )
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["pattern"]["weekdays"][0], 1);
        assert_eq!(json["existing"], "keep");
        assert_eq!(
            serde_json::from_value::<PlanRequest>(json).unwrap(),
            request
        );
        let rotation = four_team_cycle("2026-01-01");
        let json = serde_json::to_value(&rotation).unwrap();
        assert_eq!(json["rotation"]["anchor"], "2026-01-01");
        assert_eq!(serde_json::from_value::<Pattern>(json).unwrap(), rotation);
        assert_eq!(
            serde_json::to_value(Outcome::Replace { previous: 3 }).unwrap(),
            serde_json::json!({"kind": "replace", "previous": 3})
        );
        let minimal: PlanRequest = serde_json::from_str(
            r#"{"users":[{"user_id":1}],"from":"2026-01-01","to":"2026-01-01",
                "pattern":{"weekdays":[1,1,1,1,1,null,null]}}"#,
        )
        .unwrap();
        assert_eq!(minimal.existing, Existing::Keep);
        assert_eq!(minimal.holidays, HolidayRule::default());
        assert_eq!(minimal.users[0].offset, 0);
    }
}
