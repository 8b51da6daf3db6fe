//! Answers for API paths that do not exist: JSON for programs, not the HTML 404 page.

use axum::Json;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

pub async fn api_not_found(uri: Uri) -> (StatusCode, Json<Value>) {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "error": "not_found",
            "message": format!("no API endpoint at {}", uri.path()),
        })),
    )
}
