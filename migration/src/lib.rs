//! Database migrations. Append-only once landed; never import entities here.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_setting;
mod m20261123_000002_create_accounts;
mod m20261123_000003_create_schedules;
mod m20261123_000004_create_reminders;
mod m20261203_000005_create_access_tokens;
mod m20261203_000006_create_delivery_state;
mod m20261207_000007_create_channel_preferences;
mod m20261207_000008_create_requests;
mod m20261208_000009_create_data_version;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_setting::Migration),
            Box::new(m20261123_000002_create_accounts::Migration),
            Box::new(m20261123_000003_create_schedules::Migration),
            Box::new(m20261123_000004_create_reminders::Migration),
            Box::new(m20261203_000005_create_access_tokens::Migration),
            Box::new(m20261203_000006_create_delivery_state::Migration),
            Box::new(m20261207_000007_create_channel_preferences::Migration),
            Box::new(m20261207_000008_create_requests::Migration),
            Box::new(m20261208_000009_create_data_version::Migration),
        ]
    }
}
