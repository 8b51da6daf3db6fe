use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub date: NaiveDate,
    pub kind: String,
    pub sequence: i32,
    pub shift_id: i32,
    pub shift_name: String,
    pub due_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub channel_id: Option<i32>,
    pub channel_name: String,
    pub platform: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub check_result: Option<String>,
    pub answer: Option<String>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// Shared by the deliveries sent together in one merged group message.
    pub message_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
