use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

/// One group robot's shared state: the row every process locks before taking a send slot,
/// and the ban after the robot refused us as too fast.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "robot_states")]
pub struct Model {
    /// SHA-256 of the robot's URL, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub robot_key: String,
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
