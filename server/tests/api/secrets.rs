//! Secrets at rest: robot URLs (with their tokens), signing secrets and secret settings are
//! stored encrypted under a key derived from SECRET_KEY, so neither the rows nor the
//! database file give them away; reminders still reach the robots correctly signed.
//! Plaintext from before encryption is sealed at start-up; `rekey` moves everything to a
//! new SECRET_KEY all-or-nothing, and until then nothing unreadable is ever sent.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::ssr::clock::ManualClock;
use app::ssr::entity::{channel, setting, user};
use app::ssr::reminders;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{
    API_TOKEN, Caller, TestApp, json_body, run_binary, spawn_app_in, spawn_app_with,
    spawn_app_with_clock, test_config,
};
use crate::mock_robot::MockRobots;

const CHANNEL_TOKEN: &str = "chantok7f3e9a1c2b5d";
const CHANNEL_SECRET: &str = "SECchansecret5d8e2f0a";
const DEFAULT_TOKEN: &str = "deftok4b6a0c9e1d3f";
const DEFAULT_SECRET: &str = "SECdefsecret8a1b3c5e";
const APP_SECRET: &str = "appsecret2c4e6a8b0d";
const CHECK_TOKEN: &str = "checktok9e7c5a3b1f";

const OLD_KEY: &str = "old-secret-key-0123456789abcdef";
const NEW_KEY: &str = "new-secret-key-fedcba9876543210";

fn admin() -> Caller {
    Caller::bearer(API_TOKEN)
}

fn local(hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(2026, 11, 23, hour, minute, second)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

async fn person(app: &TestApp, username: &str, mobile: &str) -> i32 {
    let now = local(7, 0, 0);
    user::ActiveModel {
        username: Set(username.to_owned()),
        username_key: Set(username.to_owned()),
        display_name: Set(format!("{username}同学")),
        mobile: Set(Some(mobile.to_owned())),
        dingtalk_user_id: Set(None),
        feishu_open_id: Set(None),
        wecom_user_id: Set(None),
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
    .insert(&app.db)
    .await
    .expect("insert person")
    .id
}

async fn create_channel(app: &TestApp, robots: &MockRobots, user_id: Option<i32>) -> i64 {
    let response = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({
                "name": "值班群",
                "kind": "dingtalk",
                "url": robots.dingtalk_url(CHANNEL_TOKEN),
                "secret": CHANNEL_SECRET,
                "user_id": user_id,
            }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.body);
    let created = json_body(&response);
    assert!(!response.body.contains(CHANNEL_TOKEN) && !response.body.contains(CHANNEL_SECRET));
    created["id"].as_i64().expect("id")
}

async fn set_default_robot(app: &TestApp, robots: &MockRobots) {
    let response = app
        .json_as(
            &admin(),
            "PATCH",
            "/api/v1/settings",
            json!({
                "working_url": robots.dingtalk_url(DEFAULT_TOKEN),
                "working_secret": DEFAULT_SECRET,
                "dingtalk_app_secret": APP_SECRET,
                "check_mode": "local",
                "check_url": format!("https://www.kdocs.cn/api/v3/ide/file/x/script/y/sync_task?token={CHECK_TOKEN}"),
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

/// Every value a stolen database must not reveal.
const SECRETS: &[&str] = &[
    CHANNEL_TOKEN,
    CHANNEL_SECRET,
    DEFAULT_TOKEN,
    DEFAULT_SECRET,
    APP_SECRET,
    CHECK_TOKEN,
];

/// The stored rows of channels and settings, as text.
async fn stored_rows(db: &DatabaseConnection) -> (Vec<channel::Model>, Vec<setting::Model>) {
    (
        channel::Entity::find().all(db).await.expect("channels"),
        setting::Entity::find().all(db).await.expect("settings"),
    )
}

fn assert_sealed(channels: &[channel::Model], settings: &[setting::Model], sealed_keys: &[&str]) {
    for row in channels {
        assert!(row.url.starts_with("enc:v1:"), "{row:?}");
        if let Some(secret) = &row.secret {
            assert!(secret.starts_with("enc:v1:"), "{row:?}");
        }
    }
    for key in sealed_keys {
        let row = settings
            .iter()
            .find(|row| row.key == *key)
            .unwrap_or_else(|| panic!("setting {key} is stored"));
        assert!(row.value.starts_with("\"enc:v1:"), "{row:?}");
    }
    let text = format!("{channels:?}{settings:?}");
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{secret} stored in plaintext: {text}"
        );
    }
}

/// The SQLite file (and its WAL, if any) after a checkpoint: none of the secrets in it.
async fn assert_file_free_of_secrets(db: &DatabaseConnection, dir: &Path) {
    crate::helpers::sqlite_only!("reads the SQLite file's bytes (the rows are checked apart)");
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    let data = dir.join("data");
    let mut checked = 0;
    for name in ["attendance.db", "attendance.db-wal"] {
        let Ok(bytes) = std::fs::read(data.join(name)) else {
            continue;
        };
        checked += bytes.len();
        for secret in SECRETS {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "{secret} found in {name}"
            );
        }
    }
    assert!(checked > 0, "the database file was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_tokens_and_secrets_are_encrypted_at_rest_and_reminders_still_arrive_signed() {
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    robots.set_secret(CHANNEL_TOKEN, CHANNEL_SECRET);
    robots.set_secret(DEFAULT_TOKEN, DEFAULT_SECRET);
    let clock = Arc::new(ManualClock::new(local(7, 0, 0)));
    let app = spawn_app_with_clock(&[("ALLOW_PRIVATE_WEBHOOKS", "true")], clock.clone()).await;
    let own = person(&app, "own", "13800138021").await;
    let team = person(&app, "team", "13800138022").await;
    create_channel(&app, &robots, Some(own)).await;
    set_default_robot(&app, &robots).await;

    let (channels, settings) = stored_rows(&app.db).await;
    assert_eq!(channels.len(), 1);
    assert_sealed(
        &channels,
        &settings,
        &[
            "working_url",
            "working_secret",
            "dingtalk_app_secret",
            "check_url",
        ],
    );
    let mode = settings
        .iter()
        .find(|row| row.key == "check_mode")
        .expect("check_mode");
    assert_eq!(
        mode.value, "\"local\"",
        "settings that are not secret stay readable"
    );
    assert_file_free_of_secrets(&app.db, app.dir.path()).await;

    // Both on A班 (09:00): the clock-in reminders go out at 08:45, to the person's own
    // channel and to the default robot, each signed with its secret.
    let shifts = json_body(&app.get_as(&admin(), "/api/v1/shifts").await);
    let shift_id = shifts
        .as_array()
        .expect("shifts")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .clone();
    let items: Vec<Value> = [own, team]
        .iter()
        .map(|id| json!({"user_id": id, "date": NaiveDate::from_ymd_opt(2026, 11, 23), "shift_id": shift_id}))
        .collect();
    let response = app
        .json_as(&admin(), "PUT", "/api/v1/schedules", json!(items))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    clock.set(local(8, 44, 30));
    reminders::run_tick(&app.services).await.expect("tick");
    clock.set(local(8, 45, 2));
    reminders::run_tick(&app.services).await.expect("tick");
    robots.wait_for(2, Duration::from_secs(20)).await;
    let to_channel = robots.accepted_by(CHANNEL_TOKEN);
    let to_default = robots.accepted_by(DEFAULT_TOKEN);
    assert_eq!(to_channel.len(), 1, "{:?}", robots.requests());
    assert_eq!(to_default.len(), 1, "{:?}", robots.requests());
    assert!(
        to_channel[0].text.contains("own同学"),
        "{}",
        to_channel[0].text
    );
    assert!(
        to_default[0].text.contains("team同学"),
        "{}",
        to_default[0].text
    );

    // Deliveries and the audit log written meanwhile leak nothing either.
    assert_file_free_of_secrets(&app.db, app.dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_secrets_from_before_encryption_are_sealed_at_start_up_and_still_work() {
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    robots.set_secret(CHANNEL_TOKEN, CHANNEL_SECRET);
    robots.set_secret(DEFAULT_TOKEN, DEFAULT_SECRET);
    let clock = Arc::new(ManualClock::new(local(7, 0, 0)));
    let app = spawn_app_with_clock(&[("ALLOW_PRIVATE_WEBHOOKS", "true")], clock.clone()).await;
    let now = local(7, 0, 0);
    let id = channel::ActiveModel {
        name: Set("旧渠道".to_owned()),
        platform: Set("dingtalk".to_owned()),
        url: Set(robots.dingtalk_url(CHANNEL_TOKEN)),
        secret: Set(Some(CHANNEL_SECRET.to_owned())),
        format: Set("text".to_owned()),
        user_id: Set(None),
        clock_in: Set(true),
        clock_out: Set(true),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("plaintext channel")
    .id;
    for (key, value) in [
        ("working_url", robots.dingtalk_url(DEFAULT_TOKEN)),
        ("working_secret", DEFAULT_SECRET.to_owned()),
        ("dingtalk_app_secret", APP_SECRET.to_owned()),
    ] {
        setting::ActiveModel {
            key: Set(key.to_owned()),
            value: Set(serde_json::to_string(&value).expect("json")),
            updated_at: Set(now),
        }
        .insert(&app.db)
        .await
        .expect("plaintext setting");
    }

    let app = app.restart().await;
    let (channels, settings) = stored_rows(&app.db).await;
    assert_sealed(
        &channels,
        &settings,
        &["working_url", "working_secret", "dingtalk_app_secret"],
    );

    let tested = app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(json_body(&tested)["ok"], true, "{}", tested.body);
    assert_eq!(robots.accepted_by(CHANNEL_TOKEN).len(), 1);
    // A test message's msgUuid is its time: a later one, so the robot does not drop it.
    clock.set(local(7, 0, 1));
    let session = app.login_admin().await;
    let tested = app
        .server_fn(&session, "test_default_robot", json!({"kind": "clock_in"}))
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(json_body(&tested)["ok"], true, "{}", tested.body);
    assert_eq!(
        robots.accepted_by(DEFAULT_TOKEN).len(),
        1,
        "{:?} {:?}",
        robots.requests(),
        robots.accepted()
    );

    // Sealing is done once: a second start finds nothing to change.
    let app = app.restart().await;
    let again = stored_rows(&app.db).await;
    assert_eq!(again.0, channels);
    assert_eq!(
        again.1.iter().map(|row| &row.value).collect::<Vec<_>>(),
        settings.iter().map(|row| &row.value).collect::<Vec<_>>()
    );
}

fn rekey(dir: &Path, vars: &[(&str, &str)]) -> (bool, String, String) {
    let data = dir.join("data").display().to_string();
    let logs = dir.join("logs").display().to_string();
    let uploads = dir.join("uploads").display().to_string();
    let mut all = vec![
        ("APP_ENV", "production"),
        ("SECRET_KEY", NEW_KEY),
        ("DATA_DIR", data.as_str()),
        ("LOG_DIR", logs.as_str()),
        ("UPLOAD_DIR", uploads.as_str()),
    ];
    all.extend_from_slice(vars);
    let output = run_binary(dir, &["rekey"], &all);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn raw_values(dir: &Path) -> Vec<String> {
    let config = test_config(dir, &[]);
    let db = server::db::connect(&config.database).await.expect("open");
    let (channels, settings) = stored_rows(&db).await;
    db.close().await.ok();
    channels
        .iter()
        .flat_map(|row| [row.url.clone(), row.secret.clone().unwrap_or_default()])
        .chain(settings.iter().map(|row| row.value.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_moves_every_secret_to_the_new_secret_key_all_or_nothing() {
    let robots = MockRobots::start(Duration::from_secs(60)).await;
    robots.set_secret(CHANNEL_TOKEN, CHANNEL_SECRET);
    robots.set_secret(DEFAULT_TOKEN, DEFAULT_SECRET);
    let private = ("ALLOW_PRIVATE_WEBHOOKS", "true");
    let app = spawn_app_with(&[private, ("SECRET_KEY", OLD_KEY)]).await;
    let id = create_channel(&app, &robots, None).await;
    set_default_robot(&app, &robots).await;
    let dir = app.stop_keeping_dir().await;

    // The key changed without rekey: nothing is sent, and the reason is plain.
    let app = spawn_app_in(dir, &[private, ("SECRET_KEY", NEW_KEY)]).await;
    let view = json_body(
        &app.get_as(&admin(), &format!("/api/v1/channels/{id}"))
            .await,
    );
    let shown = view["url"].as_str().expect("url");
    assert!(
        shown.contains("无法解密") && shown.contains("rekey"),
        "{view}"
    );
    let tested = app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{id}/test"),
            json!({}),
        )
        .await;
    let tested = json_body(&tested);
    assert_eq!(tested["ok"], false, "{tested}");
    assert!(
        tested["message"]
            .as_str()
            .is_some_and(|message| message.contains("SECRET_KEY")),
        "{tested}"
    );
    let session = app.login_admin().await;
    let default = app
        .server_fn(&session, "test_default_robot", json!({"kind": "clock_in"}))
        .await;
    assert!(
        default.body.contains("无法解密") && default.body.contains("WORKING_URL"),
        "{}",
        default.body
    );
    let settings = json_body(&app.get_as(&admin(), "/api/v1/settings").await);
    let working = settings["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|field| field["key"] == "working_url")
        .expect("working_url")
        .clone();
    assert!(
        working["value"]
            .as_str()
            .is_some_and(|v| v.contains("无法解密")),
        "{working}"
    );
    assert!(robots.requests().is_empty(), "{:?}", robots.requests());
    let dir = app.stop_keeping_dir().await;
    let before = raw_values(dir.path()).await;

    // A wrong old key changes nothing.
    let (ok, _, stderr) = rekey(dir.path(), &[("OLD_SECRET_KEY", "not-the-old-key-000000")]);
    assert!(!ok);
    assert!(
        stderr.contains("无法解密") && stderr.contains("没有做任何修改"),
        "{stderr}"
    );
    assert_eq!(raw_values(dir.path()).await, before);
    let (ok, _, stderr) = rekey(dir.path(), &[]);
    assert!(!ok && stderr.contains("OLD_SECRET_KEY"), "{stderr}");

    // The old key: channel URL and secret, four secret settings.
    let (ok, stdout, stderr) = rekey(dir.path(), &[("OLD_SECRET_KEY", OLD_KEY)]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("重新加密 6 个值"), "{stdout}");
    let after = raw_values(dir.path()).await;
    assert_ne!(after, before);
    let (ok, stdout, stderr) = rekey(dir.path(), &[("OLD_SECRET_KEY", OLD_KEY)]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("重新加密 0 个值") && stdout.contains("6 个已是当前密钥"),
        "{stdout}"
    );
    assert_eq!(raw_values(dir.path()).await, after);

    let app = spawn_app_in(dir, &[private, ("SECRET_KEY", NEW_KEY)]).await;
    let tested = app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(json_body(&tested)["ok"], true, "{}", tested.body);
    assert_eq!(robots.accepted_by(CHANNEL_TOKEN).len(), 1);
    let (channels, settings) = stored_rows(&app.db).await;
    assert_sealed(
        &channels,
        &settings,
        &[
            "working_url",
            "working_secret",
            "dingtalk_app_secret",
            "check_url",
        ],
    );
}
