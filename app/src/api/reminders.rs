//! Server functions for the reminder engine's pages: the dashboard, the preview, delivery
//! history, channels and settings. Each says who is asking, then calls the service the REST
//! API calls.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::wire::{
    BindReport, ChannelOrder, ChannelPatch, ChannelTestResult, ChannelView, Dashboard,
    DeliveryQuery, DeliveryView, NewChannel, NewPunch, Page, PunchView, SettingsPatch,
    SettingsView, UpcomingQuery, UpcomingView,
};

#[cfg(feature = "ssr")]
use crate::ssr::server_fn as server;

#[server(prefix = "/api/fn", endpoint = "load_dashboard", input = Json)]
pub async fn load_dashboard() -> Result<Dashboard, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::reminders::views::dashboard(&services, &actor).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "load_upcoming", input = Json)]
pub async fn load_upcoming(query: UpcomingQuery) -> Result<UpcomingView, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            crate::ssr::reminders::views::upcoming(&services, &actor, &query).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "load_deliveries", input = Json)]
pub async fn load_deliveries(query: DeliveryQuery) -> Result<Page<DeliveryView>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            crate::ssr::reminders::views::deliveries(&services, &actor, &query).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "retry_delivery", input = Json)]
pub async fn retry_delivery(id: i32) -> Result<DeliveryView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::reminders::views::retry(&services, &actor, &meta, id).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "record_punch", input = Json)]
pub async fn record_punch(input: NewPunch) -> Result<PunchView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::reminders::views::record_punch(&services, &actor, &meta, input).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "list_channels", input = Json)]
pub async fn list_channels() -> Result<Vec<ChannelView>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::channels::list(&services, &actor).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "create_channel", input = Json)]
pub async fn create_channel(input: NewChannel) -> Result<ChannelView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::channels::create(&services, &actor, &meta, input).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "update_channel", input = Json)]
pub async fn update_channel(id: i32, patch: ChannelPatch) -> Result<ChannelView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::channels::update(&services, &actor, &meta, id, patch).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "delete_channel", input = Json)]
pub async fn delete_channel(id: i32) -> Result<(), AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::channels::remove(&services, &actor, &meta, id).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "test_channel", input = Json)]
pub async fn test_channel(id: i32) -> Result<ChannelTestResult, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::channels::test(&services, &actor, id).await },
    )
    .await
}

/// Looks people up by mobile in company-app channel `id`'s directory (everyone active
/// when `user_ids` is `None`) and stores the ids found.
#[server(prefix = "/api/fn", endpoint = "bind_channel_people", input = Json)]
pub async fn bind_channel_people(
    id: i32,
    user_ids: Option<Vec<i32>>,
) -> Result<BindReport, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            let request = crate::wire::BindRequest { user_ids };
            crate::ssr::platform_ids::bind_by_mobile(&services, &actor, &meta, id, request).await
        },
    )
    .await
}

/// The channel order: the team's default (`team`), else the signed-in person's own.
#[server(prefix = "/api/fn", endpoint = "load_channel_order", input = Json)]
pub async fn load_channel_order(team: bool) -> Result<ChannelOrder, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            let owner = if team {
                None
            } else {
                Some(actor.user_id().ok_or(AppError::Forbidden)?)
            };
            crate::ssr::preferences::get(&services, &actor, owner).await
        },
    )
    .await
}

/// Replaces the team's default order (admins) or the signed-in person's own.
#[server(prefix = "/api/fn", endpoint = "save_channel_order", input = Json)]
pub async fn save_channel_order(team: bool, order: ChannelOrder) -> Result<ChannelOrder, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            let owner = if team {
                None
            } else {
                Some(actor.user_id().ok_or(AppError::Forbidden)?)
            };
            crate::ssr::preferences::put(&services, &actor, &meta, owner, order).await
        },
    )
    .await
}

/// A test message to the default robot for `kind` (`clock_in` or `clock_out`).
#[server(prefix = "/api/fn", endpoint = "test_default_robot", input = Json)]
pub async fn test_default_robot(kind: String) -> Result<ChannelTestResult, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move {
            let kind = crate::domain::reminder::ReminderKind::parse(&kind)
                .ok_or_else(|| AppError::invalid("kind", "应为 clock_in 或 clock_out"))?;
            crate::ssr::channels::test_default(&services, &actor, kind).await
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "load_settings", input = Json)]
pub async fn load_settings() -> Result<SettingsView, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::settings::view(&services, &actor).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "save_settings", input = Json)]
pub async fn save_settings(patch: SettingsPatch) -> Result<SettingsView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move { crate::ssr::settings::update(&services, &actor, &meta, patch).await },
    )
    .await
}
