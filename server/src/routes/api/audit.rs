//! `GET /api/v1/audit`: the audit log (admins only).

use app::ssr::{Services, audit};
use app::wire::{AuditEntry, AuditQuery, Page};
use axum::Json;
use axum::extract::State;

use super::extract::{ApiActor, ApiQuery};
use super::responses::{AuthErrors, InvalidErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// Audit log entries, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Page<AuditEntry>),
        (status = 422, description = "A bad date or paging value", body = ErrorBody),
    )
)]
pub async fn list_audit(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    Ok(Json(audit::list(&services, &actor, &query).await?))
}
