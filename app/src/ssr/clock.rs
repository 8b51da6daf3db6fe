//! The one place that reads the system clock, so every time-dependent path can be tested
//! with a fixed time.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the sanctioned reading of the system clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at a given instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock tests move by hand, shared between the test and the server it drives.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_default()
    }
}

/// Development and tests only (`TEST_CLOCK_FILE`): "now" is the RFC 3339 instant in a file,
/// plus the real time elapsed since the file last changed, so a test driving a separate
/// server process can jump time forward by rewriting the file. Without a readable file it
/// is the system clock.
#[derive(Debug)]
pub struct FileClock(pub std::path::PathBuf);

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        let real = SystemClock.now();
        let Ok(text) = std::fs::read_to_string(&self.0) else {
            return real;
        };
        let Ok(base) = DateTime::parse_from_rfc3339(text.trim()) else {
            return real;
        };
        let written = std::fs::metadata(&self.0)
            .and_then(|meta| meta.modified())
            .map(DateTime::<Utc>::from)
            .unwrap_or(real);
        base.with_timezone(&Utc) + (real - written).max(chrono::Duration::zero())
    }
}
