//! Robot pacing in the database: what was sent to each group robot in its last rate-limit
//! window, and until when a robot that refused us as too fast is left alone, so every
//! process (after a restart, or beside another replica) keeps within the robot's limit.
//! Deliveries sent together in one merged group message share a `message_key`. The
//! one-click links in reminders record a person's "no more reminders today" and which
//! links were used.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RobotStates::Table)
                    .if_not_exists()
                    // SHA-256 of the robot's URL: the URL itself holds its token.
                    .col(
                        ColumnDef::new(RobotStates::RobotKey)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RobotStates::BannedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(RobotStates::BanReason).text().null())
                    .col(
                        ColumnDef::new(RobotStates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RobotSends::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RobotSends::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RobotSends::RobotKey)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RobotSends::SentAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_robot_sends_robot_sent_at")
                    .table(RobotSends::Table)
                    .col(RobotSends::RobotKey)
                    .col(RobotSends::SentAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReminderSkips::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ReminderSkips::UserId).integer().not_null())
                    .col(ColumnDef::new(ReminderSkips::Date).date().not_null())
                    .col(
                        ColumnDef::new(ReminderSkips::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ReminderSkips::UserId)
                            .col(ReminderSkips::Date),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReminderSkips::Table, ReminderSkips::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsedLinks::Table)
                    .if_not_exists()
                    // SHA-256 of the link's token.
                    .col(
                        ColumnDef::new(UsedLinks::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UsedLinks::UsedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::MessageKey).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_message_key")
                    .table(Deliveries::Table)
                    .col(Deliveries::MessageKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_deliveries_message_key")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::MessageKey)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(UsedLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ReminderSkips::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RobotSends::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RobotStates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RobotStates {
    Table,
    RobotKey,
    BannedUntil,
    BanReason,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RobotSends {
    Table,
    Id,
    RobotKey,
    SentAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    MessageKey,
}

#[derive(DeriveIden)]
enum ReminderSkips {
    Table,
    UserId,
    Date,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UsedLinks {
    Table,
    TokenHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
