//! `create-admin`: the password comes from stdin, ADMIN_PASSWORD or a prompt, is never
//! echoed, and weak ones are refused.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::helpers::{command, start_server_process};

const BASE: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
];

fn create_admin(
    dir: &std::path::Path,
    args: &[&str],
    vars: &[(&str, &str)],
    stdin: &str,
) -> Output {
    let mut all = BASE.to_vec();
    all.extend_from_slice(vars);
    let mut full_args = vec!["create-admin"];
    full_args.extend_from_slice(args);
    let mut child = command(dir, &full_args, &all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

async fn login_status(base_url: &str, username: &str, password: &str) -> (u16, String) {
    let response = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/session"),
        &[("Content-Type", "application/json")],
        &serde_json::json!({"username": username, "password": password}).to_string(),
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("login");
    (response.status, response.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_creates_resets_and_refuses_weak_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");

    let weak = create_admin(dir.path(), &["ops", "--password-stdin"], &[], "12345678\n");
    assert!(!weak.status.success());
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(
        stderr.contains("常见") && stderr.contains("nothing was changed"),
        "{stderr}"
    );

    let created = create_admin(
        dir.path(),
        &["ops", "--password-stdin"],
        &[],
        "ops-secret-pass-1\n",
    );
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&created.stderr).into_owned();
    assert!(created.status.success(), "{stderr}");
    assert!(stdout.contains("created admin ops"), "{stdout}");
    assert!(!stdout.contains("ops-secret-pass-1") && !stderr.contains("ops-secret-pass-1"));

    // ADMIN_PASSWORD resets an existing user and makes them an active admin.
    let reset = create_admin(
        dir.path(),
        &["OPS"],
        &[("ADMIN_PASSWORD", "ops-secret-pass-2")],
        "",
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(String::from_utf8_lossy(&reset.stdout).contains("password reset"));

    // Without a terminal and without a password source, it says how to give one.
    let none = create_admin(dir.path(), &["ops"], &[], "");
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("--password-stdin"));

    let (server, base_url) = start_server_process(dir.path(), BASE).await;
    let (status, body) = login_status(&base_url, "ops", "ops-secret-pass-2").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""role":"admin""#) && body.contains(r#""must_change_password":false"#));
    assert_eq!(
        login_status(&base_url, "ops", "ops-secret-pass-1").await.0,
        401
    );
    crate::helpers::send_signal(&server, "TERM");
    crate::helpers::wait_for_exit(server);
}
