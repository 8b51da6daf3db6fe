//! Building and running the application, the same way in production and in tests.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::ssr::auth::AuthBackend;
use app::ssr::entity::user;
use app::ssr::session_store::DbSessionStore;
use app::ssr::{Clock, RuntimeSettings, Services, SystemClock, audit, bootstrap};
use axum::Router;
use axum::body::Body;
use axum::handler::Handler;
use axum::http::{HeaderValue, Request, Response, header};
use axum::middleware;
use axum::routing::{any, get};
use axum_login::AuthManagerLayerBuilder;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Span;

use crate::config::{Config, ConfigError, Environment};
use crate::db;
use crate::routes::api::SESSION_COOKIE;
use crate::routes::body_limit::{self, UploadSlots};
use crate::routes::guard::{self, RequestPolicy};
use crate::routes::{AppState, api, fallback, health};

/// Answers that are not pages (JSON, files) may not run anything; pages set their own
/// policy with a per-response nonce (see `app::shell`).
const NON_PAGE_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// How often expired sessions and old audit entries are swept.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);

/// In-flight requests get this long to finish after a shutdown signal.
/// Below this, `API_TOKEN` (an admin credential) is guessable enough to warn about.
const MIN_API_TOKEN_CHARS: usize = 32;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates `DATA_DIR`, `LOG_DIR`, `UPLOAD_DIR` and the SQLite file's directory, reporting
/// the first one that cannot be created as a configuration error.
pub fn create_writable_dirs(config: &Config) -> Result<(), ConfigError> {
    for (variable, dir) in config.writable_dirs() {
        ensure_writable_dir(dir).map_err(|error| {
            ConfigError::new(
                variable,
                &dir.display().to_string(),
                format!("expected a directory the server can create and write to ({error})"),
            )
        })?;
    }
    Ok(())
}

fn ensure_writable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Mode bits do not tell whether *this* user may write; trying does.
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// A built application: database migrated, listener bound, router ready.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: DatabaseConnection,
    services: Services,
    tick_seconds: u32,
}

/// Connections the kernel may hold for us before we accept them (capped by the system's
/// `net.core.somaxconn`). The default of 128 overflows when a team signs in at nine: the
/// kernel then answers with SYN cookies, some of which fail, and those clients get a reset.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` with `LISTEN_BACKLOG`; tests bind their random ports through this too.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

impl Application {
    /// Connects and migrates the database, then binds `HOST:PORT`.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let db = db::open(config).await?;
        let addr = config.socket_addr();
        let listener =
            listen(addr).with_context(|| format!("cannot listen on {addr} (HOST/PORT)"))?;
        let clock: Arc<dyn Clock> = match &config.test_clock_file {
            Some(path) => {
                tracing::warn!(path = %path.display(), "TEST_CLOCK_FILE: the clock reads this file");
                Arc::new(app::ssr::clock::FileClock::new(path.clone()))
            }
            None => Arc::new(SystemClock),
        };
        Self::assemble(config, listener, db, clock).await
    }

    /// For tests: an already-bound listener (port 0), a given database and clock.
    pub async fn with_listener(
        config: &Config,
        listener: TcpListener,
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Self::assemble(config, listener, db, clock).await
    }

    async fn assemble(
        config: &Config,
        listener: TcpListener,
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let site_addr = listener
            .local_addr()
            .unwrap_or_else(|_| config.socket_addr());
        let services = build_services(config, db.clone(), clock)?;
        seal_stored_secrets(config, &services).await?;
        prepare_accounts(config, &services).await?;
        suggest_legacy_import(config, &services).await;
        spawn_housekeeping(services.clone());
        let router = router(config, leptos_options(config, site_addr), services.clone());
        Ok(Self {
            listener,
            router,
            db,
            services,
            tick_seconds: config.reminder_tick_seconds,
        })
    }

    /// The services the server runs with (tests drive ticks through them).
    pub fn services(&self) -> Services {
        self.services.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has a local address")
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (signalled, mut signal_seen) = tokio::sync::watch::channel(false);
        let signalled = Arc::new(signalled);
        let mut worker_stop = signalled.subscribe();
        let worker = tokio::spawn(crate::worker::run(
            self.services.clone(),
            self.tick_seconds,
            async move {
                let _ = worker_stop.wait_for(|seen| *seen).await;
            },
        ));
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let signalled = signalled.clone();
            async move {
                shutdown.await;
                let _ = signalled.send(true);
            }
        });
        // A client that never lets its connection go must not keep the process alive.
        let deadline = async move {
            let _ = signal_seen.wait_for(|seen| *seen).await;
            tokio::time::sleep(REQUEST_TIMEOUT).await;
        };
        tokio::select! {
            result = server.into_future() => result.context("the HTTP server failed")?,
            () = deadline => tracing::warn!(
                "connections still open {} s after the shutdown signal; stopping anyway",
                REQUEST_TIMEOUT.as_secs()
            ),
        }
        // Also when the server failed without a signal.
        let _ = signalled.send(true);
        match tokio::time::timeout(REQUEST_TIMEOUT, worker).await {
            Ok(Ok(Err(error))) => tracing::warn!(%error, "reminder worker"),
            Err(_) => tracing::warn!("the reminder worker did not stop in time"),
            _ => {}
        }
        self.db.close().await.context("cannot close the database")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The services every request and command shares, from the validated configuration.
pub fn build_services(
    config: &Config,
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Services> {
    let mut settings = RuntimeSettings::new(config.timezone);
    settings.pinned = config.pinned.clone();
    settings.allow_private_webhooks = config.allow_private_webhooks;
    settings.outbound_proxy = config
        .outbound_proxy
        .as_ref()
        .map(|proxy| proxy.expose().to_owned());
    settings.rate_window_scale = config.robot_rate_window_scale;
    settings.dingtalk_api_base = config.dingtalk_api_base.clone();
    settings.service_bases = config.service_bases.clone();
    settings.audit_retention_days = config.audit_retention_days;
    settings.upload_retention_days = config.upload_retention_days;
    settings.session_idle = time::Duration::hours(i64::from(config.session_idle_hours));
    settings.session_remember = time::Duration::days(i64::from(config.session_remember_days));
    settings.upload_dir = Some(config.upload_dir.clone());
    settings.public_url = config.public_origin.clone();
    let secrets = app::ssr::secret_box::SecretBox::from_secret_key(config.secret_key.expose());
    Services::new(db, clock, settings, secrets).map_err(|error| anyhow::anyhow!("{error}"))
}

/// Seals robot URLs, signing secrets and tokens still stored in plaintext (from before
/// encryption, or written by an older version) and warns about values the current
/// `SECRET_KEY` cannot open.
async fn seal_stored_secrets(config: &Config, services: &Services) -> anyhow::Result<()> {
    let report = app::ssr::secret_store::seal_plaintext(services)
        .await
        .map_err(|error| anyhow::anyhow!("cannot encrypt the stored secrets: {error}"))?;
    if report.sealed_plaintext > 0 {
        tracing::info!(
            count = report.sealed_plaintext,
            "stored robot URLs, secrets and tokens are now encrypted with a key derived from SECRET_KEY"
        );
    }
    if !report.unreadable.is_empty() {
        let hint = if config.secret_key_is_development_default {
            "SECRET_KEY is unset, so the built-in development key is in use: set the SECRET_KEY              they were stored with"
        } else {
            "SECRET_KEY has changed since they were stored: run `dingding-attendance rekey`              with OLD_SECRET_KEY set to the previous key (or enter them again)"
        };
        tracing::warn!(
            count = report.unreadable.len(),
            places = %report.unreadable.join(", "),
            "stored secrets cannot be decrypted and are not used: {hint}"
        );
    }
    Ok(())
}

/// First run: creates the admin account; every run: warns while an admin still has the
/// original's default password.
async fn prepare_accounts(config: &Config, services: &Services) -> anyhow::Result<()> {
    let created = bootstrap::ensure_first_admin(
        services,
        config.admin_password.as_ref().map(|secret| secret.expose()),
        config.environment == Environment::Production,
    )
    .await
    .map_err(|error| anyhow::anyhow!("cannot create the first admin: {error}"))?;
    match created {
        Some(bootstrap::FirstAdminPassword::FromEnvironment) => {
            tracing::info!("first run: created the admin account \"admin\" with ADMIN_PASSWORD");
        }
        Some(bootstrap::FirstAdminPassword::LegacyDefault) => tracing::warn!(
            "first run (development): created \"admin\" with password \"admin123\"; \
             it must be changed at first login"
        ),
        Some(bootstrap::FirstAdminPassword::Generated(password)) => tracing::warn!(
            "================ FIRST RUN: admin login = admin / {password} ================ \
             (shown only this once; you must choose a new password at first login; \
             lost it? run `dingding-attendance create-admin admin`)"
        ),
        None => {}
    }
    let defaults = bootstrap::refresh_default_password_alert(services).await;
    if !defaults.is_empty() {
        tracing::warn!(
            admins = %defaults.join(", "),
            "an active admin still uses the default password admin123: change it now"
        );
    }
    if config
        .api_token
        .as_ref()
        .is_some_and(|token| token.expose().len() < MIN_API_TOKEN_CHARS)
    {
        tracing::warn!(
            "API_TOKEN is shorter than {MIN_API_TOKEN_CHARS} characters and grants admin rights: \
             use `openssl rand -hex 32`, or personal access tokens"
        );
    }
    Ok(())
}

/// When the Flask original's `app.db` sits in `DATA_DIR` (left untouched) and nobody but the
/// first admin has an account here yet, says exactly how to bring its data over.
async fn suggest_legacy_import(config: &Config, services: &Services) {
    let Some(legacy) = &config.legacy_database else {
        return;
    };
    let others = user::Entity::find()
        .filter(user::Column::UsernameKey.ne(bootstrap::FIRST_ADMIN_USERNAME))
        .count(&services.db)
        .await
        .unwrap_or(0);
    if others > 0 {
        tracing::info!(
            path = %legacy.display(),
            "the original Flask system's database is left untouched next to this one"
        );
        return;
    }
    tracing::warn!(
        "{} is the original Flask system's database: it is left untouched, and this server uses \
         {}. Import its users (with their passwords), shifts, schedules and settings with: \
         dingding-attendance import-legacy {} (with Docker: docker compose exec web \
         /app/dingding-attendance import-legacy /app/data/app.db); add --dry-run to preview",
        legacy.display(),
        db::describe(&config.database),
        legacy.display()
    );
}

/// Sweeps expired sessions and audit entries past their retention, now and periodically.
fn spawn_housekeeping(services: Services) {
    tokio::spawn(async move {
        let store = DbSessionStore::new(services.db.clone());
        let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        loop {
            interval.tick().await;
            match store.delete_expired().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "expired sessions removed"),
                Err(error) => tracing::warn!(%error, "cannot remove expired sessions"),
            }
            match audit::prune(&services).await {
                Ok(0) | Err(_) => {}
                Ok(count) => tracing::info!(count, "audit entries past retention removed"),
            }
            prune_uploads(&services).await;
        }
    });
}

/// Deletes kept import files past `UPLOAD_RETENTION_DAYS`.
async fn prune_uploads(services: &Services) {
    let Some(dir) = services.settings.upload_dir.clone() else {
        return;
    };
    let retention =
        Duration::from_secs(u64::from(services.settings.upload_retention_days) * 24 * 3600);
    let now = std::time::SystemTime::from(services.clock.now());
    let pruned =
        tokio::task::spawn_blocking(move || app::ssr::uploads::prune_expired(&dir, retention, now))
            .await;
    match pruned {
        Ok(Ok(0)) => {}
        Ok(Ok(count)) => tracing::info!(count, "kept uploads past retention removed"),
        Ok(Err(error)) => tracing::warn!(%error, "cannot remove old uploads"),
        Err(error) => tracing::warn!(%error, "removing old uploads failed"),
    }
}

fn leptos_options(config: &Config, site_addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("dingding-attendance")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .env(match config.environment {
            Environment::Production => Env::PROD,
            Environment::Development => Env::DEV,
        })
        .site_addr(site_addr)
        .reload_port(config.reload_port)
        .build()
}

/// The 64-byte cookie-signing key, derived from `SECRET_KEY` (any length).
fn session_key(secret: &crate::config::Secret) -> tower_sessions::cookie::Key {
    use sha2::{Digest, Sha512};
    let digest = Sha512::new()
        .chain_update(b"dingding-attendance session cookie v1\0")
        .chain_update(secret.expose().as_bytes())
        .finalize();
    tower_sessions::cookie::Key::from(digest.as_slice())
}

fn router(config: &Config, leptos_options: LeptosOptions, services: Services) -> Router {
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(services.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        // Off by default: the original is reached over plain http://server-ip:5000, where a
        // Secure cookie would silently break login. Set COOKIE_SECURE=true behind HTTPS.
        .with_secure(config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(services.settings.session_idle))
        // The cookie carries the session id signed with SECRET_KEY: ids read from a leaked
        // database or backup cannot be replayed, and rotating the key signs everyone out.
        .with_signed(session_key(&config.secret_key));
    let auth_layer =
        AuthManagerLayerBuilder::new(AuthBackend::new(services.db.clone()), session_layer).build();
    let policy = Arc::new(RequestPolicy {
        trust_proxy: config.trust_proxy,
        public_origin: config.public_origin.clone(),
    });
    let routes = generate_route_list(app::App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
    };
    let context_services = services.clone();
    let provide_services = move || provide_context(context_services.clone());
    // The site's files (`/pkg/…`, the icon), precompressed copies preferred; any other path
    // is the app's 404 page. Files are served here rather than by leptos's file handler,
    // which runs each file request in a reactive owner created under whatever owner the
    // thread holds: while another request's page was rendering, that owner took the page's
    // response headers (its Content-Security-Policy), and the page came back without them.
    let not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        provide_services.clone(),
        app::shell,
    );
    let site_files = ServeDir::new(&*leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        // Other methods on a path that is no file are the 404 page too, not 405.
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.with_state(state.clone()));
    Router::new()
        .leptos_routes_with_context(&state, routes, provide_services, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .merge(api::router())
        .route("/api/{*path}", any(fallback::api_not_found))
        .fallback_service(site_files)
        .layer(middleware::from_fn_with_state(
            services.settings.clone(),
            guard::session_rules,
        ))
        // Inside the auth layer: whether the caller is signed in decides the limit.
        .layer(middleware::from_fn_with_state(
            UploadSlots::default(),
            body_limit::limit_body,
        ))
        .layer(auth_layer)
        .layer(middleware::from_fn_with_state(
            policy.clone(),
            guard::reject_cross_site,
        ))
        .layer(middleware::from_fn_with_state(
            policy.clone(),
            guard::client_meta,
        ))
        .layer(middleware::from_fn_with_state(
            policy,
            guard::reject_foreign_host,
        ))
        .layer(CompressionLayer::new())
        // A bug that panics in a handler must cost one request a 500, never the
        // connection (or, with panic=abort, the process); `handlers_never_panic_on_input`
        // probes the API for such bugs.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings may carry tokens.
                .make_span_with(|request: &Request<Body>| {
                    let path = logged_path(request.uri().path());
                    tracing::info_span!("http", method = %request.method(), path = %path)
                })
                .on_request(())
                .on_response(
                    |response: &Response<Body>, latency: Duration, _span: &Span| {
                        tracing::info!(status = response.status().as_u16(), ?latency, "request");
                    },
                ),
        )
        // Added after the layers: container health probes every few seconds would drown
        // the request log.
        .route("/api/health", get(health::health))
        // Outermost, so every answer carries them, health checks included.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// The path as the request log shows it: a calendar feed's path is its secret, so only
/// the route is logged.
fn logged_path(path: &str) -> &str {
    if path.starts_with(app::ssr::calendar_feed::FEED_PATH) {
        "/api/calendar/<token>"
    } else if path.starts_with(app::ssr::action_links::LINK_PATH) {
        "/r/<token>"
    } else if path.starts_with(app::ssr::notices::REQUEST_LINK_PATH) {
        "/q/<token>"
    } else {
        path
    }
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    crate::routes::error::ApiError::custom(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "服务器内部错误",
        None,
    )
}

/// Warnings about the configuration, logged once logging is up, whatever the command.
pub fn log_config_warnings(config: &Config) {
    if config.secret_key_is_development_default {
        tracing::warn!(
            "SECRET_KEY is not set: using the built-in development key, which anyone can read \
             in the source; never deploy like this. Generate one with `openssl rand -hex 32`."
        );
    }
}

/// `serve`: the production entry point.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        version = app::VERSION,
        environment = config.environment.as_str(),
        database = %db::describe(&config.database),
        timezone = %config.timezone,
        reminder_enabled = config.reminder_enabled,
        "starting"
    );
    let application = Application::build(&config).await?;
    tracing::info!("listening on http://{}", application.local_addr());
    application.run_until_stopped(shutdown_signal()).await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (`docker stop`).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
