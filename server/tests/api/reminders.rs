//! The reminder engine against local mock robots, on a manual clock: what is due goes out
//! once, signed, with the mention; robots' error codes are failures; transient ones are
//! retried until the deadline; bursts are paced; punches skip; downtime is caught up or
//! recorded as missed.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::clock::ManualClock;
use app::ssr::entity::user;
use app::ssr::reminders;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{API_TOKEN, Caller, TestApp, json_body, spawn_app_with, spawn_app_with_clock};
use crate::mock_robot::{MockRobots, Reply};

const TODAY: (i32, u32, u32) = (2026, 11, 23);

pub(crate) fn admin() -> Caller {
    Caller::bearer(API_TOKEN)
}

/// A wall-clock time today in Asia/Shanghai.
pub(crate) fn local(hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(TODAY.0, TODAY.1, TODAY.2, hour, minute, second)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("date")
}

pub(crate) struct Rig {
    pub(crate) app: TestApp,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) robots: MockRobots,
}

/// A server on a manual clock at 07:00 today, allowed to post to the loopback robots.
pub(crate) async fn rig(extra: &[(&str, &str)]) -> Rig {
    rig_with_window(extra, Duration::from_secs(60)).await
}

async fn rig_with_window(extra: &[(&str, &str)], window: Duration) -> Rig {
    let robots = MockRobots::start(window).await;
    let clock = Arc::new(ManualClock::new(local(7, 0, 0)));
    let mut vars = vec![
        ("ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("REMINDER_TICK_SECONDS", "1"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with_clock(&vars, clock.clone()).await;
    Rig { app, clock, robots }
}

impl Rig {
    /// Adds an active member straight into the database (no password hashing: these
    /// people never sign in), with the ids robots mention them by.
    pub(crate) async fn person(
        &self,
        username: &str,
        mobile: Option<&str>,
        open_id: Option<&str>,
    ) -> i32 {
        let now = local(7, 0, 0);
        let row = user::ActiveModel {
            username: Set(username.to_owned()),
            username_key: Set(username.to_lowercase()),
            display_name: Set(format!("{username}同学")),
            mobile: Set(mobile.map(str::to_owned)),
            dingtalk_user_id: Set(None),
            feishu_open_id: Set(open_id.map(str::to_owned)),
            wecom_user_id: Set(Some(format!("wx_{username}"))),
            email: Set(None),
            role: Set("member".to_owned()),
            active: Set(true),
            must_change_password: Set(false),
            password_hash: Set("!".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            last_login_at: Set(None),
            reminders_enabled: Set(true),
            ..Default::default()
        }
        .insert(&self.app.db)
        .await
        .expect("insert person");
        row.id
    }

    pub(crate) async fn shift_id(&self, name: &str) -> i64 {
        let shifts = json_body(&self.app.get_as(&admin(), "/api/v1/shifts").await);
        shifts
            .as_array()
            .expect("list")
            .iter()
            .find(|shift| shift["name"] == name)
            .unwrap_or_else(|| panic!("no shift {name}: {shifts}"))["id"]
            .as_i64()
            .expect("id")
    }

    /// Puts everyone in `users` on `shift` today.
    pub(crate) async fn schedule(&self, users: &[i32], shift: &str) {
        let shift_id = self.shift_id(shift).await;
        let items: Vec<Value> = users
            .iter()
            .map(|user_id| json!({"user_id": user_id, "date": today(), "shift_id": shift_id}))
            .collect();
        let response = self
            .app
            .json_as(&admin(), "PUT", "/api/v1/schedules", json!(items))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    pub(crate) async fn channel(&self, body: Value) -> i64 {
        let response = self
            .app
            .json_as(&admin(), "POST", "/api/v1/channels", body)
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        json_body(&response)["id"].as_i64().expect("id")
    }

    pub(crate) async fn settings(&self, values: Value) {
        let response = self
            .app
            .json_as(&admin(), "PATCH", "/api/v1/settings", values)
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    /// The preview's instants for `user_id` today: (kind, sequence) → instant.
    pub(crate) async fn upcoming(&self, user_id: i32) -> Vec<(String, u64, DateTime<Utc>)> {
        let response = self
            .app
            .get_as(
                &admin(),
                &format!(
                    "/api/v1/reminders/upcoming?from={0}&to={0}&user_id={user_id}",
                    today()
                ),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        json_body(&response)["reminders"]
            .as_array()
            .expect("reminders")
            .iter()
            .map(|reminder| {
                (
                    reminder["kind"].as_str().expect("kind").to_owned(),
                    reminder["sequence"].as_u64().expect("sequence"),
                    DateTime::parse_from_rfc3339(reminder["at"].as_str().expect("at"))
                        .expect("RFC 3339")
                        .with_timezone(&Utc),
                )
            })
            .collect()
    }

    /// Sets the clock and runs one tick, the way the worker would.
    pub(crate) async fn tick_at(&self, at: DateTime<Utc>) {
        self.clock.set(at);
        reminders::run_tick(&self.app.services).await.expect("tick");
    }

    pub(crate) async fn deliveries(&self, query: &str) -> Vec<Value> {
        let response = self
            .app
            .get_as(
                &admin(),
                &format!("/api/v1/deliveries?per_page=100&{query}"),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        json_body(&response)["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    /// Waits until no delivery is `sending` and `count` rows exist, then returns them.
    pub(crate) async fn settled(&self, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let rows = self.deliveries("").await;
            let busy = rows.iter().any(|row| row["status"] == "sending")
                || self.app.services.dispatcher.queued_here() > 0;
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
}

fn by_user(rows: &[Value], user_id: i32) -> Vec<&Value> {
    rows.iter()
        .filter(|row| row["user_id"] == user_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_reminders_reach_each_platform_with_the_mention() {
    let rig = rig(&[]).await;
    let ding = rig.person("ding", Some("13800138001"), None).await;
    let fei = rig
        .person("fei", None, Some("ou_7d8a6e6df7621556ce0d21922b676706"))
        .await;
    let wei = rig.person("wei", Some("13800138003"), None).await;
    let gen_user = rig.person("gen", Some("13800138004"), None).await;
    rig.robots.set_secret("dt-token", "SECtestsecret0123456789");
    rig.robots.set_secret("fs-hook", "feishusecret123");
    rig.robots.set_secret("generic-1", "generic-secret");
    for (name, kind, url, secret, user_id) in [
        (
            "钉钉",
            "dingtalk",
            rig.robots.dingtalk_url("dt-token"),
            Some("SECtestsecret0123456789"),
            ding,
        ),
        (
            "飞书",
            "feishu",
            rig.robots.feishu_url("fs-hook"),
            Some("feishusecret123"),
            fei,
        ),
        (
            "企业微信",
            "wecom",
            rig.robots.wecom_url("wc-key"),
            None,
            wei,
        ),
        (
            "通用",
            "generic",
            rig.robots.generic_url("generic-1"),
            Some("generic-secret"),
            gen_user,
        ),
    ] {
        rig.channel(
            json!({"name": name, "kind": kind, "url": url, "secret": secret, "user_id": user_id}),
        )
        .await;
    }
    rig.schedule(&[ding, fei, wei, gen_user], "A班").await;

    let plan = rig.upcoming(ding).await;
    let (_, _, clock_in) = plan
        .iter()
        .find(|(kind, sequence, _)| kind == "clock_in" && *sequence == 0)
        .cloned()
        .expect("a clock-in reminder in the preview");
    assert_eq!(clock_in, local(8, 45, 0), "A班 09:00 minus 15 minutes");

    rig.tick_at(clock_in - chrono::Duration::seconds(30)).await;
    assert!(rig.deliveries("").await.is_empty(), "nothing is due yet");
    rig.tick_at(clock_in + chrono::Duration::seconds(2)).await;
    let accepted = rig.robots.wait_for(4, Duration::from_secs(20)).await;
    let rows = rig.settled(4).await;
    assert!(
        rows.iter()
            .all(|row| row["status"] == "sent" && row["attempts"] == 1),
        "{rows:#?}"
    );

    let text_of = |platform: &str| {
        accepted
            .iter()
            .find(|message| message.platform == platform)
            .unwrap_or_else(|| panic!("nothing reached {platform}"))
            .clone()
    };
    let dingtalk = text_of("dingtalk");
    assert!(
        dingtalk
            .text
            .starts_with("【上班提醒】ding同学，您好！您今天A班的上班时间是09:00"),
        "{}",
        dingtalk.text
    );
    assert!(dingtalk.text.contains("@13800138001"));
    assert_eq!(dingtalk.body["at"]["atMobiles"], json!(["13800138001"]));
    assert!(dingtalk.key.is_some(), "msgUuid is sent");

    let feishu = text_of("feishu");
    assert!(
        feishu
            .text
            .contains("<at user_id=\"ou_7d8a6e6df7621556ce0d21922b676706\">"),
        "{}",
        feishu.text
    );
    assert!(feishu.text.contains("fei同学"));

    let wecom = text_of("wecom");
    assert_eq!(
        wecom.body["text"]["mentioned_mobile_list"],
        json!(["13800138003"])
    );
    assert_eq!(wecom.body["text"]["mentioned_list"], json!(["wx_wei"]));

    let generic = text_of("generic");
    assert_eq!(generic.body["user"]["mobile"], "13800138004");
    assert_eq!(generic.body["kind"], "clock_in");

    // Ticking again, or over the same minute, sends nothing more.
    rig.tick_at(clock_in + chrono::Duration::seconds(40)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.robots.accepted().len(), 4);
    assert_eq!(rig.settled(4).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_error_codes_are_failures_and_only_transient_ones_are_retried() {
    let rig = rig(&[]).await;
    let wrong_secret = rig.person("wrongsecret", Some("13800138011"), None).await;
    let flaky = rig.person("flaky", Some("13800138012"), None).await;
    let busy = rig.person("busy", Some("13800138013"), None).await;
    let down = rig.person("down", Some("13800138014"), None).await;
    rig.robots.set_secret("signed", "SECreal");
    let wrong_channel = rig.channel(json!({"name": "错密钥", "kind": "dingtalk", "url": rig.robots.dingtalk_url("signed"), "secret": "SECwrong", "user_id": wrong_secret})).await;
    rig.channel(json!({"name": "偶尔500", "kind": "dingtalk", "url": rig.robots.dingtalk_url("flaky"), "user_id": flaky})).await;
    rig.channel(json!({"name": "限流", "kind": "wecom", "url": rig.robots.wecom_url("busy"), "user_id": busy})).await;
    rig.channel(json!({"name": "一直500", "kind": "generic", "url": rig.robots.generic_url("down"), "user_id": down})).await;
    rig.robots
        .script("flaky", [Reply::Status(500), Reply::Status(502)]);
    rig.robots
        .script("busy", [Reply::Code(45009, "api freq out of limit")]);
    rig.robots
        .script("down", (0..100).map(|_| Reply::Status(503)));
    rig.schedule(&[wrong_secret, flaky, busy, down], "A班")
        .await;

    let due = local(8, 45, 0);
    rig.tick_at(due).await;
    let rows = rig.settled(4).await;
    let row_of = |rows: &[Value], user_id: i32| by_user(rows, user_id)[0].clone();

    let sign = row_of(&rows, wrong_secret);
    assert_eq!(sign["status"], "failed", "{sign:#}");
    assert_eq!(sign["attempts"], 1, "a sign mismatch is not retried");
    assert!(
        sign["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("sign not match"),
        "{sign:#}"
    );
    for user_id in [flaky, busy, down] {
        let row = row_of(&rows, user_id);
        assert_eq!(row["status"], "pending", "retry later: {row:#}");
        assert_eq!(row["attempts"], 1);
    }
    // The robot that answered "too fast" is left alone for a while, and the channel list
    // says so; the others show their last result.
    let channels = json_body(&rig.app.get_as(&admin(), "/api/v1/channels").await);
    let channel = |name: &str| {
        channels
            .as_array()
            .expect("channels")
            .iter()
            .find(|channel| channel["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no channel {name}: {channels:#}"))
    };
    assert!(channel("限流")["banned_until"].is_string(), "{channels:#}");
    assert!(
        channel("限流")["ban_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("45009"),
        "{channels:#}"
    );
    assert!(channel("偶尔500")["banned_until"].is_null(), "{channels:#}");
    assert!(
        channel("错密钥")["last_result"]
            .as_str()
            .unwrap_or_default()
            .starts_with("发送失败"),
        "{channels:#}"
    );

    // Retries follow the backoff: walk the clock forward a minute at a time.
    for minute in 1..=9 {
        rig.tick_at(due + chrono::Duration::minutes(minute)).await;
        rig.settled(4).await;
    }
    let rows = rig.settled(4).await;
    let flaky_row = row_of(&rows, flaky);
    assert_eq!(flaky_row["status"], "sent", "{flaky_row:#}");
    assert_eq!(flaky_row["attempts"], 3, "500, 502, then accepted");
    let busy_row = row_of(&rows, busy);
    assert_eq!(busy_row["status"], "sent", "{busy_row:#}");
    assert_eq!(busy_row["attempts"], 2);

    // Past the deadline (10 minutes after the instant) the last failure is recorded.
    rig.tick_at(due + chrono::Duration::minutes(11)).await;
    let rows = rig.settled(4).await;
    let down_row = row_of(&rows, down);
    assert_eq!(down_row["status"], "failed", "{down_row:#}");
    assert!(
        down_row["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("503"),
        "{down_row:#}"
    );
    assert!(down_row["attempts"].as_i64().unwrap_or_default() >= 3);
    assert!(rig.robots.accepted_by("signed").is_empty());
    assert_eq!(rig.robots.accepted_by("flaky").len(), 1);
    assert_eq!(rig.robots.accepted_by("busy").len(), 1);

    // The admin fixes the secret and retries the failed row: it goes out once more.
    let fixed = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/channels/{wrong_channel}"),
            json!({"secret": "SECreal"}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    let id = sign["id"].as_i64().expect("id");
    let retry = format!("/api/v1/deliveries/{id}/retry");
    let retried = rig.app.call(&admin(), "POST", &retry, None, "").await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    rig.robots.wait_for(3, Duration::from_secs(10)).await;
    let rows = rig.settled(4).await;
    assert_eq!(row_of(&rows, wrong_secret)["status"], "sent");
    assert_eq!(rig.robots.accepted_by("signed").len(), 1);
    let again = rig.app.call(&admin(), "POST", &retry, None, "").await;
    assert_eq!(
        again.status, 409,
        "a sent row is not resent: {}",
        again.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_that_does_not_answer_times_out_and_is_retried() {
    let rig = rig(&[]).await;
    let slow = rig.person("slow", Some("13800138021"), None).await;
    rig.channel(json!({"name": "慢", "kind": "dingtalk", "url": rig.robots.dingtalk_url("slow"), "user_id": slow})).await;
    rig.robots
        .script("slow", [Reply::Hang(Duration::from_secs(40))]);
    rig.schedule(&[slow], "A班").await;

    let due = local(8, 45, 0);
    rig.tick_at(due).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "pending", "{rows:#?}");
    assert!(
        rows[0]["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("超时"),
        "{rows:#?}"
    );
    rig.tick_at(due + chrono::Duration::minutes(2)).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "sent", "{rows:#?}");
    assert_eq!(rows[0]["attempts"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_to_one_robot_is_paced_within_its_rate_limit_and_none_is_dropped() {
    // The limits' minute shrinks to 3 s on both sides, so 30 messages need two windows.
    let rig = rig_with_window(
        &[("ROBOT_RATE_WINDOW_SCALE", "0.05")],
        Duration::from_secs(3),
    )
    .await;
    let mut people = Vec::new();
    for n in 0..30 {
        people.push(
            rig.person(&format!("p{n:02}"), Some(&format!("139000000{n:02}")), None)
                .await,
        );
    }
    // Each person's own channel to the same robot: thirty separate messages (one team
    // channel would merge them into two), so the robot's limit decides the pace.
    for person in &people {
        rig.channel(json!({
            "name": format!("群机器人 {person}"),
            "kind": "dingtalk",
            "url": rig.robots.dingtalk_url("team"),
            "user_id": person,
        }))
        .await;
    }
    rig.schedule(&people, "A班").await;

    rig.tick_at(local(8, 45, 0)).await;
    let accepted = rig.robots.wait_for(30, Duration::from_secs(30)).await;
    assert_eq!(rig.robots.rate_limited(), 0, "never over 20 per window");
    let gap = accepted[20].at.duration_since(accepted[0].at);
    assert!(
        gap >= Duration::from_millis(2900),
        "the 21st waited for the window: {gap:?}"
    );
    let mut keys: Vec<_> = accepted
        .iter()
        .filter_map(|message| message.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 30, "each person once");
    let rows = rig.settled(30).await;
    assert!(rows.iter().all(|row| row["status"] == "sent"), "{rows:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn punches_skip_reminders_and_follow_ups_stop_once_punched() {
    let rig = rig(&[]).await;
    let early = rig.person("early", Some("13800138031"), None).await;
    let late = rig.person("late", Some("13800138032"), None).await;
    rig.channel(json!({"name": "组", "kind": "generic", "url": rig.robots.generic_url("team")}))
        .await;
    rig.settings(json!({"follow_up_count": "2", "follow_up_every": "5"}))
        .await;
    rig.schedule(&[early, late], "A班").await;
    let plan = rig.upcoming(late).await;
    let follow_ups: Vec<_> = plan
        .iter()
        .filter(|(kind, _, _)| kind == "clock_in")
        .map(|(_, sequence, at)| (*sequence, *at))
        .collect();
    assert_eq!(
        follow_ups,
        vec![
            (0, local(8, 45, 0)),
            (1, local(8, 50, 0)),
            (2, local(8, 55, 0))
        ]
    );

    // "early" punched at 08:30 from a phone shortcut (bearer token, by username).
    rig.clock.set(local(8, 30, 0));
    let punch = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/punches",
            json!({"username": "early", "kind": "clock_in"}),
        )
        .await;
    assert_eq!(punch.status, 201, "{}", punch.body);
    let bad = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/punches",
            json!({"username": "nobody", "kind": "clock_in"}),
        )
        .await;
    assert_eq!(bad.status, 404, "{}", bad.body);
    let bad_kind = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/punches",
            json!({"user_id": early, "kind": "lunch"}),
        )
        .await;
    assert_eq!(bad_kind.status, 422, "{}", bad_kind.body);

    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(2).await;
    assert_eq!(by_user(&rows, early)[0]["status"], "skipped");
    assert_eq!(by_user(&rows, late)[0]["status"], "sent");

    rig.tick_at(local(8, 50, 1)).await;
    let rows = rig.settled(4).await;
    let late_rows = by_user(&rows, late);
    assert!(
        late_rows
            .iter()
            .any(|row| row["sequence"] == 1 && row["status"] == "sent"),
        "{rows:#?}"
    );
    let early_rows = by_user(&rows, early);
    assert!(
        early_rows.iter().all(|row| row["status"] == "skipped"),
        "{rows:#?}"
    );

    // "late" punches now; the second follow-up is not sent.
    rig.clock.set(local(8, 52, 0));
    let punch = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/punches",
            json!({"user_id": late, "kind": "clock_in"}),
        )
        .await;
    assert_eq!(punch.status, 201, "{}", punch.body);
    rig.tick_at(local(8, 55, 1)).await;
    let rows = rig.settled(6).await;
    let second = by_user(&rows, late)
        .into_iter()
        .find(|row| row["sequence"] == 2)
        .expect("second follow-up row");
    assert_eq!(second["status"], "skipped", "{second:#}");
    let sent = rig.robots.accepted();
    assert_eq!(sent.len(), 2, "late: the reminder and one follow-up");
    assert!(sent.iter().all(|message| message.body["user_id"] == late));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_recent_reminders_go_out_late_and_older_ones_are_missed() {
    let rig = rig(&[]).await;
    let recent = rig.person("recent", Some("13800138041"), None).await;
    let old = rig.person("old", Some("13800138042"), None).await;
    rig.channel(json!({"name": "组", "kind": "generic", "url": rig.robots.generic_url("team")}))
        .await;
    let early_shift = rig
        .app
        .json_as(&admin(), "POST", "/api/v1/shifts", json!({"name": "早班", "label": "早", "start": "08:30", "end": "17:30", "remind_before_min": 15}))
        .await;
    assert_eq!(early_shift.status, 201, "{}", early_shift.body);
    rig.schedule(&[recent], "A班").await;
    rig.schedule(&[old], "早班").await;

    // The last tick before the "outage" ran at 08:00; the next runs at 08:52.
    rig.tick_at(local(8, 0, 0)).await;
    rig.tick_at(local(8, 52, 0)).await;
    let rows = rig.settled(2).await;
    let missed = by_user(&rows, old)[0];
    assert_eq!(
        missed["status"], "missed",
        "08:15 is 37 minutes ago: {missed:#}"
    );
    let late = by_user(&rows, recent)[0];
    assert_eq!(late["status"], "sent", "08:45 is 7 minutes ago: {late:#}");
    assert_eq!(late["lateness_secs"], 7 * 60);
    assert_eq!(rig.robots.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_switched_off_are_computed_and_recorded_but_not_sent() {
    let rig = rig(&[("REMINDER_ENABLED", "false")]).await;
    let person = rig.person("quiet", Some("13800138051"), None).await;
    rig.channel(json!({"name": "组", "kind": "generic", "url": rig.robots.generic_url("team")}))
        .await;
    rig.schedule(&[person], "A班").await;
    assert!(
        !rig.upcoming(person).await.is_empty(),
        "the preview still works"
    );

    rig.tick_at(local(8, 45, 0)).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "disabled", "{rows:#?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rig.robots.requests().is_empty());

    // Pinned by the environment: the settings API refuses to change it.
    let refused = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            "/api/v1/settings",
            json!({"reminder_enabled": "true"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("REMINDER_ENABLED"),
        "{}",
        refused.body
    );
}

/// The punch check sends `CHECK_TOKEN`; `API_TOKEN`, which authenticates here, never
/// leaves the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_punch_check_sends_its_own_token_never_the_api_token() {
    use axum::http::HeaderMap;
    let seen: Arc<std::sync::Mutex<Vec<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let router = axum::Router::new().route(
        "/airscript",
        axum::routing::post(move |headers: HeaderMap| {
            let recorder = recorder.clone();
            async move {
                recorder.lock().expect("headers").push(headers);
                axum::Json(json!({"data": {"result": {"打卡检测": "上班未打卡"}}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let check_url = format!("http://{}/airscript", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let rig = rig(&[
        ("CHECK_MODE", "airscript"),
        ("CHECK_URL", &check_url),
        ("CHECK_TOKEN", "airscript-token-of-the-check"),
    ])
    .await;
    let person = rig.person("wang", Some("13800138041"), None).await;
    rig.channel(json!({"name": "组", "kind": "generic", "url": rig.robots.generic_url("team")}))
        .await;
    rig.schedule(&[person], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "sent", "{rows:#?}");
    let seen = seen.lock().expect("headers").clone();
    assert_eq!(seen.len(), 1, "one check before the reminder");
    assert_eq!(
        seen[0].get("airscript-token").and_then(|v| v.to_str().ok()),
        Some("airscript-token-of-the-check")
    );
    let outward: Vec<String> = seen
        .iter()
        .flat_map(|headers| headers.values())
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .chain(rig.robots.requests().into_iter().flat_map(|(a, b)| [a, b]))
        .collect();
    assert!(
        outward.iter().all(|text| !text.contains(API_TOKEN)),
        "API_TOKEN left the server: {outward:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_urls_must_be_public_https_and_secrets_never_come_back() {
    let app = spawn_app_with(&[]).await;
    for url in [
        "http://oapi.dingtalk.com/robot/send?access_token=abc",
        "https://127.0.0.1/robot/send?access_token=abc",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "not a url",
    ] {
        let response = app
            .json_as(
                &admin(),
                "POST",
                "/api/v1/channels",
                json!({"name": "x", "url": url}),
            )
            .await;
        assert_eq!(response.status, 422, "{url}: {}", response.body);
        assert_eq!(json_body(&response)["error"]["field"], "url", "{url}");
    }
    let created = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "钉钉群", "url": "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef", "secret": "SECverysecretvalue"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let channel = json_body(&created);
    assert_eq!(channel["kind"], "dingtalk", "recognised from the URL");
    assert_eq!(channel["has_secret"], true);
    let id = channel["id"].as_i64().expect("id");
    let listed = app.get_as(&admin(), "/api/v1/channels").await;
    let fetched = app
        .get_as(&admin(), &format!("/api/v1/channels/{id}"))
        .await;
    for body in [&created.body, &listed.body, &fetched.body] {
        assert!(!body.contains("SECverysecretvalue"), "{body}");
        assert!(
            !body.contains("0123456789abcdef"),
            "the token is masked: {body}"
        );
    }
    let settings = app.get_as(&admin(), "/api/v1/settings").await;
    assert!(!settings.body.contains(API_TOKEN), "{}", settings.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifts_set_their_own_follow_ups_and_people_can_opt_out() {
    let rig = rig(&[]).await;
    let keen = rig.person("keen", Some("13800138061"), None).await;
    let quiet = rig.person("quietone", Some("13800138062"), None).await;
    for (body, field) in [
        (json!({"follow_up_count": 11}), "follow_up_count"),
        (json!({"follow_up_every_min": 0}), "follow_up_every_min"),
    ] {
        let mut shift = json!({"name": "坏班", "label": "坏", "start": "10:00", "end": "19:00"});
        shift
            .as_object_mut()
            .expect("object")
            .extend(body.as_object().expect("object").clone());
        let refused = rig
            .app
            .json_as(&admin(), "POST", "/api/v1/shifts", shift)
            .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(json_body(&refused)["error"]["field"], field);
    }
    let created = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "追班", "label": "追", "start": "10:00", "end": "19:00", "follow_up_count": 1, "follow_up_every_min": 20}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(json_body(&created)["follow_up_count"], 1);
    assert_eq!(json_body(&created)["follow_up_every_min"], 20);
    rig.schedule(&[keen, quiet], "追班").await;

    let opted_out = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/users/{quiet}"),
            json!({"reminders_enabled": false}),
        )
        .await;
    assert_eq!(opted_out.status, 200, "{}", opted_out.body);
    assert_eq!(json_body(&opted_out)["reminders_enabled"], false);

    let clock_in: Vec<_> = rig
        .upcoming(keen)
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "clock_in")
        .map(|(_, sequence, at)| (sequence, at))
        .collect();
    assert_eq!(clock_in, vec![(0, local(9, 45, 0)), (1, local(10, 5, 0))]);
    assert!(rig.upcoming(quiet).await.is_empty());
    let view = json_body(
        &rig.app
            .get_as(
                &admin(),
                &format!(
                    "/api/v1/reminders/upcoming?from={0}&to={0}&user_id={quiet}",
                    today()
                ),
            )
            .await,
    );
    assert_eq!(view["none"][0]["reason"], "user_opted_out", "{view}");
}

/// The one-click links of a person's accepted reminder, as (label, path on our server).
fn links_of(robots: &MockRobots, username: &str) -> Vec<(String, String)> {
    let message = robots
        .accepted()
        .into_iter()
        .find(|message| message.body["username"] == username)
        .unwrap_or_else(|| panic!("no message for {username}"));
    message.body["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|link| {
            let url = link["url"].as_str().expect("url");
            let path = url
                .strip_prefix("https://kq.example.com")
                .unwrap_or_else(|| panic!("link outside PUBLIC_URL: {url}"));
            (
                link["label"].as_str().expect("label").to_owned(),
                path.to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_links_punch_or_skip_once_and_refuse_tampered_or_expired_ones() {
    let rig = rig(&[("PUBLIC_URL", "https://kq.example.com")]).await;
    let punches = rig.person("punches", Some("13800138041"), None).await;
    let skips = rig.person("skips", Some("13800138042"), None).await;
    let other = rig.person("other", Some("13800138043"), None).await;
    rig.channel(json!({"name": "组", "kind": "generic", "url": rig.robots.generic_url("team")}))
        .await;
    rig.settings(json!({"follow_up_count": "2", "follow_up_every": "5"}))
        .await;
    rig.schedule(&[punches, skips, other], "A班").await;

    rig.tick_at(local(8, 45, 1)).await;
    rig.settled(3).await;
    let punch_links = links_of(&rig.robots, "punches");
    let labels: Vec<&str> = punch_links
        .iter()
        .map(|(label, _)| label.as_str())
        .collect();
    assert_eq!(labels, ["我已打卡", "今天不用提醒"]);
    let (_, punched) = &punch_links[0];
    let (_, skip_today) = &links_of(&rig.robots, "skips")[1];
    // The settings page knows where the links point.
    let settings = json_body(&rig.app.get_as(&admin(), "/api/v1/settings").await);
    assert_eq!(
        settings["public_url"], "https://kq.example.com",
        "{settings:#}"
    );

    // Opening a link (a chat app's preview does) only asks.
    let page = rig.app.get(punched).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("确认您已经上班打卡了吗"),
        "{}",
        page.body
    );
    assert!(page.body.contains("punches同学"));
    rig.tick_at(local(8, 50, 1)).await;
    let rows = rig.settled(6).await;
    assert!(
        by_user(&rows, punches)
            .iter()
            .any(|row| row["sequence"] == 1 && row["status"] == "sent"),
        "a GET must not punch: {rows:#?}"
    );

    // The button punches; the follow-up stops for that person only.
    let done = rig
        .app
        .call(&Caller::default(), "POST", punched, None, b"")
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("已记录上班打卡"), "{}", done.body);
    let again = rig
        .app
        .call(&Caller::default(), "POST", punched, None, b"")
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("已经用过了"), "{}", again.body);
    let skipped = rig
        .app
        .call(&Caller::default(), "POST", skip_today, None, b"")
        .await;
    assert_eq!(skipped.status, 200, "{}", skipped.body);
    assert!(
        skipped.body.contains("其余提醒都不再发送"),
        "{}",
        skipped.body
    );

    rig.tick_at(local(8, 55, 1)).await;
    let rows = rig.settled(9).await;
    let last = |user_id: i32| {
        by_user(&rows, user_id)
            .into_iter()
            .find(|row| row["kind"] == "clock_in" && row["sequence"] == 2)
            .cloned()
            .unwrap_or_else(|| panic!("no second follow-up for {user_id}: {rows:#?}"))
    };
    assert_eq!(last(punches)["status"], "skipped");
    assert_eq!(last(skips)["status"], "skipped");
    assert!(
        last(skips)["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("今天不用提醒"),
        "{rows:#?}"
    );
    assert_eq!(
        last(other)["status"],
        "sent",
        "another person's links do nothing to them"
    );
    // The rest of the day stays quiet for the person who skipped it.
    rig.tick_at(local(18, 0, 1)).await;
    let rows = rig.settled(12).await;
    let evening = by_user(&rows, skips)
        .into_iter()
        .find(|row| row["kind"] == "clock_out")
        .cloned()
        .expect("clock-out row");
    assert_eq!(evening["status"], "skipped", "{evening:#}");

    // Tampered: one character of the signature changed, or the person's id in it.
    let token = punched.trim_start_matches("/r/");
    let mut tampered = token.to_owned().into_bytes();
    let last_char = tampered.len() - 1;
    tampered[last_char] = if tampered[last_char] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for path in [
        format!("/r/{tampered}"),
        "/r/not-a-token".to_owned(),
        format!("/r/{}", "x".repeat(5000)),
    ] {
        let page = rig.app.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        let post = rig
            .app
            .call(&Caller::default(), "POST", &path, None, b"")
            .await;
        assert_eq!(post.status, 404, "{path}: {}", post.body);
        assert!(post.body.contains("链接"), "{}", post.body);
    }

    // Expired after the end of that day.
    rig.clock
        .set(local(23, 59, 59) + chrono::Duration::seconds(1));
    let (_, unused_skip) = &links_of(&rig.robots, "other")[1];
    let page = rig.app.get(unused_skip).await;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("已过期"), "{}", page.body);
    let post = rig
        .app
        .call(&Caller::default(), "POST", unused_skip, None, b"")
        .await;
    assert_eq!(post.status, 410, "{}", post.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_channels_of_every_kind_remind_their_person_privately_with_links() {
    use crate::mock_push::{MockPush, SmtpSink};
    let push = MockPush::start().await;
    let smtp = SmtpSink::start().await;
    let (sct, pushplus, wxpusher) = (
        format!("{}/sct", push.base_url),
        format!("{}/pushplus", push.base_url),
        format!("{}/wxpusher", push.base_url),
    );
    let rig = rig(&[
        ("PUBLIC_URL", "https://kq.example.com"),
        ("SERVERCHAN_API_BASE", sct.as_str()),
        ("PUSHPLUS_API_BASE", pushplus.as_str()),
        ("WXPUSHER_API_BASE", wxpusher.as_str()),
    ])
    .await;
    let host = push.host().to_owned();
    let addresses = [
        ("bark", format!("bark://{host}/bark/BarkDeviceKey0001")),
        ("ntfy", format!("ntfy://{host}/kaoqin-alerts-0001")),
        ("gotify", format!("gotify://{host}/gotify/GotifyAppToken01")),
        (
            "serverchan",
            "schan://SCT123456TabcdefghijklmnopqrstuvwXYZ".to_owned(),
        ),
        (
            "pushplus",
            "pushplus://0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "wxpusher",
            "wxpusher://AT_abcdefghijklmnopqrstuvwxyz012345/UID_abcdefghijklmnopqrstuvwx"
                .to_owned(),
        ),
        (
            "email",
            format!(
                "mailto://kq%40example.com:mail-password-1@127.0.0.1:{}?to=mailer%40example.com",
                smtp.port
            ),
        ),
    ];
    let mut people = Vec::new();
    for (kind, url) in &addresses {
        let id = rig.person(kind, None, None).await;
        let created = rig
            .app
            .json_as(
                &admin(),
                "POST",
                "/api/v1/channels",
                json!({"name": format!("{kind} 推送"), "url": url, "user_id": id, "purposes": ["clock_in"]}),
            )
            .await;
        assert_eq!(created.status, 201, "{kind}: {}", created.body);
        let view = json_body(&created);
        assert_eq!(view["kind"], *kind, "the kind is inferred from the URL");
        // Shown masked: no key, token or password comes back.
        for secret in [
            "BarkDeviceKey0001",
            "GotifyAppToken01",
            "abcdefghijklmnopqrstuvwXYZ",
            "0123456789abcdef0123456789abcdef",
            "AT_abcdefghijklmnopqrstuvwxyz012345",
            "mail-password-1",
        ] {
            assert!(
                !created.body.contains(secret),
                "{kind} leaks {secret}: {}",
                created.body
            );
        }
        people.push(id);
    }
    let team_member = rig.person("team", None, None).await;
    rig.channel(json!({"name": "组", "url": rig.robots.generic_url("team")}))
        .await;
    people.push(team_member);
    rig.schedule(&people, "A班").await;

    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(people.len()).await;
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row:#}");
    }
    let pushes = push.wait_for(6, Duration::from_secs(10)).await;
    let mut services: Vec<&str> = pushes.iter().map(|push| push.service).collect();
    services.sort_unstable();
    assert_eq!(
        services,
        [
            "bark",
            "gotify",
            "ntfy",
            "pushplus",
            "serverchan",
            "wxpusher"
        ]
    );
    for push in &pushes {
        assert!(
            push.text.contains(&format!("{}同学", push.service)),
            "each push is its own person's: {push:#?}"
        );
        // ntfy carries the links as action buttons (`Click`, `Actions`), the rest in the text.
        let linked = push.text.contains("https://kq.example.com/r/")
            || push
                .click
                .as_deref()
                .is_some_and(|url| url.starts_with("https://kq.example.com/r/"));
        assert!(linked, "{push:#?}");
        assert!(!push.title.is_empty(), "{push:#?}");
    }
    let bark = pushes
        .iter()
        .find(|push| push.service == "bark")
        .expect("bark");
    assert_eq!(bark.to, "BarkDeviceKey0001");
    assert!(
        bark.click
            .as_deref()
            .is_some_and(|url| url.starts_with("https://kq.example.com/r/"))
    );
    let ntfy = pushes
        .iter()
        .find(|push| push.service == "ntfy")
        .expect("ntfy");
    assert_eq!(ntfy.to, "kaoqin-alerts-0001");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].0, ["mailer@example.com"]);
    // The channel list shows each one's last result.
    let channels = json_body(&rig.app.get_as(&admin(), "/api/v1/channels").await);
    for channel in channels.as_array().expect("channels") {
        assert!(
            channel["last_result"]
                .as_str()
                .is_some_and(|last| last.starts_with("已发送")),
            "{channel:#}"
        );
    }
    // The team channel got only the person without a channel of their own.
    let team = rig.robots.accepted();
    assert_eq!(team.len(), 1, "{team:#?}");
    assert_eq!(team[0].body["username"], "team");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_channel_with_a_rate_limit_is_paced_across_the_burst() {
    use crate::mock_push::MockPush;
    let push = MockPush::start().await;
    // ntfy refills one message per 5 s after a burst: 12 a minute, a minute being 3 s here.
    let rig = rig(&[("ROBOT_RATE_WINDOW_SCALE", "0.05")]).await;
    let topic = format!("ntfy://{}/kaoqin-team-0001", push.host());
    rig.channel(json!({"name": "团队 ntfy", "url": topic}))
        .await;
    let mut people = Vec::new();
    for n in 0..15 {
        people.push(rig.person(&format!("p{n:02}"), None, None).await);
    }
    rig.schedule(&people, "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(15).await;
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row:#}");
        assert_eq!(
            row["attempts"], 1,
            "waiting for a slot is not an attempt: {row:#}"
        );
    }
    let mut arrivals: Vec<std::time::Instant> =
        push.arrivals().into_iter().map(|(_, at)| at).collect();
    arrivals.sort_unstable();
    assert_eq!(arrivals.len(), 15);
    let window = Duration::from_secs(3);
    for (i, first) in arrivals.iter().enumerate() {
        let within = arrivals[i..]
            .iter()
            .filter(|at| at.duration_since(*first) < window)
            .count();
        assert!(within <= 12, "{within} pushes within one (scaled) minute");
    }
    assert!(
        arrivals[12].duration_since(arrivals[0]) >= window,
        "the 13th waited for the window"
    );
    // A test message counts against the same limit: 13 at once exceed 12 a (scaled) minute.
    let channels = json_body(&rig.app.get_as(&admin(), "/api/v1/channels").await);
    let id = channels[0]["id"].as_i64().expect("id");
    let url = format!("{}/api/v1/channels/{id}/test", rig.app.base_url);
    let mut tests = tokio::task::JoinSet::new();
    for _ in 0..13 {
        let url = url.clone();
        tests.spawn(async move {
            let bearer = format!("Bearer {}", crate::helpers::API_TOKEN);
            let headers = [
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/json"),
            ];
            crate::helpers::http("POST", &url, &headers, "{}", crate::helpers::TIMEOUT).await
        });
    }
    let mut refused = 0;
    while let Some(joined) = tests.join_next().await {
        let tested = joined.expect("task").expect("answer");
        assert_eq!(tested.status, 200, "{}", tested.body);
        if json_body(&tested)["ok"] == false {
            refused += 1;
        }
    }
    assert!(refused >= 1, "13 tests at once must meet the limit");
    assert!(push.pushes().len() <= 15 + 12, "{}", push.pushes().len());
}
