//! Answers for API paths that do not exist: JSON for programs, not the HTML 404 page.

use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::error::ApiError;

pub async fn api_not_found(uri: Uri) -> Response {
    ApiError::custom(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no API endpoint at {}", uri.path()),
        None,
    )
}
