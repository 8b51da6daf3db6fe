//! Requests that change the plan (leave, swap, cover, open shifts), their append-only
//! history and the notices about them (an outbox the worker sends from); deliveries become unique per shift too, so that a shift that changes hands on
//! its day is reminded to its new owner even when the old one's reminder was already sent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Requests::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Requests::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(Requests::State).string_len(16).not_null())
                    // Open shifts: the admin who posted it.
                    .col(ColumnDef::new(Requests::RequesterId).integer().not_null())
                    // Swap and cover: the colleague; open shifts: whoever claimed it.
                    .col(ColumnDef::new(Requests::PeerId).integer().null())
                    // Leave: the first day; the others: the requester's (or the open) shift date.
                    .col(ColumnDef::new(Requests::Date).date().not_null())
                    // Leave: the last day.
                    .col(ColumnDef::new(Requests::EndDate).date().null())
                    // Swap: the colleague's date.
                    .col(ColumnDef::new(Requests::PeerDate).date().null())
                    // Open shifts: the shift posted.
                    .col(ColumnDef::new(Requests::ShiftId).integer().null())
                    .col(ColumnDef::new(Requests::LeaveType).string_len(16).null())
                    .col(ColumnDef::new(Requests::DayPart).string_len(16).null())
                    .col(ColumnDef::new(Requests::Reason).string_len(200).null())
                    .col(
                        ColumnDef::new(Requests::DecisionReason)
                            .string_len(200)
                            .null(),
                    )
                    // JSON: the schedule cells as they were when it was made, and once
                    // approved as the approval left them (for invalidation and revoking).
                    .col(ColumnDef::new(Requests::CellsBefore).text().null())
                    .col(ColumnDef::new(Requests::CellsAfter).text().null())
                    // Undecided past this instant (the first shift it names starts), it expires.
                    .col(
                        ColumnDef::new(Requests::StartsAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Requests::CreatedBy).integer().null())
                    .col(
                        ColumnDef::new(Requests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Requests::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::RequesterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::PeerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::ShiftId)
                            .to(Shifts::Table, Shifts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_requests_state_starts",
                vec![Requests::State, Requests::StartsAt],
            ),
            (
                "ix_requests_requester",
                vec![Requests::RequesterId, Requests::Date],
            ),
            ("ix_requests_peer", vec![Requests::PeerId, Requests::Date]),
            ("ix_requests_date", vec![Requests::Date]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Requests::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RequestEvents::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RequestEvents::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RequestEvents::RequestId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RequestEvents::Action)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RequestEvents::FromState)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RequestEvents::ToState)
                            .string_len(16)
                            .not_null(),
                    )
                    // NULL: the system, or the installation's API token (see actor_name).
                    .col(ColumnDef::new(RequestEvents::ActorId).integer().null())
                    .col(
                        ColumnDef::new(RequestEvents::ActorName)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RequestEvents::Note).string_len(500).null())
                    .col(
                        ColumnDef::new(RequestEvents::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestEvents::Table, RequestEvents::RequestId)
                            .to(Requests::Table, Requests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_request_events_request")
                    .table(RequestEvents::Table)
                    .col(RequestEvents::RequestId)
                    .col(RequestEvents::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notices::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Notices::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notices::UserId).integer().not_null())
                    .col(ColumnDef::new(Notices::RequestId).integer().null())
                    .col(ColumnDef::new(Notices::Kind).string_len(24).not_null())
                    // What makes it once: the event and person it is for.
                    .col(
                        ColumnDef::new(Notices::DedupeKey)
                            .string_len(80)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Notices::Title).string_len(64).not_null())
                    .col(ColumnDef::new(Notices::Body).string_len(2000).not_null())
                    .col(ColumnDef::new(Notices::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Notices::Attempts).integer().not_null())
                    .col(
                        ColumnDef::new(Notices::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notices::DeadlineAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notices::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Notices::ChannelName).string_len(200).null())
                    .col(ColumnDef::new(Notices::Answer).string_len(2000).null())
                    .col(
                        ColumnDef::new(Notices::IdempotencyKey)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notices::SentAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Notices::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notices::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notices::Table, Notices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notices::Table, Notices::RequestId)
                            .to(Requests::Table, Requests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notices_status_next")
                    .table(Notices::Table)
                    .col(Notices::Status)
                    .col(Notices::NextAttemptAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("ux_deliveries_reminder")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_deliveries_reminder_shift")
                    .table(Deliveries::Table)
                    .col(Deliveries::UserId)
                    .col(Deliveries::Date)
                    .col(Deliveries::Kind)
                    .col(Deliveries::Sequence)
                    .col(Deliveries::ShiftId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_deliveries_reminder_shift")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
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
            .drop_table(Table::drop().table(Notices::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RequestEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Requests::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Requests {
    Table,
    Id,
    Kind,
    State,
    RequesterId,
    PeerId,
    Date,
    EndDate,
    PeerDate,
    ShiftId,
    LeaveType,
    DayPart,
    Reason,
    DecisionReason,
    CellsBefore,
    CellsAfter,
    StartsAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RequestEvents {
    Table,
    Id,
    RequestId,
    Action,
    FromState,
    ToState,
    ActorId,
    ActorName,
    Note,
    At,
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    UserId,
    RequestId,
    Kind,
    DedupeKey,
    Title,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    DeadlineAt,
    LeaseUntil,
    ChannelName,
    Answer,
    IdempotencyKey,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    UserId,
    Date,
    Kind,
    Sequence,
    ShiftId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shifts {
    Table,
    Id,
}
