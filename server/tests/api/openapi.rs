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
        ("/api/v1/settings", &["get", "patch"]),
        ("/api/v1/punches", &["post"]),
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
