//! The working-day calendar: built-in statutory data, years imported at run time (which
//! replace the built-in data of the same year), and company-specific days.
//!
//! The calendar is read from the database for each request rather than cached, so two
//! server processes sharing a database never disagree after an import.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::{self, AuditEvent};
use super::auth::{Actor, RequestMeta};
use super::entity::{company_day, holiday_day};
use crate::AppError;
use crate::domain::audit::AuditKind;
use crate::domain::holiday::{
    CompanyDay, HolidayDay, HolidayYear, WorkCalendar, Workday, WorkdayReason, builtin_years,
    parse_holiday_cn,
};
use crate::wire::{CompanyDayInput, HolidayEntry, HolidayYearView, WorkdayView};

static BUILTIN: LazyLock<Vec<HolidayYear>> = LazyLock::new(builtin_years);

const NAME_MAX_CHARS: usize = 32;

/// The statutory years in effect: imported years replace built-in ones.
async fn statutory_years(db: &impl ConnectionTrait) -> Result<Vec<HolidayYear>, AppError> {
    let imported = holiday_day::Entity::find()
        .order_by_asc(holiday_day::Column::Date)
        .all(db)
        .await?;
    let imported_years: BTreeSet<i32> = imported.iter().map(|day| day.year).collect();
    let mut years: Vec<HolidayYear> = BUILTIN
        .iter()
        .filter(|year| !imported_years.contains(&year.year))
        .cloned()
        .collect();
    for year in imported_years {
        years.push(HolidayYear {
            year,
            days: imported
                .iter()
                .filter(|day| day.year == year)
                .map(|day| HolidayDay {
                    date: day.date,
                    name: day.name.clone(),
                    off_day: day.off_day,
                })
                .collect(),
        });
    }
    Ok(years)
}

async fn company_days(db: &impl ConnectionTrait) -> Result<Vec<CompanyDay>, AppError> {
    Ok(company_day::Entity::find()
        .order_by_asc(company_day::Column::Date)
        .all(db)
        .await?
        .into_iter()
        .map(|day| CompanyDay {
            date: day.date,
            name: day.name,
            off_day: day.off_day,
        })
        .collect())
}

/// The calendar as it stands in the database now.
pub async fn calendar(db: &impl ConnectionTrait) -> Result<WorkCalendar, AppError> {
    Ok(WorkCalendar::new(
        statutory_years(db).await?,
        company_days(db).await?,
    ))
}

pub fn workday_view(workday: &Workday) -> WorkdayView {
    let (reason, name) = match &workday.reason {
        WorkdayReason::Weekday => ("weekday", None),
        WorkdayReason::Weekend => ("weekend", None),
        WorkdayReason::StatutoryHoliday { name } => ("statutory_holiday", Some(name)),
        WorkdayReason::MakeUpWorkday { name } => ("make_up_workday", Some(name)),
        WorkdayReason::CompanyOffDay { name } => ("company_off_day", Some(name)),
        WorkdayReason::CompanyWorkday { name } => ("company_workday", Some(name)),
    };
    WorkdayView {
        date: workday.date,
        working: workday.working,
        reason: reason.to_owned(),
        label: workday.reason_label(),
        name: name.cloned(),
        estimated: workday.estimated,
    }
}

/// `GET /api/v1/workdays`: every date of the range with its verdict.
pub async fn workdays(
    services: &Services,
    _actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<WorkdayView>, AppError> {
    super::schedules::check_range(from, to)?;
    let calendar = calendar(&services.db).await?;
    Ok(from
        .iter_days()
        .take_while(|date| *date <= to)
        .map(|date| workday_view(&calendar.workday(date)))
        .collect())
}

/// The listed days of one year (default: the current one in `TIMEZONE`): statutory
/// (built in or imported) and company days.
pub async fn list_year(
    services: &Services,
    _actor: &Actor,
    year: Option<i32>,
) -> Result<HolidayYearView, AppError> {
    let year = year.unwrap_or_else(|| services.today().year());
    if !(2000..=2100).contains(&year) {
        return Err(AppError::invalid("year", "应为 2000–2100 之间的年份"));
    }
    let imported = holiday_day::Entity::find()
        .filter(holiday_day::Column::Year.eq(year))
        .order_by_asc(holiday_day::Column::Date)
        .all(&services.db)
        .await?;
    let (source, statutory): (&str, Vec<HolidayDay>) = if !imported.is_empty() {
        (
            "imported",
            imported
                .into_iter()
                .map(|day| HolidayDay {
                    date: day.date,
                    name: day.name,
                    off_day: day.off_day,
                })
                .collect(),
        )
    } else if let Some(builtin) = BUILTIN.iter().find(|builtin| builtin.year == year) {
        ("builtin", builtin.days.clone())
    } else {
        ("none", Vec::new())
    };
    let mut days: Vec<HolidayEntry> = statutory
        .into_iter()
        .map(|day| HolidayEntry {
            date: day.date,
            name: day.name,
            off_day: day.off_day,
            source: "statutory".to_owned(),
        })
        .collect();
    days.extend(
        company_days(&services.db)
            .await?
            .into_iter()
            .filter(|day| day.date.year() == year)
            .map(|day| HolidayEntry {
                date: day.date,
                name: day.name,
                off_day: day.off_day,
                source: "company".to_owned(),
            }),
    );
    days.sort_by(|a, b| a.date.cmp(&b.date).then(a.source.cmp(&b.source)));
    Ok(HolidayYearView {
        year,
        has_statutory_data: source != "none",
        statutory_source: source.to_owned(),
        days,
    })
}

/// Imports one year in the holiday-cn format, replacing that year's data in one
/// transaction. Admins only.
pub async fn import(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    json: &str,
) -> Result<HolidayYearView, AppError> {
    actor.require_admin()?;
    let parsed =
        parse_holiday_cn(json).map_err(|error| AppError::invalid("file", error.to_string()))?;
    let txn = services.begin_write().await?;
    holiday_day::Entity::delete_many()
        .filter(holiday_day::Column::Year.eq(parsed.year))
        .exec(&txn)
        .await?;
    let count = parsed.days.len();
    for chunk in parsed.days.chunks(200) {
        holiday_day::Entity::insert_many(chunk.iter().map(|day| holiday_day::ActiveModel {
            date: Set(day.date),
            year: Set(parsed.year),
            name: Set(day.name.clone()),
            off_day: Set(day.off_day),
        }))
        .exec(&txn)
        .await?;
    }
    let off = parsed.days.iter().filter(|day| day.off_day).count();
    audit::record(
        &txn,
        services.clock.now(),
        AuditEvent::by(actor, AuditKind::HolidaysImported, meta)
            .about(&parsed.year.to_string())
            .detail(format!(
                "{count} 天：{off} 天休息，{} 天调休上班",
                count - off
            )),
    )
    .await?;
    txn.commit().await?;
    list_year(services, actor, Some(parsed.year)).await
}

fn company_day_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "不能为空"));
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            format!("最多 {NAME_MAX_CHARS} 个字符，不能包含控制字符"),
        ));
    }
    Ok(name.to_owned())
}

/// Adds or replaces a company day. Admins only.
pub async fn set_company_day(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    input: CompanyDayInput,
) -> Result<HolidayEntry, AppError> {
    actor.require_admin()?;
    let name = company_day_name(&input.name)?;
    let txn = services.begin_write().await?;
    let before = company_day::Entity::find_by_id(input.date)
        .one(&txn)
        .await?;
    let row = company_day::ActiveModel {
        date: Set(input.date),
        name: Set(name.clone()),
        off_day: Set(input.off_day),
    };
    if before.is_some() {
        company_day::Entity::update(row).exec(&txn).await?;
    } else {
        company_day::Entity::insert(row).exec(&txn).await?;
    }
    let describe =
        |name: &str, off_day: bool| format!("{name}（{}）", if off_day { "休息" } else { "上班" });
    let detail = match &before {
        Some(before) => format!(
            "{} → {}",
            describe(&before.name, before.off_day),
            describe(&name, input.off_day)
        ),
        None => describe(&name, input.off_day),
    };
    audit::record(
        &txn,
        services.clock.now(),
        AuditEvent::by(actor, AuditKind::CompanyDayChanged, meta)
            .about(&input.date.to_string())
            .detail(detail),
    )
    .await?;
    txn.commit().await?;
    Ok(HolidayEntry {
        date: input.date,
        name,
        off_day: input.off_day,
        source: "company".to_owned(),
    })
}

/// Removes a company day. Admins only.
pub async fn remove_company_day(
    services: &Services,
    actor: &Actor,
    meta: &RequestMeta,
    date: NaiveDate,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let txn = services.begin_write().await?;
    let before = company_day::Entity::find_by_id(date)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("公司日 {date}")))?;
    company_day::Entity::delete_by_id(date).exec(&txn).await?;
    audit::record(
        &txn,
        services.clock.now(),
        AuditEvent::by(actor, AuditKind::CompanyDayChanged, meta)
            .about(&date.to_string())
            .detail(format!("删除 {}", before.name)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
