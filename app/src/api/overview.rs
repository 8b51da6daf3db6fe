use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// What the home page shows about this installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemOverview {
    pub version: String,
    pub timezone: String,
    /// Wall-clock time in `timezone`, "YYYY-MM-DD HH:MM:SS".
    pub local_time: String,
    /// The UTC offset of `timezone` now, e.g. "+08:00".
    pub utc_offset: String,
    pub reminder_enabled: bool,
    pub work_overtime_min: u32,
}

#[server(prefix = "/api/fn", endpoint = "get_overview")]
pub async fn get_overview() -> Result<SystemOverview, AppError> {
    let signed_in = crate::ssr::auth::session_actor().await.map(|_| ());
    crate::ssr::respond(signed_in)?;
    let services = expect_context::<crate::ssr::Services>();
    let reminders = crate::ssr::respond(crate::ssr::settings::effective(&services).await)?;
    Ok(crate::ssr::overview::system_overview(
        &services.settings,
        &reminders,
        services.clock.now(),
    ))
}
