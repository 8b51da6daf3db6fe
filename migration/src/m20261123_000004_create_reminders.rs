//! The reminder engine: notification channels (通知渠道), the durable delivery table whose
//! unique key makes every reminder happen once, punch records, the worker's progress, and
//! the per-user and per-shift reminder preferences.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::RemindersEnabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        // NULL follows the global follow-up setting.
        for column in [Shifts::FollowUpEveryMin, Shifts::FollowUpCount] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shifts::Table)
                        .add_column(ColumnDef::new(column).integer().null())
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Channels::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Channels::Name).string_len(40).not_null())
                    .col(ColumnDef::new(Channels::Platform).string_len(16).not_null())
                    .col(ColumnDef::new(Channels::Url).text().not_null())
                    .col(ColumnDef::new(Channels::Secret).text().null())
                    .col(ColumnDef::new(Channels::Format).string_len(16).not_null())
                    // NULL: team-wide; otherwise the person's own robot.
                    .col(ColumnDef::new(Channels::UserId).integer().null())
                    .col(ColumnDef::new(Channels::ClockIn).boolean().not_null())
                    .col(ColumnDef::new(Channels::ClockOut).boolean().not_null())
                    .col(ColumnDef::new(Channels::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Channels::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Channels::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Channels::Table, Channels::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Deliveries::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Deliveries::UserId).integer().not_null())
                    .col(ColumnDef::new(Deliveries::Date).date().not_null())
                    .col(ColumnDef::new(Deliveries::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Deliveries::Sequence).integer().not_null())
                    .col(ColumnDef::new(Deliveries::ShiftId).integer().not_null())
                    .col(
                        ColumnDef::new(Deliveries::ShiftName)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deliveries::DueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deliveries::DeadlineAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Deliveries::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Deliveries::Attempts).integer().not_null())
                    .col(
                        ColumnDef::new(Deliveries::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deliveries::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Deliveries::ChannelId).integer().null())
                    .col(
                        ColumnDef::new(Deliveries::ChannelName)
                            .string_len(60)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Deliveries::Platform).string_len(16).null())
                    .col(
                        ColumnDef::new(Deliveries::SentAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Deliveries::CheckResult).text().null())
                    .col(ColumnDef::new(Deliveries::Answer).text().null())
                    .col(
                        ColumnDef::new(Deliveries::IdempotencyKey)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Deliveries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deliveries::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The guarantee: one row per reminder, whatever number of workers or restarts.
        manager
            .create_index(
                Index::create()
                    .name("ux_deliveries_reminder")
                    .table(Deliveries::Table)
                    .col(Deliveries::UserId)
                    .col(Deliveries::Date)
                    .col(Deliveries::Kind)
                    .col(Deliveries::Sequence)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_status_next")
                    .table(Deliveries::Table)
                    .col(Deliveries::Status)
                    .col(Deliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_due")
                    .table(Deliveries::Table)
                    .col(Deliveries::DueAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Punches::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Punches::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Punches::UserId).integer().not_null())
                    .col(ColumnDef::new(Punches::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Punches::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Punches::Source).string_len(40).not_null())
                    .col(
                        ColumnDef::new(Punches::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Punches::Table, Punches::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_punches_user_at")
                    .table(Punches::Table)
                    .col(Punches::UserId)
                    .col(Punches::At)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkerState::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(WorkerState::Name)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    // Reminders due up to this instant have been written to `deliveries`.
                    .col(
                        ColumnDef::new(WorkerState::CoveredUntil)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WorkerState::LastTickAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WorkerState::LastError).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WorkerState::Table.into_iden(),
            Punches::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Channels::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [Shifts::FollowUpEveryMin, Shifts::FollowUpCount] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shifts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RemindersEnabled)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    RemindersEnabled,
}

#[derive(DeriveIden)]
enum Shifts {
    Table,
    FollowUpEveryMin,
    FollowUpCount,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
    Name,
    Platform,
    Url,
    Secret,
    Format,
    UserId,
    ClockIn,
    ClockOut,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    UserId,
    Date,
    Kind,
    Sequence,
    ShiftId,
    ShiftName,
    DueAt,
    DeadlineAt,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    ChannelId,
    ChannelName,
    Platform,
    SentAt,
    CheckResult,
    Answer,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Punches {
    Table,
    Id,
    UserId,
    Kind,
    At,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WorkerState {
    Table,
    Name,
    CoveredUntil,
    LastTickAt,
    LastError,
}
