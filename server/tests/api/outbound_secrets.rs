//! Robot tokens and check credentials never leave through text: after connection, DNS,
//! TLS and HTTP failures, no delivery answer, channel test, audit entry, page or log line
//! holds them. And members cannot make the team robot mention everyone or inject markup.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::clock::ManualClock;
use app::ssr::reminders;
use axum::Router;
use axum::http::{StatusCode, Uri};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{Value, json};

use crate::helpers::{
    API_TOKEN, Caller, TestApp, command, free_port, json_body, send_signal, spawn_app_with_clock,
    wait_for_exit,
};
use crate::mock_robot::MockRobots;

const PASSWORD: &str = "member-password-1";

fn admin() -> Caller {
    Caller::bearer(API_TOKEN)
}

/// A wall-clock time on 2026-11-23 in Asia/Shanghai.
fn local(hour: u32, minute: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(2026, 11, 23, hour, minute, 0)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

/// A server that answers every request with its own URI (query included), the way a
/// careless robot or proxy echoes the request in an error: with HTTP 500 under `/e500/`,
/// else HTTP 200 with a DingTalk-style error code.
async fn echo_server() -> String {
    let router = Router::new().fallback(|uri: Uri| async move {
        let uri = uri.to_string();
        if uri.starts_with("/e500/") {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("upstream failed for {uri}"),
            )
        } else {
            (
                StatusCode::OK,
                json!({"errcode": 300001, "errmsg": format!("token in {uri} is not exist")})
                    .to_string(),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind echo server");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn spawn(extra: &[(&str, &str)]) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(local(7, 0)));
    let mut vars = vec![
        ("ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("REMINDER_TICK_SECONDS", "1"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with_clock(&vars, clock.clone()).await;
    (app, clock)
}

async fn a_shift(app: &TestApp) -> Value {
    let shifts = json_body(&app.get_as(&admin(), "/api/v1/shifts").await);
    shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .clone()
}

async fn schedule(app: &TestApp, users: &[i64], shift_id: &Value) {
    let items: Vec<Value> = users
        .iter()
        .map(|id| json!({"user_id": id, "date": "2026-11-23", "shift_id": shift_id}))
        .collect();
    let response = app
        .json_as(&admin(), "PUT", "/api/v1/schedules", json!(items))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

async fn channel(app: &TestApp, body: Value) -> i64 {
    let response = app
        .json_as(&admin(), "POST", "/api/v1/channels", body)
        .await;
    assert_eq!(response.status, 201, "{}", response.body);
    json_body(&response)["id"].as_i64().expect("id")
}

async fn patch_settings(app: &TestApp, values: Value) {
    let response = app
        .json_as(&admin(), "PATCH", "/api/v1/settings", values)
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

async fn tick(app: &TestApp, clock: &ManualClock, at: DateTime<Utc>) {
    clock.set(at);
    reminders::run_tick(&app.services).await.expect("tick");
}

/// All deliveries once `count` exist and none is being sent.
async fn settled(app: &TestApp, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let page = json_body(
            &app.get_as(&admin(), "/api/v1/deliveries?per_page=100")
                .await,
        );
        let rows = page["items"].as_array().expect("items").clone();
        let busy = rows.iter().any(|row| row["status"] == "sending")
            || app.services.dispatcher.queued_here() > 0;
        if rows.len() >= count && !busy {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries did not settle: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_tokens_appear_in_no_delivery_channel_test_audit_or_page_after_any_failure() {
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    let echo = echo_server().await;
    let (app, clock) = spawn(&[]).await;
    let closed = free_port();
    let plain_http = robots.base_url.trim_start_matches("http://").to_owned();
    // (username, channel kind, URL with a token, what the answer should say)
    let cases = [
        (
            "refused",
            "dingtalk",
            format!("http://127.0.0.1:{closed}/robot/send?access_token=SECRETREFUSED123"),
            "连接被拒绝",
        ),
        (
            "refusedhook",
            "feishu",
            format!("http://127.0.0.1:{closed}/open-apis/bot/v2/hook/SECRETFEISHUHOOK123"),
            "连接被拒绝",
        ),
        (
            "nodns",
            "wecom",
            "http://robot.invalid/cgi-bin/webhook/send?key=SECRETDNSKEY123".to_owned(),
            "无法解析域名",
        ),
        (
            "badtls",
            "dingtalk",
            format!("https://{plain_http}/robot/send?access_token=SECRETTLS123"),
            "TLS",
        ),
        (
            "echo500",
            "dingtalk",
            format!("{echo}/e500/robot/send?access_token=SECRETECHO500"),
            "HTTP 500",
        ),
        (
            "echo200",
            "dingtalk",
            format!("{echo}/e200/robot/send?access_token=SECRETECHO200"),
            "errcode 300001",
        ),
    ];
    let secrets = [
        "SECRETREFUSED123",
        "SECRETFEISHUHOOK123",
        "SECRETDNSKEY123",
        "SECRETTLS123",
        "SECRETECHO500",
        "SECRETECHO200",
        "SECSIGNINGSECRET123",
    ];
    let mut members = Vec::new();
    for (username, kind, url, expected) in &cases {
        let id = app.create_user(username, PASSWORD, "member").await;
        let channel_id = channel(
            &app,
            json!({"name": username, "kind": kind, "url": url, "secret": "SECSIGNINGSECRET123", "user_id": id}),
        )
        .await;
        members.push((*username, id, channel_id, *expected));
    }
    let shift_id = a_shift(&app).await;
    let ids: Vec<i64> = members.iter().map(|(_, id, _, _)| *id).collect();
    schedule(&app, &ids, &shift_id).await;

    tick(&app, &clock, local(8, 45)).await;
    let rows = settled(&app, cases.len()).await;
    for (username, id, _, expected) in &members {
        let row = rows
            .iter()
            .find(|row| row["user_id"] == *id)
            .unwrap_or_else(|| panic!("no delivery for {username}: {rows:#?}"));
        assert_ne!(row["status"], "sent", "{row:#}");
        let answer = row["answer"].as_str().unwrap_or_default();
        assert!(answer.contains(expected), "{username}: {answer}");
    }

    let mut served = vec![(
        "admin delivery list".to_owned(),
        app.get_as(&admin(), "/api/v1/deliveries?per_page=100")
            .await
            .body,
    )];
    let admin_session = app.login_admin().await;
    for page in ["/deliveries", "/channels", "/admin/audit", "/reminders"] {
        served.push((
            format!("admin page {page}"),
            app.get_as(&admin_session, page).await.body,
        ));
    }
    served.push((
        "audit log".to_owned(),
        app.get_as(&admin(), "/api/v1/audit").await.body,
    ));
    served.push((
        "channel list".to_owned(),
        app.get_as(&admin(), "/api/v1/channels").await.body,
    ));
    for (username, id, channel_id, expected) in &members {
        let member = app.login(username, PASSWORD).await;
        served.push((
            format!("{username}'s delivery list"),
            app.get_as(&member, &format!("/api/v1/deliveries?user_id={id}"))
                .await
                .body,
        ));
        for page in ["/deliveries", "/channels", "/reminders"] {
            served.push((
                format!("{username}'s page {page}"),
                app.get_as(&member, page).await.body,
            ));
        }
        for caller in [&member, &admin()] {
            let test = app
                .call(
                    caller,
                    "POST",
                    &format!("/api/v1/channels/{channel_id}/test"),
                    None,
                    "",
                )
                .await;
            assert_eq!(test.status, 200, "{}", test.body);
            let result = json_body(&test);
            assert_eq!(result["ok"], false, "{result}");
            let shown = format!("{} {}", result["message"], result["answer"]);
            assert!(shown.contains(expected), "{username}: {shown}");
            served.push((format!("{username}'s channel test"), test.body));
        }
    }
    for (what, text) in &served {
        assert_clean(what, text, &secrets);
    }
    // The echo server did see the tokens: the answers were redacted, not never sent.
    assert!(
        served
            .iter()
            .any(|(_, text)| text.contains("access_token=***"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dingtalk_check_appsecret_appears_in_no_delivery_after_any_failure() {
    let echo = echo_server().await;
    let closed = format!("http://127.0.0.1:{}", free_port());
    for (base, expected) in [
        (closed.as_str(), "连接被拒绝"),
        (echo.as_str(), "errcode 300001"),
        ("http://dingtalk-api.invalid", "无法解析域名"),
    ] {
        let robots = MockRobots::start(Duration::from_secs(60)).await;
        let (app, clock) = spawn(&[("DINGTALK_API_BASE", base)]).await;
        patch_settings(
            &app,
            json!({"check_mode": "dingtalk", "dingtalk_app_key": "dingappkey", "dingtalk_app_secret": "APPSECRETVALUE123"}),
        )
        .await;
        let id = app.create_user("checked", PASSWORD, "member").await;
        let patched = app
            .json_as(
                &admin(),
                "PATCH",
                &format!("/api/v1/users/{id}"),
                json!({"dingtalk_user_id": "manager4220"}),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        channel(
            &app,
            json!({"name": "群", "kind": "dingtalk", "url": robots.dingtalk_url("fine"), "user_id": id}),
        )
        .await;
        let shift_id = a_shift(&app).await;
        schedule(&app, &[id], &shift_id).await;
        tick(&app, &clock, local(8, 45)).await;
        let rows = settled(&app, 1).await;
        assert_eq!(rows[0]["status"], "sent", "fail-open: {rows:#?}");
        let check = rows[0]["check_result"].as_str().unwrap_or_default();
        assert!(check.contains(expected), "{base}: {check}");
        let member = app.login("checked", PASSWORD).await;
        for (what, text) in [
            (
                "admin delivery list",
                app.get_as(&admin(), "/api/v1/deliveries").await.body,
            ),
            (
                "member delivery list",
                app.get_as(&member, &format!("/api/v1/deliveries?user_id={id}"))
                    .await
                    .body,
            ),
            ("member page", app.get_as(&member, "/deliveries").await.body),
            (
                "audit log",
                app.get_as(&admin(), "/api/v1/audit").await.body,
            ),
            (
                "settings",
                app.get_as(&admin(), "/api/v1/settings").await.body,
            ),
        ] {
            assert_clean(what, &text, &["APPSECRETVALUE123"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_cannot_set_an_id_that_mentions_everyone() {
    let (app, _clock) = spawn(&[]).await;
    let id = app.create_user("sneaky", PASSWORD, "member").await;
    let member = app.login("sneaky", PASSWORD).await;
    for (field, value) in [
        ("wecom_user_id", "@all"),
        ("feishu_open_id", "all"),
        ("dingtalk_user_id", "isAtAll"),
        ("wecom_user_id", "@ALL"),
    ] {
        let response = app
            .json_as(
                &member,
                "PATCH",
                &format!("/api/v1/users/{id}"),
                json!({ field: value }),
            )
            .await;
        assert_eq!(response.status, 422, "{field}={value}: {}", response.body);
        assert_eq!(
            json_body(&response)["error"]["field"],
            field,
            "{}",
            response.body
        );
    }
    // The profile page's server function goes through the same rule.
    let from_page = app
        .server_fn(
            &member,
            "update_profile",
            json!({"patch": {"wecom_user_id": "@all", "feishu_open_id": "all"}}),
        )
        .await;
    assert_ne!(from_page.status, 200, "{}", from_page.body);
    assert!(
        from_page.body.contains("feishu_open_id") || from_page.body.contains("wecom_user_id"),
        "{}",
        from_page.body
    );
    let stored = json_body(&app.get_as(&member, &format!("/api/v1/users/{id}")).await);
    assert_eq!(stored["wecom_user_id"], Value::Null, "{stored}");
    assert_eq!(stored["feishu_open_id"], Value::Null, "{stored}");
    let fine = app
        .json_as(
            &member,
            "PATCH",
            &format!("/api/v1/users/{id}"),
            json!({"wecom_user_id": "sneaky.one", "feishu_open_id": "ou_7d8a6e6df7621556ce0d21922b676706"}),
        )
        .await;
    assert_eq!(fine.status, 200, "{}", fine.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_mentions_or_markdown_reach_the_robot_escaped() {
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    let (app, clock) = spawn(&[]).await;
    let hostile_name = r#"<at user_id="all">所有人</at>[点我](http://evil.example)"#;
    patch_settings(
        &app,
        json!({"template_clock_in": "**{name}**，{shift} {start} 上班"}),
    )
    .await;
    let created = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "<@all>早_班", "label": "早", "start": "09:00", "end": "18:00"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let shift_id = json_body(&created)["id"].clone();
    let mut people = Vec::new();
    for (username, kind, format, url) in [
        ("feishutext", "feishu", "text", robots.feishu_url("fs-text")),
        (
            "feishucard",
            "feishu",
            "markdown",
            robots.feishu_url("fs-card"),
        ),
        (
            "dingmd",
            "dingtalk",
            "markdown",
            robots.dingtalk_url("dt-md"),
        ),
        ("wecommd", "wecom", "markdown", robots.wecom_url("wc-md")),
    ] {
        let id = app.create_user(username, PASSWORD, "member").await;
        let member = app.login(username, PASSWORD).await;
        let patched = app
            .json_as(
                &member,
                "PATCH",
                &format!("/api/v1/users/{id}"),
                json!({"display_name": hostile_name, "feishu_open_id": "ou_7d8a6e6df7621556ce0d21922b676706", "wecom_user_id": "wx_member"}),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        channel(
            &app,
            json!({"name": username, "kind": kind, "format": format, "url": url, "user_id": id}),
        )
        .await;
        people.push(id);
    }
    schedule(&app, &people, &shift_id).await;
    tick(&app, &clock, local(8, 45)).await;
    robots.wait_for(4, Duration::from_secs(20)).await;
    settled(&app, 4).await;

    let text_of = |robot: &str| {
        let accepted = robots.accepted_by(robot);
        assert_eq!(accepted.len(), 1, "{robot}: {accepted:?}");
        accepted[0].text.clone()
    };
    let markdown_name = "＜at user＿id=\"all\"＞所有人＜/at＞［点我］（http：//evil.example）";
    let markdown_shift = "＜@all＞早＿班";
    assert_eq!(
        text_of("fs-text"),
        "<at user_id=\"ou_7d8a6e6df7621556ce0d21922b676706\">＜at user_id=\"all\"＞所有人＜/at＞［点我］(http://evil.example)</at> \
         **＜at user_id=\"all\"＞所有人＜/at＞［点我］(http://evil.example)**，＜@all＞早_班 09:00 上班"
    );
    assert_eq!(
        text_of("fs-card"),
        format!(
            "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> **{markdown_name}**，{markdown_shift} 09:00 上班"
        )
    );
    assert_eq!(
        text_of("dt-md"),
        format!("**{markdown_name}**，{markdown_shift} 09:00 上班")
    );
    assert_eq!(
        text_of("wc-md"),
        format!("**{markdown_name}**，{markdown_shift} 09:00 上班 <@wx_member>")
    );
}

/// A REST call to a server process with the API token.
async fn call(base_url: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let authorization = format!("Bearer {API_TOKEN}");
    let headers = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("Authorization", authorization.as_str()),
    ];
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let response = crate::helpers::http(
        method,
        &format!("{base_url}{path}"),
        &headers,
        body.as_bytes(),
        Duration::from_secs(20),
    )
    .await
    .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    let value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_of_a_server_process_holds_a_robot_token_or_the_check_secret() {
    let echo = echo_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    std::fs::write(&clock_file, "2026-11-23T07:00:00+08:00").expect("clock file");
    let log_dir = dir.path().join("logs");
    let stdout_path = dir.path().join("stdout.txt");
    let stderr_path = dir.path().join("stderr.txt");
    let port = free_port().to_string();
    let closed = free_port();
    let dingtalk_base = format!("http://127.0.0.1:{closed}");
    let clock = clock_file.display().to_string();
    let logs = log_dir.display().to_string();
    let vars = [
        ("HOST", "127.0.0.1"),
        ("PORT", port.as_str()),
        ("APP_ENV", "development"),
        ("API_TOKEN", API_TOKEN),
        ("TEST_CLOCK_FILE", clock.as_str()),
        ("ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("REMINDER_TICK_SECONDS", "1"),
        ("DINGTALK_API_BASE", dingtalk_base.as_str()),
        ("LOG_DIR", logs.as_str()),
        // Debug from every crate (the HTTP client's included), as an admin chasing a
        // failing robot would set it.
        ("LOG_LEVEL", "debug,sqlx=warn,sea_orm=warn"),
    ];
    let mut child = command(dir.path(), &[], &vars)
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn server");
    let base_url = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) =
            crate::helpers::http_get(&format!("{base_url}/api/health"), Duration::from_secs(2))
                .await
            && response.status == 200
        {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "server exited early with {status}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        assert!(std::time::Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, _) = call(
        &base_url,
        "PATCH",
        "/api/v1/settings",
        json!({"check_mode": "dingtalk", "dingtalk_app_key": "dingappkey", "dingtalk_app_secret": "APPSECRETVALUE123"}),
    )
    .await;
    assert_eq!(status, 200);
    let urls = [
        format!("http://127.0.0.1:{closed}/robot/send?access_token=SECRETREFUSED123"),
        "http://robot.invalid/robot/send?access_token=SECRETDNS123".to_owned(),
        format!("https://127.0.0.1:{port}/robot/send?access_token=SECRETTLS123"),
        format!("{echo}/e500/robot/send?access_token=SECRETECHO500"),
    ];
    let (_, shifts) = call(&base_url, "GET", "/api/v1/shifts", Value::Null).await;
    let shift_id = shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .clone();
    let mut channels = Vec::new();
    for (n, url) in urls.iter().enumerate() {
        let (status, user) = call(
            &base_url,
            "POST",
            "/api/v1/users",
            json!({"username": format!("logged{n}"), "password": PASSWORD, "role": "member",
                   "dingtalk_user_id": format!("user{n}"), "must_change_password": false}),
        )
        .await;
        assert_eq!(status, 201, "{user}");
        let (status, channel) = call(
            &base_url,
            "POST",
            "/api/v1/channels",
            json!({"name": format!("群{n}"), "kind": "dingtalk", "url": url, "user_id": user["id"]}),
        )
        .await;
        assert_eq!(status, 201, "{channel}");
        channels.push(channel["id"].clone());
        let (status, written) = call(
            &base_url,
            "PUT",
            "/api/v1/schedules",
            json!([{"user_id": user["id"], "date": "2026-11-23", "shift_id": shift_id}]),
        )
        .await;
        assert_eq!(status, 200, "{written}");
    }
    std::fs::write(&clock_file, "2026-11-23T08:45:30+08:00").expect("clock file");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let (_, page) = call(&base_url, "GET", "/api/v1/deliveries", Value::Null).await;
        let rows = page["items"].as_array().cloned().unwrap_or_default();
        if rows.len() == urls.len()
            && rows
                .iter()
                .all(|row| row["status"] != "sending" && !row["answer"].is_null())
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries did not settle: {page:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &channels {
        let (status, result) = call(
            &base_url,
            "POST",
            &format!("/api/v1/channels/{id}/test"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["ok"], false, "{result}");
    }
    send_signal(&child, "TERM");
    let output = wait_for_exit(child);
    assert!(output.status.success(), "{:?}", output.status);

    let mut logged = std::fs::read_to_string(&stdout_path).expect("stdout");
    logged.push_str(&std::fs::read_to_string(&stderr_path).expect("stderr"));
    for entry in std::fs::read_dir(&log_dir).expect("log dir").flatten() {
        logged.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    assert!(
        logged.contains("outbound request failed") && logged.contains("access_token=***"),
        "failures are logged with the URL masked, so the check below has something to read: {logged}"
    );
    assert_clean(
        "the server's log",
        &logged,
        &[
            "SECRETREFUSED123",
            "SECRETDNS123",
            "SECRETTLS123",
            "SECRETECHO500",
            "APPSECRETVALUE123",
            API_TOKEN,
        ],
    );
}
