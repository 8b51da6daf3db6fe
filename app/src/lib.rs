//! dingding-attendance: domain rules, the Leptos UI and the server functions.
//!
//! `domain` is pure and compiled for both sides; `wire` the types the browser, the server
//! functions, the REST API and the services exchange; `ssr` holds server-only services;
//! `api` holds the server functions; `ui` the components and pages.

// The calendar views nest deeply; without `erase_components` (release builds) their view
// types exceed the default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod error;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
pub mod wire;

pub use error::AppError;
pub use ui::{App, shell};

/// The version shown in the UI and reported by `/api/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
