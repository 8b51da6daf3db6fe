//! Logging: readable lines on stdout and `LOG_DIR/app.log`, rotated daily (see `log_file`).
//!
//! Secrets never reach a log line: configuration values are wrapped in `Secret`, and
//! request logs carry the path without its query string (where tokens travel).

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

use crate::config::Config;
use crate::log_file::DailyLogFile;

/// Days of archived log files kept besides the current `app.log`.
const LOG_FILES_KEPT: usize = 30;

/// Installs the global subscriber. Keep the guard alive until exit so buffered lines
/// reach the file.
pub fn init(config: &Config) -> anyhow::Result<WorkerGuard> {
    let timezone = config.timezone.tz();
    let clock = app::ssr::SystemClock;
    let file_appender = DailyLogFile::open(&config.log_dir, LOG_FILES_KEPT, timezone, move || {
        app::ssr::Clock::now(&clock)
    })?;
    let (file_writer, guard) = tracing_appender::non_blocking(file_appender);

    // RUST_LOG, when set, overrides LOG_LEVEL for ad-hoc debugging.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_filter));
    tracing_subscriber::registry()
        .with(filter)
        // Colour only for a person at a terminal, not for `docker logs` or files.
        .with(
            fmt::layer()
                .with_target(false)
                .with_ansi(std::io::stdout().is_terminal()),
        )
        .with(
            fmt::layer()
                .with_ansi(false)
                .fmt_fields(PlainFields)
                .with_writer(file_writer),
        )
        .try_init()?;
    Ok(guard)
}

/// The default field format under its own type: span fields are cached per formatter type,
/// so sharing `DefaultFields` with the coloured stdout layer would put colour codes into
/// the file.
struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        DefaultFields::new().format_fields(writer, fields)
    }
}
