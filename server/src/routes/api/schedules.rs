//! `/api/v1/schedules`: read a range, write a batch all-or-nothing, import and export
//! files.

use app::AppError;
use app::domain::schedule_file::FileFormat;
use app::ssr::auth::RequestMeta;
use app::ssr::{Services, schedule_import, schedules};
use app::wire::{ImportReport, ScheduleEntry, ScheduleQuery, ScheduleWrite, WriteSummary};
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::extract::{ApiActor, ApiJsonList, ApiQuery, MAX_UPLOAD_BYTES};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors, UploadErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// Schedule entries in a range (at most 366 days). Members get their own; admins anyone's,
/// or everyone's without `user_id`.
#[utoipa::path(
    get,
    path = "/api/v1/schedules",
    tag = "schedules",
    params(ScheduleQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Vec<ScheduleEntry>),
    )
)]
pub async fn list_schedules(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<ScheduleQuery>,
) -> Result<Json<Vec<ScheduleEntry>>, ApiError> {
    Ok(Json(schedules::list(&services, &actor, &query).await?))
}

/// Creates, changes or clears (`shift_id: null`) entries in one transaction: either every
/// item is applied or none. Members may write only their own schedule. An item naming an
/// unknown user or shift, or the same user and date twice, is a 422 whose `field` names
/// the item (`[3].shift_id`).
#[utoipa::path(
    put,
    path = "/api/v1/schedules",
    tag = "schedules",
    request_body = Vec<ScheduleWrite>,
    responses(
        NotFoundErrors,
        AuthErrors,
        JsonErrors,
        (status = 200, body = WriteSummary),
    )
)]
pub async fn put_schedules(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiJsonList(items): ApiJsonList<ScheduleWrite>,
) -> Result<Json<WriteSummary>, ApiError> {
    Ok(Json(
        schedules::write(&services, &actor, &meta, items).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv`, `xlsx` or `datajson` (the original system's `data.json`).
    #[param(pattern = "^(csv|xlsx|datajson)$")]
    pub format: String,
    /// `true` (the default): only preview; `false`: write, if no row has an error.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// For `datajson`: whose schedule the file is (default: the caller).
    #[serde(default)]
    pub user_id: Option<i32>,
    /// The original file name, kept with the stored copy.
    #[serde(default)]
    pub filename: Option<String>,
}

/// Imports schedules from a file sent as the request body or as the multipart field
/// `file`. Answers the per-row preview; with `dry_run=false` and no bad row, everything is
/// written in one transaction (a single bad row writes nothing: 422 naming it).
#[utoipa::path(
    post,
    path = "/api/v1/schedules/import",
    tag = "schedules",
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file: CSV (UTF-8 or GBK), XLSX or data.json"),
    responses(
        NotFoundErrors,
        AuthErrors,
        InvalidErrors,
        UploadErrors,
        (status = 200, body = ImportReport),
        (status = 422, description = "The file cannot be read, or (when writing) a row is bad", body = ErrorBody),
    )
)]
pub async fn import_schedules(
    State(services): State<Services>,
    Extension(meta): Extension<RequestMeta>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<ImportQuery>,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    let format: FileFormat = query
        .format
        .parse()
        .map_err(|error: app::domain::InvalidValue| {
            ApiError(AppError::invalid("format", error.expected))
        })?;
    let (bytes, part_name) = upload_body(request).await?;
    let file_name = query.filename.or(part_name);
    let upload = schedule_import::Upload {
        format,
        bytes: &bytes,
        dry_run: query.dry_run.unwrap_or(true),
        user_id: query.user_id,
        file_name: file_name.as_deref(),
    };
    Ok(Json(
        schedule_import::import(&services, &actor, &meta, upload).await?,
    ))
}

/// The file from a raw body, or from the multipart field `file` (and its file name).
async fn upload_body(request: Request) -> Result<(Bytes, Option<String>), ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let too_large = || {
        ApiError(AppError::invalid(
            "file",
            format!("文件不能超过 {} MiB", MAX_UPLOAD_BYTES / 1024 / 1024),
        ))
    };
    if !is_multipart {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_UPLOAD_BYTES)
            .await
            .map_err(|_| too_large())?;
        return Ok((bytes, None));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|error| {
            ApiError(AppError::invalid(
                "file",
                format!("无法读取上传内容：{error}"),
            ))
        })?;
    while let Some(field) = multipart.next_field().await.map_err(|error| {
        ApiError(AppError::invalid(
            "file",
            format!("无法读取上传内容：{error}"),
        ))
    })? {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|_| too_large())?;
            return Ok((bytes, name));
        }
    }
    Err(ApiError(AppError::invalid(
        "file",
        "缺少名为 file 的文件字段",
    )))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[param(value_type = String, format = Date)]
    pub from: chrono::NaiveDate,
    #[param(value_type = String, format = Date)]
    pub to: chrono::NaiveDate,
    /// One user's schedule; admins get everyone's without it, members their own.
    #[serde(default)]
    pub user_id: Option<i32>,
}

/// A CSV of a range (at most 366 days) with the import's columns
/// (`date,username,shift,note`), so an export can be edited and imported back.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/export",
    tag = "schedules",
    params(ExportQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, description = "UTF-8 CSV with BOM", content_type = "text/csv", body = String),
    )
)]
pub async fn export_schedules(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let csv =
        schedule_import::export_csv(&services, &actor, query.from, query.to, query.user_id).await?;
    let disposition = format!(
        "attachment; filename=\"schedules-{}-{}.csv\"",
        query.from, query.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
