//! Personal access tokens: one credential per job, scoped to its owner, shown once, stored
//! hashed, revocable; wrong bearer tokens are throttled per address and audited.

use std::sync::Arc;

use app::ssr::clock::ManualClock;
use serde_json::{Value, json};

use crate::helpers::{
    API_TOKEN, Caller, TestApp, fixed_now, json_body, spawn_app, spawn_app_with_clock,
};

async fn create_token(app: &TestApp, owner: &Caller, scope: &str, days: Option<u32>) -> String {
    let response = app
        .server_fn(
            owner,
            "create_access_token",
            json!({"request": {"name": format!("{scope} script"), "scope": scope, "expires_in_days": days}}),
        )
        .await;
    assert_eq!(
        response.status,
        200,
        "{}\n{}",
        response.body,
        app.log_tail()
    );
    let created: Value = serde_json::from_str(&response.body).expect("json");
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("dda_pat_"), "{token}");
    token
}

async fn member(app: &TestApp) -> (i64, Caller) {
    let id = app.create_user("zhang", "zhang-pass-2026", "member").await;
    (id, app.login("zhang", "zhang-pass-2026").await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_for_its_owner_and_never_beyond_its_scope() {
    let app = spawn_app().await;
    let (id, zhang) = member(&app).await;
    let read = Caller::bearer(&create_token(&app, &zhang, "read", Some(30)).await);
    let write = Caller::bearer(&create_token(&app, &zhang, "write", None).await);

    let me = json_body(&app.get_as(&read, "/api/v1/me").await);
    assert_eq!(me["username"], "zhang");
    let rename = json!({"display_name": "张三"});
    let refused = app
        .json_as(
            &read,
            "PATCH",
            &format!("/api/v1/users/{id}"),
            rename.clone(),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("只读"), "{}", refused.body);
    let changed = app
        .json_as(&write, "PATCH", &format!("/api/v1/users/{id}"), rename)
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    // A member's token is a member: no user list, no one else's data.
    assert_eq!(app.get_as(&write, "/api/v1/users").await.status, 403);
    assert_eq!(app.get_as(&write, "/api/v1/users/1").await.status, 403);

    // A member cannot mint an admin token.
    let response = app
        .server_fn(
            &zhang,
            "create_access_token",
            json!({"request": {"name": "x", "scope": "admin", "expires_in_days": null}}),
        )
        .await;
    assert_eq!(response.status, 422, "{}", response.body);
    assert!(response.body.contains("scope"), "{}", response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_token_has_admin_rights_only_with_the_admin_scope() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let write = Caller::bearer(&create_token(&app, &admin, "write", Some(7)).await);
    let full = Caller::bearer(&create_token(&app, &admin, "admin", Some(7)).await);
    assert_eq!(app.get_as(&write, "/api/v1/audit").await.status, 403);
    assert_eq!(app.get_as(&full, "/api/v1/audit").await.status, 200);
    let created = app
        .json_as(
            &full,
            "POST",
            "/api/v1/users",
            json!({"username": "li", "password": "li-pass-2026x", "role": "member"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    let (_, zhang) = member(&app).await;
    let token = create_token(&app, &zhang, "read", Some(90)).await;
    let bearer = Caller::bearer(&token);
    assert_eq!(app.get_as(&bearer, "/api/v1/me").await.status, 200);

    let listed = app.server_fn(&zhang, "list_access_tokens", json!({})).await;
    assert_eq!(listed.status, 200);
    assert!(
        !listed.body.contains(&token),
        "the list never shows a token"
    );
    let tokens: Value = serde_json::from_str(&listed.body).expect("json");
    assert_eq!(tokens[0]["name"], "read script");
    assert_eq!(tokens[0]["scope"], "read");
    assert_eq!(tokens[0]["prefix"], &token[..12]);
    assert!(tokens[0]["last_used_at"].is_string(), "{}", listed.body);
    assert!(tokens[0]["expires_at"].is_string(), "{}", listed.body);

    // Neither the database nor its file holds the token.
    crate::helpers::sqlite_only!("the rest reads the SQLite file's bytes");
    let file = std::fs::read(app.dir.path().join("data/attendance.db")).expect("db file");
    let wal = std::fs::read(app.dir.path().join("data/attendance.db-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token stored in plaintext"
        );
    }

    let id = tokens[0]["id"].as_i64().expect("id");
    let revoked = app
        .server_fn(&zhang, "revoke_access_token", json!({"id": id}))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let refused = app.get_as(&bearer, "/api/v1/me").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    // Only the owner may revoke: someone else's id is simply not found.
    let admin = app.login_admin().await;
    let other = create_token(&app, &admin, "read", None).await;
    let listed = app.server_fn(&admin, "list_access_tokens", json!({})).await;
    let admin_id = serde_json::from_str::<Value>(&listed.body).expect("json")[0]["id"].clone();
    let response = app
        .server_fn(&zhang, "revoke_access_token", json!({"id": admin_id}))
        .await;
    assert_eq!(response.status, 404, "{}", response.body);
    assert_eq!(
        app.get_as(&Caller::bearer(&other), "/api/v1/me")
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused() {
    let clock = Arc::new(ManualClock::new(fixed_now()));
    let app = spawn_app_with_clock(&[], clock.clone()).await;
    let (_, zhang) = member(&app).await;
    let bearer = Caller::bearer(&create_token(&app, &zhang, "read", Some(7)).await);
    clock.advance(chrono::Duration::days(7) - chrono::Duration::seconds(1));
    assert_eq!(app.get_as(&bearer, "/api/v1/me").await.status, 200);
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.get_as(&bearer, "/api/v1/me").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_bearer_tokens_are_throttled_per_address_and_audited() {
    let app = spawn_app().await;
    let wrong = Caller::bearer("dda_pat_guessguessguessguessguessguessguessguessgue");
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(app.get_as(&wrong, "/api/v1/me").await.status);
    }
    assert!(
        statuses[..20].iter().all(|status| *status == 401),
        "{statuses:?}"
    );
    assert!(
        statuses[20..].iter().all(|status| *status == 429),
        "{statuses:?}"
    );
    let throttled = app.get_as(&Caller::bearer(API_TOKEN), "/api/v1/me").await;
    assert_eq!(
        throttled.status, 429,
        "even a right token waits out the block"
    );
    assert!(throttled.header("retry-after").is_some());

    // Audited with the address, and the token itself is not in the log.
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT subject, ip FROM audit_log WHERE kind = 'bearer_failed'",
        ))
        .await
        .expect("audit rows");
    assert_eq!(rows.len(), 20);
    let subject: String = rows[0].try_get("", "subject").expect("subject");
    let ip: String = rows[0].try_get("", "ip").expect("ip");
    assert_eq!(subject, "dda_pat_gues");
    assert_eq!(ip, "127.0.0.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_password_reset_revokes_the_feed_and_tokens() {
    let app = spawn_app().await;
    let (id, zhang) = member(&app).await;
    let bearer = Caller::bearer(&create_token(&app, &zhang, "read", None).await);
    let feed = app
        .call(&zhang, "POST", "/api/v1/me/calendar-feed", None, "")
        .await;
    assert_eq!(feed.status, 201, "{}", feed.body);
    let path = json_body(&feed)["path"].as_str().expect("path").to_owned();
    assert_eq!(app.get(&path).await.status, 200);

    let reset = app
        .json_as(
            &Caller::bearer(API_TOKEN),
            "POST",
            &format!("/api/v1/users/{id}/password"),
            json!({"password": "temporary-pass-1"}),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(app.get_as(&bearer, "/api/v1/me").await.status, 401);
    assert_eq!(app.get(&path).await.status, 404);
}
