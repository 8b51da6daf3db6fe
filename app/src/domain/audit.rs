//! The kinds of events in the audit log (操作日志). Stored by name; later features add
//! their own kinds here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A login being checked, written by versions before in-memory attempt counting; such
    /// rows remain in older logs.
    LoginAttempt,
    Login,
    LoginFailed,
    LoginThrottled,
    Logout,
    PasswordChanged,
    /// A wrong current password when changing one's own password.
    PasswordChangeFailed,
    /// Password change refused after too many wrong current passwords.
    PasswordChangeThrottled,
    PasswordReset,
    ProfileUpdated,
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    AdminBootstrapped,
    ShiftCreated,
    ShiftUpdated,
    ShiftArchived,
    ShiftDeleted,
    ScheduleChanged,
    ScheduleImported,
    HolidaysImported,
    CompanyDayChanged,
    CalendarFeedReset,
    SettingsChanged,
    ChannelCreated,
    ChannelUpdated,
    ChannelDeleted,
    DeliveryRetried,
    PunchRecorded,
    RemindersSkipped,
    AccessTokenCreated,
    AccessTokenRevoked,
    /// A wrong bearer token (personal token or `API_TOKEN`) was presented.
    BearerFailed,
    /// `import-legacy` wrote data from the Flask original.
    LegacyImported,
    /// An entry of the original's `system_logs`, carried over by `import-legacy`.
    LegacyLog,
    /// A request (leave, swap, cover, open shift) approved, rejected, claimed or revoked.
    RequestDecided,
}

impl AuditKind {
    pub const ALL: [Self; 37] = [
        Self::LoginAttempt,
        Self::Login,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::Logout,
        Self::PasswordChanged,
        Self::PasswordChangeFailed,
        Self::PasswordChangeThrottled,
        Self::PasswordReset,
        Self::ProfileUpdated,
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::AdminBootstrapped,
        Self::ShiftCreated,
        Self::ShiftUpdated,
        Self::ShiftArchived,
        Self::ShiftDeleted,
        Self::ScheduleChanged,
        Self::ScheduleImported,
        Self::HolidaysImported,
        Self::CompanyDayChanged,
        Self::CalendarFeedReset,
        Self::SettingsChanged,
        Self::ChannelCreated,
        Self::ChannelUpdated,
        Self::ChannelDeleted,
        Self::DeliveryRetried,
        Self::PunchRecorded,
        Self::RemindersSkipped,
        Self::AccessTokenCreated,
        Self::AccessTokenRevoked,
        Self::BearerFailed,
        Self::LegacyImported,
        Self::LegacyLog,
        Self::RequestDecided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginAttempt => "login_attempt",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::Logout => "logout",
            Self::PasswordChanged => "password_changed",
            Self::PasswordChangeFailed => "password_change_failed",
            Self::PasswordChangeThrottled => "password_change_throttled",
            Self::PasswordReset => "password_reset",
            Self::ProfileUpdated => "profile_updated",
            Self::UserCreated => "user_created",
            Self::UserUpdated => "user_updated",
            Self::UserDeactivated => "user_deactivated",
            Self::UserReactivated => "user_reactivated",
            Self::AdminBootstrapped => "admin_bootstrapped",
            Self::ShiftCreated => "shift_created",
            Self::ShiftUpdated => "shift_updated",
            Self::ShiftArchived => "shift_archived",
            Self::ShiftDeleted => "shift_deleted",
            Self::ScheduleChanged => "schedule_changed",
            Self::ScheduleImported => "schedule_imported",
            Self::HolidaysImported => "holidays_imported",
            Self::CompanyDayChanged => "company_day_changed",
            Self::CalendarFeedReset => "calendar_feed_reset",
            Self::SettingsChanged => "settings_changed",
            Self::ChannelCreated => "channel_created",
            Self::ChannelUpdated => "channel_updated",
            Self::ChannelDeleted => "channel_deleted",
            Self::DeliveryRetried => "delivery_retried",
            Self::PunchRecorded => "punch_recorded",
            Self::RemindersSkipped => "reminders_skipped",
            Self::AccessTokenCreated => "access_token_created",
            Self::AccessTokenRevoked => "access_token_revoked",
            Self::BearerFailed => "bearer_failed",
            Self::LegacyImported => "legacy_imported",
            Self::LegacyLog => "legacy_log",
            Self::RequestDecided => "request_decided",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::LoginAttempt => "登录校验中",
            Self::Login => "登录",
            Self::LoginFailed => "登录失败",
            Self::LoginThrottled => "登录被限制",
            Self::Logout => "退出登录",
            Self::PasswordChanged => "修改密码",
            Self::PasswordChangeFailed => "修改密码失败（当前密码错误）",
            Self::PasswordChangeThrottled => "修改密码被限制",
            Self::PasswordReset => "重置密码",
            Self::ProfileUpdated => "修改个人资料",
            Self::UserCreated => "创建用户",
            Self::UserUpdated => "修改用户",
            Self::UserDeactivated => "停用用户",
            Self::UserReactivated => "启用用户",
            Self::AdminBootstrapped => "初始化管理员",
            Self::ShiftCreated => "创建班次",
            Self::ShiftUpdated => "修改班次",
            Self::ShiftArchived => "归档班次",
            Self::ShiftDeleted => "删除班次",
            Self::ScheduleChanged => "修改排班",
            Self::ScheduleImported => "导入排班",
            Self::HolidaysImported => "导入节假日",
            Self::CompanyDayChanged => "修改公司休息/工作日",
            Self::CalendarFeedReset => "重置日历订阅",
            Self::SettingsChanged => "修改系统设置",
            Self::ChannelCreated => "添加通知渠道",
            Self::ChannelUpdated => "修改通知渠道",
            Self::ChannelDeleted => "删除通知渠道",
            Self::DeliveryRetried => "重发提醒",
            Self::PunchRecorded => "记录打卡",
            Self::RemindersSkipped => "今天不用提醒",
            Self::AccessTokenCreated => "创建访问令牌",
            Self::AccessTokenRevoked => "吊销访问令牌",
            Self::BearerFailed => "API 令牌错误",
            Self::LegacyImported => "导入旧系统数据",
            Self::LegacyLog => "旧系统日志",
            Self::RequestDecided => "处理申请",
        }
    }
}

/// The label for a stored kind name, or the name itself for kinds this version does not
/// know (written by a newer version sharing the database).
pub fn kind_label(name: &str) -> &str {
    match AuditKind::parse(name) {
        Some(kind) => kind.label(),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(kind_label("something_new"), "something_new");
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut names: Vec<&str> = AuditKind::ALL.iter().map(|kind| kind.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        // Kinds are stored by name: the column holds at most 48 characters.
        assert!(names.iter().all(|name| name.len() <= 48));
        assert_eq!(AuditKind::parse("legacy_log"), Some(AuditKind::LegacyLog));
    }
}
