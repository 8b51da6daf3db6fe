use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

/// One message sent (or about to be sent) to a group robot, kept for its rate-limit window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "robot_sends")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub robot_key: String,
    pub sent_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
