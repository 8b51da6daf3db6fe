//! The pages' read models (the team's reminder plan, the team grid, the team's entries)
//! are kept in memory per process and keyed by the database's data version: every kind of
//! write shows on the next read, also when the write goes through one server process and
//! the read through another on the same database (the SQLite file, or PostgreSQL when the
//! suite runs there). A member never sees anyone else's reminders.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, API_TOKEN, Caller, Server, call_process, http, json_body, session_cookie,
    spawn_app, start_server_process,
};

const TIMEOUT: Duration = Duration::from_secs(20);
const TODAY: &str = "2026-11-23";
const TOMORROW: &str = "2026-11-24";

/// One of the server processes: its address and how to call it.
struct Process {
    base_url: String,
}

impl Process {
    async fn call(&self, caller: &Caller, method: &str, path: &str, body: Value) -> (u16, Value) {
        call_process(&self.base_url, caller, method, path, body).await
    }

    async fn ok(&self, caller: &Caller, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self.call(caller, method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    async fn login(&self, username: &str, password: &str) -> Caller {
        let response = http(
            "POST",
            &format!("{}/api/v1/session", self.base_url),
            &[("Content-Type", "application/json")],
            json!({"username": username, "password": password})
                .to_string()
                .as_bytes(),
            TIMEOUT,
        )
        .await
        .expect("login");
        assert_eq!(response.status, 200, "login {username}: {}", response.body);
        Caller {
            cookie: Some(session_cookie(&response).expect("a session cookie")),
            ..Caller::default()
        }
    }

    /// The three reads: the home page's data, the preview of today and tomorrow, and the
    /// team grid of the month.
    async fn home(&self, caller: &Caller) -> Value {
        self.ok(caller, "POST", "/api/fn/load_dashboard", json!({}))
            .await
    }

    async fn preview(&self, caller: &Caller) -> Value {
        self.ok(
            caller,
            "GET",
            &format!("/api/v1/reminders/upcoming?from={TODAY}&to={TOMORROW}"),
            Value::Null,
        )
        .await
    }

    async fn grid(&self, caller: &Caller) -> Value {
        self.ok(
            caller,
            "POST",
            "/api/fn/load_calendar",
            json!({"anchor": TODAY, "span": "month", "user_id": null, "team": true}),
        )
        .await
    }

    async fn team_entries(&self) -> Value {
        self.ok(
            &Caller::bearer(API_TOKEN),
            "GET",
            "/api/v1/schedules?from=2026-11-01&to=2026-11-30",
            Value::Null,
        )
        .await
    }
}

fn api() -> Caller {
    Caller::bearer(API_TOKEN)
}

/// The preview's reminders of `user_id` as (date, kind, sequence, local time, channel).
fn reminders_of(preview: &Value, user_id: i64) -> Vec<(String, String, i64, String, String)> {
    preview["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .filter(|item| item["user_id"] == user_id)
        .map(|item| {
            (
                item["date"]
                    .as_str()
                    .expect("the answer's shape")
                    .to_owned(),
                item["kind"]
                    .as_str()
                    .expect("the answer's shape")
                    .to_owned(),
                item["sequence"].as_i64().expect("the answer's shape"),
                item["at"].as_str().expect("the answer's shape")[11..16].to_owned(),
                item["channel"]
                    .as_str()
                    .expect("the answer's shape")
                    .to_owned(),
            )
        })
        .collect()
}

fn first_clock_in(preview: &Value, user_id: i64) -> Option<String> {
    reminders_of(preview, user_id)
        .into_iter()
        .find(|(date, kind, sequence, ..)| date == TODAY && kind == "clock_in" && *sequence == 0)
        .map(|(.., at, _)| at)
}

/// The home page's team today as (name, shift start), shift by shift.
fn team_today_names(home: &Value) -> Vec<(String, String)> {
    home["team_today"]
        .as_array()
        .expect("team_today")
        .iter()
        .flat_map(|shift| {
            let start = shift["shift"]["start"]
                .as_str()
                .expect("a start")
                .to_owned();
            shift["people"]
                .as_array()
                .expect("people")
                .iter()
                .map(move |name| (name.as_str().expect("a name").to_owned(), start.clone()))
        })
        .collect()
}

/// Whether the team grid lists `user_id` and has their entry on `date`. Entries travel
/// compactly: `[user_id, days since 0001-01-01 (day 1), shift_id, note?]`.
fn grid_has_entry(grid: &Value, user_id: i64, date: &str) -> bool {
    use chrono::Datelike;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .expect("date")
        .num_days_from_ce();
    let listed = grid["members"]
        .as_array()
        .expect("members")
        .iter()
        .any(|member| member["id"] == user_id);
    listed
        && grid["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|entry| entry[0] == user_id && entry[1] == day)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_write_through_one_process_shows_on_the_next_read_through_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock_file = dir.path().join("clock");
    std::fs::write(&clock_file, format!("{TODAY}T07:00:00+08:00")).expect("clock");
    let clock_path = clock_file.display().to_string();
    let vars = [
        ("APP_ENV", "development"),
        ("API_TOKEN", API_TOKEN),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("TEST_CLOCK_FILE", clock_path.as_str()),
    ];
    let (writer, writer_url) = start_server_process(dir.path(), &vars).await;
    let _writer = Server(Some(writer));
    let (reader, reader_url) = start_server_process(dir.path(), &vars).await;
    let _reader = Server(Some(reader));
    let writer = Process {
        base_url: writer_url,
    };
    let reader = Process {
        base_url: reader_url,
    };

    let mut ids = Vec::new();
    for (username, name) in [("alice", "爱丽丝"), ("bob", "鲍勃")] {
        let user = writer
            .ok(
                &api(),
                "POST",
                "/api/v1/users",
                json!({"username": username, "display_name": name, "password": "member-password-1",
                       "role": "member", "must_change_password": false}),
            )
            .await;
        ids.push(user["id"].as_i64().expect("id"));
    }
    let (alice, bob) = (ids[0], ids[1]);
    let shifts = writer
        .ok(&api(), "GET", "/api/v1/shifts", Value::Null)
        .await;
    let a_shift = shifts
        .as_array()
        .expect("the answer's shape")
        .iter()
        .find(|shift| shift["name"] == "A班")
        .expect("A班")["id"]
        .as_i64()
        .expect("the answer's shape");
    let admin = reader.login("admin", ADMIN_PASSWORD).await;

    // Read everything once through the reader: what it keeps now must not outlive a write.
    let home = reader.home(&admin).await;
    assert!(team_today_names(&home).is_empty(), "{home}");
    assert!(first_clock_in(&reader.preview(&api()).await, alice).is_none());
    assert!(!grid_has_entry(&reader.grid(&admin).await, alice, TODAY));
    assert_eq!(reader.team_entries().await, json!([]));

    // A schedule.
    writer
        .ok(
            &api(),
            "PUT",
            "/api/v1/schedules",
            json!([
                {"user_id": alice, "date": TODAY, "shift_id": a_shift},
                {"user_id": alice, "date": TOMORROW, "shift_id": a_shift},
                {"user_id": bob, "date": TODAY, "shift_id": a_shift},
            ]),
        )
        .await;
    assert_eq!(
        team_today_names(&reader.home(&admin).await),
        [
            ("爱丽丝".to_owned(), "09:00".to_owned()),
            ("鲍勃".to_owned(), "09:00".to_owned())
        ]
    );
    assert_eq!(
        first_clock_in(&reader.preview(&api()).await, alice).as_deref(),
        Some("08:45")
    );
    assert!(grid_has_entry(&reader.grid(&admin).await, alice, TODAY));
    assert_eq!(
        reader.team_entries().await.as_array().map(Vec::len),
        Some(3)
    );

    // A shift's times.
    writer
        .ok(
            &api(),
            "PATCH",
            &format!("/api/v1/shifts/{a_shift}"),
            json!({"start": "08:30"}),
        )
        .await;
    assert_eq!(
        team_today_names(&reader.home(&admin).await)[0],
        ("爱丽丝".to_owned(), "08:30".to_owned())
    );
    assert_eq!(
        first_clock_in(&reader.preview(&api()).await, alice).as_deref(),
        Some("08:15")
    );
    let grid = reader.grid(&admin).await;
    let a_view = grid["shifts"]
        .as_array()
        .expect("the answer's shape")
        .iter()
        .find(|shift| shift["id"] == a_shift)
        .expect("A班 in the grid")
        .clone();
    assert_eq!(a_view["start"], "08:30");

    // A channel: the preview names where each reminder would go.
    writer
        .ok(
            &api(),
            "POST",
            "/api/v1/channels",
            json!({"name": "爱丽丝的群", "url": "https://oapi.dingtalk.com/robot/send?access_token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "user_id": alice}),
        )
        .await;
    let preview = reader.preview(&api()).await;
    assert!(
        reminders_of(&preview, alice)
            .iter()
            .all(|(.., channel)| channel.contains("爱丽丝的群")),
        "{preview}"
    );
    let home = reader.home(&admin).await;
    assert!(
        home["next_reminders"]
            .as_array()
            .expect("the answer's shape")
            .iter()
            .filter(|item| item["user_id"] == alice)
            .all(|item| item["channel"]
                .as_str()
                .expect("the answer's shape")
                .contains("爱丽丝的群")),
        "{home}"
    );

    // A setting: clock-out reminders come `work_overtime` minutes after the end.
    let clock_out = |preview: &Value| {
        reminders_of(preview, alice)
            .into_iter()
            .find(|(date, kind, sequence, ..)| {
                date == TODAY && kind == "clock_out" && *sequence == 0
            })
            .map(|(.., at, _)| at)
    };
    let before = clock_out(&reader.preview(&api()).await).expect("a clock-out reminder");
    writer
        .ok(
            &api(),
            "PATCH",
            "/api/v1/settings",
            json!({"work_overtime": "47"}),
        )
        .await;
    let after = clock_out(&reader.preview(&api()).await).expect("a clock-out reminder");
    assert_ne!(before, after);
    assert_eq!(after, "18:47");

    // A holiday: tomorrow becomes a company day off; the preview skips it, the grid marks it.
    writer
        .ok(
            &api(),
            "POST",
            "/api/v1/company-days",
            json!({"date": TOMORROW, "name": "公司团建", "off_day": true}),
        )
        .await;
    let preview = reader.preview(&api()).await;
    assert!(
        !reminders_of(&preview, alice)
            .iter()
            .any(|(date, ..)| date == TOMORROW),
        "{preview}"
    );
    assert!(
        preview["none"]
            .as_array()
            .expect("the answer's shape")
            .iter()
            .any(|day| day["user_id"] == alice
                && day["date"] == TOMORROW
                && day["reason"] == "holiday"),
        "{preview}"
    );
    let grid = reader.grid(&admin).await;
    let tomorrow = grid["days"]
        .as_array()
        .expect("the answer's shape")
        .iter()
        .find(|day| day["date"] == TOMORROW)
        .expect("tomorrow in the grid")
        .clone();
    assert_eq!(tomorrow["working"], false, "{tomorrow}");

    // A member sees their own reminders only, from the same kept plan.
    let bob_session = reader.login("bob", "member-password-1").await;
    let bobs_home = reader.home(&bob_session).await;
    let shown: Vec<i64> = bobs_home["next_reminders"]
        .as_array()
        .expect("the answer's shape")
        .iter()
        .map(|item| item["user_id"].as_i64().expect("the answer's shape"))
        .collect();
    assert!(!shown.is_empty(), "{bobs_home}");
    assert!(shown.iter().all(|id| *id == bob), "{bobs_home}");
    assert_eq!(bobs_home["team_today"], json!([]));
    assert!(
        bobs_home["user_names"]
            .as_array()
            .expect("the answer's shape")
            .iter()
            .all(|pair| pair[0] == bob),
        "{bobs_home}"
    );
    let bobs_preview = reader
        .ok(
            &bob_session,
            "POST",
            "/api/fn/load_upcoming",
            json!({"query": {"from": TODAY, "to": TOMORROW, "user_id": null}}),
        )
        .await;
    assert!(
        bobs_preview["reminders"]
            .as_array()
            .expect("the answer's shape")
            .iter()
            .all(|item| item["user_id"] == bob),
        "{bobs_preview}"
    );
    assert_eq!(
        bobs_preview["users"].as_array().map(Vec::len),
        Some(1),
        "{bobs_preview}"
    );

    // A person's active flag: an inactive person leaves the plan and the grid.
    writer
        .ok(
            &api(),
            "PATCH",
            &format!("/api/v1/users/{alice}"),
            json!({"active": false}),
        )
        .await;
    assert!(first_clock_in(&reader.preview(&api()).await, alice).is_none());
    assert_eq!(
        team_today_names(&reader.home(&admin).await)
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["鲍勃"]
    );
    assert!(!grid_has_entry(&reader.grid(&admin).await, alice, TODAY));
}

/// What changes often and shows nothing kept (a login, a punch) leaves the version alone, so
/// it does not throw the read models away; a write of what they show moves it.
#[tokio::test]
async fn the_version_moves_with_what_pages_show_and_not_with_logins_or_punches() {
    let app = spawn_app().await;
    let version = || async {
        app::ssr::read_models::data_version(&app.db)
            .await
            .expect("version")
    };
    let start = version().await;
    let member = app
        .create_user("carol", "member-password-1", "member")
        .await;
    let after_create = version().await;
    assert!(after_create > start);
    app.login("carol", "member-password-1").await;
    app.login_admin().await;
    let punch = app
        .json_as(
            &Caller::bearer(API_TOKEN),
            "POST",
            "/api/v1/punches",
            json!({"user_id": member, "kind": "clock_in"}),
        )
        .await;
    assert!(punch.status < 300, "{}", punch.body);
    assert_eq!(
        version().await,
        after_create,
        "logins and punches are not versioned"
    );
    let patched = app
        .json_as(
            &Caller::bearer(API_TOKEN),
            "PATCH",
            &format!("/api/v1/users/{member}"),
            json!({"display_name": "卡罗尔"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert!(version().await > after_create);
    let _ = json_body(&patched);
}
