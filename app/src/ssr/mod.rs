//! Server-only services shared by server functions, the REST API and (later) the worker.

pub mod clock;
pub mod overview;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::domain::{Minutes, Timezone};
pub use clock::{Clock, SystemClock};

/// The settings services need at run time, taken from the validated server config.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub timezone: Timezone,
    pub reminder_enabled: bool,
    pub work_overtime: Minutes,
}

/// Everything a request or job needs, built once in `startup` and cloned cheaply.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<RuntimeSettings>,
}
