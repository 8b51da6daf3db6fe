//! The shapes that cross the wire, shared by the browser, the server functions and the
//! REST API (whose OpenAPI document is generated from them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Role;

/// Present-but-null deserialises to `Some(None)` ("clear it"), absent to `None` ("leave it").
fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A user account as clients see it; never includes the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    /// 11-digit mainland China mobile number, used for DingTalk @mentions.
    pub mobile: Option<String>,
    pub dingtalk_user_id: Option<String>,
    pub feishu_open_id: Option<String>,
    pub wecom_user_id: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A new account. `display_name` defaults to the username, `role` to member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    /// At least 8 characters, not the username, not a well-known password.
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub dingtalk_user_id: Option<String>,
    #[serde(default)]
    pub feishu_open_id: Option<String>,
    #[serde(default)]
    pub wecom_user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    /// Ask the user to choose their own password at first login (default true).
    #[serde(default)]
    pub must_change_password: Option<bool>,
}

/// Changes to an account: absent fields stay as they are; `null` or `""` clears an
/// optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub mobile: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub dingtalk_user_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub feishu_open_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub wecom_user_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Admins only; `false` signs the user out everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl UserPatch {
    /// Whether the patch touches anything only an admin may change.
    pub fn touches_admin_fields(&self) -> bool {
        self.username.is_some() || self.role.is_some() || self.active.is_some()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match, over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Filters for the user list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Matches username, display name, mobile or e-mail (case-insensitive substring).
    #[serde(default)]
    pub q: Option<String>,
    /// `admin` or `member`.
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    /// 1-based page number (default 1).
    #[serde(default)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[serde(default)]
    pub per_page: Option<u64>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// Event kind, e.g. `login`, `login_failed`, `user_created`.
    pub kind: String,
    pub actor_user_id: Option<i32>,
    /// Username of whoever acted, `api-token`, `system` or the typed name of a failed login.
    pub actor_name: String,
    /// What the event is about (usually a username).
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Events by or about this user id.
    #[serde(default)]
    pub user_id: Option<i32>,
    /// Event kind name, e.g. `login_failed`.
    #[serde(default)]
    pub kind: Option<String>,
    /// First day, `YYYY-MM-DD`, in the server's time zone.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
    pub per_page: Option<u64>,
}

/// The signed-in user, as the page layout needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: UserView,
    /// Shown to admins while any active admin still uses the original's `admin123`.
    pub default_password_in_use: bool,
}

/// A list row for the pages: the item and its time as shown, in the server's `TIMEZONE`.
/// Formatted on the server so the browser bundle needs no time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub item: T,
    /// "YYYY-MM-DD HH:MM"; `None` when there is no time (a user who never signed in).
    pub local_time: Option<String>,
}
