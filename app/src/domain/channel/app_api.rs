//! What the company apps' open platforms (DingTalk, Feishu, WeCom) share, below their
//! kinds: an app's credentials checked, a sign-in answer read into an [`AccessToken`], and
//! an answer's result code.

use serde_json::Value;

use super::address::AddressError;
use super::{AccessToken, Verdict, excerpt, token_lifetime};

/// The names of a token endpoint's fields.
pub(crate) struct TokenFields {
    pub platform: &'static str,
    pub code: &'static str,
    pub token: &'static str,
    pub expires_in: &'static str,
}

/// The integer result code `field` of a JSON answer.
pub(crate) fn code(body: &str, field: &str) -> Option<i64> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get(field)?
        .as_i64()
}

/// A sign-in answer: the token when the result code is 0 (or absent) and a token is there;
/// otherwise what `classify` makes of the answer, a "success" without a token being a
/// failure too.
pub(crate) fn read_token(
    fields: &TokenFields,
    http_status: u16,
    body: &str,
    classify: impl Fn(u16, &str) -> Verdict,
) -> Result<AccessToken, Verdict> {
    let value: Option<Value> = serde_json::from_str(body).ok();
    let token = value.as_ref().and_then(|value| {
        let token = value.get(fields.token)?.as_str()?;
        let expires_in = value.get(fields.expires_in)?.as_u64()?;
        let ok = value.get(fields.code).and_then(Value::as_i64).unwrap_or(0) == 0;
        (ok && !token.is_empty()).then(|| AccessToken {
            token: token.to_owned(),
            lifetime: token_lifetime(expires_in),
        })
    });
    token.ok_or_else(|| match classify(http_status, body) {
        Verdict::Sent => Verdict::Permanent(format!(
            "{}没有返回 {}：{}",
            fields.platform,
            fields.token,
            excerpt(body)
        )),
        Verdict::Permanent(text) => Verdict::Permanent(format!(
            "{}获取 {} 失败：{text}",
            fields.platform, fields.token
        )),
        other => other,
    })
}

/// An app key, id or secret as the consoles show them: `len` characters of letters, digits,
/// `-` and `_`; otherwise `message`, which says where to copy it from.
pub(crate) fn credential(
    value: &str,
    len: std::ops::RangeInclusive<usize>,
    message: &str,
) -> Result<String, AddressError> {
    let valid = len.contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(AddressError::new(message))
    }
}
