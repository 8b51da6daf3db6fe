//! One-click links in a reminder ("我已打卡", "今天不用提醒") that work without signing in.
//! A link's token names one person, one schedule date and one action, and expires at a
//! given instant (the end of the day the reminder is for); an HMAC-SHA256 under a key
//! derived from `SECRET_KEY` makes it unforgeable. Nothing is stored to issue a link; a
//! used link is recorded so it acts once.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::reminder::ReminderKind;

/// What following a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkAction {
    /// Records a punch of this kind now and stops that shift's follow-ups.
    Punched(ReminderKind),
    /// Skips the rest of the day's reminders for the person.
    SkipToday,
}

impl LinkAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Punched(ReminderKind::ClockIn) => "punched_in",
            Self::Punched(ReminderKind::ClockOut) => "punched_out",
            Self::SkipToday => "skip_today",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Self::Punched(ReminderKind::ClockIn),
            Self::Punched(ReminderKind::ClockOut),
            Self::SkipToday,
        ]
        .into_iter()
        .find(|action| action.as_str() == value)
    }

    /// The link's text in a message.
    pub fn label(self) -> &'static str {
        match self {
            Self::Punched(_) => "我已打卡",
            Self::SkipToday => "今天不用提醒",
        }
    }
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionClaim {
    pub user_id: i32,
    pub date: NaiveDate,
    pub action: LinkAction,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("链接不完整或已损坏：请从提醒消息中重新打开")]
    Malformed,
    #[error("链接无效：它不是本系统签发的，或已被改动")]
    Forged,
    #[error("链接已过期：它只在提醒当天有效")]
    Expired,
}

/// The key links are signed with (derived by the caller from `SECRET_KEY`).
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl LinkKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }
}

/// Never prints the key.
impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

/// Signature bytes kept: 128 bits is beyond guessing and keeps the link short.
const SIGNATURE_BYTES: usize = 16;
/// Longer tokens are refused before any parsing.
pub const MAX_TOKEN_CHARS: usize = 200;
const VERSION: &str = "1";

fn payload(claim: &ActionClaim) -> String {
    format!(
        "{VERSION}.{}.{}.{}.{}",
        claim.user_id,
        claim.date.format("%Y%m%d"),
        claim.action.as_str(),
        claim.expires_at.timestamp()
    )
}

/// The token for `claim`: URL-safe, no padding.
pub fn sign(key: &LinkKey, claim: &ActionClaim) -> String {
    sign_payload(key, &payload(claim))
}

/// Checks a token's signature, then its expiry at `now`.
pub fn verify(key: &LinkKey, token: &str, now: DateTime<Utc>) -> Result<ActionClaim, LinkError> {
    let payload = open(key, token)?;
    let claim = parse_payload(&payload).ok_or(LinkError::Malformed)?;
    if now >= claim.expires_at {
        return Err(LinkError::Expired);
    }
    Ok(claim)
}

/// A link in a notice about a request: it shows the request to `user_id` and, with `act`
/// (the notice went to the person's own channel, not a group chat others read), lets them
/// answer it without signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestClaim {
    pub request_id: i32,
    pub user_id: i32,
    pub act: bool,
    pub expires_at: DateTime<Utc>,
}

const REQUEST_VERSION: &str = "q1";

fn sign_payload(key: &LinkKey, payload: &str) -> String {
    let signature = key.mac(payload.as_bytes());
    format!(
        "{}.{}",
        BASE64URL.encode(payload.as_bytes()),
        BASE64URL.encode(&signature[..SIGNATURE_BYTES])
    )
}

pub fn sign_request(key: &LinkKey, claim: &RequestClaim) -> String {
    sign_payload(
        key,
        &format!(
            "{REQUEST_VERSION}.{}.{}.{}.{}",
            claim.request_id,
            claim.user_id,
            u8::from(claim.act),
            claim.expires_at.timestamp()
        ),
    )
}

/// Checks a request link's signature, then its expiry at `now`. A reminder link is not a
/// request link (nor the other way round): the payloads differ in their first field.
pub fn verify_request(
    key: &LinkKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<RequestClaim, LinkError> {
    let payload = open(key, token)?;
    let mut parts = payload.split('.');
    let claim = (|| {
        if parts.next()? != REQUEST_VERSION {
            return None;
        }
        let request_id = parts.next()?.parse().ok()?;
        let user_id = parts.next()?.parse().ok()?;
        let act = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let expires_at = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
        parts.next().is_none().then_some(RequestClaim {
            request_id,
            user_id,
            act,
            expires_at,
        })
    })()
    .ok_or(LinkError::Malformed)?;
    if now >= claim.expires_at {
        return Err(LinkError::Expired);
    }
    Ok(claim)
}

/// The payload of a token whose signature is ours.
fn open(key: &LinkKey, token: &str) -> Result<String, LinkError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(LinkError::Malformed);
    }
    let (payload, signature) = token.split_once('.').ok_or(LinkError::Malformed)?;
    let payload = BASE64URL
        .decode(payload)
        .map_err(|_| LinkError::Malformed)?;
    let signature = BASE64URL
        .decode(signature)
        .map_err(|_| LinkError::Malformed)?;
    let expected = key.mac(&payload);
    // Constant time: the comparison must not tell an attacker how much of a guess was right.
    let same = signature.len() == SIGNATURE_BYTES
        && signature
            .iter()
            .zip(&expected[..SIGNATURE_BYTES])
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if !same {
        return Err(LinkError::Forged);
    }
    String::from_utf8(payload).map_err(|_| LinkError::Malformed)
}

fn parse_payload(payload: &str) -> Option<ActionClaim> {
    let mut parts = payload.split('.');
    if parts.next()? != VERSION {
        return None;
    }
    let user_id = parts.next()?.parse().ok()?;
    let date = NaiveDate::parse_from_str(parts.next()?, "%Y%m%d").ok()?;
    let action = LinkAction::parse(parts.next()?)?;
    let expires_at = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
    if parts.next().is_some() {
        return None;
    }
    Some(ActionClaim {
        user_id,
        date,
        action,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_links_round_trip_and_are_not_reminder_links() {
        let claim = RequestClaim {
            request_id: 17,
            user_id: 42,
            act: true,
            expires_at: at("2026-12-10T16:00:00Z"),
        };
        let token = sign_request(&key(), &claim);
        assert_eq!(
            verify_request(&key(), &token, at("2026-12-09T00:00:00Z")),
            Ok(claim)
        );
        assert_eq!(
            verify_request(&key(), &token, at("2026-12-10T16:00:00Z")),
            Err(LinkError::Expired)
        );
        assert_eq!(
            verify_request(&LinkKey::new([8; 32]), &token, at("2026-12-09T00:00:00Z")),
            Err(LinkError::Forged)
        );
        // Each kind of token is refused where the other is expected.
        assert_eq!(
            verify(&key(), &token, at("2026-12-09T00:00:00Z")),
            Err(LinkError::Malformed)
        );
        let reminder = sign(&key(), &claim_for_request_test());
        assert_eq!(
            verify_request(&key(), &reminder, at("2026-12-02T00:00:00Z")),
            Err(LinkError::Malformed)
        );
    }

    fn claim_for_request_test() -> ActionClaim {
        ActionClaim {
            user_id: 42,
            date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            action: LinkAction::SkipToday,
            expires_at: at("2026-12-03T16:00:00Z"),
        }
    }

    fn key() -> LinkKey {
        LinkKey::new([7; 32])
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn claim(action: LinkAction) -> ActionClaim {
        ActionClaim {
            user_id: 42,
            date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            action,
            expires_at: at("2026-12-03T16:00:00Z"),
        }
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        for action in [
            LinkAction::Punched(ReminderKind::ClockIn),
            LinkAction::Punched(ReminderKind::ClockOut),
            LinkAction::SkipToday,
        ] {
            let token = sign(&key(), &claim(action));
            assert!(token.len() < 100, "{token}");
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            );
            assert_eq!(
                verify(&key(), &token, at("2026-12-03T15:59:59Z")),
                Ok(claim(action))
            );
            assert_eq!(
                verify(&key(), &token, at("2026-12-03T16:00:00Z")),
                Err(LinkError::Expired)
            );
        }
    }

    #[test]
    fn a_changed_person_date_action_or_expiry_is_refused() {
        let now = at("2026-12-03T01:00:00Z");
        let token = sign(&key(), &claim(LinkAction::SkipToday));
        let (_, signature) = token.split_once('.').unwrap();
        for changed in [
            "1.43.20261203.skip_today.1796313600",
            "1.42.20261204.skip_today.1796313600",
            "1.42.20261203.punched_in.1796313600",
            "1.42.20261203.skip_today.1896313600",
        ] {
            let forged = format!("{}.{signature}", BASE64URL.encode(changed));
            assert_eq!(
                verify(&key(), &forged, now),
                Err(LinkError::Forged),
                "{changed}"
            );
        }
        // Another key (another installation, or SECRET_KEY changed).
        assert_eq!(
            verify(&LinkKey::new([8; 32]), &token, now),
            Err(LinkError::Forged)
        );
        // A flipped signature character.
        let mut bytes = token.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(bytes).unwrap();
        assert_eq!(verify(&key(), &flipped, now), Err(LinkError::Forged));
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        let now = at("2026-12-03T01:00:00Z");
        for token in [
            "",
            ".",
            "abc",
            "abc.def",
            "%%%.%%%",
            &"a".repeat(MAX_TOKEN_CHARS + 1),
        ] {
            let result = verify(&key(), token, now);
            assert!(
                matches!(result, Err(LinkError::Malformed | LinkError::Forged)),
                "{token}: {result:?}"
            );
        }
        // Validly signed but not our payload shape.
        for payload in [
            "2.42.20261203.skip_today.1",
            "1.x.20261203.skip_today.1",
            "1.42.2026.skip_today.1",
            "1.42.20261203.dance.1",
            "1.42.20261203.skip_today.1.9",
        ] {
            let signature = key().mac(payload.as_bytes());
            let token = format!(
                "{}.{}",
                BASE64URL.encode(payload),
                BASE64URL.encode(&signature[..SIGNATURE_BYTES])
            );
            assert_eq!(
                verify(&key(), &token, now),
                Err(LinkError::Malformed),
                "{payload}"
            );
        }
    }
}
