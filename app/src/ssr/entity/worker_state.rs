use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

/// The reminder worker's progress, shared by every process on the database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "worker_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Reminders due up to this instant are in `deliveries`.
    pub covered_until: DateTime<Utc>,
    pub last_tick_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
