//! Where service errors become HTTP answers: one mapping for the REST API, and the
//! server-function encoding for `/api/fn/*`, so every client gets errors it can read.

use app::AppError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The REST API's error body: `{"error":{"code","message","field"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable name, e.g. `invalid`, `conflict`, `too_many_attempts`.
    pub code: String,
    /// Human-readable explanation (zh-CN).
    pub message: String,
    /// The offending field, for `invalid` and `conflict`.
    pub field: Option<String>,
}

/// A service error on its way out of a REST handler.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl ApiError {
    /// An error that is not one of the services' own (bad JSON, wrong content type).
    pub fn custom(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Response {
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message: message.into(),
                    field,
                },
            }),
        )
            .into_response()
    }
}

fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn with_retry_after(mut response: Response, error: &AppError) -> Response {
    if let Some(retry_after_secs) = error.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    if matches!(
        error,
        AppError::Unauthorized | AppError::InvalidCredentials { .. }
    ) {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"dingding-attendance\""),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let response = Self::custom(
            status_of(&error),
            error.code(),
            error.message(),
            error.field().map(str::to_owned),
        );
        with_retry_after(response, &error)
    }
}

/// An error answered before a request reaches its handler (middleware), encoded for the
/// kind of client that asked.
pub fn reject(path: &str, error: AppError) -> Response {
    if path.starts_with("/api/fn/") {
        let body = serde_json::to_string(&error).unwrap_or_else(|_| "\"Internal\"".to_owned());
        let response = (
            status_of(&error),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        with_retry_after(response, &error)
    } else {
        ApiError(error).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_to_retry_later_say_when() {
        for (error, status) in [
            (
                AppError::TooManyAttempts {
                    retry_after_secs: 600,
                },
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (
                AppError::Busy {
                    retry_after_secs: 1,
                },
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            let seconds = error.retry_after_secs().expect("a wait");
            for response in [
                ApiError(error.clone()).into_response(),
                reject("/api/fn/login", error.clone()),
            ] {
                assert_eq!(response.status(), status);
                assert_eq!(
                    response.headers().get(header::RETRY_AFTER),
                    Some(&HeaderValue::from(seconds))
                );
            }
        }
    }
}
