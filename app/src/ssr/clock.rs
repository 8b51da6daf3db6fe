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
///
/// A rewrite is not atomic (truncate, then write): a reading that catches it half-way, or
/// whose file changed while it was read, keeps the last whole reading instead. Falling
/// back to the system clock there once made "now" jump weeks ahead for one tick, and a
/// replica failed a reminder as past its deadline.
#[derive(Debug)]
pub struct FileClock {
    path: std::path::PathBuf,
    /// The last whole reading: the instant in the file and when the file was written.
    last: std::sync::Mutex<Option<FileReading>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct FileReading {
    base: DateTime<Utc>,
    written: DateTime<Utc>,
}

impl FileClock {
    pub fn new(path: std::path::PathBuf) -> Self {
        Self {
            path,
            last: std::sync::Mutex::new(None),
        }
    }

    fn modified(&self) -> Option<DateTime<Utc>> {
        let modified = std::fs::metadata(&self.path).ok()?.modified().ok()?;
        Some(DateTime::<Utc>::from(modified))
    }

    /// The file's instant, when the file is whole and did not change while being read.
    fn read(&self) -> Option<FileReading> {
        let before = self.modified()?;
        let text = std::fs::read_to_string(&self.path).ok()?;
        let base = DateTime::parse_from_rfc3339(text.trim()).ok()?;
        let written = self.modified()?;
        (before == written).then(|| FileReading {
            base: base.with_timezone(&Utc),
            written,
        })
    }
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        let real = SystemClock.now();
        let Ok(mut last) = self.last.lock() else {
            return real;
        };
        if let Some(reading) = self.read() {
            *last = Some(reading);
        }
        match *last {
            Some(FileReading { base, written }) => {
                base + (real - written).max(chrono::Duration::zero())
            }
            None => real,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock_in(dir: &tempfile::TempDir) -> FileClock {
        FileClock::new(dir.path().join("clock"))
    }

    #[test]
    fn a_file_clock_reads_the_instant_in_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock_in(&dir);
        std::fs::write(dir.path().join("clock"), "2026-11-23T08:45:00+08:00\n").unwrap();
        let now = clock.now();
        let base = DateTime::parse_from_rfc3339("2026-11-23T08:45:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            now >= base && now - base < chrono::Duration::seconds(5),
            "{now}"
        );
    }

    #[test]
    fn a_half_written_clock_file_keeps_the_last_whole_reading() {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock_in(&dir);
        std::fs::write(dir.path().join("clock"), "2026-11-23T08:45:00+08:00").unwrap();
        let whole = clock.now();
        // What a reader sees between the truncation and the write.
        std::fs::write(dir.path().join("clock"), "").unwrap();
        let torn = clock.now();
        assert!(
            torn >= whole && torn - whole < chrono::Duration::seconds(5),
            "{torn}"
        );
        std::fs::write(dir.path().join("clock"), "2026-11-2").unwrap();
        let partial = clock.now();
        assert!(partial >= whole && partial - whole < chrono::Duration::seconds(5));
    }

    #[test]
    fn without_a_file_the_clock_is_the_system_clock() {
        let dir = tempfile::tempdir().unwrap();
        let now = clock_in(&dir).now();
        let real = SystemClock.now();
        assert!((real - now).abs() < chrono::Duration::seconds(5));
    }
}
