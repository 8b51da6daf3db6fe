use crate::helpers::{json_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_ok_version_database_and_local_time() {
    let app = spawn_app().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let body = json_body(&response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["time"], "2026-11-23T09:02:03+08:00");
    assert_eq!(body["timezone"], "Asia/Shanghai");
    assert!(
        ["starting", "running"].contains(&body["scheduler"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(body["worker"]["queued"], 0);
    assert_eq!(body["worker"]["sending_enabled"], true);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_configured_timezone_and_reminder_switch() {
    let app = crate::helpers::spawn_app_with(&[
        ("TIMEZONE", "Europe/Berlin"),
        ("REMINDER_ENABLED", "false"),
    ])
    .await;
    let body = json_body(&app.get("/api/health").await);
    assert_eq!(body["time"], "2026-11-23T02:02:03+01:00");
    // Switched off, the worker still ticks (the preview and history stay current) but
    // sends nothing.
    assert_ne!(body["scheduler"], "stalled");
    assert_eq!(body["worker"]["sending_enabled"], false);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_503_when_the_database_cannot_answer() {
    let app = spawn_app().await;
    // Closing the shared pool makes every query fail, as a lost database would.
    app.db.close_by_ref().await.expect("close");
    let response = app.get("/api/health").await;
    assert_eq!(response.status, 503, "{}", response.body);
    let body = json_body(&response);
    assert_eq!(body["database"], "error");
    assert_eq!(body["status"], "error");
}

// Multi-threaded: the child process blocks this thread while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_subcommand_fails_when_the_server_reports_503() {
    let app = spawn_app().await;
    let url = format!("{}/api/health", app.base_url);
    let dir = tempfile::tempdir().expect("tempdir");
    let healthy = crate::helpers::run_binary(dir.path(), &["healthcheck", "--url", &url], &[]);
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );

    app.db.close_by_ref().await.expect("close");
    let unhealthy = crate::helpers::run_binary(dir.path(), &["healthcheck", "--url", &url], &[]);
    assert_eq!(unhealthy.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unhealthy.stderr).contains("503"));
}
