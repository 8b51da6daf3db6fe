use crate::helpers::{API_TOKEN, Caller, json_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_is_rendered_on_the_server_in_chinese() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let response = app.get_as(&admin, "/").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_page_answers_404_with_a_page() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let response = app.get_as(&admin, "/no/such/page").await;
    assert_eq!(response.status, 404);
    assert!(response.body.contains("页面不存在"), "{}", response.body);
    assert!(response.body.contains("返回首页"));
    let posted = app.call(&admin, "POST", "/no/such/page", None, "").await;
    assert_eq!(posted.status, 404, "{}", posted.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_server_function_answers_json() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let response = app.server_fn_form(&admin, "get_overview", "").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let body = json_body(&response);
    assert_eq!(body["timezone"], "Asia/Shanghai");
    assert_eq!(body["local_time"], "2026-11-23 09:02:03");
    assert_eq!(body["utc_offset"], "+08:00");
    assert_eq!(body["reminder_enabled"], true);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_answer_json_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(response.status, 404);
    let body = json_body(&response);
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_protective_headers() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let response = app.get_as(&admin, "/").await;
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("referrer-policy"), Some("same-origin"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_allow_only_their_own_nonce_scripts_and_wasm() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    for path in ["/", "/login", "/admin/users"] {
        let response = app.get_as(&admin, path).await;
        let csp = response
            .header("content-security-policy")
            .expect("CSP")
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in script-src");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        // Every inline script carries this response's nonce.
        for script in response.body.split("<script").skip(1) {
            assert!(
                script.starts_with(&format!(" nonce=\"{nonce}\""))
                    || script.contains(&format!("nonce=\"{nonce}\"")),
                "script without the nonce on {path}: <script{}",
                &script[..script.len().min(120)]
            );
        }
    }
    let second = app.get_as(&admin, "/").await;
    let first = app.get_as(&admin, "/").await;
    assert_ne!(
        first.header("content-security-policy"),
        second.header("content-security-policy"),
        "a fresh nonce per response"
    );
    // JSON answers may not run anything at all.
    let api = app.get_as(&admin, "/api/v1/me").await;
    assert!(
        api.header("content-security-policy")
            .is_some_and(|csp| csp.starts_with("default-src 'none'"))
    );
    assert_eq!(api.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(api.header("referrer-policy"), Some("same-origin"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_shows_a_reminder_on_the_day_it_fires_and_its_shift_day_beside_it() {
    let app = spawn_app().await;
    let token = Caller::bearer(API_TOKEN);
    let shift = app
        .json_as(
            &token,
            "POST",
            "/api/v1/shifts",
            serde_json::json!({"name": "夜班", "label": "夜", "start": "00:00", "end": "08:00", "remind_before_min": 15}),
        )
        .await;
    assert_eq!(shift.status, 201, "{}", shift.body);
    let planned = app
        .json_as(
            &token,
            "PUT",
            "/api/v1/schedules",
            serde_json::json!([{"user_id": 1, "date": "2026-11-24", "shift_id": json_body(&shift)["id"]}]),
        )
        .await;
    assert_eq!(planned.status, 200, "{}", planned.body);
    let admin = app.login_admin().await;
    let html = app.get_as(&admin, "/").await.body.replace("<!>", "");
    // The clock-in for the midnight shift of 11-24 fires at 23:45 on 11-23 (now: 11-23 09:02).
    assert!(html.contains("11-23 <b>23:45</b> · 11-24 夜班"), "{html}");
    assert!(!html.contains("次日"), "{html}");
    app.stop().await.expect("clean stop");
}
