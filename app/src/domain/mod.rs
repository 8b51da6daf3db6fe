//! Pure rules and types shared by the server and the browser: no async, no I/O, no ORM,
//! and no reading of the clock (callers pass the time in).

pub mod access_token;
pub mod account;
#[cfg(feature = "ssr")]
pub mod action_link;
pub mod audit;
pub mod channel;
pub mod handover;
pub mod holiday;
pub mod ics;
#[cfg(feature = "ssr")]
pub mod legacy;
pub mod period;
pub mod plan;
#[cfg(feature = "ssr")]
pub mod punch_check;
pub mod redact;
pub mod reminder;
pub mod request;
pub mod robot;
#[cfg(feature = "ssr")]
pub mod schedule_file;
pub mod shift;
pub mod template;
pub mod throttle;
mod time;
pub mod work_rules;

pub use account::{FieldError, Role, Username};

/// The largest schedule file (or batch of schedule writes) accepted: checked by the browser
/// before uploading, by the server's body limit and by the parsers.
pub const MAX_UPLOAD_FILE_BYTES: usize = 16 * 1024 * 1024;
pub use time::{Minutes, Timezone};

/// A value that does not satisfy its rule. `expected` says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{expected}")]
pub struct InvalidValue {
    pub expected: &'static str,
}
