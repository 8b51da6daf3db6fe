//! Server functions for shifts, schedules, the calendar and holidays: who is asking, then
//! the same service the REST API calls.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::domain::period::Span;
use crate::domain::plan::PlanRequest;
use crate::wire::{
    BatchPreview, CalendarData, CompanyDayInput, HolidayEntry, HolidayYearView, NewShift,
    ScheduleWrite, ShiftPatch, ShiftRemoval, ShiftView, TeamMember, WriteSummary,
};

#[cfg(feature = "ssr")]
use crate::ssr::server_fn as server;

/// One calendar period in one request, around `anchor` (default today): a person's
/// (`user_id`, default the caller) or the team's (`team`, admins).
#[server(prefix = "/api/fn", endpoint = "load_calendar", input = Json)]
pub async fn load_calendar(
    anchor: Option<NaiveDate>,
    span: Span,
    user_id: Option<i32>,
    team: bool,
) -> Result<CalendarData, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            crate::ssr::schedules::calendar(&services, &actor, anchor, span, user_id, team).await
        },
    )
    .await
}

/// Writes a batch of calendar edits, all or nothing.
#[server(prefix = "/api/fn", endpoint = "save_schedule", input = Json)]
pub async fn save_schedule(items: Vec<ScheduleWrite>) -> Result<WriteSummary, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::schedules::write(&services, &actor, &meta, items).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "list_shifts", input = Json)]
pub async fn list_shifts(include_archived: bool) -> Result<Vec<ShiftView>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::shifts::list(&services, &actor, include_archived).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "create_shift", input = Json)]
pub async fn create_shift(shift: NewShift) -> Result<ShiftView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::shifts::create(&services, &actor, &meta, shift).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "update_shift", input = Json)]
pub async fn update_shift(id: i32, patch: ShiftPatch) -> Result<ShiftView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::shifts::update(&services, &actor, &meta, id, patch).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "remove_shift", input = Json)]
pub async fn remove_shift(id: i32) -> Result<ShiftRemoval, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::shifts::remove(&services, &actor, &meta, id).await },
    )
    .await
}

/// A year's listed days; `None` is the current year in the server's time zone.
#[server(prefix = "/api/fn", endpoint = "holiday_year", input = Json)]
pub async fn holiday_year(year: Option<i32>) -> Result<HolidayYearView, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::holidays::list_year(&services, &actor, year).await },
    )
    .await
}

/// Imports a holiday-cn year file (its text, read by the browser).
#[server(prefix = "/api/fn", endpoint = "import_holiday_file", input = Json)]
pub async fn import_holiday_file(text: String) -> Result<HolidayYearView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::holidays::import(&services, &actor, &meta, &text).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "save_company_day", input = Json)]
pub async fn save_company_day(day: CompanyDayInput) -> Result<HolidayEntry, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::holidays::set_company_day(&services, &actor, &meta, day).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "remove_company_day", input = Json)]
pub async fn remove_company_day(date: NaiveDate) -> Result<(), AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::holidays::remove_company_day(&services, &actor, &meta, date).await
        },
    )
    .await
}

/// Active users, for pickers (admins only).
#[server(prefix = "/api/fn", endpoint = "list_members", input = Json)]
pub async fn list_members() -> Result<Vec<TeamMember>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::schedules::members(&services, &actor).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "preview_batch", input = Json)]
pub async fn preview_batch(request: PlanRequest) -> Result<BatchPreview, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::batch::preview(&services, &actor, &request).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "commit_batch", input = Json)]
pub async fn commit_batch(request: PlanRequest) -> Result<WriteSummary, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::batch::commit(&services, &actor, &meta, &request).await },
    )
    .await
}

/// Whether the caller has a calendar subscription.
#[server(prefix = "/api/fn", endpoint = "calendar_feed_status", input = Json)]
pub async fn calendar_feed_status() -> Result<bool, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::exists(&services, &actor, id).await
        },
    )
    .await
}

/// Creates a new subscription path for the caller (the old one stops working).
#[server(prefix = "/api/fn", endpoint = "reset_calendar_feed", input = Json)]
pub async fn reset_calendar_feed() -> Result<String, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::reset(&services, &actor, &meta, id).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "revoke_calendar_feed", input = Json)]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::revoke(&services, &actor, &meta, id).await
        },
    )
    .await
}
