use crate::helpers::{json_body, spawn_app};

#[tokio::test]
async fn home_page_is_rendered_on_the_server_in_chinese() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status, 200);
    let html = &response.body;
    assert!(html.contains(r#"<html lang="zh-CN""#), "{html}");
    assert!(html.contains("钉钉打卡提醒"));
    assert!(html.contains("首页"));
    // The overview comes from a server function, resolved during server rendering.
    assert!(html.contains("系统概况"), "{html}");
    assert!(html.contains("2026-11-23 09:02:03"), "{html}");
    assert!(
        html.contains("/pkg/dingding-attendance.js"),
        "hydration script missing"
    );
    assert!(html.contains(r#"name="viewport""#));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn unknown_page_answers_404_with_a_page() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status, 404);
    assert!(response.body.contains("页面不存在"), "{}", response.body);
    assert!(response.body.contains("返回首页"));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn overview_server_function_answers_json() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/fn/get_overview",
            "application/x-www-form-urlencoded",
            "",
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let body = json_body(&response);
    assert_eq!(body["timezone"], "Asia/Shanghai");
    assert_eq!(body["local_time"], "2026-11-23 09:02:03");
    assert_eq!(body["utc_offset"], "+08:00");
    assert_eq!(body["reminder_enabled"], true);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn static_assets_are_served_from_the_site_root() {
    let app = spawn_app().await;
    let pkg = app.dir.path().join("site").join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join("dingding-attendance.css"), "body{}").expect("write");
    let response = app.get("/pkg/dingding-attendance.css").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "body{}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(response.status, 404);
    let body = json_body(&response);
    assert_eq!(body["error"], "not_found");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn pages_carry_protective_headers() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("referrer-policy"), Some("same-origin"));
    app.stop().await.expect("clean stop");
}
