//! Local mock robots for DingTalk, Feishu, WeCom and a generic webhook. Each checks the
//! signature and the payload shape as ../shared/docs/protocols.md describes, answers with the
//! platform's real error codes, and records what it accepted. Written from the protocol
//! description, not from the server's own signing code, so a shared mistake cannot hide.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::ssr::{Clock, SystemClock};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// A scripted answer, used before the normal behaviour.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP error status with an empty body.
    Status(u16),
    /// HTTP 200 carrying this platform error code and message.
    Code(i64, &'static str),
    /// No answer for this long (longer than the client's timeout).
    Hang(Duration),
}

/// One message a robot accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub platform: &'static str,
    /// The access token, hook id, key or path segment that names the robot.
    pub robot: String,
    pub body: Value,
    /// The message text, wherever the platform keeps it.
    pub text: String,
    /// DingTalk's `msgUuid` or the generic webhook's `Idempotency-Key`.
    pub key: Option<String>,
    pub at: Instant,
}

#[derive(Default)]
struct Robots {
    secrets: HashMap<String, String>,
    script: HashMap<String, VecDeque<Reply>>,
    accepted: Vec<Accepted>,
    /// Every request, including refused ones: (robot, answer).
    requests: Vec<(String, String)>,
    /// DingTalk drops a message whose msgUuid it has already accepted.
    seen_keys: HashSet<String>,
    dropped_duplicates: usize,
    /// Real-time sends per robot, for the rate limits.
    recent: HashMap<String, VecDeque<Instant>>,
    rate_limited: usize,
    /// DingTalk robots refuse everything for ten minutes after the 21st message in a
    /// minute (ten windows here), as the real ones do.
    banned_until: HashMap<String, Instant>,
    /// Per-minute limit window, scaled down in tests.
    window: Duration,
    /// Added between accepting a message and answering, to widen the window a crash can
    /// fall into.
    delay: Duration,
}

#[derive(Clone)]
pub struct MockRobots {
    pub base_url: String,
    state: Arc<Mutex<Robots>>,
}

impl MockRobots {
    /// Starts the robots on a random loopback port. `window` stands for the platforms' one
    /// minute in their rate limits.
    pub async fn start(window: Duration) -> Self {
        let state = Arc::new(Mutex::new(Robots {
            window,
            ..Robots::default()
        }));
        let router = Router::new()
            .route("/robot/send", post(dingtalk))
            .route("/open-apis/bot/v2/hook/{hook}", post(feishu))
            .route("/cgi-bin/webhook/send", post(wecom))
            .route("/hook/{name}", post(generic))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock robots");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base_url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Robots) -> T) -> T {
        f(&mut self.state.lock().expect("mock state"))
    }

    /// Registers the signing secret of a robot (token, hook id or generic name).
    pub fn set_secret(&self, robot: &str, secret: &str) {
        self.with(|s| s.secrets.insert(robot.to_owned(), secret.to_owned()));
    }

    pub fn script(&self, robot: &str, replies: impl IntoIterator<Item = Reply>) {
        self.with(|s| {
            s.script
                .entry(robot.to_owned())
                .or_default()
                .extend(replies)
        });
    }

    pub fn set_delay(&self, delay: Duration) {
        self.with(|s| s.delay = delay);
    }

    pub fn dingtalk_url(&self, token: &str) -> String {
        format!("{}/robot/send?access_token={token}", self.base_url)
    }

    pub fn feishu_url(&self, hook: &str) -> String {
        format!("{}/open-apis/bot/v2/hook/{hook}", self.base_url)
    }

    pub fn wecom_url(&self, key: &str) -> String {
        format!("{}/cgi-bin/webhook/send?key={key}", self.base_url)
    }

    pub fn generic_url(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.base_url)
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.with(|s| s.accepted.clone())
    }

    pub fn accepted_by(&self, robot: &str) -> Vec<Accepted> {
        self.with(|s| {
            s.accepted
                .iter()
                .filter(|message| message.robot == robot)
                .cloned()
                .collect()
        })
    }

    /// Every mobile mentioned (DingTalk `at.atMobiles`) by the accepted messages, in order;
    /// a person reminded twice appears twice.
    pub fn mentioned_mobiles(&self) -> Vec<String> {
        self.with(|s| {
            s.accepted
                .iter()
                .flat_map(|message| {
                    message.body["at"]["atMobiles"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|mobile| mobile.as_str().map(str::to_owned))
                .collect()
        })
    }

    /// Waits until `count` mobiles have been mentioned, or fails after `timeout`.
    pub async fn wait_for_mentions(&self, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mentioned = self.mentioned_mobiles();
            if mentioned.len() >= count {
                return mentioned;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} people mentioned: {} messages accepted, {} refused as too fast",
                mentioned.len(),
                self.accepted().len(),
                self.rate_limited()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn requests(&self) -> Vec<(String, String)> {
        self.with(|s| s.requests.clone())
    }

    pub fn dropped_duplicates(&self) -> usize {
        self.with(|s| s.dropped_duplicates)
    }

    pub fn rate_limited(&self) -> usize {
        self.with(|s| s.rate_limited)
    }

    /// Waits until `count` messages have been accepted, or fails after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Accepted> {
        let deadline = Instant::now() + timeout;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "the robots accepted {} of {count} messages in {timeout:?}; requests: {:?}",
                accepted.len(),
                self.requests()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// What a robot does with one request, after the shared bookkeeping.
enum Outcome {
    Accept { text: String, key: Option<String> },
    Refuse(Response),
}

fn json_answer(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// The shared part of every robot: scripted replies, delay, rate limit, recording.
/// How one platform answers.
struct Platform {
    name: &'static str,
    per_minute: Option<usize>,
    rate_limited: Value,
    ok: Value,
}

async fn handle(
    state: &Arc<Mutex<Robots>>,
    platform: Platform,
    robot: &str,
    decide: impl FnOnce(&mut Robots) -> Outcome,
    body: Value,
) -> Response {
    let Platform {
        name: platform,
        per_minute,
        rate_limited: rate_limited_answer,
        ok: ok_answer,
    } = platform;
    let (scripted, delay) = {
        let mut s = state.lock().expect("mock state");
        let scripted = s.script.get_mut(robot).and_then(VecDeque::pop_front);
        (scripted, s.delay)
    };
    if let Some(Reply::Hang(duration)) = scripted {
        tokio::time::sleep(duration).await;
        return json_answer(ok_answer);
    }
    // The lock is never held across an await.
    let answer = record(
        state,
        Recording {
            platform,
            robot,
            per_minute,
            rate_limited_answer,
            ok_answer,
            scripted,
            body,
        },
        decide,
    );
    // Accepted first, answered later: a crash in between is the case msgUuid is for.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    answer
}

struct Recording<'a> {
    platform: &'static str,
    robot: &'a str,
    per_minute: Option<usize>,
    rate_limited_answer: Value,
    ok_answer: Value,
    scripted: Option<Reply>,
    body: Value,
}

fn record(
    state: &Arc<Mutex<Robots>>,
    recording: Recording<'_>,
    decide: impl FnOnce(&mut Robots) -> Outcome,
) -> Response {
    let Recording {
        platform,
        robot,
        per_minute,
        rate_limited_answer,
        ok_answer,
        scripted,
        body,
    } = recording;
    let mut s = state.lock().expect("mock state");
    let answer: Response = match scripted {
        Some(Reply::Status(code)) => StatusCode::from_u16(code).expect("status").into_response(),
        Some(Reply::Code(code, message)) => json_answer(platform_error(platform, code, message)),
        Some(Reply::Hang(_)) | None => {
            let now = Instant::now();
            let window = s.window;
            let banned = s.banned_until.get(robot).is_some_and(|until| now < *until);
            let limited = banned
                || per_minute.is_some_and(|max| {
                    let recent = s.recent.entry(robot.to_owned()).or_default();
                    while recent
                        .front()
                        .is_some_and(|at| now.duration_since(*at) >= window)
                    {
                        recent.pop_front();
                    }
                    recent.len() >= max
                });
            if limited {
                s.rate_limited += 1;
                if platform == "dingtalk" && !banned {
                    let until = now + window * 10;
                    s.banned_until.insert(robot.to_owned(), until);
                }
                json_answer(rate_limited_answer)
            } else {
                match decide(&mut s) {
                    Outcome::Accept { text, key } => {
                        if per_minute.is_some() {
                            s.recent.entry(robot.to_owned()).or_default().push_back(now);
                        }
                        let duplicate = platform == "dingtalk"
                            && key
                                .as_ref()
                                .is_some_and(|key| !s.seen_keys.insert(key.clone()));
                        if duplicate {
                            s.dropped_duplicates += 1;
                        } else {
                            s.accepted.push(Accepted {
                                platform,
                                robot: robot.to_owned(),
                                body,
                                text,
                                key,
                                at: now,
                            });
                        }
                        json_answer(ok_answer)
                    }
                    Outcome::Refuse(response) => response,
                }
            }
        }
    };
    s.requests
        .push((robot.to_owned(), format!("{}", answer.status())));
    answer
}

fn platform_error(platform: &str, code: i64, message: &str) -> Value {
    match platform {
        "feishu" => json!({"code": code, "msg": message, "data": {}}),
        _ => json!({"errcode": code, "errmsg": message}),
    }
}

async fn dingtalk(
    State(state): State<Arc<Mutex<Robots>>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let check = |s: &mut Robots| -> Outcome {
        let refuse = |code: i64, message: &str| {
            Outcome::Refuse(json_answer(json!({"errcode": code, "errmsg": message})))
        };
        if token.is_empty() {
            return refuse(300001, "token is not exist");
        }
        if let Some(secret) = s.secrets.get(&token) {
            let (Some(timestamp), Some(sign)) = (query.get("timestamp"), query.get("sign")) else {
                return refuse(310000, "sign not match");
            };
            let Ok(millis) = timestamp.parse::<i64>() else {
                return refuse(310000, "invalid timestamp");
            };
            let now = SystemClock.now().timestamp_millis();
            if (now - millis).abs() > 3_600_000 {
                return refuse(310000, "invalid timestamp");
            }
            let expected = BASE64.encode(hmac_sha256(
                secret.as_bytes(),
                format!("{timestamp}\n{secret}").as_bytes(),
            ));
            // Query already decoded `sign` once; it must equal the base64 exactly.
            if *sign != expected {
                return refuse(310000, "sign not match");
            }
        }
        let text = match parsed["msgtype"].as_str() {
            Some("text") => parsed["text"]["content"].as_str(),
            Some("markdown") => parsed["markdown"]["text"]
                .as_str()
                .filter(|_| parsed["markdown"]["title"].is_string()),
            _ => None,
        };
        let Some(text) = text else {
            return refuse(40035, "缺少参数 json");
        };
        let at = &parsed["at"];
        if !at.is_null() {
            let mobiles = at["atMobiles"].as_array();
            let Some(mobiles) = mobiles else {
                return refuse(40035, "at.atMobiles must be a list");
            };
            // The mention renders only where the text says @mobile.
            if mobiles
                .iter()
                .any(|mobile| !text.contains(&format!("@{}", mobile.as_str().unwrap_or("?"))))
            {
                return refuse(40035, "mentioned mobile missing from the content");
            }
        }
        Outcome::Accept {
            text: text.to_owned(),
            key: parsed["msgUuid"].as_str().map(str::to_owned),
        }
    };
    handle(
        &state,
        Platform {
            name: "dingtalk",
            per_minute: Some(20),
            rate_limited: json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            ok: json!({"errcode": 0, "errmsg": "ok"}),
        },
        &token,
        check,
        parsed.clone(),
    )
    .await
}

async fn feishu(
    State(state): State<Arc<Mutex<Robots>>>,
    Path(hook): Path<String>,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let check = |s: &mut Robots| -> Outcome {
        let refuse = |code: i64, message: &str| {
            Outcome::Refuse(json_answer(
                json!({"code": code, "msg": message, "data": {}}),
            ))
        };
        if body.len() > 20 * 1024 {
            return refuse(9499, "request body too large");
        }
        if let Some(secret) = s.secrets.get(&hook) {
            let (Some(timestamp), Some(sign)) =
                (parsed["timestamp"].as_str(), parsed["sign"].as_str())
            else {
                return refuse(
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                );
            };
            let seconds = timestamp.parse::<i64>().unwrap_or(0);
            let expected = BASE64.encode(hmac_sha256(
                format!("{timestamp}\n{secret}").as_bytes(),
                b"",
            ));
            if (SystemClock.now().timestamp() - seconds).abs() > 3600 || sign != expected {
                return refuse(
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                );
            }
        }
        let text = match parsed["msg_type"].as_str() {
            Some("text") => parsed["content"]["text"].as_str().map(str::to_owned),
            Some("interactive") => parsed["card"]["elements"][0]["content"]
                .as_str()
                .map(str::to_owned),
            _ => None,
        };
        match text {
            Some(text) => Outcome::Accept { text, key: None },
            None => refuse(9499, "Bad Request"),
        }
    };
    handle(
        &state,
        Platform {
            name: "feishu",
            per_minute: Some(100),
            rate_limited: json!({"code": 11232, "msg": "frequency limited", "data": {}}),
            ok: json!({"code": 0, "msg": "success", "data": {}}),
        },
        &hook,
        check,
        parsed.clone(),
    )
    .await
}

async fn wecom(
    State(state): State<Arc<Mutex<Robots>>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let key = query.get("key").cloned().unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let check = |_: &mut Robots| -> Outcome {
        let refuse = |code: i64, message: &str| {
            Outcome::Refuse(json_answer(json!({"errcode": code, "errmsg": message})))
        };
        if key.is_empty() {
            return refuse(93000, "invalid webhook url");
        }
        let text = match parsed["msgtype"].as_str() {
            Some("text") => {
                let text = &parsed["text"];
                let lists_ok = ["mentioned_list", "mentioned_mobile_list"]
                    .iter()
                    .all(|list| text[*list].is_null() || text[*list].is_array());
                text["content"]
                    .as_str()
                    .filter(|content| lists_ok && content.len() <= 2048)
            }
            Some("markdown") => parsed["markdown"]["content"]
                .as_str()
                .filter(|content| content.len() <= 4096),
            _ => None,
        };
        match text {
            Some(text) => Outcome::Accept {
                text: text.to_owned(),
                key: None,
            },
            None => refuse(44004, "text content exceed max length or invalid"),
        }
    };
    handle(
        &state,
        Platform {
            name: "wecom",
            per_minute: Some(20),
            rate_limited: json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
            ok: json!({"errcode": 0, "errmsg": "ok"}),
        },
        &key,
        check,
        parsed.clone(),
    )
    .await
}

async fn generic(
    State(state): State<Arc<Mutex<Robots>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let key = header("idempotency-key");
    let check = |s: &mut Robots| -> Outcome {
        if let Some(secret) = s.secrets.get(&name) {
            let expected = format!(
                "sha256={}",
                hmac_sha256(secret.as_bytes(), &body)
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect::<String>()
            );
            if header("x-signature").as_deref() != Some(expected.as_str()) {
                return Outcome::Refuse(
                    (StatusCode::UNAUTHORIZED, "bad signature").into_response(),
                );
            }
        }
        match parsed["text"].as_str() {
            Some(text) if parsed["key"].as_str() == key.as_deref() => Outcome::Accept {
                text: text.to_owned(),
                key: key.clone(),
            },
            _ => Outcome::Refuse((StatusCode::BAD_REQUEST, "bad payload").into_response()),
        }
    };
    handle(
        &state,
        Platform {
            name: "generic",
            per_minute: None,
            rate_limited: Value::Null,
            ok: json!({"ok": true}),
        },
        &name,
        check,
        parsed.clone(),
    )
    .await
}
