//! Drives the real server over HTTP: in-process on a random port with a temporary
//! database, and as a child process for the CLI, configuration and shutdown contract.

mod helpers;

mod accounts;
mod admin_cli;
mod backup;
mod bad_input;
mod channel_addresses;
mod cli;
mod company_apps;
mod health;
mod import_bounds;
mod legacy;
mod limits;
mod migrate_db;
mod mock_apps;
mod mock_push;
mod mock_robot;
mod openapi;
mod outbound_secrets;
mod pages;
mod process;
mod read_models;
mod reminder_processes;
mod reminders;
mod requests;
mod schedules;
mod secrets;
mod tokens;
