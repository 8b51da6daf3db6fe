//! Command-line interface. Without a subcommand the server starts (`serve`).

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dingding-attendance",
    version,
    about = "钉钉打卡提醒系统：排班、节假日与上下班打卡提醒 (shift schedules and clock-in reminders)",
    long_about = None,
    after_help = "Configuration comes from environment variables and an optional .env file; see README.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server and the reminder worker (the default)
    Serve,
    /// Create the database if missing and apply all migrations, then exit
    #[command(alias = "init_db")]
    InitDb,
    /// Create an admin account, or reset a user's password and make them an active admin
    #[command(alias = "create_admin")]
    CreateAdmin(CreateAdminArgs),
    /// Request /api/health of a running server; exit 0 when healthy, 1 otherwise
    Healthcheck(HealthcheckArgs),
    /// Write a consistent copy of the live SQLite database (safe while the server runs)
    Backup(BackupArgs),
    /// Import the original Flask system's database (its app.db): users with their
    /// passwords, shift types, schedules, settings and logs; the file itself is only read
    #[command(alias = "import_legacy")]
    ImportLegacy(ImportLegacyArgs),
    /// After changing SECRET_KEY: re-encrypt the stored robot URLs, signing secrets and
    /// tokens (sealed under the old key) with the current SECRET_KEY, all or nothing
    Rekey(RekeyArgs),
    /// Copy everything from this database (DATABASE_URL, usually the SQLite file) into an
    /// empty one, usually PostgreSQL: all or nothing, every table's row count verified.
    /// Stop the server first
    #[command(alias = "migrate_db")]
    MigrateDb(MigrateDbArgs),
}

#[derive(Debug, Args)]
pub struct MigrateDbArgs {
    /// The target, e.g. postgres://user:password@host/attendance (the database must exist;
    /// its tables are created here and must be empty)
    #[arg(long, value_name = "DATABASE_URL")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// The previous SECRET_KEY; better passed as OLD_SECRET_KEY (environment or .env),
    /// which other users cannot see in the process list
    #[arg(long, value_name = "KEY")]
    pub old_secret_key: Option<String>,
    /// The previous key was the built-in development key (SECRET_KEY was unset in
    /// development)
    #[arg(long, conflicts_with = "old_secret_key")]
    pub from_development_key: bool,
}

#[derive(Debug, Args)]
pub struct ImportLegacyArgs {
    /// The original's SQLite file, e.g. data/app.db (Docker: /app/data/app.db)
    pub path: std::path::PathBuf,
    /// Only report what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy; never overwritten [default: DATA_DIR/backups/app-YYYYMMDD-HHMMSS.db]
    pub path: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Full URL to check [default: http://127.0.0.1:$PORT/api/health]
    #[arg(long)]
    pub url: Option<String>,
    /// Seconds to wait for the answer
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    /// The account's username
    #[arg(default_value = "admin")]
    pub username: String,
    /// Read the password from the first line of standard input (for scripts); otherwise
    /// ADMIN_PASSWORD is used, or you are prompted
    #[arg(long)]
    pub password_stdin: bool,
}
