//! Account fields and their rules. Every value that reaches the database went through one
//! of these parsers, on the server, whatever the entry point (page, server function, API).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A field value that breaks its rule; `message` is shown to the user next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

pub const USERNAME_MAX_CHARS: usize = 32;
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const PLATFORM_ID_MAX_CHARS: usize = 64;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing cannot be abused.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The original Flask system's default admin password; its use is always flagged.
pub const LEGACY_DEFAULT_PASSWORD: &str = "admin123";

/// Passwords refused whatever their length: the original's default and the ones every
/// password-guessing list starts with.
const COMMON_PASSWORDS: &[&str] = &[
    LEGACY_DEFAULT_PASSWORD,
    "12345678",
    "123456789",
    "1234567890",
    "11111111",
    "88888888",
    "66666666",
    "00000000",
    "password",
    "password1",
    "password123",
    "qwerty123",
    "qwertyui",
    "abc12345",
    "abcd1234",
    "admin888",
    "admin1234",
    "administrator",
    "iloveyou",
    "a1234567",
    "1qaz2wsx",
    "woaini1314",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            _ => Err(FieldError::new("role", "只能是 admin 或 member")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "管理员",
            Self::Member => "成员",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A login name: trimmed, 1–32 characters of ASCII letters and digits, `_ . -` and CJK
/// ideographs. Non-ASCII letters are refused so that look-alikes (Cyrillic `а` for `a`)
/// cannot impersonate another account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "username";
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::new(FIELD, "不能为空"));
        }
        let length = value.chars().count();
        if length > USERNAME_MAX_CHARS {
            return Err(FieldError::new(
                FIELD,
                format!("最多 {USERNAME_MAX_CHARS} 个字符（当前 {length} 个）"),
            ));
        }
        if let Some(bad) = value.chars().find(|c| !is_username_char(*c)) {
            return Err(FieldError::new(
                FIELD,
                format!(
                    "只能包含英文字母、数字、下划线、点、连字符和汉字，不能包含 {}",
                    describe_char(bad)
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and lookups use: `Admin` and `admin` are one account.
    pub fn key(&self) -> String {
        username_key(&self.0)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The lookup key for any typed-in username, valid or not (login must not reveal which).
pub fn username_key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') || is_cjk_ideograph(c)
}

fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF       // Extension A
        | 0x4E00..=0x9FFF     // Unified Ideographs
        | 0xF900..=0xFAFF     // Compatibility Ideographs
        | 0x20000..=0x2EBEF   // Extensions B–F
        | 0x30000..=0x3134F) // Extension G
}

/// Characters that are invisible or reorder text: accepted nowhere, because they make two
/// different values look identical or hide what a value really says.
pub(crate) fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD              // soft hyphen
            | 0x061C            // Arabic letter mark
            | 0x180E            // Mongolian vowel separator
            | 0x200B..=0x200F   // zero-width space/joiners, LRM, RLM
            | 0x202A..=0x202E   // bidi embeddings and overrides
            | 0x2060..=0x2064   // word joiner, invisible operators
            | 0x2066..=0x2069   // bidi isolates
            | 0xFEFF            // byte-order mark / zero-width no-break space
            | 0xFFF9..=0xFFFB) // interlinear annotations
}

pub(crate) fn describe_char(c: char) -> String {
    if is_invisible_or_control(c) || c.is_whitespace() {
        format!("不可见字符 U+{:04X}", c as u32)
    } else {
        format!("“{c}”")
    }
}

/// A display name (姓名/昵称): trimmed, 1–64 characters, anything printable (emoji
/// included) but no control, zero-width or bidi-override characters.
pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    const FIELD: &str = "display_name";
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(FIELD, "不能为空"));
    }
    let length = value.chars().count();
    if length > DISPLAY_NAME_MAX_CHARS {
        return Err(FieldError::new(
            FIELD,
            format!("最多 {DISPLAY_NAME_MAX_CHARS} 个字符（当前 {length} 个）"),
        ));
    }
    if let Some(bad) = value.chars().find(|c| is_invisible_or_control(*c)) {
        return Err(FieldError::new(
            FIELD,
            format!("不能包含{}", describe_char(bad)),
        ));
    }
    Ok(value.to_owned())
}

/// An optional field: empty or blank means "not set".
fn optional(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|value| !value.is_empty())
}

/// A mainland China mobile number as DingTalk's `atMobiles` expects it: 11 digits starting
/// with 1. Spaces, hyphens and a `+86`/`86` prefix are accepted and removed.
pub fn parse_mobile(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    const FIELD: &str = "mobile";
    let Some(value) = optional(raw) else {
        return Ok(None);
    };
    if value.chars().count() > 20 {
        return Err(FieldError::new(
            FIELD,
            "应为 11 位中国大陆手机号，例如 13800138000",
        ));
    }
    let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = compact
        .strip_prefix("+86")
        .or_else(|| compact.strip_prefix("86").filter(|rest| rest.len() == 11))
        .unwrap_or(&compact);
    let valid = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && matches!(digits.as_bytes()[1], b'3'..=b'9');
    if valid {
        Ok(Some(digits.to_owned()))
    } else {
        Err(FieldError::new(
            FIELD,
            "应为 11 位中国大陆手机号，例如 13800138000",
        ))
    }
}

/// Ids every platform reads as "everyone" (WeCom `@all` in `mentioned_list`, Feishu
/// `<at user_id="all">`) or that look like it; compared case-insensitively, without `@`.
const GROUP_MENTION_IDS: [&str; 7] = [
    "all", "everyone", "here", "channel", "atall", "isatall", "at_all",
];

/// A user id on a chat platform (DingTalk userId, Feishu open_id, WeCom userid): up to 64
/// characters of ASCII letters, digits and `_ - . @ :`, starting with a letter or digit,
/// and never an id the platforms treat as a mention of the whole group: a member who set
/// their own id to `@all` would make the team robot @everyone with each reminder.
pub fn parse_platform_id(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<String>, FieldError> {
    let Some(value) = optional(raw) else {
        return Ok(None);
    };
    let length = value.chars().count();
    if length > PLATFORM_ID_MAX_CHARS {
        return Err(FieldError::new(
            field,
            format!("最多 {PLATFORM_ID_MAX_CHARS} 个字符（当前 {length} 个）"),
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | ':')))
    {
        return Err(FieldError::new(
            field,
            format!(
                "只能包含英文字母、数字和 _ - . @ :，不能包含 {}",
                describe_char(bad)
            ),
        ));
    }
    let bare = value.trim_start_matches('@').to_ascii_lowercase();
    if GROUP_MENTION_IDS.contains(&bare.as_str()) {
        return Err(FieldError::new(
            field,
            format!("“{value}”会让机器人提醒群里所有人，不能作为个人的 ID"),
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(field, "必须以英文字母或数字开头"));
    }
    Ok(Some(value.to_owned()))
}

/// An e-mail address: one `@`, a non-empty local part, a domain with a dot, no spaces or
/// invisible characters, at most 254 characters.
pub fn parse_email(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    const FIELD: &str = "email";
    let Some(value) = optional(raw) else {
        return Ok(None);
    };
    if value.chars().count() > EMAIL_MAX_CHARS {
        return Err(FieldError::new(
            FIELD,
            format!("最多 {EMAIL_MAX_CHARS} 个字符"),
        ));
    }
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && value.chars().all(|c| {
                    !c.is_whitespace()
                        && !is_invisible_or_control(c)
                        && !matches!(c, '<' | '>' | '"' | '(' | ')' | ',' | ';' | '\\')
                })
        }
        None => false,
    };
    if well_formed {
        Ok(Some(value.to_owned()))
    } else {
        Err(FieldError::new(
            FIELD,
            "不是有效的邮箱地址，例如 name@example.com",
        ))
    }
}

/// Checks a new password: 8–128 characters, not the username, not a well-known password,
/// no control or invisible characters (they cannot be typed reliably at the login form).
pub fn check_new_password(
    field: &'static str,
    password: &str,
    username: &str,
) -> Result<(), FieldError> {
    let length = password.chars().count();
    if length < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            field,
            format!("至少 {PASSWORD_MIN_CHARS} 个字符"),
        ));
    }
    if length > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            field,
            format!("最多 {PASSWORD_MAX_CHARS} 个字符"),
        ));
    }
    if password.chars().any(is_invisible_or_control) {
        return Err(FieldError::new(field, "不能包含控制字符或不可见字符"));
    }
    if username_key(password) == username_key(username) {
        return Err(FieldError::new(field, "不能与用户名相同"));
    }
    if COMMON_PASSWORDS.contains(&password.to_lowercase().as_str()) {
        return Err(FieldError::new(field, "过于常见，容易被猜中，请换一个"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_keyed_case_insensitively() {
        let name = Username::parse("  Zhang.San_01-x ").unwrap();
        assert_eq!(name.as_str(), "Zhang.San_01-x");
        assert_eq!(name.key(), "zhang.san_01-x");
        assert_eq!(Username::parse("张三").unwrap().key(), "张三");
        assert_eq!(username_key(" ADMIN "), "admin");
    }

    #[test]
    fn usernames_refuse_what_is_not_allowed() {
        for (raw, hint) in [
            ("", "不能为空"),
            ("   ", "不能为空"),
            ("a b", "不可见字符 U+0020"),
            ("ab😀", "“😀”"),
            ("аdmin", "“а”"), // Cyrillic a
            ("ad\u{200B}min", "U+200B"),
            ("ad\u{202E}min", "U+202E"),
            ("<script>", "“<”"),
            ("x';--", "“'”"),
            ("é", "“é”"),
        ] {
            let error = Username::parse(raw).unwrap_err();
            assert_eq!(error.field, "username");
            assert!(error.message.contains(hint), "{raw:?}: {}", error.message);
        }
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        let error = Username::parse(&"a".repeat(33)).unwrap_err();
        assert!(error.message.contains("最多 32"), "{}", error.message);
        assert!(Username::parse(&"字".repeat(10_000)).is_err());
    }

    #[test]
    fn display_names_allow_emoji_but_not_invisible_characters() {
        assert_eq!(parse_display_name(" 小王 😀 ").unwrap(), "小王 😀");
        assert_eq!(
            parse_display_name("<b>O'Brien</b>").unwrap(),
            "<b>O'Brien</b>"
        );
        assert_eq!(parse_display_name("").unwrap_err().message, "不能为空");
        assert!(parse_display_name("a\u{200D}b").is_err());
        assert!(parse_display_name("a\u{2067}b").is_err());
        assert!(parse_display_name("a\nb").is_err());
        assert!(parse_display_name(&"名".repeat(64)).is_ok());
        assert!(parse_display_name(&"名".repeat(65)).is_err());
        assert!(parse_display_name(&"x".repeat(10_000)).is_err());
    }

    #[test]
    fn mobiles_are_normalised_to_eleven_digits() {
        assert_eq!(parse_mobile(None).unwrap(), None);
        assert_eq!(parse_mobile(Some("  ")).unwrap(), None);
        for raw in [
            "13800138000",
            "+86 138-0013-8000",
            "86 13800138000",
            "138 0013 8000",
        ] {
            assert_eq!(
                parse_mobile(Some(raw)).unwrap().as_deref(),
                Some("13800138000"),
                "{raw}"
            );
        }
        for raw in [
            "1380013800",
            "12800138000",
            "23800138000",
            "1380013800x",
            "１３８００１３８０００",
            "+1 4155550100",
            "138001380001",
        ] {
            assert_eq!(
                parse_mobile(Some(raw)).unwrap_err().field,
                "mobile",
                "{raw}"
            );
        }
    }

    #[test]
    fn platform_ids_are_plain_ascii() {
        assert_eq!(
            parse_platform_id(
                "feishu_open_id",
                Some(" ou_7d8a6e6df7621556ce0d21922b676706 ")
            )
            .unwrap()
            .as_deref(),
            Some("ou_7d8a6e6df7621556ce0d21922b676706")
        );
        assert_eq!(parse_platform_id("x", Some("")).unwrap(), None);
        let error = parse_platform_id("dingtalk_user_id", Some("a b")).unwrap_err();
        assert_eq!(error.field, "dingtalk_user_id");
        assert!(parse_platform_id("x", Some("张三")).is_err());
        assert!(parse_platform_id("x", Some(&"a".repeat(65))).is_err());
    }

    #[test]
    fn platform_ids_cannot_mention_the_whole_group() {
        for (field, raw) in [
            ("wecom_user_id", "@all"),
            ("wecom_user_id", "@ALL"),
            ("feishu_open_id", "all"),
            ("feishu_open_id", " All "),
            ("dingtalk_user_id", "isAtAll"),
            ("dingtalk_user_id", "everyone"),
            ("wecom_user_id", "@zhangsan"),
            ("wecom_user_id", "_x"),
            ("feishu_open_id", "-1"),
        ] {
            let error = parse_platform_id(field, Some(raw)).unwrap_err();
            assert_eq!(error.field, field, "{raw}");
        }
        assert!(
            parse_platform_id("wecom_user_id", Some("@all"))
                .unwrap_err()
                .message
                .contains("所有人")
        );
        for ok in [
            "zhangsan",
            "zhang.san@corp",
            "manager4220",
            "allen",
            "all1",
            "0123",
        ] {
            assert_eq!(
                parse_platform_id("wecom_user_id", Some(ok))
                    .unwrap()
                    .as_deref(),
                Some(ok)
            );
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            parse_email(Some("li.si@example.com")).unwrap().as_deref(),
            Some("li.si@example.com")
        );
        assert_eq!(parse_email(None).unwrap(), None);
        for raw in [
            "no-at",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "<a@b.com>",
            "a@.com",
        ] {
            assert!(parse_email(Some(raw)).is_err(), "{raw}");
        }
        assert!(parse_email(Some(&format!("{}@x.com", "a".repeat(250)))).is_err());
    }

    #[test]
    fn new_passwords_follow_the_policy() {
        assert!(check_new_password("password", "correct horse", "zhangsan").is_ok());
        assert!(check_new_password("password", "长城长城长城长城", "zhangsan").is_ok());
        let cases = [
            ("short7!", "至少 8"),
            ("ZhangSan", "用户名"),
            ("admin123", "常见"),
            ("Password", "常见"),
            ("abc\u{200B}defgh", "不可见"),
        ];
        for (password, hint) in cases {
            let error = check_new_password("new", password, "zhangsan").unwrap_err();
            assert_eq!(error.field, "new");
            assert!(
                error.message.contains(hint),
                "{password}: {}",
                error.message
            );
        }
        assert!(check_new_password("p", &"x".repeat(129), "u").is_err());
        assert!(check_new_password("p", &"x".repeat(128), "u").is_ok());
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::Member] {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert_eq!(Role::parse("root").unwrap_err().field, "role");
    }
}
