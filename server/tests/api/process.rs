//! The real binary as a long-running server: start-up, logging, healthcheck, shutdown.

use crate::helpers::{run_binary, send_signal, start_server_process, wait_for_exit};

const API_TOKEN: &str = "api-token-must-not-be-logged-7f3a";
const SECRET_KEY: &str = "secret-key-must-not-be-logged-9c1e0b";
const WEBHOOK_TOKEN: &str = "webhook-token-must-not-be-logged-42";
/// A calendar feed's path is its secret.
const FEED_TOKEN: &str = "feedtokenmustnotbelogged0123456789abcdef0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_logs_without_secrets_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let webhook = format!("https://oapi.dingtalk.com/robot/send?access_token={WEBHOOK_TOKEN}");
    let vars = [
        ("APP_ENV", "production"),
        ("SECRET_KEY", SECRET_KEY),
        ("API_TOKEN", API_TOKEN),
        ("WORKING_URL", webhook.as_str()),
        ("LOG_LEVEL", "debug"),
    ];
    let (child, base_url) = start_server_process(dir.path(), &vars).await;

    // A token in a query string must not end up in the request log either.
    let url = format!("{base_url}/no-such-page?token={API_TOKEN}");
    let response = crate::helpers::http_get(&url, crate::helpers::TIMEOUT)
        .await
        .expect("GET");
    assert_eq!(
        response.status, 303,
        "anonymous visitors go to the login page"
    );

    let feed = crate::helpers::http_get(
        &format!("{base_url}/api/calendar/{FEED_TOKEN}.ics"),
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("GET feed");
    assert_eq!(feed.status, 404);

    // Production without ADMIN_PASSWORD: a random first password, in one marked log line.
    let log = std::fs::read_to_string(dir.path().join("logs").join("app.log")).expect("log file");
    let password = log
        .split("admin login = admin / ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the first-run password line")
        .to_owned();
    assert_eq!(password.len(), 16, "{password}");
    assert!(log.contains("FIRST RUN"));
    let login = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/session"),
        &[("Content-Type", "application/json")],
        &format!(r#"{{"username":"admin","password":"{password}"}}"#),
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("login");
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login.body.contains(r#""must_change_password":true"#),
        "{}",
        login.body
    );

    // The container HEALTHCHECK path: the binary asks the running server.
    let port = base_url.rsplit(':').next().expect("port");
    let healthcheck = run_binary(dir.path(), &["healthcheck"], &[("PORT", port)]);
    assert!(
        healthcheck.status.success(),
        "{}",
        String::from_utf8_lossy(&healthcheck.stderr)
    );

    send_signal(&child, "TERM");
    let output = wait_for_exit(child);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}: {stdout}",
        output.status
    );
    assert!(stdout.contains("SIGTERM received"), "{stdout}");
    assert!(stdout.contains("stopped"), "{stdout}");

    let logs: String = std::fs::read_dir(dir.path().join("logs"))
        .expect("log dir")
        .map(|entry| std::fs::read_to_string(entry.expect("entry").path()).expect("read log"))
        .collect();
    assert!(
        logs.contains("path=/no-such-page"),
        "request log missing: {logs}"
    );
    assert!(logs.contains("status=303"), "status missing: {logs}");
    assert!(
        logs.contains("path=/api/calendar/<token>"),
        "feed request missing: {logs}"
    );
    assert!(logs.contains("latency="), "latency missing: {logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in the log file: {logs}"
    );
    for secret in [API_TOKEN, SECRET_KEY, WEBHOOK_TOKEN, FEED_TOKEN] {
        assert!(!logs.contains(secret), "{secret} leaked into the log file");
        assert!(!stdout.contains(secret), "{secret} leaked to stdout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_also_stops_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = [("APP_ENV", "development")];
    let (child, _) = start_server_process(dir.path(), &vars).await;
    send_signal(&child, "INT");
    let output = wait_for_exit(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("SIGINT received"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_when_shutdown_begins_still_gets_its_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut app = crate::helpers::spawn_app().await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    // Half a request: the server is now reading it when the signal arrives.
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.signal_stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .expect("finish request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // New connections are refused once the server has stopped.
    app.stop().await.expect("clean stop");
    assert!(tokio::net::TcpStream::connect(&address).await.is_err());
}

/// A TCP listener standing in for a proxy: records the first bytes of each connection and
/// answers 502.
async fn recording_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = vec![0; 4096];
            let read = stream.read(&mut buffer).await.unwrap_or(0);
            record
                .lock()
                .expect("proxy log")
                .push(String::from_utf8_lossy(&buffer[..read]).into_owned());
            let _ = stream
                .write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (url, seen)
}

/// Sends a channel test to an unresolvable robot through a server started with `vars`.
async fn channel_test_through(vars: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = vec![
        ("APP_ENV", "production"),
        ("SECRET_KEY", SECRET_KEY),
        ("API_TOKEN", API_TOKEN),
        ("ALLOW_PRIVATE_WEBHOOKS", "true"),
    ];
    all.extend_from_slice(vars);
    let (child, base_url) = start_server_process(dir.path(), &all).await;
    let bearer = format!("Bearer {API_TOKEN}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let created = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/channels"),
        &headers,
        r#"{"name":"robot","kind":"generic","url":"http://robot.invalid/hook"}"#,
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("create channel");
    assert_eq!(created.status, 201, "{}", created.body);
    let id = serde_json::from_str::<serde_json::Value>(&created.body).expect("json")["id"]
        .as_i64()
        .expect("id");
    let tested = crate::helpers::http(
        "POST",
        &format!("{base_url}/api/v1/channels/{id}/test"),
        &headers,
        "",
        crate::helpers::TIMEOUT,
    )
    .await
    .expect("test channel");
    send_signal(&child, "TERM");
    wait_for_exit(child);
    tested.body
}

/// A proxy resolves names beyond our private-address guard: the environment's proxy
/// variables are ignored, and only an explicit `OUTBOUND_PROXY` is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_use_only_an_explicit_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let answer = channel_test_through(&[
        ("HTTP_PROXY", &proxy),
        ("HTTPS_PROXY", &proxy),
        ("ALL_PROXY", &proxy),
        ("http_proxy", &proxy),
    ])
    .await;
    assert!(answer.contains("无法解析域名"), "{answer}");
    assert!(
        seen.lock().expect("proxy log").is_empty(),
        "the environment's proxy was used"
    );

    let answer = channel_test_through(&[("OUTBOUND_PROXY", &proxy)]).await;
    let seen = seen.lock().expect("proxy log").clone();
    assert_eq!(seen.len(), 1, "{answer}");
    assert!(seen[0].contains("robot.invalid"), "{seen:?}");
}
