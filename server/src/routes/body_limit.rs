//! How much of a request body we are willing to read, decided before any of it is read.
//!
//! Every body is small (`MAX_BODY_BYTES`) unless the route is one of the upload routes below
//! *and* the caller presents credentials; an anonymous client can never make us buffer
//! more than that, however many connections it opens. The limit is enforced while the
//! body streams (a chunked body has no length to check up front), and large bodies are
//! read by at most `MAX_CONCURRENT_UPLOADS` requests at a time.

use std::sync::Arc;

use app::ssr::auth::AuthSession;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;
use tokio::sync::Semaphore;

use super::error::ApiError;

/// Any body on any route, including sign-in and every JSON endpoint.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Schedule files and batch writes of up to 50,000 rows.
pub const MAX_UPLOAD_BYTES: usize = app::domain::MAX_UPLOAD_FILE_BYTES;
/// A holiday file (at most `HOLIDAY_FILE_MAX_BYTES`, checked by its parser) arrives as
/// JSON text inside the page's JSON request: twice the file leaves room for escaping, so a
/// file just over its own limit gets the parser's clear answer, not a cut connection.
pub const MAX_HOLIDAY_BODY_BYTES: usize =
    2 * app::domain::holiday::HOLIDAY_FILE_MAX_BYTES + 4 * 1024;
/// Bodies over `MAX_BODY_BYTES` read at once; the rest are told to come back rather than
/// queued in memory.
pub const MAX_CONCURRENT_UPLOADS: usize = 4;

/// The routes that accept more than `MAX_BODY_BYTES`, for signed-in callers only.
const LARGE_BODY_ROUTES: &[(Method, &str, usize)] = &[
    (Method::PUT, "/api/v1/schedules", MAX_UPLOAD_BYTES),
    (Method::POST, "/api/v1/schedules/import", MAX_UPLOAD_BYTES),
    (
        Method::POST,
        "/api/v1/holidays/import",
        MAX_HOLIDAY_BODY_BYTES,
    ),
    (Method::POST, "/api/fn/save_schedule", MAX_UPLOAD_BYTES),
    (Method::POST, "/api/fn/preview_batch", MAX_UPLOAD_BYTES),
    (Method::POST, "/api/fn/commit_batch", MAX_UPLOAD_BYTES),
    (
        Method::POST,
        "/api/fn/import_holiday_file",
        MAX_HOLIDAY_BODY_BYTES,
    ),
];

/// The permits for reading large bodies.
#[derive(Clone)]
pub struct UploadSlots(Arc<Semaphore>);

impl Default for UploadSlots {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(MAX_CONCURRENT_UPLOADS)))
    }
}

/// The body limit for a request: the route's upload limit when the caller presents a
/// session or a bearer token (checked by the handler before it reads the body), else the
/// small one.
fn limit_for(request: &Request) -> usize {
    let route_limit = LARGE_BODY_ROUTES
        .iter()
        .find(|(method, path, _)| request.method() == method && request.uri().path() == *path)
        .map(|(_, _, limit)| *limit);
    let Some(route_limit) = route_limit else {
        return MAX_BODY_BYTES;
    };
    let signed_in = request
        .extensions()
        .get::<AuthSession>()
        .is_some_and(|session| session.user.is_some());
    let is_rest = request.uri().path().starts_with("/api/v1/");
    let bearer = is_rest && request.headers().contains_key(header::AUTHORIZATION);
    if signed_in || bearer {
        route_limit
    } else {
        MAX_BODY_BYTES
    }
}

fn too_large(limit: usize) -> Response {
    let size = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / 1024 / 1024)
    } else {
        format!("{} KiB", limit / 1024)
    };
    ApiError::custom(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("请求体不能超过 {size}"),
        None,
    )
}

/// Refuses a declared length over the limit at once and caps the stream otherwise.
pub async fn limit_body(
    State(slots): State<UploadSlots>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limit_for(&request);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    // Only a body that may be large takes a slot: one declared over the small limit, or
    // one streamed without a length. A one-row batch write is not an upload.
    let may_be_large = declared.is_none_or(|length| length > MAX_BODY_BYTES as u64);
    let permit = if limit > MAX_BODY_BYTES && may_be_large {
        match slots.0.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let mut response = ApiError::custom(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!("同时最多处理 {MAX_CONCURRENT_UPLOADS} 个上传，请稍后重试"),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                return response;
            }
        }
    } else {
        None
    };
    let request = request.map(|body| Body::new(Limited::new(body, limit)));
    let response = next.run(request).await;
    drop(permit);
    let is_plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && is_plain_text {
        // axum's own 413 text is English and generic; name our bound instead.
        return too_large(limit);
    }
    response
}
