//! The error the UI sees: serialisable, safe to show, never a raw database message.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("请先登录")]
    Unauthorized,
    #[error("没有权限执行此操作")]
    Forbidden,
    #[error("未找到：{0}")]
    NotFound(String),
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    /// Details are logged on the server where the error was converted, never sent.
    #[error("服务器内部错误，请稍后重试")]
    Internal,
    /// The request never reached our code (network, decoding): shown as is.
    #[error("请求失败：{0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}
