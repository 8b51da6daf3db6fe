//! Server-only services shared by server functions, the REST API and (later) the worker.

pub mod access_tokens;
pub mod action_links;
pub mod attempts;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod bootstrap;
pub mod calendar_feed;
pub mod channels;
pub mod clock;
pub mod entity;
pub mod holidays;
pub mod legacy_import;
pub mod login;
pub mod mailer;
pub mod notices;
pub mod notify;
pub mod outbound;
pub mod overview;
pub mod page;
pub mod password;
pub mod platform_ids;
pub mod preferences;
pub mod read_models;
pub mod reminders;
pub mod requests;
pub mod schedule_import;
pub mod schedules;
pub mod secret_box;
pub mod secret_store;
pub mod server_fn;
pub mod session_store;
pub mod settings;
pub mod shifts;
pub mod uploads;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::DatabaseConnection;
use subtle::ConstantTimeEq;

use crate::AppError;
use crate::domain::Timezone;
pub use clock::{Clock, SystemClock};
pub use password::Passwords;

/// `API_TOKEN`: compared in constant time, never printed.
#[derive(Clone)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
    pub fn new(token: &str) -> Self {
        Self(token.into())
    }

    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

/// The settings services need at run time, taken from the validated server config.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub timezone: Timezone,
    /// Settings pinned by environment variables (read-only on the settings page).
    pub pinned: settings::PinnedSettings,
    /// `ALLOW_PRIVATE_WEBHOOKS`: robots and checks may be on private addresses (and http).
    pub allow_private_webhooks: bool,
    /// Robots' rate-limit windows are multiplied by this (1; tests shrink it).
    pub rate_window_scale: f64,
    /// Where DingTalk's open API lives (tests point it at a mock).
    pub dingtalk_api_base: String,
    /// Where the hosted push services live (tests and mirrors override them).
    pub service_bases: crate::domain::channel::ServiceBases,
    pub audit_retention_days: u32,
    /// How long an idle session lasts without "remember me", and with it.
    pub session_idle: time::Duration,
    pub session_remember: time::Duration,
    /// Where uploaded import files are kept (`UPLOAD_DIR`); `None` keeps nothing.
    pub upload_dir: Option<std::path::PathBuf>,
    /// Kept uploads older than this many days are deleted (`UPLOAD_RETENTION_DAYS`).
    pub upload_retention_days: u32,
    /// `OUTBOUND_PROXY`: robots and checks go through it; without it, no proxy at all.
    pub outbound_proxy: Option<String>,
    /// `PUBLIC_URL`'s origin: the address in the one-click links of reminders (none
    /// without it).
    pub public_url: Option<String>,
}

impl RuntimeSettings {
    /// An instant as people here read it: "YYYY-MM-DD HH:MM" in `TIMEZONE`.
    pub fn local_minute(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.timezone.tz())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Defaults for everything but the time zone (tests, tools).
    pub fn new(timezone: Timezone) -> Self {
        Self {
            timezone,
            pinned: settings::PinnedSettings::default(),
            allow_private_webhooks: false,
            rate_window_scale: 1.0,
            dingtalk_api_base: "https://oapi.dingtalk.com".to_owned(),
            service_bases: crate::domain::channel::ServiceBases::default(),
            audit_retention_days: 180,
            session_idle: time::Duration::hours(12),
            session_remember: time::Duration::days(7),
            upload_dir: None,
            upload_retention_days: 30,
            outbound_proxy: None,
            public_url: None,
        }
    }
}

/// Everything a request or job needs, built once in `startup` and cloned cheaply.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<RuntimeSettings>,
    pub passwords: Passwords,
    /// Password checks still running, for the throttle.
    pub attempts: Arc<attempts::RunningAttempts>,
    pub outbound: outbound::Outbound,
    pub dispatcher: Arc<reminders::dispatch::Dispatcher>,
    pub heartbeat: Arc<reminders::Heartbeat>,
    pub dingtalk_tokens: Arc<reminders::check::TokenCache>,
    /// Company apps' access tokens, one per app, shared by every send of this process.
    pub app_tokens: Arc<notify::AppTokens>,
    /// Seals robot URLs, signing secrets and tokens at rest (key from `SECRET_KEY`).
    pub secrets: secret_box::SecretBox,
    /// Import files being parsed at once (`schedule_import::MAX_CONCURRENT_PARSES`).
    pub import_parses: Arc<tokio::sync::Semaphore>,
    /// What pages compute from data that changes a few times a day, keyed by the data
    /// version.
    pub read_models: Arc<read_models::ReadModels>,
    /// Whether an active admin still has the original's `admin123` (refreshed at start and
    /// after every password or admin change).
    default_password_in_use: Arc<AtomicBool>,
}

impl Services {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        settings: RuntimeSettings,
        secrets: secret_box::SecretBox,
    ) -> Result<Self, AppError> {
        let started_at = clock.now();
        Ok(Self {
            db,
            clock,
            outbound: outbound::Outbound::new(
                settings.allow_private_webhooks,
                settings.outbound_proxy.as_deref(),
            )?,
            settings: Arc::new(settings),
            passwords: Passwords::new()?,
            attempts: Arc::default(),
            dispatcher: Arc::default(),
            heartbeat: Arc::new(reminders::Heartbeat::new(started_at)),
            dingtalk_tokens: Arc::default(),
            app_tokens: Arc::default(),
            secrets,
            import_parses: Arc::new(tokio::sync::Semaphore::new(
                schedule_import::MAX_CONCURRENT_PARSES,
            )),
            read_models: Arc::default(),
            default_password_in_use: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN`
    /// (`IMMEDIATE`): a transaction that reads first and upgrades later fails at once with
    /// "database is locked" when another writer got there first, whereas waiting at
    /// `BEGIN` lets the busy timeout queue writers. PostgreSQL ignores the option.
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, AppError> {
        use sea_orm::TransactionTrait;
        self.db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
            .map_err(AppError::from)
    }

    /// Today's date in `TIMEZONE`.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock
            .now()
            .with_timezone(&self.settings.timezone.tz())
            .date_naive()
    }

    pub fn default_password_in_use(&self) -> bool {
        self.default_password_in_use.load(Ordering::Relaxed)
    }

    fn set_default_password_in_use(&self, in_use: bool) {
        self.default_password_in_use
            .store(in_use, Ordering::Relaxed);
    }
}

/// Services propagate database errors with `?`: each is logged here, once, and reaches
/// users only as "internal error".
impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        // PostgreSQL refuses U+0000 in text (SQLite stores it): input the edges did not
        // catch is still the caller's mistake, not the server's.
        if database_error_code(&error).as_deref() == Some(POSTGRES_NUL_IN_TEXT) {
            return AppError::invalid("text", "不能包含 NUL 字符（U+0000）");
        }
        tracing::error!(%error, "database error");
        AppError::Internal
    }
}

/// PostgreSQL's `character_not_in_repertoire`, its answer to U+0000 in text.
const POSTGRES_NUL_IN_TEXT: &str = "22021";

/// The database's own error code (SQLSTATE on PostgreSQL), when it gave one.
fn database_error_code(error: &sea_orm::DbErr) -> Option<String> {
    let (sea_orm::DbErr::Query(runtime) | sea_orm::DbErr::Exec(runtime)) = error else {
        return None;
    };
    let sea_orm::RuntimeErr::SqlxError(error) = runtime else {
        return None;
    };
    error
        .as_database_error()
        .and_then(|error| error.code())
        .map(|code| code.into_owned())
}

/// Server functions answer errors with the same status codes as the REST API (and a
/// `Retry-After` when throttled), not a blanket 500.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(
            axum::http::StatusCode::from_u16(error.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let Some(retry_after_secs) = error.retry_after_secs() {
            response.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
    }
    result
}
