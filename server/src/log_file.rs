//! `LOG_DIR/app.log`, rotated daily: when the date changes in the configured time zone,
//! yesterday's `app.log` becomes `app.YYYY-MM-DD.log` and a fresh `app.log` starts, so
//! `tail -f logs/app.log` works as with the Flask original. Old days beyond the kept count
//! are deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

const CURRENT: &str = "app.log";

pub struct DailyLogFile {
    dir: PathBuf,
    keep_days: usize,
    timezone: Tz,
    now: Box<dyn Fn() -> DateTime<Utc> + Send>,
    date: NaiveDate,
    file: File,
}

impl DailyLogFile {
    /// Opens `dir/app.log` for appending; a file left from an earlier day is rotated first.
    pub fn open(
        dir: &Path,
        keep_days: usize,
        timezone: Tz,
        now: impl Fn() -> DateTime<Utc> + Send + 'static,
    ) -> io::Result<Self> {
        let current = dir.join(CURRENT);
        let local_date = |instant: DateTime<Utc>| instant.with_timezone(&timezone).date_naive();
        let date = local_date(now());
        if let Ok(metadata) = fs::metadata(&current) {
            let written_on = local_date(DateTime::from(metadata.modified()?));
            if written_on < date {
                archive(dir, written_on)?;
                prune(dir, keep_days)?;
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            keep_days,
            timezone,
            file: open_append(&current)?,
            now: Box::new(now),
            date,
        })
    }

    fn rotate_if_new_day(&mut self) -> io::Result<()> {
        let today = (self.now)().with_timezone(&self.timezone).date_naive();
        // Only forward: a clock stepped back across midnight must not archive again.
        if today <= self.date {
            return Ok(());
        }
        self.file.flush()?;
        archive(&self.dir, self.date)?;
        self.file = open_append(&self.dir.join(CURRENT))?;
        self.date = today;
        prune(&self.dir, self.keep_days)
    }
}

impl Write for DailyLogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.rotate_if_new_day()?;
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn archived_name(date: NaiveDate) -> String {
    format!("app.{}.log", date.format("%Y-%m-%d"))
}

/// Moves `app.log` to the file of `date`, appending if that file exists already.
fn archive(dir: &Path, date: NaiveDate) -> io::Result<()> {
    let current = dir.join(CURRENT);
    let target = dir.join(archived_name(date));
    if target.exists() {
        let mut archived = open_append(&target)?;
        io::copy(&mut File::open(&current)?, &mut archived)?;
        fs::remove_file(&current)
    } else {
        fs::rename(&current, &target)
    }
}

/// Deletes the oldest archived days beyond `keep_days`.
fn prune(dir: &Path, keep_days: usize) -> io::Result<()> {
    let mut archived: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_prefix("app.")?.strip_suffix(".log"))
                .is_some_and(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok())
        })
        .collect();
    // ISO dates sort chronologically as text.
    archived.sort();
    let excess = archived.len().saturating_sub(keep_days);
    for path in &archived[..excess] {
        fs::remove_file(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::TimeZone;

    use super::*;

    fn noon(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0)
            .single()
            .expect("instant")
    }

    fn read(dir: &Path, name: &str) -> String {
        fs::read_to_string(dir.join(name)).unwrap_or_default()
    }

    fn mtime(path: &Path) -> DateTime<Utc> {
        DateTime::from(
            fs::metadata(path)
                .and_then(|m| m.modified())
                .expect("mtime"),
        )
    }

    #[test]
    fn a_new_day_moves_app_log_aside_and_keeps_the_newest_days() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Arc::new(Mutex::new(noon(20)));
        let clock = Arc::clone(&now);
        let mut log =
            DailyLogFile::open(dir.path(), 2, Tz::UTC, move || *clock.lock().expect("lock"))
                .expect("open");
        log.write_all(b"day 20\n").expect("write");
        for d in [21, 22, 23] {
            *now.lock().expect("lock") = noon(d);
            log.write_all(format!("day {d}\n").as_bytes())
                .expect("write");
        }
        log.flush().expect("flush");

        assert_eq!(read(dir.path(), "app.log"), "day 23\n");
        assert_eq!(read(dir.path(), "app.2026-11-22.log"), "day 22\n");
        assert_eq!(read(dir.path(), "app.2026-11-21.log"), "day 21\n");
        assert!(
            !dir.path().join("app.2026-11-20.log").exists(),
            "older than kept days"
        );
    }

    #[test]
    fn a_clock_stepping_back_does_not_rotate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Arc::new(Mutex::new(noon(21)));
        let clock = Arc::clone(&now);
        let mut log = DailyLogFile::open(dir.path(), 30, Tz::UTC, move || {
            *clock.lock().expect("lock")
        })
        .expect("open");
        log.write_all(b"on the 21st\n").expect("write");
        *now.lock().expect("lock") = noon(20);
        log.write_all(b"clock stepped back\n").expect("write");
        assert_eq!(
            read(dir.path(), "app.log"),
            "on the 21st\nclock stepped back\n"
        );
        assert!(!dir.path().join("app.2026-11-21.log").exists());
    }

    #[test]
    fn days_follow_the_configured_time_zone() {
        let dir = tempfile::tempdir().expect("tempdir");
        // 15:59 and 16:01 UTC straddle midnight in Shanghai (UTC+8).
        let now = Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 15, 59, 0)
                .single()
                .expect("t"),
        ));
        let clock = Arc::clone(&now);
        let mut log = DailyLogFile::open(dir.path(), 30, chrono_tz::Asia::Shanghai, move || {
            *clock.lock().expect("lock")
        })
        .expect("open");
        log.write_all(b"late on the 22nd\n").expect("write");
        *now.lock().expect("lock") = Utc
            .with_ymd_and_hms(2026, 11, 22, 16, 1, 0)
            .single()
            .expect("t");
        log.write_all(b"early on the 23rd\n").expect("write");
        assert_eq!(read(dir.path(), "app.2026-11-22.log"), "late on the 22nd\n");
        assert_eq!(read(dir.path(), "app.log"), "early on the 23rd\n");
    }

    #[test]
    fn a_log_left_from_an_earlier_day_is_archived_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = dir.path().join("app.log");
        fs::write(&current, "from before\n").expect("write");
        let written = mtime(&current);
        let next_day = written + chrono::Duration::days(1);
        let mut log = DailyLogFile::open(dir.path(), 30, Tz::UTC, move || next_day).expect("open");
        log.write_all(b"fresh\n").expect("write");
        assert_eq!(read(dir.path(), "app.log"), "fresh\n");
        assert_eq!(
            read(dir.path(), &archived_name(written.date_naive())),
            "from before\n"
        );
    }

    #[test]
    fn a_restart_on_the_same_day_appends_to_app_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = dir.path().join("app.log");
        fs::write(&current, "earlier run\n").expect("write");
        let written = mtime(&current);
        let mut log = DailyLogFile::open(dir.path(), 30, Tz::UTC, move || written).expect("open");
        log.write_all(b"this run\n").expect("write");
        assert_eq!(read(dir.path(), "app.log"), "earlier run\nthis run\n");
    }
}
