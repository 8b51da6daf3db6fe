use crate::AppError;
use crate::wire::SystemOverview;
use leptos::prelude::*;

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
