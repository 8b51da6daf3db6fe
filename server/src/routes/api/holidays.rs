//! `/api/v1/holidays`, `/api/v1/company-days` and `/api/v1/workdays`: China's statutory
//! holidays and make-up workdays, company days, and the working-day verdict.

use app::ssr::auth::RequestMeta;
use app::ssr::{Services, holidays};
use app::wire::{CompanyDayInput, DateRange, HolidayEntry, HolidayYearView, WorkdayView};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use serde::Deserialize;

use super::extract::{ApiActor, ApiJson, ApiQuery};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors, UploadErrors};
use crate::routes::error::{ApiError, ErrorBody};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// 2000–2100; default: the current year in the server's `TIMEZONE`.
    #[serde(default)]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// The listed days of a year: statutory holidays and make-up workdays, and company days.
#[utoipa::path(
    get,
    path = "/api/v1/holidays",
    tag = "holidays",
    params(YearQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = HolidayYearView),
    )
)]
pub async fn list_holidays(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<YearQuery>,
) -> Result<Json<HolidayYearView>, ApiError> {
    Ok(Json(
        holidays::list_year(&services, &actor, query.year).await?,
    ))
}

/// Imports a year in the holiday-cn format (<https://github.com/NateScarlet/holiday-cn>),
/// replacing that year's statutory data (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/holidays/import",
    tag = "holidays",
    request_body(content = String, content_type = "application/json", description = "A holiday-cn year file"),
    responses(
        AuthErrors,
        UploadErrors,
        (status = 200, body = HolidayYearView),
        (status = 422, description = "The file is not valid holiday-cn data; the message says why", body = ErrorBody),
    )
)]
pub async fn import_holidays(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> Result<Json<HolidayYearView>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError(app::AppError::invalid("file", "文件不是 UTF-8 文本")))?;
    Ok(Json(
        holidays::import(&services, &actor, &meta, text).await?,
    ))
}

/// Adds or replaces a company day off or working day (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/company-days",
    tag = "holidays",
    request_body = CompanyDayInput,
    responses(
        AuthErrors,
        JsonErrors,
        (status = 200, body = HolidayEntry),
    )
)]
pub async fn set_company_day(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<CompanyDayInput>,
) -> Result<Json<HolidayEntry>, ApiError> {
    Ok(Json(
        holidays::set_company_day(&services, &actor, &meta, input).await?,
    ))
}

/// Removes a company day (admins only).
#[utoipa::path(
    delete,
    path = "/api/v1/company-days/{date}",
    tag = "holidays",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 204, description = "Removed"),
    )
)]
pub async fn delete_company_day(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    Path(date): Path<String>,
) -> Result<Response, ApiError> {
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| ApiError(app::AppError::NotFound(format!("公司日 {date}"))))?;
    holidays::remove_company_day(&services, &actor, &meta, date).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Whether each date of a range (at most 366 days) is a working day, and why.
#[utoipa::path(
    get,
    path = "/api/v1/workdays",
    tag = "holidays",
    params(DateRange),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Vec<WorkdayView>),
    )
)]
pub async fn list_workdays(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(range): ApiQuery<DateRange>,
) -> Result<Json<Vec<WorkdayView>>, ApiError> {
    Ok(Json(
        holidays::workdays(&services, &actor, range.from, range.to).await?,
    ))
}
