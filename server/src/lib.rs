//! The dingding-attendance server: configuration, database, HTTP and CLI.

pub mod admin_cli;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod healthcheck;
pub mod legacy_cli;
pub mod log_file;
pub mod migrate_db_cli;
pub mod probe;
pub mod rekey_cli;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod worker;
