//! Building and running the application, the same way in production and in tests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::ssr::{Clock, RuntimeSettings, Services, SystemClock};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use axum::routing::{any, get};
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::config::{Config, ConfigError, Environment};
use crate::db;
use crate::routes::{AppState, fallback, health};

/// In-flight requests get this long to finish after a shutdown signal.
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
}

impl Application {
    /// Connects and migrates the database, then binds `HOST:PORT`.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate(&config.database)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database ({})",
                    db::describe(&config.database)
                )
            })?;
        let addr = config.socket_addr();
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (HOST/PORT)"))?;
        Ok(Self::assemble(config, listener, db, Arc::new(SystemClock)))
    }

    /// For tests: an already-bound listener (port 0), a given database and clock.
    pub fn with_listener(
        config: &Config,
        listener: TcpListener,
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::assemble(config, listener, db, clock)
    }

    fn assemble(
        config: &Config,
        listener: TcpListener,
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let site_addr = listener
            .local_addr()
            .unwrap_or_else(|_| config.socket_addr());
        let services = Services {
            db: db.clone(),
            clock,
            settings: Arc::new(RuntimeSettings {
                timezone: config.timezone,
                reminder_enabled: config.reminder_enabled,
                work_overtime: config.work_overtime,
            }),
        };
        let router = router(leptos_options(config, site_addr), services);
        Self {
            listener,
            router,
            db,
        }
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
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed")?;
        self.db.close().await.context("cannot close the database")?;
        tracing::info!("stopped");
        Ok(())
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

fn router(leptos_options: LeptosOptions, services: Services) -> Router {
    let routes = generate_route_list(app::App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
    };
    let context_services = services.clone();
    let provide_services = move || provide_context(context_services.clone());
    Router::new()
        .leptos_routes_with_context(&state, routes, provide_services.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .route("/api/{*path}", any(fallback::api_not_found))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            provide_services,
            app::shell,
        ))
        .layer(CompressionLayer::new())
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
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings may carry tokens.
                .make_span_with(|request: &Request<Body>| {
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(|response: &Response<Body>, latency: Duration, _span: &Span| {
                    tracing::info!(status = response.status().as_u16(), ?latency, "request");
                }),
        )
        // Added after the layers: container health probes every few seconds would drown
        // the request log.
        .route("/api/health", get(health::health))
        .with_state(state)
}

/// Warnings about the configuration, logged once logging is up, whatever the command.
pub fn log_config_warnings(config: &Config) {
    if config.secret_key_generated {
        tracing::warn!(
            "SECRET_KEY is not set: using a random key for this run (development only); \
             sessions will not survive a restart. Generate one with `openssl rand -hex 32`."
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
