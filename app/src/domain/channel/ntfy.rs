//! ntfy: `POST {base}/{topic}` with the text as the body and everything else in headers
//! (docs/publish.md). Success is HTTP 200 with the stored message (`{"id":…,"event":
//! "message",…}`); errors are `{"code":42901,"http":429,"error":"limit reached: too many
//! requests",…}`.
//!
//! Header values: HTTP client libraries (and the `http` crate reqwest uses) only take
//! visible ASCII reliably, so a value with anything else is sent as RFC 2047 encoded words
//! (`=?UTF-8?B?…?=`), which ntfy decodes for every header since v2.4.0 ("you may also encode
//! any header (including the title) as RFC 2047").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::address::NtfyAuth;
use super::{
    HttpRequest, Notice, Verdict, http_failure, int_field, is_success_status, join, one_line,
    str_field, unrecognised,
};

const SERVICE: &str = "ntfy";
/// ntfy shows at most three action buttons.
pub const MAX_ACTIONS: usize = 3;

pub fn build(base: &str, topic: &str, auth: Option<&NtfyAuth>, notice: &Notice) -> HttpRequest {
    let (buttons, rest) = notice.links.split_at(notice.links.len().min(MAX_ACTIONS));
    let mut headers = vec![(
        "Content-Type".to_owned(),
        "text/plain; charset=utf-8".to_owned(),
    )];
    let mut header = |name: &str, value: String| headers.push((name.to_owned(), value));
    if !notice.title.trim().is_empty() {
        header("Title", header_value(&notice.title));
    }
    header("Priority", "4".to_owned());
    header("Tags", "alarm_clock".to_owned());
    if let Some(first) = buttons.first() {
        header("Click", header_value(&first.url));
        // The JSON form, since a URL may hold the `,` and `;` the simple form splits on.
        let actions: Vec<Value> = buttons
            .iter()
            .map(|link| {
                json!({
                    "action": "view",
                    "label": one_line(&link.label),
                    "url": link.url,
                    "clear": true,
                })
            })
            .collect();
        header("Actions", header_value(&Value::Array(actions).to_string()));
    }
    match auth {
        Some(NtfyAuth::Basic { username, password }) => header(
            "Authorization",
            format!("Basic {}", BASE64.encode(format!("{username}:{password}"))),
        ),
        Some(NtfyAuth::Token(token)) => header("Authorization", format!("Bearer {token}")),
        None => {}
    }
    HttpRequest {
        url: join(base, topic),
        headers,
        body: notice.text_with_links(rest).into_bytes(),
    }
}

/// At most this many UTF-8 bytes per encoded word: 60 base64 characters, 72 with the
/// `=?UTF-8?B?…?=` wrapper, under RFC 2047's 75.
const WORD_BYTES: usize = 45;

/// `value` on one line, as is when it is printable ASCII, else as RFC 2047 encoded words
/// split on character boundaries.
pub fn header_value(value: &str) -> String {
    let value = one_line(value);
    let plain = value.bytes().all(|b| (0x20..0x7f).contains(&b)) && !value.contains("=?");
    if plain {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > WORD_BYTES {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join(" ")
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text))
}

pub fn classify(http_status: u16, body: &str) -> Verdict {
    let value = serde_json::from_str::<Value>(body).ok();
    if is_success_status(http_status) {
        let stored = value
            .as_ref()
            .is_some_and(|value| value.get("id").is_some_and(Value::is_string));
        return if stored {
            Verdict::Sent
        } else {
            unrecognised(SERVICE, body)
        };
    }
    let detail = value.as_ref().and_then(|value| {
        let code = int_field(value, "code")?;
        Some(format!("code {code}：{}", str_field(value, "error")))
    });
    let hint = match http_status {
        401 | 403 => Some("没有这个主题的发布权限：请检查用户名、密码或访问令牌"),
        413 => Some("消息太长"),
        _ => None,
    };
    match (http_failure(SERVICE, http_status, body, detail), hint) {
        (Verdict::Permanent(text), Some(hint)) => Verdict::Permanent(format!("{text}；{hint}")),
        (verdict, _) => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::super::NoticeLink;
    use super::super::test_support::{bare_notice, notice};
    use super::*;

    fn decode_words(value: &str) -> String {
        value
            .split(' ')
            .map(|word| {
                let inner = word
                    .strip_prefix("=?UTF-8?B?")
                    .and_then(|w| w.strip_suffix("?="))
                    .unwrap();
                String::from_utf8(BASE64.decode(inner).unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn publish_puts_text_in_the_body_and_the_rest_in_headers() {
        let request = build("https://ntfy.sh", "kq-alerts", None, &notice());
        assert_eq!(request.url, "https://ntfy.sh/kq-alerts");
        assert_eq!(request.body, "早班 09:00 上班，记得打卡。".as_bytes());
        let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Title",
                "Priority",
                "Tags",
                "Click",
                "Actions"
            ]
        );
        assert_eq!(request.header("Priority"), Some("4"));
        assert_eq!(request.header("Tags"), Some("alarm_clock"));
        assert_eq!(
            request.header("Click"),
            Some("https://kq.example.com/a/done?t=abc")
        );
        assert_eq!(
            decode_words(request.header("Title").unwrap()),
            "上班打卡提醒"
        );
        let actions: Value =
            serde_json::from_str(&decode_words(request.header("Actions").unwrap())).unwrap();
        assert_eq!(
            actions,
            json!([
                {"action": "view", "label": "我已打卡", "url": "https://kq.example.com/a/done?t=abc", "clear": true},
                {"action": "view", "label": "今天不用提醒", "url": "https://kq.example.com/a/skip?t=abc", "clear": true},
            ])
        );
        for (_, value) in &request.headers {
            assert!(value.bytes().all(|b| (0x20..0x7f).contains(&b)), "{value}");
        }
    }

    #[test]
    fn ascii_values_are_sent_as_is_and_no_links_means_no_click_or_actions() {
        let request = build("http://ntfy.local:8080/", "t", None, &bare_notice());
        assert_eq!(request.url, "http://ntfy.local:8080/t");
        assert_eq!(request.header("Title"), Some("Clock in"));
        assert_eq!(request.header("Click"), None);
        assert_eq!(request.header("Actions"), None);
        assert_eq!(request.header("Authorization"), None);
        assert_eq!(request.body, b"Shift starts at 09:00");
    }

    #[test]
    fn more_than_three_links_spill_into_the_body() {
        let mut notice = notice();
        for n in 3..=5 {
            notice.links.push(NoticeLink {
                label: format!("L{n}"),
                url: format!("https://x.example/{n}"),
            });
        }
        let request = build("https://ntfy.sh", "t", None, &notice);
        let actions: Value =
            serde_json::from_str(&decode_words(request.header("Actions").unwrap())).unwrap();
        assert_eq!(actions.as_array().unwrap().len(), 3);
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            "早班 09:00 上班，记得打卡。\n\nL4：https://x.example/4\nL5：https://x.example/5"
        );
    }

    #[test]
    fn credentials_become_basic_or_bearer_authorization() {
        let basic = NtfyAuth::Basic {
            username: "phil".to_owned(),
            password: "p@ss:w".to_owned(),
        };
        let request = build("https://n.example", "t", Some(&basic), &bare_notice());
        assert_eq!(
            request.header("Authorization"),
            Some(format!("Basic {}", BASE64.encode("phil:p@ss:w")).as_str())
        );
        let bearer = NtfyAuth::Token("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2".to_owned());
        let request = build("https://n.example", "t", Some(&bearer), &bare_notice());
        assert_eq!(
            request.header("Authorization"),
            Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
        );
        assert!(!format!("{request:?}").contains("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"));
    }

    #[test]
    fn long_non_ascii_values_become_several_short_encoded_words() {
        let title = "上班打卡提醒：".repeat(10);
        let encoded = header_value(&title);
        assert!(encoded.split(' ').count() > 1);
        for word in encoded.split(' ') {
            assert!(word.len() <= 75, "{word}");
        }
        assert_eq!(decode_words(&encoded), title);
        // A line break would end the header; a lookalike encoded word would be decoded.
        assert_eq!(header_value("a\r\nb"), "a  b");
        assert_eq!(decode_words(&header_value("=?x?=")), "=?x?=");
    }

    #[test]
    fn a_stored_message_is_sent() {
        assert_eq!(
            classify(
                200,
                r#"{"id":"hwQ2YpKdmg","time":1635528741,"event":"message","topic":"mytopic","message":"hi"}"#
            ),
            Verdict::Sent
        );
    }

    #[test]
    fn rate_limits_and_server_errors_retry() {
        assert_eq!(
            classify(
                429,
                r#"{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}"#
            ),
            Verdict::RetryLater(
                "ntfy：HTTP 429，code 42901：limit reached: too many requests；发送太频繁，稍后重试"
                    .to_owned()
            )
        );
        assert!(matches!(classify(503, ""), Verdict::RetryLater(text) if text.contains("（空）")));
    }

    #[test]
    fn auth_errors_are_permanent_with_a_hint() {
        assert_eq!(
            classify(
                403,
                r#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#
            ),
            Verdict::Permanent(
                "ntfy：HTTP 403，code 40301：forbidden；没有这个主题的发布权限：请检查用户名、密码或访问令牌".to_owned()
            )
        );
        assert!(
            matches!(classify(401, r#"{"code":40101,"http":401,"error":"unauthorized"}"#), Verdict::Permanent(text) if text.contains("40101"))
        );
        assert!(
            matches!(classify(413, r#"{"code":41301,"http":413,"error":"too large"}"#), Verdict::Permanent(text) if text.ends_with("消息太长"))
        );
    }

    #[test]
    fn garbage_is_permanent() {
        assert!(
            matches!(classify(200, "OK"), Verdict::Permanent(text) if text == "ntfy返回了无法识别的应答：OK")
        );
        assert!(matches!(
            classify(200, r#"{"id":5}"#),
            Verdict::Permanent(_)
        ));
        assert!(
            matches!(classify(404, "<html>not found</html>"), Verdict::Permanent(text) if text == "ntfy：HTTP 404，<html>not found</html>")
        );
    }
}
