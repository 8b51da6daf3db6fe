//! Personal access tokens (个人访问令牌): what a token may do and how it is named.
//!
//! A token acts for the user who created it, never with more than that user's role:
//! `read` may only read, `write` may read and write as a member would, `admin` (only for
//! admins) may do everything its owner may. Tokens are shown once and stored as a hash.

use serde::{Deserialize, Serialize};

use super::account::{FieldError, Role, is_invisible_or_control};

/// Every personal token starts with this, so it is recognisable in a leaked log or
/// config file and never confused with the installation's `API_TOKEN`.
pub const TOKEN_PREFIX: &str = "dda_pat_";
/// Characters of the token kept in clear to tell tokens apart (prefix included).
pub const VISIBLE_CHARS: usize = 12;
pub const NAME_MAX_CHARS: usize = 64;
/// A user keeps at most this many tokens.
pub const MAX_TOKENS_PER_USER: usize = 20;
/// Expiry choices in days; `None` never expires.
pub const EXPIRY_CHOICES: [Option<u32>; 5] = [Some(7), Some(30), Some(90), Some(365), None];
pub const MAX_EXPIRY_DAYS: u32 = 3650;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Write,
    Admin,
}

impl TokenScope {
    pub const ALL: [Self; 3] = [Self::Read, Self::Write, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "只读",
            Self::Write => "读写",
            Self::Admin => "管理员",
        }
    }

    /// The scopes a user of `role` may give a token.
    pub fn allowed_for(role: Role) -> &'static [Self] {
        match role {
            Role::Admin => &Self::ALL,
            Role::Member => &[Self::Read, Self::Write],
        }
    }

    /// The role a request made with this token acts with: never more than the owner's.
    pub fn effective_role(self, owner: Role) -> Role {
        match (self, owner) {
            (Self::Admin, Role::Admin) => Role::Admin,
            _ => Role::Member,
        }
    }

    /// Whether the token may make a request that changes something.
    pub fn may_write(self) -> bool {
        self != Self::Read
    }
}

/// A token's name: 1–64 visible characters, trimmed.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "请填写令牌名称，例如“考勤脚本”"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(FieldError::new(
            "name",
            format!("名称不能超过 {NAME_MAX_CHARS} 个字符"),
        ));
    }
    if name.chars().any(is_invisible_or_control) {
        return Err(FieldError::new("name", "名称不能包含控制字符或不可见字符"));
    }
    Ok(name.to_owned())
}

/// The scope a user of `role` asked for, if they may give it.
pub fn check_scope(scope: TokenScope, role: Role) -> Result<TokenScope, FieldError> {
    if TokenScope::allowed_for(role).contains(&scope) {
        Ok(scope)
    } else {
        Err(FieldError::new(
            "scope",
            "令牌的权限不能超过自己的角色：成员只能创建 read 或 write 令牌",
        ))
    }
}

pub fn check_expiry_days(days: Option<u32>) -> Result<Option<u32>, FieldError> {
    match days {
        Some(0) => Err(FieldError::new("expires_in_days", "有效期至少 1 天")),
        Some(days) if days > MAX_EXPIRY_DAYS => Err(FieldError::new(
            "expires_in_days",
            format!("有效期不能超过 {MAX_EXPIRY_DAYS} 天；不过期请留空"),
        )),
        other => Ok(other),
    }
}

/// Whether `presented` has the shape of a personal token (checked before any lookup).
pub fn looks_like_token(presented: &str) -> bool {
    presented
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == 43 && rest.bytes().all(is_base64url))
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// The part of a token that may be shown and logged.
pub fn visible_part(token: &str) -> String {
    token.chars().take(VISIBLE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_by_name() {
        for scope in TokenScope::ALL {
            assert_eq!(TokenScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(TokenScope::parse("root"), None);
    }

    #[test]
    fn members_cannot_create_admin_tokens() {
        assert!(check_scope(TokenScope::Admin, Role::Member).is_err());
        assert!(check_scope(TokenScope::Write, Role::Member).is_ok());
        assert!(check_scope(TokenScope::Read, Role::Member).is_ok());
        for scope in TokenScope::ALL {
            assert!(check_scope(scope, Role::Admin).is_ok());
        }
    }

    #[test]
    fn a_token_never_acts_above_its_owner_or_its_scope() {
        for scope in TokenScope::ALL {
            assert_eq!(scope.effective_role(Role::Member), Role::Member);
        }
        assert_eq!(TokenScope::Admin.effective_role(Role::Admin), Role::Admin);
        assert_eq!(TokenScope::Write.effective_role(Role::Admin), Role::Member);
        assert_eq!(TokenScope::Read.effective_role(Role::Admin), Role::Member);
        assert!(!TokenScope::Read.may_write());
        assert!(TokenScope::Write.may_write() && TokenScope::Admin.may_write());
    }

    #[test]
    fn names_are_trimmed_visible_and_bounded() {
        assert_eq!(check_name("  考勤脚本 ").unwrap(), "考勤脚本");
        assert_eq!(check_name("   ").unwrap_err().field, "name");
        assert!(check_name(&"名".repeat(NAME_MAX_CHARS)).is_ok());
        assert!(check_name(&"名".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(check_name("a\u{202e}b").is_err());
        assert!(check_name("a\nb").is_err());
    }

    #[test]
    fn expiry_is_at_least_a_day_and_at_most_ten_years() {
        assert!(check_expiry_days(Some(0)).is_err());
        assert_eq!(check_expiry_days(Some(30)).unwrap(), Some(30));
        assert!(check_expiry_days(Some(MAX_EXPIRY_DAYS + 1)).is_err());
        assert_eq!(check_expiry_days(None).unwrap(), None);
        for choice in EXPIRY_CHOICES {
            assert!(check_expiry_days(choice).is_ok());
        }
    }

    #[test]
    fn token_shape_is_checked_before_lookup() {
        let token = format!("{TOKEN_PREFIX}{}", "A".repeat(43));
        assert!(looks_like_token(&token));
        assert!(!looks_like_token(&format!(
            "{TOKEN_PREFIX}{}",
            "A".repeat(42)
        )));
        assert!(!looks_like_token(&format!(
            "{TOKEN_PREFIX}{}=",
            "A".repeat(42)
        )));
        assert!(!looks_like_token("test-api-token-0123456789abcdef"));
        assert_eq!(visible_part(&token), "dda_pat_AAAA");
    }
}
