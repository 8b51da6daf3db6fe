//! Extractors for the REST API: the caller (`ApiActor`), JSON bodies and query strings
//! whose errors name the offending field.

use app::AppError;
use app::ssr::access_tokens::{self, BearerRefusal};
use app::ssr::auth::{Actor, AuthSession, RequestMeta};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::super::AppState;
use super::super::error::ApiError;

pub use super::super::body_limit::{MAX_BODY_BYTES, MAX_UPLOAD_BYTES};

/// The caller of a REST endpoint: `Authorization: Bearer <token>` (a personal access token,
/// acting for its owner within its scope, or the installation's `API_TOKEN`, a service
/// account with admin rights) or the session cookie. A present but wrong bearer token is
/// refused even when a session exists, so a misconfigured script fails loudly.
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
                .map(str::trim)
                .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_CHARS);
            let Some(presented) = presented else {
                return Err(unauthorized("Authorization 头应为 “Bearer <令牌>”"));
            };
            let meta = parts
                .extensions
                .get::<RequestMeta>()
                .cloned()
                .unwrap_or_default();
            let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            return match access_tokens::authenticate(&state.services, presented, &meta, writes)
                .await
            {
                Ok(actor) => Ok(Self(actor)),
                Err(BearerRefusal::Wrong) => Err(unauthorized("API 令牌不正确、已过期或已吊销")),
                Err(BearerRefusal::NoApiToken) => Err(unauthorized(
                    "服务器未配置 API_TOKEN，且这不是个人访问令牌（dda_pat_…）",
                )),
                Err(BearerRefusal::ReadOnly) => Err(ApiError::custom(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "只读令牌不能修改数据",
                    None,
                )),
                Err(BearerRefusal::Error(error)) => Err(ApiError(error).into_response()),
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

/// Longer bearer values are not tokens of ours; refused before any lookup.
const MAX_TOKEN_CHARS: usize = 512;

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::custom(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"dingding-attendance\""),
    );
    response
}

/// A JSON object body. Malformed JSON is a 400; JSON that is not an object, a field of the
/// wrong type or an unknown field is a 422 naming the field.
pub struct ApiJson<T, const LIMIT: usize = MAX_BODY_BYTES>(pub T);

impl<T: DeserializeOwned, S: Send + Sync, const LIMIT: usize> FromRequest<S> for ApiJson<T, LIMIT> {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        read_json(request, LIMIT, JsonShape::Object).await.map(Self)
    }
}

/// A JSON array body of up to `MAX_UPLOAD_BYTES` (batch writes); errors as `ApiJson`.
pub struct ApiJsonList<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJsonList<T> {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        read_json(request, MAX_UPLOAD_BYTES, JsonShape::Array)
            .await
            .map(Self)
    }
}

/// A JSON object body that may be left out: no body at all, or JSON `null`, is
/// `T::default()` (the document marks such bodies optional and nullable); anything else is
/// read as `ApiJson` reads it.
pub struct ApiJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrEmpty<T> {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        let typed = request.headers().get(header::CONTENT_TYPE).is_some();
        let bytes = read_body(request, MAX_BODY_BYTES, !typed).await?;
        let text = bytes.trim_ascii();
        if text.is_empty() || (typed && text == b"null") {
            return Ok(Self(T::default()));
        }
        if !typed {
            return Err(ApiError::custom(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体应为 JSON（Content-Type: application/json）",
                None,
            ));
        }
        parse_body(&bytes, JsonShape::Object)
            .map(Self)
            .map_err(BodyRejection::into_response)
    }
}

/// What a body must be at its top level. serde reads a struct from an array too
/// (`[null, null]` fills the fields in order), which the document does not allow.
#[derive(Clone, Copy)]
enum JsonShape {
    Object,
    Array,
}

async fn read_json<T: DeserializeOwned>(
    request: Request,
    limit: usize,
    shape: JsonShape,
) -> Result<T, Response> {
    let bytes = read_body(request, limit, false).await?;
    parse_body(&bytes, shape).map_err(BodyRejection::into_response)
}

/// The body, at most `limit` bytes; unless `any_type`, only a JSON one.
async fn read_body(
    request: Request,
    limit: usize,
    any_type: bool,
) -> Result<axum::body::Bytes, Response> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json && !any_type {
        return Err(ApiError::custom(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请求体应为 JSON（Content-Type: application/json）",
            None,
        ));
    }
    // Read at most `limit` bytes: a larger body is refused while it streams in.
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::custom(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("请求体不能超过 {} KiB", limit / 1024),
                None,
            )
        })
}

/// A JSON body of the given shape, read into `T`.
fn parse_body<T: DeserializeOwned>(bytes: &[u8], shape: JsonShape) -> Result<T, BodyRejection> {
    check_shape(bytes, shape)?;
    refuse_nul(bytes)?;
    parse_json(bytes)
}

impl BodyRejection {
    fn into_response(self) -> Response {
        ApiError::custom(self.status, self.code, self.message, self.field)
    }
}

/// Text never contains U+0000 (PostgreSQL cannot store it): a string with one is refused,
/// naming its field. Bodies without the escape are not parsed twice.
fn refuse_nul(bytes: &[u8]) -> Result<(), BodyRejection> {
    if !bytes
        .windows(6)
        .any(|window| window.eq_ignore_ascii_case(b"\\u0000"))
    {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // malformed: the parser says where
    };
    match nul_path(&value) {
        None => Ok(()),
        Some(path) => Err(BodyRejection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: "不能包含 NUL 字符（U+0000）".to_owned(),
            field: Some(if path.is_empty() {
                ".".to_owned()
            } else {
                path
            }),
        }),
    }
}

/// Where the first string (or key) holding U+0000 is, as serde_path_to_error writes paths.
fn nul_path(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(String::new),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            nul_path(item).map(|rest| join_path(&format!("[{index}]"), &rest))
        }),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', "\\u0000"));
            }
            nul_path(item).map(|rest| join_path(key, &rest))
        }),
        _ => None,
    }
}

fn join_path(head: &str, rest: &str) -> String {
    match rest.chars().next() {
        None => head.to_owned(),
        Some('[') => format!("{head}{rest}"),
        Some(_) => format!("{head}.{rest}"),
    }
}

/// Refuses well-formed JSON of the wrong kind at the top level (malformed JSON is left to
/// the parser, which says where it breaks).
fn check_shape(bytes: &[u8], shape: JsonShape) -> Result<(), BodyRejection> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    let (expected, message) = match shape {
        JsonShape::Object => (b'{', "请求体应为 JSON 对象"),
        JsonShape::Array => (b'[', "请求体应为 JSON 数组"),
    };
    match first {
        Some(byte)
            if *byte != expected
                && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
        {
            Err(BodyRejection {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message: message.to_owned(),
                field: None,
            })
        }
        _ => Ok(()),
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
    let parsed = if may_hold_integral_float(bytes) {
        // JSON Schema's integers include `30.0`: read them as the integers they are.
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(mut value) => {
                integral_floats_to_integers(&mut value);
                serde_path_to_error::deserialize(value)
            }
            Err(_) => {
                serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
            }
        }
    } else {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
    };
    parsed.map_err(|error| {
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

/// Whether a number written with a fraction or an exponent may be in the body (a cheap
/// look, so that most bodies are parsed once).
fn may_hold_integral_float(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|pair| pair[0].is_ascii_digit() && matches!(pair[1], b'.' | b'e' | b'E'))
}

/// Numbers like `30.0` or `3e1` become the integers `30`; other floats stay as they are.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                // Exact: |float| < 2^53 and whole.
                #[allow(clippy::cast_possible_truncation)]
                let whole = float as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
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

/// A query string; a missing parameter or one of the wrong type or range is a 422 naming
/// it, like a bad field in a body (400 is kept for bodies that are not JSON at all).
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
                    StatusCode::UNPROCESSABLE_ENTITY,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Counts {
        count: u32,
        ratio: f64,
        items: Vec<i32>,
    }

    #[test]
    fn integers_written_with_a_fraction_are_integers() {
        let read =
            |body: &str| parse_json::<Counts>(body.as_bytes()).map_err(|error| error.message);
        assert_eq!(
            read(r#"{"count": 30.0, "ratio": 0.5, "items": [1e1, -2.0, 3]}"#),
            Ok(Counts {
                count: 30,
                ratio: 0.5,
                items: vec![10, -2, 3]
            })
        );
        // A real fraction stays a fraction, and is refused where an integer is wanted.
        assert!(read(r#"{"count": 30.5, "ratio": 1, "items": []}"#).is_err());
        assert!(!may_hold_integral_float(br#"{"count": 30, "name": "a.b"}"#));
    }

    fn nul_field(body: &str) -> Option<Option<String>> {
        refuse_nul(body.as_bytes())
            .err()
            .map(|rejection| rejection.field)
    }

    #[test]
    fn text_holding_u0000_is_refused_by_its_path() {
        assert_eq!(nul_field(r#"{"name":"ok"}"#), None);
        // An escaped backslash before "u0000" is ordinary text.
        assert_eq!(nul_field(r#"{"name":"a\\u0000"}"#), None);
        assert_eq!(
            nul_field(r#"{"name":"a\u0000"}"#),
            Some(Some("name".into()))
        );
        assert_eq!(
            nul_field(r#"{"items":[{"note":"x"},{"note":"\u0000"}]}"#),
            Some(Some("items[1].note".into()))
        );
        assert_eq!(
            nul_field(r#"[{"a":1},{"b\u0000":2}]"#),
            Some(Some("[1].b\\u0000".into()))
        );
        assert_eq!(nul_field(r#""\u0000""#), Some(Some(".".into())));
        // Malformed JSON is left to the parser.
        assert_eq!(nul_field(r#"{"a":"\u0000"#), None);
    }
}
