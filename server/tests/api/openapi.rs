//! The OpenAPI document is served, describes every `/api/v1` route, and matches the router.

use crate::helpers::{API_TOKEN, Caller, json_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let response = app.get_as(&Caller::default(), "/api/openapi.json").await;
    assert_eq!(response.status, 200);
    let document = json_body(&response);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(document["info"]["version"], app::VERSION);
    let paths = document["paths"].as_object().expect("paths");
    let expected = [
        ("/api/v1/session", &["post", "delete"][..]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/me/password", &["post"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}", &["get", "patch", "delete"]),
        ("/api/v1/users/{id}/password", &["post"]),
        ("/api/v1/audit", &["get"]),
        ("/api/v1/shifts", &["get", "post"]),
        ("/api/v1/shifts/{id}", &["get", "patch", "delete"]),
        ("/api/v1/schedules", &["get", "put"]),
        ("/api/v1/schedules/import", &["post"]),
        ("/api/v1/schedules/export", &["get"]),
        ("/api/v1/holidays", &["get"]),
        ("/api/v1/holidays/import", &["post"]),
        ("/api/v1/company-days", &["post"]),
        ("/api/v1/company-days/{date}", &["delete"]),
        ("/api/v1/workdays", &["get"]),
        ("/api/v1/me/calendar-feed", &["post", "delete"]),
        ("/api/v1/reminders/upcoming", &["get"]),
        ("/api/v1/deliveries", &["get"]),
        ("/api/v1/deliveries/{id}/retry", &["post"]),
        ("/api/v1/channels", &["get", "post"]),
        ("/api/v1/channels/{id}", &["get", "patch", "delete"]),
        ("/api/v1/channels/{id}/test", &["post"]),
        ("/api/v1/channels/{id}/bind", &["post"]),
        ("/api/v1/me/channel-order", &["get", "put"]),
        ("/api/v1/users/{id}/channel-order", &["get", "put"]),
        ("/api/v1/channel-order", &["get", "put"]),
        ("/api/v1/settings", &["get", "patch"]),
        ("/api/v1/punches", &["post"]),
        ("/api/v1/requests", &["get", "post"]),
        ("/api/v1/requests/{id}", &["get"]),
        ("/api/v1/requests/{id}/accept", &["post"]),
        ("/api/v1/requests/{id}/decline", &["post"]),
        ("/api/v1/requests/{id}/approve", &["post"]),
        ("/api/v1/requests/{id}/reject", &["post"]),
        ("/api/v1/requests/{id}/cancel", &["post"]),
        ("/api/v1/requests/{id}/claim", &["post"]),
        ("/api/v1/requests/{id}/revoke", &["post"]),
    ];
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys());
    for (path, methods) in expected {
        for method in methods {
            let operation = &paths[path][*method];
            assert!(operation.is_object(), "{method} {path} missing");
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty())
            );
        }
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["name"], "dda_session");
    for schema in [
        "UserView",
        "NewUser",
        "UserPatch",
        "ErrorBody",
        "AuditEntry",
        "ShiftView",
        "NewShift",
        "ShiftPatch",
        "ScheduleWrite",
        "ImportReport",
        "WorkdayView",
        "UpcomingView",
        "DeliveryView",
        "ChannelView",
        "NewChannel",
        "SettingsView",
        "NewPunch",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }

    // Every documented GET without parameters in its path answers, so the router serves
    // what the document describes.
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/shifts",
        "/api/v1/holidays",
        "/api/v1/reminders/upcoming",
        "/api/v1/deliveries",
        "/api/v1/channels",
        "/api/v1/settings",
    ] {
        let answer = app.get_as(&Caller::bearer(API_TOKEN), path).await;
        assert_ne!(answer.status, 404, "{path}");
    }
    app.stop().await.expect("clean stop");
}

/// Every status an operation's extractors can answer is in the document, from the shared
/// response sets: a caller (401/403/429), a JSON body (400/413/415/422), query parameters
/// (422) and an id in the path (404). Schemathesis found 22 undocumented statuses before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_the_errors_it_can_answer() {
    let app = spawn_app().await;
    let document = json_body(&app.get_as(&Caller::default(), "/api/openapi.json").await);
    let shared = document["components"]["responses"]
        .as_object()
        .expect("shared responses");
    for name in [
        "InvalidJson",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "PayloadTooLarge",
        "UnsupportedMediaType",
        "Unprocessable",
        "TooManyAttempts",
        "Busy",
    ] {
        assert_eq!(
            shared[name]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{name}"
        );
    }
    assert!(shared["TooManyAttempts"]["headers"]["Retry-After"].is_object());
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let label = format!("{method} {path}");
            let responses = operation["responses"].as_object().expect("responses");
            let has = |status: &str| responses.contains_key(status);
            let signed_out = path == "/api/v1/session";
            if !signed_out {
                for status in ["401", "403", "429"] {
                    assert!(has(status), "{label} lacks {status}");
                }
            }
            let json_body = operation["requestBody"]["content"]["application/json"].is_object()
                && path != "/api/v1/holidays/import";
            if json_body {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{label} lacks {status}");
                }
            }
            let query = operation["parameters"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["in"] == "query"));
            if query {
                assert!(has("422"), "{label} lacks 422");
            }
            if path.contains('{') {
                assert!(has("404"), "{label} lacks 404");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 56);
    app.stop().await.expect("clean stop");
}

/// Ranges, enums, formats and lengths the server enforces are in the document, so a
/// client (or a fuzzer) generating valid values from it is not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_states_ranges_enums_and_formats() {
    let app = spawn_app().await;
    let document = json_body(&app.get_as(&Caller::default(), "/api/openapi.json").await);
    let param = |path: &str, name: &str| {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} {name}"))["schema"]
            .clone()
    };
    let year = param("/api/v1/holidays", "year");
    assert_eq!(
        (year["minimum"].as_i64(), year["maximum"].as_i64()),
        (Some(2000), Some(2100))
    );
    let per_page = param("/api/v1/users", "per_page");
    assert_eq!(
        (per_page["minimum"].as_i64(), per_page["maximum"].as_i64()),
        (Some(1), Some(100))
    );
    assert_eq!(param("/api/v1/users", "q")["maxLength"], 64);
    assert_eq!(param("/api/v1/workdays", "from")["format"], "date");
    assert_eq!(
        param("/api/v1/deliveries", "kind")["pattern"],
        "^(clock_in|clock_out)?$"
    );
    assert_eq!(param("/api/v1/audit", "kind")["maxLength"], 48);
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["NewPunch"]["properties"]["kind"]["pattern"],
        "^(clock_in|clock_out)$"
    );
    assert_eq!(schemas["NewUser"]["properties"]["password"]["minLength"], 8);
    assert_eq!(
        schemas["ScheduleWrite"]["properties"]["date"]["format"],
        "date"
    );
    let shift = &schemas["NewShift"]["properties"];
    assert_eq!(shift["start"]["pattern"], "^([01][0-9]|2[0-3]):[0-5][0-9]$");
    assert_eq!(shift["follow_up_every_min"]["maximum"], 240);
    assert_eq!(
        schemas["ShiftPatch"]["properties"]["remind_before_min"]["maximum"],
        1440
    );
    assert_eq!(
        schemas["NewChannel"]["properties"]["format"]["pattern"],
        "^(text|markdown)?$"
    );
    // The channel kinds come from the registry: every kind, in its order.
    let kinds: Vec<&str> = app::domain::channel::KINDS
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    let kind_pattern = format!("^({})?$", kinds.join("|"));
    assert!(kinds.len() >= 11, "{kinds:?}");
    for schema in ["NewChannel", "ChannelPatch"] {
        assert_eq!(
            schemas[schema]["properties"]["kind"]["pattern"],
            kind_pattern.as_str(),
            "{schema}"
        );
    }
    app.stop().await.expect("clean stop");
}

/// A body of the wrong JSON kind is refused with 422: serde would read a struct from an
/// array (`[null, null]` as an empty patch, answered 200), which the document forbids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_must_be_the_documented_json_kind() {
    let app = spawn_app().await;
    let admin = Caller::bearer(API_TOKEN);
    let shifts = json_body(&app.get_as(&admin, "/api/v1/shifts").await);
    let id = shifts[0]["id"].as_i64().expect("a seeded shift");
    let patch = app
        .json_as(
            &admin,
            "PATCH",
            &format!("/api/v1/shifts/{id}"),
            serde_json::json!([null, null]),
        )
        .await;
    assert_eq!(patch.status, 422);
    assert_eq!(
        json_body(&patch)["error"]["message"],
        "请求体应为 JSON 对象"
    );
    let batch = app
        .json_as(&admin, "PUT", "/api/v1/schedules", serde_json::json!({}))
        .await;
    assert_eq!(batch.status, 422);
    let not_json = app
        .call(
            &admin,
            "PATCH",
            &format!("/api/v1/shifts/{id}"),
            Some("application/json"),
            "[nul",
        )
        .await;
    assert_eq!(not_json.status, 400);
    assert_eq!(json_body(&not_json)["error"]["code"], "invalid_json");
    app.stop().await.expect("clean stop");
}

/// The installation's API token is not a person: operations about "me" refuse it with
/// 403 (it is a valid credential without that right), not 422 as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_token_on_personal_operations_is_forbidden() {
    let app = spawn_app().await;
    let admin = Caller::bearer(API_TOKEN);
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/me/calendar-feed"),
        ("DELETE", "/api/v1/me/calendar-feed"),
    ] {
        let response = app.call(&admin, method, path, None, "").await;
        assert_eq!(response.status, 403, "{method} {path}");
        assert_eq!(json_body(&response)["error"]["code"], "not_a_person");
    }
    app.stop().await.expect("clean stop");
}
