//! Time-related value types: minute offsets and the service's IANA time zone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// A non-negative whole number of minutes, at most one day: reminder offsets and
/// `WORK_OVERTIME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Minutes(u16);

impl Minutes {
    pub const ZERO: Self = Self(0);
    pub const MAX: u16 = 24 * 60;
    const EXPECTED: &'static str = "expected a whole number of minutes between 0 and 1440";

    pub fn new(minutes: u32) -> Result<Self, InvalidValue> {
        u16::try_from(minutes)
            .ok()
            .filter(|m| *m <= Self::MAX)
            .map(Self)
            .ok_or(InvalidValue {
                expected: Self::EXPECTED,
            })
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue {
                expected: Self::EXPECTED,
            });
        }
        raw.parse::<u32>()
            .map_err(|_| InvalidValue {
                expected: Self::EXPECTED,
            })
            .and_then(Self::new)
    }

    pub fn get(self) -> u16 {
        self.0
    }

    pub fn as_duration(self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.0))
    }
}

impl TryFrom<u32> for Minutes {
    type Error = InvalidValue;
    fn try_from(minutes: u32) -> Result<Self, Self::Error> {
        Self::new(minutes)
    }
}

impl From<Minutes> for u32 {
    fn from(minutes: Minutes) -> Self {
        u32::from(minutes.0)
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The IANA time zone every schedule is interpreted in (default `Asia/Shanghai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(Self)
            .map_err(|_| InvalidValue {
                expected: "expected an IANA time zone name such as Asia/Shanghai or Europe/Berlin",
            })
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self(chrono_tz::Asia::Shanghai)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_accept_whole_numbers_within_a_day() {
        assert_eq!(Minutes::parse("0").map(Minutes::get), Ok(0));
        assert_eq!(Minutes::parse(" 30 ").map(Minutes::get), Ok(30));
        assert_eq!(Minutes::parse("1440").map(Minutes::get), Ok(1440));
    }

    #[test]
    fn minutes_reject_everything_else() {
        for bad in ["", "abc", "-5", "1441", "1.5", "+3", "99999999999999999999"] {
            assert!(Minutes::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn timezone_parses_iana_names_only() {
        assert_eq!(
            Timezone::parse("Europe/Berlin").map(Timezone::name),
            Ok("Europe/Berlin")
        );
        assert_eq!(Timezone::default().name(), "Asia/Shanghai");
        for bad in ["Mars/Base", "", "CST+8", "asia/shanghai/x"] {
            assert!(Timezone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
