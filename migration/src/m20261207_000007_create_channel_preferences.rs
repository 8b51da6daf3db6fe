//! Which channel a reminder goes to, in order: each person's own list per reminder kind,
//! and the team's default list (`user_id` null) set by admins. A channel that is deleted
//! leaves the lists.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChannelPreferences::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ChannelPreferences::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ChannelPreferences::UserId).integer().null())
                    .col(
                        ColumnDef::new(ChannelPreferences::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChannelPreferences::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChannelPreferences::ChannelId)
                            .integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChannelPreferences::Table, ChannelPreferences::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChannelPreferences::Table, ChannelPreferences::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_channel_preferences_user_kind")
                    .table(ChannelPreferences::Table)
                    .col(ChannelPreferences::UserId)
                    .col(ChannelPreferences::Kind)
                    .col(ChannelPreferences::Position)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChannelPreferences::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ChannelPreferences {
    Table,
    Id,
    UserId,
    Kind,
    Position,
    ChannelId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
}
