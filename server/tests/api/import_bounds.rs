//! Hostile import files: each is refused naming the bound it crosses, quickly and without
//! harming the process (which these tests share with every other test of the binary: an
//! abort here fails them all), and the server answers the next request as usual.

use std::io::{Cursor, Write as _};
use std::time::Instant;

use serde_json::json;
use zip::write::SimpleFileOptions;

use crate::helpers::Response;

use crate::helpers::{API_TOKEN, Caller, RawConnection, TestApp, json_body, spawn_app};

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const HEADER: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>date</t></is></c><c r="B1" t="inlineStr"><is><t>user</t></is></c><c r="C1" t="inlineStr"><is><t>shift</t></is></c></row>"#;

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in parts {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .expect("start a zip entry");
        writer.write_all(content).expect("write a zip entry");
    }
    writer.finish().expect("finish the zip").into_inner()
}

/// A workbook of one sheet holding `sheet_data`, plus `extra` parts.
fn workbook(sheet_data: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let rels = format!(
        r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let book = format!(
        r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="排班" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let book_rels = format!(
        r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let sheet =
        format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>"#);
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", book_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    parts.extend_from_slice(extra);
    zip_of(&parts)
}

async fn import_as(app: &TestApp, caller: &Caller, format: &str, body: &[u8]) -> Response {
    app.call(
        caller,
        "POST",
        &format!("/api/v1/schedules/import?format={format}&dry_run=true"),
        Some("application/octet-stream"),
        body,
    )
    .await
}

/// Uploads as `caller`, expects a 422 on `file` whose message contains `bound`, prints how
/// long the refusal took, then checks the server still answers.
async fn expect_refused(app: &TestApp, caller: &Caller, format: &str, body: &[u8], bound: &str) {
    let started = Instant::now();
    let response = import_as(app, caller, format, body).await;
    eprintln!(
        "{format} upload of {} bytes refused in {:?}",
        body.len(),
        started.elapsed()
    );
    assert_eq!(response.status, 422, "{}", response.body);
    let error = &json_body(&response)["error"];
    assert_eq!(error["field"], "file", "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(bound), "expected {bound:?} in {message:?}");
    assert_eq!(app.get("/api/health").await.status, 200);
}

async fn member(app: &TestApp) -> Caller {
    app.create_user("zhou", "zhou-pass-12", "member").await;
    app.login("zhou", "zhou-pass-12").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_shared_string_count_is_refused_before_anything_is_sized_from_it() {
    let app = spawn_app().await;
    let member = member(&app).await;
    // Before the fix calamine reserved 10^13 strings here: the allocation failed and the
    // whole process (this test binary) aborted.
    let sst = format!(
        r#"<sst xmlns="{MAIN}" count="1" uniqueCount="10000000000000"><si><t>x</t></si></sst>"#
    );
    let probe = workbook(HEADER, &[("xl/sharedStrings.xml", sst.as_bytes())]);
    assert!(probe.len() < 2048, "{}", probe.len());
    expect_refused(&app, &member, "xlsx", &probe, "共享字符串超过 500000 个").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zip_bombs_are_refused_at_the_decompressed_bound() {
    let app = spawn_app().await;
    let member = member(&app).await;
    // The sheet itself inflates to 41 MiB: calamine would read through all of it (and
    // 16 GiB from a 16 MiB upload) before the fix.
    let padding = " ".repeat(41 * 1024 * 1024);
    let one_part = workbook(&format!("{HEADER}{padding}"), &[]);
    assert!(one_part.len() < 1024 * 1024, "{}", one_part.len());
    expect_refused(
        &app,
        &member,
        "xlsx",
        &one_part,
        "部件 xl/worksheets/sheet1.xml 解压后超过 40 MiB",
    )
    .await;

    let thirty = vec![b' '; 30 * 1024 * 1024];
    let two_parts = workbook(HEADER, &[("a.xml", &thirty), ("b.xml", &thirty)]);
    expect_refused(&app, &member, "xlsx", &two_parts, "解压后超过 50 MiB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheets_spanning_the_grid_or_beyond_it_cost_nothing() {
    let app = spawn_app().await;
    let member = member(&app).await;
    // One cell at each corner of Excel's grid: a Range would be rows × columns.
    let corners = workbook(
        &format!(
            r#"{HEADER}<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#
        ),
        &[],
    );
    let started = Instant::now();
    let response = import_as(&app, &member, "xlsx", &corners).await;
    eprintln!("A1 + XFD1048576 answered in {:?}", started.elapsed());
    assert_eq!(response.status, 200, "{}", response.body);
    let report = json_body(&response);
    assert_eq!(report["rows"][0]["line"], 1_048_576, "{report}");
    assert_eq!(report["summary"]["errors"], 1, "{report}");

    let beyond = workbook(r#"<row r="1"><c r="ZZZZZZZZ1"><v>1</v></c></row>"#, &[]);
    expect_refused(
        &app,
        &member,
        "xlsx",
        &beyond,
        "超出 Excel 的范围（XFD1048576）",
    )
    .await;

    // Blank rows count too (the million-blank-cells case is a unit test: unoptimised, it
    // takes seconds).
    let blank_rows = workbook(&"<row/>".repeat(200_001), &[]);
    expect_refused(
        &app,
        &member,
        "xlsx",
        &blank_rows,
        "超过 200000 行（含空白行）",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_csv_lines_and_fields_are_refused() {
    let app = spawn_app().await;
    let member = member(&app).await;
    let line = format!(
        "日期,用户名,班次\n2026-01-05,zhou,{}\n",
        "x".repeat(300 * 1024)
    );
    expect_refused(&app, &member, "csv", line.as_bytes(), "第 2 行超过 256 KiB").await;
    let field = format!(
        "日期,用户名,班次\n2026-01-05,zhou,\"{}\"\n",
        "x\n".repeat(70 * 1024)
    );
    expect_refused(&app, &member, "csv", field.as_bytes(), "单元格超过 128 KiB").await;
    let wide = format!(
        "日期,用户名,班次\n2026-01-05,zhou,A{}\n",
        ",".repeat(10_000)
    );
    expect_refused(&app, &member, "csv", wide.as_bytes(), "超过 256 个字段").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_or_large_json_is_refused() {
    let app = spawn_app().await;
    let member = member(&app).await;
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    expect_refused(&app, &member, "datajson", deep.as_bytes(), "嵌套超过 32 层").await;
    let wide = format!(
        r#"{{"2026": {{"1": {{"5": [{}0]}}}}}}"#,
        "0,".repeat(300_000)
    );
    expect_refused(
        &app,
        &member,
        "datajson",
        wide.as_bytes(),
        "值超过 200000 个",
    )
    .await;

    // Holiday files: admins only, through the REST API and the page's server function.
    let admin = Caller::bearer(API_TOKEN);
    let holidays = |body: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.call(
                &admin,
                "POST",
                "/api/v1/holidays/import",
                Some("application/json"),
                body,
            )
            .await
        }
    };
    let deep = format!(
        r#"{{"year":2026,"days":{}{}}}"#,
        "[".repeat(400_000),
        "]".repeat(400_000)
    );
    let wide = format!(r#"{{"year":2026,"days":[{}0]}}"#, "0,".repeat(500_000));
    for (body, bound) in [(deep, "不是有效的 JSON"), (wide, "最多 400 条")] {
        let response = holidays(body).await;
        assert_eq!(response.status, 422, "{}", response.body);
        let message = json_body(&response)["error"]["message"].to_string();
        assert!(message.contains(bound), "expected {bound:?} in {message}");
    }
    // An oversized file is refused by the body limit before it is read (413): declared,
    // not sent, since the server may close the connection before a client finishes.
    let admin_session = app.login_admin().await;
    let authorization = format!("Bearer {API_TOKEN}");
    let cookie = admin_session.cookie.clone().expect("session cookie");
    for (path, credential) in [
        (
            "/api/v1/holidays/import",
            ("Authorization", authorization.as_str()),
        ),
        ("/api/fn/import_holiday_file", ("Cookie", cookie.as_str())),
    ] {
        let headers = [credential, ("Content-Type", "application/json")];
        let (status, body) =
            RawConnection::declare_body(&app, "POST", path, &headers, 3 * 1024 * 1024).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("2 MiB"), "{path}: {body}");
    }
    // A file just over its own 1 MiB bound fits the request limit, so it is read and the
    // parser names the file's bound (a whole answer, not a cut connection).
    let just_over = format!(
        r#"{{"year":2026,"days":[],"pad":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let response = holidays(just_over.clone()).await;
    assert_eq!(response.status, 422, "{}", response.body);
    assert!(response.body.contains("1 MiB"), "{}", response.body);
    let response = app
        .server_fn(
            &admin_session,
            "import_holiday_file",
            json!({"text": just_over}),
        )
        .await;
    assert_eq!(response.status, 422, "{}", response.body);
    assert!(response.body.contains("1 MiB"), "{}", response.body);
    // Just under the body limit, the parser's own bound still names the file size.
    let just_under = format!(
        r#"{{"year":2026,"days":[],"pad":"{}"}}"#,
        "x".repeat(1024 * 1024 - 200)
    );
    let response = app
        .server_fn(
            &admin_session,
            "import_holiday_file",
            json!({"text": just_under}),
        )
        .await;
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(app.get("/api/health").await.status, 200);
}
