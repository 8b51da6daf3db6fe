//! HTTP routes outside the Leptos app: health, the REST API, middleware and error mapping.

pub mod api;
pub mod body_limit;
pub mod error;
pub mod fallback;
pub mod guard;
pub mod health;
pub mod links;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use app::ssr::Services;

/// State shared by the axum handlers and handed to the Leptos routes.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}
