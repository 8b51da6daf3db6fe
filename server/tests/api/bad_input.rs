//! Every field is validated on the server: the answer names the field and the rule, and
//! nothing is stored.

use serde_json::{Value, json};

use crate::helpers::{API_TOKEN, Caller, TestApp, json_body, spawn_app};

async fn user_count(app: &TestApp) -> Value {
    json_body(
        &app.get_as(&Caller::bearer(API_TOKEN), "/api/v1/users")
            .await,
    )["total"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_user_fields_are_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = Caller::bearer(API_TOKEN);
    let long = "x".repeat(10_000);
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"username": "", "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": long, "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "display_name": long}),
            422,
            "display_name",
        ),
        (
            json!({"username": "smile😀", "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "ad\u{200B}min", "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "display_name": "abc\u{202E}cba"}),
            422,
            "display_name",
        ),
        (
            json!({"username": "x' OR '1'='1", "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "<script>", "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "ok", "password": "short"}),
            422,
            "password",
        ),
        (
            json!({"username": "samename", "password": "SameName"}),
            422,
            "password",
        ),
        (json!({"username": "ok", "password": long}), 422, "password"),
        (
            json!({"username": "ok", "password": "long-enough-1", "mobile": "12345"}),
            422,
            "mobile",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "email": "not-an-email"}),
            422,
            "email",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "dingtalk_user_id": "a b"}),
            422,
            "dingtalk_user_id",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "role": "root"}),
            422,
            "role",
        ),
        // Wrong types and unknown fields are named too.
        (
            json!({"username": 5, "password": "long-enough-1"}),
            422,
            "username",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "active": "yes"}),
            422,
            "active",
        ),
        (
            json!({"username": "ok", "password": "long-enough-1", "is_admin": true}),
            422,
            "is_admin",
        ),
    ];
    for (body, status, field) in cases {
        let response = app
            .json_as(&token, "POST", "/api/v1/users", body.clone())
            .await;
        assert_eq!(response.status, status, "{body}: {}", response.body);
        let error = &json_body(&response)["error"];
        assert!(
            error["field"].as_str().is_some_and(|f| f.contains(field)),
            "{body}: expected field {field}, got {error}"
        );
        assert!(!error["message"].as_str().unwrap_or_default().is_empty());
    }
    let missing = app
        .json_as(&token, "POST", "/api/v1/users", json!({"username": "ok"}))
        .await;
    assert_eq!(missing.status, 422);
    assert!(
        json_body(&missing)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password")
    );

    let malformed = app
        .call(
            &token,
            "POST",
            "/api/v1/users",
            Some("application/json"),
            "{\"username\": ",
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(json_body(&malformed)["error"]["code"], "invalid_json");
    let not_json = app
        .call(
            &token,
            "POST",
            "/api/v1/users",
            Some("text/plain"),
            "username=x",
        )
        .await;
    assert_eq!(not_json.status, 415);

    assert_eq!(user_count(&app).await, 1, "nothing was stored");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_looking_names_are_stored_verbatim_and_escaped_on_display() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let name = "<script>alert('x')</script> & \"引号\"";
    let created = app
        .json_as(
            &admin,
            "POST",
            "/api/v1/users",
            json!({"username": "kim", "password": "kim-password-1", "display_name": name}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(json_body(&created)["display_name"], name);
    let page = app.get_as(&admin, "/admin/users").await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("<script>alert('x')"),
        "unescaped HTML in the page"
    );
    assert!(page.body.contains("&lt;script&gt;alert("), "{}", page.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_patches_change_nothing() {
    let app = spawn_app().await;
    let token = Caller::bearer(API_TOKEN);
    let id = app.create_user("liam", "liam-password-1", "member").await;
    let path = format!("/api/v1/users/{id}");
    let before = app.get_as(&token, &path).await.body;
    // One valid field and one invalid: all-or-nothing.
    let response = app
        .json_as(
            &token,
            "PATCH",
            &path,
            json!({"display_name": "Liam", "email": "a@b"}),
        )
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(json_body(&response)["error"]["field"], "email");
    assert_eq!(app.get_as(&token, &path).await.body, before);
    // Clearing an optional field with null or "" works.
    let set = app
        .json_as(&token, "PATCH", &path, json!({"email": "liam@example.com"}))
        .await;
    assert_eq!(json_body(&set)["email"], "liam@example.com");
    let cleared = app
        .json_as(&token, "PATCH", &path, json!({"email": null}))
        .await;
    assert_eq!(json_body(&cleared)["email"], Value::Null);
    // Unknown ids and non-numeric ids are 404s.
    assert_eq!(app.get_as(&token, "/api/v1/users/99999").await.status, 404);
    assert_eq!(app.get_as(&token, "/api/v1/users/abc").await.status, 404);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_absurd_input_is_a_plain_failure() {
    let app = spawn_app().await;
    let long = "名".repeat(10_000);
    for (username, password) in [("", ""), (long.as_str(), "x"), ("admin", long.as_str())] {
        let response = app.try_login(username, password).await;
        assert_eq!(response.status, 401, "{}", response.body);
    }
    // No text holds U+0000 (PostgreSQL cannot store it): refused at the edge, by field.
    let response = app.try_login("admin\u{0}", "x").await;
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(json_body(&response)["error"]["field"], "username");
    let wrong_type = app
        .json_as(
            &Caller::default(),
            "POST",
            "/api/v1/session",
            json!({"username": ["admin"], "password": "x"}),
        )
        .await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(json_body(&wrong_type)["error"]["field"], "username");
    app.stop().await.expect("clean stop");
}
