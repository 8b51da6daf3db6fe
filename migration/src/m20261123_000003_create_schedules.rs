//! Shift types (班次), schedules (排班), imported holiday data, company days and calendar
//! feed tokens; seeds the original system's three shifts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Shifts::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Shifts::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Shifts::Name)
                            .string_len(20)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Shifts::Label).string_len(8).not_null())
                    .col(ColumnDef::new(Shifts::Color).string_len(7).not_null())
                    // Wall-clock "HH:MM"; an end at or before the start is on the next day.
                    .col(ColumnDef::new(Shifts::StartTime).string_len(5).not_null())
                    .col(ColumnDef::new(Shifts::EndTime).string_len(5).not_null())
                    .col(ColumnDef::new(Shifts::Rest).boolean().not_null())
                    .col(ColumnDef::new(Shifts::RemindBeforeMin).integer().not_null())
                    // NULL follows WORK_OVERTIME.
                    .col(ColumnDef::new(Shifts::RemindAfterMin).integer().null())
                    .col(ColumnDef::new(Shifts::Note).string_len(200).null())
                    .col(ColumnDef::new(Shifts::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Shifts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Shifts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Schedules::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Schedules::UserId).integer().not_null())
                    .col(ColumnDef::new(Schedules::Date).date().not_null())
                    .col(ColumnDef::new(Schedules::ShiftId).integer().not_null())
                    .col(ColumnDef::new(Schedules::Note).string_len(200).null())
                    .col(ColumnDef::new(Schedules::UpdatedBy).integer().null())
                    .col(
                        ColumnDef::new(Schedules::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Schedules::Table, Schedules::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // A shift in use cannot be deleted, only archived.
                    .foreign_key(
                        ForeignKey::create()
                            .from(Schedules::Table, Schedules::ShiftId)
                            .to(Shifts::Table, Shifts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One entry per person and day, enforced by the database whatever writes it.
        manager
            .create_index(
                Index::create()
                    .name("ux_schedules_user_date")
                    .table(Schedules::Table)
                    .col(Schedules::UserId)
                    .col(Schedules::Date)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_schedules_date")
                    .table(Schedules::Table)
                    .col(Schedules::Date)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_schedules_shift")
                    .table(Schedules::Table)
                    .col(Schedules::ShiftId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        // Statutory holiday data imported at run time; replaces the built-in data of the
        // same year.
        manager
            .create_table(
                Table::create()
                    .table(HolidayDays::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(HolidayDays::Date)
                            .date()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(HolidayDays::Year).integer().not_null())
                    .col(ColumnDef::new(HolidayDays::Name).string_len(64).not_null())
                    .col(ColumnDef::new(HolidayDays::OffDay).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_holiday_days_year")
                    .table(HolidayDays::Table)
                    .col(HolidayDays::Year)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        // Company-specific days off or working days; they win over statutory data.
        manager
            .create_table(
                Table::create()
                    .table(CompanyDays::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CompanyDays::Date)
                            .date()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CompanyDays::Name).string_len(64).not_null())
                    .col(ColumnDef::new(CompanyDays::OffDay).boolean().not_null())
                    .to_owned(),
            )
            .await?;

        // iCalendar subscription tokens: only a SHA-256 of the token is stored.
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CalendarFeeds::UserId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CalendarFeeds::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(CalendarFeeds::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CalendarFeeds::Table, CalendarFeeds::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        seed_original_shifts(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CalendarFeeds::Table.into_iden(),
            CompanyDays::Table.into_iden(),
            HolidayDays::Table.into_iden(),
            Schedules::Table.into_iden(),
            Shifts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The original system's shifts, so a fresh install (and a migrated one) starts with the
/// same choices. Seeded here, once, so deleting them later does not bring them back.
async fn seed_original_shifts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite has no timestamp type: write the same text form the application writes.
    let now = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            Expr::cust("strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')")
        }
        _ => Expr::current_timestamp(),
    };
    let mut insert = Query::insert();
    insert.into_table(Shifts::Table).columns([
        Shifts::Name,
        Shifts::Label,
        Shifts::Color,
        Shifts::StartTime,
        Shifts::EndTime,
        Shifts::Rest,
        Shifts::RemindBeforeMin,
        Shifts::Active,
        Shifts::CreatedAt,
        Shifts::UpdatedAt,
    ]);
    for (name, label, color, start, end, rest) in [
        ("A班", "A", "#3498db", "09:00", "18:00", false),
        ("B班", "B", "#e74c3c", "13:00", "22:00", false),
        ("休", "休", "#95a5a6", "00:00", "00:00", true),
    ] {
        insert.values_panic([
            name.into(),
            label.into(),
            color.into(),
            start.into(),
            end.into(),
            rest.into(),
            15.into(),
            true.into(),
            now.clone(),
            now.clone(),
        ]);
    }
    manager.exec_stmt(insert).await
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
    Name,
    Label,
    Color,
    StartTime,
    EndTime,
    Rest,
    RemindBeforeMin,
    RemindAfterMin,
    Note,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    UserId,
    Date,
    ShiftId,
    Note,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HolidayDays {
    Table,
    Date,
    Year,
    Name,
    OffDay,
}

#[derive(DeriveIden)]
enum CompanyDays {
    Table,
    Date,
    Name,
    OffDay,
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    UserId,
    TokenHash,
    CreatedAt,
}
