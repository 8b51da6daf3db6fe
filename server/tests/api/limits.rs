//! Bodies are bounded before they are buffered, large ones only for signed-in callers and
//! a few at a time; no query or path parameter can panic a handler.

use crate::helpers::{API_TOKEN, Caller, RawConnection, json_body, spawn_app};

fn bearer() -> Caller {
    Caller::bearer(API_TOKEN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_body_over_the_small_limit_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    // Declares 16 MiB and sends one byte of it: the answer must not wait for the rest.
    let json = ("Content-Type", "application/json");
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    for (path, headers) in [
        ("/api/v1/session", vec![json]),
        // An upload route without credentials gets the small limit too.
        ("/api/v1/schedules/import?format=csv", vec![]),
        // And a server function, which would otherwise collect the whole body.
        ("/api/fn/login", vec![form]),
    ] {
        let (status, body) =
            RawConnection::declare_body(&app, "POST", path, &headers, 16 * 1024 * 1024).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("64 KiB"), "{path} names the bound: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_is_cut_off_at_the_limit_while_streaming() {
    let app = spawn_app().await;
    let mut connection = RawConnection::open(&app).await;
    connection
        .head(
            "POST",
            "/api/v1/session",
            &[
                ("Content-Type", "application/json"),
                ("Transfer-Encoding", "chunked"),
            ],
        )
        .await;
    // 65 chunks of 1 KiB: one more than the limit, and the body never ends.
    let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
    for _ in 0..65 {
        connection.send(chunk.as_bytes()).await;
    }
    let (status, body) = connection.read_answer().await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("64 KiB"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_upload_may_exceed_the_small_limit() {
    let app = spawn_app().await;
    // 200 KiB of CSV: over the small limit, under the upload limit.
    let mut csv = String::from("date,username,shift,note\n");
    while csv.len() < 200 * 1024 {
        csv.push_str("2026-12-01,admin,,\n");
    }
    let response = app
        .call(
            &bearer(),
            "POST",
            "/api/v1/schedules/import?format=csv",
            Some("text/csv"),
            csv.as_bytes(),
        )
        .await;
    assert_ne!(response.status, 413, "{}", response.body);
    assert!(response.status < 500, "{}", response.body);
    // A JSON endpoint keeps the small limit even for the admin.
    let authorization = format!("Bearer {API_TOKEN}");
    let headers = [
        ("Authorization", authorization.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, body) =
        RawConnection::declare_body(&app, "PATCH", "/api/v1/users/1", &headers, 70_000).await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_four_uploads_are_read_at_once() {
    let app = spawn_app().await;
    let authorization = format!("Bearer {API_TOKEN}");
    let upload_head = [
        ("Authorization", authorization.as_str()),
        ("Content-Type", "text/csv"),
        ("Content-Length", "100000"),
        // The server answers `100 Continue` when the handler starts reading the body:
        // proof that this upload holds one of the slots.
        ("Expect", "100-continue"),
    ];
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut connection = RawConnection::open(&app).await;
        connection
            .head("POST", "/api/v1/schedules/import?format=csv", &upload_head)
            .await;
        let (status, head) = connection.read_head().await;
        assert_eq!(status, 100, "{head}");
        held.push(connection);
    }
    let mut fifth = RawConnection::open(&app).await;
    fifth
        .head("POST", "/api/v1/schedules/import?format=csv", &upload_head)
        .await;
    let (status, body) = fifth.read_answer().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains('4'), "names the limit: {body}");

    // Finishing one upload frees its slot for the next.
    let mut first = held.remove(0);
    let mut csv = b"date,username,shift,note\n".to_vec();
    csv.resize(100_000, b'\n');
    first.send(&csv).await;
    let (status, body) = first.read_answer().await;
    assert!(status < 500 && status != 413, "{status}: {body}");
    let mut next = RawConnection::open(&app).await;
    next.head("POST", "/api/v1/schedules/import?format=csv", &upload_head)
        .await;
    let (status, head) = next.read_head().await;
    assert_eq!(status, 100, "{head}");
}

/// Values that have crashed or could crash a handler reading a number, date or name.
const HOSTILE_VALUES: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "1e309",
    "NaN",
    "abc",
    "",
    "%00",
    "2026-02-30",
    "99999-01-01",
    "-0001-01-01",
];

/// Every GET route of the OpenAPI document, with each of its parameters set to each
/// hostile value in turn: no answer may be a server error or a dropped connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_never_panic_on_input() {
    let app = spawn_app().await;
    let document = json_body(&app.get("/api/openapi.json").await);
    let paths = document["paths"].as_object().expect("paths");
    let long_value = "9".repeat(5000);
    let mut probes = 0;
    for (path, item) in paths {
        let Some(get) = item.get("get") else {
            continue;
        };
        let parameters: Vec<(String, String)> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_owned(),
                    p["in"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let values = HOSTILE_VALUES
            .iter()
            .copied()
            .chain(std::iter::once(long_value.as_str()));
        for value in values {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            for (name, location) in &parameters {
                let mut url = path.clone();
                // Other path parameters get a plausible id; this one the hostile value.
                for (other, other_location) in &parameters {
                    if other_location == "path" {
                        let replacement = if other == name { encoded.as_str() } else { "1" };
                        url = url.replace(&format!("{{{other}}}"), replacement);
                    }
                }
                if location == "query" {
                    url = format!("{url}?{name}={encoded}");
                }
                let response = app.get_as(&bearer(), &url).await;
                probes += 1;
                assert!(
                    response.status < 500,
                    "GET {url} answered {}: {}",
                    response.status,
                    response.body
                );
            }
        }
    }
    assert!(probes > 100, "only {probes} probes: is the document empty?");
    // The server is still there for everyone.
    assert_eq!(app.get("/api/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_out_of_range_are_422_naming_them() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/deliveries?page=18446744073709551615",
        "/api/v1/deliveries?page=1000001",
        "/api/v1/deliveries?per_page=0",
        "/api/v1/deliveries?per_page=101",
        "/api/v1/users?page=-1",
        "/api/v1/audit?page=0",
    ] {
        let response = app.get_as(&bearer(), path).await;
        assert_eq!(response.status, 422, "{path}: {}", response.body);
        let field = json_body(&response)["error"]["field"].clone();
        let expected = if path.contains("per_page") {
            "per_page"
        } else {
            "page"
        };
        assert_eq!(field, expected, "{path}");
    }
}

/// DNS rebinding: with `PUBLIC_URL` set, a request naming another host is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_public_url_other_host_names_are_refused() {
    let app = crate::helpers::spawn_app_with(&[("PUBLIC_URL", "https://kaoqin.example.com")]).await;
    for (host, expected) in [
        ("rebound.attacker.example", 421),
        ("kaoqin.example.com", 200),
        ("127.0.0.1", 200),
    ] {
        let mut connection = RawConnection::open(&app).await;
        connection
            .send(
                format!(
                    "GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {API_TOKEN}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await;
        let (status, body) = connection.read_answer().await;
        // The API token is not a user: 422 from /me means the request got through.
        let got_through = status != 421;
        assert_eq!(got_through, expected == 200, "{host}: {status} {body}");
    }
}
