//! Accounts, sessions and authorization, driven over HTTP like a user or a script would.

use serde_json::json;

use crate::helpers::{
    ADMIN_PASSWORD, API_TOKEN, Caller, TestApp, json_body, session_cookie, session_set_cookie,
    spawn_app, spawn_app_with,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_admin_must_change_the_default_password_before_anything_else() {
    // Development without ADMIN_PASSWORD: the original's admin/admin123, flagged.
    let app = spawn_app_with(&[("APP_ENV", "development"), ("ADMIN_PASSWORD", "")]).await;
    let login = app.try_login("admin", "admin123").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(json_body(&login)["must_change_password"], true);
    let admin = Caller {
        cookie: session_cookie(&login),
        ..Caller::default()
    };

    // Every API call but the password change answers 403 must_change_password.
    for path in ["/api/v1/me", "/api/v1/users", "/api/v1/audit"] {
        let response = app.get_as(&admin, path).await;
        assert_eq!(response.status, 403, "{path}");
        assert_eq!(
            json_body(&response)["error"]["code"],
            "must_change_password"
        );
    }
    let response = app
        .server_fn(&admin, "list_users", json!({"query": {}}))
        .await;
    assert_eq!(response.status, 403);
    assert_eq!(json_body(&response), json!("MustChangePassword"));
    // Every page redirects to the change-password page, which itself is served.
    for path in ["/", "/admin/users", "/account/profile"] {
        let response = app.get_as(&admin, path).await;
        assert_eq!(response.status, 303, "{path}");
        assert_eq!(response.header("location"), Some("/account/password"));
    }
    let page = app.get_as(&admin, "/account/password").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("请先设置您自己的新密码"),
        "{}",
        page.body
    );

    // The banner flag is up while an admin has admin123.
    let info = app.server_fn_form(&admin, "current_user", "").await;
    assert_eq!(json_body(&info)["default_password_in_use"], true);

    // The default itself is refused as the new password; a real one is accepted.
    let weak = app
        .json_as(
            &admin,
            "POST",
            "/api/v1/me/password",
            json!({"current": "admin123", "new": "admin123"}),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(json_body(&weak)["error"]["field"], "new");
    let changed = app
        .json_as(
            &admin,
            "POST",
            "/api/v1/me/password",
            json!({"current": "admin123", "new": "a much better passphrase"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    let me = app.get_as(&admin, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(json_body(&me)["must_change_password"], false);
    let info = app.server_fn_form(&admin, "current_user", "").await;
    assert_eq!(json_body(&info)["default_password_in_use"], false);
    assert_eq!(app.get_as(&admin, "/").await.status, 200);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_password_from_the_environment_needs_no_change() {
    let app = spawn_app().await;
    let login = app.try_login("ADMIN", ADMIN_PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let body = json_body(&login);
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["must_change_password"], false);
    assert!(body.get("password_hash").is_none());
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_are_sent_to_the_login_page_and_back() {
    let app = spawn_app().await;
    let anonymous = Caller::default();
    let response = app.get_as(&anonymous, "/admin/users?page=2").await;
    assert_eq!(response.status, 303);
    assert_eq!(
        response.header("location"),
        Some("/login?next=/admin/users%3Fpage%3D2")
    );
    let login = app.get_as(&anonymous, "/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("登录"));
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/users/1",
    ] {
        let response = app.get_as(&anonymous, path).await;
        assert_eq!(response.status, 401, "{path}");
        assert_eq!(json_body(&response)["error"]["code"], "unauthorized");
    }
    let response = app.server_fn_form(&anonymous, "get_overview", "").await;
    assert_eq!(response.status, 401);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_read_or_change_anyone_elses_data() {
    let app = spawn_app().await;
    let alice_id = app.create_user("alice", "alice-password-1", "member").await;
    let bob_id = app.create_user("bob", "bob-password-1", "member").await;
    let alice = app.login("alice", "alice-password-1").await;
    let bob_before = app
        .get_as(
            &Caller::bearer(API_TOKEN),
            &format!("/api/v1/users/{bob_id}"),
        )
        .await
        .body;

    let bob_path = format!("/api/v1/users/{bob_id}");
    let forbidden = [
        app.get_as(&alice, &bob_path).await,
        app.json_as(
            &alice,
            "PATCH",
            &bob_path,
            json!({"display_name": "hacked"}),
        )
        .await,
        app.call(&alice, "DELETE", &bob_path, None, "").await,
        app.json_as(
            &alice,
            "POST",
            &format!("{bob_path}/password"),
            json!({"password": "hacked-password"}),
        )
        .await,
        app.get_as(&alice, "/api/v1/users").await,
        app.json_as(
            &alice,
            "POST",
            "/api/v1/users",
            json!({"username": "mallory", "password": "mallory-password"}),
        )
        .await,
        app.get_as(&alice, "/api/v1/audit").await,
        // Her own record, but admin-only fields.
        app.json_as(
            &alice,
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            json!({"role": "admin"}),
        )
        .await,
        app.json_as(
            &alice,
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            json!({"active": false}),
        )
        .await,
    ];
    for response in &forbidden {
        assert_eq!(response.status, 403, "{}", response.body);
        assert_eq!(json_body(response)["error"]["code"], "forbidden");
    }

    // The same through the server functions the UI uses.
    let calls = [
        ("get_user", json!({"id": bob_id})),
        (
            "update_user",
            json!({"id": bob_id, "patch": {"display_name": "hacked"}}),
        ),
        (
            "reset_user_password",
            json!({"id": bob_id, "password": "hacked-password"}),
        ),
        ("list_users", json!({"query": {}})),
        (
            "create_user",
            json!({"user": {"username": "mallory", "password": "mallory-password"}}),
        ),
        ("list_audit", json!({"query": {}})),
        (
            "update_user",
            json!({"id": alice_id, "patch": {"role": "admin"}}),
        ),
    ];
    for (name, args) in calls {
        let response = app.server_fn(&alice, name, args).await;
        assert_eq!(response.status, 403, "{name}: {}", response.body);
        assert_eq!(json_body(&response), json!("Forbidden"), "{name}");
    }

    // Nothing changed, nobody was created.
    let bob_after = app.get_as(&Caller::bearer(API_TOKEN), &bob_path).await.body;
    assert_eq!(bob_before, bob_after);
    let list = app
        .get_as(&Caller::bearer(API_TOKEN), "/api/v1/users?q=mallory")
        .await;
    assert_eq!(json_body(&list)["total"], 0);

    // Her own data is hers.
    let own = app
        .get_as(&alice, &format!("/api/v1/users/{alice_id}"))
        .await;
    assert_eq!(own.status, 200);
    let renamed = app
        .json_as(
            &alice,
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            json!({"display_name": "爱丽丝", "mobile": "+86 138 0013 8000"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(json_body(&renamed)["mobile"], "13800138000");
    let profile = app
        .server_fn(
            &alice,
            "update_profile",
            json!({"patch": {"feishu_open_id": "ou_abc"}}),
        )
        .await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!(json_body(&profile)["feishu_open_id"], "ou_abc");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_state_changes_are_refused() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let evil = admin.with_origin("http://evil.example");

    let response = app
        .json_as(
            &evil,
            "POST",
            "/api/v1/users",
            json!({"username": "csrf", "password": "csrf-password-1"}),
        )
        .await;
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(json_body(&response)["error"]["code"], "cross_origin");
    let response = app
        .server_fn(
            &evil,
            "create_user",
            json!({"user": {"username": "csrf", "password": "csrf-password-1"}}),
        )
        .await;
    assert_eq!(response.status, 403);
    assert_eq!(json_body(&response), json!("CrossOrigin"));
    let response = app
        .call(
            &Caller::default().with_origin("http://evil.example"),
            "POST",
            "/api/fn/login",
            Some("application/x-www-form-urlencoded"),
            "username=admin&password=x",
        )
        .await;
    assert_eq!(response.status, 403);
    let list = app.get_as(&admin, "/api/v1/users?q=csrf").await;
    assert_eq!(json_body(&list)["total"], 0);

    // Reading is harmless and allowed; the same origin may change things.
    assert_eq!(app.get_as(&evil, "/api/v1/me").await.status, 200);
    let same = admin.with_origin(&app.base_url);
    let response = app
        .json_as(
            &same,
            "POST",
            "/api/v1/users",
            json!({"username": "fine", "password": "fine-password-1"}),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_wrong_password_is_throttled_and_logged() {
    let app = spawn_app().await;
    app.create_user("carol", "carol-password-1", "member").await;
    for attempt in 1..=5u32 {
        let response = app.try_login("carol", "wrong-password").await;
        assert_eq!(response.status, 401, "attempt {attempt}");
        let body = json_body(&response);
        assert_eq!(body["error"]["code"], "invalid_credentials");
        let expected = if attempt < 5 {
            format!("用户名或密码错误，还可尝试 {} 次", 5 - attempt)
        } else {
            "用户名或密码错误".to_owned()
        };
        assert_eq!(body["error"]["message"], expected);
    }
    // Even the right password waits now.
    let response = app.try_login("carol", "carol-password-1").await;
    assert_eq!(response.status, 429, "{}", response.body);
    let retry_after: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(json_body(&response)["error"]["code"], "too_many_attempts");

    let audit = app
        .get_as(
            &Caller::bearer(API_TOKEN),
            "/api/v1/audit?kind=login_failed",
        )
        .await;
    assert_eq!(json_body(&audit)["total"], 5);
    let throttled = app
        .get_as(
            &Caller::bearer(API_TOKEN),
            "/api/v1/audit?kind=login_throttled",
        )
        .await;
    let body = json_body(&throttled);
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["subject"], "carol");
    assert_eq!(body["items"][0]["ip"], "127.0.0.1");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_get_exactly_the_answer_known_users_get() {
    let app = spawn_app().await;
    app.create_user("dave", "dave-password-1", "member").await;
    let known = app.try_login("dave", "wrong-password").await;
    let unknown = app.try_login("nobody-here", "wrong-password").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(json_body(&known), json_body(&unknown));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_is_an_admin_service_account_only_when_configured() {
    let app = spawn_app().await;
    let ok = app
        .get_as(&Caller::bearer(API_TOKEN), "/api/v1/users")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let body = json_body(&ok);
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["username"], "admin");

    let wrong = app
        .get_as(&Caller::bearer("not-the-token"), "/api/v1/users")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(json_body(&wrong)["error"]["code"], "unauthorized");
    assert!(wrong.header("www-authenticate").is_some());
    let none = app.get_as(&Caller::default(), "/api/v1/users").await;
    assert_eq!(none.status, 401);
    // A wrong token is refused even alongside a valid session.
    let mut mixed = app.login_admin().await;
    mixed.bearer = Some("not-the-token".to_owned());
    assert_eq!(app.get_as(&mixed, "/api/v1/users").await.status, 401);

    // Audit entries name the token as the actor.
    app.create_user("erin", "erin-password-1", "member").await;
    let audit = app
        .get_as(
            &Caller::bearer(API_TOKEN),
            "/api/v1/audit?kind=user_created",
        )
        .await;
    assert_eq!(json_body(&audit)["items"][0]["actor_name"], "api-token");
    app.stop().await.expect("clean stop");

    let app = spawn_app_with(&[("API_TOKEN", "")]).await;
    let refused = app
        .get_as(&Caller::bearer(API_TOKEN), "/api/v1/users")
        .await;
    assert_eq!(refused.status, 401);
    let message = json_body(&refused)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("未配置 API_TOKEN"), "{message}");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_http_only_lax_rotated_and_survive_a_restart() {
    let app = spawn_app().await;
    let forged = "dda_session=AAAAAAAAAAAAAAAAAAAAAA";
    let login = app
        .call(
            &Caller {
                cookie: Some(forged.to_owned()),
                ..Caller::default()
            },
            "POST",
            "/api/v1/session",
            Some("application/json"),
            &json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(login.status, 200);
    let set_cookie = session_set_cookie(&login).expect("cookie");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = session_cookie(&login).expect("cookie");
    assert_ne!(cookie, forged, "the session id must be new after login");

    let admin = Caller {
        cookie: Some(cookie),
        ..Caller::default()
    };
    let app = app.restart().await;
    let me = app.get_as(&admin, "/api/v1/me").await;
    assert_eq!(
        me.status, 200,
        "the session survives a restart: {}",
        me.body
    );

    // Logout destroys the session on the server: replaying the cookie does not work.
    let logout = app
        .call(&admin, "DELETE", "/api/v1/session", None, "")
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(app.get_as(&admin, "/api/v1/me").await.status, 401);
    app.stop().await.expect("clean stop");

    let app = spawn_app_with(&[("COOKIE_SECURE", "true")]).await;
    let login = app.try_login("admin", ADMIN_PASSWORD).await;
    assert!(
        session_set_cookie(&login)
            .expect("cookie")
            .contains("Secure")
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_users_other_sessions() {
    let app = spawn_app().await;
    app.create_user("frank", "frank-password-1", "member").await;
    let laptop = app.login("frank", "frank-password-1").await;
    let phone = app.login("frank", "frank-password-1").await;
    let changed = app
        .json_as(
            &laptop,
            "POST",
            "/api/v1/me/password",
            json!({"current": "frank-password-1", "new": "frank-password-2"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(app.get_as(&laptop, "/api/v1/me").await.status, 200);
    assert_eq!(app.get_as(&phone, "/api/v1/me").await.status, 401);
    assert_eq!(app.try_login("frank", "frank-password-1").await.status, 401);
    app.login("frank", "frank-password-2").await;

    // Wrong current password: named, nothing changed.
    let wrong = app
        .json_as(
            &laptop,
            "POST",
            "/api/v1/me/password",
            json!({"current": "nope", "new": "frank-password-3"}),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(json_body(&wrong)["error"]["field"], "current");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reset_forces_a_change_and_signs_the_user_out() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let id = app.create_user("grace", "grace-password-1", "member").await;
    let grace = app.login("grace", "grace-password-1").await;
    let reset = app
        .json_as(
            &admin,
            "POST",
            &format!("/api/v1/users/{id}/password"),
            json!({"password": "temporary-pass-1"}),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(json_body(&reset)["must_change_password"], true);
    assert_eq!(app.get_as(&grace, "/api/v1/me").await.status, 401);
    let grace = app.login("grace", "temporary-pass-1").await;
    assert_eq!(app.get_as(&grace, "/api/v1/me").await.status, 403);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_users_are_signed_out_and_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let id = app.create_user("heidi", "heidi-password-1", "member").await;
    let heidi = app.login("heidi", "heidi-password-1").await;
    let deleted = app
        .call(&admin, "DELETE", &format!("/api/v1/users/{id}"), None, "")
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(json_body(&deleted)["active"], false);
    assert_eq!(app.get_as(&heidi, "/api/v1/me").await.status, 401);
    let again = app.try_login("heidi", "heidi-password-1").await;
    assert_eq!(again.status, 403);
    assert_eq!(json_body(&again)["error"]["code"], "account_disabled");
    let back = app
        .json_as(
            &admin,
            "PATCH",
            &format!("/api/v1/users/{id}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(back.status, 200);
    app.login("heidi", "heidi-password-1").await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let me = json_body(&app.get_as(&admin, "/api/v1/me").await);
    let path = format!("/api/v1/users/{}", me["id"]);
    let demote = app
        .json_as(&admin, "PATCH", &path, json!({"role": "member"}))
        .await;
    assert_eq!(demote.status, 409, "{}", demote.body);
    assert_eq!(json_body(&demote)["error"]["field"], "role");
    let deactivate = app.call(&admin, "DELETE", &path, None, "").await;
    assert_eq!(deactivate.status, 409);
    assert_eq!(json_body(&deactivate)["error"]["field"], "active");

    // With a second admin, the first may step down.
    app.create_user("ivan", "ivan-password-1", "admin").await;
    let demote = app
        .json_as(&admin, "PATCH", &path, json!({"role": "member"}))
        .await;
    assert_eq!(demote.status, 200, "{}", demote.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_are_unique_case_insensitively() {
    let app = spawn_app().await;
    app.create_user("Judy", "judy-password-1", "member").await;
    let clash = app
        .json_as(
            &Caller::bearer(API_TOKEN),
            "POST",
            "/api/v1/users",
            json!({"username": " judy ", "password": "other-password-1"}),
        )
        .await;
    assert_eq!(clash.status, 409);
    let body = json_body(&clash);
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["field"], "username");
    app.login("JUDY", "judy-password-1").await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_and_search() {
    let app = spawn_app().await;
    for i in 0..25 {
        app.create_user(&format!("user{i:02}"), "member-password-1", "member")
            .await;
    }
    let token = Caller::bearer(API_TOKEN);
    let page = json_body(
        &app.get_as(&token, "/api/v1/users?page=2&per_page=10&role=member")
            .await,
    );
    assert_eq!(page["total"], 25);
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    assert_eq!(page["items"][0]["username"], "user10");
    let found = json_body(&app.get_as(&token, "/api/v1/users?q=USER2").await);
    assert_eq!(found["total"], 5);
    // `_` and `%` are matched literally.
    let literal = json_body(&app.get_as(&token, "/api/v1/users?q=%25").await);
    assert_eq!(literal["total"], 0);
    let bad = app.get_as(&token, "/api/v1/users?per_page=1000").await;
    assert_eq!(bad.status, 422);
    assert_eq!(json_body(&bad)["error"]["field"], "per_page");
    let bad = app.get_as(&token, "/api/v1/users?page=abc").await;
    assert_eq!(bad.status, 422);
    assert_eq!(json_body(&bad)["error"]["field"], "page");
    let bad = app.get_as(&token, "/api/v1/audit?from=2026-13-01").await;
    assert_eq!(bad.status, 422);
    assert_eq!(json_body(&bad)["error"]["field"], "from");
    let day = json_body(
        &app.get_as(
            &token,
            "/api/v1/audit?from=2026-11-23&to=2026-11-23&kind=user_created",
        )
        .await,
    );
    assert_eq!(day["total"], 25);
    let before = json_body(&app.get_as(&token, "/api/v1/audit?to=2026-11-22").await);
    assert_eq!(before["total"], 0);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_expiry_is_twelve_hours_or_seven_days_with_remember_me() {
    let app = spawn_app().await;
    let max_age = |response: &crate::helpers::Response| -> i64 {
        let cookie = session_set_cookie(response).expect("cookie");
        cookie
            .split(';')
            .find_map(|part| part.trim().strip_prefix("Max-Age="))
            .expect("Max-Age")
            .parse()
            .expect("seconds")
    };
    let short = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(max_age(&short), 12 * 3600);
    let long = app
        .json_as(
            &Caller::default(),
            "POST",
            "/api/v1/session",
            json!({"username": "admin", "password": ADMIN_PASSWORD, "remember": true}),
        )
        .await;
    assert_eq!(max_age(&long), 7 * 24 * 3600);

    // A session past its expiry is gone, whatever the browser still sends.
    let admin = Caller {
        cookie: session_cookie(&short),
        ..Caller::default()
    };
    assert_eq!(app.get_as(&admin, "/api/v1/me").await.status, 200);
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = '2000-01-01 00:00:00+00:00'")
        .await
        .expect("expire sessions");
    assert_eq!(app.get_as(&admin, "/api/v1/me").await.status, 401);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_simultaneous_guesses_gets_no_more_than_five_tries() {
    let app = spawn_app().await;
    app.create_user("mallet", "mallet-password-1", "member")
        .await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let url = format!("{}/api/v1/session", app.base_url);
        attempts.spawn(async move {
            crate::helpers::http(
                "POST",
                &url,
                &[("Content-Type", "application/json")],
                r#"{"username":"mallet","password":"guess-guess"}"#,
                crate::helpers::TIMEOUT,
            )
            .await
            .expect("login")
            .status
        });
    }
    let statuses: Vec<u16> = attempts.join_all().await;
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let throttled = statuses.iter().filter(|status| **status == 429).count();
    // At most five: an attempt whose failure is written but not yet released from the
    // running ones may be counted twice for an instant, refusing one more than needed.
    assert!((1..=5).contains(&checked), "{statuses:?}");
    assert_eq!(checked + throttled, 20, "{statuses:?}");
    // Hammering a blocked login adds a line per burst at most, not one per attempt.
    let throttled_lines = || async {
        json_body(
            &app.get_as(
                &Caller::bearer(API_TOKEN),
                "/api/v1/audit?kind=login_throttled",
            )
            .await,
        )["total"]
            .as_u64()
            .expect("total")
    };
    let after_burst = throttled_lines().await;
    assert!(
        (1..=throttled as u64).contains(&after_burst),
        "{after_burst}"
    );
    for _ in 0..10 {
        assert_eq!(app.try_login("mallet", "guess-guess").await.status, 429);
    }
    assert_eq!(throttled_lines().await, after_burst);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_signed_in_cookie_is_replaced_at_login() {
    let app = spawn_app().await;
    app.create_user("eve", "eve-password-1", "member").await;
    // Eve signs in herself and plants her cookie in the victim's browser.
    let planted = app.login("eve", "eve-password-1").await;
    let victim_login = app
        .call(
            &planted,
            "POST",
            "/api/v1/session",
            Some("application/json"),
            &json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(victim_login.status, 200);
    let victim_cookie = session_cookie(&victim_login).expect("new cookie");
    assert_ne!(Some(&victim_cookie), planted.cookie.as_ref());
    // Eve's copy does not open the admin's session.
    let me = app.get_as(&planted, "/api/v1/me").await;
    assert_ne!(me.status, 200, "{}", me.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_get_times_in_the_configured_zone() {
    let app = spawn_app_with(&[("TIMEZONE", "Europe/Berlin")]).await;
    let admin = app.login_admin().await;
    let users = app
        .server_fn(&admin, "list_users", json!({"query": {}}))
        .await;
    assert_eq!(users.status, 200, "{}", users.body);
    // The fixed test clock is 2026-11-23 01:02:03 UTC: 02:02 in Berlin.
    assert_eq!(
        json_body(&users)["items"][0]["local_time"],
        "2026-11-23 02:02"
    );
    let audit = app
        .server_fn(&admin, "list_audit", json!({"query": {"kind": "login"}}))
        .await;
    assert_eq!(
        json_body(&audit)["items"][0]["local_time"],
        "2026-11-23 02:02"
    );
    assert_eq!(json_body(&audit)["items"][0]["item"]["kind"], "login");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_signing_in_at_once_from_one_address_is_not_throttled() {
    let app = spawn_app().await;
    for n in 0..12 {
        app.create_user(
            &format!("staff{n}"),
            &format!("staff-password-{n}"),
            "member",
        )
        .await;
    }
    let mut logins = tokio::task::JoinSet::new();
    for n in 0..12 {
        let url = format!("{}/api/v1/session", app.base_url);
        logins.spawn(async move {
            crate::helpers::http(
                "POST",
                &url,
                &[("Content-Type", "application/json")],
                &json!({"username": format!("staff{n}"), "password": format!("staff-password-{n}")})
                    .to_string(),
                crate::helpers::TIMEOUT,
            )
            .await
            .expect("login")
            .status
        });
    }
    let statuses = logins.join_all().await;
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_slides_the_idle_expiry_with_few_writes() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let expiry = || async {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT expires_at, data FROM sessions",
            ))
            .await
            .expect("query")
            .expect("one session");
        (
            row.try_get::<chrono::DateTime<chrono::Utc>>("", "expires_at")
                .expect("expires_at"),
            row.try_get::<String>("", "data").expect("data"),
        )
    };
    let (at_login, data) = expiry().await;
    assert!(data.contains("dda.touched"), "{data}");
    // Requests soon after do not rewrite the session.
    assert_eq!(app.get_as(&admin, "/api/v1/me").await.status, 200);
    assert_eq!(expiry().await.0, at_login);
    // Once the last write is older than the touch interval, activity pushes the expiry on.
    let age = if crate::helpers::on_postgres() {
        "UPDATE sessions SET data = jsonb_set(data::jsonb, '{dda.touched}', '0')::text"
    } else {
        "UPDATE sessions SET data = json_set(data, '$.\"dda.touched\"', 0)"
    };
    app.db
        .execute_unprepared(age)
        .await
        .expect("age the session");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(app.get_as(&admin, "/api/v1/me").await.status, 200);
    let (after, data) = expiry().await;
    assert!(after > at_login, "{after} should be later than {at_login}");
    assert!(!data.contains("\"dda.touched\":0"), "{data}");
    app.stop().await.expect("clean stop");
}

/// The client addresses tests use with `TRUST_PROXY` (documentation ranges).
const ADDRESS_A: &str = "203.0.113.1";
const ADDRESS_B: &str = "198.51.100.7";
const ADDRESS_C: &str = "192.0.2.33";
const HOME: &str = "192.0.2.10";

async fn audit_total(app: &TestApp, kind: &str) -> u64 {
    json_body(
        &app.get_as(
            &Caller::bearer(API_TOKEN),
            &format!("/api/v1/audit?kind={kind}"),
        )
        .await,
    )["total"]
        .as_u64()
        .expect("total")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let app = spawn_app_with(&[("TRUST_PROXY", "true")]).await;
    let attacker = Caller::at(ADDRESS_A);
    for attempt in 1..=5 {
        let response = app.try_login_as(&attacker, "admin", "wrong-password").await;
        assert_eq!(response.status, 401, "attempt {attempt}: {}", response.body);
    }
    let sixth = app.try_login_as(&attacker, "admin", "wrong-password").await;
    assert_eq!(sixth.status, 429, "{}", sixth.body);
    // The attacker's address stays refused, even with the right password.
    let right_there = app.try_login_as(&attacker, "admin", ADMIN_PASSWORD).await;
    assert_eq!(right_there.status, 429, "{}", right_there.body);
    // The owner elsewhere signs in at once.
    let owner = app
        .try_login_as(&Caller::at(ADDRESS_B), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_spread_over_addresses_slows_the_username_down_but_not_at_home() {
    let app = spawn_app_with(&[("TRUST_PROXY", "true")]).await;
    let home = Caller::at(HOME);
    assert_eq!(
        app.try_login_as(&home, "admin", ADMIN_PASSWORD)
            .await
            .status,
        200
    );
    for address in [ADDRESS_A, ADDRESS_B] {
        for _ in 0..5 {
            let response = app
                .try_login_as(&Caller::at(address), "admin", "wrong-password")
                .await;
            assert_eq!(response.status, 401, "{address}: {}", response.body);
        }
    }
    // Ten failures from two addresses: a new address waits a little (the test clock
    // stands still, so it keeps waiting), never long.
    let new_address = app
        .try_login_as(&Caller::at(ADDRESS_C), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(new_address.status, 429, "{}", new_address.body);
    let retry_after: u64 = new_address
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    // Where the owner has signed in before, the slowdown does not apply.
    assert_eq!(
        app.try_login_as(&home, "admin", ADMIN_PASSWORD)
            .await
            .status,
        200
    );
    // Their success starts the username's count afresh.
    assert_eq!(
        app.try_login_as(&Caller::at(ADDRESS_C), "admin", ADMIN_PASSWORD)
            .await
            .status,
        200
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_distinct_usernames_from_one_address_gets_at_most_twenty_checks() {
    let app = spawn_app().await;
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..300 {
        let url = format!("{}/api/v1/session", app.base_url);
        attempts.spawn(async move {
            crate::helpers::http(
                "POST",
                &url,
                &[("Content-Type", "application/json")],
                &json!({"username": format!("guess{n}"), "password": "guess-guess"}).to_string(),
                crate::helpers::TIMEOUT,
            )
            .await
            .expect("login")
            .status
        });
    }
    let statuses: Vec<u16> = attempts.join_all().await;
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let throttled = statuses.iter().filter(|status| **status == 429).count();
    assert!((1..=20).contains(&checked), "{checked} checked");
    assert_eq!(checked + throttled, 300, "{statuses:?}");
    // Every check left its line; nothing else was checked.
    assert_eq!(audit_total(&app, "login_failed").await, checked as u64);
    // Nothing is left running, and the table of running attempts is empty again.
    assert_eq!(app.services.attempts.tracked_keys(), 0);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_current_passwords_are_refused_after_five_and_logged() {
    let app = spawn_app().await;
    app.create_user("grace", "grace-password-1", "member").await;
    let grace = &app.login("grace", "grace-password-1").await;
    let shared = &app;
    let change = |current: &'static str| {
        shared.json_as(
            grace,
            "POST",
            "/api/v1/me/password",
            json!({"current": current, "new": "grace-password-2"}),
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(change("wrong-guess").await.status);
    }
    assert_eq!(statuses[..5], [422; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429; 7], "{statuses:?}");
    // The right password waits too: the guesser learns nothing more this window.
    let right = change("grace-password-1").await;
    assert_eq!(right.status, 429, "{}", right.body);
    assert!(right.header("retry-after").is_some());
    assert_eq!(json_body(&right)["error"]["code"], "too_many_attempts");
    assert_eq!(audit_total(&app, "password_change_failed").await, 5);
    assert_eq!(audit_total(&app, "password_change_throttled").await, 1);
    assert_eq!(app.try_login("grace", "grace-password-2").await.status, 401);
    app.login("grace", "grace-password-1").await;
    app.stop().await.expect("clean stop");
}
