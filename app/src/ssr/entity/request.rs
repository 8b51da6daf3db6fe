use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;

/// A leave, swap, cover or open-shift request (`domain::request`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: String,
    pub state: String,
    pub requester_id: i32,
    pub peer_id: Option<i32>,
    pub date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub peer_date: Option<NaiveDate>,
    pub shift_id: Option<i32>,
    pub leave_type: Option<String>,
    pub day_part: Option<String>,
    pub reason: Option<String>,
    pub decision_reason: Option<String>,
    /// JSON `[[user_id, "date", shift_id|null], …]`.
    pub cells_before: Option<String>,
    pub cells_after: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub created_by: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
