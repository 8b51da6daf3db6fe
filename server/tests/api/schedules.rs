//! Shifts, schedules, holidays, batch planning, import/export and calendar feeds, through
//! the REST API and server functions of a real server.

use crate::helpers::Response;
use serde_json::{Value, json};

use crate::helpers::{API_TOKEN, Caller, TestApp, json_body, spawn_app};

fn admin() -> Caller {
    Caller::bearer(API_TOKEN)
}

async fn shift_id(app: &TestApp, name: &str) -> i64 {
    let shifts = json_body(&app.get_as(&admin(), "/api/v1/shifts?archived=true").await);
    shifts
        .as_array()
        .expect("list")
        .iter()
        .find(|shift| shift["name"] == name)
        .unwrap_or_else(|| panic!("no shift {name}: {shifts}"))["id"]
        .as_i64()
        .expect("id")
}

async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app
        .get_as(&admin(), &format!("/api/v1/schedules?{query}"))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    json_body(&response).as_array().expect("list").clone()
}

async fn put(app: &TestApp, caller: &Caller, items: Value) -> Response {
    app.json_as(caller, "PUT", "/api/v1/schedules", items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_shifts_are_seeded() {
    let app = spawn_app().await;
    let shifts = json_body(&app.get_as(&admin(), "/api/v1/shifts").await);
    let summary: Vec<(String, String, String, String, bool)> = shifts
        .as_array()
        .expect("list")
        .iter()
        .map(|shift| {
            (
                shift["name"].as_str().unwrap_or_default().to_owned(),
                shift["start"].as_str().unwrap_or_default().to_owned(),
                shift["end"].as_str().unwrap_or_default().to_owned(),
                shift["color"].as_str().unwrap_or_default().to_owned(),
                shift["rest"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let expected = [
        ("A班", "09:00", "18:00", "#3498db", false),
        ("B班", "13:00", "22:00", "#e74c3c", false),
        ("休", "00:00", "00:00", "#95a5a6", true),
    ]
    .map(|(n, s, e, c, r)| (n.to_owned(), s.to_owned(), e.to_owned(), c.to_owned(), r));
    assert_eq!(summary, expected);
    assert_eq!(shifts[0]["remind_before_min"], 15);
    // Clock-out follows WORK_OVERTIME unless the shift sets its own.
    assert_eq!(shifts[0]["remind_after_default"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifts_are_created_validated_edited_and_archived_when_in_use() {
    let app = spawn_app().await;
    let created = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "夜班", "label": "夜", "color": "#722ED1", "start": "22:00", "end": "6:00", "remind_after_min": 30}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let night = json_body(&created);
    assert_eq!(night["color"], "#722ed1");
    assert_eq!(night["end"], "06:00");
    assert_eq!(night["overnight"], true);
    assert_eq!(night["remind_after_min"], 30);

    for (body, field) in [
        (
            json!({"name": "x", "label": "x", "start": "25:00", "end": "06:00"}),
            "start",
        ),
        (
            json!({"name": "x", "label": "x", "start": "09:00", "end": "9"}),
            "end",
        ),
        (
            json!({"name": "x", "label": "长标签", "start": "09:00", "end": "18:00"}),
            "label",
        ),
        (
            json!({"name": "x", "label": "x", "color": "blue", "start": "09:00", "end": "18:00"}),
            "color",
        ),
        (
            json!({"name": "", "label": "x", "start": "09:00", "end": "18:00"}),
            "name",
        ),
        (
            json!({"name": "x", "label": "x", "start": "09:00", "end": "18:00", "remind_before_min": 5000}),
            "remind_before_min",
        ),
    ] {
        let response = app.json_as(&admin(), "POST", "/api/v1/shifts", body).await;
        assert_eq!(response.status, 422, "{}", response.body);
        assert_eq!(json_body(&response)["error"]["field"], field);
    }
    let duplicate = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "夜班", "label": "N", "start": "22:00", "end": "06:00"}),
        )
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);

    let id = night["id"].as_i64().expect("id");
    let patched = app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/shifts/{id}"),
            json!({"remind_after_min": null, "note": "含夜宵"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(json_body(&patched)["remind_after_default"], true);
    assert_eq!(json_body(&patched)["note"], "含夜宵");

    // Unused: deleted. Used: archived, and hidden from the default list.
    let unused = app
        .call(
            &admin(),
            "DELETE",
            &format!("/api/v1/shifts/{id}"),
            None,
            "",
        )
        .await;
    assert_eq!(json_body(&unused)["result"], "deleted");
    let a = shift_id(&app, "A班").await;
    let written = put(
        &app,
        &admin(),
        json!([{"user_id": 1, "date": "2026-11-24", "shift_id": a}]),
    )
    .await;
    assert_eq!(written.status, 200, "{}", written.body);
    let used = app
        .call(&admin(), "DELETE", &format!("/api/v1/shifts/{a}"), None, "")
        .await;
    assert_eq!(json_body(&used)["result"], "archived");
    let active = json_body(&app.get_as(&admin(), "/api/v1/shifts").await);
    assert!(
        !active
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["id"] == a)
    );
    assert_eq!(
        entries(&app, "from=2026-11-24&to=2026-11-24").await.len(),
        1
    );
    // An archived shift cannot be given to new days.
    let refused = put(
        &app,
        &admin(),
        json!([{"user_id": 1, "date": "2026-11-25", "shift_id": a}]),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(json_body(&refused)["error"]["field"], "[0].shift_id");

    app.create_user("member", "member-pass-1", "member").await;
    let member = app.login("member", "member-pass-1").await;
    let members_cannot = app
        .json_as(
            &member,
            "POST",
            "/api/v1/shifts",
            json!({"name": "y", "label": "y", "start": "09:00", "end": "18:00"}),
        )
        .await;
    assert_eq!(members_cannot.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_writes_are_all_or_nothing_and_name_the_bad_item() {
    let app = spawn_app().await;
    let a = shift_id(&app, "A班").await;
    let b = shift_id(&app, "B班").await;
    let good = put(
        &app,
        &admin(),
        json!([
            {"user_id": 1, "date": "2026-12-01", "shift_id": a},
            {"user_id": 1, "date": "2026-12-02", "shift_id": b, "note": "换班"},
        ]),
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(json_body(&good)["written"], 2);

    let cases = [
        (
            json!([{"user_id": 1, "date": "2026-12-03", "shift_id": a}, {"user_id": 999, "date": "2026-12-04", "shift_id": a}]),
            404,
            "[1].user_id",
        ),
        (
            json!([{"user_id": 1, "date": "2026-12-03", "shift_id": a}, {"user_id": 1, "date": "2026-12-05", "shift_id": 999}]),
            404,
            "[1].shift_id",
        ),
        (
            json!([{"user_id": 1, "date": "2026-12-03", "shift_id": a}, {"user_id": 1, "date": "2026-12-03", "shift_id": b}]),
            422,
            "[1]",
        ),
        (
            json!([{"user_id": 1, "date": "2026-02-30", "shift_id": a}]),
            422,
            "[0].date",
        ),
        (
            json!([{"user_id": 1, "date": "2026-12-03", "shift_id": a, "note": "x".repeat(201)}]),
            422,
            "[0].note",
        ),
    ];
    // A missing user or shift is 404 (like a missing path), a broken rule 422.
    for (body, status, field) in cases {
        let response = put(&app, &admin(), body).await;
        assert_eq!(response.status, status, "{}", response.body);
        assert_eq!(
            json_body(&response)["error"]["field"],
            field,
            "{}",
            response.body
        );
    }
    // Nothing from the refused batches was written.
    let stored = entries(&app, "from=2026-12-01&to=2026-12-31").await;
    assert_eq!(stored.len(), 2, "{stored:?}");

    // null clears; an unchanged item is counted as such.
    let cleared = put(
        &app,
        &admin(),
        json!([
            {"user_id": 1, "date": "2026-12-01", "shift_id": null},
            {"user_id": 1, "date": "2026-12-02", "shift_id": b, "note": "换班"},
        ]),
    )
    .await;
    assert_eq!(json_body(&cleared)["cleared"], 1);
    assert_eq!(json_body(&cleared)["unchanged"], 1);

    // Members write their own days only.
    let member_id = app.create_user("zhang", "zhang-pass-1", "member").await;
    let member = app.login("zhang", "zhang-pass-1").await;
    let own = put(
        &app,
        &member,
        json!([{"user_id": member_id, "date": "2026-12-07", "shift_id": a}]),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let others = put(
        &app,
        &member,
        json!([{"user_id": 1, "date": "2026-12-07", "shift_id": a}]),
    )
    .await;
    assert_eq!(others.status, 403);
    let visible = app
        .get_as(&member, "/api/v1/schedules?from=2026-12-01&to=2026-12-31")
        .await;
    let visible = json_body(&visible);
    assert_eq!(visible.as_array().map(Vec::len), Some(1), "{visible}");

    // Every change is in the audit log, before → after.
    let audit = json_body(
        &app.get_as(&admin(), "/api/v1/audit?kind=schedule_changed")
            .await,
    );
    let details: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|entry| entry["detail"].as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("admin 2026-12-01：A班 → （无）")),
        "{details:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_are_bounded_and_dates_checked() {
    let app = spawn_app().await;
    for (query, status) in [
        ("from=2026-01-01&to=2027-01-02", 422),
        ("from=2026-02-01&to=2026-01-01", 422),
        ("from=2026-02-30&to=2026-03-01", 422),
        ("to=2026-03-01", 422),
    ] {
        let response = app
            .get_as(&admin(), &format!("/api/v1/schedules?{query}"))
            .await;
        assert_eq!(response.status, status, "{query}: {}", response.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holidays_and_workdays_follow_the_state_council_calendar() {
    let app = spawn_app().await;
    let year = json_body(&app.get_as(&admin(), "/api/v1/holidays?year=2026").await);
    assert_eq!(year["statutory_source"], "builtin");
    let days = year["days"].as_array().expect("days");
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-02-17" && d["name"] == "春节" && d["off_day"] == true)
    );
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-02-14" && d["off_day"] == false)
    );

    let workdays = json_body(
        &app.get_as(&admin(), "/api/v1/workdays?from=2026-02-13&to=2026-02-17")
            .await,
    );
    let verdicts: Vec<(String, bool, String)> = workdays
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap_or_default().to_owned(),
                d["working"].as_bool().unwrap_or_default(),
                d["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("2026-02-13", true, "weekday"),
            ("2026-02-14", true, "make_up_workday"),
            ("2026-02-15", false, "statutory_holiday"),
            ("2026-02-16", false, "statutory_holiday"),
            ("2026-02-17", false, "statutory_holiday"),
        ]
        .map(|(d, w, r)| (d.to_owned(), w, r.to_owned()))
    );

    // A year without data falls back to Monday–Friday and says so.
    let guess = json_body(
        &app.get_as(&admin(), "/api/v1/workdays?from=2027-10-01&to=2027-10-01")
            .await,
    );
    assert_eq!(guess[0]["working"], true);
    assert_eq!(guess[0]["estimated"], true);

    // Importing that year's file replaces the guess.
    let file = json!({"year": 2027, "papers": [], "days": [
        {"name": "国庆节", "date": "2027-10-01", "isOffDay": true},
        {"name": "国庆节", "date": "2027-09-26", "isOffDay": false},
    ]});
    let imported = app
        .json_as(&admin(), "POST", "/api/v1/holidays/import", file)
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let known = json_body(
        &app.get_as(&admin(), "/api/v1/workdays?from=2027-09-26&to=2027-10-01")
            .await,
    );
    assert_eq!(known[0]["working"], true, "{known}");
    assert_eq!(known[0]["reason"], "make_up_workday");
    assert_eq!(known[5]["working"], false);
    assert_eq!(known[5]["estimated"], false);

    // Bad files are refused with the reason, and nothing changes.
    for bad in [
        "not json",
        r#"{"year": 2027}"#,
        r#"{"year": 2027, "days": [{"name": "x", "date": "2027-02-30", "isOffDay": true}]}"#,
    ] {
        let response = app
            .call(
                &admin(),
                "POST",
                "/api/v1/holidays/import",
                Some("application/json"),
                bad,
            )
            .await;
        assert_eq!(response.status, 422, "{bad}: {}", response.body);
        assert_eq!(json_body(&response)["error"]["field"], "file");
    }
    let still = json_body(&app.get_as(&admin(), "/api/v1/holidays?year=2027").await);
    assert_eq!(still["statutory_source"], "imported");
    assert_eq!(still["days"].as_array().map(Vec::len), Some(2));

    // A company day wins over the statutory calendar.
    let company = app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/company-days",
            json!({"date": "2026-02-14", "name": "年会调休", "off_day": true}),
        )
        .await;
    assert_eq!(company.status, 200, "{}", company.body);
    let day = json_body(
        &app.get_as(&admin(), "/api/v1/workdays?from=2026-02-14&to=2026-02-14")
            .await,
    );
    assert_eq!(day[0]["working"], false);
    assert_eq!(day[0]["reason"], "company_off_day");
    let removed = app
        .call(
            &admin(),
            "DELETE",
            "/api/v1/company-days/2026-02-14",
            None,
            "",
        )
        .await;
    assert_eq!(removed.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_batch_crosses_the_month_and_respects_holidays() {
    let app = spawn_app().await;
    let admin_session = app.login_admin().await;
    let a = shift_id(&app, "A班").await;
    let b = shift_id(&app, "B班").await;
    let rest = shift_id(&app, "休").await;
    let second = app.create_user("li", "li-pass-123", "member").await;
    // 2026-09-28 .. 2026-10-03: A,A,B,B,休,休 repeating; the second person two days later.
    // 2026-10-01..03 are National Day holidays; 2026-09-20 (Sunday) is a make-up workday.
    let request = json!({"request": {
        "users": [{"user_id": 1, "offset": 0}, {"user_id": second, "offset": 2}],
        "from": "2026-09-28",
        "to": "2026-10-03",
        "pattern": {"rotation": {"anchor": "2026-09-28", "cycle": [a, a, b, b, rest, rest]}},
        "holidays": {"rest_on_holidays": rest},
        "existing": "keep",
    }});
    let preview = app
        .server_fn(&admin_session, "preview_batch", request.clone())
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let preview = json_body(&preview);
    assert_eq!(preview["summary"]["new"], 12, "{preview}");
    // Previewing writes nothing.
    assert!(
        entries(&app, "from=2026-09-28&to=2026-10-03")
            .await
            .is_empty()
    );

    let committed = app.server_fn(&admin_session, "commit_batch", request).await;
    assert_eq!(committed.status, 200, "{}", committed.body);
    let names = |id: i64| match id {
        x if x == a => "A",
        x if x == b => "B",
        _ => "休",
    };
    let stored = entries(&app, "from=2026-09-28&to=2026-10-03").await;
    let by_user = |user: i64| -> Vec<&str> {
        stored
            .iter()
            .filter(|e| e["user_id"] == user)
            .map(|e| names(e["shift_id"].as_i64().unwrap_or_default()))
            .collect()
    };
    assert_eq!(by_user(1), ["A", "A", "B", "休", "休", "休"]);
    assert_eq!(by_user(second), ["B", "B", "休", "休", "休", "休"]);

    // Keep leaves existing days alone; overwrite replaces them.
    let weekday = json!({"request": {
        "users": [{"user_id": 1}],
        "from": "2026-09-28",
        "to": "2026-09-29",
        "pattern": {"weekdays": [b, b, b, b, b, null, null]},
        "existing": "keep",
    }});
    let kept = json_body(
        &app.server_fn(&admin_session, "preview_batch", weekday.clone())
            .await,
    );
    assert_eq!(kept["summary"]["kept"], 2, "{kept}");
    let mut overwrite = weekday.clone();
    overwrite["request"]["existing"] = json!("overwrite");
    let written = json_body(
        &app.server_fn(&admin_session, "commit_batch", overwrite)
            .await,
    );
    assert_eq!(written["written"], 2, "{written}");
    assert_eq!(
        entries(&app, "from=2026-09-28&to=2026-09-28").await[0]["shift_id"],
        b
    );

    // More than 366 days is refused.
    let mut too_long = weekday;
    too_long["request"]["to"] = json!("2027-12-31");
    let refused = app
        .server_fn(&admin_session, "preview_batch", too_long)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
}

async fn import(app: &TestApp, query: &str, body: &[u8]) -> Response {
    app.call(
        &admin(),
        "POST",
        &format!("/api/v1/schedules/import?{query}"),
        Some("application/octet-stream"),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_round_trips() {
    let app = spawn_app().await;
    app.create_user("wang", "wang-pass-1", "member").await;
    let csv = "日期,用户名,班次,备注\n2026-12-01,wang,A班,\n2026/12/2,WANG,B,\"晚到, 已批准\"\n2026-12-03,admin,休,\n";
    let dry = import(&app, "format=csv&dry_run=true", csv.as_bytes()).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    let dry = json_body(&dry);
    assert_eq!(dry["summary"]["new"], 3, "{dry}");
    assert_eq!(dry["committed"], false);
    assert!(
        entries(&app, "from=2026-12-01&to=2026-12-31")
            .await
            .is_empty()
    );

    let done = import(
        &app,
        "format=csv&dry_run=false&filename=plan.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(json_body(&done)["committed"], true);
    assert_eq!(
        entries(&app, "from=2026-12-01&to=2026-12-31").await.len(),
        3
    );
    // The upload is kept under UPLOAD_DIR.
    let kept = std::fs::read_dir(app.dir.path().join("uploads").join("imports"))
        .expect("imports folder")
        .count();
    assert_eq!(kept, 1);

    let export = app
        .get_as(
            &admin(),
            "/api/v1/schedules/export?from=2026-12-01&to=2026-12-31",
        )
        .await;
    assert_eq!(export.status, 200);
    assert!(
        export
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let first = export.body.clone();

    // Clearing everything and importing the export restores identical data.
    let before = entries(&app, "from=2026-12-01&to=2026-12-31").await;
    let clear: Vec<Value> = before
        .iter()
        .map(|e| json!({"user_id": e["user_id"], "date": e["date"], "shift_id": null}))
        .collect();
    put(&app, &admin(), Value::Array(clear)).await;
    assert!(
        entries(&app, "from=2026-12-01&to=2026-12-31")
            .await
            .is_empty()
    );
    let again = import(&app, "format=csv&dry_run=false", first.as_bytes()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(entries(&app, "from=2026-12-01&to=2026-12-31").await, before);
    let second = app
        .get_as(
            &admin(),
            "/api/v1/schedules/export?from=2026-12-01&to=2026-12-31",
        )
        .await;
    assert_eq!(second.body, first);

    // Importing the same file again changes nothing.
    let unchanged = json_body(&import(&app, "format=csv&dry_run=true", first.as_bytes()).await);
    assert_eq!(unchanged["summary"]["unchanged"], 3, "{unchanged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gbk_csv_from_excel_on_chinese_windows_imports() {
    let app = spawn_app().await;
    app.create_user("chen", "chen-pass-1", "member").await;
    let text = "日期,用户名,班次,备注\r\n2026-12-08,chen,A班,早到\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GBK");
    let done = import(&app, "format=csv&dry_run=false", &gbk).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let stored = entries(&app, "from=2026-12-08&to=2026-12-08").await;
    assert_eq!(stored[0]["note"], "早到");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_data_json_imports_for_one_user() {
    let app = spawn_app().await;
    let id = app.create_user("zhao", "zhao-pass-1", "member").await;
    let file = "{\n  \"2026\": {\n    \"12\": {\n      \"9\": \"A班\",\n      \"10\": \"休\",\n    },\n  },\n}\n";
    let done = import(
        &app,
        &format!("format=datajson&dry_run=false&user_id={id}"),
        file.as_bytes(),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let stored = entries(&app, &format!("user_id={id}&from=2026-12-09&to=2026-12-10")).await;
    assert_eq!(stored.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_import_files_get_precise_errors_and_write_nothing() {
    let app = spawn_app().await;
    let junk: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let whole_file = [
        (&b""[..], "csv"),
        (&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], "csv"),
        (&b"date,username\n2026-12-01,admin\n"[..], "csv"),
        (
            &b"date,username,shift,colour\n2026-12-01,admin,A\xe7\x8f\xad,red\n"[..],
            "csv",
        ),
        (&b"PK\x03\x04truncated"[..], "xlsx"),
        (&junk[..], "csv"),
    ];
    for (body, format) in whole_file {
        let response = import(&app, &format!("format={format}&dry_run=true"), body).await;
        assert_eq!(response.status, 422, "{}", response.body);
        let error = json_body(&response);
        assert_eq!(error["error"]["field"], "file", "{error}");
    }
    let rows = "date,username,shift\n2026-02-30,admin,A班\n2026-12-01,nobody,A班\n2026-12-02,admin,无此班\n2026-12-03,admin,A班\n2026-12-03,admin,B班\n";
    let preview = json_body(&import(&app, "format=csv&dry_run=true", rows.as_bytes()).await);
    let by_line: Vec<(u64, String)> = preview["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["line"].as_u64().unwrap_or_default(),
                row["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        by_line,
        [
            (2, "error"),
            (3, "error"),
            (4, "error"),
            (5, "new"),
            (6, "error")
        ]
        .map(|(line, status)| (line, status.to_owned()))
    );
    let messages: Vec<&str> = preview["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["message"].as_str())
        .collect();
    assert!(messages[0].contains("2026-02-30"), "{messages:?}");
    assert!(messages[1].contains("nobody"), "{messages:?}");
    assert!(messages[2].contains("无此班"), "{messages:?}");
    assert!(messages[3].contains('5'), "{messages:?}");
    // Confirming a file with bad rows writes nothing and names the first one.
    let refused = import(&app, "format=csv&dry_run=false", rows.as_bytes()).await;
    assert_eq!(refused.status, 422);
    assert!(
        json_body(&refused)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("第 2 行")
    );
    assert!(
        entries(&app, "from=2026-01-01&to=2026-12-31")
            .await
            .is_empty()
    );
    let unknown = import(&app, "format=pdf", b"x").await;
    assert_eq!(unknown.status, 422);
    assert_eq!(json_body(&unknown)["error"]["field"], "format");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_feed_serves_ics_until_revoked() {
    let app = spawn_app().await;
    let session = app.login_admin().await;
    let a = shift_id(&app, "A班").await;
    put(
        &app,
        &admin(),
        json!([{"user_id": 1, "date": "2026-11-24", "shift_id": a, "note": "值班"}]),
    )
    .await;
    let created = app
        .call(&session, "POST", "/api/v1/me/calendar-feed", None, "")
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = json_body(&created)["path"]
        .as_str()
        .expect("path")
        .to_owned();
    let feed = app.get_as(&Caller::default(), &path).await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(
        feed.header("content-type")
            .unwrap_or_default()
            .starts_with("text/calendar")
    );
    assert!(
        feed.body
            .contains("DTSTART;TZID=Asia/Shanghai:20261124T090000"),
        "{}",
        feed.body
    );
    assert!(feed.body.contains("SUMMARY:A班"));
    // The reminders ring on the phone too: 15 minutes before 09:00, and at the 18:00 end
    // (WORK_OVERTIME 0), as the engine would send them.
    let alarms: Vec<&str> = feed
        .body
        .split("BEGIN:VALARM")
        .skip(1)
        .map(|alarm| alarm.split("END:VALARM").next().unwrap_or_default())
        .collect();
    assert_eq!(alarms.len(), 2, "{}", feed.body);
    assert!(
        alarms[0].contains("TRIGGER:-PT15M") && alarms[0].contains("上班打卡提醒"),
        "{}",
        alarms[0]
    );
    assert!(
        alarms[1].contains("TRIGGER;RELATED=END:PT0M") && alarms[1].contains("下班打卡提醒"),
        "{}",
        alarms[1]
    );
    // A new address revokes the old one; revoking turns the feed off.
    let renewed = app
        .call(&session, "POST", "/api/v1/me/calendar-feed", None, "")
        .await;
    let new_path = json_body(&renewed)["path"]
        .as_str()
        .expect("path")
        .to_owned();
    assert_eq!(app.get_as(&Caller::default(), &path).await.status, 404);
    assert_eq!(app.get_as(&Caller::default(), &new_path).await.status, 200);
    app.call(&session, "DELETE", "/api/v1/me/calendar-feed", None, "")
        .await;
    assert_eq!(app.get_as(&Caller::default(), &new_path).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_loads_a_month_in_one_request() {
    let app = spawn_app().await;
    let session = app.login_admin().await;
    let a = shift_id(&app, "A班").await;
    put(
        &app,
        &admin(),
        json!([{"user_id": 1, "date": "2026-10-01", "shift_id": a}]),
    )
    .await;
    let month = app
        .server_fn(
            &session,
            "load_calendar",
            json!({"anchor": "2026-10-15", "span": "month", "user_id": null, "team": false}),
        )
        .await;
    assert_eq!(month.status, 200, "{}", month.body);
    let month = json_body(&month);
    // Whole weeks, Monday first: 2026-09-28 .. 2026-11-01.
    assert_eq!(month["from"], "2026-09-28");
    assert_eq!(month["to"], "2026-11-01");
    assert_eq!(month["today"], "2026-11-23");
    assert_eq!(month["entries"].as_array().map(Vec::len), Some(1));
    let national_day = month["days"]
        .as_array()
        .expect("days")
        .iter()
        .find(|d| d["date"] == "2026-10-01")
        .cloned()
        .expect("day");
    assert_eq!(national_day["working"], false);
    assert_eq!(national_day["marker"][0], "国庆节");

    // Members cannot open the team grid.
    app.create_user("sun", "sun-pass-12", "member").await;
    let member = app.login("sun", "sun-pass-12").await;
    let team = app
        .server_fn(
            &member,
            "load_calendar",
            json!({"anchor": null, "span": "month", "user_id": null, "team": true}),
        )
        .await;
    assert_eq!(team.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_queue_instead_of_failing() {
    let app = spawn_app().await;
    let a = shift_id(&app, "A班").await;
    // Each write reads before it writes; on SQLite they must queue for the write lock
    // rather than fail with "database is locked".
    let token = admin();
    let write = |day: u32| {
        put(
            &app,
            &token,
            json!([{"user_id": 1, "date": format!("2026-12-{day:02}"), "shift_id": a}]),
        )
    };
    let create = |name: &'static str| app.create_user(name, "same-pass-123", "member");
    let (w1, w2, w3, w4, w5, w6, _, _, _, _) = tokio::join!(
        write(1),
        write(2),
        write(3),
        write(4),
        write(5),
        write(6),
        create("p1"),
        create("p2"),
        create("p3"),
        create("p4"),
    );
    for response in [w1, w2, w3, w4, w5, w6] {
        assert_eq!(response.status, 200, "{}", response.body);
    }
    assert_eq!(
        entries(&app, "from=2026-12-01&to=2026-12-31").await.len(),
        6
    );
}
