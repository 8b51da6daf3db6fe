//! Server functions for shifts, schedules, the calendar and holidays: who is asking, then
//! the same service the REST API calls.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::types::{
    BatchPreview, CalendarData, CompanyDayInput, HolidayEntry, HolidayYearView, NewShift,
    ScheduleWrite, ShiftPatch, ShiftRemoval, ShiftView, TeamMember, WriteSummary,
};
use crate::AppError;
use crate::domain::period::Span;
use crate::domain::plan::PlanRequest;

#[cfg(feature = "ssr")]
mod server {
    pub use crate::ssr::auth::{request_meta, session_actor};
    pub use crate::ssr::{Services, respond};

    pub fn services() -> Services {
        leptos::prelude::expect_context::<Services>()
    }
}

/// One calendar period in one request, around `anchor` (default today): a person's
/// (`user_id`, default the caller) or the team's (`team`, admins).
#[server(prefix = "/api/fn", endpoint = "load_calendar", input = Json)]
pub async fn load_calendar(
    anchor: Option<NaiveDate>,
    span: Span,
    user_id: Option<i32>,
    team: bool,
) -> Result<CalendarData, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            crate::ssr::schedules::calendar(
                &server::services(),
                &actor,
                anchor,
                span,
                user_id,
                team,
            )
            .await
        }
        .await,
    )
}

/// Writes a batch of calendar edits, all or nothing.
#[server(prefix = "/api/fn", endpoint = "save_schedule", input = Json)]
pub async fn save_schedule(items: Vec<ScheduleWrite>) -> Result<WriteSummary, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::schedules::write(&server::services(), &actor, &meta, items).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "list_shifts", input = Json)]
pub async fn list_shifts(include_archived: bool) -> Result<Vec<ShiftView>, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            crate::ssr::shifts::list(&server::services(), &actor, include_archived).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_shift", input = Json)]
pub async fn create_shift(shift: NewShift) -> Result<ShiftView, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::shifts::create(&server::services(), &actor, &meta, shift).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "update_shift", input = Json)]
pub async fn update_shift(id: i32, patch: ShiftPatch) -> Result<ShiftView, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::shifts::update(&server::services(), &actor, &meta, id, patch).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_shift", input = Json)]
pub async fn remove_shift(id: i32) -> Result<ShiftRemoval, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::shifts::remove(&server::services(), &actor, &meta, id).await
        }
        .await,
    )
}

/// A year's listed days; `None` is the current year in the server's time zone.
#[server(prefix = "/api/fn", endpoint = "holiday_year", input = Json)]
pub async fn holiday_year(year: Option<i32>) -> Result<HolidayYearView, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            crate::ssr::holidays::list_year(&server::services(), &actor, year).await
        }
        .await,
    )
}

/// Imports a holiday-cn year file (its text, read by the browser).
#[server(prefix = "/api/fn", endpoint = "import_holiday_file", input = Json)]
pub async fn import_holiday_file(text: String) -> Result<HolidayYearView, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::holidays::import(&server::services(), &actor, &meta, &text).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "save_company_day", input = Json)]
pub async fn save_company_day(day: CompanyDayInput) -> Result<HolidayEntry, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::holidays::set_company_day(&server::services(), &actor, &meta, day).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_company_day", input = Json)]
pub async fn remove_company_day(date: NaiveDate) -> Result<(), AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::holidays::remove_company_day(&server::services(), &actor, &meta, date).await
        }
        .await,
    )
}

/// Active users, for pickers (admins only).
#[server(prefix = "/api/fn", endpoint = "list_members", input = Json)]
pub async fn list_members() -> Result<Vec<TeamMember>, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            crate::ssr::schedules::members(&server::services(), &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "preview_batch", input = Json)]
pub async fn preview_batch(request: PlanRequest) -> Result<BatchPreview, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            crate::ssr::batch::preview(&server::services(), &actor, &request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "commit_batch", input = Json)]
pub async fn commit_batch(request: PlanRequest) -> Result<WriteSummary, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            crate::ssr::batch::commit(&server::services(), &actor, &meta, &request).await
        }
        .await,
    )
}

/// Whether the caller has a calendar subscription.
#[server(prefix = "/api/fn", endpoint = "calendar_feed_status", input = Json)]
pub async fn calendar_feed_status() -> Result<bool, AppError> {
    server::respond(
        async move {
            let actor = server::session_actor().await?;
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::exists(&server::services(), &actor, id).await
        }
        .await,
    )
}

/// Creates a new subscription path for the caller (the old one stops working).
#[server(prefix = "/api/fn", endpoint = "reset_calendar_feed", input = Json)]
pub async fn reset_calendar_feed() -> Result<String, AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::reset(&server::services(), &actor, &meta, id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_calendar_feed", input = Json)]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    server::respond(
        async move {
            let meta = server::request_meta().await;
            let actor = server::session_actor().await?;
            let id = actor.require_user()?.id;
            crate::ssr::calendar_feed::revoke(&server::services(), &actor, &meta, id).await
        }
        .await,
    )
}
