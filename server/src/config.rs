//! One typed configuration, parsed and validated once at start-up.
//!
//! Parsing reads variables through a lookup function, so tests build a `Config` from a
//! plain map and never touch the process environment. Nothing here writes to disk:
//! directories are created by `startup`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use app::domain::{Minutes, Timezone};

/// Secret keys that ship in the original's examples: treated as "not set".
const PLACEHOLDER_SECRET_KEYS: &[&str] = &[
    "your-secret-key-here",
    "your-secret-key-change-this",
    "change-me",
    "changeme",
    "secret",
];

/// The database file in `DATA_DIR` when `DATABASE_URL` is unset. Not `app.db`: that is the
/// Flask original's file name, and its database must sit next to ours untouched until it is
/// imported (`import-legacy`).
pub const DEFAULT_DATABASE_FILE: &str = "attendance.db";

/// Our default file name before `attendance.db`; still used when it holds our data and no
/// `attendance.db` exists (`db::locate`).
pub const PREVIOUS_DATABASE_FILE: &str = "app.db";

/// Used only in development when `SECRET_KEY` is unset; production refuses to start
/// without a key of its own.
pub const DEVELOPMENT_SECRET_KEY: &str = "development-only-key-never-use-in-production-0000";

/// A configuration value that was present but unusable: names the variable, the value and
/// what would have been accepted. Its `Display` is the one line printed before exiting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}={value:?} is invalid: {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Self {
            variable,
            // Never echo a secret back, even an invalid one.
            value: if is_secret_variable(variable) {
                "<redacted>".to_owned()
            } else if variable == "DATABASE_URL" {
                redact_password(value)
            } else {
                value.to_owned()
            },
            expected: expected.into(),
        }
    }
}

/// `scheme://user:password@host/...` with the password replaced, so a database URL can be
/// shown in an error message.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:<redacted>@{host}{path}")
        }
        None => url.to_owned(),
    }
}

fn is_secret_variable(variable: &str) -> bool {
    matches!(
        variable,
        "SECRET_KEY"
            | "API_TOKEN"
            | "CHECK_TOKEN"
            | "OUTBOUND_PROXY"
            | "ADMIN_PASSWORD"
            | "CHECK_URL"
            | "WORKING_URL"
            | "NO_WORK_URL"
            | "WORKING_SECRET"
            | "NO_WORK_SECRET"
            | "DINGTALK_APP_SECRET"
    )
}

/// A string whose `Debug` and `Display` never reveal it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Development,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
        }
    }
}

/// Where the data lives. SQLite paths are kept as paths so the directory can be created
/// before connecting; PostgreSQL URLs are passed through untouched.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(SqliteLocation),
    Postgres(Secret),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    File(PathBuf),
    /// A private in-memory database, for tests.
    Memory,
}

impl DatabaseUrl {
    /// Accepts sqlx's `sqlite://relative.db`, `sqlite:relative.db`, `sqlite::memory:` and
    /// SQLAlchemy's `sqlite:///relative.db` / `sqlite:////absolute.db` used by the Flask
    /// original, plus `postgres://` / `postgresql://`. Query strings such as `?mode=rwc`
    /// are accepted and ignored: we always create the file if missing.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let expected = "expected sqlite://path/to/attendance.db, sqlite:////absolute/attendance.db or postgres://user:password@host/db";
        let invalid = || ConfigError::new("DATABASE_URL", raw, expected);
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let rest = raw.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') {
                return Err(invalid());
            }
            return Ok(Self::Postgres(Secret::new(raw)));
        }
        let Some(rest) = raw.strip_prefix("sqlite:") else {
            return Err(invalid());
        };
        let path = rest.split('?').next().unwrap_or_default();
        if path == ":memory:" || path == "//:memory:" {
            return Ok(Self::Sqlite(SqliteLocation::Memory));
        }
        // SQLAlchemy: three slashes mean a relative path, four an absolute one.
        let path = if let Some(absolute) = path.strip_prefix("////") {
            format!("/{absolute}")
        } else if let Some(relative) = path.strip_prefix("///") {
            relative.to_owned()
        } else if let Some(sqlx_path) = path.strip_prefix("//") {
            sqlx_path.to_owned()
        } else {
            path.to_owned()
        };
        if path.is_empty() || path.ends_with('/') {
            return Err(invalid());
        }
        Ok(Self::Sqlite(SqliteLocation::File(PathBuf::from(path))))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(location) => f.debug_tuple("Sqlite").field(location).finish(),
            Self::Postgres(_) => f.write_str("Postgres(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub secret_key: Secret,
    /// True when `secret_key` is the built-in development key because none was configured
    /// (development only: it keeps sessions across `cargo leptos watch` rebuilds).
    pub secret_key_is_development_default: bool,
    pub database: DatabaseUrl,
    /// `DATABASE_URL` was unset: `database` is `DATA_DIR/attendance.db`, which start-up may
    /// replace with an existing `DATA_DIR/app.db` of ours (`db::locate`).
    pub database_is_default: bool,
    /// `DATABASE_MAX_CONNECTIONS`: the connection pool's size; `None` for the default (10
    /// for PostgreSQL, 8 for SQLite). Replicas multiply it: keep their sum under the
    /// server's `max_connections`.
    pub database_pool_size: Option<u32>,
    /// The Flask original's database found at `DATA_DIR/app.db` by `db::locate`: never
    /// opened for writing; start-up suggests importing it.
    pub legacy_database: Option<PathBuf>,
    pub api_token: Option<Secret>,
    pub check_url: Option<Secret>,
    pub working_url: Option<Secret>,
    pub no_work_url: Option<Secret>,
    pub reminder_enabled: bool,
    pub work_overtime: Minutes,
    pub timezone: Timezone,
    pub host: IpAddr,
    pub port: u16,
    pub log_filter: String,
    pub log_dir: PathBuf,
    pub data_dir: PathBuf,
    pub upload_dir: PathBuf,
    /// Where cargo-leptos put the compiled site (wasm, js, css, assets).
    pub site_root: PathBuf,
    /// cargo-leptos's live-reload port during `cargo leptos watch`.
    pub reload_port: u32,
    /// The first admin's password on an empty database (and `create-admin`'s fallback).
    pub admin_password: Option<Secret>,
    /// Mark the session cookie `Secure` (only when users reach the server over HTTPS).
    pub cookie_secure: bool,
    pub session_idle_hours: u32,
    pub session_remember_days: u32,
    pub audit_retention_days: u32,
    /// Kept import files older than this are deleted.
    pub upload_retention_days: u32,
    /// `scheme://host[:port]` users type to reach the server, when behind a proxy that
    /// rewrites `Host`; cross-site checks accept it besides the request's own host.
    pub public_origin: Option<String>,
    /// Take the client IP from `X-Forwarded-For` (only behind a reverse proxy you control).
    pub trust_proxy: bool,
    /// Every setting an environment variable pins (REMINDER_ENABLED, WORK_OVERTIME, CHECK_URL,
    /// WORKING_URL, …), validated; the settings page shows them read-only.
    pub pinned: app::ssr::settings::PinnedSettings,
    /// Robots and checks may live on private addresses and use http (local robots, tests).
    pub allow_private_webhooks: bool,
    /// Outbound requests go through this proxy; without it the environment's proxy
    /// variables are ignored.
    pub outbound_proxy: Option<Secret>,
    /// How often the reminder worker ticks: a divisor of 60 seconds.
    pub reminder_tick_seconds: u32,
    /// Multiplies the robots' rate-limit windows (tests shrink them).
    pub robot_rate_window_scale: f64,
    /// Hosted push services' and company platforms' addresses (`SERVERCHAN_API_BASE`,
    /// `PUSHPLUS_API_BASE`, `WXPUSHER_API_BASE`, `DINGTALK_API_BASE`, `FEISHU_API_BASE`,
    /// `WECOM_API_BASE`), for tests and mirrors.
    pub service_bases: app::domain::channel::ServiceBases,
    pub dingtalk_api_base: String,
    /// Development and tests only: read "now" from this file (RFC 3339) instead of the system
    /// clock, so a test can move time forward.
    pub test_clock_file: Option<PathBuf>,
}

impl Config {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        load_dot_env(Path::new(".env"))?;
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses every variable; `lookup` returns a variable's value, `None` when unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Empty values count as unset, as in the Flask original's `os.environ.get(..) or default`.
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let environment = parse_environment(&var)?;

        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let (database, database_is_default) = match var("DATABASE_URL") {
            Some(raw) => (DatabaseUrl::parse(&raw)?, false),
            None => (
                DatabaseUrl::Sqlite(SqliteLocation::File(data_dir.join(DEFAULT_DATABASE_FILE))),
                true,
            ),
        };

        let (secret_key, secret_key_is_development_default) = match (var("SECRET_KEY"), environment)
        {
            (Some(key), _) if !is_placeholder_secret(&key) => (Secret::new(key), false),
            (_, Environment::Development) => (Secret::new(DEVELOPMENT_SECRET_KEY), true),
            (raw, Environment::Production) => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    raw.as_deref().unwrap_or(""),
                    "a private random value is required in production; generate one with \
                     `openssl rand -hex 32` (or `python3 -c 'import secrets; print(secrets.token_hex(32))'`) \
                     and put it in .env as SECRET_KEY=...",
                ));
            }
        };

        let reminder_enabled = match var("REMINDER_ENABLED") {
            Some(raw) => parse_bool(&raw).ok_or_else(|| {
                ConfigError::new("REMINDER_ENABLED", &raw, "expected true or false")
            })?,
            None => true,
        };

        let work_overtime = match var("WORK_OVERTIME") {
            Some(raw) => Minutes::parse(&raw)
                .map_err(|rule| ConfigError::new("WORK_OVERTIME", &raw, rule.to_string()))?,
            None => Minutes::ZERO,
        };

        // TIMEZONE wins; TZ (set in containers) is the fallback.
        let timezone = match var("TIMEZONE")
            .map(|v| ("TIMEZONE", v))
            .or_else(|| var("TZ").map(|v| ("TZ", v)))
        {
            Some((name, raw)) => Timezone::parse(&raw)
                .map_err(|rule| ConfigError::new(name, &raw, rule.to_string()))?,
            None => Timezone::default(),
        };

        let host = match var("HOST") {
            Some(raw) => raw.parse::<IpAddr>().map_err(|_| {
                ConfigError::new(
                    "HOST",
                    &raw,
                    "expected an IP address such as 0.0.0.0 or 127.0.0.1",
                )
            })?,
            None => IpAddr::from([0, 0, 0, 0]),
        };
        let port = match var("PORT") {
            Some(raw) => parse_port(&raw)?,
            None => 5000,
        };

        let log_filter = match var("LOG_LEVEL") {
            Some(raw) => parse_log_level(&raw)?,
            None => default_log_filter(environment).to_owned(),
        };

        let reload_port = match var("LEPTOS_RELOAD_PORT") {
            Some(raw) => raw.parse::<u32>().map_err(|_| {
                ConfigError::new("LEPTOS_RELOAD_PORT", &raw, "expected a port number")
            })?,
            None => 5001,
        };

        Ok(Self {
            environment,
            secret_key,
            secret_key_is_development_default,
            database,
            database_is_default,
            database_pool_size: var("DATABASE_MAX_CONNECTIONS")
                .is_some()
                .then(|| bounded_number(&var, "DATABASE_MAX_CONNECTIONS", 10, 2..=500))
                .transpose()?,
            legacy_database: None,
            api_token: var("API_TOKEN").map(Secret::new),
            check_url: optional_url(&var, "CHECK_URL")?,
            working_url: optional_url(&var, "WORKING_URL")?,
            no_work_url: optional_url(&var, "NO_WORK_URL")?,
            reminder_enabled,
            work_overtime,
            timezone,
            host,
            port,
            log_filter,
            log_dir: PathBuf::from(var("LOG_DIR").unwrap_or_else(|| "logs".to_owned())),
            data_dir,
            upload_dir: PathBuf::from(var("UPLOAD_DIR").unwrap_or_else(|| "uploads".to_owned())),
            site_root: PathBuf::from(
                var("SITE_ROOT")
                    .or_else(|| var("LEPTOS_SITE_ROOT"))
                    .unwrap_or_else(|| "target/site".to_owned()),
            ),
            reload_port,
            admin_password: var("ADMIN_PASSWORD").map(Secret::new),
            cookie_secure: optional_bool(&var, "COOKIE_SECURE", false)?,
            session_idle_hours: bounded_number(&var, "SESSION_IDLE_HOURS", 12, 1..=720)?,
            session_remember_days: bounded_number(&var, "SESSION_REMEMBER_DAYS", 7, 1..=365)?,
            audit_retention_days: bounded_number(&var, "AUDIT_RETENTION_DAYS", 180, 1..=3650)?,
            upload_retention_days: bounded_number(&var, "UPLOAD_RETENTION_DAYS", 30, 1..=3650)?,
            public_origin: var("PUBLIC_URL")
                .map(|raw| parse_origin(&raw))
                .transpose()?,
            trust_proxy: optional_bool(&var, "TRUST_PROXY", false)?,
            pinned: app::ssr::settings::PinnedSettings::from_lookup(var).map_err(
                |(variable, value, expected)| ConfigError::new(variable, &value, expected),
            )?,
            allow_private_webhooks: optional_bool(&var, "ALLOW_PRIVATE_WEBHOOKS", false)?,
            outbound_proxy: var("OUTBOUND_PROXY")
                .map(|raw| parse_proxy(&raw))
                .transpose()?,
            reminder_tick_seconds: parse_tick(&var)?,
            robot_rate_window_scale: match var("ROBOT_RATE_WINDOW_SCALE") {
                None => 1.0,
                Some(raw) => match raw.parse::<f64>() {
                    Ok(scale) if scale > 0.0 && scale <= 1.0 => scale,
                    _ => {
                        return Err(ConfigError::new(
                            "ROBOT_RATE_WINDOW_SCALE",
                            &raw,
                            "expected a number above 0 and at most 1",
                        ));
                    }
                },
            },
            service_bases: app::domain::channel::ServiceBases::with_overrides(
                var("SERVERCHAN_API_BASE").as_deref(),
                var("PUSHPLUS_API_BASE").as_deref(),
                var("WXPUSHER_API_BASE").as_deref(),
            )
            .with_platforms(
                var("DINGTALK_API_BASE").as_deref(),
                var("FEISHU_API_BASE").as_deref(),
                var("WECOM_API_BASE").as_deref(),
            ),
            dingtalk_api_base: var("DINGTALK_API_BASE")
                .map(|raw| raw.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| "https://oapi.dingtalk.com".to_owned()),
            test_clock_file: match (var("TEST_CLOCK_FILE"), environment) {
                (None, _) => None,
                (Some(path), Environment::Development) => Some(PathBuf::from(path)),
                (Some(path), Environment::Production) => {
                    return Err(ConfigError::new(
                        "TEST_CLOCK_FILE",
                        &path,
                        "only allowed in development (APP_ENV=development): it replaces the clock",
                    ));
                }
            },
        })
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The directories the server writes to, each with the variable that configures it.
    pub fn writable_dirs(&self) -> Vec<(&'static str, &Path)> {
        let mut dirs = vec![
            ("DATA_DIR", self.data_dir.as_path()),
            ("LOG_DIR", self.log_dir.as_path()),
            ("UPLOAD_DIR", self.upload_dir.as_path()),
        ];
        if let DatabaseUrl::Sqlite(SqliteLocation::File(path)) = &self.database
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            dirs.push(("DATABASE_URL", parent));
        }
        dirs
    }
}

/// Loads `.env` from the working directory into the process environment; variables already
/// set win. A missing file is normal; a malformed one stops start-up, because dotenvy stops
/// at the first bad line and would silently drop every variable after it.
pub fn load_dot_env(path: &Path) -> Result<(), ConfigError> {
    match dotenvy::from_path(path) {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(ConfigError::new(
            ".env",
            &path.display().to_string(),
            format!("expected KEY=VALUE lines ({error})"),
        )),
    }
}

fn parse_environment(var: &impl Fn(&str) -> Option<String>) -> Result<Environment, ConfigError> {
    // APP_ENV, then the original's FLASK_CONFIG. Without either, LEPTOS_ENV decides, and
    // then the build: debug builds (`cargo leptos watch`) are for development, release
    // builds (the image, `make run`) are production and so safe by default.
    for name in ["APP_ENV", "FLASK_CONFIG"] {
        if let Some(raw) = var(name) {
            return match raw.to_ascii_lowercase().as_str() {
                "production" | "prod" => Ok(Environment::Production),
                "development" | "dev" | "default" | "testing" => Ok(Environment::Development),
                _ => Err(ConfigError::new(
                    if name == "APP_ENV" {
                        "APP_ENV"
                    } else {
                        "FLASK_CONFIG"
                    },
                    &raw,
                    "expected production or development",
                )),
            };
        }
    }
    Ok(match var("LEPTOS_ENV").as_deref() {
        Some("DEV") => Environment::Development,
        Some("PROD") => Environment::Production,
        _ => default_environment(cfg!(debug_assertions)),
    })
}

fn default_environment(debug_build: bool) -> Environment {
    if debug_build {
        Environment::Development
    } else {
        Environment::Production
    }
}

fn is_placeholder_secret(key: &str) -> bool {
    PLACEHOLDER_SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str())
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn optional_bool(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match var(name) {
        Some(raw) => {
            parse_bool(&raw).ok_or_else(|| ConfigError::new(name, &raw, "expected true or false"))
        }
        None => Ok(default),
    }
}

fn bounded_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            ConfigError::new(
                name,
                &raw,
                format!(
                    "expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `PUBLIC_URL` reduced to its origin, `scheme://host[:port]`, lower-cased.
/// `OUTBOUND_PROXY`: `http://` or `https://` proxy, optionally with credentials.
fn parse_proxy(raw: &str) -> Result<Secret, ConfigError> {
    let scheme = raw
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    let host = raw
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit('@').next().unwrap_or_default())
        .unwrap_or_default();
    if !matches!(scheme.as_deref(), Some("http" | "https"))
        || host.is_empty()
        || raw.contains(char::is_whitespace)
    {
        return Err(ConfigError::new(
            "OUTBOUND_PROXY",
            raw,
            "expected a proxy such as http://proxy.internal:3128",
        ));
    }
    Ok(Secret::new(raw))
}

fn parse_origin(raw: &str) -> Result<String, ConfigError> {
    let invalid = || {
        ConfigError::new(
            "PUBLIC_URL",
            raw,
            "expected the address users open, such as https://kaoqin.example.com",
        )
    };
    let (scheme, rest) = raw.split_once("://").ok_or_else(invalid)?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return Err(invalid());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(invalid());
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

fn parse_port(raw: &str) -> Result<u16, ConfigError> {
    match raw.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => Err(ConfigError::new(
            "PORT",
            raw,
            "expected a port number between 1 and 65535",
        )),
    }
}

fn parse_log_level(raw: &str) -> Result<String, ConfigError> {
    let level = raw.to_ascii_lowercase();
    match level.as_str() {
        // Python's level names too, as the Flask original accepted them.
        "trace" | "debug" | "info" | "warn" | "warning" | "error" | "critical" | "fatal" => {
            let level = match level.as_str() {
                "warning" => "warn",
                "critical" | "fatal" => "error",
                other => other,
            };
            // sqlx logs every statement at info: keep it quiet unless asked for by a directive.
            Ok(format!("{level},sqlx=warn,sea_orm=warn"))
        }
        // Anything with '=' is a tracing directive list, e.g. "info,server=debug".
        _ if raw.contains('=') && tracing_subscriber::EnvFilter::try_new(raw).is_ok() => {
            Ok(raw.to_owned())
        }
        _ => Err(ConfigError::new(
            "LOG_LEVEL",
            raw,
            "expected trace, debug, info, warn or error (or a tracing directive such as info,server=debug)",
        )),
    }
}

fn default_log_filter(environment: Environment) -> &'static str {
    match environment {
        Environment::Production => "info,sqlx=warn,sea_orm=warn",
        Environment::Development => "info,server=debug,app=debug,sqlx=warn,sea_orm=warn",
    }
}

fn parse_tick(var: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    let Some(raw) = var("REMINDER_TICK_SECONDS") else {
        return Ok(5);
    };
    match raw.parse::<u32>() {
        Ok(seconds) if (1..=60).contains(&seconds) && 60 % seconds == 0 => Ok(seconds),
        _ => Err(ConfigError::new(
            "REMINDER_TICK_SECONDS",
            &raw,
            "expected a divisor of 60 between 1 and 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)",
        )),
    }
}

fn optional_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    let Some(raw) = var(name) else {
        return Ok(None);
    };
    let host = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .unwrap_or_default();
    if host.is_empty() || raw.contains(char::is_whitespace) {
        return Err(ConfigError::new(
            name,
            &raw,
            "expected an http:// or https:// URL",
        ));
    }
    Ok(Some(Secret::new(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn production(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vec![
            ("APP_ENV", "production"),
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        all.extend_from_slice(vars);
        parse(&all)
    }

    #[test]
    fn defaults_match_the_original_deployment() {
        let config = production(&[]).expect("valid");
        assert_eq!(config.port, 5000);
        assert_eq!(config.host, IpAddr::from([0, 0, 0, 0]));
        assert!(config.reminder_enabled);
        assert_eq!(config.work_overtime, Minutes::ZERO);
        assert_eq!(config.timezone.name(), "Asia/Shanghai");
        // Not the original's app.db: that file may still hold the Flask data.
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite(SqliteLocation::File(PathBuf::from("data/attendance.db")))
        );
        assert!(config.database_is_default);
        assert_eq!(config.legacy_database, None);
        assert_eq!(config.log_dir, PathBuf::from("logs"));
        assert_eq!(config.upload_dir, PathBuf::from("uploads"));
    }

    #[test]
    fn bad_work_overtime_names_variable_value_and_rule() {
        let err = production(&[("WORK_OVERTIME", "abc")]).unwrap_err();
        assert_eq!(err.variable, "WORK_OVERTIME");
        assert_eq!(err.value, "abc");
        assert!(err.to_string().contains("WORK_OVERTIME=\"abc\""), "{err}");
    }

    #[test]
    fn unknown_timezone_is_rejected() {
        let err = production(&[("TIMEZONE", "Mars/Base")]).unwrap_err();
        assert_eq!(
            (err.variable, err.value.as_str()),
            ("TIMEZONE", "Mars/Base")
        );
    }

    #[test]
    fn tz_is_the_fallback_for_timezone() {
        let config = production(&[("TZ", "Europe/Berlin")]).expect("valid");
        assert_eq!(config.timezone.name(), "Europe/Berlin");
        let config =
            production(&[("TZ", "Europe/Berlin"), ("TIMEZONE", "Asia/Tokyo")]).expect("valid");
        assert_eq!(config.timezone.name(), "Asia/Tokyo");
        let err = production(&[("TZ", "Nowhere/Town")]).unwrap_err();
        assert_eq!(err.variable, "TZ");
    }

    #[test]
    fn port_out_of_range_is_rejected() {
        for bad in ["99999", "0", "-1", "http"] {
            let err = production(&[("PORT", bad)]).unwrap_err();
            assert_eq!(err.variable, "PORT", "{bad}");
        }
        assert_eq!(production(&[("PORT", "8080")]).expect("valid").port, 8080);
    }

    #[test]
    fn database_urls_of_both_styles_are_understood() {
        let file = |p: &str| DatabaseUrl::Sqlite(SqliteLocation::File(PathBuf::from(p)));
        let cases = [
            ("sqlite://data/app.db?mode=rwc", file("data/app.db")),
            ("sqlite:///data/app.db", file("data/app.db")),
            ("sqlite:////app/data/app.db", file("/app/data/app.db")),
            ("sqlite:data/app.db", file("data/app.db")),
            (
                "sqlite::memory:",
                DatabaseUrl::Sqlite(SqliteLocation::Memory),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(DatabaseUrl::parse(raw).expect(raw), expected, "{raw}");
        }
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@db/app")
                .expect("pg")
                .backend(),
            "postgres"
        );
        for bad in [
            "foo://x",
            "mysql://db/x",
            "sqlite://",
            "postgres://",
            "data/app.db",
        ] {
            let err = DatabaseUrl::parse(bad).unwrap_err();
            assert_eq!(err.variable, "DATABASE_URL", "{bad}");
        }
    }

    #[test]
    fn database_defaults_into_data_dir() {
        let config = production(&[("DATA_DIR", "/srv/dd")]).expect("valid");
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite(SqliteLocation::File(PathBuf::from("/srv/dd/attendance.db")))
        );
        let explicit = production(&[("DATABASE_URL", "sqlite:///data/app.db")]).expect("valid");
        assert!(!explicit.database_is_default);
    }

    #[test]
    fn production_refuses_missing_or_placeholder_secret_key() {
        for key in ["", "your-secret-key-here", "your-secret-key-change-this"] {
            let err = parse(&[("FLASK_CONFIG", "production"), ("SECRET_KEY", key)]).unwrap_err();
            assert_eq!(err.variable, "SECRET_KEY");
            assert!(err.expected.contains("openssl rand -hex 32"), "{err}");
            assert!(
                !err.to_string().contains("your-secret"),
                "secret echoed: {err}"
            );
        }
    }

    #[test]
    fn development_uses_a_stable_built_in_key() {
        let config = parse(&[("APP_ENV", "development")]).expect("valid");
        assert!(config.secret_key_is_development_default);
        // Stable, so sessions survive `cargo leptos watch` rebuilds.
        let other = parse(&[("APP_ENV", "development")]).expect("valid");
        assert_eq!(config.secret_key, other.secret_key);
        let own = parse(&[
            ("APP_ENV", "development"),
            ("SECRET_KEY", "mine-0123456789"),
        ])
        .expect("valid");
        assert!(!own.secret_key_is_development_default);
    }

    #[test]
    fn environment_follows_app_env_then_flask_config_then_leptos_env() {
        let env = |vars: &[(&str, &str)]| parse(vars).map(|c| c.environment);
        assert_eq!(
            env(&[("APP_ENV", "development")]),
            Ok(Environment::Development)
        );
        assert_eq!(
            env(&[("FLASK_CONFIG", "development")]),
            Ok(Environment::Development)
        );
        assert_eq!(env(&[("LEPTOS_ENV", "DEV")]), Ok(Environment::Development));
        // APP_ENV wins over the original's FLASK_CONFIG.
        let production = env(&[("APP_ENV", "production"), ("FLASK_CONFIG", "development")]);
        assert_eq!(production.unwrap_err().variable, "SECRET_KEY");
        assert_eq!(
            env(&[("LEPTOS_ENV", "PROD")]).unwrap_err().variable,
            "SECRET_KEY"
        );
        assert_eq!(
            env(&[("APP_ENV", "staging")]).unwrap_err().variable,
            "APP_ENV"
        );
    }

    #[test]
    fn release_builds_default_to_production_debug_builds_to_development() {
        assert_eq!(default_environment(false), Environment::Production);
        assert_eq!(default_environment(true), Environment::Development);
    }

    #[test]
    fn database_password_is_never_echoed() {
        let err = DatabaseUrl::parse("postgresql+psycopg2://app:hunter2@db/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("app:<redacted>@db/x"), "{err}");
        assert_eq!(
            redact_password("sqlite:///data/app.db"),
            "sqlite:///data/app.db"
        );
    }

    #[test]
    fn malformed_dot_env_is_an_error_and_missing_is_fine() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load_dot_env(&dir.path().join(".env")).is_ok());
        let path = dir.path().join("bad.env");
        std::fs::write(&path, "DDA_TEST_FIRST=1\nthis line is 'broken\n").expect("write");
        let err = load_dot_env(&path).unwrap_err();
        assert_eq!(err.variable, ".env");
    }

    #[test]
    fn booleans_accept_common_spellings() {
        for (raw, expected) in [
            ("false", false),
            ("0", false),
            ("OFF", false),
            ("True", true),
            ("yes", true),
        ] {
            let config = production(&[("REMINDER_ENABLED", raw)]).expect(raw);
            assert_eq!(config.reminder_enabled, expected, "{raw}");
        }
        assert_eq!(
            production(&[("REMINDER_ENABLED", "maybe")])
                .unwrap_err()
                .variable,
            "REMINDER_ENABLED"
        );
    }

    #[test]
    fn webhook_urls_are_validated_and_never_echoed() {
        let err = production(&[(
            "WORKING_URL",
            "oapi.dingtalk.com/robot/send?access_token=abc",
        )])
        .unwrap_err();
        assert_eq!(err.variable, "WORKING_URL");
        assert!(!err.to_string().contains("access_token"), "{err}");
        let config = production(&[(
            "WORKING_URL",
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
        )])
        .expect("valid");
        assert!(!format!("{config:?}").contains("access_token"));
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let config = production(&[
            ("API_TOKEN", "tok-123456"),
            ("DATABASE_URL", "postgres://user:hunter2@db/app"),
        ])
        .expect("valid");
        let debug = format!("{config:?}");
        for secret in ["tok-123456", "hunter2", "0123456789abcdef"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[test]
    fn account_settings_have_safe_defaults_and_bounds() {
        let config = parse(&[]).unwrap();
        assert!(!config.cookie_secure);
        assert!(!config.trust_proxy);
        assert_eq!(
            (
                config.session_idle_hours,
                config.session_remember_days,
                config.audit_retention_days
            ),
            (12, 7, 180)
        );
        assert_eq!(config.public_origin, None);
        assert!(config.admin_password.is_none());

        let config = parse(&[
            ("COOKIE_SECURE", "true"),
            ("SESSION_IDLE_HOURS", "2"),
            ("PUBLIC_URL", "HTTPS://Kaoqin.Example.com:8443/app/"),
            ("ADMIN_PASSWORD", "s3cret-pass"),
        ])
        .unwrap();
        assert!(config.cookie_secure);
        assert_eq!(config.session_idle_hours, 2);
        assert_eq!(
            config.public_origin.as_deref(),
            Some("https://kaoqin.example.com:8443")
        );
        assert!(!format!("{config:?}").contains("s3cret-pass"));

        let error = parse(&[("SESSION_IDLE_HOURS", "0")]).unwrap_err();
        assert_eq!(error.variable, "SESSION_IDLE_HOURS");
        assert!(error.expected.contains("1 to 720"), "{error}");
        assert_eq!(
            parse(&[("COOKIE_SECURE", "maybe")]).unwrap_err().variable,
            "COOKIE_SECURE"
        );
        assert_eq!(
            parse(&[("PUBLIC_URL", "kaoqin.example.com")])
                .unwrap_err()
                .variable,
            "PUBLIC_URL"
        );
        assert_eq!(
            parse(&[("AUDIT_RETENTION_DAYS", "-1")])
                .unwrap_err()
                .variable,
            "AUDIT_RETENTION_DAYS"
        );
    }

    #[test]
    fn log_level_accepts_levels_and_directives() {
        assert!(
            production(&[("LOG_LEVEL", "DEBUG")])
                .expect("valid")
                .log_filter
                .starts_with("debug")
        );
        assert_eq!(
            production(&[("LOG_LEVEL", "info,server=trace")])
                .expect("valid")
                .log_filter,
            "info,server=trace"
        );
        assert!(
            production(&[("LOG_LEVEL", "CRITICAL")])
                .expect("valid")
                .log_filter
                .starts_with("error")
        );
        assert_eq!(
            production(&[("LOG_LEVEL", "loud")]).unwrap_err().variable,
            "LOG_LEVEL"
        );
    }
}
