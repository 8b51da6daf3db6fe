//! A local mock of DingTalk's open platform (the company app's side): `gettoken` with
//! expiring tokens, work notifications (`asyncsend_v2`) that check the request shape and
//! answer with DingTalk's real error codes, `getsendresult`, and user lookup by mobile.
//! Like DingTalk, it silently drops the same text sent to the same person twice in a day,
//! so a test sees a repeated text as a lost reminder.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// One work notification DingTalk delivered.
#[derive(Debug, Clone)]
pub struct WorkNotice {
    pub agent_id: u64,
    pub user_id: String,
    pub content: String,
}

#[derive(Default)]
struct DingTalk {
    app_key: String,
    app_secret: String,
    agent_id: u64,
    /// Tokens handed out, in order; those in `valid` still work.
    issued: Vec<String>,
    valid: HashSet<String>,
    delivered: Vec<WorkNotice>,
    /// Texts sent to a person today: a repeat is answered with success and dropped.
    seen: HashSet<(String, String)>,
    dropped: usize,
    /// Userids that are not members of the company (getsendresult lists them invalid).
    strangers: HashSet<String>,
    /// task_id → the userids of that send.
    tasks: HashMap<u64, Vec<String>>,
    results_asked: usize,
    /// mobile → userid, for `getbymobile`.
    directory: HashMap<String, String>,
}

#[derive(Clone)]
pub struct MockDingTalk {
    pub base_url: String,
    state: Arc<Mutex<DingTalk>>,
}

fn answer(value: Value) -> Response {
    ([("content-type", "application/json")], value.to_string()).into_response()
}

/// DingTalk answers a bad or expired token with 40014 / 42001 in an HTTP 200.
fn token_error(state: &DingTalk, query: &HashMap<String, String>) -> Option<Response> {
    let token = query.get("access_token").map(String::as_str).unwrap_or("");
    if token.is_empty() || !state.issued.iter().any(|issued| issued == token) {
        return Some(answer(
            json!({"errcode": 40014, "errmsg": "不合法的access_token"}),
        ));
    }
    if !state.valid.contains(token) {
        return Some(answer(
            json!({"errcode": 42001, "errmsg": "access_token超时"}),
        ));
    }
    None
}

fn json_of(headers: &HeaderMap, body: &Bytes) -> Option<Value> {
    let json_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    json_type
        .then(|| serde_json::from_slice(body).ok())
        .flatten()
}

impl MockDingTalk {
    pub async fn start(app_key: &str, app_secret: &str, agent_id: u64) -> Self {
        let state = Arc::new(Mutex::new(DingTalk {
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            agent_id,
            ..DingTalk::default()
        }));
        let router = Router::new()
            .route("/gettoken", get(gettoken))
            .route(
                "/topapi/message/corpconversation/asyncsend_v2",
                post(asyncsend),
            )
            .route(
                "/topapi/message/corpconversation/getsendresult",
                post(getsendresult),
            )
            .route("/topapi/v2/user/getbymobile", post(getbymobile))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock dingtalk");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base_url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut DingTalk) -> T) -> T {
        f(&mut self.state.lock().expect("mock state"))
    }

    /// How many tokens `gettoken` has handed out.
    pub fn tokens_issued(&self) -> usize {
        self.with(|s| s.issued.len())
    }

    /// Every token expires at once, as after two hours.
    pub fn expire_tokens(&self) {
        self.with(|s| s.valid.clear());
    }

    pub fn delivered(&self) -> Vec<WorkNotice> {
        self.with(|s| s.delivered.clone())
    }

    /// Sends DingTalk answered with success but dropped as repeats.
    pub fn dropped(&self) -> usize {
        self.with(|s| s.dropped)
    }

    pub fn results_asked(&self) -> usize {
        self.with(|s| s.results_asked)
    }

    pub fn add_stranger(&self, user_id: &str) {
        self.with(|s| s.strangers.insert(user_id.to_owned()));
    }

    /// A member of the company's directory, found by `getbymobile`.
    pub fn add_member(&self, mobile: &str, user_id: &str) {
        self.with(|s| s.directory.insert(mobile.to_owned(), user_id.to_owned()));
    }
}

async fn gettoken(
    State(state): State<Arc<Mutex<DingTalk>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = state.lock().expect("mock state");
    let key = query.get("appkey").map(String::as_str).unwrap_or("");
    let secret = query.get("appsecret").map(String::as_str).unwrap_or("");
    if key != state.app_key || secret != state.app_secret {
        return answer(json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}));
    }
    let token = format!("token-{}", state.issued.len() + 1);
    state.issued.push(token.clone());
    state.valid.insert(token.clone());
    answer(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
}

async fn asyncsend(
    State(state): State<Arc<Mutex<DingTalk>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("mock state");
    if let Some(error) = token_error(&state, &query) {
        return error;
    }
    let Some(body) = json_of(&headers, &body) else {
        return answer(json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    };
    if body["agent_id"].as_u64() != Some(state.agent_id) {
        return answer(json!({"errcode": 40056, "errmsg": "不合法的agentid"}));
    }
    let Some(user_ids) = body["userid_list"].as_str().filter(|ids| !ids.is_empty()) else {
        return answer(json!({"errcode": 40035, "errmsg": "缺少参数 userid_list"}));
    };
    let content = body["msg"]["text"]["content"].as_str().unwrap_or("");
    if body["msg"]["msgtype"] != "text" || content.is_empty() {
        return answer(json!({"errcode": 40035, "errmsg": "缺少参数 msg"}));
    }
    let user_ids: Vec<String> = user_ids.split(',').map(str::to_owned).collect();
    if user_ids.len() > 100 {
        return answer(json!({"errcode": 40035, "errmsg": "userid_list 最多 100 个"}));
    }
    for user_id in &user_ids {
        if state.strangers.contains(user_id) {
            continue;
        }
        if !state.seen.insert((user_id.clone(), content.to_owned())) {
            state.dropped += 1;
            continue;
        }
        let notice = WorkNotice {
            agent_id: state.agent_id,
            user_id: user_id.clone(),
            content: content.to_owned(),
        };
        state.delivered.push(notice);
    }
    let task_id = 256_000_000_000 + state.tasks.len() as u64;
    state.tasks.insert(task_id, user_ids);
    answer(json!({"errcode": 0, "task_id": task_id, "request_id": format!("req-{task_id}")}))
}

async fn getsendresult(
    State(state): State<Arc<Mutex<DingTalk>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("mock state");
    if let Some(error) = token_error(&state, &query) {
        return error;
    }
    state.results_asked += 1;
    let Some(body) = json_of(&headers, &body) else {
        return answer(json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    };
    if body["agent_id"].as_u64() != Some(state.agent_id) {
        return answer(json!({"errcode": 40056, "errmsg": "不合法的agentid"}));
    }
    let Some(user_ids) = body["task_id"]
        .as_u64()
        .and_then(|task| state.tasks.get(&task))
    else {
        return answer(json!({"errcode": 40035, "errmsg": "不合法的task_id"}));
    };
    let (invalid, unread): (Vec<&String>, Vec<&String>) = user_ids
        .iter()
        .partition(|user_id| state.strangers.contains(*user_id));
    answer(json!({
        "errcode": 0,
        "send_result": {
            "invalid_user_id_list": invalid,
            "forbidden_user_id_list": [],
            "failed_user_id_list": [],
            "read_user_id_list": [],
            "unread_user_id_list": unread,
            "invalid_dept_id_list": [],
            "forbidden_list": [],
        },
        "request_id": "req-result",
    }))
}

async fn getbymobile(
    State(state): State<Arc<Mutex<DingTalk>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let state = state.lock().expect("mock state");
    if let Some(error) = token_error(&state, &query) {
        return error;
    }
    let mobile = json_of(&headers, &body)
        .and_then(|body| body["mobile"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match state.directory.get(&mobile) {
        Some(user_id) => {
            answer(json!({"errcode": 0, "errmsg": "ok", "result": {"userid": user_id}}))
        }
        None => answer(json!({"errcode": 60121, "errmsg": "找不到该用户"})),
    }
}

/// One WeCom app message WeCom delivered.
#[derive(Debug, Clone)]
pub struct AppMessage {
    pub user_id: String,
    pub content: String,
}

#[derive(Default)]
struct WeCom {
    corp_id: String,
    secret: String,
    agent_id: u64,
    issued: Vec<String>,
    valid: HashSet<String>,
    delivered: Vec<AppMessage>,
    strangers: HashSet<String>,
}

/// A local mock of WeCom's API for a self-built app: `gettoken` and `message/send` with
/// WeCom's error codes and its `invaliduser` answer for people it does not know.
#[derive(Clone)]
pub struct MockWeCom {
    pub base_url: String,
    state: Arc<Mutex<WeCom>>,
}

impl MockWeCom {
    pub async fn start(corp_id: &str, secret: &str, agent_id: u64) -> Self {
        let state = Arc::new(Mutex::new(WeCom {
            corp_id: corp_id.to_owned(),
            secret: secret.to_owned(),
            agent_id,
            ..WeCom::default()
        }));
        let router = Router::new()
            .route("/cgi-bin/gettoken", get(wecom_gettoken))
            .route("/cgi-bin/message/send", post(wecom_send))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock wecom");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base_url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut WeCom) -> T) -> T {
        f(&mut self.state.lock().expect("mock state"))
    }

    pub fn tokens_issued(&self) -> usize {
        self.with(|s| s.issued.len())
    }

    pub fn delivered(&self) -> Vec<AppMessage> {
        self.with(|s| s.delivered.clone())
    }

    pub fn add_stranger(&self, user_id: &str) {
        self.with(|s| s.strangers.insert(user_id.to_owned()));
    }
}

async fn wecom_gettoken(
    State(state): State<Arc<Mutex<WeCom>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = state.lock().expect("mock state");
    if query.get("corpid") != Some(&state.corp_id) {
        return answer(json!({"errcode": 40013, "errmsg": "invalid corpid"}));
    }
    if query.get("corpsecret") != Some(&state.secret) {
        return answer(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let token = format!("wecom-token-{}", state.issued.len() + 1);
    state.issued.push(token.clone());
    state.valid.insert(token.clone());
    answer(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
}

async fn wecom_send(
    State(state): State<Arc<Mutex<WeCom>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("mock state");
    let token = query.get("access_token").cloned().unwrap_or_default();
    if !state.issued.contains(&token) {
        return answer(json!({"errcode": 40014, "errmsg": "invalid access_token"}));
    }
    if !state.valid.contains(&token) {
        return answer(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let Some(body) = json_of(&headers, &body) else {
        return answer(json!({"errcode": 47001, "errmsg": "data format error"}));
    };
    if body["agentid"].as_u64() != Some(state.agent_id) {
        return answer(json!({"errcode": 40056, "errmsg": "invalid agentid"}));
    }
    let content = body["text"]["content"].as_str().unwrap_or("");
    if body["msgtype"] != "text" || content.is_empty() {
        return answer(json!({"errcode": 41008, "errmsg": "missing text content"}));
    }
    if body["enable_duplicate_check"] != 0 {
        return answer(json!({"errcode": 40058, "errmsg": "test expects the duplicate check off"}));
    }
    let touser = body["touser"].as_str().unwrap_or("");
    let mut invalid = Vec::new();
    for user_id in touser.split('|').filter(|id| !id.is_empty()) {
        if state.strangers.contains(user_id) {
            invalid.push(user_id.to_owned());
        } else {
            let message = AppMessage {
                user_id: user_id.to_owned(),
                content: content.to_owned(),
            };
            state.delivered.push(message);
        }
    }
    answer(json!({
        "errcode": 0,
        "errmsg": "ok",
        "invaliduser": invalid.join("|"),
        "invalidparty": "",
        "invalidtag": "",
        "unlicenseduser": "",
        "msgid": format!("msg-{}", state.delivered.len()),
    }))
}

#[derive(Default)]
struct Feishu {
    app_id: String,
    app_secret: String,
    issued: Vec<String>,
    delivered: Vec<AppMessage>,
}

/// A local mock of Feishu's open platform for a self-built app: the tenant token and
/// `im/v1/messages`, with Feishu's codes (HTTP 400 with a `code` for errors).
#[derive(Clone)]
pub struct MockFeishu {
    pub base_url: String,
    state: Arc<Mutex<Feishu>>,
}

impl MockFeishu {
    pub async fn start(app_id: &str, app_secret: &str) -> Self {
        let state = Arc::new(Mutex::new(Feishu {
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
            ..Feishu::default()
        }));
        let router = Router::new()
            .route(
                "/open-apis/auth/v3/tenant_access_token/internal",
                post(feishu_token),
            )
            .route("/open-apis/im/v1/messages", post(feishu_message))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock feishu");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base_url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Feishu) -> T) -> T {
        f(&mut self.state.lock().expect("mock state"))
    }

    pub fn tokens_issued(&self) -> usize {
        self.with(|s| s.issued.len())
    }

    pub fn delivered(&self) -> Vec<AppMessage> {
        self.with(|s| s.delivered.clone())
    }
}

fn feishu_error(code: i64, msg: &str) -> Response {
    (
        axum::http::StatusCode::BAD_REQUEST,
        [("content-type", "application/json")],
        json!({"code": code, "msg": msg}).to_string(),
    )
        .into_response()
}

async fn feishu_token(
    State(state): State<Arc<Mutex<Feishu>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("mock state");
    let Some(body) = json_of(&headers, &body) else {
        return feishu_error(9499, "Bad Request");
    };
    if body["app_id"] != state.app_id.as_str() || body["app_secret"] != state.app_secret.as_str() {
        return feishu_error(10014, "app secret invalid");
    }
    let token = format!("t-{}", state.issued.len() + 1);
    state.issued.push(token.clone());
    answer(json!({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}))
}

async fn feishu_message(
    State(state): State<Arc<Mutex<Feishu>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("mock state");
    let bearer = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !state.issued.iter().any(|token| token == bearer) {
        return feishu_error(99991663, "Invalid access token for authorization.");
    }
    if query.get("receive_id_type").map(String::as_str) != Some("open_id") {
        return feishu_error(99992402, "field validation failed: receive_id_type");
    }
    let Some(body) = json_of(&headers, &body) else {
        return feishu_error(9499, "Bad Request");
    };
    let receive_id = body["receive_id"].as_str().unwrap_or("");
    // The content is a JSON document inside a string.
    let text = body["content"]
        .as_str()
        .and_then(|content| serde_json::from_str::<Value>(content).ok())
        .and_then(|content| content["text"].as_str().map(str::to_owned));
    let (Some(text), true, false) = (text, body["msg_type"] == "text", receive_id.is_empty())
    else {
        return feishu_error(230001, "invalid message content");
    };
    state.delivered.push(AppMessage {
        user_id: receive_id.to_owned(),
        content: text,
    });
    answer(json!({"code": 0, "msg": "success", "data": {"message_id": "om_1"}}))
}
