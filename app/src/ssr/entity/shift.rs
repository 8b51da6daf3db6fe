use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shifts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub label: String,
    pub color: String,
    pub start_time: String,
    pub end_time: String,
    pub rest: bool,
    pub remind_before_min: i32,
    pub remind_after_min: Option<i32>,
    pub note: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// NULL follows the global follow-up setting.
    pub follow_up_every_min: Option<i32>,
    pub follow_up_count: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
