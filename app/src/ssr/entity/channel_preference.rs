use sea_orm::entity::prelude::*;

/// One place in a channel order: a person's (or, with no `user_id`, the team's) list for
/// one reminder kind.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_preferences")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: Option<i32>,
    /// `clock_in` or `clock_out`.
    pub kind: String,
    pub position: i32,
    pub channel_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
