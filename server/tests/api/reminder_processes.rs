//! Exactly once across real processes: the server killed with SIGKILL in the middle of a
//! burst and restarted, and two or three replicas sharing one database (the SQLite file,
//! or one PostgreSQL database when the suite runs there). The processes read their clock
//! from a file (`TEST_CLOCK_FILE`, development only), so the test moves time.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, API_TOKEN, Caller, Server, call_process, kill, session_cookie,
    start_server_process,
};
use crate::mock_robot::MockRobots;

const TIMEOUT: Duration = Duration::from_secs(20);

fn set_clock(file: &Path, rfc3339: &str) {
    DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339).expect("a valid test time");
    std::fs::write(file, rfc3339).expect("write the clock file");
}

async fn call(base_url: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    call_process(base_url, &Caller::bearer(API_TOKEN), method, path, body).await
}

/// Creates `count` members (mobiles 1390000nnnn), schedules them all on A班 on 2026-11-23
/// (clock-in reminder at 08:45) and returns their ids.
async fn plan_people(base_url: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..count {
        let (status, user) = call(
            base_url,
            "POST",
            "/api/v1/users",
            json!({
                "username": format!("worker{n:03}"),
                "password": "worker-password-1",
                "role": "member",
                "mobile": format!("1390000{n:04}"),
                "must_change_password": false,
            }),
        )
        .await;
        assert_eq!(status, 201, "{user}");
        ids.push(user["id"].as_i64().expect("id"));
    }
    let (_, shifts) = call(base_url, "GET", "/api/v1/shifts", Value::Null).await;
    let shift_id = shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .clone();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"user_id": id, "date": "2026-11-23", "shift_id": shift_id}))
        .collect();
    let (status, written) = call(base_url, "PUT", "/api/v1/schedules", json!(items)).await;
    assert_eq!(status, 200, "{written}");
    ids
}

async fn add_channel(base_url: &str, url: &str, user_id: Option<i64>) {
    let (status, channel) = call(
        base_url,
        "POST",
        "/api/v1/channels",
        json!({"name": format!("群机器人{}", user_id.unwrap_or(0)), "url": url, "user_id": user_id}),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
}

/// `count` members and one team-wide channel to `url`.
async fn plan_burst(base_url: &str, count: usize, url: &str) {
    plan_people(base_url, count).await;
    add_channel(base_url, url, None).await;
}

/// `count` members, each with a channel of their own that posts to the same robot `url`:
/// one message per person, so the robot's limit decides the pace.
async fn plan_separate_messages(base_url: &str, count: usize, url: &str) {
    for id in plan_people(base_url, count).await {
        add_channel(base_url, url, Some(id)).await;
    }
}

/// Each of `count` people mentioned exactly once.
fn assert_each_mentioned_once(mentioned: &[String], count: usize) {
    let mut sorted = mentioned.to_vec();
    sorted.sort();
    let expected: Vec<String> = (0..count).map(|n| format!("1390000{n:04}")).collect();
    assert_eq!(sorted, expected, "every person reminded exactly once");
}

async fn sent_count(base_url: &str) -> u64 {
    let (status, page) = call(
        base_url,
        "GET",
        "/api/v1/deliveries?status=sent",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["total"].as_u64().expect("total")
}

/// Waits (polling the API) until `count` delivery rows are recorded as sent.
async fn wait_until_sent(base_url: &str, count: usize) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while sent_count(base_url).await < count as u64 {
        if std::time::Instant::now() >= deadline {
            let (_, page) = call(
                base_url,
                "GET",
                "/api/v1/deliveries?per_page=100",
                Value::Null,
            )
            .await;
            let unsent: Vec<&Value> = page["items"]
                .as_array()
                .map(|items| items.iter().filter(|row| row["status"] != "sent").collect())
                .unwrap_or_default();
            panic!("not all rows recorded as sent: {unsent:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn server_vars<'a>(clock_file: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![
        ("APP_ENV", "development"),
        ("API_TOKEN", API_TOKEN),
        ("TEST_CLOCK_FILE", clock_file),
        ("ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("REMINDER_TICK_SECONDS", "1"),
    ];
    vars.extend_from_slice(extra);
    vars
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_people_on_one_robot_are_reminded_in_five_merged_messages() {
    const PEOPLE: usize = 100;
    // The robot's real minute: merging, not a shrunk window, keeps this within the limit.
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:30:00+08:00");
    let vars = server_vars(&clock_path, &[]);
    let (server, base_url) = start_server_process(dir.path(), &vars).await;
    let _server = Server(Some(server));
    plan_burst(&base_url, PEOPLE, &robots.dingtalk_url("team")).await;

    set_clock(&clock_file, "2026-11-23T08:45:00+08:00");
    let due = std::time::Instant::now();
    let mentioned = robots
        .wait_for_mentions(PEOPLE, Duration::from_secs(10))
        .await;
    let last = robots
        .accepted()
        .iter()
        .map(|message| message.at)
        .max()
        .expect("sent");
    eprintln!(
        "100 on one robot: {} messages, last person reminded {:?} after the clock reached 08:45",
        robots.accepted().len(),
        last.duration_since(due)
    );
    assert_each_mentioned_once(&mentioned, PEOPLE);
    let messages = robots.accepted();
    assert!(messages.len() <= 5, "{} messages", messages.len());
    assert_eq!(robots.rate_limited(), 0);
    for message in &messages {
        // Each person's own line, with the mention the text must carry.
        for mobile in message.body["at"]["atMobiles"]
            .as_array()
            .expect("mentions")
        {
            assert!(
                message
                    .text
                    .contains(&format!("@{}", mobile.as_str().unwrap()))
            );
        }
    }
    // Every person has their own delivery row, recorded as sent, in one of five messages.
    wait_until_sent(&base_url, PEOPLE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_burst_and_restarted_every_reminder_reaches_the_group_exactly_once() {
    const PEOPLE: usize = 40;
    // DingTalk's 20 a minute and its 10-minute ban, with the minute shrunk to 3 s on both
    // sides.
    let robots = MockRobots::start(Duration::from_secs(3)).await;
    robots.set_delay(Duration::from_millis(60));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:30:00+08:00");
    let vars = server_vars(&clock_path, &[("ROBOT_RATE_WINDOW_SCALE", "0.05")]);

    let (first, base_url) = start_server_process(dir.path(), &vars).await;
    let mut first = Server(Some(first));
    plan_separate_messages(&base_url, PEOPLE, &robots.dingtalk_url("group")).await;
    set_clock(&clock_file, "2026-11-23T08:44:59+08:00");

    // Kill it while the first window's messages are going out.
    robots.wait_for(8, TIMEOUT).await;
    kill(first.0.take().expect("running"));
    let before_restart = robots.accepted().len();
    assert!(
        before_restart < 20,
        "the kill came too late to test anything"
    );

    // A row claimed at the kill stays leased for 60 s of the schedule clock; move that
    // clock past it, and restart at once in real time: the robot's window is still open.
    set_clock(&clock_file, "2026-11-23T08:46:30+08:00");
    let (second, base_url) = start_server_process(dir.path(), &vars).await;
    let _second = Server(Some(second));
    robots
        .wait_for_mentions(PEOPLE, Duration::from_secs(40))
        .await;
    wait_until_sent(&base_url, PEOPLE).await;
    eprintln!(
        "kill -9 test: {before_restart} accepted before the kill, {} resends dropped by msgUuid",
        robots.dropped_duplicates(),
    );
    assert_eq!(
        robots.rate_limited(),
        0,
        "the restarted server kept the robot's limit"
    );
    assert_each_mentioned_once(&robots.mentioned_mobiles(), PEOPLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_robots_limit() {
    const PEOPLE: usize = 40;
    let robots = MockRobots::start(Duration::from_secs(3)).await;
    robots.set_delay(Duration::from_millis(20));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:30:00+08:00");
    let vars = server_vars(&clock_path, &[("ROBOT_RATE_WINDOW_SCALE", "0.05")]);
    let (first, first_url) = start_server_process(dir.path(), &vars).await;
    let _first = Server(Some(first));
    let (second, _) = start_server_process(dir.path(), &vars).await;
    let _second = Server(Some(second));
    plan_separate_messages(&first_url, PEOPLE, &robots.dingtalk_url("shared")).await;
    set_clock(&clock_file, "2026-11-23T08:44:59+08:00");

    robots
        .wait_for_mentions(PEOPLE, Duration::from_secs(40))
        .await;
    wait_until_sent(&first_url, PEOPLE).await;
    assert_eq!(
        robots.rate_limited(),
        0,
        "two servers together kept the robot's limit"
    );
    assert_each_mentioned_once(&robots.mentioned_mobiles(), PEOPLE);
    assert_eq!(robots.dropped_duplicates(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_send_each_reminder_once() {
    const PEOPLE: usize = 40;
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    robots.set_delay(Duration::from_millis(20));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:30:00+08:00");
    let vars = server_vars(&clock_path, &[]);

    let (first, first_url) = start_server_process(dir.path(), &vars).await;
    let _first = Server(Some(first));
    let (second, second_url) = start_server_process(dir.path(), &vars).await;
    let _second = Server(Some(second));
    plan_burst(&first_url, PEOPLE, &robots.generic_url("team")).await;
    set_clock(&clock_file, "2026-11-23T08:44:59+08:00");

    // The generic mock does not drop duplicates: any double send would show.
    robots.wait_for(PEOPLE, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let accepted = robots.accepted();
    let mut keys: Vec<String> = accepted.iter().filter_map(|m| m.key.clone()).collect();
    keys.sort();
    let unique = {
        let mut unique = keys.clone();
        unique.dedup();
        unique
    };
    assert_eq!(unique.len(), PEOPLE);
    assert_eq!(keys.len(), PEOPLE, "a reminder was sent twice: {keys:?}");
    assert_eq!(sent_count(&second_url).await, PEOPLE as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_one_killed_mid_burst_the_others_remind_everyone_once() {
    const PEOPLE: usize = 40;
    let robots = MockRobots::start(Duration::from_secs(3)).await;
    robots.set_delay(Duration::from_millis(60));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:30:00+08:00");
    let vars = server_vars(&clock_path, &[("ROBOT_RATE_WINDOW_SCALE", "0.05")]);
    let (first, first_url) = start_server_process(dir.path(), &vars).await;
    let mut first = Server(Some(first));
    let (second, _) = start_server_process(dir.path(), &vars).await;
    let _second = Server(Some(second));
    let (third, third_url) = start_server_process(dir.path(), &vars).await;
    let _third = Server(Some(third));
    plan_separate_messages(&first_url, PEOPLE, &robots.dingtalk_url("replicas")).await;
    set_clock(&clock_file, "2026-11-23T08:44:59+08:00");

    robots.wait_for(8, TIMEOUT).await;
    kill(first.0.take().expect("running"));
    let before_kill = robots.accepted().len();
    assert!(before_kill < 20, "the kill came too late to test anything");
    // Rows the killed replica had claimed stay leased for 60 s of the schedule clock: move
    // past that; the other two go on without a restart.
    set_clock(&clock_file, "2026-11-23T08:46:30+08:00");
    robots
        .wait_for_mentions(PEOPLE, Duration::from_secs(40))
        .await;
    wait_until_sent(&third_url, PEOPLE).await;
    eprintln!(
        "three replicas, one killed: {before_kill} accepted before the kill, {} resends dropped by msgUuid",
        robots.dropped_duplicates(),
    );
    assert_eq!(
        robots.rate_limited(),
        0,
        "the replicas together kept the robot's limit"
    );
    assert_each_mentioned_once(&robots.mentioned_mobiles(), PEOPLE);
}

/// Three replicas started at the same moment on a new database: one applies the
/// migrations while the others wait for the lock and then find nothing to do; all three
/// serve, and a session opened on one is valid on the others until it is ended anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_started_together_migrate_once_and_share_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = [
        ("APP_ENV", "production"),
        ("SECRET_KEY", "replica-secret-key-0123456789abcdef"),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("API_TOKEN", API_TOKEN),
    ];
    let (first, second, third) = tokio::join!(
        start_server_process(dir.path(), &vars),
        start_server_process(dir.path(), &vars),
        start_server_process(dir.path(), &vars),
    );
    let _servers = [
        Server(Some(first.0)),
        Server(Some(second.0)),
        Server(Some(third.0)),
    ];
    let urls = [first.1, second.1, third.1];

    let json = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    let body = json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string();
    let login = crate::helpers::http(
        "POST",
        &format!("{}/api/v1/session", urls[0]),
        &json,
        body.as_bytes(),
        TIMEOUT,
    )
    .await
    .expect("login");
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = session_cookie(&login).expect("a session cookie");
    let me = |url: String| {
        let cookie = cookie.clone();
        async move {
            crate::helpers::http(
                "GET",
                &format!("{url}/api/v1/me"),
                &[("Cookie", cookie.as_str()), ("Accept", "application/json")],
                "",
                TIMEOUT,
            )
            .await
            .expect("me")
        }
    };
    for url in &urls {
        let answer = me(url.clone()).await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.body);
        assert!(answer.body.contains("\"admin\""), "{}", answer.body);
    }
    // Signing out on the third ends the session on all of them.
    let origin = urls[2].clone();
    let logout = crate::helpers::http(
        "DELETE",
        &format!("{}/api/v1/session", urls[2]),
        &[("Cookie", cookie.as_str()), ("Origin", origin.as_str())],
        "",
        TIMEOUT,
    )
    .await
    .expect("logout");
    assert!(logout.status < 300, "{}: {}", logout.status, logout.body);
    for url in &urls {
        assert_eq!(me(url.clone()).await.status, 401, "{url}");
    }
}

/// Signs in on one server and returns the session cookie.
async fn sign_in(base_url: &str, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password}).to_string();
    let response = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/session"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
        TIMEOUT,
    )
    .await
    .expect("sign in");
    assert_eq!(response.status, 200, "{}", response.body);
    session_cookie(&response).expect("a session cookie")
}

async fn post_as(base_url: &str, cookie: &str, path: &str, body: Value) -> (u16, Value) {
    let text = body.to_string();
    let response = crate::helpers::http(
        "POST",
        &format!("{base_url}{path}"),
        &[
            ("Content-Type", "application/json"),
            ("Cookie", cookie),
            ("Origin", base_url),
        ],
        text.as_bytes(),
        TIMEOUT,
    )
    .await
    .unwrap_or_else(|error| panic!("POST {path}: {error}"));
    (
        response.status,
        serde_json::from_str(&response.body).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_give_an_open_shift_to_exactly_one_claim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    let clock_path = clock_file.display().to_string();
    set_clock(&clock_file, "2026-11-23T08:00:00+08:00");
    let vars = server_vars(&clock_path, &[("ADMIN_PASSWORD", ADMIN_PASSWORD)]);
    let (first, first_url) = start_server_process(dir.path(), &vars).await;
    let _first = Server(Some(first));
    let (second, second_url) = start_server_process(dir.path(), &vars).await;
    let _second = Server(Some(second));
    let people = plan_people(&first_url, 2).await;
    let (_, shifts) = call(&first_url, "GET", "/api/v1/shifts", Value::Null).await;
    let late = shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "B班")
        .expect("B班")["id"]
        .clone();

    let admin = sign_in(&first_url, "admin", ADMIN_PASSWORD).await;
    let (status, open) = post_as(
        &first_url,
        &admin,
        "/api/v1/requests",
        json!({"kind": "open", "date": "2026-11-24", "shift_id": late}),
    )
    .await;
    assert_eq!(status, 201, "{open}");
    let claim = format!("/api/v1/requests/{}/claim", open["id"]);
    let on_first = sign_in(&first_url, "worker000", "worker-password-1").await;
    let on_second = sign_in(&second_url, "worker001", "worker-password-1").await;
    // Both claims at once, each through its own server process.
    let (a, b) = tokio::join!(
        post_as(&first_url, &on_first, &claim, json!({})),
        post_as(&second_url, &on_second, &claim, json!({})),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.1, b.1);
    let winner = if a.0 == 200 { people[0] } else { people[1] };

    let (_, entries) = call(
        &second_url,
        "GET",
        "/api/v1/schedules?from=2026-11-24&to=2026-11-24",
        Value::Null,
    )
    .await;
    let entries = entries.as_array().expect("entries").clone();
    assert_eq!(entries.len(), 1, "one shift written: {entries:?}");
    assert_eq!(entries[0]["user_id"], winner);
    assert_eq!(entries[0]["shift_id"], late);
    let (_, taken) = call(
        &second_url,
        "GET",
        &format!("/api/v1/requests/{}", open["id"]),
        Value::Null,
    )
    .await;
    assert_eq!(taken["state"], "approved");
    assert_eq!(taken["peer"]["id"], winner);
}
