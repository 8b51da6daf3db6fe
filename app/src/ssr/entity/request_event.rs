use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

/// One step in a request's history; rows are only ever inserted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub request_id: i32,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<i32>,
    pub actor_name: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
