//! Accounts, their sessions and the audit log (操作日志).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Users::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Users::Username).string_len(32).not_null())
                    // Lower-cased username: uniqueness is case-insensitive on every backend.
                    .col(
                        ColumnDef::new(Users::UsernameKey)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::DisplayName).string_len(64).not_null())
                    .col(ColumnDef::new(Users::Mobile).string_len(11).null())
                    .col(ColumnDef::new(Users::DingtalkUserId).string_len(64).null())
                    .col(ColumnDef::new(Users::FeishuOpenId).string_len(64).null())
                    .col(ColumnDef::new(Users::WecomUserId).string_len(64).null())
                    .col(ColumnDef::new(Users::Email).string_len(254).null())
                    .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Users::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Users::MustChangePassword)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::LastLoginAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Sessions::Id)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    // Copied out of the session data so a password change can end the
                    // user's other sessions with one statement.
                    .col(ColumnDef::new(Sessions::UserId).integer().null())
                    .col(ColumnDef::new(Sessions::Data).text().not_null())
                    .col(
                        ColumnDef::new(Sessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expires_at")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditLog::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Kind).string_len(48).not_null())
                    // No foreign keys: the log outlives what it talks about.
                    .col(ColumnDef::new(AuditLog::ActorUserId).integer().null())
                    .col(
                        ColumnDef::new(AuditLog::ActorName)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Subject).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Ip).string_len(45).null())
                    .col(ColumnDef::new(AuditLog::UserAgent).string_len(255).null())
                    .col(ColumnDef::new(AuditLog::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_audit_log_created_at", vec![AuditLog::CreatedAt]),
            (
                "idx_audit_log_kind_subject",
                vec![AuditLog::Kind, AuditLog::Subject, AuditLog::CreatedAt],
            ),
            (
                "idx_audit_log_kind_ip",
                vec![AuditLog::Kind, AuditLog::Ip, AuditLog::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    DisplayName,
    Mobile,
    DingtalkUserId,
    FeishuOpenId,
    WecomUserId,
    Email,
    Role,
    Active,
    MustChangePassword,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CreatedAt,
    Kind,
    ActorUserId,
    ActorName,
    Subject,
    Ip,
    UserAgent,
    Detail,
}
