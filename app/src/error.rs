//! The error services return and the UI sees: serialisable, safe to show, never a raw
//! database message. The REST API maps each variant to a status code and an error code.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("请先登录")]
    Unauthorized,
    /// Wrong username or password; which of the two is never said.
    #[error("{}", invalid_credentials_message(*remaining_attempts))]
    InvalidCredentials { remaining_attempts: Option<u32> },
    /// Too many failed password checks (login, or the current password when changing it).
    #[error("失败次数过多，请 {} 后再试", wait_description(*retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    /// The server cannot take more work of this kind now (the password hashing queue is
    /// full): try again shortly instead of waiting without end.
    #[error("服务器繁忙，请 {} 后重试", wait_description(*retry_after_secs))]
    Busy { retry_after_secs: u64 },
    /// Right password, but an admin deactivated the account.
    #[error("该账号已停用，请联系管理员")]
    AccountDisabled,
    #[error("请先修改初始密码")]
    MustChangePassword,
    #[error("没有权限执行此操作")]
    Forbidden,
    /// Not allowed, with the reason (only the named colleague may accept a swap).
    #[error("{0}")]
    Refused(String),
    /// The installation's API token on an operation about the caller as a person.
    #[error("API 令牌不代表具体用户，请使用会话登录或个人访问令牌")]
    NotAPerson,
    /// A state-changing request that came from another site.
    #[error("请求来源不受信任（跨站请求已拒绝）")]
    CrossOrigin,
    #[error("未找到：{0}")]
    NotFound(String),
    /// A field names a row that does not exist (a user, shift or channel id): answered
    /// 404 like a missing path, with the field.
    #[error("{field}：{message}")]
    Missing { field: String, message: String },
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    /// The request is valid but clashes with what is stored (a taken username, the last
    /// admin).
    #[error("{field}：{message}")]
    Conflict { field: String, message: String },
    /// Details are logged on the server where the error was converted, never sent.
    #[error("服务器内部错误，请稍后重试")]
    Internal,
    /// The request never reached our code (network, decoding): shown as is.
    #[error("请求失败：{0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn missing(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Missing {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with, by the REST API and server functions.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized | Self::InvalidCredentials { .. } => 401,
            Self::TooManyAttempts { .. } => 429,
            Self::MustChangePassword
            | Self::Forbidden
            | Self::Refused(_)
            | Self::NotAPerson
            | Self::CrossOrigin
            | Self::AccountDisabled => 403,
            Self::NotFound(_) | Self::Missing { .. } => 404,
            Self::Invalid { .. } => 422,
            Self::Conflict { .. } => 409,
            Self::Internal => 500,
            Self::Busy { .. } => 503,
            Self::Transport(_) => 502,
        }
    }

    /// A stable machine-readable name for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials { .. } => "invalid_credentials",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::AccountDisabled => "account_disabled",
            Self::MustChangePassword => "must_change_password",
            Self::Forbidden | Self::Refused(_) => "forbidden",
            Self::NotAPerson => "not_a_person",
            Self::CrossOrigin => "cross_origin",
            Self::NotFound(_) | Self::Missing { .. } => "not_found",
            Self::Invalid { .. } => "invalid",
            Self::Conflict { .. } => "conflict",
            Self::Internal => "internal",
            Self::Busy { .. } => "busy",
            Self::Transport(_) => "transport",
        }
    }

    /// How long the client should wait before retrying (`Retry-After`), when it says.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after_secs } | Self::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The field this error is about, for showing it next to that field.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. }
            | Self::Missing { field, .. }
            | Self::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message without the field prefix, for showing next to the field.
    pub fn message(&self) -> String {
        match self {
            Self::Invalid { message, .. }
            | Self::Missing { message, .. }
            | Self::Conflict { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        Self::Invalid {
            field: error.field.to_owned(),
            message: error.message,
        }
    }
}

fn invalid_credentials_message(remaining_attempts: Option<u32>) -> String {
    match remaining_attempts {
        Some(0) | None => "用户名或密码错误".to_owned(),
        Some(n) => format!("用户名或密码错误，还可尝试 {n} 次"),
    }
}

fn wait_description(seconds: u64) -> String {
    if seconds < 60 {
        format!("{seconds} 秒")
    } else {
        format!("{} 分钟", seconds.div_ceil(60))
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}
