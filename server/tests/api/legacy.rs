//! Moving in from the Flask original: `import-legacy` on a database written with the
//! original's schema and real werkzeug hashes (tests/fixtures/legacy_app.db, made by
//! make_legacy_db.py), old passwords through the real login API, and a server that starts
//! next to the original's `data/app.db` without ever touching it.

use std::path::{Path, PathBuf};

use app::ssr::entity::{audit_log, setting, user};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    API_TOKEN, Caller, TIMEOUT, TestApp, json_body, run_binary, send_signal, session_cookie,
    spawn_app_in, start_server_process, wait_for_exit,
};

const VARS: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
    // The fixture's log entries are from November 2026: kept whenever the tests run.
    ("AUDIT_RETENTION_DAYS", "3650"),
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy_app.db")
}

/// A working directory with the fixture where the original kept it: `data/app.db`.
fn dir_with_legacy_db() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    std::fs::copy(fixture(), dir.path().join("data/app.db")).expect("copy the fixture");
    dir
}

/// SHA-256 of a file's bytes, hex: equal before and after means untouched.
fn digest(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    format!("{:x}", Sha256::digest(&bytes))
}

fn legacy_bytes(dir: &Path) -> String {
    digest(&dir.join("data/app.db"))
}

/// Nothing was created next to the legacy file either (no journal, no WAL).
fn assert_no_sidecar_files(dir: &Path) {
    for suffix in ["-journal", "-wal", "-shm"] {
        let path = dir.join(format!("data/app.db{suffix}"));
        assert!(!path.exists(), "{} was created", path.display());
    }
}

/// Runs `import-legacy ARGS`; returns success, stdout and stderr.
fn import(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> (bool, String, String) {
    let mut all = vec!["import-legacy"];
    all.extend_from_slice(args);
    let output = run_binary(dir, &all, vars);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A table's counts in the printed report: new, updated, unchanged, skipped.
fn counts(report: &str, table: &str) -> Vec<usize> {
    let line = report
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{table} ")))
        .unwrap_or_else(|| panic!("no {table} line in:\n{report}"));
    line.split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect()
}

/// Runs SQL on an SQLite file (creating it if needed).
async fn sqlite(path: &Path, statements: &[&str]) {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open");
    for statement in statements {
        db.execute_unprepared(statement).await.expect(statement);
    }
    db.close().await.expect("close");
}

async fn stored_user(app: &TestApp, key: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(key))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no user {key}"))
}

async fn shift_id(app: &TestApp, name: &str) -> i64 {
    let shifts = json_body(
        &app.get_as(&Caller::bearer(API_TOKEN), "/api/v1/shifts?archived=true")
            .await,
    );
    shifts
        .as_array()
        .expect("list")
        .iter()
        .find(|shift| shift["name"] == name)
        .unwrap_or_else(|| panic!("no shift {name}: {shifts}"))["id"]
        .as_i64()
        .expect("id")
}

fn day_and_shift(entries: &Value) -> Vec<(String, i64)> {
    let mut days: Vec<(String, i64)> = entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["date"].as_str().expect("date").to_owned(),
                entry["shift_id"].as_i64().expect("shift_id"),
            )
        })
        .collect();
    days.sort();
    days
}

#[test]
fn a_dry_run_reports_every_table_and_conflict_and_writes_nothing() {
    let dir = dir_with_legacy_db();
    let before = legacy_bytes(dir.path());
    let mut vars = VARS.to_vec();
    vars.push(("WORK_OVERTIME", "15"));
    let (ok, stdout, stderr) = import(dir.path(), &["data/app.db", "--dry-run"], &vars);
    assert!(ok, "{stderr}\n{stdout}");
    assert!(stdout.contains("dry run: nothing was written"), "{stdout}");
    assert_eq!(counts(&stdout, "users"), [4, 0, 0, 0]);
    // A班 and 休 are the seeded ones; B班 gains the original's description; 夜班 is new.
    assert_eq!(counts(&stdout, "shift_types"), [1, 1, 2, 0]);
    assert_eq!(counts(&stdout, "schedules"), [5, 0, 0, 1]);
    // WORK_OVERTIME is pinned by the environment.
    assert_eq!(counts(&stdout, "system_configs"), [5, 0, 0, 1]);
    // The 2015 entry is older than any retention.
    assert_eq!(counts(&stdout, "system_logs"), [3, 0, 0, 1]);
    // zhangsan has two rows for 2026-11-24: the newer one (3) is kept, row 2 reported.
    assert!(stdout.contains("schedules row id 2: duplicate"), "{stdout}");
    assert!(stdout.contains("kept row id 3 (the newest)"), "{stdout}");
    assert!(
        stdout.contains("environment variable WORK_OVERTIME"),
        "{stdout}"
    );
    assert!(stdout.contains("users row id 4: email"), "{stdout}");
    assert!(
        stdout.contains("not imported: attendance_records"),
        "{stdout}"
    );
    assert!(stdout.contains("would be written"), "{stdout}");
    // Tokens and robot URLs from system_configs are never printed.
    for secret in ["legacy-api-token", "legacyworking", "legacynowork"] {
        assert!(!stdout.contains(secret), "{secret} printed: {stdout}");
    }
    // Nothing written anywhere: no database of ours, the legacy file as it was.
    assert!(!dir.path().join("data/attendance.db").exists());
    assert_eq!(legacy_bytes(dir.path()), before, "the legacy file changed");
    assert_no_sidecar_files(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_accounts_sign_in_with_their_old_passwords() {
    let dir = dir_with_legacy_db();
    let before = legacy_bytes(dir.path());
    let (ok, stdout, stderr) = import(dir.path(), &["data/app.db"], VARS);
    assert!(ok, "{stderr}\n{stdout}");
    assert_eq!(counts(&stdout, "users"), [4, 0, 0, 0]);
    assert_eq!(counts(&stdout, "schedules"), [5, 0, 0, 1]);
    assert_eq!(counts(&stdout, "system_configs"), [6, 0, 0, 0]);
    assert!(stdout.contains("schedules row id 2: duplicate"), "{stdout}");
    assert!(stdout.contains("written in one transaction"), "{stdout}");

    // A second run finds everything in place.
    let (ok, again, stderr) = import(dir.path(), &["data/app.db"], VARS);
    assert!(ok, "{stderr}\n{again}");
    assert!(again.contains("nothing to change"), "{again}");
    for table in [
        "users",
        "shift_types",
        "schedules",
        "system_configs",
        "system_logs",
    ] {
        assert_eq!(counts(&again, table)[..2], [0, 0], "{table}:\n{again}");
    }
    assert_eq!(legacy_bytes(dir.path()), before, "the legacy file changed");
    assert_no_sidecar_files(dir.path());

    let app = spawn_app_in(dir, &[]).await;

    // werkzeug pbkdf2:sha256, through the real login API; the hash becomes argon2id.
    let zhang = app.login("zhangsan", "Zhang-Pass-2024").await;
    let row = stored_user(&app, "zhangsan").await;
    assert!(
        row.password_hash.starts_with("$argon2id$"),
        "not upgraded: {}",
        row.password_hash.split('$').next().unwrap_or_default()
    );
    assert!(!row.must_change_password);
    assert_eq!(row.display_name, "zhangsan");
    assert_eq!(row.email.as_deref(), Some("zhangsan@example.com"));
    // The upgraded hash works, and still only with the right password.
    app.login("zhangsan", "Zhang-Pass-2024").await;
    assert_eq!(
        app.try_login("zhangsan", "Zhang-Pass-2025").await.status,
        401
    );

    // werkzeug scrypt.
    app.login("lisi", "Li-Scrypt-2024").await;
    assert!(
        stored_user(&app, "lisi")
            .await
            .password_hash
            .starts_with("$argon2id$")
    );

    // The original's admin/admin123 signs in, but must choose a new password first.
    let admin = app.try_login("admin", "admin123").await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(json_body(&admin)["must_change_password"], true);
    assert_eq!(json_body(&admin)["role"], "admin");
    assert!(stored_user(&app, "admin").await.must_change_password);
    let admin = Caller {
        cookie: session_cookie(&admin),
        ..Caller::default()
    };
    let blocked = app
        .get_as(&admin, "/api/v1/schedules?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(blocked.status, 403, "{}", blocked.body);
    assert_eq!(json_body(&blocked)["error"]["code"], "must_change_password");

    // A deactivated account stays deactivated (and keeps its werkzeug hash).
    assert_eq!(app.try_login("wangwu", "Wang-Pass-2024").await.status, 403);
    let wangwu = stored_user(&app, "wangwu").await;
    assert!(!wangwu.active);
    assert!(wangwu.password_hash.starts_with("pbkdf2:sha256:"));
    assert_eq!(wangwu.email, None, "an invalid address is not imported");

    // The schedule: the newest of the duplicates, and the rest day on 休.
    let (a, night, rest) = (
        shift_id(&app, "A班").await,
        shift_id(&app, "夜班").await,
        shift_id(&app, "休").await,
    );
    let mine = app
        .get_as(&zhang, "/api/v1/schedules?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let mine = json_body(&mine);
    assert_eq!(
        day_and_shift(&mine),
        [
            ("2026-11-23".to_owned(), a),
            ("2026-11-24".to_owned(), night),
            ("2026-11-25".to_owned(), rest),
        ]
    );
    let changed = mine
        .as_array()
        .expect("entries")
        .iter()
        .find(|entry| entry["date"] == "2026-11-24")
        .expect("11-24");
    assert_eq!(changed["note"], "改上夜班");

    // The same in the calendar the pages load.
    let calendar = app
        .server_fn(
            &zhang,
            "load_calendar",
            json!({"anchor": "2026-11-23", "span": "month", "user_id": null, "team": false}),
        )
        .await;
    assert_eq!(calendar.status, 200, "{}", calendar.body);
    // Read through the page's own wire type (its entries travel as compact arrays).
    let calendar: app::wire::CalendarData =
        serde_json::from_str(&calendar.body).expect("calendar data");
    let mut from_calendar: Vec<(String, i64)> = calendar
        .entries
        .iter()
        .map(|entry| (entry.date.to_string(), i64::from(entry.shift_id)))
        .collect();
    from_calendar.sort();
    assert_eq!(from_calendar, day_and_shift(&mine));
    let everyone = json_body(
        &app.get_as(
            &Caller::bearer(API_TOKEN),
            "/api/v1/schedules?from=2026-11-01&to=2026-11-30",
        )
        .await,
    );
    assert_eq!(everyone.as_array().map(Vec::len), Some(5));

    // Settings, stored as the settings page stores them.
    let overtime = setting::Entity::find_by_id("work_overtime")
        .one(&app.db)
        .await
        .expect("query")
        .expect("work_overtime imported");
    assert_eq!(overtime.value, "\"30\"");

    // The original's log, once, with its legacy ids; and one entry for the import itself.
    let logs = audit_log::Entity::find()
        .filter(audit_log::Column::Kind.eq("legacy_log"))
        .all(&app.db)
        .await
        .expect("query");
    assert_eq!(logs.len(), 3);
    let admin_login = logs
        .iter()
        .find(|entry| {
            entry
                .detail
                .as_deref()
                .is_some_and(|detail| detail.starts_with("旧系统日志 #1 "))
        })
        .expect("log entry 1");
    assert_eq!(admin_login.actor_name, "admin");
    assert_eq!(admin_login.subject.as_deref(), Some("admin"));
    assert_eq!(admin_login.ip.as_deref(), Some("192.168.1.10"));
    let imports = audit_log::Entity::find()
        .filter(audit_log::Column::Kind.eq("legacy_imported"))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(imports, 1, "the repeated import wrote nothing");

    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_by_table_row_and_column_and_change_nothing() {
    crate::helpers::sqlite_only!(
        "compares the bytes of our SQLite file and offers it as a bad input"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let init = run_binary(dir.path(), &["init-db"], VARS);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let ours = dir.path().join("data/attendance.db");
    let ours_before = digest(&ours);

    let refused = |args: &[&str], expected: &[&str]| {
        let (ok, stdout, stderr) = import(dir.path(), args, VARS);
        assert!(!ok, "{args:?} was accepted:\n{stdout}");
        for fragment in expected {
            assert!(
                stderr.contains(fragment),
                "{args:?}: {fragment:?} missing from:\n{stderr}"
            );
        }
    };

    std::fs::write(dir.path().join("notes.txt"), "这不是数据库\n".repeat(100)).expect("write");
    refused(&["notes.txt"], &["notes.txt", "SQLite"]);
    refused(&["nowhere.db"], &["nowhere.db", "no such file"]);

    // An SQLite database of something else.
    sqlite(
        &dir.path().join("shop.db"),
        &[
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)",
        ],
    )
    .await;
    refused(&["shop.db"], &["table users", "customers, orders"]);

    // The original's database, damaged one way at a time.
    for (name, damage, expected) in [
        (
            "no_hash.db",
            "ALTER TABLE users DROP COLUMN password_hash",
            "table users, column password_hash",
        ),
        (
            "bad_hash.db",
            "UPDATE users SET password_hash = 'md5$abc$0123' WHERE id = 2",
            "table users, row id 2, column password_hash",
        ),
        (
            "bad_date.db",
            "UPDATE schedules SET work_date = '2026/11/23' WHERE id = 5",
            "table schedules, row id 5, column work_date",
        ),
        (
            "bad_time.db",
            "UPDATE shift_types SET start_time = '9点' WHERE id = 4",
            "table shift_types, row id 4, column start_time",
        ),
        (
            "bad_flag.db",
            "UPDATE users SET is_admin = 'maybe' WHERE id = 3",
            "table users, row id 3, column is_admin",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::copy(fixture(), &path).expect("copy the fixture");
        sqlite(&path, &[damage]).await;
        refused(&[name], &[expected, "nothing was imported"]);
        // The dry run refuses the same way.
        refused(&[name, "--dry-run"], &[expected]);
    }

    // Our own database is not the original's.
    refused(&["data/attendance.db"], &["dingding-attendance database"]);

    assert_eq!(digest(&ours), ours_before, "our database changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_next_to_the_originals_app_db_and_never_touches_it() {
    crate::helpers::sqlite_only!("about the default SQLite file beside the original's app.db");
    let dir = dir_with_legacy_db();
    let before = legacy_bytes(dir.path());

    let (child, _) = start_server_process(dir.path(), VARS).await;
    send_signal(&child, "TERM");
    let output = wait_for_exit(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(dir.path().join("data/attendance.db").exists());
    let log_path = dir.path().join("logs/app.log");
    let log = std::fs::read_to_string(&log_path).expect("log file");
    assert!(log.contains("import-legacy data/app.db"), "{log}");
    assert!(
        log.contains(
            "docker compose exec web /app/dingding-attendance import-legacy /app/data/app.db"
        ),
        "{log}"
    );
    assert_eq!(legacy_bytes(dir.path()), before, "the legacy file changed");
    assert_no_sidecar_files(dir.path());

    // The first admin created by that start never signed in: the original's admin takes
    // the account over, with the original's password.
    let (ok, stdout, stderr) = import(dir.path(), &["data/app.db"], VARS);
    assert!(ok, "{stderr}\n{stdout}");
    assert_eq!(counts(&stdout, "users"), [3, 1, 0, 0]);
    assert!(stdout.contains("has never signed in"), "{stdout}");

    let (child, base_url) = start_server_process(dir.path(), VARS).await;
    let login = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/session"),
        &[("Content-Type", "application/json")],
        br#"{"username":"admin","password":"admin123"}"#,
        TIMEOUT,
    )
    .await
    .expect("login");
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login.body.contains(r#""must_change_password":true"#),
        "{}",
        login.body
    );
    send_signal(&child, "TERM");
    let output = wait_for_exit(child);
    assert!(output.status.success());

    // Imported now: the hint is not repeated.
    let log = std::fs::read_to_string(&log_path).expect("log file");
    assert_eq!(log.matches("import-legacy data/app.db").count(), 1, "{log}");
    assert_eq!(legacy_bytes(dir.path()), before, "the legacy file changed");
    assert_no_sidecar_files(dir.path());
}

#[test]
fn database_url_naming_the_originals_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture(), dir.path().join("old.db")).expect("copy the fixture");
    let before = digest(&dir.path().join("old.db"));
    let mut vars = VARS.to_vec();
    vars.push(("DATABASE_URL", "sqlite:///old.db"));
    for command in ["serve", "init-db"] {
        let output = run_binary(dir.path(), &[command], &vars);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("DATABASE_URL"), "{stderr}");
        assert!(stderr.contains("import-legacy old.db"), "{stderr}");
    }
    assert_eq!(digest(&dir.path().join("old.db")), before);
    assert!(!dir.path().join("old.db-wal").exists());
}
