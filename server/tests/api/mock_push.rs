//! Local mock personal push services (Bark, ntfy, Gotify, ServerChan, PushPlus, WxPusher)
//! and an SMTP sink. Each checks the request shape its service documents (the facts in
//! ../shared/docs/protocols.md), answers as the service does and records what it accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One push a mock service accepted.
#[derive(Debug, Clone)]
pub struct Push {
    /// `bark`, `ntfy`, `gotify`, `serverchan`, `pushplus`, `wxpusher` or `email`.
    pub service: &'static str,
    /// The device key, topic, token, send key, app token or recipient it went to.
    pub to: String,
    pub title: String,
    /// Everything a person reads, links included.
    pub text: String,
    /// The first link the service makes clickable, where it has such a field.
    pub click: Option<String>,
    /// The JSON body as sent (Bark, Gotify), for the fields an address's parameters set.
    pub fields: Value,
}

/// Each push with the instant it arrived.
type Shared = Arc<Mutex<Vec<(Push, Instant)>>>;

#[derive(Clone)]
pub struct MockPush {
    pub base_url: String,
    pushes: Shared,
}

fn json_answer(status: StatusCode, value: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn json_of(headers: &HeaderMap, body: &Bytes) -> Result<Value, Box<Response>> {
    let json_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !json_type {
        return Err(Box::new(json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": "content-type must be application/json"}),
        )));
    }
    serde_json::from_slice(body).map_err(|_| {
        Box::new(json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": "invalid json"}),
        ))
    })
}

fn text(value: &Value, field: &str) -> Option<String> {
    value[field]
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

impl MockPush {
    pub async fn start() -> Self {
        let pushes = Shared::default();
        let router = Router::new()
            .route("/bark/push", post(bark))
            .route("/{topic}", post(ntfy))
            .route("/gotify/message", post(gotify))
            .route("/sct/{file}", post(serverchan))
            .route("/pushplus/send", post(pushplus))
            .route("/wxpusher/api/send/message", post(wxpusher))
            .with_state(pushes.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock push");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base_url, pushes }
    }

    /// `host:port` of the mock, for the `bark://host/key` style addresses.
    pub fn host(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.arrivals().into_iter().map(|(push, _)| push).collect()
    }

    pub fn arrivals(&self) -> Vec<(Push, Instant)> {
        self.pushes.lock().expect("pushes").clone()
    }

    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Push> {
        let deadline = Instant::now() + timeout;
        loop {
            let pushes = self.pushes();
            if pushes.len() >= count {
                return pushes;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} pushes arrived: {pushes:#?}",
                pushes.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn record(pushes: &Shared, push: Push) {
    pushes.lock().expect("pushes").push((push, Instant::now()));
}

async fn bark(State(pushes): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match json_of(&headers, &body) {
        Ok(value) => value,
        Err(answer) => return *answer,
    };
    // bark-server takes `markdown` in place of `body`.
    let body_text = text(&value, "body").or_else(|| text(&value, "markdown"));
    let (Some(key), Some(body_text)) = (text(&value, "device_key"), body_text) else {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": "device key or body is empty"}),
        );
    };
    // Bark's four interruption levels; the reminders' default is checked where it is built.
    let level = value["level"].as_str().unwrap_or_default();
    if !["active", "timeSensitive", "passive", "critical"].contains(&level) {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": format!("unknown level {level:?}")}),
        );
    }
    record(
        &pushes,
        Push {
            service: "bark",
            to: key,
            title: text(&value, "title").unwrap_or_default(),
            text: body_text,
            click: text(&value, "url"),
            fields: value.clone(),
        },
    );
    json_answer(
        StatusCode::OK,
        json!({"code": 200, "message": "success", "timestamp": 1_700_000_000}),
    )
}

async fn ntfy(
    State(pushes): State<Shared>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    // A topic the sender may not write to, as ntfy answers it.
    if topic.starts_with("forbidden") {
        return json_answer(
            StatusCode::FORBIDDEN,
            json!({"code": 40301, "http": 403, "error": "forbidden"}),
        );
    }
    if header("priority").as_deref() != Some("4") {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 40007, "http": 400, "error": "expected Priority: 4"}),
        );
    }
    let Ok(message) = String::from_utf8(body.to_vec()) else {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 40001, "http": 400, "error": "body is not UTF-8"}),
        );
    };
    record(
        &pushes,
        Push {
            service: "ntfy",
            to: topic,
            title: header("title").unwrap_or_default(),
            text: message,
            click: header("click"),
            fields: Value::Null,
        },
    );
    json_answer(
        StatusCode::OK,
        json!({"id": "mock0001", "time": 1_700_000_000, "event": "message"}),
    )
}

async fn gotify(
    State(pushes): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = query.get("token").cloned() else {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token"}),
        );
    };
    let value = match json_of(&headers, &body) {
        Ok(value) => value,
        Err(answer) => return *answer,
    };
    if !value["priority"].is_i64() {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "Bad Request", "errorCode": 400, "errorDescription": "priority must be an integer"}),
        );
    }
    let Some(message) = text(&value, "message") else {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "Bad Request", "errorCode": 400, "errorDescription": "message is required"}),
        );
    };
    record(
        &pushes,
        Push {
            service: "gotify",
            to: token,
            title: text(&value, "title").unwrap_or_default(),
            text: message,
            click: value["extras"]["client::notification"]["click"]["url"]
                .as_str()
                .map(str::to_owned),
            fields: value.clone(),
        },
    );
    json_answer(
        StatusCode::OK,
        json!({"id": 1, "appid": 1, "message": value["message"]}),
    )
}

async fn serverchan(
    State(pushes): State<Shared>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = file.strip_suffix(".send") else {
        return json_answer(
            StatusCode::NOT_FOUND,
            json!({"code": 404, "message": "not found"}),
        );
    };
    let value = match json_of(&headers, &body) {
        Ok(value) => value,
        Err(answer) => return *answer,
    };
    let Some(title) = text(&value, "title") else {
        return json_answer(
            StatusCode::OK,
            json!({"code": 20001, "message": "title empty"}),
        );
    };
    record(
        &pushes,
        Push {
            service: "serverchan",
            to: key.to_owned(),
            title,
            text: text(&value, "desp").unwrap_or_default(),
            click: None,
            fields: Value::Null,
        },
    );
    json_answer(
        StatusCode::OK,
        json!({"code": 0, "message": "", "data": {"pushid": "1", "readkey": "r", "error": "SUCCESS", "errno": 0}}),
    )
}

async fn pushplus(State(pushes): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match json_of(&headers, &body) {
        Ok(value) => value,
        Err(answer) => return *answer,
    };
    let (Some(token), Some(content)) = (text(&value, "token"), text(&value, "content")) else {
        return json_answer(
            StatusCode::OK,
            json!({"code": 903, "msg": "无效的用户token", "data": null}),
        );
    };
    record(
        &pushes,
        Push {
            service: "pushplus",
            to: token,
            title: text(&value, "title").unwrap_or_default(),
            text: content,
            click: None,
            fields: Value::Null,
        },
    );
    json_answer(
        StatusCode::OK,
        json!({"code": 200, "msg": "请求成功", "data": "mock-short-code"}),
    )
}

async fn wxpusher(State(pushes): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match json_of(&headers, &body) {
        Ok(value) => value,
        Err(answer) => return *answer,
    };
    let Some(token) = text(&value, "appToken") else {
        return json_answer(
            StatusCode::OK,
            json!({"code": 1001, "msg": "appToken不能为空", "success": false}),
        );
    };
    let uids: Vec<String> = value["uids"]
        .as_array()
        .map(|uids| {
            uids.iter()
                .filter_map(|uid| uid.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if uids.is_empty() {
        return json_answer(
            StatusCode::OK,
            json!({"code": 1001, "msg": "uids不能为空", "success": false}),
        );
    }
    record(
        &pushes,
        Push {
            service: "wxpusher",
            to: format!("{token}/{}", uids.join("/")),
            title: text(&value, "summary").unwrap_or_default(),
            text: text(&value, "content").unwrap_or_default(),
            click: text(&value, "url"),
            fields: Value::Null,
        },
    );
    let data: Vec<Value> = uids
        .iter()
        .map(|uid| json!({"uid": uid, "topicId": null, "messageId": 1, "messageContentId": 1, "code": 1000, "status": "创建发送任务成功"}))
        .collect();
    json_answer(
        StatusCode::OK,
        json!({"code": 1000, "msg": "处理成功", "data": data, "success": true}),
    )
}

/// What the sink accepted: (recipients, the message as sent).
type Mails = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A plain SMTP server on loopback that takes every message after AUTH (or, as a relay,
/// without it) and records it.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Mails,
    /// Per message: whether the client had logged in.
    logins: Arc<Mutex<Vec<bool>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// An internal relay: no AUTH offered, mail taken from anyone.
    pub async fn relay() -> Self {
        Self::start_with(false).await
    }

    async fn start_with(require_login: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let port = listener.local_addr().expect("address").port();
        let mails = Mails::default();
        let logins = Arc::new(Mutex::new(Vec::new()));
        let sink = Self {
            port,
            mails: mails.clone(),
            logins: logins.clone(),
        };
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let mails = mails.clone();
                let logins = logins.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 mock ESMTP\r\n").await;
                    let (mut to, mut authed) = (Vec::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") && !require_login {
                            b"250 mock\r\n"
                        } else if upper.starts_with("EHLO") {
                            b"250-mock\r\n250 AUTH PLAIN LOGIN\r\n"
                        } else if upper.starts_with("AUTH PLAIN") {
                            authed = true;
                            b"235 ok\r\n"
                        } else if upper.starts_with("MAIL FROM") {
                            if authed || !require_login {
                                b"250 ok\r\n"
                            } else {
                                b"530 auth first\r\n"
                            }
                        } else if upper.starts_with("RCPT TO") {
                            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 ok\r\n"
                        } else if upper == "DATA" {
                            let _ = write.write_all(b"354 go\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            mails
                                .lock()
                                .expect("mails")
                                .push((std::mem::take(&mut to), data));
                            logins.lock().expect("logins").push(authed);
                            b"250 queued\r\n"
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        sink
    }

    pub fn mails(&self) -> Vec<(Vec<String>, String)> {
        self.mails.lock().expect("mails").clone()
    }

    /// Per message taken: whether the client had logged in first.
    pub fn logins(&self) -> Vec<bool> {
        self.logins.lock().expect("logins").clone()
    }
}
