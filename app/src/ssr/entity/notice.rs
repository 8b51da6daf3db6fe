use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

/// A notice about a request waiting to be sent, or sent (`ssr::notices`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub request_id: Option<i32>,
    pub kind: String,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub channel_name: Option<String>,
    pub answer: Option<String>,
    pub idempotency_key: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
