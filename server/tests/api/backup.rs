//! `dingding-attendance backup`: a consistent copy of the live database, taken while the
//! server runs, that never overwrites a file and refuses PostgreSQL with the right advice.

use app::ssr::entity::user;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use server::config::{DatabaseUrl, SqliteLocation};

use crate::helpers::{API_TOKEN, run_binary, send_signal, start_server_process, wait_for_exit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_the_live_database_and_never_overwrites() {
    crate::helpers::sqlite_only!(
        "`backup` copies the SQLite file; PostgreSQL is backed up with pg_dump"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = [("APP_ENV", "development"), ("API_TOKEN", API_TOKEN)];
    let (child, base_url) = start_server_process(dir.path(), &vars).await;
    let authorization = format!("Bearer {API_TOKEN}");
    let body = json!({"username": "zhang", "password": "zhang-password-1"}).to_string();
    let created = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/users"),
        &[
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("create user");
    assert_eq!(created.status, 201, "{}", created.body);

    // While the server runs (WAL mode, so recent writes may sit in the -wal file).
    let output = run_binary(dir.path(), &["backup", "snapshots/copy.db"], &vars);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("backup written"), "{stdout}");
    let copy = dir.path().join("snapshots/copy.db");
    let db = server::db::connect(&DatabaseUrl::Sqlite(SqliteLocation::File(copy.clone())))
        .await
        .expect("open the copy");
    let found = user::Entity::find()
        .filter(user::Column::Username.eq("zhang"))
        .count(&db)
        .await
        .expect("query the copy");
    assert_eq!(found, 1, "the copy holds the latest write");
    db.close().await.ok();

    let again = run_binary(dir.path(), &["backup", "snapshots/copy.db"], &vars);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let default = run_binary(dir.path(), &["backup"], &vars);
    assert!(
        default.status.success(),
        "{}",
        String::from_utf8_lossy(&default.stderr)
    );
    let backups: Vec<_> = std::fs::read_dir(dir.path().join("data/backups"))
        .expect("data/backups")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        backups.len() == 1 && backups[0].starts_with("app-") && backups[0].ends_with(".db"),
        "{backups:?}"
    );

    let postgres = run_binary(
        dir.path(),
        &["backup"],
        &[
            ("APP_ENV", "development"),
            ("DATABASE_URL", "postgres://user:secret@localhost/app"),
        ],
    );
    assert!(!postgres.status.success());
    let stderr = String::from_utf8_lossy(&postgres.stderr);
    assert!(
        stderr.contains("pg_dump") && !stderr.contains("secret"),
        "{stderr}"
    );

    send_signal(&child, "TERM");
    assert!(wait_for_exit(child).status.success());
}
