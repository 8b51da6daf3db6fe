use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::ssr::Services;
use app::ssr::clock::{Clock, FixedClock};
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::DatabaseConnection;
use server::config::Config;
use server::startup::Application;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TIMEOUT: Duration = Duration::from_secs(20);

/// 2026-11-23 09:02:03 in Asia/Shanghai.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 2, 3)
        .single()
        .expect("valid instant")
}

/// The first admin's password in test apps (set through `ADMIN_PASSWORD`).
pub const ADMIN_PASSWORD: &str = "Admin-Pass-2026";
pub const API_TOKEN: &str = "test-api-token-0123456789abcdef";

pub struct TestApp {
    pub base_url: String,
    pub db: DatabaseConnection,
    pub dir: TempDir,
    /// The services the server runs with, for driving reminder ticks directly.
    pub services: Services,
    clock: Arc<dyn Clock>,
    extra: Vec<(String, String)>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A caller: anonymous, a session cookie, or the API token.
#[derive(Clone, Default)]
pub struct Caller {
    pub cookie: Option<String>,
    pub bearer: Option<String>,
    /// An `Origin` header, for cross-site tests.
    pub origin: Option<String>,
    /// An `X-Forwarded-For` header: the client's address when the app trusts its proxy
    /// (`TRUST_PROXY=true`).
    pub forwarded_for: Option<String>,
}

impl Caller {
    pub fn bearer(token: &str) -> Self {
        Self {
            bearer: Some(token.to_owned()),
            ..Self::default()
        }
    }

    /// An anonymous caller at `ip`, as a trusted proxy reports it.
    pub fn at(ip: &str) -> Self {
        Self {
            forwarded_for: Some(ip.to_owned()),
            ..Self::default()
        }
    }

    pub fn with_origin(&self, origin: &str) -> Self {
        Self {
            origin: Some(origin.to_owned()),
            ..self.clone()
        }
    }
}

/// An answer as the tests read it: status, every header (repeats kept, in order), body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One request through reqwest. Redirects are not followed and there is no cookie store:
/// tests look at redirects and `Set-Cookie` themselves and send cookies explicitly.
/// A client per request: a reqwest client's pooled connections belong to the runtime that
/// opened them, and every test has its own runtime.
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
    timeout: Duration,
) -> Result<Response, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = client.request(method, url).body(body.as_ref().to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let body = response.bytes().await?;
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

pub async fn http_get(url: &str, timeout: Duration) -> Result<Response, reqwest::Error> {
    http("GET", url, &[], "", timeout).await
}

/// The `dda_session=…` pair from a response's `Set-Cookie`, if it sets one.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .find(|pair| pair.starts_with("dda_session="))
}

/// The full `Set-Cookie` header for the session cookie.
pub fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.clone())
        .find(|value| value.starts_with("dda_session="))
}

impl TestApp {
    /// Any request, as `caller`.
    pub async fn call(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl AsRef<[u8]>,
    ) -> Response {
        let authorization = caller.bearer.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("Accept", "application/json")];
        if let Some(cookie) = &caller.cookie {
            headers.push(("Cookie", cookie));
        }
        if let Some(authorization) = &authorization {
            headers.push(("Authorization", authorization));
        }
        if let Some(origin) = &caller.origin {
            headers.push(("Origin", origin));
        }
        if let Some(forwarded_for) = &caller.forwarded_for {
            headers.push(("X-Forwarded-For", forwarded_for));
        }
        if let Some(content_type) = content_type {
            headers.push(("Content-Type", content_type));
        }
        let url = format!("{}{path}", self.base_url);
        http(method, &url, &headers, body, TIMEOUT)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "{method} {path}: {error:?}\nserver log:\n{}",
                    self.log_tail()
                )
            })
    }

    /// The end of the server's log files, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path().join("logs")) {
            for entry in entries.flatten() {
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        text.chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    }

    pub async fn get_as(&self, caller: &Caller, path: &str) -> Response {
        self.call(caller, "GET", path, None, "").await
    }

    pub async fn json_as(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> Response {
        self.call(
            caller,
            method,
            path,
            Some("application/json"),
            &body.to_string(),
        )
        .await
    }

    /// Calls a server function that takes JSON (`input = Json`).
    pub async fn server_fn(
        &self,
        caller: &Caller,
        name: &str,
        args: serde_json::Value,
    ) -> Response {
        self.json_as(caller, "POST", &format!("/api/fn/{name}"), args)
            .await
    }

    /// Calls a server function that takes a form (the default encoding).
    pub async fn server_fn_form(&self, caller: &Caller, name: &str, form: &str) -> Response {
        self.call(
            caller,
            "POST",
            &format!("/api/fn/{name}"),
            Some("application/x-www-form-urlencoded"),
            form,
        )
        .await
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.try_login_as(&Caller::default(), username, password)
            .await
    }

    /// A login attempt by `caller` (e.g. from another address, see [`Caller::at`]).
    pub async fn try_login_as(&self, caller: &Caller, username: &str, password: &str) -> Response {
        self.json_as(
            caller,
            "POST",
            "/api/v1/session",
            serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// Signs in through the API and returns the caller holding the session cookie.
    pub async fn login(&self, username: &str, password: &str) -> Caller {
        let response = self.try_login(username, password).await;
        assert_eq!(response.status, 200, "login {username}: {}", response.body);
        Caller {
            cookie: Some(session_cookie(&response).expect("a session cookie")),
            ..Caller::default()
        }
    }

    pub async fn login_admin(&self) -> Caller {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates an active user with a password they need not change; returns the id.
    pub async fn create_user(&self, username: &str, password: &str, role: &str) -> i64 {
        let response = self
            .json_as(
                &Caller::bearer(API_TOKEN),
                "POST",
                "/api/v1/users",
                serde_json::json!({
                    "username": username,
                    "password": password,
                    "role": role,
                    "must_change_password": false,
                }),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        json_body(&response)["id"].as_i64().expect("id")
    }

    /// Stops the server and starts a new one on the same directory and database.
    pub async fn restart(self) -> TestApp {
        let extra = self.extra.clone();
        let clock = self.clock.clone();
        let dir = self.stop_keeping_dir().await;
        let pairs: Vec<(&str, &str)> = extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        spawn_in(dir, &pairs, clock).await
    }

    /// Stops the server and hands back its directory (database, logs) for the next step.
    pub async fn stop_keeping_dir(mut self) -> TempDir {
        self.signal_stop();
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean stop");
        }
        self.db.clone().close().await.ok();
        self.dir
    }

    pub async fn get(&self, path: &str) -> Response {
        http_get(&format!("{}{path}", self.base_url), TIMEOUT)
            .await
            .unwrap_or_else(|error| {
                panic!("GET {path}: {error:?}\nserver log:\n{}", self.log_tail())
            })
    }

    /// Sends the shutdown signal without waiting for the server to finish.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server the way a signal would and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal_stop();
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }
}

/// The body of a JSON answer; fails the test if the answer is not JSON.
pub fn json_body(response: &Response) -> serde_json::Value {
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "not JSON ({content_type}): {}",
        response.body
    );
    serde_json::from_str(&response.body).expect("valid JSON")
}

/// PostgreSQL mode: `TEST_DATABASE_URL` names a PostgreSQL server (a superuser URL, as
/// `scripts/pg-cluster.sh` prints) and every test runs there instead of on SQLite.
pub fn on_postgres() -> bool {
    std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty())
}

/// Ends a test that is about SQLite itself (its file, `VACUUM INTO` backups) when the suite
/// runs on PostgreSQL, saying why on stderr.
macro_rules! sqlite_only {
    ($reason:literal) => {
        if $crate::helpers::on_postgres() {
            eprintln!("skipped on PostgreSQL: {}", $reason);
            return;
        }
    };
}
pub(crate) use sqlite_only;

/// The database of a test directory in PostgreSQL mode, created on first use: a restarted
/// app or a second process on the same directory shares it, as they share the SQLite file
/// otherwise. Nothing is written into the directory (tests check what the binary writes
/// there). `None` on SQLite.
pub fn database_url_for(dir: &Path) -> Option<String> {
    static CREATED: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let mut created = CREATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, url)) = created.iter().find(|(path, _)| path == dir) {
        return Some(url.clone());
    }
    // Unique across the test processes that may share one cluster.
    let name = format!("t{}_{}", std::process::id(), created.len());
    // Its own thread and runtime: callers may be synchronous or inside a test's runtime.
    let create = {
        let admin_url = admin_url.clone();
        let name = name.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                use sea_orm::ConnectionTrait;
                let admin = sea_orm::Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                    .await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                admin.close().await
            })
        })
    };
    create
        .join()
        .expect("create database thread")
        .expect("CREATE DATABASE on TEST_DATABASE_URL");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends in a database name");
    let url = format!("{base}/{name}");
    created.push((dir.to_path_buf(), url.clone()));
    Some(url)
}

/// Builds a config the way production does, from variables, with directories in `dir`.
pub fn test_config(dir: &Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".into(), "production".into()),
        ("ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ("API_TOKEN".into(), API_TOKEN.into()),
        (
            "SECRET_KEY".into(),
            "test-secret-key-0123456789abcdef".into(),
        ),
        ("DATA_DIR".into(), dir.join("data").display().to_string()),
        ("LOG_DIR".into(), dir.join("logs").display().to_string()),
        (
            "UPLOAD_DIR".into(),
            dir.join("uploads").display().to_string(),
        ),
        ("SITE_ROOT".into(), dir.join("site").display().to_string()),
    ]);
    if let Some(url) = database_url_for(dir) {
        vars.insert("DATABASE_URL".into(), url);
    }
    for (key, value) in extra {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_with_clock(extra, Arc::new(FixedClock(fixed_now()))).await
}

/// A test app on a directory prepared beforehand (its `data/attendance.db`, e.g. written by
/// a command of the binary run there).
pub async fn spawn_app_in(dir: TempDir, extra: &[(&str, &str)]) -> TestApp {
    spawn_in(dir, extra, Arc::new(FixedClock(fixed_now()))).await
}

/// A test app whose schedules run on `clock` (a `ManualClock` for reminder tests).
pub async fn spawn_app_with_clock(extra: &[(&str, &str)], clock: Arc<dyn Clock>) -> TestApp {
    spawn_in(tempfile::tempdir().expect("tempdir"), extra, clock).await
}

async fn spawn_in(dir: TempDir, extra: &[(&str, &str)], clock: Arc<dyn Clock>) -> TestApp {
    let config = test_config(dir.path(), extra);
    server::startup::create_writable_dirs(&config).expect("dirs");
    let db = server::db::connect_and_migrate(&config.database)
        .await
        .expect("database");
    let listener = server::startup::listen(([127, 0, 0, 1], 0).into()).expect("bind");
    let application = Application::with_listener(&config, listener, db.clone(), clock.clone())
        .await
        .expect("application");
    let services = application.services();
    let base_url = format!("http://{}", application.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        base_url,
        db,
        dir,
        services,
        clock,
        extra: extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        stop: Some(stop),
        server: Some(server),
    }
}

/// The compiled server binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dingding-attendance"))
}

/// Runs the binary with only the given variables, in `cwd` (so no developer .env leaks in).
pub fn run_binary(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    command(cwd, args, vars).output().expect("run binary")
}

pub fn command(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary());
    command.args(args).current_dir(cwd).env_clear();
    // On PostgreSQL the directory's database stands in for its SQLite file, unless the
    // test names a database itself.
    if !vars.iter().any(|(name, _)| *name == "DATABASE_URL")
        && let Some(url) = database_url_for(cwd)
    {
        command.env("DATABASE_URL", url);
    }
    command.envs(vars.iter().copied());
    command
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts the binary as `serve` and waits until `/api/health` answers 200.
pub async fn start_server_process(cwd: &Path, vars: &[(&str, &str)]) -> (Child, String) {
    let port = free_port().to_string();
    let mut all: Vec<(&str, &str)> = vec![("HOST", "127.0.0.1"), ("PORT", &port)];
    all.extend_from_slice(vars);
    let mut child = command(cwd, &[], &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let base_url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(response) =
            crate::helpers::http_get(&format!("{base_url}/api/health"), Duration::from_secs(2))
                .await
            && response.status == 200
        {
            return (child, base_url);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let output = child.wait_with_output().expect("output");
            panic!(
                "server exited early with {status}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(
            Instant::now() < deadline,
            "server did not become healthy in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server process that is killed when the test ends, even when an assertion fails first.
pub struct Server(pub Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            kill(child);
        }
    }
}

/// SIGKILL, then reaps the process.
pub fn kill(mut child: Child) {
    send_signal(&child, "KILL");
    child.wait().expect("reap");
}

/// A JSON request to a server process as `caller`: the status and the body parsed as JSON
/// (`Null` when it is not).
pub async fn call_process(
    base_url: &str,
    caller: &Caller,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let authorization = caller.bearer.as_ref().map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(&str, &str)> = vec![
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    if let Some(cookie) = &caller.cookie {
        headers.push(("Cookie", cookie));
    }
    if let Some(authorization) = &authorization {
        headers.push(("Authorization", authorization));
    }
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let response = http(
        method,
        &format!("{base_url}{path}"),
        &headers,
        body.as_bytes(),
        TIMEOUT,
    )
    .await
    .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    let value = serde_json::from_str(&response.body).unwrap_or(serde_json::Value::Null);
    (response.status, value)
}

pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for the child to exit, failing the test if it takes longer than `TIMEOUT`.
pub fn wait_for_exit(child: Child) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(TIMEOUT)
        .expect("server did not exit in time")
        .expect("wait")
}

/// A raw HTTP/1.1 connection, for bodies that are declared but never (fully) sent: a
/// server that refuses a body before reading it may close the connection while a client
/// is still sending, so oversized bodies are declared, not sent.
pub struct RawConnection {
    stream: BufReader<TcpStream>,
}

impl RawConnection {
    pub async fn open(app: &TestApp) -> Self {
        let address = app.base_url.trim_start_matches("http://");
        let stream = TcpStream::connect(address).await.expect("connect");
        Self {
            stream: BufReader::new(stream),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.expect("write");
    }

    pub async fn head(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        self.send(head.as_bytes()).await;
    }

    /// Declares a body of `length` bytes with `headers`, sends only its first byte and
    /// answers the status and body: how a test shows a body is refused unread.
    pub async fn declare_body(
        app: &TestApp,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        length: usize,
    ) -> (u16, String) {
        let mut connection = Self::open(app).await;
        let length = length.to_string();
        let mut all = headers.to_vec();
        all.push(("Content-Length", &length));
        connection.head(method, path, &all).await;
        connection.send(b"{").await;
        connection.read_answer().await
    }

    /// The next status line's code and the headers after it (a `100 Continue` counts).
    pub async fn read_head(&mut self) -> (u16, String) {
        let mut head = String::new();
        let read = tokio::time::timeout(TIMEOUT, async {
            loop {
                let mut line = String::new();
                let n = self.stream.read_line(&mut line).await.expect("read");
                assert!(n > 0, "connection closed before an answer: {head}");
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
        })
        .await;
        assert!(read.is_ok(), "no answer within 20 s: {head}");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        (status, head)
    }

    /// A final answer's status and body (which must have a Content-Length).
    pub async fn read_answer(&mut self) -> (u16, String) {
        let (status, head) = self.read_head().await;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}
