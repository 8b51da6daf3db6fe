//! `migrate-db --to URL`: a SQLite installation moved into another database (PostgreSQL
//! when the suite runs there, another SQLite file otherwise), verified by what the server
//! on the new database then shows, and refused when the target already holds data.

use serde_json::json;

use crate::helpers::{
    API_TOKEN, Caller, database_url_for, json_body, run_binary, spawn_app_in, spawn_app_with,
};

/// Where the copy goes: a fresh PostgreSQL database in PostgreSQL mode, else a new file.
fn target_url(dir: &std::path::Path) -> String {
    database_url_for(dir).unwrap_or_else(|| sqlite_url(dir))
}

/// `sqlite:////absolute/path`: four slashes, as three would be relative.
fn sqlite_url(dir: &std::path::Path) -> String {
    std::fs::create_dir_all(dir.join("data")).expect("data dir");
    format!("sqlite:///{}", dir.join("data/attendance.db").display())
}

fn migrate(cwd: &std::path::Path, source: &str, target: &str) -> (bool, String, String) {
    let output = run_binary(
        cwd,
        &["migrate-db", "--to", target],
        &[("APP_ENV", "development"), ("DATABASE_URL", source)],
    );
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_moves_everything_and_refuses_a_target_with_data() {
    let source_dir = tempfile::tempdir().expect("tempdir");
    let source = sqlite_url(source_dir.path());
    let app = spawn_app_with(&[("DATABASE_URL", &source)]).await;
    let admin = Caller::bearer(API_TOKEN);
    let zhang = app.create_user("zhang", "zhang-password-1", "member").await;
    let li = app.create_user("li", "li-password-123", "member").await;
    let shifts = json_body(&app.get_as(&admin, "/api/v1/shifts").await);
    let shift_id = shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .clone();
    let written = app
        .json_as(
            &admin,
            "PUT",
            "/api/v1/schedules",
            json!([
                {"user_id": zhang, "date": "2026-11-24", "shift_id": shift_id},
                {"user_id": li, "date": "2026-11-25", "shift_id": shift_id},
            ]),
        )
        .await;
    assert_eq!(written.status, 200, "{}", written.body);
    let calendar_path = "/api/v1/schedules?from=2026-11-01&to=2026-11-30";
    let calendar_before = app.get_as(&admin, calendar_path).await.body;
    let users_before = json_body(&app.get_as(&admin, "/api/v1/users").await);
    app.stop().await.expect("clean stop");

    let target_dir = tempfile::tempdir().expect("tempdir");
    let target = target_url(target_dir.path());
    let (ok, stdout, stderr) = migrate(source_dir.path(), &source, &target);
    assert!(ok, "{stderr}\n{stdout}");
    assert!(stdout.contains("users: 3"), "{stdout}");
    assert!(stdout.contains("schedules: 2"), "{stdout}");
    assert!(stdout.contains("every table's count matches"), "{stdout}");

    // The server on the new database: the same people, schedule and passwords.
    let moved = spawn_app_in(target_dir, &[("DATABASE_URL", &target)]).await;
    assert_eq!(
        moved.get_as(&admin, calendar_path).await.body,
        calendar_before
    );
    assert_eq!(
        json_body(&moved.get_as(&admin, "/api/v1/users").await),
        users_before
    );
    moved.login("zhang", "zhang-password-1").await;
    // Ids continue after the copied ones.
    let wang = moved.create_user("wang", "wang-password-1", "member").await;
    assert!(wang > li, "new id {wang} after {li}");

    // A second run would mix data: refused, nothing changed.
    let (ok, stdout, stderr) = migrate(source_dir.path(), &source, &target);
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    let users = json_body(&moved.get_as(&admin, "/api/v1/users").await);
    assert_eq!(users["total"], 4, "{users}");

    // The source itself is refused as a target.
    let (ok, _, stderr) = migrate(source_dir.path(), &source, &source);
    assert!(!ok);
    assert!(stderr.contains("names the database in use"), "{stderr}");
    moved.stop().await.expect("clean stop");
}
