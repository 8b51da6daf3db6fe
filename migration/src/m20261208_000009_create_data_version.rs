//! One counter that moves whenever anything the signed-in pages compute from changes:
//! schedules, shifts, people, channels, settings, holidays, requests. The server keeps
//! what it computes from them (the team's reminder plan, the month grid) in memory, keyed
//! by this version: reading it is one lookup by primary key, and every process on the
//! database (SQLite file or PostgreSQL) sees a write's new version as soon as it commits.
//!
//! Triggers bump it, in the writing transaction, so no service can forget to. Row-level on
//! both databases: a statement that changes nothing (the worker's periodic "expire what is
//! past" updates) leaves it alone. Deliveries, punches, sessions and the audit log are not
//! watched: pages read them live.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The watched tables, with the columns whose update counts (`None`: any column). A
/// person's login time and password hash change often and change nothing shown.
const WATCHED: &[(&str, Option<&str>)] = &[
    ("schedules", None),
    ("shifts", None),
    (
        "users",
        Some(
            "username, display_name, mobile, dingtalk_user_id, feishu_open_id, wecom_user_id, \
             email, role, active, reminders_enabled",
        ),
    ),
    ("channels", None),
    ("channel_preferences", None),
    ("setting", None),
    ("holiday_days", None),
    ("company_days", None),
    ("requests", None),
];

const BUMP: &str = "UPDATE data_version SET version = version + 1 WHERE id = 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataVersion::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(DataVersion::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DataVersion::Version)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(DataVersion::Table)
                    .columns([DataVersion::Id, DataVersion::Version])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
                ))
                .await?;
                for (table, columns) in WATCHED {
                    let update = columns.map_or("UPDATE".to_owned(), |c| format!("UPDATE OF {c}"));
                    // Only a row that really changed counts.
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER data_version_{table}_update AFTER {update} ON {table} \
                         FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) \
                         EXECUTE FUNCTION data_version_bump()"
                    ))
                    .await?;
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER data_version_{table}_write AFTER INSERT OR DELETE \
                         ON {table} FOR EACH ROW EXECUTE FUNCTION data_version_bump()"
                    ))
                    .await?;
                }
            }
            _ => {
                for (table, columns) in WATCHED {
                    let update = columns.map_or("UPDATE".to_owned(), |c| format!("UPDATE OF {c}"));
                    for (name, event) in [
                        ("insert", "INSERT"),
                        ("delete", "DELETE"),
                        ("update", update.as_str()),
                    ] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER IF NOT EXISTS data_version_{table}_{name} \
                             AFTER {event} ON {table} FOR EACH ROW BEGIN {BUMP}; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        for (table, _) in WATCHED {
            let names: &[&str] = if postgres {
                &["update", "write"]
            } else {
                &["insert", "delete", "update"]
            };
            for name in names {
                let on = if postgres {
                    format!(" ON {table}")
                } else {
                    String::new()
                };
                db.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS data_version_{table}_{name}{on}"
                ))
                .await?;
            }
        }
        if postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS data_version_bump()")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(DataVersion::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DataVersion {
    Table,
    Id,
    Version,
}
