//! `GET /api/health`: the container's and the load balancer's view of the service.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::SecondsFormat;
use serde::Serialize;

use super::AppState;

/// A database that does not answer within this time counts as down.
const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub database: &'static str,
    /// The reminder worker: `running`, `starting` or `stalled` (no tick for 3 minutes).
    pub scheduler: String,
    pub worker: Option<app::wire::WorkerStatus>,
    /// The server's time in the configured zone, RFC 3339.
    pub time: String,
    pub timezone: &'static str,
}

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let services = &state.services;
    let database_ok = matches!(
        tokio::time::timeout(DATABASE_PROBE_TIMEOUT, services.db.ping()).await,
        Ok(Ok(()))
    );
    let zone = services.settings.timezone;
    let worker = if database_ok {
        app::ssr::reminders::views::worker_status(services)
            .await
            .ok()
    } else {
        None
    };
    let stalled = worker
        .as_ref()
        .is_some_and(|worker| worker.state == "stalled");
    let healthy = database_ok && !stalled;
    let health = Health {
        status: if healthy { "ok" } else { "error" },
        version: app::VERSION,
        database: if database_ok { "ok" } else { "error" },
        scheduler: worker
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |worker| worker.state.clone()),
        worker,
        time: services
            .clock
            .now()
            .with_timezone(&zone.tz())
            .to_rfc3339_opts(SecondsFormat::Secs, false),
        timezone: zone.name(),
    };
    if !database_ok {
        tracing::warn!("health check: database did not answer");
    }
    if stalled {
        tracing::warn!("health check: the reminder worker has not ticked for 3 minutes");
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}
