use std::process::ExitCode;

use clap::Parser;
use server::cli::{Cli, Command};
use server::config::Config;
use server::{
    admin_cli, backup, db, healthcheck, legacy_cli, migrate_db_cli, rekey_cli, startup, telemetry,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Healthcheck(args) = &command {
        return healthcheck::run(args);
    }

    // Every bad value is reported before anything starts or binds.
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = startup::create_writable_dirs(&config) {
        eprintln!("{error}");
        return ExitCode::from(2);
    }
    let _log_guard = match telemetry::init(&config) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("error: cannot start logging: {error:#}");
            return ExitCode::FAILURE;
        }
    };

    startup::log_config_warnings(&config);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Which database file, decided before anything opens one for writing: never the Flask
    // original's app.db.
    match runtime.block_on(db::locate(&config)) {
        Ok(location) => {
            config.database = location.database;
            config.legacy_database = location.legacy_file;
        }
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    }
    let result = runtime.block_on(async move {
        match command {
            Command::InitDb => db::init(&config).await,
            Command::CreateAdmin(args) => admin_cli::run(&config, &args).await,
            Command::Backup(args) => backup::run(&config, &args).await,
            Command::ImportLegacy(args) => legacy_cli::run(&config, &args).await,
            Command::Rekey(args) => rekey_cli::run(&config, &args).await,
            Command::MigrateDb(args) => migrate_db_cli::run(&config, &args).await,
            Command::Serve | Command::Healthcheck(_) => startup::serve(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
