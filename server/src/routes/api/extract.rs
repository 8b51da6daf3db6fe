//! Extractors for the REST API: the caller (`ApiActor`), JSON bodies and query strings
//! whose errors name the offending field.

use app::AppError;
use app::ssr::auth::{Actor, AuthSession};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::super::AppState;
use super::super::error::ApiError;

/// JSON bodies larger than this are refused before parsing, unless an endpoint allows more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Batch schedule writes and uploads (50,000 rows).
pub const MAX_BATCH_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The caller of a REST endpoint: `Authorization: Bearer <API_TOKEN>` (a service account
/// with admin rights) or the session cookie. A present but wrong bearer token is refused
/// even when a session exists, so a misconfigured script fails loudly.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let presented = authorization
                .to_str()
                .ok()
                .and_then(|value| {
                    value
                        .strip_prefix("Bearer ")
                        .or_else(|| value.strip_prefix("bearer "))
                })
                .map(str::trim);
            let Some(presented) = presented else {
                return Err(unauthorized("Authorization 头应为 “Bearer <API_TOKEN>”"));
            };
            let token = app::ssr::settings::api_token(&state.services)
                .await
                .map_err(|error| ApiError(error).into_response())?;
            return match &token {
                None => Err(unauthorized(
                    "服务器未配置 API_TOKEN，Bearer 令牌认证已关闭",
                )),
                Some(token) if token.matches(presented) => Ok(Self(Actor::ApiToken)),
                Some(_) => Err(unauthorized("API 令牌不正确")),
            };
        }
        let session = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        session
            .user
            .map(|user| Self(Actor::User(user)))
            .ok_or_else(|| ApiError(AppError::Unauthorized).into_response())
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::custom(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"dingding-attendance\""),
    );
    response
}

/// A JSON body. Malformed JSON is a 400; a field of the wrong type or an unknown field is a
/// 422 naming the field.
pub struct ApiJson<T, const LIMIT: usize = MAX_BODY_BYTES>(pub T);

impl<T: DeserializeOwned, S: Send + Sync, const LIMIT: usize> FromRequest<S> for ApiJson<T, LIMIT> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::custom(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体应为 JSON（Content-Type: application/json）",
                None,
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.len() > LIMIT {
            return Err(ApiError::custom(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("请求体不能超过 {} KiB", LIMIT / 1024),
                None,
            ));
        }
        parse_json(&bytes).map(Self).map_err(|rejection| {
            ApiError::custom(
                rejection.status,
                rejection.code,
                rejection.message,
                rejection.field,
            )
        })
    }
}

/// Why a body could not be read, before it becomes a response.
struct BodyRejection {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyRejection> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            BodyRejection {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_json",
                message: format!("请求体不是有效的 JSON：{inner}"),
                field: None,
            }
        } else {
            BodyRejection {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message: describe_serde_error(&inner.to_string()),
                field: (path != ".").then_some(path),
            }
        }
    })
}

/// serde's messages with the position removed (the field is reported separately).
fn describe_serde_error(message: &str) -> String {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    format!("格式不正确：{message}")
}

/// A query string; a parameter of the wrong type is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|error| {
                let path = error.path().to_string();
                ApiError::custom(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    describe_serde_error(&error.into_inner().to_string()),
                    (path != ".").then_some(path),
                )
            })
    }
}

/// A numeric id from the path; anything else is simply "not found". `what` names the
/// kind of thing in the message ("用户", "班次").
pub fn parse_id(raw: &str, what: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError(AppError::NotFound(format!("{what} {raw}"))))
}
