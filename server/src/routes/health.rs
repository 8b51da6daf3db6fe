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
    pub scheduler: &'static str,
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
    let health = Health {
        status: if database_ok { "ok" } else { "error" },
        version: app::VERSION,
        database: if database_ok { "ok" } else { "error" },
        // The reminder worker lands with the reminder engine; until then none runs.
        scheduler: if services.settings.reminder_enabled {
            "not_installed"
        } else {
            "disabled"
        },
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
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}
